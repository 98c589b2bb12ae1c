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

mod kinds;
use kinds::executable_comment;
pub use kinds::{
    CreatedObject, OpenTransaction, PsqlCommand, block_effect, copy_from_stdin, created_object,
    is_session_statement, locks_tables, outside_transaction_only, psql_command,
    transaction_control,
};

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
                    if self.dialect == Dialect::Postgres && !self.has_code && !self.goose_block =>
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

    /// A psql backslash command at the start of a statement (psql reads one
    /// anywhere outside quotes; it runs to the end of its line). `\restrict`/`\unrestrict` (which pg_dump
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
        // a `DELIMITER $$` ends a statement even right after a word
        // (`END$$`), although `$` may be part of a MySQL identifier
        // (only where `run` ends statements at it: not inside a goose block)
        let delimiter = match self.goose_block {
            true => None,
            false => self.delimiter.as_deref().map(str::as_bytes),
        };
        while self.pos < self.bytes.len()
            && is_ident_byte(self.peek(0))
            && !delimiter.is_some_and(|d| self.bytes[self.pos..].starts_with(d))
        {
            self.pos += 1;
        }
        if self.pos == begin {
            // the delimiter starts here: `run` ends the statement at it
            return;
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

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

#[cfg(test)]
mod fuzz_regressions;

#[cfg(test)]
mod tests;
