//! What a statement is, read from its first words past comments: the
//! transaction control, session settings, objects, psql commands and
//! statements that need care which keel looks for before and while it runs
//! a migration. [`super`] splits; this module classifies what it split.

use super::{Splitter, is_ident_byte};
use crate::dialect::Dialect;

/// The transaction-control command `text` starts with, if any: `BEGIN`,
/// `COMMIT`, `ROLLBACK`, `START TRANSACTION`, `SAVEPOINT`, `RELEASE`, `END`,
/// `ABORT`. Such a statement inside keel's own transaction would commit (or
/// roll back) part of a migration behind keel's back, so its records would
/// no longer be true. `BEGIN … END` bodies of triggers, routines and
/// PL/pgSQL are inside their `CREATE`/`DO` statement and never start one;
/// MariaDB's `BEGIN NOT ATOMIC … END` is a compound statement, not control.
pub fn transaction_control(text: &str, dialect: Dialect) -> Option<&'static str> {
    let mut words = leading_words(text, dialect, 2).into_iter();
    let first = words.next()?;
    let second = words.next().unwrap_or_default();
    Some(match first.as_str() {
        "BEGIN" if dialect == Dialect::Mysql && second == "NOT" => return None,
        "BEGIN" => "BEGIN",
        "COMMIT" => "COMMIT",
        "ROLLBACK" => "ROLLBACK",
        "START" if second == "TRANSACTION" => "START TRANSACTION",
        "SAVEPOINT" => "SAVEPOINT",
        "RELEASE" => "RELEASE",
        "END" if dialect != Dialect::Mysql => "END",
        "ABORT" if dialect == Dialect::Postgres => "ABORT",
        _ => return None,
    })
}

/// A statement the engine refuses inside a transaction block (PostgreSQL
/// SQLSTATE 25001: `CREATE INDEX CONCURRENTLY`, `VACUUM`, `CREATE
/// DATABASE`, …; SQLite's `VACUUM`): what it is, for the message that
/// refuses it in a file keel would run in its transaction.
pub fn outside_transaction_only(text: &str, dialect: Dialect) -> Option<&'static str> {
    let words = leading_words(text, dialect, 4);
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match dialect {
        Dialect::Postgres => Some(match w.as_slice() {
            ["CREATE", "INDEX", "CONCURRENTLY", ..]
            | ["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY", ..] => "CREATE INDEX CONCURRENTLY",
            ["DROP", "INDEX", "CONCURRENTLY", ..] => "DROP INDEX CONCURRENTLY",
            ["REINDEX", ..] if w.contains(&"CONCURRENTLY") || concurrently_in_options(text) => {
                "REINDEX CONCURRENTLY"
            }
            ["VACUUM", ..] => "VACUUM",
            ["CREATE", "DATABASE", ..] => "CREATE DATABASE",
            ["DROP", "DATABASE", ..] => "DROP DATABASE",
            ["CREATE", "TABLESPACE", ..] => "CREATE TABLESPACE",
            ["DROP", "TABLESPACE", ..] => "DROP TABLESPACE",
            ["ALTER", "SYSTEM", ..] => "ALTER SYSTEM",
            ["CREATE", "SUBSCRIPTION", ..] => "CREATE SUBSCRIPTION",
            ["DROP", "SUBSCRIPTION", ..] => "DROP SUBSCRIPTION",
            _ => return None,
        }),
        Dialect::Sqlite => matches!(w.as_slice(), ["VACUUM", ..]).then_some("VACUUM"),
        Dialect::Mysql => None,
    }
}

/// `REINDEX (CONCURRENTLY) …`, `REINDEX (VERBOSE, CONCURRENTLY) …`.
fn concurrently_in_options(text: &str) -> bool {
    let tokens = leading_tokens(text, Dialect::Postgres, 8);
    tokens
        .first()
        .is_some_and(|t| t.eq_ignore_ascii_case("REINDEX"))
        && tokens.get(1).is_some_and(|t| t == "(")
        && tokens
            .iter()
            .take_while(|t| *t != ")")
            .any(|t| t.eq_ignore_ascii_case("CONCURRENTLY"))
}

/// How a statement changes the transaction a file opened itself:
/// `Some(true)` opens one (`BEGIN`, `START TRANSACTION`), `Some(false)`
/// ends it (`COMMIT`, `ROLLBACK`, `END`, `ABORT`, but not `ROLLBACK TO
/// SAVEPOINT`), `None` neither.
///
/// On MySQL, DDL (and the other statements that cause an implicit commit)
/// ends it too: the server commits before and after them.
pub fn block_effect(text: &str, dialect: Dialect) -> Option<bool> {
    if dialect == Dialect::Mysql && implicit_commit(text) {
        return Some(false);
    }
    let command = transaction_control(text, dialect)?;
    match command {
        "BEGIN" | "START TRANSACTION" => Some(true),
        "ROLLBACK" => {
            let second = leading_words(text, dialect, 2).into_iter().nth(1);
            (second.as_deref() != Some("TO")).then_some(false)
        }
        "COMMIT" | "END" | "ABORT" => Some(false),
        _ => None,
    }
}

/// What a MySQL `SET` does to `autocommit`: `Some(false)` for
/// `SET autocommit = 0` (or `OFF`, `@@autocommit`, `SESSION autocommit`,
/// in a list of assignments, in an executable comment), `Some(true)` for
/// turning it back on, `None` when the statement does not set it.
fn autocommit_setting(text: &str, dialect: Dialect) -> Option<bool> {
    if dialect != Dialect::Mysql {
        return None;
    }
    let tokens = leading_tokens(text, dialect, 48);
    if !tokens.first()?.eq_ignore_ascii_case("SET") {
        return None;
    }
    let at = tokens
        .iter()
        .position(|t| t.eq_ignore_ascii_case("autocommit"))?;
    let mut rest = tokens[at + 1..].iter().map(String::as_str);
    let value = match (rest.next()?, rest.next()?) {
        ("=", v) => v,
        (":", "=") => rest.next()?,
        _ => return None,
    };
    match value.to_ascii_uppercase().as_str() {
        "0" | "OFF" | "FALSE" => Some(false),
        "1" | "ON" | "TRUE" => Some(true),
        _ => None,
    }
}

/// The transaction a file run statement by statement holds open, as the
/// server sees it: opened by `BEGIN`/`START TRANSACTION`, and on MySQL by
/// `SET autocommit = 0` and then by every statement that changes data until
/// a `COMMIT` (or DDL, which commits) closes it. keel's progress rows join
/// such a transaction, so when a statement inside it fails keel rolls it
/// back, and a file that leaves one open is refused before anything runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenTransaction {
    since: Option<usize>,
    autocommit_off: bool,
}

impl OpenTransaction {
    /// After statement `index` (`text`) has run.
    pub fn step(&mut self, index: usize, text: &str, dialect: Dialect) {
        match (
            block_effect(text, dialect),
            autocommit_setting(text, dialect),
        ) {
            (Some(true), _) => self.since = self.since.or(Some(index)),
            (Some(false), _) => self.since = None,
            (None, Some(false)) => {
                self.autocommit_off = true;
                self.since = self.since.or(Some(index));
            }
            // turning autocommit on commits
            (None, Some(true)) => {
                self.autocommit_off = false;
                self.since = None;
            }
            (None, None) => {
                if self.autocommit_off && !is_session_statement(text, dialect) {
                    self.since = self.since.or(Some(index));
                }
            }
        }
    }

    /// Where the open transaction began (0-based statement index), if one
    /// is open.
    pub fn since(&self) -> Option<usize> {
        self.since
    }

    /// Whether the session runs with autocommit off: then every write,
    /// keel's own too, waits for a commit.
    pub fn autocommit_off(&self) -> bool {
        self.autocommit_off
    }

    /// After the statements that ran before a retry: the session settings
    /// they made (replayed), and no transaction open.
    pub fn resumed(statements: &[super::Statement], dialect: Dialect) -> OpenTransaction {
        let mut state = OpenTransaction::default();
        for (i, s) in statements.iter().enumerate() {
            state.step(i, &s.text, dialect);
        }
        state.since = None;
        state
    }
}

/// A MySQL statement that commits the open transaction
/// (<https://dev.mysql.com/doc/refman/8.0/en/implicit-commit.html>).
pub(super) fn implicit_commit(text: &str) -> bool {
    let words = leading_words(text, Dialect::Mysql, 2);
    let first = words.first().map(String::as_str).unwrap_or_default();
    let second = words.get(1).map(String::as_str).unwrap_or_default();
    match first {
        "CREATE" | "DROP" => second != "TEMPORARY",
        "ALTER" | "RENAME" | "TRUNCATE" | "GRANT" | "REVOKE" | "LOCK" | "UNLOCK" | "ANALYZE"
        | "OPTIMIZE" | "REPAIR" | "FLUSH" | "INSTALL" | "UNINSTALL" => true,
        _ => false,
    }
}

/// A psql backslash command (`\connect db`, `\i file`, `\restrict key`):
/// its name, and whether keel passes it over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PsqlCommand<'t> {
    pub name: &'t str,
    /// Changes nothing the server runs (`\restrict`, `\unrestrict`,
    /// `\set ON_ERROR_STOP …`): passed over like a comment.
    pub inert: bool,
}

/// The psql command a statement is, if it is one (a line starting with
/// `\`, as [`super::split`] gives it for PostgreSQL).
pub fn psql_command(text: &str) -> Option<PsqlCommand<'_>> {
    let rest = text.trim_start().strip_prefix('\\')?;
    let mut words = rest.split_ascii_whitespace();
    let name = words.next().unwrap_or_default();
    let inert = matches!(name, "restrict" | "unrestrict")
        || (name == "set" && words.next().is_some_and(|v| v == "ON_ERROR_STOP"));
    Some(PsqlCommand { name, inert })
}

/// A PostgreSQL `COPY … FROM STDIN` statement as [`super::split`] gives it (the
/// data after the command, up to its `\.` line): the command, without its
/// `;`, and the data, each row ending in a line break.
pub fn copy_from_stdin(text: &str) -> Option<(&str, std::borrow::Cow<'_, str>)> {
    if leading_words(text, Dialect::Postgres, 1)
        .first()
        .map(String::as_str)
        != Some("COPY")
    {
        return None;
    }
    let mut s = Splitter::new(text, Dialect::Postgres);
    s.run();
    let &[(command_end, data_start, data_end)] = s.copies.as_slice() else {
        return None;
    };
    let command = text.get(..command_end)?.trim_end();
    let data = text.get(data_start..data_end.max(data_start))?;
    let data = if data.is_empty() || data.ends_with('\n') {
        std::borrow::Cow::Borrowed(data)
    } else {
        std::borrow::Cow::Owned(format!("{data}\n"))
    };
    Some((command, data))
}

/// A MySQL `LOCK TABLES` (or `LOCK TABLE`) statement: while its locks are
/// held the session may touch no other table, keel's tracking table
/// included (error 1100), so keel adds that table to the statement's list.
pub fn locks_tables(text: &str, dialect: Dialect) -> bool {
    dialect == Dialect::Mysql
        && matches!(
            leading_words(text, dialect, 2).as_slice(),
            [first, second] if first == "LOCK" && (second == "TABLES" || second == "TABLE")
        )
}

/// What a `CREATE TABLE` or `CREATE INDEX` statement creates: whether it
/// is an index, and the name as written (quotes removed, schema kept
/// apart). `None` for any other statement.
pub fn created_object(text: &str, dialect: Dialect) -> Option<CreatedObject> {
    let tokens = leading_tokens(text, dialect, 12);
    let mut t = tokens.iter().map(String::as_str).peekable();
    if !t.next()?.eq_ignore_ascii_case("CREATE") {
        return None;
    }
    let mut index = false;
    loop {
        let w = t.next()?.to_ascii_uppercase();
        match w.as_str() {
            "UNIQUE" | "OR" | "REPLACE" | "TEMP" | "TEMPORARY" | "UNLOGGED" | "GLOBAL"
            | "LOCAL" | "FULLTEXT" | "SPATIAL" => {}
            "TABLE" => break,
            "INDEX" => {
                index = true;
                break;
            }
            _ => return None,
        }
    }
    let mut name = t.next()?;
    if name.eq_ignore_ascii_case("CONCURRENTLY") {
        name = t.next()?;
    }
    if name.eq_ignore_ascii_case("IF") {
        t.next()?; // NOT
        t.next()?; // EXISTS
        name = t.next()?;
    }
    let mut parts = vec![unquote(name)];
    while t.peek() == Some(&".") {
        t.next();
        parts.push(unquote(t.next()?));
    }
    let name = parts.pop()?;
    Some(CreatedObject {
        index,
        schema: parts.pop(),
        name,
    })
}

/// The object a `CREATE TABLE`/`CREATE INDEX` statement makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedObject {
    pub index: bool,
    pub schema: Option<String>,
    pub name: String,
}

fn unquote(token: &str) -> String {
    let b = token.as_bytes();
    match (b.first(), b.last()) {
        (Some(&q @ (b'"' | b'`' | b'[')), Some(_)) if token.len() >= 2 => {
            // an unterminated quote keeps its last character, which may be
            // a multi-byte one
            let close = if q == b'[' { ']' } else { char::from(q) };
            let inner = &token[1..];
            let inner = inner.strip_suffix(close).unwrap_or(inner);
            let q = if q == b'[' {
                "]"
            } else if q == b'"' {
                "\""
            } else {
                "`"
            };
            inner.replace(&format!("{q}{q}"), q)
        }
        _ => token.to_string(),
    }
}

/// The first `n` tokens of `text` after leading comments: words (as
/// written), quoted identifiers (with their quotes) and single punctuation.
fn leading_tokens(text: &str, dialect: Dialect, n: usize) -> Vec<String> {
    let b = text.as_bytes();
    let mut i = skip_comments(b, 0, dialect);
    let mut out = Vec::new();
    while i < b.len() && out.len() < n {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i = skip_comments(b, i, dialect);
            continue;
        } else if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
            while i < b.len() && is_ident_byte(b[i]) {
                i += 1;
            }
        } else if c == b'"' || c == b'`' || c == b'[' {
            let close = if c == b'[' { b']' } else { c };
            i += 1;
            while i < b.len() {
                if b[i] == close {
                    if close != b']' && b.get(i + 1) == Some(&close) {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
        } else {
            i += 1;
        }
        out.push(text.get(start..i).unwrap_or_default().to_string());
    }
    out
}

/// The length of the opener of a MySQL executable comment at `i`
/// (`/*!`, `/*M!` and the version digits after it): the server runs what
/// such a comment holds, so it is code, not a comment (mysqldump writes
/// its session settings and `CREATE TRIGGER` this way).
pub(super) fn executable_comment(b: &[u8], i: usize, dialect: Dialect) -> Option<usize> {
    if dialect != Dialect::Mysql {
        return None;
    }
    let open = match b.get(i..i + 4)? {
        [b'/', b'*', b'!', _] => 3,
        [b'/', b'*', b'M', b'!'] => 4,
        _ => return None,
    };
    let digits = b[i + open..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    Some(open + digits)
}

/// The position after whitespace and comments from `i`; the opener of a
/// MySQL executable comment is passed over, its text is code.
fn skip_comments(b: &[u8], mut i: usize, dialect: Dialect) -> usize {
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied().unwrap_or(0);
        if c.is_ascii_whitespace() {
            i += 1;
        } else if let Some(len) = executable_comment(b, i, dialect) {
            i += len;
        } else if (c == b'-' && next == b'-') || (c == b'#' && dialect == Dialect::Mysql) {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && next == b'*' {
            let mut level = 0usize;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    if level == 0 || dialect == Dialect::Postgres {
                        level += 1;
                    }
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    i += 2;
                    level = level.saturating_sub(1);
                    if level == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else {
            break;
        }
    }
    i
}

/// Whether a statement only sets up the session (`SET …` other than
/// `SET TRANSACTION`, `USE db`, `SELECT set_config(…)`): what a retry
/// replays of the statements that already ran.
pub fn is_session_statement(text: &str, dialect: Dialect) -> bool {
    let tokens = leading_tokens(text, dialect, 5);
    let upper: Vec<String> = tokens.iter().map(|t| t.to_ascii_uppercase()).collect();
    let word = |i: usize| upper.get(i).map(String::as_str).unwrap_or_default();
    match word(0) {
        "SET" => match word(1) {
            "TRANSACTION" | "CONSTRAINTS" => false,
            "SESSION" => word(2) != "CHARACTERISTICS",
            _ => true,
        },
        "USE" => dialect == Dialect::Mysql,
        "SELECT" => {
            dialect == Dialect::Postgres
                && (word(1) == "SET_CONFIG"
                    || (word(1) == "PG_CATALOG" && word(2) == "." && word(3) == "SET_CONFIG"))
        }
        _ => false,
    }
}

/// The first `n` words of `text`, upper-cased, after leading comments
/// (stopping at the first token that is not a word).
fn leading_words(text: &str, dialect: Dialect, n: usize) -> Vec<String> {
    leading_tokens(text, dialect, n)
        .into_iter()
        .take_while(|t| {
            t.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        })
        .map(|t| t.to_ascii_uppercase())
        .collect()
}
