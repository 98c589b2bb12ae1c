//! Migration file names: `<version>_<name>.sql` (up only) or the pair
//! `<version>_<name>.up.sql` + `<version>_<name>.down.sql`.
//!
//! A `.sql` file whose name does not parse is an error, never skipped:
//! silently skipped files are how migrations end up never applied (incident 5).

/// Which half of a migration a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `<v>_<name>.sql`: an up migration with no down file.
    UpOnly,
    Up,
    Down,
}

/// A parsed file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileName {
    pub version: i64,
    pub name: String,
    pub direction: Direction,
}

/// Why a file name does not parse, worded as the rest of "file X: …".
pub fn parse(file_name: &str) -> Result<FileName, String> {
    let expected =
        "expected <version>_<name>.sql, <version>_<name>.up.sql or <version>_<name>.down.sql";
    let Some(stem) = file_name.strip_suffix(".sql") else {
        return Err(format!("not a .sql file ({expected})"));
    };
    let (stem, direction) = if let Some(s) = stem.strip_suffix(".up") {
        (s, Direction::Up)
    } else if let Some(s) = stem.strip_suffix(".down") {
        (s, Direction::Down)
    } else {
        (stem, Direction::UpOnly)
    };
    let Some((version, name)) = stem.split_once('_') else {
        return Err(format!("no `_` between version and name ({expected})"));
    };
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "version `{version}` is not a positive integer ({expected})"
        ));
    }
    let version: i64 = version
        .parse()
        .map_err(|_| format!("version `{version}` is too large (at most {})", i64::MAX))?;
    if version == 0 {
        return Err("version 0 is not allowed: versions start at 1".to_string());
    }
    if name.is_empty() {
        return Err(format!("the name after the version is empty ({expected})"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-')))
    {
        return Err(format!(
            "name `{name}` contains `{bad}`: use letters, digits, `_` and `-`"
        ));
    }
    Ok(FileName {
        version,
        name: name.to_string(),
        direction,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms() {
        assert_eq!(
            parse("0001_create_users.sql").unwrap(),
            FileName {
                version: 1,
                name: "create_users".into(),
                direction: Direction::UpOnly
            }
        );
        assert_eq!(
            parse("20260101120000_add-email.up.sql").unwrap().direction,
            Direction::Up
        );
        assert_eq!(
            parse("20260101120000_add-email.down.sql").unwrap().version,
            20260101120000
        );
    }

    #[test]
    fn rejects_what_does_not_parse() {
        for bad in [
            "create_users.sql",
            "V1__create.sql",
            "1.sql",
            "1_.sql",
            "0_zero.sql",
            "-1_neg.sql",
            "1_has space.sql",
            "99999999999999999999_big.sql",
            "1_x.txt",
        ] {
            assert!(parse(bad).is_err(), "{bad} should be rejected");
        }
    }
}
