//! [`Database`]: an open connection to the database keel manages (a
//! [`Backend`] over a connection opened by [`super::Conn::open`]), with the
//! tracking-table name and lock timeout it was opened with.

use crate::backend::Backend;
use crate::dialect::Dialect;
use crate::error::Result;
use crate::settings::{DEFAULT_LOCK_TIMEOUT, DEFAULT_TABLE, DatabaseUrl, Settings};
use std::time::Duration;

/// How to open a [`Database`].
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// The tracking table, `keel_migrations` by default.
    pub table: String,
    /// How long to wait for another runner's lock.
    pub lock_timeout: Duration,
    /// Create a missing SQLite file (`false` for commands that only read:
    /// a mistyped path is then "no such database file", not a new file).
    pub create_missing: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            table: DEFAULT_TABLE.to_string(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            create_missing: true,
        }
    }
}

impl From<&Settings> for ConnectOptions {
    fn from(s: &Settings) -> Self {
        ConnectOptions {
            table: s.table.clone(),
            lock_timeout: s.lock_timeout,
            create_missing: true,
        }
    }
}

/// An open connection to one database.
pub struct Database {
    pub(crate) backend: Backend,
    pub(crate) url: DatabaseUrl,
    pub(crate) options: ConnectOptions,
}

impl Database {
    /// Connects to `url` with default options.
    pub async fn connect(url: &DatabaseUrl) -> Result<Database> {
        Database::connect_with(url, ConnectOptions::default()).await
    }

    pub async fn connect_with(url: &DatabaseUrl, options: ConnectOptions) -> Result<Database> {
        Database::connect_within(url, options, None).await
    }

    /// [`Database::connect_with`], reaching the server within
    /// `connect_timeout` (over the URL's) where one is given.
    pub(crate) async fn connect_within(
        url: &DatabaseUrl,
        options: ConnectOptions,
        connect_timeout: Option<Duration>,
    ) -> Result<Database> {
        let backend = Backend::connect(
            url,
            &options.table,
            crate::db::Options {
                busy_timeout: options.lock_timeout,
                create_missing: options.create_missing,
                connect_timeout,
            },
        )
        .await?;
        Ok(Database {
            backend,
            url: url.clone(),
            options,
        })
    }

    /// The URL, whose `Display` redacts the password.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn dialect(&self) -> Dialect {
        self.backend.dialect()
    }

    /// Closes the connection cleanly.
    pub async fn close(self) -> Result<()> {
        self.backend.close().await
    }
}
