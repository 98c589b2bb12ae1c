//! Reading `.env` and `keel.toml` without ever echoing a line of them: both
//! files hold secrets (often more than keel's own), and the parsers' own
//! errors quote the offending text. Errors here name the file, the line and
//! what is wrong, never the text (issue 12, item 3).
//!
//! A `.env` keel cannot read is an error, never a silent fall-back to the
//! default `sqlite:keel.db`: an apostrophe in an unquoted value opens a
//! quote that, for dotenv parsers, runs over the following lines — the
//! `DATABASE_URL` line included.

use crate::error::{Error, Result};
use std::path::Path;

/// One logical `.env` entry: physical lines `first..=last` (1-based), which
/// dotenvy reads as one because a quote spans them.
struct Entry<'a> {
    first: usize,
    last: usize,
    text: &'a str,
    /// The quote still open at the end of the file: `'` or `"`.
    open: Option<char>,
}

/// Where a quote is, as dotenvy's line reader tracks it.
#[derive(Clone, Copy, PartialEq)]
enum State {
    Complete,
    Escape,
    Weak,
    WeakEscape,
    Strong,
    StrongEscape,
    WhiteSpace,
    Comment,
}

/// The state after `line`, dotenvy's `eval_end_state` (same rules, so the
/// line numbers keel reports are the ones dotenvy stumbled on).
fn end_state(mut state: State, line: &str) -> State {
    for c in line.chars() {
        state = match state {
            State::WhiteSpace => match c {
                '#' => return State::Comment,
                '\\' => State::Escape,
                '"' => State::Weak,
                '\'' => State::Strong,
                _ => State::Complete,
            },
            State::Escape => State::Complete,
            State::Complete => match c {
                c if c.is_whitespace() && c != '\n' && c != '\r' => State::WhiteSpace,
                '\\' => State::Escape,
                '"' => State::Weak,
                '\'' => State::Strong,
                _ => State::Complete,
            },
            State::Weak => match c {
                '\\' => State::WeakEscape,
                '"' => State::Complete,
                _ => State::Weak,
            },
            State::WeakEscape => State::Weak,
            State::Strong => match c {
                '\\' => State::StrongEscape,
                '\'' => State::Complete,
                _ => State::Strong,
            },
            State::StrongEscape => State::Strong,
            State::Comment => return State::Comment,
        };
    }
    state
}

fn entries(text: &str) -> Vec<Entry<'_>> {
    let mut out = Vec::new();
    let mut start = 0; // byte offset of the entry
    let mut first = 1;
    let mut state = State::Complete;
    let mut line_no = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        line_no += 1;
        let line_start = offset;
        offset += line.len();
        if state == State::Complete {
            start = line_start;
            first = line_no;
            if line.trim_start().starts_with('#') {
                continue;
            }
        }
        state = end_state(state, line);
        match state {
            State::Complete | State::Comment => {
                out.push(Entry {
                    first,
                    last: line_no,
                    text: text[start..offset].trim_end_matches(['\n', '\r']),
                    open: None,
                });
                state = State::Complete;
            }
            _ => {}
        }
    }
    if state != State::Complete {
        let open = match state {
            State::Weak | State::WeakEscape => Some('"'),
            State::Strong | State::StrongEscape => Some('\''),
            _ => None,
        };
        out.push(Entry {
            first,
            last: line_no,
            text: &text[start..],
            open,
        });
    }
    out
}

/// The physical lines of `entry` after its first that set `DATABASE_URL`.
fn swallowed_database_url(entry: &Entry<'_>) -> Option<usize> {
    entry
        .text
        .split('\n')
        .enumerate()
        .skip(1)
        .find(|(_, l)| sets_database_url(l))
        .map(|(i, _)| entry.first + i)
}

fn sets_database_url(line: &str) -> bool {
    let l = line.trim_start();
    let l = l.strip_prefix("export ").map_or(l, str::trim_start);
    l.strip_prefix("DATABASE_URL")
        .is_some_and(|rest| rest.trim_start().starts_with('='))
}

fn quote_name(q: char) -> &'static str {
    if q == '"' { "double" } else { "single" }
}

/// `DATABASE_URL` from the `.env` file at `path`, if the file sets it.
/// Every problem names the file and line, never the text.
pub(crate) fn dotenv_database_url(path: &Path) -> Result<Option<String>> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::io(&shown, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        Error::invalid(
            format!("{shown}: line {line} is not UTF-8 text"),
            Some("save .env as UTF-8"),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let entries = entries(text);
    let fix = "fix that line of .env (keel reads it as dotenv tools do), or give the URL with --database-url or DATABASE_URL";
    if let Some(e) = entries.iter().find(|e| e.open.is_some()) {
        let q = quote_name(e.open.unwrap_or('"'));
        let swallowed = swallowed_database_url(e)
            .map(|n| format!("; the DATABASE_URL on line {n} is inside it"))
            .unwrap_or_default();
        return Err(Error::invalid(
            format!(
                "{shown}: unterminated {q} quote starting on line {}: it runs to the end of the file{swallowed}",
                e.first
            ),
            Some(
                "close the quote on that line, or quote a value holding an apostrophe with double quotes; keel does not guess where it ends",
            ),
        ));
    }
    let iter = dotenvy::from_read_iter(text.as_bytes());
    for item in iter {
        let (key, value) = item.map_err(|err| match err {
            dotenvy::Error::LineParse(bad, index) => {
                Error::invalid(line_parse_message(&shown, &entries, &bad, index), Some(fix))
            }
            dotenvy::Error::Io(e) => Error::io(&shown, e),
            dotenvy::Error::EnvVar(_) => Error::invalid(
                format!("{shown}: a ${{VARIABLE}} substitution could not be read"),
                Some(fix),
            ),
            _ => Error::invalid(format!("{shown}: cannot be read"), Some(fix)),
        })?;
        if key == "DATABASE_URL" {
            if value.trim().is_empty() {
                return Err(Error::invalid(
                    format!("DATABASE_URL in {shown} is set but empty"),
                    Some(
                        "give it a database URL, or remove the line to use keel.toml or the default",
                    ),
                ));
            }
            if let Some(e) = entries
                .iter()
                .find(|e| e.last > e.first && sets_database_url(e.text))
            {
                return Err(Error::invalid(
                    format!(
                        "{shown}: the DATABASE_URL value starting on line {} runs over {} lines (a quote opens on that line and closes on line {})",
                        e.first,
                        e.last - e.first + 1,
                        e.last
                    ),
                    Some("put the URL on one line, with matching quotes"),
                ));
            }
            return Ok(Some(value));
        }
    }
    if let Some((e, n)) = entries
        .iter()
        .find_map(|e| swallowed_database_url(e).map(|n| (e, n)))
    {
        return Err(Error::invalid(
            format!(
                "{shown}: the DATABASE_URL on line {n} is inside a quoted value that starts on line {} and ends on line {}",
                e.first, e.last
            ),
            Some(
                "close the quote on that line (an apostrophe in an unquoted value opens one); keel does not guess",
            ),
        ));
    }
    Ok(None)
}

/// Where dotenvy stumbled, by line and column: its error carries the entry
/// or only its value, so the entry is found by its ending.
fn line_parse_message(shown: &str, entries: &[Entry<'_>], bad: &str, index: usize) -> String {
    let bad = bad.trim_end_matches(['\n', '\r']);
    let Some(entry) = entries
        .iter()
        .find(|e| e.text.ends_with(bad) && !bad.is_empty())
    else {
        return format!("{shown}: an entry cannot be read as KEY=VALUE");
    };
    // dotenvy's index counts bytes and may fall inside a character
    let mut offset = (entry.text.len() - bad.len() + index).min(entry.text.len());
    while !entry.text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = entry.text.get(..offset).unwrap_or_default();
    let line = entry.first + before.matches('\n').count();
    let column = 1 + before[before.rfind('\n').map_or(0, |p| p + 1)..]
        .chars()
        .count();
    let mut message = format!("{shown}: line {line}, column {column}: not a KEY=VALUE entry");
    if entry.last > entry.first {
        message.push_str(&format!(
            " (a quote opened on line {} runs to line {})",
            entry.first, entry.last
        ));
    }
    if let Some(n) = swallowed_database_url(entry) {
        message.push_str(&format!("; the DATABASE_URL on line {n} is inside it"));
    }
    message
}

/// A `keel.toml` error: file, line, column and what is wrong, with any
/// value the message quotes removed.
pub(crate) fn toml_error(shown: &str, text: &str, e: &toml::de::Error) -> Error {
    let place = e.span().map(|span| {
        let before = &text[..span.start.min(text.len())];
        let line = 1 + before.matches('\n').count();
        let column = 1 + before.len() - before.rfind('\n').map_or(0, |p| p + 1);
        format!(" line {line}, column {column}:")
    });
    Error::invalid(
        format!(
            "{shown}:{} {}",
            place.unwrap_or_default(),
            without_values(e.message().trim())
        ),
        Some("see `keel init` for a commented keel.toml"),
    )
}

/// serde's `invalid type: string "…", expected …` quotes the value: keep
/// only its kind.
fn without_values(message: &str) -> String {
    let mut out = String::new();
    for line in message.lines() {
        if !out.is_empty() {
            out.push_str("; ");
        }
        let cleaned = ["invalid type: ", "invalid value: ", "invalid length "]
            .iter()
            .find_map(|lead| {
                let at = line.find(lead)?;
                let rest = &line[at + lead.len()..];
                let kind = rest
                    .split([' ', ','])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let tail = rest.find(", expected").map_or("", |p| &rest[p..]);
                Some(format!("{}{lead}{kind}{tail}", &line[..at]))
            });
        out.push_str(&cleaned.unwrap_or_else(|| line.to_string()));
    }
    super::scrub(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Option<String>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, text).unwrap();
        dotenv_database_url(&path)
    }

    fn message(r: Result<Option<String>>) -> String {
        match r {
            Err(e) => e.to_string(),
            Ok(v) => panic!("expected an error, got {v:?}"),
        }
    }

    /// Found by fuzz/url: dotenvy's byte index fell inside a multi-byte
    /// character, and finding the column panicked.
    #[test]
    fn a_bad_entry_with_multibyte_characters_is_an_error_not_a_panic() {
        let text = "\\n\nOTHER=\u{fffd}\u{fffd}\u{fffd}\\\u{fffd}\u{fffd}stgres://app9:***d\nDATABASE_URL='postgres://a:Qzb@h/d'\n";
        let r = std::panic::catch_unwind(|| read(text));
        assert!(r.is_ok(), "reading the .env panicked");
        for bad in ["OTHER=\u{e9}\u{e9}\\\u{e9}x\n", "A=\u{20ac}\\\u{20ac}'\n"] {
            let r = std::panic::catch_unwind(|| read(bad));
            assert!(r.is_ok(), "{bad:?}");
        }
    }

    #[test]
    fn an_open_quote_before_database_url_is_an_error_naming_lines() {
        let m = message(read(
            "A=1\nSECRET=\"Pa55:w@rd\nDATABASE_URL=postgres://u:Pa55w@h/d\n",
        ));
        assert!(
            m.contains("unterminated double quote starting on line 2")
                && m.contains("DATABASE_URL on line 3"),
            "{m}"
        );
        assert!(!m.contains("Pa55"), "{m}");
    }

    #[test]
    fn an_apostrophe_that_swallows_database_url_is_an_error() {
        let m = message(read(
            "GREETING=it's\nDATABASE_URL=postgres://u:Pa55w@h/d\nNAME='x'\n",
        ));
        assert!(!m.contains("Pa55"), "{m}");
        assert!(m.contains("line 1") || m.contains("line 2"), "{m}");
    }

    #[test]
    fn an_unparsable_line_is_named_not_echoed() {
        let m = message(read(
            "A=1\nthis is Pa55w not an entry\nDATABASE_URL=sqlite:x.db\n",
        ));
        assert!(m.contains("line 2"), "{m}");
        assert!(!m.contains("Pa55w"), "{m}");
    }

    #[test]
    fn good_files_still_read() {
        assert_eq!(
            read("# c\nexport A='x y'\nDATABASE_URL=\"sqlite:a.db\"\n").unwrap(),
            Some("sqlite:a.db".to_string())
        );
        assert_eq!(read("A=1\n").unwrap(), None);
    }

    #[test]
    fn toml_type_errors_lose_the_value() {
        let text = "table = \"t\"\nlock_timeout = \"Pa55w0rd\"\n";
        let e = toml::from_str::<crate::settings::ConfigFile>(text).unwrap_err();
        let m = toml_error("keel.toml", text, &e).to_string();
        assert!(!m.contains("Pa55w0rd"), "{m}");
        assert!(m.contains("line 2"), "{m}");
    }
}
