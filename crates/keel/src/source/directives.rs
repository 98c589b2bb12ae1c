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
}

pub const KNOWN: &[&str] = &["no-transaction"];

/// Reads the directives from the comment lines before the first statement.
/// Errors carry the 1-based line number.
pub fn parse(text: &str) -> Result<Directives, (usize, String)> {
    let mut directives = Directives::default();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line.strip_prefix("--") else {
            break;
        };
        let Some(directive) = comment.trim_start().strip_prefix("keel:") else {
            continue;
        };
        match directive.trim() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_leading_directives_only() {
        let d =
            parse("-- a comment\n-- keel:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n")
                .unwrap();
        assert!(d.no_transaction);
        let d = parse("SELECT 1;\n-- keel:no-transaction\n").unwrap();
        assert!(!d.no_transaction);
    }

    #[test]
    fn unknown_directive_names_its_line() {
        let err = parse("\n-- keel:no-transacton\nSELECT 1;").unwrap_err();
        assert_eq!(err.0, 2);
        assert!(err.1.contains("no-transacton"));
    }
}
