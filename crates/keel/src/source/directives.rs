//! `-- keel:` directives: leading comment lines that change how a migration
//! runs. An unknown directive is an error, so a typo such as
//! `-- keel:no-transacton` cannot silently run a file in a transaction.

/// Options a file asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Directives {
    /// `-- keel:no-transaction`: run statement by statement outside a
    /// transaction (for `CREATE INDEX CONCURRENTLY`, `VACUUM`, …), recording
    /// progress after each statement.
    pub no_transaction: bool,
    /// Not a directive: the layout's tool runs its files as written, never
    /// in a transaction of its own (golang-migrate). A file that holds its
    /// own `BEGIN … COMMIT` then runs statement by statement, as that tool
    /// would run it, instead of being refused.
    pub as_written: bool,
}

pub const KNOWN: &[&str] = &["no-transaction"];

/// Reads the directives from the comments before the first statement:
/// `--` lines and `/* … */` blocks (a licence or description header), with
/// `-- keel:` matched without regard to case and spaces after the colon
/// allowed. A comment line that looks like a directive but is not a known
/// one is an error, and so is a `-- keel:` line after the first statement
/// (it would have no effect). Errors carry the 1-based line number.
pub fn parse(text: &str) -> Result<Directives, (usize, String)> {
    let mut directives = Directives::default();
    let mut in_block = false;
    let mut header = true;
    for (index, line) in text.lines().enumerate() {
        let mut line = line.trim().trim_start_matches('\u{feff}');
        if in_block {
            match line.find("*/") {
                Some(at) => {
                    in_block = false;
                    line = line[at + 2..].trim();
                }
                None => continue,
            }
        }
        if header {
            while let Some(rest) = line.strip_prefix("/*") {
                match rest.find("*/") {
                    Some(at) => line = rest[at + 2..].trim(),
                    None => {
                        in_block = true;
                        line = "";
                    }
                }
            }
        }
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line.strip_prefix("--") else {
            header = false;
            continue;
        };
        let Some(directive) = directive_text(comment) else {
            continue;
        };
        let directive = directive.map_err(|m| (index + 1, m))?;
        if !header {
            return Err((
                index + 1,
                format!(
                    "directive `-- keel:{directive}` after the first statement has no effect: move it to the top of the file"
                ),
            ));
        }
        match directive.to_ascii_lowercase().as_str() {
            "no-transaction" => directives.no_transaction = true,
            other => {
                return Err((
                    index + 1,
                    format!(
                        "unknown directive `-- keel:{other}` (known: {})",
                        KNOWN.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(directives)
}

/// The directive of a `--` comment's text: `None` when it is not about
/// keel, an error when it names keel but is not written `keel:NAME`.
fn directive_text(comment: &str) -> Option<Result<String, String>> {
    let c = comment.trim_start();
    let head = c.get(..4)?;
    if !head.eq_ignore_ascii_case("keel") {
        return None;
    }
    let rest = c.get(4..).unwrap_or_default();
    match rest.chars().next() {
        Some(':') => {
            let name = rest[1..].trim();
            if name.is_empty() {
                Some(Err(format!(
                    "empty directive `--{comment}`: write `-- keel:no-transaction`"
                )))
            } else {
                Some(Ok(name.to_string()))
            }
        }
        // `-- keel no-transaction`, `-- keel-no-transaction`, `-- keel=…`
        Some(ch) if !ch.is_alphanumeric() && ch != '_' && looks_like_directive(rest) => {
            Some(Err(format!(
                "malformed directive `--{comment}`: write `-- keel:{}`",
                rest.trim_start_matches(|c: char| !c.is_alphanumeric())
                    .trim()
            )))
        }
        _ => None,
    }
}

/// Whether the words after `keel` name a known directive.
fn looks_like_directive(rest: &str) -> bool {
    let words = rest
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .to_ascii_lowercase();
    KNOWN
        .iter()
        .any(|k| words.starts_with(k) || words.starts_with(&k.replace('-', "_")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_leading_directives_only() {
        let d =
            parse("-- a comment\n-- keel:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n")
                .unwrap();
        assert!(d.no_transaction);
        // after the first statement it would do nothing: an error, not silence
        assert!(parse("SELECT 1;\n-- keel:no-transaction\n").is_err());
    }

    #[test]
    fn case_spaces_and_block_comment_headers() {
        assert!(
            parse("-- KEEL:no-transaction\nSELECT 1;")
                .unwrap()
                .no_transaction
        );
        assert!(
            parse("-- keel: no-transaction\nSELECT 1;")
                .unwrap()
                .no_transaction
        );
        assert!(
            parse("--keel:NO-TRANSACTION\nSELECT 1;")
                .unwrap()
                .no_transaction
        );
        let header = "/*\n * Licensed under MIT.\n */\n-- keel:no-transaction\nSELECT 1;";
        assert!(parse(header).unwrap().no_transaction);
        assert!(
            parse("/* one line */ -- keel:no-transaction\nSELECT 1;")
                .unwrap()
                .no_transaction
        );
        // prose about keel is not a directive
        assert!(
            !parse("-- keeling over\n-- keel is great\nSELECT 1;")
                .unwrap()
                .no_transaction
        );
    }

    #[test]
    fn typos_and_late_directives_are_errors() {
        for (sql, line, says) in [
            ("-- keel no-transaction\nSELECT 1;", 1, "malformed"),
            ("-- keel-no-transaction\nSELECT 1;", 1, "malformed"),
            ("-- keel:\nSELECT 1;", 1, "empty"),
            ("-- KEEL:no-transacton\nSELECT 1;", 1, "unknown"),
            (
                "SELECT 1;\n-- keel:no-transaction\nSELECT 2;",
                2,
                "no effect",
            ),
        ] {
            let err = parse(sql).unwrap_err();
            assert_eq!(err.0, line, "{sql}: {err:?}");
            assert!(err.1.contains(says), "{sql}: {err:?}");
        }
    }

    #[test]
    fn unknown_directive_names_its_line() {
        let err = parse("\n-- keel:no-transacton\nSELECT 1;").unwrap_err();
        assert_eq!(err.0, 2);
        assert!(err.1.contains("no-transacton"));
    }
}
