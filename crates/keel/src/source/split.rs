//! Splits a migration's SQL into statements, so keel can run them one at a
//! time and record exactly which statement failed and how far a
//! non-transactional migration got.
//!
//! The lexer knows each dialect's quoting: strings (`'…'`, PostgreSQL `E'…'`,
//! MySQL backslash escapes), quoted identifiers, PostgreSQL dollar quotes
//! (`$$…$$`, `$tag$…$tag$`), `--`, `#` (MySQL) and nested `/* */` comments
//! (PostgreSQL). Semicolons inside compound bodies stay inside their statement:
//! SQLite and MySQL trigger/routine bodies (`BEGIN … END`, with `CASE … END`,
//! and MySQL's `IF/LOOP/WHILE/REPEAT … END …`) and PostgreSQL `BEGIN ATOMIC`.

use crate::dialect::Dialect;

/// One statement of a migration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The statement's text without its terminating `;`, trimmed.
    pub text: String,
    /// 1-based line where the statement starts in the file.
    pub line: usize,
}

/// Splits `sql` into statements. Pieces holding only comments and whitespace
/// are dropped.
pub fn split(sql: &str, dialect: Dialect) -> Vec<Statement> {
    let mut s = Splitter::new(sql, dialect);
    s.run();
    s.out
}

/// Whether `sql` holds any statement at all (not only comments and blanks).
pub fn has_statement(sql: &str, dialect: Dialect) -> bool {
    let mut s = Splitter::new(sql, dialect);
    s.stop_at_code = true;
    s.run();
    s.has_code || !s.out.is_empty()
}

struct Splitter<'a> {
    src: &'a str,
    bytes: &'a [u8],
    dialect: Dialect,
    pos: usize,
    out: Vec<Statement>,
    // current statement
    start: usize,
    has_code: bool,
    /// Words seen in the current statement (counted up to 16).
    word_count: usize,
    starts_with_create: bool,
    names_routine: bool,
    stop_at_code: bool,
    depth: usize,
    after_end: bool,
    body_stmt_start: bool,
    /// Between `CREATE` and the kind of object it creates: a routine
    /// keyword here makes a compound statement; any other kind closes it.
    kind_open: bool,
    /// A PostgreSQL `CREATE RULE`: `DO ALSO (a; b)` keeps its semicolons.
    is_rule: bool,
    parens: usize,
    /// MySQL client `DELIMITER`: statements end at this instead of `;`.
    delimiter: Option<String>,
    /// Inside goose's `-- +goose StatementBegin … StatementEnd`.
    goose_block: bool,
    /// Finishing the statement a `StatementEnd` closes.
    goose_end: bool,
    /// Inside a MySQL executable comment (`/*!50003 … */`, MariaDB's
    /// `/*M!100100 … */`): its text is code, which the server runs.
    exec_comment: bool,
    /// A PostgreSQL `COPY`: 1 after `COPY`, 2 after its `FROM`, 3 after
    /// `FROM STDIN` (its data follows the statement, up to a `\.` line).
    copy: u8,
    /// Each `COPY … FROM STDIN` split: where its command ends, where its
    /// data starts and ends (the `\.` line, or the end of the file).
    copies: Vec<(usize, usize, usize)>,
    /// Line counting moves forward only: the line of `line_pos`.
    line_pos: usize,
    line: usize,
}

impl<'a> Splitter<'a> {
    fn new(src: &'a str, dialect: Dialect) -> Self {
        Splitter {
            src,
            bytes: src.as_bytes(),
            dialect,
            pos: 0,
            out: Vec::new(),
            start: 0,
            has_code: false,
            word_count: 0,
            starts_with_create: false,
            names_routine: false,
            stop_at_code: false,
            depth: 0,
            after_end: false,
            body_stmt_start: false,
            kind_open: false,
            is_rule: false,
            parens: 0,
            delimiter: None,
            goose_block: false,
            goose_end: false,
            exec_comment: false,
            copy: 0,
            copies: Vec::new(),
            line_pos: 0,
            line: 1,
        }
    }

    fn peek(&self, offset: usize) -> u8 {
        self.bytes.get(self.pos + offset).copied().unwrap_or(0)
    }

    fn run(&mut self) {
        while self.pos < self.bytes.len() {
            if self.stop_at_code && self.has_code {
                return;
            }
            if let Some(d) = &self.delimiter
                && !self.goose_block
                && self.bytes[self.pos..].starts_with(d.as_bytes())
            {
                let len = d.len();
                self.finish(self.pos);
                self.pos += len;
                self.start = self.pos;
                continue;
            }
            let c = self.peek(0);
            match c {
                b'-' if self.peek(1) == b'-' => self.line_comment(),
                b'#' if self.dialect == Dialect::Mysql => self.skip_line(),
                b'/' if self.peek(1) == b'*' => {
                    match executable_comment(self.bytes, self.pos, self.dialect) {
                        Some(len) => {
                            self.code();
                            self.pos += len;
                            self.exec_comment = true;
                        }
                        None => self.skip_block_comment(),
                    }
                }
                b'*' if self.exec_comment && self.peek(1) == b'/' => {
                    self.code();
                    self.pos += 2;
                    self.exec_comment = false;
                }
                b'\'' => {
                    let backslash = self.dialect == Dialect::Mysql || self.is_escape_string();
                    self.code();
                    self.skip_quoted(b'\'', backslash);
                }
                b'"' => {
                    self.code();
                    self.skip_quoted(b'"', self.dialect == Dialect::Mysql);
                }
                b'`' if self.dialect != Dialect::Postgres => {
                    self.code();
                    self.skip_quoted(b'`', false);
                }
                b'[' if self.dialect == Dialect::Sqlite => {
                    self.code();
                    self.skip_until(b']');
                }
                b'$' if self.dialect == Dialect::Postgres && self.dollar_tag().is_some() => {
                    self.code();
                    self.skip_dollar_quote();
                }
                b';' => {
                    if self.depth == 0
                        && self.parens == 0
                        && self.delimiter.is_none()
                        && !self.goose_block
                    {
                        if self.copy == 3 {
                            self.copy_data();
                        } else {
                            self.finish(self.pos);
                            self.pos += 1;
                        }
                        self.start = self.pos;
                    } else {
                        self.pos += 1;
                        self.body_stmt_start = true;
                    }
                }
                b'D' | b'd'
                    if self.dialect == Dialect::Mysql
                        && !self.has_code
                        && !self.goose_block
                        && self.at_line_start()
                        && self.delimiter_command() => {}
                b'\\'
                    if self.dialect == Dialect::Postgres
                        && !self.has_code
                        && !self.goose_block
                        && self.at_line_start() =>
                {
                    self.psql_command();
                }
                c if c.is_ascii_alphabetic() || c == b'_' => self.word(),
                // `\v` too: what `str::trim` removes is never a statement
                c if c.is_ascii_whitespace() || c == 0x0b => self.pos += 1,
                0x80.. => {
                    // a whole character: a Unicode space is a blank as well
                    let ch = self.src.get(self.pos..).and_then(|r| r.chars().next());
                    if !ch.is_some_and(char::is_whitespace) {
                        self.code();
                        self.body_stmt_start = false;
                    }
                    self.pos += ch.map_or(1, char::len_utf8);
                }
                b':' => {
                    // a MySQL label (`l1: LOOP`) starts a body statement
                    self.code();
                    self.pos += 1;
                    self.body_stmt_start = self.depth > 0;
                }
                b'(' => {
                    self.code();
                    if self.is_rule {
                        self.parens += 1;
                    }
                    self.body_stmt_start = false;
                    self.pos += 1;
                }
                b')' => {
                    self.code();
                    self.parens = self.parens.saturating_sub(1);
                    self.body_stmt_start = false;
                    self.pos += 1;
                }
                _ => {
                    self.code();
                    self.body_stmt_start = false;
                    self.pos += 1;
                }
            }
        }
        self.finish(self.bytes.len());
    }

    /// Whether `pos` starts a line (only blanks before it on its line).
    fn at_line_start(&self) -> bool {
        self.bytes[..self.pos]
            .iter()
            .rev()
            .take_while(|b| **b != b'\n')
            .all(|b| *b == b' ' || *b == b'\t' || *b == b'\r')
    }

    /// A `DELIMITER x` line of the `mysql` client: sets the delimiter
    /// (`DELIMITER ;` restores it) and is no statement itself.
    fn delimiter_command(&mut self) -> bool {
        let rest = &self.src[self.pos..];
        let line_end = rest.find('\n').unwrap_or(rest.len());
        let line = &rest[..line_end];
        let Some(head) = line.get(..9) else {
            return false;
        };
        if !head.eq_ignore_ascii_case("DELIMITER") || !line[9..].starts_with([' ', '\t']) {
            return false;
        }
        let d = line[9..].trim();
        if d.is_empty() {
            return false;
        }
        self.delimiter = (d != ";").then(|| d.to_string());
        self.pos += line_end;
        self.start = self.pos;
        true
    }

    /// A psql backslash command at the start of a statement (a line of its
    /// own, as psql reads it). `\restrict`/`\unrestrict` (which pg_dump
    /// writes around every dump) and `\set ON_ERROR_STOP` change nothing
    /// a server runs, and keel stops at the first error anyway: they are
    /// passed over like comments. Any other becomes a statement of its own,
    /// which [`psql_command`] names and keel refuses before anything runs.
    fn psql_command(&mut self) {
        let begin = self.pos;
        self.skip_line();
        let line = self.src[begin..self.pos].trim_end();
        if psql_command(line).is_some_and(|c| c.inert) {
            self.start = self.pos;
            return;
        }
        self.start = begin;
        self.has_code = true;
        self.finish(self.pos);
        self.start = self.pos;
    }

    /// The data of a `COPY … FROM STDIN;` (at its `;`): from the next line
    /// up to a line holding only `\.` (or the end of the file), as psql
    /// sends it. The data and the `\.` line belong to the statement.
    fn copy_data(&mut self) {
        let command_end = self.pos;
        self.pos += 1;
        self.skip_line();
        let data_start = (self.pos + 1).min(self.bytes.len());
        let mut line_start = data_start;
        let end = loop {
            if line_start >= self.bytes.len() {
                break self.bytes.len();
            }
            let line_end = self.src[line_start..]
                .find('\n')
                .map_or(self.bytes.len(), |n| line_start + n);
            if self.src[line_start..line_end].trim_end_matches('\r') == "\\." {
                break line_end;
            }
            line_start = line_end + 1;
        };
        self.copies
            .push((command_end, data_start, line_start.min(end)));
        self.finish(end);
        self.pos = end;
    }

    /// A `--` comment; goose's `-- +goose StatementBegin`/`StatementEnd`
    /// mark one statement that keeps its semicolons.
    fn line_comment(&mut self) {
        let begin = self.pos;
        self.skip_line();
        let text = self.src[begin + 2..self.pos].trim();
        let Some(goose) = text.strip_prefix("+goose") else {
            return;
        };
        match goose.trim() {
            g if g.eq_ignore_ascii_case("StatementBegin") => {
                // what came before is a statement of its own
                self.finish(begin);
                self.start = self.pos;
                self.goose_block = true;
            }
            g if g.eq_ignore_ascii_case("StatementEnd") && self.goose_block => {
                self.goose_block = false;
                self.goose_end = true;
                self.finish(begin);
                self.goose_end = false;
                self.start = self.pos;
            }
            _ => {}
        }
    }

    fn code(&mut self) {
        self.has_code = true;
        self.after_end = false;
    }

    fn finish(&mut self, end: usize) {
        if self.has_code {
            let raw = self.src.get(self.start..end).unwrap_or_default();
            let lead = raw.len() - raw.trim_start().len();
            let at = self.start + lead;
            // statements come in order: count only the newlines since the last one
            if at >= self.line_pos {
                self.line += self.bytes[self.line_pos..at]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count();
                self.line_pos = at;
            }
            let text = raw.trim();
            // a goose block or a DELIMITER statement may end in its own `;`
            let text = if self.delimiter.is_some() || self.goose_end {
                text.strip_suffix(';').map_or(text, str::trim_end)
            } else {
                text
            };
            self.out.push(Statement {
                text: text.to_string(),
                line: self.line,
            });
        }
        self.has_code = false;
        self.word_count = 0;
        self.starts_with_create = false;
        self.names_routine = false;
        self.depth = 0;
        self.after_end = false;
        self.body_stmt_start = false;
        self.kind_open = false;
        self.is_rule = false;
        self.parens = 0;
        self.copy = 0;
    }

    fn skip_line(&mut self) {
        while self.pos < self.bytes.len() && self.peek(0) != b'\n' {
            self.pos += 1;
        }
    }

    fn skip_block_comment(&mut self) {
        let nested = self.dialect == Dialect::Postgres;
        let mut level = 0usize;
        while self.pos < self.bytes.len() {
            if self.peek(0) == b'/' && self.peek(1) == b'*' {
                if level == 0 || nested {
                    level += 1;
                }
                self.pos += 2;
            } else if self.peek(0) == b'*' && self.peek(1) == b'/' {
                self.pos += 2;
                level = level.saturating_sub(1);
                if level == 0 {
                    return;
                }
            } else {
                self.pos += 1;
            }
        }
    }

    /// PostgreSQL `E'…'`: the quote follows a lone `E`/`e`.
    fn is_escape_string(&self) -> bool {
        if self.dialect != Dialect::Postgres || self.pos == 0 {
            return false;
        }
        let prev = self.bytes[self.pos - 1];
        if prev != b'e' && prev != b'E' {
            return false;
        }
        self.pos < 2 || !is_ident_byte(self.bytes[self.pos - 2])
    }

    fn skip_quoted(&mut self, quote: u8, backslash: bool) {
        self.pos += 1;
        while self.pos < self.bytes.len() {
            let c = self.peek(0);
            if backslash && c == b'\\' {
                self.pos += 2;
            } else if c == quote {
                if self.peek(1) == quote {
                    self.pos += 2;
                } else {
                    self.pos += 1;
                    return;
                }
            } else {
                self.pos += 1;
            }
        }
    }

    fn skip_until(&mut self, close: u8) {
        while self.pos < self.bytes.len() && self.peek(0) != close {
            self.pos += 1;
        }
        self.pos += 1;
    }

    /// The tag of a dollar quote starting at `pos` (`$$` → empty tag).
    fn dollar_tag(&self) -> Option<&'a str> {
        if self.pos > 0 && is_ident_byte(self.bytes[self.pos - 1]) {
            return None;
        }
        let mut end = self.pos + 1;
        while end < self.bytes.len() && self.bytes[end] != b'$' {
            let b = self.bytes[end];
            let ok = b.is_ascii_alphabetic()
                || b == b'_'
                || b >= 0x80
                || (end > self.pos + 1 && b.is_ascii_digit());
            if !ok {
                return None;
            }
            end += 1;
        }
        if end >= self.bytes.len() {
            return None;
        }
        Some(&self.src[self.pos..=end])
    }

    fn skip_dollar_quote(&mut self) {
        let Some(tag) = self.dollar_tag() else {
            return;
        };
        self.pos += tag.len();
        match self.src[self.pos..].find(tag) {
            Some(at) => self.pos += at + tag.len(),
            None => self.pos = self.bytes.len(),
        }
    }

    fn word(&mut self) {
        let begin = self.pos;
        while self.pos < self.bytes.len() && is_ident_byte(self.peek(0)) {
            self.pos += 1;
        }
        // Keywords are short: upper-case into a stack buffer, no allocation.
        let raw = &self.bytes[begin..self.pos];
        let mut buf = [0u8; 10];
        let word = if raw.len() <= buf.len() {
            buf[..raw.len()].copy_from_slice(raw);
            buf[..raw.len()].make_ascii_uppercase();
            std::str::from_utf8(&buf[..raw.len()]).unwrap_or("")
        } else {
            ""
        };
        if self.dialect == Dialect::Postgres {
            self.copy = match (self.copy, word) {
                (0, "COPY") if self.word_count == 0 => 1,
                (1 | 2, "FROM") => 2,
                (2, "STDIN") => 3,
                (2, _) => 1,
                (c, _) => c,
            };
        }
        self.has_code = true;
        let was_after_end = std::mem::replace(&mut self.after_end, false);
        let at_body_start = std::mem::replace(&mut self.body_stmt_start, false);
        if self.word_count < 16 {
            if self.word_count == 0 {
                self.starts_with_create = word == "CREATE";
                self.kind_open = self.starts_with_create;
            } else if self.kind_open {
                match word {
                    "TRIGGER" | "FUNCTION" | "PROCEDURE" | "EVENT" => {
                        self.names_routine = true;
                        self.kind_open = false;
                    }
                    "RULE" if self.dialect == Dialect::Postgres => {
                        self.is_rule = true;
                        self.kind_open = false;
                    }
                    "TABLE" | "VIEW" | "INDEX" | "UNIQUE" | "SEQUENCE" | "SCHEMA" | "DATABASE"
                    | "TYPE" | "DOMAIN" | "EXTENSION" | "ROLE" | "USER" | "POLICY"
                    | "MATERIALIZED" | "SERVER" | "TABLESPACE" | "COLLATION" | "CAST"
                    | "OPERATOR" | "PUBLICATION" | "STATISTICS" | "FOREIGN" | "VIRTUAL"
                    | "FULLTEXT" | "SPATIAL" | "UNLOGGED" | "GROUP" | "CONVERSION" => {
                        self.kind_open = false;
                    }
                    _ => {}
                }
            }
            self.word_count += 1;
        } else {
            self.kind_open = false;
        }
        if !self.in_compound_statement() {
            return;
        }
        match word {
            "END" if self.depth > 0 => {
                self.depth -= 1;
                self.after_end = true;
            }
            // `END IF`, `END LOOP`, … close what `END` closed
            "IF" | "LOOP" | "WHILE" | "REPEAT" | "CASE" if was_after_end => {}
            "CASE" => self.depth += 1,
            "BEGIN" => {
                let atomic = self.next_word_is("ATOMIC");
                if self.dialect != Dialect::Postgres || atomic {
                    self.depth += 1;
                    self.body_stmt_start = true;
                }
            }
            "IF" | "LOOP" | "WHILE" | "REPEAT"
                if self.dialect == Dialect::Mysql
                    && self.depth > 0
                    && (at_body_start || word != "IF") =>
            {
                // `IF(` in an expression is a function; `IF cond THEN` opens a block
                if word != "IF" || self.next_non_space() != b'(' || at_body_start {
                    self.depth += 1;
                }
                if word == "LOOP" || word == "REPEAT" {
                    self.body_stmt_start = true;
                }
            }
            "THEN" | "ELSE" | "DO" => self.body_stmt_start = true,
            _ => {}
        }
    }

    /// `CREATE [OR REPLACE] [TEMP] [DEFINER=…] TRIGGER|FUNCTION|PROCEDURE|EVENT …`
    fn in_compound_statement(&self) -> bool {
        self.starts_with_create && self.names_routine
    }

    fn next_non_space(&self) -> u8 {
        self.bytes[self.pos..]
            .iter()
            .copied()
            .find(|b| !b.is_ascii_whitespace())
            .unwrap_or(0)
    }

    fn next_word_is(&self, expected: &str) -> bool {
        let rest = self.src[self.pos..].trim_start();
        // compared as bytes: the text may go on with a multi-byte character
        rest.as_bytes()
            .get(..expected.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(expected.as_bytes()))
            && !rest
                .as_bytes()
                .get(expected.len())
                .copied()
                .is_some_and(is_ident_byte)
    }
}

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

/// A MySQL statement that commits the open transaction
/// (<https://dev.mysql.com/doc/refman/8.0/en/implicit-commit.html>).
fn implicit_commit(text: &str) -> bool {
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
/// `\`, as [`split`] gives it for PostgreSQL).
pub fn psql_command(text: &str) -> Option<PsqlCommand<'_>> {
    let rest = text.trim_start().strip_prefix('\\')?;
    let mut words = rest.split_ascii_whitespace();
    let name = words.next().unwrap_or_default();
    let inert = matches!(name, "restrict" | "unrestrict")
        || (name == "set" && words.next().is_some_and(|v| v == "ON_ERROR_STOP"));
    Some(PsqlCommand { name, inert })
}

/// A PostgreSQL `COPY … FROM STDIN` statement as [`split`] gives it (the
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
fn executable_comment(b: &[u8], i: usize, dialect: Dialect) -> Option<usize> {
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
pub(crate) fn leading_words(text: &str, dialect: Dialect, n: usize) -> Vec<String> {
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

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

#[cfg(test)]
mod fuzz_regressions;

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str, d: Dialect) -> Vec<String> {
        split(sql, d).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn splits_plain_statements_and_drops_comment_only_tail() {
        let sql = "-- header\nCREATE TABLE a (id int);\n\nINSERT INTO a VALUES (1);\n-- trailing\n";
        let st = split(sql, Dialect::Postgres);
        assert_eq!(st.len(), 2);
        assert_eq!(st[0].text, "-- header\nCREATE TABLE a (id int)");
        assert_eq!(
            st[1],
            Statement {
                text: "INSERT INTO a VALUES (1)".into(),
                line: 4
            }
        );
    }

    #[test]
    fn semicolons_in_strings_comments_and_identifiers_do_not_split() {
        let sql = "INSERT INTO \"we;ird\" VALUES ('a;b', 'it''s;'); /* x; y */ SELECT 1 -- ;\n;";
        assert_eq!(texts(sql, Dialect::Postgres).len(), 2);
        let my = "INSERT INTO `t;` VALUES ('a\\';b', \"c;d\"); # ;\nSELECT 2;";
        assert_eq!(texts(my, Dialect::Mysql).len(), 2);
    }

    #[test]
    fn postgres_dollar_quotes_and_escape_strings() {
        let sql = "CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN NEW.a := 1; RETURN NEW; END; $body$ LANGUAGE plpgsql;\n\
                   SELECT E'a\\';b', $$x;y$$, $1;";
        let st = texts(sql, Dialect::Postgres);
        assert_eq!(st.len(), 2, "{st:#?}");
        assert!(st[0].ends_with("LANGUAGE plpgsql"));
    }

    #[test]
    fn postgres_begin_atomic_body() {
        let sql = "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END; SELECT 2; END;\nSELECT 3;";
        assert_eq!(texts(sql, Dialect::Postgres).len(), 2);
    }

    #[test]
    fn sqlite_trigger_body_stays_whole() {
        let sql = "CREATE TRIGGER t AFTER DELETE ON a BEGIN\n  INSERT INTO log VALUES (CASE WHEN old.id > 0 THEN 1 END);\n  DELETE FROM b WHERE a_id = old.id;\nEND;\nCREATE TABLE c (id int);";
        let st = texts(sql, Dialect::Sqlite);
        assert_eq!(st.len(), 2, "{st:#?}");
        assert!(st[0].ends_with("END"));
    }

    #[test]
    fn mysql_routine_with_nested_blocks() {
        let sql = "CREATE PROCEDURE p() BEGIN\n DECLARE i INT DEFAULT 0;\n l1: LOOP\n  SET i = i + 1;\n  IF i > 3 THEN LEAVE l1; END IF;\n  SET @x = IF(i > 1, 1, 2);\n END LOOP l1;\n WHILE i > 0 DO SET i = i - 1; END WHILE;\nEND;\nSELECT 1;";
        let st = texts(sql, Dialect::Mysql);
        assert_eq!(st.len(), 2, "{st:#?}");
    }

    #[test]
    fn blocks_a_file_opens_and_ends() {
        let effects = |sql: &str, d: Dialect| -> Vec<Option<bool>> {
            split(sql, d)
                .iter()
                .map(|s| block_effect(&s.text, d))
                .collect()
        };
        let sql = "BEGIN; INSERT INTO t VALUES (1); SAVEPOINT s; ROLLBACK TO s; ROLLBACK; START TRANSACTION; COMMIT; end;";
        assert_eq!(
            effects(sql, Dialect::Postgres),
            [
                Some(true),
                None,
                None,
                None,
                Some(false),
                Some(true),
                Some(false),
                Some(false)
            ]
        );
        let my = "START TRANSACTION; CREATE TEMPORARY TABLE x (id int); CREATE TABLE y (id int); INSERT INTO y VALUES (1);";
        assert_eq!(
            effects(my, Dialect::Mysql),
            [Some(true), None, Some(false), None]
        );
    }

    #[test]
    fn transaction_control_is_found_only_at_the_top_level() {
        let control = |sql: &str, d: Dialect| -> Vec<&'static str> {
            split(sql, d)
                .iter()
                .filter_map(|s| transaction_control(&s.text, d))
                .collect()
        };
        let sql = "-- x\nBEGIN;\nCREATE TABLE a (id int);\n/* c */ COMMIT;\nSAVEPOINT s; ROLLBACK TO s; RELEASE s; END; start transaction;";
        assert_eq!(
            control(sql, Dialect::Postgres),
            [
                "BEGIN",
                "COMMIT",
                "SAVEPOINT",
                "ROLLBACK",
                "RELEASE",
                "END",
                "START TRANSACTION"
            ]
        );
        let pg = "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql;\n\
                  DO $$ BEGIN PERFORM 1; END $$;\nCREATE TABLE calendar (id INT, event TEXT, begin TEXT);\n\
                  CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;";
        assert!(control(pg, Dialect::Postgres).is_empty());
        let lite = "CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b; END;\n\
                    CREATE TABLE calendar (id INT, event TEXT, begin TEXT);";
        assert!(control(lite, Dialect::Sqlite).is_empty());
        assert!(control("BEGIN NOT ATOMIC SELECT 1; END;", Dialect::Mysql).is_empty());
        assert_eq!(
            control("BEGIN WORK; COMMIT WORK;", Dialect::Mysql),
            ["BEGIN", "COMMIT"]
        );
    }

    #[test]
    fn session_statements_are_recognised() {
        let pg = Dialect::Postgres;
        assert!(is_session_statement("SET search_path TO app", pg));
        assert!(is_session_statement(
            "SELECT pg_catalog.set_config('search_path', '', false)",
            pg
        ));
        assert!(is_session_statement(
            "-- x\nSELECT set_config('a.b', '1', false)",
            pg
        ));
        assert!(!is_session_statement(
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            pg
        ));
        assert!(!is_session_statement("SELECT 1", pg));
        assert!(is_session_statement("USE other", Dialect::Mysql));
        assert!(is_session_statement("SET NAMES utf8mb4", Dialect::Mysql));
        assert!(!is_session_statement("UPDATE t SET a = 1", Dialect::Mysql));
    }

    #[test]
    fn created_objects_are_named() {
        let o = created_object(
            "-- c\nCREATE TABLE IF NOT EXISTS \"my \"\"t\"\"\" (id int)",
            Dialect::Postgres,
        );
        assert_eq!(
            o,
            Some(CreatedObject {
                index: false,
                schema: None,
                name: "my \"t\"".into()
            })
        );
        let o = created_object(
            "CREATE UNIQUE INDEX CONCURRENTLY i_a ON s.t (a)",
            Dialect::Postgres,
        );
        assert_eq!(
            o,
            Some(CreatedObject {
                index: true,
                schema: None,
                name: "i_a".into()
            })
        );
        let o = created_object(
            "create table `db`.`slow` AS SELECT SLEEP(2)",
            Dialect::Mysql,
        );
        assert_eq!(
            o,
            Some(CreatedObject {
                index: false,
                schema: Some("db".into()),
                name: "slow".into()
            })
        );
        assert_eq!(
            created_object("CREATE VIEW v AS SELECT 1", Dialect::Sqlite),
            None
        );
        assert_eq!(
            created_object("INSERT INTO t VALUES (1)", Dialect::Sqlite),
            None
        );
    }

    #[test]
    fn event_begin_and_trigger_are_identifiers_in_a_table() {
        let sql = "CREATE TABLE calendar (id INT PRIMARY KEY, event VARCHAR(20), begin DATETIME);\n\
                   CREATE TABLE trigger (id INT);\nINSERT INTO calendar VALUES (1, 'a', NULL);\nSELECT 1;";
        for d in [Dialect::Mysql, Dialect::Sqlite, Dialect::Postgres] {
            assert_eq!(texts(sql, d).len(), 4, "{d:?}: {:#?}", texts(sql, d));
        }
        // mysqldump's DEFINER forms still open a routine body
        let my = "CREATE DEFINER=`root`@`localhost` PROCEDURE p() BEGIN SELECT 1; SELECT 2; END;\n\
                  CREATE DEFINER = CURRENT_USER() EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; DELETE FROM u; END;\nSELECT 3;";
        assert_eq!(
            texts(my, Dialect::Mysql).len(),
            3,
            "{:#?}",
            texts(my, Dialect::Mysql)
        );
    }

    #[test]
    fn postgres_rules_nested_comments_and_e_strings() {
        let sql = "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO log VALUES (1); INSERT INTO log VALUES (2));\n\
                   /* outer /* inner; */ still comment; */ SELECT E'it\\'s; fine';\nSELECT $tag$ a; $$ b; $tag$;";
        let st = texts(sql, Dialect::Postgres);
        assert_eq!(st.len(), 3, "{st:#?}");
        assert!(st[0].ends_with("VALUES (2))"));
    }

    #[test]
    fn mysql_delimiter_blocks_as_the_mysql_client_reads_them() {
        let sql = "CREATE TABLE a (id INT);\nDELIMITER //\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND //\n\
                   CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET NEW.id = 1//\nDELIMITER ;\nSELECT 3;\n";
        let st = split(sql, Dialect::Mysql);
        let t: Vec<&str> = st.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(t.len(), 4, "{t:#?}");
        assert!(
            t[1].starts_with("CREATE PROCEDURE p()") && t[1].ends_with("END"),
            "{t:#?}"
        );
        assert_eq!(st[1].line, 3);
        assert_eq!(
            t[2],
            "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET NEW.id = 1"
        );
        assert_eq!((t[3], st[3].line), ("SELECT 3", 10));
    }

    #[test]
    fn statements_that_cannot_run_in_a_transaction() {
        let pg = |t| outside_transaction_only(t, Dialect::Postgres);
        assert_eq!(
            pg("-- why\ncreate unique index concurrently i on t (a)"),
            Some("CREATE INDEX CONCURRENTLY")
        );
        assert_eq!(
            pg("REINDEX (VERBOSE, CONCURRENTLY) TABLE t"),
            Some("REINDEX CONCURRENTLY")
        );
        assert_eq!(pg("VACUUM ANALYZE t"), Some("VACUUM"));
        assert_eq!(pg("CREATE INDEX i ON t (a)"), None);
        assert_eq!(pg("REINDEX TABLE t"), None);
        assert_eq!(pg("SELECT 'VACUUM'"), None);
        assert_eq!(
            outside_transaction_only("VACUUM", Dialect::Sqlite),
            Some("VACUUM")
        );
        assert_eq!(outside_transaction_only("VACUUM", Dialect::Mysql), None);
    }

    #[test]
    fn psql_commands_and_copy_blocks_as_psql_reads_them() {
        let sql = "--\n-- PostgreSQL database dump\n--\n\n\\restrict AbC123\n\nSET x = 1;\n\
                   COPY app.t (id, note) FROM stdin;\n1\ta;b\n2\t\\N\n3\t\\\\.\n\\.\n\
                   SELECT 2;\n\\connect other\nCOPY u FROM STDIN WITH (DELIMITER ';');\n4;x\n\\.\n\
                   \\unrestrict AbC123\n";
        let got = split(sql, Dialect::Postgres);
        let texts: Vec<&str> = got.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts.len(), 5, "{texts:#?}");
        assert!(texts[0].ends_with("SET x = 1") && !texts[0].contains("restrict"));
        assert!(texts[1].starts_with("COPY app.t") && texts[1].ends_with("\\."));
        assert_eq!(got[1].line, 8);
        assert_eq!(texts[2], "SELECT 2");
        assert_eq!(texts[3], "\\connect other");
        assert_eq!(got[3].line, 14);
        let (command, data) = copy_from_stdin(texts[1]).expect("a COPY");
        assert_eq!(command, "COPY app.t (id, note) FROM stdin");
        // a row holding `\\.` (an escaped backslash) is data, not the end
        assert_eq!(data, "1\ta;b\n2\t\\N\n3\t\\\\.\n");
        let (command, data) = copy_from_stdin(texts[4]).expect("a COPY");
        assert_eq!(command, "COPY u FROM STDIN WITH (DELIMITER ';')");
        assert_eq!(data, "4;x\n");
        assert_eq!(
            psql_command(texts[3]).map(|c| (c.name, c.inert)),
            Some(("connect", false))
        );
        assert!(psql_command("\\restrict k").is_some_and(|c| c.inert));
        assert!(psql_command("\\set ON_ERROR_STOP on").is_some_and(|c| c.inert));
        assert!(psql_command("\\set x 1").is_some_and(|c| !c.inert));
        assert_eq!(copy_from_stdin("COPY t TO STDOUT"), None);
        // data to the end of the file when `\\.` is missing
        let open = split("COPY t FROM stdin;\n1\n2", Dialect::Postgres);
        assert_eq!(open.len(), 1);
        assert_eq!(
            copy_from_stdin(&open[0].text)
                .map(|(_, d)| d.into_owned())
                .as_deref(),
            Some("1\n2\n")
        );
        // elsewhere a backslash is no psql command and COPY has no data
        assert_eq!(split("SELECT 1;\n\\x\n", Dialect::Mysql).len(), 2);
        assert_eq!(
            split("COPY t FROM stdin;\nSELECT 1;", Dialect::Sqlite).len(),
            2
        );
    }

    #[test]
    fn mysql_executable_comments_are_code() {
        let sql = "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n\
                   /* a comment; only */\n\
                   /*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;\n\
                   CREATE TABLE t (id INT);\n\
                   DELIMITER ;;\n\
                   /*!50003 CREATE*/ /*!50017 DEFINER=`root`@`%`*/ /*!50003 TRIGGER trg BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.id = 1; END */;;\n\
                   DELIMITER ;\n";
        let got = split(sql, Dialect::Mysql);
        assert_eq!(got.len(), 4, "{got:#?}");
        assert!(got[0].text.starts_with("/*!40101 SET"));
        assert_eq!(got[1].line, 2); // with the comment before it
        assert!(got[3].text.ends_with("END */"));
        assert!(is_session_statement(&got[0].text, Dialect::Mysql));
        assert!(is_session_statement(&got[1].text, Dialect::Mysql));
        assert!(implicit_commit("/*!40000 ALTER TABLE `t` DISABLE KEYS */"));
        // elsewhere `/*!` is an ordinary comment
        assert!(split("/*! not code */;", Dialect::Postgres).is_empty());
        assert!(split("/*! not code */;", Dialect::Sqlite).is_empty());
    }

    #[test]
    fn goose_statement_blocks_keep_their_semicolons() {
        let sql = "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS 'SELECT 1; SELECT 2' LANGUAGE sql;\nDO 'x; y';\n-- +goose StatementEnd\nSELECT 1;";
        let t = texts(sql, Dialect::Postgres);
        assert_eq!(t.len(), 3, "{t:#?}");
        assert!(
            t[1].starts_with("CREATE FUNCTION") && t[1].ends_with("DO 'x; y'"),
            "{t:#?}"
        );
    }

    #[test]
    fn splits_forty_thousand_statements_with_their_lines() {
        let sql: String = (0..40_000)
            .map(|i| format!("INSERT INTO t (id, name) VALUES ({i}, 'name; {i}');\n"))
            .collect();
        for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            let st = split(&sql, d);
            assert_eq!(st.len(), 40_000);
            assert_eq!(st[39_999].line, 40_000);
        }
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// A statement with no `;` outside quotes and comments, made of
        /// the pieces that fool splitters.
        fn statement() -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                "[a-z_][a-z0-9_]{0,8}",
                "[0-9]{1,4}",
                Just("'a;b'".to_string()),
                Just("'it''s; x'".to_string()),
                Just("\"we;ird\"".to_string()),
                Just("/* c; */".to_string()),
                Just("-- c;\n".to_string()),
                Just("(1, 2)".to_string()),
                Just("event".to_string()),
                Just("begin".to_string()),
                Just("end".to_string()),
                Just("trigger".to_string()),
            ];
            (
                prop_oneof![
                    Just("SELECT"),
                    Just("INSERT INTO t VALUES"),
                    Just("CREATE TABLE x")
                ],
                proptest::collection::vec(piece, 0..8),
            )
                .prop_map(|(head, pieces)| format!("{head} {}", pieces.join(" ")))
        }

        proptest! {
            #[test]
            fn joined_statements_split_back(statements in proptest::collection::vec(statement(), 1..12)) {
                for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
                    let sql = statements.join(";\n");
                    let got: Vec<String> = split(&sql, d).into_iter().map(|s| s.text).collect();
                    let want: Vec<String> = statements.iter().map(|s| s.trim().to_string()).collect();
                    prop_assert_eq!(got, want, "{:?}", d);
                }
            }

            #[test]
            fn postgres_dollar_bodies_split_back(bodies in proptest::collection::vec("[a-z; ]{0,20}", 1..8)) {
                let statements: Vec<String> = bodies
                    .iter()
                    .enumerate()
                    .map(|(i, b)| format!("DO $t{i}$ {b} $t{i}$"))
                    .collect();
                let sql = statements.join(";\n");
                let got: Vec<String> = split(&sql, Dialect::Postgres).into_iter().map(|s| s.text).collect();
                prop_assert_eq!(got, statements);
            }
        }
    }

    #[test]
    fn begin_transaction_outside_compound_statements_is_a_statement() {
        assert_eq!(texts("BEGIN; SELECT 1; COMMIT;", Dialect::Sqlite).len(), 3);
    }
}
