//! The one place passwords are hidden (issue 12, item 3: the README promises
//! `***`, yet a libpq `key=value` string, a URL missing `//` and a broken
//! `.env` used to be echoed verbatim).
//!
//! [`scrub`] is applied to every message, JSON field and log line keel
//! prints. It does two things:
//!
//! - **structural redaction**: the password of a URL in any spelling
//!   (`scheme://user:pw@host`, `jdbc:postgresql://…`, `postgresql+asyncpg://`,
//!   `user:pw@host` without `//`, multi-host, passwords holding `@ : / ? #`),
//!   the value of `password=`, `pass=`, `pwd=`, `passwd=`, `sslpassword=` and
//!   `PGPASSWORD=` in libpq `key=value` strings (quoted or not) and in URL
//!   query strings, in any case;
//! - **known secrets**: every password keel learns is [`register`]ed; each
//!   occurrence of it in any text — raw, percent-encoded (wholly or partly,
//!   any hex case), form-encoded, or backslash-escaped as `Debug` and JSON
//!   print it — is replaced by `***`, so a driver error that quotes the URL
//!   in its own way cannot leak it either.
//!
//! Secrets shorter than [`MIN_SECRET_LEN`] characters, and the engine names
//! (`postgres`, `mysql`, …, common development passwords), are not
//! registered: replacing them everywhere would turn every message into
//! asterisks. Structural redaction still hides them inside a URL.

use std::sync::{Mutex, PoisonError};

pub(crate) mod files;

/// The shortest password replaced wherever it occurs.
pub const MIN_SECRET_LEN: usize = 4;

/// What a hidden secret is replaced by.
pub const MASK: &str = "***";

static KNOWN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Words that are part of keel's own output: registering them as secrets
/// would mask every URL scheme.
const TOO_COMMON: &[&str] = &[
    "postgres",
    "postgresql",
    "mysql",
    "mariadb",
    "sqlite",
    "keel",
    "localhost",
    "password",
];

/// Remembers `secret` for the rest of the process: from now on, [`scrub`]
/// replaces every occurrence of it, in any encoding, by `***`.
pub fn register(secret: &str) {
    if secret.chars().count() < MIN_SECRET_LEN
        || secret == MASK
        || TOO_COMMON.iter().any(|w| w.eq_ignore_ascii_case(secret))
    {
        return;
    }
    let mut known = KNOWN.lock().unwrap_or_else(PoisonError::into_inner);
    if !known.iter().any(|k| k == secret) {
        known.push(secret.to_string());
        // longest first, so a secret containing another is masked whole
        known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }
}

/// Registers every password [`scrub`]'s structural rules find in `text`
/// (a URL, a `key=value` string, a command-line argument), raw and
/// percent-decoded. Called on every input that may hold a connection
/// string before anything is printed.
pub fn register_in(text: &str) {
    for span in value_spans(text) {
        let raw = &text[span];
        register(raw);
        // the password as the URL parser reads it
        let found: String = raw
            .chars()
            .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
            .collect();
        let found = found.as_str();
        register(found);
        // a query value may be form-encoded (`+` for a space)
        for form in [found.to_string(), found.replace('+', " ")] {
            if let Some(decoded) = percent_decode(&form) {
                register(&decoded);
            }
        }
    }
    for span in password_spans(text) {
        let found = &text[span];
        let unquoted = unquote(found);
        register(&unquoted);
        if let Some(decoded) = percent_decode(&unquoted) {
            register(&decoded);
        }
    }
}

/// The passwords of `value` read as one value (an argument, a variable, a
/// URL keel was given), not as running text: one URL even with white space
/// or a backtick in its user name or password, and a query's `password=`
/// running to `&` or `#`. Tabs and line breaks are passed over wherever
/// they are, as the URL parser drops them. Byte ranges into `value`.
fn value_spans(value: &str) -> Vec<std::ops::Range<usize>> {
    // the value without tabs and line breaks, and where each of its bytes
    // is in `value`
    let mut joined = String::with_capacity(value.len());
    let mut origin = Vec::with_capacity(value.len());
    for (at, c) in value.char_indices() {
        if !matches!(c, '\t' | '\n' | '\r') {
            joined.push(c);
            origin.extend(at..at + c.len_utf8());
        }
    }
    let whole = joined.trim();
    let lead = joined.len() - joined.trim_start().len();
    let mut spans = key_value_spans(whole, true);
    spans.extend(token_password(whole));
    let mut out: Vec<std::ops::Range<usize>> = spans
        .into_iter()
        .filter(|s| s.end > s.start)
        .filter_map(|s| {
            let start = *origin.get(s.start + lead)?;
            let end = *origin.get(s.end + lead - 1)? + 1;
            Some(start..end)
        })
        .collect();
    out.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    out
}

/// Registers the passwords the environment gives the drivers
/// (`PGPASSWORD`, `MYSQL_PWD`) and every password inside `DATABASE_URL`.
pub fn register_environment() {
    for key in ["PGPASSWORD", "MYSQL_PWD"] {
        if let Ok(v) = std::env::var(key) {
            register(&v);
        }
    }
    if let Ok(v) = std::env::var("DATABASE_URL") {
        register_in(&v);
    }
}

/// `text` with every password hidden: every registered secret (first, so a
/// known password holding white space goes whole), then the structural
/// rules.
pub fn scrub(text: &str) -> String {
    redact_structure(&mask_known(text))
}

/// One value keel was given (a URL, an argument) as it may be shown: its
/// passwords found as [`value_spans`] reads it, then as [`scrub`] reads
/// running text. What [`crate::settings::DatabaseUrl`] prints.
pub fn scrub_value(value: &str) -> String {
    let masked = mask_spans(value, value_spans(value));
    scrub(&masked)
}

/// [`scrub`] applied to every string of a JSON document, keys included.
pub fn scrub_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            let clean = scrub(s);
            if clean != *s {
                *s = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub_json),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (k, mut v) in entries {
                scrub_json(&mut v);
                map.insert(scrub(&k), v);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Only the structural rules (no registry): the password of every URL and
/// `key=value` pair in `text` replaced by `***`.
pub fn redact_structure(text: &str) -> String {
    mask_spans(text, password_spans(text))
}

/// `text` with each of `spans` (sorted by start) replaced by `***`; a span
/// overlapping one already replaced is skipped.
fn mask_spans(text: &str, spans: Vec<std::ops::Range<usize>>) -> String {
    if spans.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        if span.start < at {
            continue;
        }
        out.push_str(&text[at..span.start]);
        out.push_str(MASK);
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Every registered secret in `text`, in any encoding, replaced by `***`.
fn mask_known(text: &str) -> String {
    let known = KNOWN.lock().unwrap_or_else(PoisonError::into_inner);
    if known.is_empty() {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    'scan: while i < bytes.len() {
        for secret in known.iter() {
            if let Some(end) = match_encoded(bytes, i, secret.as_bytes()) {
                out.extend_from_slice(MASK.as_bytes());
                i = end;
                continue 'scan;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    // only whole UTF-8 sequences are replaced, so this never fails; the
    // lossy form keeps the type honest without a panic path
    String::from_utf8_lossy(&out).into_owned()
}

/// Where `secret` ends if it occurs in `text` at `start`, each of its bytes
/// written raw, as `%XX` (either case), as `+` for a space, or
/// backslash-escaped (`\"`, `\\`).
fn match_encoded(text: &[u8], start: usize, secret: &[u8]) -> Option<usize> {
    let Some((&b, rest)) = secret.split_first() else {
        return Some(start);
    };
    let mut ends = [None; 4];
    if text.get(start) == Some(&b) {
        ends[0] = Some(start + 1);
    }
    if text.get(start) == Some(&b'%') {
        let hex = text.get(start + 1..start + 3);
        if hex.and_then(hex_byte) == Some(b) {
            ends[1] = Some(start + 3);
        }
    }
    if b == b' ' && text.get(start) == Some(&b'+') {
        ends[2] = Some(start + 1);
    }
    if (b == b'"' || b == b'\\')
        && text.get(start) == Some(&b'\\')
        && text.get(start + 1) == Some(&b)
    {
        ends[3] = Some(start + 2);
    }
    ends.into_iter()
        .flatten()
        .find_map(|next| match_encoded(text, next, rest))
}

fn hex_byte(hex: &[u8]) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16);
    match hex {
        [h, l] => Some((digit(*h)? * 16 + digit(*l)?) as u8),
        _ => None,
    }
}

/// `%XX` sequences decoded; `None` when there are none or the result is
/// not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return None;
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = bytes.get(i + 1..i + 3).and_then(hex_byte)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// A quoted `key='value'` value without its quotes and escapes.
fn unquote(s: &str) -> String {
    let Some(q) = s.chars().next().filter(|c| *c == '\'' || *c == '"') else {
        return s.to_string();
    };
    let inner = s.strip_prefix(q).unwrap_or(s);
    let inner = inner.strip_suffix(q).unwrap_or(inner);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Byte ranges of every password the structural rules find, sorted.
fn password_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut spans = key_value_spans(text, false);
    spans.extend(userinfo_spans(text));
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    spans
}

/// Keys whose value is a secret, lower case.
const SECRET_KEYS: &[&str] = &[
    "password",
    "pass",
    "pwd",
    "passwd",
    "sslpassword",
    "pgpassword",
    "mysql_pwd",
];

/// The values of `password=…` and its kin: in a URL query (ends at `&`,
/// `#` or white space), in a libpq string (quoted with `'`, or up to white
/// space), or after `;` as JDBC/ADO write them. In `one_value` (a whole
/// argument), a query value runs to `&` or `#` only: white space there is
/// part of a password written unencoded.
fn key_value_spans(text: &str, one_value: bool) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let word_start = i == 0 || !is_key_char(bytes[i - 1]);
        if !word_start || !bytes[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let mut end = i;
        while end < bytes.len() && is_key_char(bytes[end]) {
            end += 1;
        }
        let key = text[i..end].to_ascii_lowercase();
        let in_query = i > 0 && matches!(bytes[i - 1], b'?' | b'&');
        let after_semicolon = i > 0 && bytes[i - 1] == b';';
        i = end;
        if !SECRET_KEYS.contains(&key.as_str()) {
            continue;
        }
        let mut j = end;
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        if bytes.get(j) != Some(&b'=') {
            continue;
        }
        j += 1;
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        let start = j;
        let stop = match bytes.get(j) {
            Some(&q @ (b'\'' | b'"')) => {
                let mut k = j + 1;
                loop {
                    match bytes.get(k) {
                        None => break k,
                        Some(b'\\') => k += 2,
                        Some(&c) if c == q => break k + 1,
                        Some(_) => k += 1,
                    }
                }
            }
            _ => {
                let mut k = j;
                while k < bytes.len() {
                    let c = bytes[k];
                    // a quote or backtick closes the text around the
                    // pair (JSON, a message); a password holding one is
                    // percent-encoded in a URL, quoted in libpq, or known
                    let ends = (c.is_ascii_whitespace() && !(one_value && in_query))
                        || (in_query && matches!(c, b'&' | b'#' | b'\''))
                        || (after_semicolon && c == b';')
                        || c == b'`'
                        || c == b'"';
                    if ends {
                        break;
                    }
                    k += 1;
                }
                k
            }
        };
        let stop = stop.min(bytes.len());
        // already masked: leave it (and what follows it) alone
        let masked = text[start..].starts_with(MASK)
            && !bytes
                .get(start + MASK.len())
                .is_some_and(|c| !c.is_ascii_whitespace() && !b":,.;)&\"'`".contains(c));
        if masked {
            i = start + MASK.len();
            continue;
        }
        if stop > start {
            spans.push(start..stop);
        }
        i = stop.max(i);
    }
    spans
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The password of every `user:password@host` in `text`, with or without a
/// scheme and `//`. A URL token runs to white space or a backtick; its
/// userinfo ends at the token's last `@` (a password may hold `@`, `/`,
/// `?`, `#`), and the password starts after the first `:` of it.
fn userinfo_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if is_token_end(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !is_token_end(bytes[i]) {
            i += 1;
        }
        if let Some(span) = token_password(&text[start..i]) {
            spans.push(start + span.start..start + span.end);
        } else if let Some(from) = open_password(&text[start..i]) {
            // `scheme://user:pass word@host`: a password holding white
            // space runs on to the next `@` of the line
            let line_end = text[i..].find('\n').map_or(text.len(), |n| i + n);
            if let Some(at) = text[i..line_end].find('@') {
                spans.push(start + from..i + at);
                i += at;
            }
        }
    }
    spans
}

/// In a token `scheme://user:pa` with no `@`: where its password starts.
fn open_password(token: &str) -> Option<usize> {
    if token.contains('@') {
        return None;
    }
    let slashes = token.find("://")? + 3;
    let userinfo = &token[slashes..];
    if userinfo.contains('/') {
        return None;
    }
    userinfo.find(':').map(|c| slashes + c + 1)
}

fn is_token_end(b: u8) -> bool {
    b.is_ascii_whitespace() || b == b'`'
}

/// The password's range inside one URL-like token.
fn token_password(token: &str) -> Option<std::ops::Range<usize>> {
    let at = token.rfind('@')?;
    let head = &token[..at];
    // where the userinfo starts: after the first `://`, else after the
    // scheme(s) (`jdbc:postgresql:`, `postgres:`), else after a quote,
    // `=` or `(` that opens the value, else the token's start
    let userinfo_start = match head.find("://") {
        Some(slashes) => slashes + 3,
        None => {
            let mut s = head
                .rfind(['\'', '"', '=', '(', '<', '['])
                .map_or(0, |p| p + 1);
            // the scheme chain may be followed by a user named like a
            // scheme (`postgres:postgres:pw@h`): stop where the rest still
            // holds the `user:password` colon
            while let Some(colon) = head[s..].find(':') {
                let word = &head[s..s + colon];
                let is_scheme = !word.is_empty()
                    && word.as_bytes()[0].is_ascii_alphabetic()
                    && word
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-'))
                    && is_scheme_name(word);
                if !is_scheme || !head[s + colon + 1..].contains(':') {
                    break;
                }
                s += colon + 1;
            }
            s
        }
    };
    let userinfo = head.get(userinfo_start..)?;
    let colon = userinfo.find(':')?;
    let from = userinfo_start + colon + 1;
    (at > from).then_some(from..at)
}

/// A URL scheme keel or a framework uses, with any `+driver` suffix.
fn is_scheme_name(word: &str) -> bool {
    let base = word.split('+').next().unwrap_or(word).to_ascii_lowercase();
    matches!(
        base.as_str(),
        "postgres"
            | "postgresql"
            | "pgsql"
            | "mysql"
            | "mariadb"
            | "mysqlx"
            | "sqlite"
            | "sqlite3"
            | "jdbc"
            | "file"
            | "redis"
            | "amqp"
            | "mongodb"
            | "http"
            | "https"
            | "tcp"
            | "unix"
    )
}

#[cfg(test)]
mod tests;
