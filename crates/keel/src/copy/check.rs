//! SQLite `CHECK` expressions translated to PostgreSQL — only those that
//! provably mean the same on both.
//!
//! The accepted language is small on purpose: column references, number
//! and string literals, comparisons (`=`, `==`, `<>`, `!=`, `<`, `<=`, `>`,
//! `>=`), `BETWEEN`, `IN (literals)`, `IS [NOT] NULL`, `AND`, `OR`, `NOT`
//! and parentheses. Each comparison must put a number against a number
//! (the column's PostgreSQL type an integer, `double precision` or
//! `numeric`) or a string against a string (`text`/`varchar`, and then
//! only `=`, `<>`, `IN`: ordering depends on the collation, which differs
//! between SQLite's byte order and PostgreSQL's locale). Anything else —
//! a function, arithmetic, a boolean or date column, a comparison of mixed
//! kinds (SQLite's affinity rules would convert one side) — is not
//! translated, and the copy says so.

use super::types::PgType;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Num(String),
    Str(String),
    Op(String),
    LParen,
    RParen,
    Comma,
}

pub(super) fn tokens(s: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied();
    while let Some(c) = at(i) {
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while at(i).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                i += 1;
            }
            out.push(Tok::Ident(chars.get(start..i)?.iter().collect()));
        } else if c.is_ascii_digit() || (c == '.' && at(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            while at(i).is_some_and(|c| c.is_ascii_digit() || c == '.') {
                i += 1;
            }
            if at(i).is_some_and(|c| c == 'e' || c == 'E') {
                i += 1;
                if at(i).is_some_and(|c| c == '+' || c == '-') {
                    i += 1;
                }
                while at(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
            }
            let n: String = chars.get(start..i)?.iter().collect();
            // a number must be one: 1.2.3 or 0x10 is not
            if n.matches('.').count() > 1 || at(i).is_some_and(|c| c.is_ascii_alphabetic()) {
                return None;
            }
            out.push(Tok::Num(n));
        } else if c == '\'' || c == '"' || c == '`' || c == '[' {
            let close = if c == '[' { ']' } else { c };
            let mut text = String::new();
            i += 1;
            loop {
                let d = at(i)?;
                i += 1;
                if d == close {
                    if close != ']' && at(i) == Some(close) {
                        text.push(close);
                        i += 1;
                        continue;
                    }
                    break;
                }
                text.push(d);
            }
            out.push(if c == '\'' {
                Tok::Str(text)
            } else {
                Tok::Ident(text)
            });
        } else {
            let two: String = chars.get(i..(i + 2).min(chars.len()))?.iter().collect();
            if ["==", "!=", "<>", "<=", ">=", "||"].contains(&two.as_str()) {
                out.push(Tok::Op(two));
                i += 2;
                continue;
            }
            i += 1;
            out.push(match c {
                '(' => Tok::LParen,
                ')' => Tok::RParen,
                ',' => Tok::Comma,
                // `+` and `*` serve index expressions; no CHECK takes them
                '=' | '<' | '>' | '-' | '+' | '*' => Tok::Op(c.to_string()),
                _ => return None,
            });
        }
    }
    Some(out)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Number,
    Text,
    /// Any other column type: only `IS [NOT] NULL` applies to it.
    Other,
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    columns: &'a [(String, PgType)],
}

fn keyword(t: Option<&Tok>, word: &str) -> bool {
    matches!(t, Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(word))
}

const KEYWORDS: [&str; 7] = ["AND", "OR", "NOT", "BETWEEN", "IS", "NULL", "IN"];

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn eat(&mut self, word: &str) -> bool {
        if keyword(self.peek(), word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Option<String> {
        let mut out = self.and()?;
        while self.eat("OR") {
            out = format!("{out} OR {}", self.and()?);
        }
        Some(out)
    }

    fn and(&mut self) -> Option<String> {
        let mut out = self.not()?;
        while self.eat("AND") {
            out = format!("{out} AND {}", self.not()?);
        }
        Some(out)
    }

    fn not(&mut self) -> Option<String> {
        if self.eat("NOT") {
            return Some(format!("NOT {}", self.not()?));
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Option<String> {
        if self.peek() == Some(&Tok::LParen) {
            // a parenthesised condition (operands are never parenthesised)
            self.pos += 1;
            let inner = self.or()?;
            if self.next()? != Tok::RParen {
                return None;
            }
            return Some(format!("({inner})"));
        }
        let (left, kind) = self.operand()?;
        if self.eat("IS") {
            let not = self.eat("NOT");
            if !self.eat("NULL") {
                return None;
            }
            return Some(format!("{left} IS {}NULL", if not { "NOT " } else { "" }));
        }
        let not = if self.eat("NOT") { "NOT " } else { "" };
        if self.eat("BETWEEN") {
            let (low, k1) = self.operand()?;
            if !self.eat("AND") {
                return None;
            }
            let (high, k2) = self.operand()?;
            // ordering of strings depends on the collation
            if kind != Kind::Number || k1 != kind || k2 != kind {
                return None;
            }
            return Some(format!("{left} {not}BETWEEN {low} AND {high}"));
        }
        if self.eat("IN") {
            if self.next()? != Tok::LParen {
                return None;
            }
            let mut items = Vec::new();
            loop {
                let (item, k) = self.literal()?;
                if k != kind || kind == Kind::Other {
                    return None;
                }
                items.push(item);
                match self.next()? {
                    Tok::Comma => continue,
                    Tok::RParen => break,
                    _ => return None,
                }
            }
            return Some(format!("{left} {not}IN ({})", items.join(", ")));
        }
        if !not.is_empty() {
            return None;
        }
        let Some(Tok::Op(op)) = self.next() else {
            return None;
        };
        let op = match op.as_str() {
            "=" | "==" => "=",
            "<>" | "!=" => "<>",
            "<" | "<=" | ">" | ">=" if kind == Kind::Number => match op.as_str() {
                "<" => "<",
                "<=" => "<=",
                ">" => ">",
                _ => ">=",
            },
            _ => return None,
        };
        let (right, k) = self.operand()?;
        if k != kind || kind == Kind::Other {
            return None;
        }
        Some(format!("{left} {op} {right}"))
    }

    fn literal(&mut self) -> Option<(String, Kind)> {
        match self.next()? {
            Tok::Num(n) => Some((n, Kind::Number)),
            Tok::Op(m) if m == "-" => match self.next()? {
                Tok::Num(n) => Some((format!("-{n}"), Kind::Number)),
                _ => None,
            },
            Tok::Str(s) => Some((format!("'{}'", s.replace('\'', "''")), Kind::Text)),
            _ => None,
        }
    }

    fn operand(&mut self) -> Option<(String, Kind)> {
        if let Some(Tok::Ident(name)) = self.peek().cloned() {
            if KEYWORDS.iter().any(|k| name.eq_ignore_ascii_case(k)) {
                return None;
            }
            self.pos += 1;
            // SQLite matches column names without regard to case
            let (col, ty) = self
                .columns
                .iter()
                .find(|(c, _)| c.eq_ignore_ascii_case(&name))?;
            let kind = match ty {
                PgType::Smallint
                | PgType::Integer
                | PgType::Bigint
                | PgType::Double
                | PgType::Numeric(_) => Kind::Number,
                PgType::Text | PgType::Varchar(_) => Kind::Text,
                _ => Kind::Other,
            };
            return Some((crate::dialect::Dialect::Postgres.quote(col), kind));
        }
        self.literal()
    }
}

/// The `WHERE` condition of a SQLite `CREATE INDEX` statement, if any:
/// the text after the first `WHERE` outside quotes and parentheses.
pub fn index_predicate(sql: &str) -> Option<&str> {
    let bytes = sql.as_bytes();
    let (mut depth, mut quote, mut i) = (0i32, None::<u8>, 0usize);
    while let Some(&c) = bytes.get(i) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                b'\'' | b'"' | b'`' => quote = Some(c),
                b'[' => quote = Some(b']'),
                b'(' => depth += 1,
                b')' => depth -= 1,
                b'W' | b'w' if depth == 0 => {
                    let word = sql.get(i..i + 5)?;
                    let before = i.checked_sub(1).and_then(|b| bytes.get(b));
                    let after = bytes.get(i + 5);
                    let boundary =
                        |c: Option<&u8>| c.is_none_or(|c| !c.is_ascii_alphanumeric() && *c != b'_');
                    if word.eq_ignore_ascii_case("WHERE") && boundary(before) && boundary(after) {
                        return sql.get(i + 5..).map(str::trim);
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// The PostgreSQL form of a SQLite CHECK expression over `columns` (name,
/// PostgreSQL type), or `None` when it cannot be shown to mean the same.
pub fn translate(expression: &str, columns: &[(String, PgType)]) -> Option<String> {
    let mut p = Parser {
        toks: tokens(expression)?,
        pos: 0,
        columns,
    };
    let out = p.or()?;
    (p.pos == p.toks.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Vec<(String, PgType)> {
        vec![
            ("Discount".into(), PgType::Double),
            ("Quantity".into(), PgType::Integer),
            ("status".into(), PgType::Text),
            ("flag".into(), PgType::Boolean),
        ]
    }

    #[test]
    fn northwind_checks_translate() {
        let c = cols();
        assert_eq!(
            translate("Discount BETWEEN 0 AND 1", &c).as_deref(),
            Some("\"Discount\" BETWEEN 0 AND 1")
        );
        assert_eq!(
            translate("[Quantity] > 0", &c).as_deref(),
            Some("\"Quantity\" > 0")
        );
        assert_eq!(
            translate(
                "(quantity >= -1 AND discount <= 1.5e0) OR quantity IS NULL",
                &c
            )
            .as_deref(),
            Some("(\"Quantity\" >= -1 AND \"Discount\" <= 1.5e0) OR \"Quantity\" IS NULL")
        );
        assert_eq!(
            translate("status IN ('a', 'it''s') AND status != 'x'", &c).as_deref(),
            Some("\"status\" IN ('a', 'it''s') AND \"status\" <> 'x'")
        );
    }

    #[test]
    fn partial_index_conditions_are_found_and_translated() {
        let c = vec![
            ("deleted_at".to_string(), PgType::Timestamp),
            ("email".to_string(), PgType::Text),
        ];
        let sql = "CREATE UNIQUE INDEX \"ux where\" ON users (email) WHERE deleted_at IS NULL";
        let pred = index_predicate(sql);
        assert_eq!(pred, Some("deleted_at IS NULL"));
        assert_eq!(
            translate("deleted_at IS NULL", &c).as_deref(),
            Some("\"deleted_at\" IS NULL")
        );
        assert_eq!(index_predicate("CREATE INDEX i ON t (a)"), None);
        // a date compared to a number means something else in each
        assert_eq!(translate("deleted_at > 0", &c), None);
    }

    #[test]
    fn what_might_mean_something_else_is_refused() {
        let c = cols();
        for e in [
            "length(status) > 0",
            "status > 'a'",
            "flag IN (0, 1)",
            "Quantity = '5'",
            "Quantity + 1 > 0",
            "nosuch > 0",
            "Quantity > 0 garbage",
            "status BETWEEN 'a' AND 'z'",
            "Quantity",
            "Quantity > 0x10",
        ] {
            assert_eq!(translate(e, &c), None, "{e}");
        }
    }
}
