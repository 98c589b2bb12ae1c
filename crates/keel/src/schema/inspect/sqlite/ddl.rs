//! A real reading of SQLite's stored `CREATE TABLE` text, for the facts
//! only that text holds: which column is an alias of the rowid, whether it
//! is `AUTOINCREMENT`, and whether the table is `WITHOUT ROWID` or virtual.
//!
//! The text is tokenized first (quoted identifiers `"…"`, `` `…` `` and
//! `[…]`, string literals and comments are single tokens or skipped), so a
//! word inside a default, a CHECK, a comment or a column name never counts.
//! The rules are SQLite's own (`sqlite3AddPrimaryKey`):
//!
//! - the rowid alias is the one primary-key column whose declared type is
//!   exactly `INTEGER`, in a table with a rowid; a column-level
//!   `INTEGER PRIMARY KEY DESC` is *not* an alias (a documented quirk),
//!   while a table-level `PRIMARY KEY (id DESC)` is;
//! - `AUTOINCREMENT` is a keyword after `PRIMARY KEY [ASC|DESC]
//!   [ON CONFLICT …]` in a column definition, or after the column inside a
//!   table-level `PRIMARY KEY ( … )`, and counts only on that alias.

/// One token of SQLite SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// A bare word: keyword, identifier or number.
    Word(String),
    /// A quoted identifier, unquoted.
    Quoted(String),
    /// A string literal, unquoted.
    Str(String),
    /// Any other character outside quotes and comments.
    Punct(char),
}

impl Token {
    fn is(&self, keyword: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(keyword))
    }

    /// The name a word or quoted identifier (or, as SQLite allows, a string)
    /// stands for.
    fn name(&self) -> Option<&str> {
        match self {
            Token::Word(s) | Token::Quoted(s) | Token::Str(s) => Some(s),
            Token::Punct(_) => None,
        }
    }
}

/// Splits SQLite SQL into tokens; comments and whitespace are dropped.
pub(crate) fn tokens(sql: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                // a doubled quote inside is an escaped one
                let mut text = String::new();
                while let Some(d) = chars.next() {
                    if d == c {
                        if chars.peek() == Some(&c) {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    text.push(d);
                }
                out.push(if c == '\'' {
                    Token::Str(text)
                } else {
                    Token::Quoted(text)
                });
            }
            '[' => out.push(Token::Quoted(
                chars.by_ref().take_while(|&d| d != ']').collect(),
            )),
            '-' if chars.peek() == Some(&'-') => {
                chars.by_ref().take_while(|&d| d != '\n').for_each(drop);
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for d in chars.by_ref() {
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
            }
            c if c.is_whitespace() => {}
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                let mut word = String::from(c);
                while let Some(&d) = chars.peek() {
                    if !(d.is_alphanumeric() || d == '_' || d == '$') {
                        break;
                    }
                    word.push(d);
                    chars.next();
                }
                out.push(Token::Word(word));
            }
            c => out.push(Token::Punct(c)),
        }
    }
    out
}

/// `sql` with every comment replaced by one space, quoted text kept as it
/// is: what the text readers work on, so a comment cannot hide a
/// constraint or make one up.
pub(crate) fn without_comments(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' | '[' => {
                let close = if c == '[' { ']' } else { c };
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == close {
                        break; // a doubled quote re-enters at once
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                chars.by_ref().take_while(|&d| d != '\n').for_each(drop);
                out.push('\n');
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for d in chars.by_ref() {
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
                out.push(' ');
            }
            c => out.push(c),
        }
    }
    out
}

/// Splits `tokens` on top-level commas (outside parentheses).
fn split_commas(tokens: &[Token]) -> Vec<&[Token]> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, t) in tokens.iter().enumerate() {
        match t {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => depth -= 1,
            Token::Punct(',') if depth == 0 => {
                out.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&tokens[start..]);
    out
}

/// Index of the `)` closing the `(` at `open`.
fn closing(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// What a table's `CREATE` text says about its rowid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowidFacts {
    pub without_rowid: bool,
    /// `CREATE VIRTUAL TABLE`: no columns of its own to read here.
    pub virtual_table: bool,
    /// The column that is an alias of the rowid, as named in the table.
    pub rowid_alias: Option<String>,
    /// `AUTOINCREMENT` on the rowid alias.
    pub autoincrement: bool,
}

/// Words that end a column's type name and start its constraints.
const CONSTRAINT_WORDS: &[&str] = &[
    "CONSTRAINT",
    "PRIMARY",
    "NOT",
    "NULL",
    "UNIQUE",
    "CHECK",
    "DEFAULT",
    "COLLATE",
    "REFERENCES",
    "GENERATED",
    "AS",
];

/// A primary key found in the text: its columns, whether it was declared
/// on a column with `DESC`, and whether `AUTOINCREMENT` followed.
#[derive(Default)]
struct Key {
    columns: Vec<String>,
    column_level_desc: bool,
    autoincrement: bool,
}

/// Reads `sql`, a `CREATE TABLE` (or `CREATE VIRTUAL TABLE`) statement as
/// `sqlite_schema` stores it.
pub fn rowid_facts(sql: &str) -> RowidFacts {
    let toks = tokens(sql);
    let mut facts = RowidFacts {
        virtual_table: toks.iter().take(3).any(|t| t.is("VIRTUAL")),
        ..RowidFacts::default()
    };
    if facts.virtual_table {
        return facts;
    }
    let Some(open) = toks.iter().position(|t| *t == Token::Punct('(')) else {
        return facts;
    };
    let Some(close) = closing(&toks, open) else {
        return facts;
    };
    // table options after the column list: WITHOUT ROWID, STRICT
    facts.without_rowid = toks[close + 1..]
        .windows(2)
        .any(|w| w[0].is("WITHOUT") && w[1].is("ROWID"));
    let mut key = Key::default();
    let mut types: Vec<(String, String)> = Vec::new();
    for part in split_commas(&toks[open + 1..close]) {
        let mut rest = part;
        if rest.first().is_some_and(|t| t.is("CONSTRAINT")) {
            rest = rest.get(2..).unwrap_or_default();
        }
        match rest.first() {
            Some(t) if t.is("PRIMARY") => table_key(rest, &mut key),
            Some(t) if t.is("UNIQUE") || t.is("CHECK") || t.is("FOREIGN") => {}
            Some(t) if rest.len() == part.len() => {
                let Some(name) = t.name() else { continue };
                column(name, &part[1..], &mut types, &mut key);
            }
            _ => {}
        }
    }
    if let [only] = key.columns.as_slice()
        && !facts.without_rowid
        && !key.column_level_desc
        && types
            .iter()
            .any(|(c, ty)| c.eq_ignore_ascii_case(only) && ty.eq_ignore_ascii_case("INTEGER"))
    {
        facts.rowid_alias = types
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(only))
            .map(|(c, _)| c.clone());
        facts.autoincrement = key.autoincrement;
    }
    facts
}

/// A column definition: its declared type and any `PRIMARY KEY` clause.
fn column(name: &str, def: &[Token], types: &mut Vec<(String, String)>, key: &mut Key) {
    let mut ty: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(t) = def.get(i) {
        if CONSTRAINT_WORDS.iter().any(|w| t.is(w)) {
            break;
        }
        match t {
            Token::Punct('(') => {
                let end = closing(def, i).unwrap_or(def.len() - 1);
                ty.push("(…)".into());
                i = end;
            }
            Token::Word(w) | Token::Quoted(w) => ty.push(w.clone()),
            _ => {}
        }
        i += 1;
    }
    types.push((name.to_string(), ty.join(" ")));
    let mut depth = 0i32;
    while let Some(t) = def.get(i) {
        match t {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => depth -= 1,
            t if depth == 0 && t.is("PRIMARY") && def.get(i + 1).is_some_and(|k| k.is("KEY")) => {
                let mut j = i + 2;
                let desc = def.get(j).is_some_and(|t| t.is("DESC"));
                if desc || def.get(j).is_some_and(|t| t.is("ASC")) {
                    j += 1;
                }
                if def.get(j).is_some_and(|t| t.is("ON"))
                    && def.get(j + 1).is_some_and(|t| t.is("CONFLICT"))
                {
                    j += 3;
                }
                key.columns = vec![name.to_string()];
                key.column_level_desc = desc;
                key.autoincrement = def.get(j).is_some_and(|t| t.is("AUTOINCREMENT"));
                i = j;
            }
            _ => {}
        }
        i += 1;
    }
}

/// A table constraint `PRIMARY KEY (col [COLLATE c] [ASC|DESC]
/// [AUTOINCREMENT], …)`.
fn table_key(part: &[Token], key: &mut Key) {
    let Some(open) = part.iter().position(|t| *t == Token::Punct('(')) else {
        return;
    };
    let close = closing(part, open).unwrap_or(part.len());
    key.columns.clear();
    key.column_level_desc = false;
    key.autoincrement = false;
    for col in split_commas(part.get(open + 1..close).unwrap_or_default()) {
        if let Some(name) = col.first().and_then(Token::name) {
            key.columns.push(name.to_string());
        }
        if col.iter().any(|t| t.is("AUTOINCREMENT")) {
            key.autoincrement = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alias(sql: &str) -> (Option<String>, bool) {
        let f = rowid_facts(sql);
        (f.rowid_alias, f.autoincrement)
    }

    fn some(c: &str, auto: bool) -> (Option<String>, bool) {
        (Some(c.to_string()), auto)
    }

    #[test]
    fn integer_primary_key_is_the_rowid_alias_and_autoincrement_its_keyword() {
        assert_eq!(
            alias("CREATE TABLE t (id INTEGER PRIMARY KEY, x)"),
            some("id", false)
        );
        assert_eq!(
            alias("CREATE TABLE \"user\" (id integer primary key autoincrement, x TEXT)"),
            some("id", true)
        );
        assert_eq!(
            alias("CREATE TABLE t (id INTEGER PRIMARY KEY ASC ON CONFLICT REPLACE AUTOINCREMENT)"),
            some("id", true)
        );
        assert_eq!(
            alias("CREATE TABLE t (id INTEGER CONSTRAINT pk PRIMARY KEY NOT NULL, x)"),
            some("id", false)
        );
        assert_eq!(
            alias("CREATE TABLE t (\"the id\" INTEGER, x, PRIMARY KEY (\"the id\" DESC))"),
            some("the id", false),
            "a table-level DESC key is still an alias"
        );
        assert_eq!(
            alias("CREATE TABLE t (id INTEGER, CONSTRAINT k PRIMARY KEY (id AUTOINCREMENT))"),
            some("id", true)
        );
    }

    #[test]
    fn what_is_not_a_rowid_alias() {
        for sql in [
            // SQLite's documented quirk
            "CREATE TABLE t (x INTEGER PRIMARY KEY DESC, y)",
            "CREATE TABLE t (id INT PRIMARY KEY)",
            "CREATE TABLE t (id BIGINT PRIMARY KEY)",
            "CREATE TABLE t (id INTEGER(8) PRIMARY KEY)",
            "CREATE TABLE t (id TEXT PRIMARY KEY)",
            "CREATE TABLE t (a INTEGER, b INTEGER, PRIMARY KEY (a, b))",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v) WITHOUT ROWID",
            "CREATE TABLE t (id INTEGER, v)",
            "CREATE VIRTUAL TABLE t USING fts5(id INTEGER PRIMARY KEY)",
        ] {
            assert_eq!(alias(sql), (None, false), "{sql}");
        }
        assert!(rowid_facts("CREATE TABLE t (k PRIMARY KEY) without rowid").without_rowid);
        assert!(!rowid_facts("CREATE TABLE \"without rowid\" (k)").without_rowid);
    }

    #[test]
    fn the_word_autoincrement_elsewhere_does_not_count() {
        for sql in [
            "CREATE TABLE t (id INTEGER PRIMARY KEY, x DEFAULT 'AUTOINCREMENT')",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT CHECK (x <> 'AUTOINCREMENT'))",
            "CREATE TABLE t (id INTEGER PRIMARY KEY -- AUTOINCREMENT\n)",
            "CREATE TABLE t (id INTEGER PRIMARY KEY /* AUTOINCREMENT */)",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, autoincrement_note TEXT)",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, \"AUTOINCREMENT\" TEXT)",
            "CREATE TABLE [AUTOINCREMENT] (id INTEGER PRIMARY KEY, `x AUTOINCREMENT` INT)",
            "CREATE TABLE \"we\"\"ird AUTOINCREMENT\" (id INTEGER PRIMARY KEY)",
        ] {
            assert_eq!(alias(sql), some("id", false), "{sql}");
        }
        assert_eq!(
            alias("CREATE TABLE \"a\"\"b\" (\"x\"\"y\" INTEGER PRIMARY KEY AUTOINCREMENT)"),
            some("x\"y", true)
        );
    }

    #[test]
    fn comments_go_quoted_text_stays() {
        assert_eq!(
            without_comments("a -- CHECK (x)\nb /* , */ 'it''s -- not' \"x/*y\" [--]"),
            "a \nb   'it''s -- not' \"x/*y\" [--]"
        );
    }

    /// The detector agrees with SQLite itself: an alias column holds the
    /// rowid, and only AUTOINCREMENT tables get a `sqlite_sequence` row.
    #[test]
    fn sqlite_agrees() {
        let cases = [
            "CREATE TABLE t (id INTEGER PRIMARY KEY, x)",
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, x)",
            "CREATE TABLE t (id INTEGER PRIMARY KEY DESC, x)",
            "CREATE TABLE t (id INTEGER, x, PRIMARY KEY (id DESC))",
            "CREATE TABLE t (id INTEGER, x, PRIMARY KEY (id AUTOINCREMENT))",
            "CREATE TABLE t (id INT PRIMARY KEY, x)",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, x DEFAULT 'AUTOINCREMENT')",
            "CREATE TABLE t (id INTEGER PRIMARY KEY /* AUTOINCREMENT */, x)",
        ];
        for sql in cases {
            let conn = rusqlite::Connection::open_in_memory().unwrap();
            conn.execute_batch(sql).unwrap();
            conn.execute_batch("INSERT INTO t (id, x) VALUES (7, 1)")
                .unwrap();
            let rowid: i64 = conn
                .query_row("SELECT rowid FROM t", [], |r| r.get(0))
                .unwrap();
            let sequenced: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_sequence'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            let f = rowid_facts(sql);
            assert_eq!(f.rowid_alias.is_some(), rowid == 7, "{sql}");
            assert_eq!(f.autoincrement, sequenced == 1, "{sql}");
        }
    }
}
