//! MySQL/MariaDB backend (mysql_async).
//!
//! DDL commits implicitly here, so the runner records statement-level
//! progress for every migration and `repair` can say exactly what was
//! applied. The lock is `GET_LOCK(name, 0)`, polled by the runner; the name
//! includes the database, since MySQL's named locks are server-wide.

use super::{CLEAR_REVERT, COLUMNS, Driver, StatementFailure};
use crate::db::decode::MysqlRow;
use crate::dialect::Dialect;
use crate::error::{DbError, Result};
use crate::source::split::Statement;
use crate::source::{Checksum, checksum::ALGORITHM};
use crate::tracking::{AppliedMigration, KEEL_VERSION, Write};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Params, Value};
use std::time::Instant;

/// The tracking table, and the read of its rows.
pub(super) const CREATE: &str = include_str!("sql/mysql_create.sql");
pub(super) const APPLIED: &str = include_str!("sql/mysql_applied.sql");
/// The read of a table made before the revert columns.
const APPLIED_V1: &str = include_str!("sql/mysql_applied_v1.sql");
/// Adds the revert columns to such a table.
const UPGRADE: &str = include_str!("sql/mysql_upgrade.sql");

pub(crate) struct Mysql {
    conn: Conn,
    /// The tracking table's name as given, for messages.
    raw_table: String,
    /// The same, quoted.
    table: String,
    lock_name: String,
    tx_started: Option<Instant>,
    /// The last read found a table made before the revert columns.
    legacy: bool,
    /// The server's `max_allowed_packet`: a tracking row must fit in it.
    max_packet: u64,
    /// The database keel connected to.
    database: String,
    /// [`SESSION_VARIABLES`] as keel connected.
    session: Vec<(&'static str, Value)>,
    /// A migration ran `LOCK TABLES` since the last reset.
    tables_locked: bool,
}

/// Session variables a migration (or a `mysqldump` file) commonly sets,
/// reset after each migration.
const SESSION_VARIABLES: [&str; 9] = [
    "sql_mode",
    "time_zone",
    "foreign_key_checks",
    "unique_checks",
    "autocommit",
    "character_set_client",
    "character_set_results",
    "collation_connection",
    "sql_notes",
];

use crate::db::error::fail;
use crate::db::error::{Context, db_error};

impl Mysql {
    /// The connection, for engine-specific work outside migrations.
    pub(crate) fn connection(&mut self) -> &mut Conn {
        &mut self.conn
    }

    /// Wraps an open connection; the lock is named after the database and
    /// the tracking table, since MySQL's named locks are server-wide.
    pub async fn new(mut conn: Conn, table: &str) -> Result<Mysql> {
        // One round trip: the database, the packet limit, and the session
        // as keel opened it (put back after each migration).
        let row: Option<mysql_async::Row> = conn
            .query_first(format!(
                "SELECT DATABASE(), @@max_allowed_packet, {}",
                SESSION_VARIABLES
                    .map(|v| format!("@@SESSION.{v}"))
                    .join(", ")
            ))
            .await
            .context("reading the current database and session")?;
        let mut values = row
            .map(mysql_async::Row::unwrap)
            .unwrap_or_default()
            .into_iter();
        let database = match values.next() {
            Some(Value::Bytes(b)) => String::from_utf8_lossy(&b).into_owned(),
            _ => String::new(),
        };
        let max_packet = match values.next() {
            Some(Value::Bytes(b)) => String::from_utf8_lossy(&b).parse().ok(),
            Some(Value::Int(i)) => u64::try_from(i).ok(),
            Some(Value::UInt(u)) => Some(u),
            _ => None,
        };
        let session: Vec<(&'static str, Value)> =
            SESSION_VARIABLES.iter().copied().zip(values).collect();
        // GET_LOCK names are at most 64 characters.
        let lock_name = format!("keel:{}", super::lock_key(&format!("{database}.{table}")));
        // Named with its database, so a migration's `USE` cannot move it.
        let qualified = if database.is_empty() {
            Dialect::Mysql.quote(table)
        } else {
            format!(
                "{}.{}",
                Dialect::Mysql.quote(&database),
                Dialect::Mysql.quote(table)
            )
        };
        Ok(Mysql {
            conn,
            raw_table: table.to_string(),
            table: qualified,
            database,
            session,
            tables_locked: false,
            lock_name,
            tx_started: None,
            legacy: false,
            max_packet: max_packet.unwrap_or(16 * 1024 * 1024),
        })
    }

    /// Back to the database and session variables keel connected with. Not
    /// `COM_RESET_CONNECTION`: that would release keel's `GET_LOCK`.
    pub(crate) async fn reset_session(&mut self) -> Result<()> {
        // table locks a migration left (named locks such as keel's own
        // `GET_LOCK` are not released by this)
        if std::mem::take(&mut self.tables_locked) {
            self.conn
                .query_drop("UNLOCK TABLES")
                .await
                .context("releasing the table locks a migration left")?;
        }
        if !self.database.is_empty() {
            let sql = format!("USE {}", Dialect::Mysql.quote(&self.database));
            self.conn
                .query_drop(sql)
                .await
                .context("resetting the database after a migration")?;
        }
        if self.session.is_empty() {
            return Ok(());
        }
        // literals, not parameters: a binary '1' is no value for
        // foreign_key_checks
        let sets: Vec<String> = self
            .session
            .iter()
            .filter_map(|(name, value)| Some(format!("@@SESSION.{name} = {}", literal(value)?)))
            .collect();
        self.conn
            .query_drop(format!("SET {}", sets.join(", ")))
            .await
            .context("resetting the session variables after a migration")
    }

    /// A migration's `LOCK TABLES …` with keel's tracking table added to its
    /// list, so that the progress rows keel writes between the statements
    /// that follow (`mysqldump` output: `LOCK TABLES t WRITE; INSERT …;
    /// UNLOCK TABLES;`) are allowed. The list goes inside an executable
    /// comment that holds the statement, and after a line break, so a
    /// trailing `--` comment cannot swallow it.
    fn with_tracking_table_locked(&self, sql: &str) -> String {
        let also = format!("\n, {} WRITE", self.table);
        match sql.strip_suffix("*/") {
            Some(head) if sql.starts_with("/*") => format!("{head}{also} */"),
            _ => format!("{sql}{also}"),
        }
    }

    /// A fixed statement with the tracking table filled in.
    fn fill(&self, template: &str) -> String {
        template.replace("{table}", &self.table)
    }

    fn write_sql(&self, write: &Write) -> (String, Params) {
        let t = &self.table;
        match write {
            Write::Upsert(r) => {
                let duration = r
                    .duration_ms
                    .or_else(|| self.tx_started.map(|s| s.elapsed().as_millis() as i64))
                    .unwrap_or(0);
                let sql = format!(
                    "INSERT INTO {t} ({COLUMNS}) VALUES (?, ?, ?, ?, coalesce(?, UTC_TIMESTAMP(3)), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                     ON DUPLICATE KEY UPDATE name = VALUES(name), checksum = VALUES(checksum), \
                     checksum_algorithm = VALUES(checksum_algorithm), applied_at = VALUES(applied_at), \
                     duration_ms = VALUES(duration_ms), success = VALUES(success), error = VALUES(error), \
                     failed_statement_index = VALUES(failed_statement_index), failed_statement = VALUES(failed_statement), \
                     statements_total = VALUES(statements_total), statements_applied = VALUES(statements_applied), \
                     applied_by = VALUES(applied_by), keel_version = VALUES(keel_version), method = VALUES(method), \
                     applied_sql = VALUES(applied_sql), {CLEAR_REVERT}"
                );
                // A row too large for the server would fail a migration that
                // succeeded: the applied SQL is stored truncated instead,
                // saying so, with the checksum of the whole file.
                let budget = usize::try_from(self.max_packet.saturating_sub(64 * 1024) / 2)
                    .unwrap_or(usize::MAX);
                let applied_sql = fit(&r.sql, budget, r.checksum.as_str());
                let failed_statement = r
                    .failed_statement
                    .as_deref()
                    .map(|f| fit(f, budget / 4, "the statement's text in the file").into_owned());
                let params: Vec<Value> = vec![
                    r.version.into(),
                    r.name.clone().into(),
                    r.checksum.as_str().into(),
                    ALGORITHM.into(),
                    r.applied_at.as_deref().map(mysql_datetime).into(),
                    duration.into(),
                    r.success.into(),
                    r.error.clone().into(),
                    r.failed_statement_index.into(),
                    failed_statement.into(),
                    r.statements_total.into(),
                    r.statements_applied.into(),
                    r.applied_by.clone().into(),
                    KEEL_VERSION.into(),
                    r.method.as_str().into(),
                    applied_sql.into_owned().into(),
                ];
                (sql, Params::Positional(params))
            }
            Write::Progress {
                version,
                statements_applied,
                started,
            } => (
                format!(
                    "UPDATE {t} SET statements_applied = ?, failed_statement_index = ?, failed_statement = NULL, error = NULL WHERE version = ?"
                ),
                Params::Positional(vec![
                    (*statements_applied).into(),
                    (*started).into(),
                    (*version).into(),
                ]),
            ),
            Write::Accept {
                version,
                name,
                checksum,
                sql,
            } => (
                format!(
                    "UPDATE {t} SET name = ?, checksum = ?, checksum_algorithm = ?, applied_sql = ? WHERE version = ?"
                ),
                Params::Positional(vec![
                    name.as_str().into(),
                    checksum.as_str().into(),
                    ALGORITHM.into(),
                    sql.clone().into(),
                    (*version).into(),
                ]),
            ),
            Write::Delete { version } => (
                format!("DELETE FROM {t} WHERE version = ?"),
                Params::Positional(vec![(*version).into()]),
            ),
            Write::RevertProgress {
                version,
                statements_applied,
                statements_total,
            } => (
                format!(
                    "UPDATE {t} SET reverted_at = NULL, reverted_by = NULL, revert_duration_ms = NULL, revert_error = NULL, \
                     revert_statements_applied = ?, revert_statements_total = ? WHERE version = ?"
                ),
                Params::Positional(vec![
                    (*statements_applied).into(),
                    (*statements_total).into(),
                    (*version).into(),
                ]),
            ),
            Write::RevertFailed {
                version,
                error,
                statements_applied,
                statements_total,
                duration_ms,
                by,
            } => (
                format!(
                    "UPDATE {t} SET reverted_at = NULL, revert_error = ?, revert_statements_applied = ?, \
                     revert_statements_total = ?, revert_duration_ms = ?, reverted_by = ? WHERE version = ?"
                ),
                Params::Positional(vec![
                    error.clone().into(),
                    (*statements_applied).into(),
                    (*statements_total).into(),
                    (*duration_ms).into(),
                    by.clone().into(),
                    (*version).into(),
                ]),
            ),
            Write::Reverted {
                version,
                statements_total,
                duration_ms,
                by,
            } => {
                let duration = duration_ms
                    .or_else(|| self.tx_started.map(|s| s.elapsed().as_millis() as i64))
                    .unwrap_or(0);
                (
                    format!(
                        "UPDATE {t} SET reverted_at = UTC_TIMESTAMP(3), revert_error = NULL, revert_statements_applied = ?, \
                         revert_statements_total = ?, revert_duration_ms = ?, reverted_by = ? WHERE version = ?"
                    ),
                    Params::Positional(vec![
                        (*statements_total).into(),
                        (*statements_total).into(),
                        duration.into(),
                        by.clone().into(),
                        (*version).into(),
                    ]),
                )
            }
        }
    }
}

/// A session variable's value as a SQL literal: a number, or a quoted
/// string without backslashes (safe whatever `NO_BACKSLASH_ESCAPES` says).
fn literal(value: &Value) -> Option<String> {
    match value {
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Bytes(b) => {
            let text = std::str::from_utf8(b).ok()?;
            if text.parse::<i64>().is_ok() {
                Some(text.to_string())
            } else if text.contains('\\') {
                None
            } else {
                Some(format!("'{}'", text.replace('\'', "''")))
            }
        }
        _ => None,
    }
}

/// `text` if it is at most `budget` bytes, else its start (at a character
/// boundary) and a last line saying it was cut and where the whole is.
fn fit<'t>(text: &'t str, budget: usize, whole: &str) -> std::borrow::Cow<'t, str> {
    if text.len() <= budget {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = budget.saturating_sub(256);
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!(
        "{}\n-- keel: truncated to {end} of {} bytes to fit the server's max_allowed_packet (the whole: {whole})",
        text.get(..end).unwrap_or_default(),
        text.len()
    ))
}

/// An ISO 8601 UTC time (`2026-12-01T20:13:49.123Z`) as a DATETIME(3)
/// literal MySQL accepts (`2026-12-01 20:13:49.123`).
fn mysql_datetime(iso: &str) -> String {
    iso.trim_end_matches('Z').replacen('T', " ", 1)
}

impl Driver for Mysql {
    async fn try_lock(&mut self) -> Result<bool> {
        let got: Option<Option<i64>> = self
            .conn
            .exec_first("SELECT GET_LOCK(?, 0)", (self.lock_name.as_str(),))
            .await
            .context("taking the migration lock")?;
        Ok(got.flatten() == Some(1))
    }

    async fn lock_holder(&mut self) -> Result<String> {
        let id: Option<Option<u64>> = self
            .conn
            .exec_first("SELECT IS_USED_LOCK(?)", (self.lock_name.as_str(),))
            .await
            .context("finding the lock holder")?;
        let Some(id) = id.flatten() else {
            return Ok("a session that has just released it".to_string());
        };
        let info: Option<(String, String, i64)> = self
            .conn
            .exec_first(
                "SELECT USER, HOST, TIME FROM information_schema.PROCESSLIST WHERE ID = ?",
                (id,),
            )
            .await
            .context("finding the lock holder")?;
        Ok(match info {
            Some((user, host, secs)) => {
                format!(
                    "MySQL connection {id} (user {user} from {host}, in its current state for {secs} s)"
                )
            }
            None => format!("MySQL connection {id}"),
        })
    }

    async fn unlock(&mut self) -> Result<()> {
        self.conn
            .exec_drop("SELECT RELEASE_LOCK(?)", (self.lock_name.as_str(),))
            .await
            .context("releasing the migration lock")
    }

    async fn ensure_table(&mut self) -> Result<()> {
        let sql = self.fill(CREATE);
        self.conn
            .query_drop(sql)
            .await
            .context("creating the tracking table")?;
        if self
            .conn
            .query_drop(super::probe_sql(&self.table))
            .await
            .is_err()
        {
            for sql in super::upgrade_statements(UPGRADE, &self.table) {
                match self.conn.query_drop(sql.as_str()).await {
                    Ok(()) => {}
                    Err(mysql_async::Error::Server(s)) if s.code == 1060 => {}
                    Err(e) => {
                        return Err(fail("adding the revert columns to the tracking table", e));
                    }
                }
            }
        }
        self.legacy = false;
        Ok(())
    }

    fn needs_upgrade(&self) -> bool {
        self.legacy
    }

    async fn applied(&mut self) -> Result<Vec<AppliedMigration>> {
        let sql = self.fill(APPLIED);
        self.legacy = false;
        let rows: Vec<mysql_async::Row> = match self.conn.query(sql).await {
            Ok(rows) => rows,
            Err(mysql_async::Error::Server(s)) if s.code == 1146 => return Ok(Vec::new()),
            Err(mysql_async::Error::Server(s)) if s.code == 1054 => {
                self.legacy = true;
                let v1 = self.fill(APPLIED_V1);
                self.conn
                    .query(v1)
                    .await
                    .map_err(|e| fail(super::reading(&self.raw_table), e))?
            }
            Err(e) => return Err(fail(super::reading(&self.raw_table), e)),
        };
        let origin = super::tracking_origin(&self.raw_table);
        let mut out = Vec::with_capacity(rows.len());
        for mut r in rows {
            out.push(super::applied_row!(
                r,
                origin,
                self.legacy,
                r.col(4, origin)?,
                r.col(15, origin)?
            ));
        }
        Ok(out)
    }

    async fn applied_sql(&mut self, version: i64) -> Result<Option<String>> {
        let sql = format!("SELECT applied_sql FROM {} WHERE version = ?", self.table);
        self.conn
            .exec_first(sql, (version,))
            .await
            .context("reading applied SQL")
    }

    async fn run_in_transaction(
        &mut self,
        statements: &[Statement],
        finish: &Write,
        _durable: bool,
    ) -> Result<Result<(), StatementFailure>> {
        self.conn
            .query_drop("START TRANSACTION")
            .await
            .context("starting a transaction")?;
        self.tx_started = Some(Instant::now());
        for (i, s) in statements.iter().enumerate() {
            if let Err(e) = self.conn.query_drop(s.text.as_str()).await {
                self.tx_started = None;
                self.conn
                    .query_drop("ROLLBACK")
                    .await
                    .context("rolling back")?;
                return Ok(Err((i, db_error(&e))));
            }
        }
        let (sql, params) = self.write_sql(finish);
        self.tx_started = None;
        self.conn
            .exec_drop(sql, params)
            .await
            .context("writing the tracking row")?;
        self.conn.query_drop("COMMIT").await.context("committing")?;
        Ok(Ok(()))
    }

    async fn execute(&mut self, sql: &str) -> Result<Result<(), DbError>> {
        let locking;
        let sql = if crate::source::split::locks_tables(sql, Dialect::Mysql) {
            self.tables_locked = true;
            locking = self.with_tracking_table_locked(sql);
            locking.as_str()
        } else {
            sql
        };
        match self.conn.query_drop(sql).await {
            Ok(()) => Ok(Ok(())),
            Err(e @ mysql_async::Error::Server(_)) => Ok(Err(db_error(&e))),
            Err(e) => Err(fail("running a statement", e)),
        }
    }

    async fn write(&mut self, write: &Write) -> Result<()> {
        let (sql, params) = self.write_sql(write);
        self.conn
            .exec_drop(sql, params)
            .await
            .context("writing the tracking table")
    }

    async fn user(&mut self) -> Result<String> {
        let user: Option<String> = self
            .conn
            .query_first("SELECT CURRENT_USER()")
            .await
            .context("reading the user")?;
        let user = user.unwrap_or_default();
        Ok(user.split('@').next().unwrap_or_default().to_string())
    }

    async fn close(self) -> Result<()> {
        self.conn.disconnect().await.context("disconnecting")
    }
}
