//! All output goes through here: human text on stdout, diagnostics and
//! progress on stderr, or exactly one JSON document on stdout with
//! `--format json`. Errors render as `error:` / `caused by:` / `hint:`.
//!
//! This is the choke point for secrets: every line goes through
//! [`keel::secrets::scrub`] and every JSON document through
//! [`keel::secrets::scrub_json`] before it is written, so no password
//! reaches stdout or stderr whichever code path built the text.

use crate::cli::Format;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use keel::Error;
use keel::secrets::{scrub, scrub_json};
use serde_json::{Value, json};
use std::fmt::Display;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// The command already said which database it connected to (stderr): an
/// error after that need not say it again.
static DATABASE_SHOWN: AtomicBool = AtomicBool::new(false);

/// Records that the `database:` line was printed.
pub fn database_shown() {
    DATABASE_SHOWN.store(true, Ordering::Relaxed);
}

/// Writes `text` and a newline to stdout, passwords hidden.
pub fn out_line(text: impl Display) {
    let _ = writeln!(std::io::stdout(), "{}", scrub(&text.to_string()));
}

/// Writes `text` and a newline to stderr, passwords hidden.
pub fn err_line(text: impl Display) {
    let _ = writeln!(std::io::stderr(), "{}", scrub(&text.to_string()));
}

/// Writes one JSON document to stdout, every string scrubbed.
pub fn out_json(mut doc: Value) {
    scrub_json(&mut doc);
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    let _ = writeln!(std::io::stdout(), "{text}");
}

pub struct Printer {
    pub format: Format,
    pub quiet: bool,
}

impl Printer {
    pub fn is_json(&self) -> bool {
        self.format == Format::Json
    }

    /// A line of the human report (stdout).
    pub fn line(&self, text: impl Display) {
        if !self.is_json() && !self.quiet {
            out_line(text);
        }
    }

    /// A diagnostic (stderr), e.g. which database, waiting for a lock.
    pub fn note(&self, text: impl Display) {
        if !self.is_json() && !self.quiet {
            err_line(text);
        }
    }

    /// The JSON document, with `ok: true` and the command's fields.
    pub fn document(&self, command: &str, mut body: Value) {
        if !self.is_json() {
            return;
        }
        if let Value::Object(map) = &mut body {
            map.insert("ok".into(), Value::Bool(true));
            map.insert("command".into(), Value::String(command.into()));
        }
        out_json(body);
    }

    /// A progress bar on a terminal; hidden when piped, quiet or JSON.
    pub fn progress(&self, total: usize) -> ProgressBar {
        if self.is_json() || self.quiet || total < 2 {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
            bar.set_style(style);
        }
        bar
    }

    pub fn error(&self, command: &str, database: Option<&str>, error: &Error) {
        if self.is_json() {
            let mut e = json!({
                "kind": error.kind(),
                "message": error.to_string(),
                "hint": error.hint(),
            });
            match error {
                Error::InvalidMigrations { problems, .. } => e["problems"] = json!(problems),
                Error::Refused { problems, .. } => e["problems"] = json!(problems),
                Error::MigrationFailed(f) => e["failure"] = json!(f),
                // whether trying again in a moment may succeed (issue 12)
                Error::Connect { transient, .. } => e["transient"] = json!(transient),
                Error::LockTimeout {
                    holder,
                    waited_secs,
                } => {
                    e["holder"] = json!(holder);
                    e["waited_secs"] = json!(waited_secs);
                }
                _ => {}
            }
            let doc = json!({ "ok": false, "command": command, "database": database, "error": e });
            out_json(doc);
            return;
        }
        // rendered whole, then scrubbed and written at once
        let mut err: Vec<u8> = Vec::new();
        let _ = writeln!(err, "error: {error}");
        match error {
            Error::InvalidMigrations { problems, .. } => {
                for p in problems {
                    let _ = writeln!(err, "  {p}");
                }
            }
            Error::Refused { problems, .. } if problems.len() > 1 => {
                for p in problems {
                    let _ = writeln!(err, "  - {p}");
                }
            }
            Error::MigrationFailed(f) => {
                let _ = writeln!(
                    err,
                    "caused by: statement {} at {}:{}:",
                    f.statement_index, f.file, f.line
                );
                for line in f.statement.lines().take(12) {
                    let _ = writeln!(err, "    {line}");
                }
                if !f.applied_before.is_empty() {
                    let done: Vec<String> = f.applied_before.iter().map(i64::to_string).collect();
                    let verb = match f.direction {
                        keel::runner::Direction::Up => "applied",
                        keel::runner::Direction::Down => "reverted",
                    };
                    let _ = writeln!(
                        err,
                        "before it, this run {verb}: {} (those stay {verb})",
                        done.join(", ")
                    );
                }
            }
            _ => {}
        }
        if let Some(db) = database.filter(|_| !DATABASE_SHOWN.load(Ordering::Relaxed)) {
            let _ = writeln!(err, "database: {db}");
        }
        if let Some(hint) = error.hint() {
            let _ = writeln!(err, "hint: {hint}");
        }
        let text = String::from_utf8_lossy(&err);
        let _ = std::io::stderr().write_all(scrub(&text).as_bytes());
    }
}
