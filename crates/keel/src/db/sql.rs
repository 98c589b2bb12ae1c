//! Identifiers and SQL text. An [`Ident`] is a raw name as the catalog
//! spells it; it becomes SQL only through [`Ident::quoted`], by the
//! dialect's rules, so a raw name and an already-quoted one cannot be
//! confused. [`Sql`] builds a statement from static text, identifiers,
//! literals and bind placeholders: user text never enters SQL any other
//! way. Templates (`.sql` files loaded with `include_str!`) name their
//! identifiers `{table}`-style and are filled the same way.

use crate::dialect::Dialect;
use std::fmt;

/// A raw identifier: a table, column, schema or role name, unquoted.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ident(String);

impl Ident {
    pub fn new(raw: impl Into<String>) -> Ident {
        Ident(raw.into())
    }

    /// The name as the catalog spells it.
    pub fn raw(&self) -> &str {
        &self.0
    }

    /// The name quoted by `dialect`'s rules, ready for SQL.
    pub fn quoted(&self, dialect: Dialect) -> String {
        dialect.quote(&self.0)
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A string literal in `dialect`: `'it''s'`; MySQL also doubles
/// backslashes, which it reads as escapes by default.
pub fn literal(dialect: Dialect, s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' if dialect == Dialect::Mysql => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A statement under construction.
#[derive(Clone, Debug)]
pub struct Sql {
    dialect: Dialect,
    text: String,
    binds: usize,
}

impl Sql {
    pub fn new(dialect: Dialect) -> Sql {
        Sql {
            dialect,
            text: String::new(),
            binds: 0,
        }
    }

    /// Static SQL text: keywords, punctuation, fixed expressions.
    pub fn push(&mut self, text: &'static str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// An identifier, quoted.
    pub fn ident(&mut self, name: &Ident) -> &mut Sql {
        self.text.push_str(&name.quoted(self.dialect));
        self
    }

    /// `schema.name`, each part quoted.
    pub fn qualified(&mut self, schema: &Ident, name: &Ident) -> &mut Sql {
        self.ident(schema).push(".").ident(name)
    }

    /// A string literal.
    pub fn literal(&mut self, value: &str) -> &mut Sql {
        self.text.push_str(&literal(self.dialect, value));
        self
    }

    /// The next bind placeholder: `$1`, `$2`… on PostgreSQL, `?` elsewhere.
    pub fn bind(&mut self) -> &mut Sql {
        self.binds += 1;
        match self.dialect {
            Dialect::Postgres => {
                self.text.push('$');
                self.text.push_str(&self.binds.to_string());
            }
            Dialect::Sqlite | Dialect::Mysql => self.text.push('?'),
        }
        self
    }

    /// A template with `{name}` markers, each replaced by the identifier
    /// given for it. A marker without an identifier stays as it is, which
    /// the template test catches.
    pub fn template(dialect: Dialect, template: &'static str, idents: &[(&str, &Ident)]) -> Sql {
        let mut text = template.to_string();
        for (name, ident) in idents {
            text = text.replace(&format!("{{{name}}}"), &ident.quoted(dialect));
        }
        Sql {
            dialect,
            text,
            binds: 0,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn into_string(self) -> String {
        self.text
    }
}

impl fmt::Display for Sql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_literals_and_binds_follow_the_dialect() {
        let t = Ident::new("we\"ird`name");
        let mut pg = Sql::new(Dialect::Postgres);
        pg.push("SELECT ")
            .ident(&Ident::new("case"))
            .push(" FROM ")
            .ident(&t);
        pg.push(" WHERE a = ").bind().push(" AND b = ").bind();
        pg.push(" AND c = ").literal("it's");
        assert_eq!(
            pg.as_str(),
            "SELECT \"case\" FROM \"we\"\"ird`name\" WHERE a = $1 AND b = $2 AND c = 'it''s'"
        );
        let mut my = Sql::new(Dialect::Mysql);
        my.push("SELECT * FROM ")
            .ident(&t)
            .push(" WHERE a = ")
            .bind();
        my.push(" AND b = ").literal("a\\'b");
        assert_eq!(
            my.as_str(),
            "SELECT * FROM `we\"ird``name` WHERE a = ? AND b = 'a\\\\''b'"
        );
    }

    #[test]
    fn templates_quote_their_identifiers() {
        let s = Sql::template(
            Dialect::Sqlite,
            "CREATE TABLE {table} (x int); SELECT * FROM {table}",
            &[("table", &Ident::new("my \"t\""))],
        );
        assert_eq!(
            s.as_str(),
            "CREATE TABLE \"my \"\"t\"\"\" (x int); SELECT * FROM \"my \"\"t\"\"\""
        );
    }
}
