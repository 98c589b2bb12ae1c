//! SQLite → PostgreSQL: each column's type from SQLite's declared type,
//! and — where the declared type leaves it open — the storage classes the
//! column actually holds (copy's value profile). Pure: no database here, so
//! every rule has a unit test.

use super::postgres::PgType;

/// Which storage classes a column holds, from the profile query. Only
/// columns whose type depends on it are profiled; others keep `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Classes {
    pub integer: i64,
    pub real: i64,
    pub text: i64,
    pub blob: i64,
    /// Text values that are not valid JSON (for declared JSON columns).
    pub json_invalid: i64,
}

/// Whether the declared type needs the storage-class profile to decide.
pub fn needs_profile(declared: &str) -> bool {
    let d = declared.trim().to_ascii_uppercase();
    let decimal = d.starts_with("DECIMAL") || d.starts_with("NUMERIC") || d.starts_with("UUID");
    d.contains("JSON")
        || d.is_empty()
        || affinity(&d) == Affinity::Numeric && !is_temporal(&d) && !is_bool(&d) && !decimal
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Affinity {
    Integer,
    Text,
    Blob,
    Real,
    Numeric,
}

/// SQLite's column affinity rules (section 3.1 of its datatype document).
fn affinity(upper: &str) -> Affinity {
    if upper.contains("INT") {
        Affinity::Integer
    } else if upper.contains("CHAR") || upper.contains("CLOB") || upper.contains("TEXT") {
        Affinity::Text
    } else if upper.contains("BLOB") || upper.trim().is_empty() {
        Affinity::Blob
    } else if upper.contains("REAL") || upper.contains("FLOA") || upper.contains("DOUB") {
        Affinity::Real
    } else {
        Affinity::Numeric
    }
}

fn is_temporal(upper: &str) -> bool {
    upper.contains("DATE") || upper.contains("TIME")
}

fn is_bool(upper: &str) -> bool {
    upper.starts_with("BOOL")
}

/// The number in `NAME(n)` or `NAME(p, s)`.
fn type_args(upper: &str) -> Vec<u32> {
    upper
        .split_once('(')
        .map(|(_, rest)| {
            rest.trim_end_matches(')')
                .split(',')
                .filter_map(|a| a.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The PostgreSQL type for a SQLite column: `declared` as written in
/// `CREATE TABLE`, `classes` from the profile when [`needs_profile`].
/// Returns the type and, where keel had to choose, a note for the report.
pub fn choose(declared: &str, classes: Option<Classes>) -> (PgType, Option<String>) {
    let upper = declared.trim().to_ascii_uppercase();
    let base = upper.split('(').next().unwrap_or("").trim().to_string();
    if upper.contains("JSON") {
        return match classes {
            Some(c) if c.json_invalid > 0 || c.blob > 0 => (
                PgType::Text,
                Some(format!(
                    "declared {declared}, but {} value(s) are not valid JSON: kept as text",
                    c.json_invalid + c.blob
                )),
            ),
            _ => (PgType::Jsonb, None),
        };
    }
    if is_bool(&base) {
        return (PgType::Boolean, None);
    }
    if base == "DATE" {
        return (PgType::Date, None);
    }
    if base == "TIME" {
        return (PgType::Time, None);
    }
    if upper.contains("TIMESTAMPTZ") || upper.contains("WITH TIME ZONE") {
        return (PgType::Timestamptz, None);
    }
    if upper.contains("DATETIME") || upper.contains("TIMESTAMP") {
        return (PgType::Timestamp, None);
    }
    if base == "UUID" {
        return (PgType::Uuid, None);
    }
    match affinity(&upper) {
        Affinity::Integer => (PgType::Bigint, None),
        Affinity::Real => (PgType::Double, None),
        Affinity::Text => {
            let varying = base.contains("CHAR") && !base.contains("CLOB");
            match type_args(&upper).first() {
                Some(&n) if varying && n > 0 => (PgType::Varchar(Some(n)), None),
                _ => (PgType::Text, None),
            }
        }
        Affinity::Blob if !base.is_empty() => (PgType::Bytea, None),
        Affinity::Blob | Affinity::Numeric => {
            if base.starts_with("DECIMAL") || base.starts_with("NUMERIC") {
                let args = type_args(&upper);
                let n = match args.as_slice() {
                    [p] => Some((*p, 0)),
                    [p, s] => Some((*p, *s)),
                    _ => None,
                };
                return (PgType::Numeric(n), None);
            }
            by_classes(declared, classes.unwrap_or_default())
        }
    }
}

/// Every type [`choose`] can give a column declared `declared`, whatever
/// values it holds: one type where the declared type decides, several
/// where the profile does. Diff accepts any of them as "what keel copy
/// would make", so a fresh copy compares clean by construction.
pub fn candidates(declared: &str) -> Vec<PgType> {
    if !needs_profile(declared) {
        return vec![choose(declared, None).0];
    }
    if declared.to_ascii_uppercase().contains("JSON") {
        return vec![PgType::Jsonb, PgType::Text];
    }
    vec![PgType::Bigint, PgType::Double, PgType::Text, PgType::Bytea]
}

/// The PostgreSQL type for a declared type alone, where it decides (no
/// value profile needed; JSON counts as `jsonb`).
pub fn declared_type(declared: &str) -> Option<PgType> {
    match candidates(declared).as_slice() {
        [only] => Some(*only),
        [PgType::Jsonb, ..] => Some(PgType::Jsonb),
        _ => None,
    }
}

/// An untyped or NUMERIC-affinity column: the type its values need.
fn by_classes(declared: &str, c: Classes) -> (PgType, Option<String>) {
    let what = if declared.trim().is_empty() {
        "no declared type".to_string()
    } else {
        format!("declared {declared}")
    };
    let kinds = [c.integer > 0, c.real > 0, c.text > 0, c.blob > 0];
    match kinds {
        [_, _, false, false] if c.real > 0 => (
            PgType::Double,
            Some(format!("{what}; holds real numbers: double precision")),
        ),
        [_, false, false, false] => (
            PgType::Bigint,
            (c.integer > 0).then(|| format!("{what}; holds integers: bigint")),
        ),
        [false, false, true, false] => (PgType::Text, Some(format!("{what}; holds text: text"))),
        [false, false, false, true] => (PgType::Bytea, Some(format!("{what}; holds blobs: bytea"))),
        [_, _, _, false] => (
            PgType::Text,
            Some(format!(
                "{what}; holds mixed numbers and text: text (numbers written as SQLite prints them)"
            )),
        ),
        _ => (
            PgType::Bytea,
            Some(format!(
                "{what}; holds blobs mixed with other values: bytea (text as its UTF-8 bytes, numbers refused)"
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(declared: &str) -> PgType {
        choose(declared, None).0
    }

    #[test]
    fn declared_types_map_to_faithful_postgres_types() {
        assert_eq!(t("INTEGER"), PgType::Bigint);
        assert_eq!(t("int"), PgType::Bigint);
        assert_eq!(t("TINYINT"), PgType::Bigint);
        assert_eq!(t("REAL"), PgType::Double, "SQLite REAL is 8 bytes");
        assert_eq!(t("FLOAT"), PgType::Double);
        assert_eq!(t("DOUBLE PRECISION"), PgType::Double);
        assert_eq!(t("BOOLEAN"), PgType::Boolean);
        assert_eq!(t("DATETIME"), PgType::Timestamp, "no time zone invented");
        assert_eq!(t("TIMESTAMP"), PgType::Timestamp);
        assert_eq!(t("TIMESTAMP WITH TIME ZONE"), PgType::Timestamptz);
        assert_eq!(t("DATE"), PgType::Date);
        assert_eq!(t("VARCHAR(80)"), PgType::Varchar(Some(80)));
        assert_eq!(t("NVARCHAR(10)"), PgType::Varchar(Some(10)));
        assert_eq!(
            t("CHARACTER(3)"),
            PgType::Varchar(Some(3)),
            "no blank padding"
        );
        assert_eq!(t("VARCHAR"), PgType::Text);
        assert_eq!(t("TEXT"), PgType::Text);
        assert_eq!(t("CLOB"), PgType::Text);
        assert_eq!(t("BLOB"), PgType::Bytea);
        assert_eq!(t("DECIMAL(10,2)"), PgType::Numeric(Some((10, 2))));
        assert_eq!(t("NUMERIC"), PgType::Numeric(None));
        assert_eq!(t("JSON"), PgType::Jsonb);
    }

    #[test]
    fn json_that_does_not_parse_stays_text() {
        let c = Classes {
            text: 5,
            json_invalid: 1,
            ..Classes::default()
        };
        let (ty, note) = choose("JSON", Some(c));
        assert_eq!(ty, PgType::Text);
        assert!(note.is_some_and(|n| n.contains("not valid JSON")));
    }

    #[test]
    fn untyped_columns_follow_their_values() {
        let c = |integer, real, text, blob| Classes {
            integer,
            real,
            text,
            blob,
            json_invalid: 0,
        };
        assert_eq!(choose("", Some(c(3, 0, 0, 0))).0, PgType::Bigint);
        assert_eq!(choose("", Some(c(3, 2, 0, 0))).0, PgType::Double);
        assert_eq!(choose("", Some(c(0, 0, 4, 0))).0, PgType::Text);
        assert_eq!(choose("", Some(c(1, 0, 4, 0))).0, PgType::Text);
        assert_eq!(choose("", Some(c(0, 0, 0, 4))).0, PgType::Bytea);
        assert_eq!(choose("STRING", Some(c(1, 0, 4, 0))).0, PgType::Text);
        assert_eq!(choose("", Some(c(0, 0, 0, 0))).0, PgType::Bigint);
        assert!(needs_profile(""));
        assert!(needs_profile("STRING"));
        assert!(needs_profile("JSON"));
        assert!(!needs_profile("INTEGER"));
        assert!(!needs_profile("DATETIME"));
        assert!(!needs_profile("BOOLEAN"));
    }

    #[test]
    fn candidates_cover_every_choice() {
        assert_eq!(candidates("VARCHAR(20)"), [PgType::Varchar(Some(20))]);
        assert_eq!(declared_type("json"), Some(PgType::Jsonb));
        assert_eq!(declared_type(""), None);
        let c = |integer, real, text, blob| Classes {
            integer,
            real,
            text,
            blob,
            json_invalid: 0,
        };
        for profile in [
            c(1, 0, 0, 0),
            c(1, 1, 0, 0),
            c(0, 0, 1, 0),
            c(1, 0, 1, 0),
            c(0, 0, 0, 1),
            c(1, 0, 0, 1),
        ] {
            for declared in ["", "STRING", "point"] {
                let (ty, _) = choose(declared, Some(profile));
                assert!(candidates(declared).contains(&ty), "{declared} {profile:?}");
            }
        }
    }
}
