//! Database backends behind one narrow set of primitives — lock, tracking
//! table, run statements, write tracking rows — with one file per engine and
//! a small enum chosen from the URL scheme. Decisions live in
//! [`plan`](crate::plan) and [`runner`](crate::runner), never here.

pub(crate) mod mysql;
pub(crate) mod pooler;
pub(crate) mod postgres;
mod postgres_write;
pub(crate) mod sqlite;

use crate::db::decode::Origin;
use crate::db::{self, Conn};
use crate::dialect::Dialect;
use crate::error::{DbError, Error, Result};
use crate::settings::DatabaseUrl;
use crate::source::split::{CreatedObject, Statement};
use crate::tracking::{AppliedMigration, Method, Write};

/// Why a statement batch did not commit: the 0-based index of the failing
/// statement and the database's error.
pub(crate) type StatementFailure = (usize, DbError);

/// The primitives every engine provides.
pub(crate) trait Driver {
    /// Tries once to take the migration lock; never waits inside the
    /// database (a waiting statement would deadlock with
    /// `CREATE INDEX CONCURRENTLY`, as Flyway's and golang-migrate's do).
    async fn try_lock(&mut self) -> Result<bool>;
    /// Who holds the lock, in words.
    async fn lock_holder(&mut self) -> Result<String>;
    async fn unlock(&mut self) -> Result<()>;
    /// Creates the tracking table, or adds the columns a table made by an
    /// older keel lacks (additive only: old readers keep working).
    async fn ensure_table(&mut self) -> Result<()>;
    /// Whether the last read found a table made by an older keel.
    fn needs_upgrade(&self) -> bool;
    /// Tracking rows by version; empty when the table does not exist yet.
    async fn applied(&mut self) -> Result<Vec<AppliedMigration>>;
    /// The SQL stored for an applied version.
    async fn applied_sql(&mut self, version: i64) -> Result<Option<String>>;
    /// Runs `statements` and then `finish` in one transaction; on a failing
    /// statement rolls everything back. `durable: false` lets the commit
    /// return before its WAL is flushed (PostgreSQL `synchronous_commit`):
    /// still atomic, and made durable by the next durable commit.
    async fn run_in_transaction(
        &mut self,
        statements: &[Statement],
        finish: &Write,
        durable: bool,
    ) -> Result<Result<(), StatementFailure>>;
    /// Runs one statement outside any transaction keel opened.
    async fn execute(&mut self, sql: &str) -> Result<Result<(), DbError>>;
    /// Applies one tracking-table change on its own.
    async fn write(&mut self, write: &Write) -> Result<()>;
    /// The database user keel is connected as.
    async fn user(&mut self) -> Result<String>;
    async fn close(self) -> Result<()>;
}

/// Whether the object of a statement in doubt exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CatalogState {
    Exists,
    Missing,
    /// A PostgreSQL index marked `INVALID` (a `CREATE INDEX CONCURRENTLY`
    /// that did not finish).
    Invalid,
}

/// An open connection to one of the three engines.
pub(crate) enum Backend {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
    Mysql(mysql::Mysql),
}

macro_rules! dispatch {
    ($self:expr, $b:ident => $body:expr) => {
        match $self {
            Backend::Sqlite($b) => $body,
            Backend::Postgres($b) => $body,
            Backend::Mysql($b) => $body,
        }
    };
}

impl Backend {
    pub async fn connect(url: &DatabaseUrl, table: &str, options: db::Options) -> Result<Backend> {
        Ok(match Conn::open(url, options).await? {
            Conn::Sqlite(c) => Backend::Sqlite(sqlite::Sqlite::new(c, url, table)),
            Conn::Postgres(c) => Backend::Postgres(postgres::Postgres::new(c, url, table).await?),
            Conn::Mysql(c) => Backend::Mysql(mysql::Mysql::new(c, table).await?),
        })
    }

    /// Why keel thinks it reaches PostgreSQL through a transaction pooler
    /// (where it locks with a lease); `None` with a session of its own.
    pub fn pooler(&self) -> Option<&str> {
        match self {
            Backend::Postgres(b) => b.pooler(),
            _ => None,
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
            Backend::Mysql(_) => Dialect::Mysql,
        }
    }

    /// Whether DDL rolls back with its transaction. MySQL/MariaDB commit DDL
    /// implicitly, so there keel records statement-level progress instead.
    pub fn transactional_ddl(&self) -> bool {
        !matches!(self, Backend::Mysql(_))
    }

    pub async fn try_lock(&mut self) -> Result<bool> {
        dispatch!(self, b => b.try_lock().await)
    }
    pub async fn lock_holder(&mut self) -> Result<String> {
        dispatch!(self, b => b.lock_holder().await)
    }
    /// Who holds the migration lock now, where the engine can tell
    /// without taking it (PostgreSQL); `None` when nobody does.
    pub async fn current_holder(&mut self) -> Result<Option<String>> {
        match self {
            Backend::Postgres(b) => b.current_holder().await,
            _ => Ok(None),
        }
    }
    pub async fn unlock(&mut self) -> Result<()> {
        dispatch!(self, b => b.unlock().await)
    }
    pub async fn ensure_table(&mut self) -> Result<()> {
        dispatch!(self, b => b.ensure_table().await)
    }
    pub async fn applied(&mut self) -> Result<Vec<AppliedMigration>> {
        dispatch!(self, b => b.applied().await)
    }
    pub fn needs_upgrade(&self) -> bool {
        dispatch!(self, b => b.needs_upgrade())
    }
    pub async fn applied_sql(&mut self, version: i64) -> Result<Option<String>> {
        dispatch!(self, b => b.applied_sql(version).await)
    }
    pub async fn run_in_transaction(
        &mut self,
        statements: &[Statement],
        finish: &Write,
        durable: bool,
    ) -> Result<Result<(), StatementFailure>> {
        dispatch!(self, b => b.run_in_transaction(statements, finish, durable).await)
    }
    pub async fn execute(&mut self, sql: &str) -> Result<Result<(), DbError>> {
        dispatch!(self, b => b.execute(sql).await)
    }
    pub async fn write(&mut self, write: &Write) -> Result<()> {
        dispatch!(self, b => b.write(write).await)
    }
    pub async fn user(&mut self) -> Result<String> {
        dispatch!(self, b => b.user().await)
    }
    /// SQLite: foreign keys off for a migration run statement by statement
    /// (as `sqlite3` runs a file); whether they were on, to restore.
    pub fn foreign_keys_off(&mut self) -> Result<bool> {
        match self {
            Backend::Sqlite(b) => b.foreign_keys_off(),
            _ => Ok(false),
        }
    }

    pub fn foreign_keys_on(&mut self) -> Result<()> {
        match self {
            Backend::Sqlite(b) => b.foreign_keys_on(),
            _ => Ok(()),
        }
    }

    /// Puts the session back as keel opened it (a migration's `SET`,
    /// `USE`, `SET ROLE`, `set_config` do not leak into the next one).
    pub async fn reset_session(&mut self) -> Result<()> {
        match self {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(b) => b.reset_session().await,
            Backend::Mysql(b) => b.reset_session().await,
        }
    }

    /// What the catalog says of an object a statement in doubt creates.
    pub async fn catalog_state(&mut self, o: &CreatedObject) -> Result<CatalogState> {
        use crate::db::error::Context;
        let found: Option<bool> = match self {
            Backend::Sqlite(b) => {
                let kind = if o.index { "index" } else { "table" };
                let n: i64 = b
                    .connection()
                    .query_row(
                        "SELECT count(*) FROM sqlite_schema WHERE type = ?1 AND name = ?2",
                        rusqlite::params![kind, o.name],
                        |r| r.get(0),
                    )
                    .context("reading the catalog")?;
                (n > 0).then_some(true)
            }
            Backend::Postgres(b) => {
                let name = match &o.schema {
                    Some(s) => format!(
                        "{}.{}",
                        Dialect::Postgres.quote(s),
                        Dialect::Postgres.quote(&o.name)
                    ),
                    None => Dialect::Postgres.quote(&o.name),
                };
                let rows = b
                    .client()
                    .query_typed(
                        "SELECT coalesce((SELECT indisvalid FROM pg_index WHERE indexrelid = c.oid), true) \
                         FROM (SELECT to_regclass($1) AS oid) c WHERE c.oid IS NOT NULL",
                        &[(&name, tokio_postgres::types::Type::TEXT)],
                    )
                    .await
                    .context("reading the catalog")?;
                match rows.first() {
                    Some(r) => Some(crate::db::decode::PgRow::col::<bool>(
                        r,
                        0,
                        crate::db::decode::Origin::table("pg_index"),
                    )?),
                    None => None,
                }
            }
            Backend::Mysql(b) => {
                use mysql_async::prelude::Queryable;
                let sql = if o.index {
                    "SELECT count(*) FROM information_schema.statistics WHERE table_schema = coalesce(?, DATABASE()) AND index_name = ?"
                } else {
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema = coalesce(?, DATABASE()) AND table_name = ?"
                };
                let n: Option<i64> = b
                    .connection()
                    .exec_first(sql, (o.schema.clone(), o.name.clone()))
                    .await
                    .context("reading the catalog")?;
                (n.unwrap_or(0) > 0).then_some(true)
            }
        };
        Ok(match found {
            None => CatalogState::Missing,
            Some(true) => CatalogState::Exists,
            Some(false) => CatalogState::Invalid,
        })
    }
    pub async fn close(self) -> Result<()> {
        dispatch!(self, b => b.close().await)
    }
}

/// Column list shared by every engine's tracking table, in insert order.
pub(crate) const COLUMNS: &str = "version, name, checksum, checksum_algorithm, applied_at, duration_ms, success, \
     error, failed_statement_index, failed_statement, statements_total, statements_applied, \
     applied_by, keel_version, method, applied_sql";

/// The revert columns, as `SET` assignments that clear them (a re-applied
/// migration starts without a revert).
pub(crate) const CLEAR_REVERT: &str = "reverted_at = NULL, reverted_by = NULL, revert_duration_ms = NULL, \
     revert_error = NULL, revert_statements_applied = NULL, revert_statements_total = NULL";

/// A probe that fails on a tracking table made before the revert columns.
pub(crate) fn probe_sql(quoted_table: &str) -> String {
    format!("SELECT revert_statements_total FROM {quoted_table} WHERE 1 = 0")
}

/// The upgrade statements of a table made by an older keel; `table` is
/// the quoted (for PostgreSQL and MySQL qualified) name.
pub(crate) fn upgrade_statements(template: &'static str, table: &str) -> Vec<String> {
    template
        .replace("{table}", table)
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The revert read from the six revert columns; `None` when the migration
/// was never reverted.
pub(crate) fn revert_of(
    reverted_at: Option<String>,
    reverted_by: Option<String>,
    duration_ms: Option<i64>,
    error: Option<String>,
    statements_applied: Option<i64>,
    statements_total: Option<i64>,
) -> Option<crate::tracking::Revert> {
    (reverted_at.is_some() || statements_total.is_some()).then(|| crate::tracking::Revert {
        reverted_at,
        reverted_by,
        duration_ms,
        error,
        statements_applied: statements_applied.unwrap_or(0),
        statements_total: statements_total.unwrap_or(0),
    })
}

/// What to do when the tracking table holds what keel did not write.
const TRACKING_HINT: &str = "this table was not made by keel (or was changed since): give keel a table of its own with --table NAME (or `table = \"…\"` in keel.toml), or move this one aside";

/// Each engine's tracking-table statements: create, and read the rows.
pub(crate) fn tracking_sql() -> [(Dialect, &'static str, &'static str); 3] {
    [
        (Dialect::Sqlite, sqlite::CREATE, sqlite::APPLIED),
        (Dialect::Postgres, postgres::CREATE, postgres::APPLIED),
        (Dialect::Mysql, mysql::CREATE, mysql::APPLIED),
    ]
}

/// One tracking row, decoded column by column in the order of the
/// `sql/*_applied*.sql` reads (the revert columns from 15 on, absent in a
/// table an older keel made); `$applied_at` and `$reverted_at` decode
/// columns 4 and 15, the times each engine stores its own way.
macro_rules! applied_row {
    ($r:ident, $origin:ident, $legacy:expr, $applied_at:expr, $reverted_at:expr) => {
        AppliedMigration {
            version: $r.col(0, $origin)?,
            name: $r.col(1, $origin)?,
            checksum: Checksum::from_stored($r.col(2, $origin)?),
            checksum_algorithm: $r.col(3, $origin)?,
            applied_at: $applied_at,
            duration_ms: $r.col(5, $origin)?,
            success: $r.col(6, $origin)?,
            error: $r.col(7, $origin)?,
            failed_statement_index: $r.col(8, $origin)?,
            failed_statement: $r.col(9, $origin)?,
            statements_total: $r.col(10, $origin)?,
            statements_applied: $r.col(11, $origin)?,
            applied_by: $r.col(12, $origin)?,
            keel_version: $r.col(13, $origin)?,
            method: $crate::backend::method(&$r.col::<String>(14, $origin)?, $origin)?,
            revert: if $legacy {
                None
            } else {
                $crate::backend::revert_of(
                    $reverted_at,
                    $r.col(16, $origin)?,
                    $r.col(17, $origin)?,
                    $r.col(18, $origin)?,
                    $r.col(19, $origin)?,
                    $r.col(20, $origin)?,
                )
            },
        }
    };
}
pub(crate) use applied_row;

/// What keel was doing when reading its records failed.
pub(crate) fn reading(table: &str) -> String {
    format!("reading the tracking table {table}")
}

/// Where tracking rows come from, for decoding errors.
pub(crate) fn tracking_origin(table: &str) -> Origin<'_> {
    Origin::table(table).with_hint(TRACKING_HINT)
}

/// A stored `method`; an unknown one is an error, never a guess.
pub(crate) fn method(stored: &str, origin: Origin<'_>) -> Result<Method> {
    Method::parse(stored).ok_or_else(|| Error::Decode {
        table: origin.table.to_string(),
        column: "method".to_string(),
        found: format!("the value `{stored}`"),
        expected: format!("one of {}", Method::ALL.map(Method::as_str).join(", ")),
        hint: origin.hint.map(str::to_string),
    })
}

/// The client machine's host name, for `applied_by` and lock holders.
pub(crate) fn client_host() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".to_string())
}

/// The operating-system user running keel (SQLite has no database user).
pub(crate) fn os_user() -> String {
    if let Some(u) = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok())
    {
        return u;
    }
    // No environment (cron, containers): look the uid up in /etc/passwd.
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("Uid:")
                    .and_then(|r| r.split_whitespace().next().map(str::to_string))
            })
        });
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    uid.and_then(|uid| {
        passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 2 && f[2] == uid).then(|| f[0].to_string())
        })
    })
    .unwrap_or_else(|| "unknown".to_string())
}

/// A stable 31-bit number naming the lock of one tracking table.
pub(crate) fn lock_key(table: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("keel-lock:{table}").as_bytes());
    (i64::from(u32::from_be_bytes([d[0], d[1], d[2], d[3]])) & 0x7fff_ffff) as i64
}
