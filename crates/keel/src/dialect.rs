//! SQL dialects and identifier quoting.
//!
//! Every identifier keel puts into SQL goes through [`Dialect::quote`]: tables
//! named `user`, `case`, `order` or `we"ird name` must work everywhere, and no
//! SQL is built by pasting user text into a string (sqlx and refinery paste
//! table names with `format!` and break on exactly these).

use std::fmt;

/// The SQL dialect of a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Sqlite,
    Postgres,
    Mysql,
}

impl Dialect {
    /// Quotes an identifier by the dialect's rules: `"x""y"` for SQLite and
    /// PostgreSQL, `` `x``y` `` for MySQL/MariaDB.
    pub fn quote(self, ident: &str) -> String {
        let q = match self {
            Dialect::Sqlite | Dialect::Postgres => '"',
            Dialect::Mysql => '`',
        };
        let mut out = String::with_capacity(ident.len() + 2);
        out.push(q);
        for c in ident.chars() {
            if c == q {
                out.push(q);
            }
            out.push(c);
        }
        out.push(q);
        out
    }

    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
            Dialect::Mysql => "MySQL/MariaDB",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_reserved_words_and_embedded_quotes() {
        assert_eq!(Dialect::Postgres.quote("user"), "\"user\"");
        assert_eq!(Dialect::Sqlite.quote("we\"ird name"), "\"we\"\"ird name\"");
        assert_eq!(Dialect::Mysql.quote("or`der"), "`or``der`");
    }
}
