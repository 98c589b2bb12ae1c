//! SQLite index keys on expressions translated to PostgreSQL — only those
//! that mean the same there, and that PostgreSQL accepts in an index
//! (immutable).
//!
//! The accepted language: column references, number and string literals,
//! `+ - *` between numbers, `||` between strings, parentheses, `lower()`,
//! `upper()` and `length()` of text, `abs()` of a number, and
//! `json_extract(col, '$.a.b')` of a `jsonb` column (its text, `->>` /
//! `#>>`). Anything else leaves the index out, and the copy says why.

use super::check::{Tok, tokens};
use super::types::PgType;
use crate::dialect::Dialect;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Number,
    Text,
    Jsonb,
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    columns: &'a [(String, PgType)],
    /// Fold case exactly as SQLite does (A-Z only): a unique index must
    /// refuse what SQLite refused and nothing more.
    ascii_case: bool,
}

const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";

/// The key list of a `CREATE INDEX` statement: the text inside the
/// parentheses after `ON table`, split at top-level commas.
pub fn keys(sql: &str) -> Option<Vec<String>> {
    let bytes = sql.as_bytes();
    let (mut depth, mut quote) = (0i32, None::<u8>);
    let mut start = None;
    let mut parts = Vec::new();
    let mut from = 0;
    for (i, &c) in bytes.iter().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                b'\'' | b'"' | b'`' => quote = Some(c),
                b'[' => quote = Some(b']'),
                b'(' => {
                    depth += 1;
                    if depth == 1 && start.is_none() {
                        start = Some(i);
                        from = i + 1;
                    }
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 && start.is_some() {
                        parts.push(sql.get(from..i)?.trim().to_string());
                        return Some(parts);
                    }
                }
                b',' if depth == 1 && start.is_some() => {
                    parts.push(sql.get(from..i)?.trim().to_string());
                    from = i + 1;
                }
                _ => {}
            },
        }
    }
    None
}

/// The PostgreSQL form of one index key (an expression, maybe followed by
/// `COLLATE NOCASE|BINARY` and `ASC|DESC`), or why it does not translate.
/// With `ascii_case` (a unique index), `lower()`/`upper()` fold A-Z only,
/// as SQLite's do, so rows SQLite held apart stay apart (PostgreSQL's
/// `lower()` folds `É` to `é` as well).
pub fn translate(
    key: &str,
    columns: &[(String, PgType)],
    ascii_case: bool,
) -> Result<String, String> {
    let mut toks = tokens(key).ok_or_else(|| format!("`{key}` is not an expression keel reads"))?;
    let mut suffix = String::new();
    if let Some(Tok::Ident(w)) = toks.last()
        && (w.eq_ignore_ascii_case("ASC") || w.eq_ignore_ascii_case("DESC"))
    {
        if w.eq_ignore_ascii_case("DESC") {
            suffix = " DESC".to_string();
        }
        toks.pop();
    }
    if toks.len() >= 2
        && matches!(&toks[toks.len() - 2], Tok::Ident(w) if w.eq_ignore_ascii_case("COLLATE"))
    {
        match toks.last() {
            Some(Tok::Ident(c)) if c.eq_ignore_ascii_case("BINARY") => {}
            _ => {
                return Err(format!(
                    "`{key}`: a collation on an expression key is not translated"
                ));
            }
        }
        toks.truncate(toks.len() - 2);
    }
    let mut p = Parser {
        toks,
        pos: 0,
        columns,
        ascii_case,
    };
    let (out, _) = p.sum().filter(|_| p.pos == p.toks.len()).ok_or_else(|| {
        format!("`{key}` uses what keel cannot show to mean the same in PostgreSQL")
    })?;
    Ok(format!("({out}){suffix}"))
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    /// Terms joined by `+ - *` (numbers) or `||` (strings).
    fn sum(&mut self) -> Option<(String, Kind)> {
        let (mut out, kind) = self.term()?;
        while let Some(Tok::Op(op)) = self.peek().cloned() {
            let fits = match op.as_str() {
                "+" | "-" | "*" => kind == Kind::Number,
                "||" => kind == Kind::Text,
                _ => false,
            };
            if !fits {
                return None;
            }
            self.pos += 1;
            let (right, k) = self.term()?;
            if k != kind {
                return None;
            }
            out = format!("{out} {op} {right}");
        }
        Some((out, kind))
    }

    fn term(&mut self) -> Option<(String, Kind)> {
        match self.next()? {
            Tok::LParen => {
                let (inner, kind) = self.sum()?;
                (self.next()? == Tok::RParen).then(|| (format!("({inner})"), kind))
            }
            Tok::Num(n) => Some((n, Kind::Number)),
            Tok::Str(s) => Some((format!("'{}'", s.replace('\'', "''")), Kind::Text)),
            Tok::Ident(name) if self.peek() == Some(&Tok::LParen) => {
                self.pos += 1;
                self.call(&name)
            }
            Tok::Ident(name) => self.column(&name),
            _ => None,
        }
    }

    fn column(&self, name: &str) -> Option<(String, Kind)> {
        let (col, ty) = self
            .columns
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(name))?;
        let kind = match ty {
            PgType::Smallint
            | PgType::Integer
            | PgType::Bigint
            | PgType::Double
            | PgType::Numeric(_) => Kind::Number,
            PgType::Text | PgType::Varchar(_) => Kind::Text,
            PgType::Jsonb => Kind::Jsonb,
            _ => return None,
        };
        Some((Dialect::Postgres.quote(col), kind))
    }

    fn call(&mut self, name: &str) -> Option<(String, Kind)> {
        let f = name.to_ascii_lowercase();
        if f == "json_extract" {
            let (col, kind) = match self.next()? {
                Tok::Ident(c) => self.column(&c)?,
                _ => return None,
            };
            let (Tok::Comma, Tok::Str(path), Tok::RParen) =
                (self.next()?, self.next()?, self.next()?)
            else {
                return None;
            };
            let steps: Vec<&str> = path.strip_prefix("$.")?.split('.').collect();
            if kind != Kind::Jsonb
                || steps.iter().any(|s| {
                    s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                })
            {
                return None;
            }
            return Some(match steps.as_slice() {
                [one] => (format!("{col} ->> '{one}'"), Kind::Text),
                many => (format!("{col} #>> '{{{}}}'", many.join(",")), Kind::Text),
            });
        }
        let (arg, kind) = self.sum()?;
        if self.next()? != Tok::RParen {
            return None;
        }
        match (f.as_str(), kind) {
            ("lower", Kind::Text) if self.ascii_case => Some((
                format!("translate({arg}, '{UPPER}', '{LOWER}')"),
                Kind::Text,
            )),
            ("upper", Kind::Text) if self.ascii_case => Some((
                format!("translate({arg}, '{LOWER}', '{UPPER}')"),
                Kind::Text,
            )),
            ("lower" | "upper", Kind::Text) => Some((format!("{f}({arg})"), Kind::Text)),
            ("length", Kind::Text) => Some((format!("length({arg})"), Kind::Number)),
            ("abs", Kind::Number) => Some((format!("abs({arg})"), Kind::Number)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Vec<(String, PgType)> {
        vec![
            ("email".into(), PgType::Text),
            ("a".into(), PgType::Integer),
            ("b".into(), PgType::Bigint),
            ("doc".into(), PgType::Jsonb),
            ("raw".into(), PgType::Json),
            ("at".into(), PgType::Timestamp),
        ]
    }

    #[test]
    fn key_lists_are_split_at_top_level_commas() {
        assert_eq!(
            keys("CREATE INDEX i ON t (lower(email), (a+b) DESC, json_extract(doc, '$.k,x'))"),
            Some(vec![
                "lower(email)".to_string(),
                "(a+b) DESC".to_string(),
                "json_extract(doc, '$.k,x')".to_string()
            ])
        );
        assert_eq!(
            keys("CREATE UNIQUE INDEX \"i(\" ON \"t(\" (a) WHERE a > 0"),
            Some(vec!["a".to_string()])
        );
    }

    #[test]
    fn expressions_that_mean_the_same_translate() {
        let c = cols();
        let t = |k: &str| translate(k, &c, false);
        assert_eq!(t("lower(email)").as_deref(), Ok("(lower(\"email\"))"));
        assert_eq!(t("(a+b) DESC").as_deref(), Ok("((\"a\" + \"b\")) DESC"));
        assert_eq!(
            t("json_extract(doc, '$.k')").as_deref(),
            Ok("(\"doc\" ->> 'k')")
        );
        assert_eq!(
            t("json_extract(doc, '$.a.b')").as_deref(),
            Ok("(\"doc\" #>> '{a,b}')")
        );
        assert_eq!(
            t("upper(email || 'x')").as_deref(),
            Ok("(upper(\"email\" || 'x'))")
        );
    }

    #[test]
    fn a_unique_index_folds_case_as_sqlite_does() {
        assert_eq!(
            translate("lower(email)", &cols(), true).as_deref(),
            Ok(
                "(translate(\"email\", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'))"
            )
        );
    }

    #[test]
    fn the_rest_is_refused_with_a_reason() {
        let c = cols();
        for k in [
            "json_extract(raw, '$.k')",
            "json_extract(doc, '$[0]')",
            "date(at)",
            "a + email",
            "email + 1",
            "lower(a)",
            "substr(email, 1, 3)",
            "lower(email) COLLATE NOCASE",
            "no_such_column * 2",
        ] {
            assert!(translate(k, &c, false).is_err(), "{k}");
        }
    }
}
