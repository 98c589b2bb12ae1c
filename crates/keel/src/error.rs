//! keel's error type: every variant carries what the user needs to act —
//! the file, version, statement, SQLSTATE or lock holder — and maps to a
//! stable [`ErrorKind`] for JSON output and exit codes.

use serde::Serialize;

/// A problem with one migration file, found before anything runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceProblem {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
}

impl SourceProblem {
    pub fn new(file: &str, line: Option<usize>, message: String) -> SourceProblem {
        SourceProblem {
            file: file.to_string(),
            line,
            message,
        }
    }
}

impl std::fmt::Display for SourceProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// A database error, with the SQLSTATE where the driver gives one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DbError {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sqlstate: Option<String>,
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // a driver's text may quote the URL or the password
        let message = crate::secrets::scrub(&self.message);
        match &self.sqlstate {
            Some(code) => write!(f, "{message} (SQLSTATE {code})"),
            None => f.write_str(&message),
        }
    }
}

/// Where a migration failed.
#[derive(Clone, Debug, Serialize)]
pub struct MigrationFailure {
    pub version: i64,
    pub name: String,
    pub file: String,
    /// Applying (`up`) or reverting (`down`).
    pub direction: crate::runner::Direction,
    /// 1-based index of the failing statement.
    pub statement_index: usize,
    pub statement: String,
    /// 1-based line of the failing statement in the file.
    pub line: usize,
    pub error: DbError,
    /// Statements that stayed applied (0 when the transaction rolled back).
    pub statements_applied: usize,
    pub statements_total: usize,
    /// Whether the migration ran in a transaction that was rolled back.
    pub rolled_back: bool,
    /// Versions applied by this run before the failure.
    pub applied_before: Vec<i64>,
}

/// Stable error categories: the `kind` of a JSON error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    InvalidInput,
    Connection,
    LockTimeout,
    MigrationFailed,
    Refused,
    Database,
    Io,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{message}")]
    InvalidInput {
        message: String,
        hint: Option<String>,
    },

    #[error("{} invalid migration file(s) in {origin}", problems.len())]
    InvalidMigrations {
        origin: String,
        problems: Vec<SourceProblem>,
    },

    /// No connection: `transient` when trying again later may succeed
    /// (see [`Error::is_transient`]). Both texts are scrubbed when shown: a
    /// driver's text may quote the URL.
    #[error(
        "cannot connect to {}: {}",
        crate::secrets::scrub(url),
        crate::secrets::scrub(message)
    )]
    Connect {
        url: String,
        message: String,
        transient: bool,
    },

    #[error("gave up after {waited_secs:.1} s waiting for the migration lock, held by {holder}")]
    LockTimeout { waited_secs: f64, holder: String },

    #[error(
        "migration {} ({}) failed at statement {} of {} (line {}): {}",
        .0.version, .0.file, .0.statement_index, .0.statements_total, .0.line, .0.error
    )]
    MigrationFailed(Box<MigrationFailure>),

    #[error("refusing to {action}: {}", problems.join("; "))]
    Refused {
        action: String,
        problems: Vec<String>,
        hint: String,
    },

    #[error("{context}: {error}")]
    Database { context: String, error: DbError },

    /// A value keel read is not of the type it expects.
    #[error("table {table}, column {column}: found {found} where keel expects {expected}")]
    Decode {
        table: String,
        column: String,
        found: String,
        expected: String,
        hint: Option<String>,
    },

    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput { .. } | Error::InvalidMigrations { .. } => ErrorKind::InvalidInput,
            Error::Connect { .. } => ErrorKind::Connection,
            Error::LockTimeout { .. } => ErrorKind::LockTimeout,
            Error::MigrationFailed(_) => ErrorKind::MigrationFailed,
            Error::Refused { .. } => ErrorKind::Refused,
            Error::Database { .. } | Error::Decode { .. } => ErrorKind::Database,
            Error::Io { .. } => ErrorKind::Io,
        }
    }

    /// Whether the same call may succeed if tried again in a moment: the
    /// server is not up yet (connection refused, its host name not
    /// resolvable yet, PostgreSQL's `57P03` while it starts, too many
    /// connections, a handshake that timed out, MySQL 1040/2002/2003/2013).
    /// Never for a bad URL, a refused login or certificate, a missing
    /// database, a lock timeout or a failed migration: those stay wrong.
    /// [`crate::Migrate`] retries exactly these.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Connect {
                transient: true,
                ..
            }
        )
    }

    /// What to do next, where keel knows.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::InvalidInput { hint, .. } => hint.clone(),
            Error::InvalidMigrations { .. } => {
                Some("fix the files listed above; nothing was applied".to_string())
            }
            Error::Connect { message, .. } if is_tls(message) => Some(
                "fix the TLS parameters of the URL or the server's certificate (PostgreSQL: sslmode, sslrootcert, sslcert, sslkey; MySQL: ssl-mode, ssl-ca, ssl-cert, ssl-key); keel never falls back to plain text where the mode forbids it"
                    .to_string(),
            ),
            Error::Connect { message, .. } if is_auth(message) => Some(
                "check the user name and password the database URL gives; the server is up and refused the login"
                    .to_string(),
            ),
            Error::Connect {
                transient: true, ..
            } => Some(
                "check that the server is running and reachable at the URL's host and port (--database-url, DATABASE_URL, .env or keel.toml); it may still be starting"
                    .to_string(),
            ),
            Error::Connect { .. } => Some(
                "check the URL's user, password and database name (--database-url, DATABASE_URL, .env or keel.toml)"
                    .to_string(),
            ),
            Error::LockTimeout { .. } => Some(
                "another keel is migrating this database; wait for it, or raise --lock-timeout".to_string(),
            ),
            Error::MigrationFailed(f)
                if (f.rolled_back || f.statements_applied == 0)
                    && f.direction == crate::runner::Direction::Down =>
            {
                Some(format!(
                    "nothing of the revert was kept: migration {} is still applied; fix {} and run `keel down` again",
                    f.version, f.file
                ))
            }
            Error::MigrationFailed(f) if f.direction == crate::runner::Direction::Down => {
                Some(format!(
                    "{} of {} statements of {} took effect: migration {} is partly reverted (recorded); run `keel repair` to see the options",
                    f.statements_applied, f.statements_total, f.file, f.version
                ))
            }
            Error::MigrationFailed(f) if f.rolled_back => Some(format!(
                "nothing of migration {} was kept; fix {} and run `keel up` again (the failure is recorded: `keel repair` clears it)",
                f.version, f.file
            )),
            Error::MigrationFailed(f) => Some(format!(
                "{} of {} statements of migration {} stayed applied; run `keel repair` to see the options",
                f.statements_applied, f.statements_total, f.version
            )),
            Error::Refused { hint, .. } => Some(hint.clone()),
            Error::Decode { hint, .. } => hint.clone(),
            Error::Database { .. } | Error::Io { .. } => None,
        }
    }

    pub(crate) fn io(path: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Bad input without a hint.
    pub fn invalid_input(message: impl Into<String>) -> Error {
        Error::InvalidInput {
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>, hint: Option<&str>) -> Error {
        Error::InvalidInput {
            message: message.into(),
            hint: hint.map(str::to_string),
        }
    }

    pub(crate) fn db(context: impl Into<String>, error: DbError) -> Error {
        Error::Database {
            context: context.into(),
            error,
        }
    }
}

/// Whether the server refused the login (it is running, the URL reached it).
fn is_auth(message: &str) -> bool {
    [
        "password authentication failed",
        "(MySQL error 1045)",
        "(SQLSTATE 28P01)",
        "(SQLSTATE 28000)",
    ]
    .iter()
    .any(|w| message.contains(w))
}

/// Whether a connection error is about TLS (a refused certificate, a
/// server without TLS, a TLS parameter keel could not use).
fn is_tls(message: &str) -> bool {
    [
        "TLS",
        "certificate",
        "sslmode",
        "ssl-mode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "ssl-c",
        "ssl-key",
    ]
    .iter()
    .any(|w| message.contains(w))
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Database, DatabaseUrl};

    fn connect(url: &str) -> Error {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let url = DatabaseUrl::parse(url).unwrap();
        match rt.block_on(Database::connect(&url)) {
            Ok(_) => panic!("{url} should not connect"),
            Err(e) => e,
        }
    }

    /// A port nothing listens on (bound, then let go).
    fn closed_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port()
    }

    #[test]
    fn a_refused_port_is_transient_on_both_server_engines() {
        let port = closed_port();
        for url in [
            format!("postgres://app:pw@127.0.0.1:{port}/app"),
            format!("mysql://app:pw@127.0.0.1:{port}/app"),
        ] {
            let e = connect(&url);
            assert!(e.is_transient(), "{url}: {e}");
            assert_eq!(e.kind(), ErrorKind::Connection);
        }
    }

    #[test]
    fn a_missing_database_or_a_wrong_password_is_not_transient() {
        for (url, says) in [
            (
                "postgres://postgres@127.0.0.1:5432/keel_no_such_db",
                "3D000",
            ),
            ("mysql://root@127.0.0.1:3306/keel_no_such_db", "1049"),
            ("mysql://root:wrong@127.0.0.1:3306/mysql", "1045"),
        ] {
            let e = connect(url);
            assert!(!e.is_transient(), "{url}: {e}");
            assert!(e.to_string().contains(says), "{url}: {e}");
        }
        // and keel's own refusals never are
        // (refused while the URL is resolved, before any connection)
        let e = DatabaseUrl::parse("postgres://postgres@127.0.0.1:5432/postgres?sslmode=sometimes")
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert!(!e.is_transient());
        let lock = Error::LockTimeout {
            waited_secs: 1.0,
            holder: "another keel".into(),
        };
        assert!(!lock.is_transient());
    }
}
