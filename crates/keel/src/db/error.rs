//! The one mapping from a driver's error to keel's [`DbError`]: the
//! database's own message (with PostgreSQL's detail and hint) and its
//! SQLSTATE, or the SQLite result code, or MySQL's error number.

use crate::error::{DbError, Error};

/// A driver error keel can report.
pub(crate) trait AsDbError {
    fn db_error(&self) -> DbError;
}

impl AsDbError for rusqlite::Error {
    fn db_error(&self) -> DbError {
        let sqlstate = match self {
            rusqlite::Error::SqliteFailure(f, _) => {
                Some(format!("SQLITE_{:?}", f.code).to_uppercase())
            }
            _ => None,
        };
        DbError {
            message: self.to_string(),
            sqlstate,
        }
    }
}

impl AsDbError for tokio_postgres::Error {
    fn db_error(&self) -> DbError {
        match self.as_db_error() {
            Some(d) => {
                let mut message = d.message().to_string();
                if let Some(detail) = d.detail() {
                    message.push_str(&format!(" (detail: {detail})"));
                }
                if let Some(hint) = d.hint() {
                    message.push_str(&format!(" (hint: {hint})"));
                }
                DbError {
                    message,
                    sqlstate: Some(d.code().code().to_string()),
                }
            }
            None => DbError {
                message: self.to_string(),
                sqlstate: None,
            },
        }
    }
}

impl AsDbError for mysql_async::Error {
    fn db_error(&self) -> DbError {
        match self {
            mysql_async::Error::Server(s) => DbError {
                message: format!("{} (MySQL error {})", s.message, s.code),
                sqlstate: Some(s.state.clone()),
            },
            other => DbError {
                message: other.to_string(),
                sqlstate: None,
            },
        }
    }
}

impl<T: AsDbError> AsDbError for &T {
    fn db_error(&self) -> DbError {
        (**self).db_error()
    }
}

/// A driver error, as keel reports it.
pub(crate) fn db_error(e: impl AsDbError) -> DbError {
    e.db_error()
}

/// A driver error while doing `context` ("reading the tracking table").
pub(crate) fn fail(context: impl Into<String>, e: impl AsDbError) -> Error {
    Error::db(context, e.db_error())
}

/// `.context("doing what")` on any driver result.
pub(crate) trait Context<T> {
    fn context(self, what: impl Into<String>) -> Result<T, Error>;
}

impl<T, E: AsDbError> Context<T> for Result<T, E> {
    fn context(self, what: impl Into<String>) -> Result<T, Error> {
        self.map_err(|e| fail(what, e))
    }
}
