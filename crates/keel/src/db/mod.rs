//! The one database layer under every command: opening a connection (chosen
//! by the URL's scheme), worker connections for parallel work, scratch
//! databases, the mapping of driver errors ([`error`]) and fallible row
//! decoding ([`decode`]). Nothing outside this module opens a connection,
//! and no driver handle leaves the crate.
//!
//! Engine-specific work (catalog reads, COPY, the tracking table) borrows
//! the handle of an open [`Conn`]; the decisions stay in the modules that
//! own them.

mod database;
pub(crate) mod decode;
pub(crate) mod error;
#[doc(hidden)]
pub mod queries;
pub(crate) mod scratch;
pub mod sql;

use crate::error::{DbError, Error, Result};
use crate::settings::{DatabaseUrl, Engine};
use crate::tracking::KEEL_VERSION;
pub use database::{ConnectOptions, Database};
use error::Context;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// How long to wait for a server to accept and answer a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An open connection to one of the three engines.
pub(crate) enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(tokio_postgres::Client),
    Mysql(mysql_async::Conn),
}

/// How SQLite waits for another writer: its busy timeout.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Options {
    pub busy_timeout: Duration,
    /// Create a missing SQLite file.
    pub create_missing: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            busy_timeout: crate::settings::DEFAULT_LOCK_TIMEOUT,
            create_missing: true,
        }
    }
}

fn connect_error(url: &DatabaseUrl, message: impl Into<String>) -> Error {
    Error::Connect {
        url: url.redacted(),
        message: message.into(),
    }
}

impl Conn {
    /// Opens `url`: a SQLite file (created when missing), a PostgreSQL or a
    /// MySQL/MariaDB database.
    pub async fn open(url: &DatabaseUrl, options: Options) -> Result<Conn> {
        Ok(match url.engine() {
            Engine::Sqlite => Conn::Sqlite(sqlite(url, options)?),
            Engine::Postgres => Conn::Postgres(postgres(url).await?),
            Engine::Mysql => Conn::Mysql(mysql(url).await?),
        })
    }

    /// Runs `sql` (one or more statements) outside any transaction keel
    /// opened. The outer error is the connection's; the inner one the
    /// statement's, which callers report with the statement.
    pub async fn execute(&mut self, sql: &str) -> Result<Result<(), DbError>> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql).map_err(error::db_error)),
            Conn::Postgres(c) => match c.batch_execute(sql).await {
                Ok(()) => Ok(Ok(())),
                Err(e) if e.as_db_error().is_some() => Ok(Err(error::db_error(e))),
                Err(e) => Err(error::fail("running a statement", &e)),
            },
            Conn::Mysql(c) => {
                use mysql_async::prelude::Queryable;
                match c.query_drop(sql).await {
                    Ok(()) => Ok(Ok(())),
                    Err(e @ mysql_async::Error::Server(_)) => Ok(Err(error::db_error(e))),
                    Err(e) => Err(error::fail("running a statement", &e)),
                }
            }
        }
    }

    /// Closes the connection cleanly.
    pub async fn close(self) -> Result<()> {
        match self {
            Conn::Sqlite(c) => c
                .close()
                .map_err(|(_, e)| error::fail("closing the database", &e)),
            Conn::Postgres(c) => {
                drop(c);
                Ok(())
            }
            Conn::Mysql(c) => c.disconnect().await.context("disconnecting"),
        }
    }
}

/// Opens a SQLite database for keel's own work (created when missing).
fn sqlite(url: &DatabaseUrl, options: Options) -> Result<rusqlite::Connection> {
    let path = url.sqlite_path().unwrap_or(":memory:");
    if path != ":memory:" && !options.create_missing && !Path::new(path).exists() {
        return Err(Error::invalid(
            format!("no such database file {path}"),
            Some(
                "check the path in the URL (this command only reads, so it creates nothing); `keel up` creates the file",
            ),
        ));
    }
    let conn = if path == ":memory:" {
        rusqlite::Connection::open_in_memory()
    } else {
        rusqlite::Connection::open(path)
    }
    .map_err(|e| connect_error(url, e.to_string()))?;
    conn.busy_timeout(options.busy_timeout)
        .map_err(|e| connect_error(url, e.to_string()))?;
    Ok(conn)
}

/// Opens an existing SQLite file read-only: the source of a copy, which
/// keel must never change (nor create at a mistyped path).
pub(crate) fn sqlite_read_only(path: &Path) -> Result<rusqlite::Connection> {
    if !path.is_file() {
        return Err(Error::invalid(
            format!("SQLite file {} does not exist", path.display()),
            Some("give the path of the SQLite database to copy from, e.g. sqlite:app.db"),
        ));
    }
    rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::invalid_input(format!("reading SQLite database {}: {e}", path.display())))
}

/// Opens a PostgreSQL connection whose `application_name` says it is keel;
/// its connection task runs on the current runtime. Also the way to open
/// the worker connections of parallel work (copy lanes, a second sequences
/// reader): each is a connection of its own to the same URL.
pub(crate) async fn postgres(url: &DatabaseUrl) -> Result<tokio_postgres::Client> {
    let mut config = tokio_postgres::Config::from_str(url.expose())
        .map_err(|e| connect_error(url, e.to_string()))?;
    if config.get_application_name().is_none() {
        config.application_name(format!(
            "keel {KEEL_VERSION} on {} pid {}",
            crate::backend::client_host(),
            std::process::id()
        ));
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    let (client, connection) = config.connect(tokio_postgres::NoTls).await.map_err(|e| {
        let db = error::db_error(&e);
        connect_error(
            url,
            match db.sqlstate {
                Some(_) => db.to_string(),
                None => e.to_string(),
            },
        )
    })?;
    tokio::spawn(connection);
    Ok(client)
}

/// Opens a MySQL/MariaDB connection (`mariadb://` is `mysql://`).
async fn mysql(url: &DatabaseUrl) -> Result<mysql_async::Conn> {
    let raw = url.expose();
    let raw = match raw.split_once("://") {
        Some((_, rest)) => format!("mysql://{rest}"),
        None => raw.to_string(),
    };
    let opts = mysql_async::Opts::from_url(&raw).map_err(|e| connect_error(url, e.to_string()))?;
    mysql_async::Conn::new(opts)
        .await
        .map_err(|e| connect_error(url, error::db_error(e).to_string()))
}
