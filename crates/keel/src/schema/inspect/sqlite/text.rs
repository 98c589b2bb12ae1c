//! What only the stored `CREATE` text of a table or index holds beyond the
//! pragmas: CHECK constraints, generated-column expressions, collations,
//! and index expressions and predicates.

use std::collections::BTreeMap;

/// What a `CREATE TABLE` statement holds beyond the pragmas.
#[derive(Default)]
pub(super) struct ParsedTable {
    /// (name, expression), in order.
    pub(super) checks: Vec<(Option<String>, String)>,
    /// lower-cased column name → generated expression
    pub(super) generated: BTreeMap<String, String>,
    pub(super) collations: BTreeMap<String, String>,
}

pub(super) fn parse_table(sql: &str) -> ParsedTable {
    let sql = &super::ddl::without_comments(sql);
    let mut out = ParsedTable::default();
    let Some(open) = sql.find('(') else {
        return out;
    };
    let body = match matching(sql, open) {
        Some(close) => &sql[open + 1..close],
        None => return out,
    };
    for part in split_top(body, ',') {
        let part = part.trim();
        let upper = part.to_ascii_uppercase();
        let (name, rest) = first_word(part);
        let constraint_name = if upper.starts_with("CONSTRAINT") {
            let (n, _) = first_word(rest);
            Some(unquote(n))
        } else {
            None
        };
        let is_column = !["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
            .iter()
            .any(|k| upper.starts_with(k));
        // every CHECK ( … ) in this part
        let mut from = 0;
        while let Some(pos) = find_keyword(&upper[from..], "CHECK") {
            let at = from + pos;
            let Some(open) = part[at..].find('(').map(|p| at + p) else {
                break;
            };
            let Some(close) = matching(part, open) else {
                break;
            };
            let cname = if is_column {
                None
            } else {
                constraint_name.clone()
            };
            out.checks
                .push((cname, part[open + 1..close].trim().to_string()));
            from = close;
        }
        if is_column {
            let col = unquote(name).to_ascii_lowercase();
            if let Some(pos) = find_keyword(&upper, "AS")
                && let Some(open) = part[pos..].find('(').map(|p| pos + p)
                && upper[pos + 2..open].trim().is_empty()
                && let Some(close) = matching(part, open)
            {
                out.generated
                    .insert(col.clone(), part[open + 1..close].trim().to_string());
            }
            if let Some(pos) = find_keyword(&upper, "COLLATE") {
                let (c, _) = first_word(part[pos + 7..].trim_start());
                out.collations.insert(col, unquote(c));
            }
        }
    }
    out
}

/// Columns (as written) and `WHERE` predicate of a `CREATE INDEX`.
pub(super) fn parse_index(sql: &str) -> (Vec<String>, Option<String>) {
    let sql = &super::ddl::without_comments(sql);
    let upper = sql.to_ascii_uppercase();
    let Some(on) = find_keyword(&upper, "ON") else {
        return (Vec::new(), None);
    };
    let Some(open) = sql[on..].find('(').map(|p| on + p) else {
        return (Vec::new(), None);
    };
    let Some(close) = matching(sql, open) else {
        return (Vec::new(), None);
    };
    let cols = split_top(&sql[open + 1..close], ',')
        .into_iter()
        .map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "))
        .map(|c| c.strip_suffix(" ASC").map(str::to_string).unwrap_or(c))
        .collect();
    let predicate = find_keyword(&upper[close..], "WHERE").map(|p| {
        sql[close + p + 5..]
            .trim()
            .trim_end_matches(';')
            .trim()
            .to_string()
    });
    (cols, predicate)
}

/// Index of the `)` matching the `(` at `open`, skipping quoted text.
fn matching(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices().skip_while(|(i, _)| *i < open) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' | '`' | '[' => quote = Some(if c == '[' { ']' } else { c }),
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            },
        }
    }
    None
}

/// Splits on `sep` outside parentheses and quotes.
fn split_top(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' | '`' | '[' => quote = Some(if c == '[' { ']' } else { c }),
                '(' => depth += 1,
                ')' => depth -= 1,
                c if c == sep && depth == 0 => {
                    out.push(&s[start..i]);
                    start = i + c.len_utf8();
                }
                _ => {}
            },
        }
    }
    out.push(&s[start..]);
    out
}

/// The first identifier (possibly quoted) and the rest.
fn first_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let close = match s.chars().next() {
        Some('"') => s[1..].find('"').map(|p| p + 2),
        Some('`') => s[1..].find('`').map(|p| p + 2),
        Some('[') => s[1..].find(']').map(|p| p + 2),
        _ => None,
    };
    let end = close.unwrap_or_else(|| {
        s.find(|c: char| c.is_whitespace() || c == '(')
            .unwrap_or(s.len())
    });
    (&s[..end], &s[end..])
}

fn unquote(s: &str) -> String {
    let t = s.trim();
    let inner = (t.len() >= 2
        && ((t.starts_with('"') && t.ends_with('"'))
            || (t.starts_with('`') && t.ends_with('`'))
            || (t.starts_with('[') && t.ends_with(']'))))
    .then(|| &t[1..t.len() - 1]);
    match inner {
        Some(i) => i.replace("\"\"", "\"").replace("``", "`"),
        None => t.to_string(),
    }
}

/// Position of `word` as a whole word in upper-cased `s`, outside quotes.
pub(super) fn find_keyword(s: &str, word: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'\'' || c == b'"' || c == b'`' => quote = Some(c),
            None => {
                let boundary_before =
                    i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
                let end = i + word.len();
                if boundary_before
                    && s[i..].starts_with(word)
                    && (end >= bytes.len()
                        || !(bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_'))
                {
                    return Some(i);
                }
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_generated_columns_and_collations_come_from_the_stored_sql() {
        let p = parse_table(
            "CREATE TABLE \"or der\" (id INTEGER PRIMARY KEY, n int CHECK (n > 0), \
             code text COLLATE NOCASE, total real GENERATED ALWAYS AS (n * 2) STORED, \
             CONSTRAINT positive CHECK (total >= (0)), note text DEFAULT 'CHECK (x)')",
        );
        assert_eq!(
            p.checks,
            [
                (None, "n > 0".to_string()),
                (Some("positive".to_string()), "total >= (0)".to_string())
            ]
        );
        assert_eq!(p.generated.get("total").map(String::as_str), Some("n * 2"));
        assert_eq!(p.collations.get("code").map(String::as_str), Some("NOCASE"));
    }

    #[test]
    fn comments_neither_hide_nor_invent_checks() {
        let p = parse_table(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, -- CHECK (id > 0), n int\n \
             n int /* CHECK (n < 0) */ CHECK (n > 0))",
        );
        assert_eq!(p.checks, [(None, "n > 0".to_string())]);
    }

    #[test]
    fn index_expressions_and_predicates_are_parsed() {
        let (cols, pred) = parse_index(
            "CREATE INDEX i ON \"t\" (lower(email), placed DESC) WHERE user_id IS NOT NULL",
        );
        assert_eq!(cols, ["lower(email)", "placed DESC"]);
        assert_eq!(pred.as_deref(), Some("user_id IS NOT NULL"));
    }
}
