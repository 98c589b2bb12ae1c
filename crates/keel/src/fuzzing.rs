//! Stable entry points for the `cargo fuzz` targets in `fuzz/` (not part
//! of keel's API). Each function runs one parser on untrusted input and
//! checks the properties it promises; a broken property comes back as
//! `Err(description)` and the fuzz target turns that into a crash. When a
//! parser is rewritten, only the body of its function here changes.

use crate::Dialect;
use crate::settings::{DatabaseUrl, Overrides, Settings, redact};
use crate::source::split::{self, Statement};
use crate::source::{Layout, Migrations, directives, layout, name};
use std::path::Path;

/// The splitter (`split`, `has_statement`) and goose's block splitter on
/// `sql` in `dialect`: statements are trimmed, non-empty substrings of the
/// input, in order, each starting on the line it reports; what lies between
/// them is blanks, `;` and comments; a statement split again is itself.
pub fn split(sql: &str, dialect: Dialect) -> Result<(), String> {
    let plain = split::split(sql, dialect);
    check_statements(sql, &plain, dialect, "split")?;
    if split::has_statement(sql, dialect) == plain.is_empty() {
        return Err(format!(
            "has_statement says {} but split found {} statement(s)",
            !plain.is_empty(),
            plain.len()
        ));
    }
    let lower = sql.to_ascii_lowercase();
    // DELIMITER and goose blocks carry state across statements
    if !lower.contains("delimiter") && !lower.contains("+goose") {
        for s in &plain {
            let again: Vec<String> = split::split(&s.text, dialect)
                .into_iter()
                .map(|s| s.text)
                .collect();
            if again != [s.text.clone()] {
                return Err(format!(
                    "statement {:?} (line {}) splits again into {again:?}",
                    s.text, s.line
                ));
            }
        }
    }
    let mut open = split::OpenTransaction::default();
    for (i, s) in plain.iter().enumerate() {
        open.step(i, &s.text, dialect);
        if open.since().is_some_and(|at| at > i) {
            return Err(format!(
                "a transaction opened after statement {i} that is open"
            ));
        }
    }
    for s in &plain {
        // a COPY's command and data are the statement's, in that order
        if let Some((command, data)) = split::copy_from_stdin(&s.text) {
            let rows = data.strip_suffix('\n').unwrap_or(&data);
            let after = s.text.get(command.len()..).unwrap_or_default();
            if !s.text.starts_with(command) || !after.contains(rows) {
                return Err(format!(
                    "COPY {command:?} with data {rows:?} is not its statement {:?}",
                    s.text
                ));
            }
        }
        let _ = split::psql_command(&s.text);
        let _ = split::outside_transaction_only(&s.text, dialect);
        let _ = split::locks_tables(&s.text, dialect);
        let _ = split::transaction_control(&s.text, dialect);
        let _ = split::created_object(&s.text, dialect);
        let _ = split::is_session_statement(&s.text, dialect);
    }
    let goose = layout::split_goose(sql, dialect);
    check_statements(sql, &goose, dialect, "split_goose")
}

fn check_statements(
    sql: &str,
    statements: &[Statement],
    dialect: Dialect,
    what: &str,
) -> Result<(), String> {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let mut cursor = 0;
    let mut prev_line = 1;
    let mut gaps = Vec::new();
    for (i, s) in statements.iter().enumerate() {
        let fail = |why: &str| Err(format!("{what}: statement {i} {:?}: {why}", s.text));
        if s.text.is_empty() {
            return fail("is empty");
        }
        if s.text.trim() != s.text {
            return fail("is not trimmed");
        }
        if s.line < prev_line {
            return fail(&format!("line {} goes back from {prev_line}", s.line));
        }
        let Some(&line_start) = s.line.checked_sub(1).and_then(|l| line_starts.get(l)) else {
            return fail(&format!(
                "line {} is not a line of the input ({} lines)",
                s.line,
                line_starts.len()
            ));
        };
        let line_end = line_starts.get(s.line).copied().unwrap_or(sql.len());
        let from = cursor.max(line_start);
        // the earliest occurrence on its line after the previous statement:
        // if the statements are where they say, this finds one
        // the first occurrence on its line whose gap from the previous
        // statement holds only separators and comments (the statement's
        // text may also appear inside a comment before it), else the first
        let limit = line_end.max(from + 1);
        let occurrences: Vec<usize> = sql
            .get(from..)
            .map(|rest| {
                rest.match_indices(s.text.as_str())
                    .map(|(p, _)| p + from)
                    .take_while(|p| *p < limit)
                    .collect()
            })
            .unwrap_or_default();
        let found = occurrences
            .iter()
            .copied()
            .find(|p| separators_only(&sql[cursor..*p], dialect))
            .or_else(|| occurrences.first().copied());
        let Some(at) = found else {
            return fail(&format!(
                "is not in the input on line {} after the previous statement",
                s.line
            ));
        };
        gaps.push((cursor, at));
        cursor = at + s.text.len();
        prev_line = s.line;
    }
    gaps.push((cursor, sql.len()));
    let lower = sql.to_ascii_lowercase();
    if dialect == Dialect::Mysql && lower.contains("delimiter") {
        return Ok(());
    }
    for (start, end) in gaps {
        let gap = &sql[start..end];
        // one character more on each side: the earliest match of a
        // statement such as `*` may sit inside the `/*` before it
        let before = sql[..start].chars().next_back().map_or(0, char::len_utf8);
        let after = sql[end..].chars().next().map_or(0, char::len_utf8);
        let around = &sql[start - before..end + after];
        let rest: String = gap
            .chars()
            .filter(|c| !c.is_whitespace() && *c != ';')
            .collect();
        // psql's `\restrict` and kin are passed over like comments
        let comment = ["--", "/*", "*/"].iter().any(|m| around.contains(m))
            || (dialect == Dialect::Mysql && gap.contains('#'))
            || (dialect == Dialect::Postgres && gap.contains('\\'));
        if !rest.is_empty() && !comment {
            return Err(format!(
                "{what}: {rest:?} between statements belongs to no statement"
            ));
        }
    }
    Ok(())
}

/// Whether `gap` holds only blanks, `;` and whole comments (`--`, `/* */`,
/// MySQL's `#`).
fn separators_only(gap: &str, dialect: Dialect) -> bool {
    let mut rest = gap;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
        if rest.is_empty() {
            return true;
        }
        let line_comment = match dialect {
            Dialect::Mysql => rest.strip_prefix('#'),
            // a psql command keel passes over (`\restrict key`)
            Dialect::Postgres => rest
                .strip_prefix('\\')
                .filter(|_| split::psql_command(rest).is_some_and(|c| c.inert)),
            Dialect::Sqlite => None,
        };
        if let Some(r) = rest.strip_prefix("--").or(line_comment) {
            rest = r.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(r) = rest.strip_prefix("/*") {
            match r.find("*/") {
                Some(end) => rest = &r[end + 2..],
                None => return false,
            }
        } else {
            return false;
        }
    }
}

/// A migrations folder given as file paths and contents: every name
/// through [`name::parse`] (an accepted name prints back to itself), the
/// folder through layout detection (or `layout`) and validation, and the
/// statements of what validates through the splitter.
pub fn files(files: Vec<(String, Vec<u8>)>, layout: Option<Layout>) -> Result<(), String> {
    for (path, _) in &files {
        let base = path.rsplit('/').next().unwrap_or(path);
        if let Ok(parsed) = name::parse(base) {
            let suffix = match parsed.direction {
                name::Direction::UpOnly => "",
                name::Direction::Up => ".up",
                name::Direction::Down => ".down",
            };
            let printed = format!("{}_{}{suffix}.sql", parsed.version, parsed.name);
            if name::parse(&printed) != Ok(parsed.clone()) {
                return Err(format!(
                    "{base:?} parses as {parsed:?}, but {printed:?} does not parse back to it"
                ));
            }
            if parsed.version < 1 || parsed.name.is_empty() {
                return Err(format!("{base:?} parses as {parsed:?}"));
            }
        }
    }
    match Migrations::from_files_as("fuzz".to_string(), files, layout) {
        Ok(migrations) => {
            let mut seen = std::collections::BTreeSet::new();
            for m in migrations.iter() {
                if !seen.insert(m.version) {
                    return Err(format!("version {} is listed twice", m.version));
                }
                for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
                    let _ = m.up.statements(d);
                    if let Some(down) = &m.down {
                        let _ = down.statements(d);
                    }
                }
            }
        }
        Err(e) => {
            if e.to_string().is_empty() {
                return Err("an error with no message".to_string());
            }
        }
    }
    Ok(())
}

/// The `-- keel:` directive parser: error lines are lines of the text, and
/// a `-- keel:no-transaction` line put before the text changes nothing but
/// that option and the line numbers.
pub fn directives(text: &str) -> Result<(), String> {
    let got = directives::parse(text);
    let lines = text.lines().count().max(1);
    if let Err((line, message)) = &got {
        if *line < 1 || *line > lines {
            return Err(format!("error on line {line} of {lines}: {message}"));
        }
        if message.is_empty() {
            return Err("an error with no message".to_string());
        }
    }
    let prefixed = directives::parse(&format!("-- keel:no-transaction\n{text}"));
    let want = got
        .map(|mut d| {
            d.no_transaction = true;
            d
        })
        .map_err(|(line, m)| (line + 1, m));
    if prefixed != want {
        return Err(format!(
            "with a directive line in front: {prefixed:?}, expected {want:?}"
        ));
    }
    Ok(())
}

/// A database URL through [`DatabaseUrl::parse`] and [`redact`]: no panic,
/// and nothing printed contains a password the URL parser found in it.
pub fn url(input: &str) -> Result<(), String> {
    let redacted = redact(input);
    let shown = match DatabaseUrl::parse(input) {
        Ok(u) => {
            let _ = u.engine();
            let _ = u.sqlite_path();
            format!("{u} {u:?} {}", u.redacted())
        }
        Err(e) => e.to_string(),
    };
    if let Ok(parsed) = url::Url::parse(input)
        && let Some(password) = parsed.password()
    {
        let decoded = percent_decode(password);
        // a password that the redacted URL holds anyway (written elsewhere
        // in it, or made of the `:***@` around it) proves nothing; the URL
        // parser drops tabs and newlines
        let plain: String = percent_decode(input)
            .chars()
            .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
            .collect();
        let once = plain.matches(&decoded).count() == 1;
        let skeleton = plain.replacen(&decoded, "***", 1);
        if decoded.len() >= 3 && once && !skeleton.contains(&decoded) {
            for out in [&redacted, &shown] {
                if out.contains(password) || percent_decode(out).contains(&decoded) {
                    return Err(format!("{input:?} shows its password as {out:?}"));
                }
            }
        }
    }
    Ok(())
}

/// `scheme://user:PASSWORD@host/db` with any `password`: [`redact`],
/// [`DatabaseUrl`]'s `Display`/`Debug` and errors never contain it.
pub fn url_with_password(
    scheme: &str,
    user: &str,
    password: &str,
    host: &str,
    db: &str,
) -> Result<(), String> {
    let input = format!("{scheme}://{user}:{password}@{host}/{db}");
    let skeleton = format!("{scheme}://{user}:***@{host}/{db}");
    // a line break ends a URL for every driver and for keel's registry (a
    // value holding one is text, not one URL): not a password a URL can hold
    if password.is_empty() || skeleton.contains(password) || password.contains(['\n', '\r']) {
        return Ok(());
    }
    // as keel uses it: the URL is parsed (which learns its password) before
    // anything is printed; the structural rules alone cannot know where a
    // password holding line breaks ends
    let parsed = match DatabaseUrl::parse(&input) {
        Ok(u) => format!("{u} {u:?} {}", u.redacted()),
        Err(e) => format!("{e} {e:?}"),
    };
    let outputs = vec![redact(&input), parsed];
    for out in outputs {
        if out.contains(password) || percent_decode(&out).contains(password) {
            return Err(format!("{input:?} shows its password as {out:?}"));
        }
    }
    Ok(())
}

/// [`Settings::resolve_with`] in `dir` (a folder of its own, without a
/// `keel.toml`) with `dotenv` as its `.env` and `env_url` as
/// `DATABASE_URL`: no panic, and when `secret` is given, neither the
/// settings nor the error show it.
pub fn settings(
    dir: &Path,
    dotenv: &str,
    env_url: Option<&str>,
    secret: Option<&str>,
) -> Result<(), String> {
    std::fs::write(dir.join(".env"), dotenv).map_err(|e| format!("writing .env: {e}"))?;
    let env_url = env_url.map(str::to_string);
    let resolved = Settings::resolve_with(&Overrides::default(), dir, |k| {
        (k == "DATABASE_URL").then(|| env_url.clone()).flatten()
    });
    let shown = match resolved {
        Ok(s) => format!("{s:?} {}", s.database_url),
        Err(e) => format!("{e} {e:?}"),
    };
    if let Some(secret) = secret.filter(|s| !s.is_empty())
        && (shown.contains(secret) || percent_decode(&shown).contains(secret))
    {
        return Err(format!("the password {secret:?} is shown: {shown:?}"));
    }
    Ok(())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied(), b.get(i + 2).copied()) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                let v = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(u8::try_from(v).unwrap_or(0));
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The false alarm of split run 4: a statement's text also inside the
    /// comment before it is placed after the comment, not in it.
    #[test]
    fn a_statement_also_inside_the_comment_before_it() {
        assert_eq!(split("/* ill; */;;;;* ill; */;", Dialect::Mysql), Ok(()));
        assert_eq!(split("/* x */ x; -- x\nx;", Dialect::Postgres), Ok(()));
    }
}

#[cfg(test)]
mod url_tests {
    use super::*;

    /// Found by fuzz/url: line breaks and a space inside the password.
    #[test]
    fn passwords_with_white_space_never_show() {
        for password in ["Qza bzQ", "Qz a\tb  #c?d zQ"] {
            assert_eq!(
                url_with_password("postgres", "aQz5CnzQp", password, "h", "rs"),
                Ok(())
            );
        }
    }
}
