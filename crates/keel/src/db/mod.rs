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
mod tls;
pub(crate) mod transient;

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
    /// Create a missing SQLite file. Set for every command that may write
    /// (up, down, stamp, repair, sequences --fix, copy's target, adopt), so
    /// it also means: refuse a PostgreSQL server in recovery.
    pub create_missing: bool,
    /// The limit for reaching a server and completing its handshake, over
    /// the URL's `connect_timeout` and [`CONNECT_TIMEOUT`].
    pub connect_timeout: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            busy_timeout: crate::settings::DEFAULT_LOCK_TIMEOUT,
            create_missing: true,
            connect_timeout: None,
        }
    }
}

/// A connection whose handshake did not finish in time.
fn handshake_timeout(url: &DatabaseUrl, limit: Duration) -> Error {
    Error::Connect {
        url: url.redacted(),
        message: format!(
            "the server accepted the connection but did not complete the handshake within {:.1} s (connect_timeout)",
            limit.as_secs_f64()
        ),
        transient: true,
    }
}

fn connect_error(url: &DatabaseUrl, message: impl Into<String>) -> Error {
    Error::Connect {
        url: url.redacted(),
        message: message.into(),
        transient: false,
    }
}

/// A TLS parameter or file keel cannot use: bad input, found before any
/// connection is tried (`sslmode=requir`, a missing `sslrootcert`).
fn tls_problem(url: &DatabaseUrl, problem: tls::Problem) -> Error {
    Error::InvalidInput {
        message: format!("{}: {}", url.redacted(), problem.0),
        hint: Some(
            "fix the TLS parameters of the URL (PostgreSQL: sslmode, sslrootcert, sslcert, sslkey; MySQL: ssl-mode, ssl-ca, ssl-cert, ssl-key)"
                .to_string(),
        ),
    }
}

impl Conn {
    /// Opens `url`: a SQLite file (created when missing), a PostgreSQL or a
    /// MySQL/MariaDB database.
    pub async fn open(url: &DatabaseUrl, options: Options) -> Result<Conn> {
        Ok(match url.engine() {
            Engine::Sqlite => Conn::Sqlite(sqlite(url, options)?),
            Engine::Postgres => {
                let client = postgres_within(url, options.connect_timeout).await?;
                if options.create_missing {
                    refuse_standby(&client, url).await?;
                }
                Conn::Postgres(client)
            }
            Engine::Mysql => Conn::Mysql(mysql(url, options.connect_timeout).await?),
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
    postgres_within(url, None).await
}

/// [`postgres`], with `connect_timeout` over the URL's.
async fn postgres_within(
    url: &DatabaseUrl,
    connect_timeout: Option<Duration>,
) -> Result<tokio_postgres::Client> {
    // `pgbouncer=true` / `keel_pooler=…` are keel's (backend::pooler), not the driver's
    let stripped = crate::backend::pooler::strip_url_params(url.expose());
    let (raw, tls) = tls::PgTls::split(&stripped).map_err(|p| tls_problem(url, p))?;
    let mode = tls.mode;
    let connector = tls.connector().map_err(|p| tls_problem(url, p))?;
    let mut config =
        tokio_postgres::Config::from_str(&raw).map_err(|e| connect_error(url, e.to_string()))?;
    // libpq never uses TLS on a Unix socket, whatever sslmode says
    if !config.get_hosts().is_empty()
        && config
            .get_hosts()
            .iter()
            .all(|h| matches!(h, tokio_postgres::config::Host::Unix(_)))
    {
        config.ssl_mode(tokio_postgres::config::SslMode::Disable);
    }
    if config.get_application_name().is_none() {
        config.application_name(format!(
            "keel {KEEL_VERSION} on {} pid {}",
            crate::backend::client_host(),
            std::process::id()
        ));
    }
    if let Some(limit) = connect_timeout {
        config.connect_timeout(limit);
    } else if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    // tokio-postgres bounds only the TCP connect: a server that accepts and
    // never answers would hang the handshake for good
    let limit = config
        .get_connect_timeout()
        .copied()
        .unwrap_or(CONNECT_TIMEOUT);
    let connecting = tokio::time::timeout(limit, config.connect(connector))
        .await
        .map_err(|_| handshake_timeout(url, limit))?;
    let (client, connection) = connecting.map_err(|e| {
        let db = error::db_error(&e);
        Error::Connect {
            url: url.redacted(),
            message: match db.sqlstate {
                Some(_) => db.to_string(),
                None => postgres_tls_message(&e, mode).unwrap_or_else(|| with_causes(&e)),
            },
            transient: transient::postgres(&e),
        }
    })?;
    tokio::spawn(connection);
    Ok(client)
}

/// [`postgres`] for a connection that writes: a standby is refused.
pub(crate) async fn postgres_primary(url: &DatabaseUrl) -> Result<tokio_postgres::Client> {
    let client = postgres(url).await?;
    refuse_standby(&client, url).await?;
    Ok(client)
}

/// keel never writes to a standby, whatever the URL says (a multi-host URL
/// without `target_session_attrs=read-write` may land on one; issue 12):
/// a server in recovery is refused (exit 2, `error.kind` `refused`), naming
/// the server reached.
async fn refuse_standby(client: &tokio_postgres::Client, url: &DatabaseUrl) -> Result<()> {
    use decode::{Origin, PgRow};
    // the unnamed statement: a transaction pooler may hand the next
    // statement another server connection, where a named one does not exist
    let rows = client
        .query_typed(
            "SELECT pg_is_in_recovery(), host(inet_server_addr()), inet_server_port()",
            &[],
        )
        .await
        .map_err(|e| error::fail("checking whether the server is a standby", &e))?;
    let origin = Origin::table("pg_is_in_recovery()");
    let Some(row) = rows.first() else {
        return Err(Error::invalid_input(
            "checking whether the server is a standby: the server returned no row",
        ));
    };
    let in_recovery: bool = row.col(0, origin)?;
    if !in_recovery {
        return Ok(());
    }
    let addr: Option<String> = row.col(1, origin)?;
    let port: Option<i32> = row.col(2, origin)?;
    let server = match (addr, port) {
        (Some(a), Some(p)) => format!("{a}:{p}"),
        _ => "the server (over a Unix socket)".to_string(),
    };
    Err(Error::Refused {
        action: format!("write to {server} ({})", url.redacted()),
        problems: vec![
            "it is a PostgreSQL standby in recovery (pg_is_in_recovery() is true); keel never writes to a standby".to_string(),
        ],
        hint: "connect to the primary, or list every host with target_session_attrs=read-write so the primary is chosen".to_string(),
    })
}

/// `e` and the errors under it: tokio-postgres says only "error
/// connecting to server", its source says why (connection refused).
fn with_causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        next = cause.source();
    }
    text
}

/// A failed TLS handshake or a server without TLS, in words that name the
/// `sslmode`.
fn postgres_tls_message(e: &tokio_postgres::Error, mode: tls::SslMode) -> Option<String> {
    use std::error::Error as _;
    let mode = mode.name();
    let mut next = e.source();
    while let Some(err) = next {
        if let Some(failure) = err.downcast_ref::<tls::Failure>() {
            return Some(format!(
                "TLS with sslmode={mode}: {}{}",
                failure.0,
                tls_advice(&failure.0, "sslmode=verify-ca")
            ));
        }
        // tokio-postgres says so in the source of "error performing TLS handshake"
        if err.to_string().contains("server does not support TLS") {
            return Some(format!(
                "the server does not support TLS, and sslmode={mode} does not allow a plain-text connection; enable TLS on the server, or use sslmode=prefer only where the network is trusted"
            ));
        }
        next = err.source();
    }
    None
}

fn tls_advice(message: &str, verify_ca: &str) -> String {
    if message.contains(tls::NO_SAN) {
        // verify-ca skips the name check, which is all such a certificate
        // fails; mysql_async checks names even for VERIFY_CA
        return match verify_ca {
            "" => String::new(),
            mode => format!("; or connect with {mode}, which checks the chain only and accepts it"),
        };
    }
    let advice = if message.contains("unknown issuer") {
        "; give the certificate authority that signed the server's certificate (sslrootcert / ssl-ca)"
    } else if message.contains("host name mismatch") {
        "; connect with a host name the certificate names, or use verify-ca / VERIFY_CA to check only the chain"
    } else {
        ""
    };
    advice.to_string()
}

/// Opens a MySQL/MariaDB connection (`mariadb://` is `mysql://`), with
/// TLS as `ssl-mode` says (default `PREFERRED`: TLS without verification,
/// plain text only when the server has no TLS).
async fn mysql(url: &DatabaseUrl, connect_timeout: Option<Duration>) -> Result<mysql_async::Conn> {
    let limit = connect_timeout.unwrap_or(CONNECT_TIMEOUT);
    let raw = url.expose();
    let raw = match raw.split_once("://") {
        Some((_, rest)) => format!("mysql://{rest}"),
        None => raw.to_string(),
    };
    let (raw, tls) = tls::MyTls::split(&raw).map_err(|p| tls_problem(url, p))?;
    let opts = mysql_async::Opts::from_url(&raw).map_err(|e| connect_error(url, e.to_string()))?;
    let ssl = tls.ssl_opts(None).map_err(|p| tls_problem(url, p))?;
    let first = mysql_connect(&opts, ssl, limit).await;
    let retried =
        match first {
            Ok(conn) => return Ok(conn),
            // PREFERRED: plain text, but only when the server has no TLS at all
            Err(mysql_async::Error::Driver(
                mysql_async::DriverError::NoClientSslFlagFromServer,
            )) if tls.mode == tls::MyMode::Preferred => mysql_connect(&opts, None, limit).await,
            // VERIFY_CA checks the chain, not the name: the chain passed (it is
            // checked first), so connect again checking a name the certificate
            // has — mysql_async cannot skip the name check by itself
            Err(e) if tls.chain_only() => match tls::find_rustls(&e).map(tls::presented_names) {
                Some(names) if !names.is_empty() => {
                    let name = names
                        .iter()
                        .find(|n| !n.contains('*'))
                        .cloned()
                        .unwrap_or_else(|| {
                            names
                                .first()
                                .map(|n| n.replace('*', "keel"))
                                .unwrap_or_default()
                        });
                    let ssl = tls.ssl_opts(Some(&name)).map_err(|p| tls_problem(url, p))?;
                    mysql_connect(&opts, ssl, limit).await
                }
                _ => Err(e),
            },
            Err(e) => Err(e),
        };
    retried.map_err(|e| Error::Connect {
        url: url.redacted(),
        message: mysql_message(&e, tls.mode),
        transient: transient::mysql(&e),
    })
}

async fn mysql_connect(
    opts: &mysql_async::Opts,
    ssl: Option<mysql_async::SslOpts>,
    limit: Duration,
) -> std::result::Result<mysql_async::Conn, mysql_async::Error> {
    let builder = mysql_async::OptsBuilder::from_opts(opts.clone());
    // mysql_async moves a local TCP connection to the server's Unix socket
    // when it can, which would leave the TLS session the mode asked for
    let builder = match ssl {
        Some(ssl) => builder.prefer_socket(false).ssl_opts(ssl),
        None => builder,
    };
    match tokio::time::timeout(limit, mysql_async::Conn::new(builder)).await {
        Ok(connected) => connected,
        // a server that accepts and never answers
        Err(_) => Err(mysql_async::Error::Io(mysql_async::IoError::Io(
            std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "the server did not complete the handshake within {:.1} s",
                    limit.as_secs_f64()
                ),
            ),
        ))),
    }
}

/// A MySQL connection error, with TLS failures in words naming the mode.
fn mysql_message(e: &mysql_async::Error, mode: tls::MyMode) -> String {
    let mode = mode.name();
    if let mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer) = e {
        return format!(
            "the server does not support TLS, and ssl-mode={mode} does not allow a plain-text connection; enable TLS on the server (ssl-ca, ssl-cert, ssl-key), or use ssl-mode=PREFERRED only where the network is trusted"
        );
    }
    match tls::find_rustls(e) {
        Some(r) => {
            let words = tls::describe(r);
            format!(
                "TLS with ssl-mode={mode}: {words}{}",
                tls_advice(&words, "")
            )
        }
        None => error::db_error(e).to_string(),
    }
}
