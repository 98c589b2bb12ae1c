//! Column defaults across engines: the one place that says what keel writes
//! in PostgreSQL for a SQLite default ([`to_postgres`], used by `keel copy`
//! and by the PostgreSQL renderer), and when two defaults of different
//! engines mean the same ([`same_column_default`], used by `keel diff`).
//! Diff translates a SQLite default with the very function copy used, so a
//! default keel copied compares equal by construction.
//!
//! The clock defaults are data ([`CLOCK_SPELLINGS`] and [`clock_postgres`]);
//! recognising a clock in any engine's spelling reads the same table.

use super::postgres::PgType;
use crate::dialect::Dialect;
use crate::schema::model::Column;

/// What a clock default means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Timestamp,
    Date,
    Time,
}

impl Clock {
    /// The SQL-standard spelling every engine accepts.
    pub fn standard(self) -> &'static str {
        match self {
            Clock::Timestamp => "CURRENT_TIMESTAMP",
            Clock::Date => "CURRENT_DATE",
            Clock::Time => "CURRENT_TIME",
        }
    }
}

/// How SQLite, PostgreSQL and MySQL/MariaDB spell "now" in a default.
pub const CLOCK_SPELLINGS: &[(Clock, &str)] = &[
    (Clock::Timestamp, "CURRENT_TIMESTAMP"),
    (Clock::Timestamp, "CURRENT_TIMESTAMP()"),
    (Clock::Timestamp, "datetime('now')"),
    (Clock::Timestamp, "datetime(\"now\")"),
    (Clock::Timestamp, "now()"),
    (Clock::Timestamp, "LOCALTIMESTAMP"),
    (Clock::Timestamp, "LOCALTIMESTAMP()"),
    (Clock::Date, "CURRENT_DATE"),
    (Clock::Date, "CURRENT_DATE()"),
    (Clock::Date, "date('now')"),
    (Clock::Date, "CURDATE()"),
    (Clock::Time, "CURRENT_TIME"),
    (Clock::Time, "CURRENT_TIME()"),
    (Clock::Time, "time('now')"),
    (Clock::Time, "CURTIME()"),
];

/// SQLite's clock is UTC; a PostgreSQL `timestamp` column gets UTC too.
const NOW_UTC: &str = "(now() AT TIME ZONE 'UTC')";

/// The PostgreSQL expression for a SQLite clock default in a column of
/// type `ty` (text columns get SQLite's own text format).
pub fn clock_postgres(clock: Clock, ty: PgType) -> Option<String> {
    let text = matches!(ty, PgType::Text | PgType::Varchar(_));
    Some(match (clock, ty) {
        (Clock::Timestamp, PgType::Timestamptz) => "now()".into(),
        (Clock::Timestamp, PgType::Timestamp) => NOW_UTC.into(),
        (Clock::Timestamp, _) if text => format!("to_char({NOW_UTC}, 'YYYY-MM-DD HH24:MI:SS')"),
        (Clock::Date, PgType::Date) => format!("{NOW_UTC}::date"),
        (Clock::Date, _) if text => format!("to_char({NOW_UTC}, 'YYYY-MM-DD')"),
        (Clock::Time, PgType::Time) => format!("{NOW_UTC}::time"),
        (Clock::Time, _) if text => format!("to_char({NOW_UTC}, 'HH24:MI:SS')"),
        _ => return None,
    })
}

/// Column types a clock default may be written into.
const CLOCK_TYPES: &[PgType] = &[
    PgType::Timestamptz,
    PgType::Timestamp,
    PgType::Date,
    PgType::Time,
    PgType::Text,
];

/// The clock `expr` stands for, in any engine's spelling from the table,
/// including every expression [`clock_postgres`] writes.
pub fn clock_of(expr: &str) -> Option<Clock> {
    let s = squash(expr);
    let spelled = CLOCK_SPELLINGS
        .iter()
        .find(|(_, sp)| squash(sp).eq_ignore_ascii_case(&s))
        .map(|(c, _)| *c);
    spelled.or_else(|| {
        [Clock::Timestamp, Clock::Date, Clock::Time]
            .into_iter()
            .find(|c| {
                CLOCK_TYPES.iter().any(|ty| {
                    clock_postgres(*c, *ty).is_some_and(|pg| squash(&pg).eq_ignore_ascii_case(&s))
                })
            })
    })
}

/// A SQLite default (as `pragma_table_info` reports it) as the PostgreSQL
/// expression keel writes for a column of type `ty`; `None` where keel
/// has no faithful translation (copy reports it, diff shows it).
pub fn to_postgres(expr: &str, ty: PgType) -> Option<String> {
    let e = expr.trim();
    let inner = e
        .strip_prefix('(')
        .and_then(|x| x.strip_suffix(')'))
        .filter(|x| balanced(x))
        .unwrap_or(e)
        .trim();
    let upper = inner.to_ascii_uppercase();
    if upper == "NULL" {
        return Some("NULL".into());
    }
    if let Some(clock) = clock_of(inner) {
        return clock_postgres(clock, ty);
    }
    if upper == "TRUE" || upper == "FALSE" {
        return match ty {
            PgType::Boolean => Some(upper.to_lowercase()),
            PgType::Text | PgType::Varchar(_) => None,
            _ => Some(if upper == "TRUE" { "1" } else { "0" }.into()),
        };
    }
    if is_number(inner) {
        return Some(match ty {
            PgType::Boolean => match inner {
                "0" => "false".into(),
                "1" => "true".into(),
                _ => return None,
            },
            PgType::Text | PgType::Varchar(_) => format!("'{inner}'"),
            // a number is a JSON document too
            PgType::Json | PgType::Jsonb => format!("'{inner}'"),
            // as the rows are copied: integers are Unix epoch seconds, or
            // milliseconds from 10^11 on (`DATETIME DEFAULT 0` is 1970)
            PgType::Timestamp | PgType::Timestamptz => {
                let n: i64 = inner.parse().ok()?;
                let seconds = if n.abs() < 100_000_000_000 {
                    format!("{n}")
                } else {
                    format!("{n} / 1000.0")
                };
                if ty == PgType::Timestamptz {
                    format!("to_timestamp({seconds})")
                } else {
                    format!("(to_timestamp({seconds}) AT TIME ZONE 'UTC')")
                }
            }
            PgType::Bytea | PgType::Date | PgType::Time | PgType::Uuid => return None,
            _ => inner.to_string(),
        });
    }
    if inner.len() >= 2 && inner.starts_with('\'') && inner.ends_with('\'') {
        let body = &inner[1..inner.len() - 1];
        if body.replace("''", "").contains('\'') {
            return None;
        }
        let special = ["now", "today", "tomorrow", "yesterday", "epoch", "allballs"];
        return Some(match ty {
            PgType::Boolean => match body.to_ascii_lowercase().as_str() {
                "0" | "f" | "false" => "false".into(),
                "1" | "t" | "true" => "true".into(),
                _ => return None,
            },
            PgType::Bytea => return None,
            PgType::Smallint
            | PgType::Integer
            | PgType::Bigint
            | PgType::Real
            | PgType::Double
            | PgType::Numeric(_)
                if !is_number(body.trim()) =>
            {
                return None;
            }
            // PostgreSQL would fold these to the moment of CREATE TABLE
            PgType::Timestamp | PgType::Timestamptz | PgType::Date | PgType::Time
                if special.iter().any(|w| body.trim().eq_ignore_ascii_case(w)) =>
            {
                return None;
            }
            _ => format!("'{body}'"),
        });
    }
    if let Some(hex) = upper.strip_prefix("X'").and_then(|h| h.strip_suffix('\''))
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && ty == PgType::Bytea
    {
        return Some(format!("'\\x{}'::bytea", hex.to_lowercase()));
    }
    // arithmetic on number literals means the same on both engines
    let arithmetic = inner
        .chars()
        .all(|c| c.is_ascii_digit() || " .+-*/()".contains(c))
        && inner.chars().any(|c| c.is_ascii_digit())
        && balanced(inner);
    if arithmetic && !matches!(ty, PgType::Boolean | PgType::Bytea) {
        let sql = format!("({inner})");
        return Some(match ty {
            PgType::Text | PgType::Varchar(_) => format!("{sql}::text"),
            _ => sql,
        });
    }
    None
}

fn is_number(s: &str) -> bool {
    s.parse::<f64>().is_ok()
        && s.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c))
        && !s.contains(['x', 'X', 'n', 'N', 'i', 'I'])
}

/// Whether two defaults mean the same, given their engines (no types).
pub fn same_default(a: Dialect, a_def: Option<&str>, b: Dialect, b_def: Option<&str>) -> bool {
    if a == b {
        return a_def.map(str::trim) == b_def.map(str::trim);
    }
    same_meaning(a_def, b_def)
}

/// Two defaults of different engines, compared as [`comparable`] forms;
/// an explicit `DEFAULT NULL` is no default (PostgreSQL stores none).
fn same_meaning(a: Option<&str>, b: Option<&str>) -> bool {
    let meaning = |d: Option<&str>| d.map(comparable).filter(|c| c != "null");
    meaning(a) == meaning(b)
}

/// Whether two columns' defaults mean the same. Between SQLite and
/// PostgreSQL the SQLite default is first translated by [`to_postgres`]
/// for the PostgreSQL column's type, exactly as `keel copy` writes it.
pub fn same_column_default(a: Dialect, a_col: &Column, b: Dialect, b_col: &Column) -> bool {
    let (a_def, b_def) = (a_col.default.as_deref(), b_col.default.as_deref());
    let translated = |lite: &Column, pg: &Column| -> Option<bool> {
        let ty = PgType::parse(&pg.data_type)?;
        let sql = to_postgres(lite.default.as_deref()?, ty)?;
        Some(same_meaning(Some(&sql), pg.default.as_deref()))
    };
    let exact = match (a, b) {
        (Dialect::Sqlite, Dialect::Postgres) => translated(a_col, b_col),
        (Dialect::Postgres, Dialect::Sqlite) => translated(b_col, a_col),
        _ => None,
    };
    exact.unwrap_or_else(|| same_default(a, a_def, b, b_def))
}

/// A default reduced for comparison across engines: [`squash`]ed, a clock
/// by its standard name, numbers unquoted, booleans as 1/0.
pub fn comparable(d: &str) -> String {
    if let Some(c) = clock_of(d) {
        return c.standard().to_ascii_lowercase();
    }
    let s = squash(d);
    let unquoted = s
        .strip_prefix('\'')
        .and_then(|x| x.strip_suffix('\''))
        .filter(|x| x.parse::<f64>().is_ok());
    match unquoted.unwrap_or(&s) {
        "true" => "1".into(),
        "false" => "0".into(),
        other => other.to_string(),
    }
}

/// Spelling noise removed: whitespace and letter case outside quotes,
/// the casts PostgreSQL prints after literals (`'UTC'::text`,
/// `'-1'::integer`), doubled and outermost parentheses. Only for
/// comparing, never for writing SQL.
pub fn squash(d: &str) -> String {
    let mut out = String::new();
    let mut chars = d.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                while let Some(x) = chars.next() {
                    out.push(x);
                    if x == c {
                        if chars.peek() == Some(&c) {
                            if let Some(y) = chars.next() {
                                out.push(y);
                            }
                        } else {
                            break;
                        }
                    }
                }
            }
            ':' if chars.peek() == Some(&':')
                && out.ends_with(|p: char| p == '\'' || p.is_ascii_digit()) =>
            {
                chars.next();
                skip_cast(&mut chars);
            }
            c if c.is_whitespace() => {
                // keep one space between two words (`at time zone`)
                let prev = out.chars().last();
                let next = chars.peek().copied();
                if prev.is_some_and(|p| p.is_alphanumeric() || p == '_')
                    && next.is_some_and(|n| n.is_alphanumeric() || n == '_')
                {
                    out.push(' ');
                }
            }
            c => out.push(c.to_ascii_lowercase()),
        }
    }
    strip_parentheses(&out)
}

/// Removes doubled `((…))` and outermost parentheses, quote-aware.
fn strip_parentheses(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut matching: Vec<Option<usize>> = vec![None; chars.len()];
    let (mut stack, mut quote) = (Vec::new(), None);
    for (i, &c) in chars.iter().enumerate() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => stack.push(i),
            (None, ')') => {
                if let Some(open) = stack.pop()
                    && let Some(m) = matching.get_mut(open)
                {
                    *m = Some(i);
                }
            }
            _ => {}
        }
    }
    let mut drop = vec![false; chars.len()];
    for (i, m) in matching.iter().enumerate() {
        let Some(j) = *m else { continue };
        let doubled = i + 1 < j && matching.get(i + 1).copied().flatten() == Some(j - 1);
        let outermost = i == 0 && j + 1 == chars.len();
        if doubled || outermost {
            drop[i] = true;
            drop[j] = true;
        }
    }
    chars
        .iter()
        .zip(drop)
        .filter(|(_, d)| !d)
        .map(|(c, _)| *c)
        .collect()
}

/// Skips a type name after `::`: words (`character varying`, `timestamp
/// without time zone`), an argument list and `[]`.
fn skip_cast(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    const MORE: &[&str] = &["varying", "precision", "without", "with", "time", "zone"];
    let mut first = true;
    loop {
        let before = chars.clone();
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
            if !(c.is_alphanumeric() || c == '_' || c == '.' || c == '"') {
                break;
            }
            word.push(c.to_ascii_lowercase());
            chars.next();
        }
        if word.is_empty() || (!first && !MORE.contains(&word.as_str())) {
            *chars = before;
            break;
        }
        first = false;
    }
    if chars.peek() == Some(&'(') {
        for c in chars.by_ref() {
            if c == ')' {
                break;
            }
        }
    }
    while chars.peek() == Some(&'[') {
        chars.next();
        chars.next();
    }
}

/// A default reduced to what survives every engine's spelling, for
/// *writing* it in another dialect: casts, outer parentheses and quotes
/// around numbers dropped, every clock spelling as its standard name
/// (lower-cased), booleans as 1/0.
pub fn neutral_default(d: &str) -> String {
    if let Some(c) = clock_of(d) {
        return c.standard().to_ascii_lowercase();
    }
    let mut s = d.trim().to_string();
    while s.starts_with('(') && s.ends_with(')') && balanced(&s[1..s.len() - 1]) {
        s = s[1..s.len() - 1].trim().to_string();
    }
    // 'x'::character varying → 'x'
    if let Some(pos) = s.rfind("::")
        && (s.starts_with('\'')
            || s[..pos]
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '-'))
    {
        s.truncate(pos);
    }
    let lower = s.to_ascii_lowercase();
    let unquoted = lower
        .strip_prefix('\'')
        .and_then(|x| x.strip_suffix('\''))
        .filter(|x| x.parse::<f64>().is_ok());
    match unquoted {
        Some(number) => number.to_string(),
        None if lower == "true" => "1".into(),
        None if lower == "false" => "0".into(),
        None if lower == "null" => "null".into(),
        None => s,
    }
}

fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use Dialect::*;

    #[test]
    fn numbers_for_dates_and_json_are_spelled_for_their_type() {
        assert_eq!(
            to_postgres("0", PgType::Timestamp).as_deref(),
            Some("(to_timestamp(0) AT TIME ZONE 'UTC')")
        );
        assert_eq!(
            to_postgres("1762432496000", PgType::Timestamptz).as_deref(),
            Some("to_timestamp(1762432496000 / 1000.0)")
        );
        assert_eq!(to_postgres("0", PgType::Jsonb).as_deref(), Some("'0'"));
        assert_eq!(to_postgres("0.5", PgType::Timestamp), None);
        assert_eq!(to_postgres("0", PgType::Date), None);
        assert_eq!(to_postgres("0", PgType::Uuid), None);
    }

    #[test]
    fn defaults_translate_or_are_reported() {
        assert_eq!(to_postgres("1", PgType::Boolean).as_deref(), Some("true"));
        assert_eq!(
            to_postgres("'active'", PgType::Varchar(Some(20))).as_deref(),
            Some("'active'")
        );
        assert_eq!(
            to_postgres("'it''s'", PgType::Text).as_deref(),
            Some("'it''s'")
        );
        assert_eq!(
            to_postgres("CURRENT_TIMESTAMP", PgType::Timestamp).as_deref(),
            Some("(now() AT TIME ZONE 'UTC')")
        );
        assert_eq!(
            to_postgres("(datetime('now'))", PgType::Timestamp).as_deref(),
            Some("(now() AT TIME ZONE 'UTC')")
        );
        assert_eq!(to_postgres("-1.5", PgType::Double).as_deref(), Some("-1.5"));
        assert_eq!(to_postgres("1+2", PgType::Bigint).as_deref(), Some("(1+2)"));
        assert_eq!(
            to_postgres("x'00ff'", PgType::Bytea).as_deref(),
            Some("'\\x00ff'::bytea")
        );
        assert_eq!(
            to_postgres("'now'", PgType::Timestamp),
            None,
            "folded at CREATE"
        );
        assert_eq!(to_postgres("(abs(random()))", PgType::Bigint), None);
        assert_eq!(to_postgres("'x'); DROP TABLE t; --'", PgType::Text), None);
        assert_eq!(to_postgres("inf", PgType::Double), None);
        assert_eq!(
            to_postgres("'x'", PgType::Bigint),
            None,
            "would fail CREATE TABLE"
        );
        assert_eq!(to_postgres("'7'", PgType::Bigint).as_deref(), Some("'7'"));
    }

    #[test]
    fn every_clock_translation_is_recognised_as_its_clock() {
        for (clock, spelling) in CLOCK_SPELLINGS {
            assert_eq!(clock_of(spelling), Some(*clock), "{spelling}");
            for ty in CLOCK_TYPES {
                if let Some(pg) = clock_postgres(*clock, *ty) {
                    assert_eq!(clock_of(&pg), Some(*clock), "{pg}");
                }
            }
        }
        // as PostgreSQL prints them back
        assert_eq!(
            clock_of("(now() AT TIME ZONE 'UTC'::text)"),
            Some(Clock::Timestamp)
        );
        assert_eq!(
            clock_of("((now() AT TIME ZONE 'UTC'::text))::date"),
            Some(Clock::Date)
        );
        assert_eq!(
            clock_of("to_char((now() AT TIME ZONE 'UTC'::text), 'YYYY-MM-DD HH24:MI:SS'::text)"),
            Some(Clock::Timestamp)
        );
        assert_eq!(clock_of("'now'"), None);
    }

    #[test]
    fn defaults_lose_their_casts_and_spellings_across_engines() {
        assert_eq!(neutral_default("'new'::character varying"), "'new'");
        assert_eq!(neutral_default("(0)"), "0");
        assert_eq!(neutral_default("'0'"), "0");
        assert_eq!(neutral_default("now()"), "current_timestamp");
        assert_eq!(neutral_default("CURRENT_TIMESTAMP"), "current_timestamp");
        assert_eq!(neutral_default("false"), "0");
        assert_eq!(comparable("'-1'::integer"), "-1");
        assert_eq!(comparable("(1 + 2)"), "1+2");
        assert_eq!(comparable("'a  B'::timestamp without time zone"), "'a  B'");
        assert!(same_default(
            Sqlite,
            Some("'new'"),
            Postgres,
            Some("'new'::character varying")
        ));
        assert!(!same_default(Postgres, Some("0"), Postgres, Some("1")));
        assert!(!same_default(
            Sqlite,
            Some("'a'"),
            Postgres,
            Some("'b'::text")
        ));
    }
}
