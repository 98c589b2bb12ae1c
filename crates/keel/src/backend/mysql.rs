//! MySQL/MariaDB backend (mysql_async).
//!
//! DDL commits implicitly here, so the runner records statement-level
//! progress for every migration and `repair` can say exactly what was
//! applied. The lock is `GET_LOCK(name, 0)`, polled by the runner; the name
//! includes the database, since MySQL's named locks are server-wide.

use super::{COLUMNS, Driver, StatementFailure};
use crate::dialect::Dialect;
use crate::error::{DbError, Error, Result};
use crate::settings::DatabaseUrl;
use crate::source::split::Statement;
use crate::source::{Checksum, checksum::ALGORITHM};
use crate::tracking::{AppliedMigration, KEEL_VERSION, Method, Write};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, Params, Value};
use std::time::Instant;

pub(crate) struct Mysql {
    conn: Conn,
    table: String,
    lock_name: String,
    tx_started: Option<Instant>,
}

fn db_error(e: &mysql_async::Error) -> DbError {
    match e {
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

pub(crate) fn fail(context: &str, e: mysql_async::Error) -> Error {
    Error::db(context, db_error(&e))
}

impl Mysql {
    /// The connection, for engine-specific work outside migrations.
    pub(crate) fn connection(&mut self) -> &mut Conn {
        &mut self.conn
    }

    pub async fn connect(url: &DatabaseUrl, table: &str) -> Result<Mysql> {
        let connect_error = |message: String| Error::Connect {
            url: url.redacted(),
            message,
        };
        let raw = url.expose();
        let raw = match raw.split_once("://") {
            Some((_, rest)) => format!("mysql://{rest}"),
            None => raw.to_string(),
        };
        let opts = Opts::from_url(&raw).map_err(|e| connect_error(e.to_string()))?;
        let mut conn = Conn::new(opts)
            .await
            .map_err(|e| connect_error(db_error(&e).to_string()))?;
        let database: Option<String> = conn
            .query_first("SELECT DATABASE()")
            .await
            .map_err(|e| fail("reading the current database", e))?
            .flatten();
        let database = database.unwrap_or_default();
        // GET_LOCK names are at most 64 characters.
        let lock_name = format!("keel:{}", super::lock_key(&format!("{database}.{table}")));
        Ok(Mysql {
            conn,
            table: Dialect::Mysql.quote(table),
            lock_name,
            tx_started: None,
        })
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
                    "INSERT INTO {t} ({COLUMNS}) VALUES (?, ?, ?, ?, UTC_TIMESTAMP(3), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                     ON DUPLICATE KEY UPDATE name = VALUES(name), checksum = VALUES(checksum), \
                     checksum_algorithm = VALUES(checksum_algorithm), applied_at = VALUES(applied_at), \
                     duration_ms = VALUES(duration_ms), success = VALUES(success), error = VALUES(error), \
                     failed_statement_index = VALUES(failed_statement_index), failed_statement = VALUES(failed_statement), \
                     statements_total = VALUES(statements_total), statements_applied = VALUES(statements_applied), \
                     applied_by = VALUES(applied_by), keel_version = VALUES(keel_version), method = VALUES(method), \
                     applied_sql = VALUES(applied_sql)"
                );
                let params: Vec<Value> = vec![
                    r.version.into(),
                    r.name.clone().into(),
                    r.checksum.as_str().into(),
                    ALGORITHM.into(),
                    duration.into(),
                    r.success.into(),
                    r.error.clone().into(),
                    r.failed_statement_index.into(),
                    r.failed_statement.clone().into(),
                    r.statements_total.into(),
                    r.statements_applied.into(),
                    r.applied_by.clone().into(),
                    KEEL_VERSION.into(),
                    r.method.as_str().into(),
                    r.sql.clone().into(),
                ];
                (sql, Params::Positional(params))
            }
            Write::Progress {
                version,
                statements_applied,
            } => (
                format!("UPDATE {t} SET statements_applied = ? WHERE version = ?"),
                Params::Positional(vec![(*statements_applied).into(), (*version).into()]),
            ),
            Write::Accept {
                version,
                checksum,
                sql,
            } => (
                format!(
                    "UPDATE {t} SET checksum = ?, checksum_algorithm = ?, applied_sql = ? WHERE version = ?"
                ),
                Params::Positional(vec![
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
        }
    }
}

fn take<T: mysql_async::prelude::FromValue>(row: &mut mysql_async::Row, i: usize) -> Result<T> {
    let bad = |message: String| {
        Error::db(
            "reading the tracking table",
            DbError {
                message,
                sqlstate: None,
            },
        )
    };
    match row.take_opt(i) {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(bad(format!("column {i}: {e}"))),
        None => Err(bad(format!("column {i} is missing"))),
    }
}

impl Driver for Mysql {
    async fn try_lock(&mut self) -> Result<bool> {
        let got: Option<Option<i64>> = self
            .conn
            .exec_first("SELECT GET_LOCK(?, 0)", (self.lock_name.as_str(),))
            .await
            .map_err(|e| fail("taking the migration lock", e))?;
        Ok(got.flatten() == Some(1))
    }

    async fn lock_holder(&mut self) -> Result<String> {
        let id: Option<Option<u64>> = self
            .conn
            .exec_first("SELECT IS_USED_LOCK(?)", (self.lock_name.as_str(),))
            .await
            .map_err(|e| fail("finding the lock holder", e))?;
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
            .map_err(|e| fail("finding the lock holder", e))?;
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
            .map_err(|e| fail("releasing the migration lock", e))
    }

    async fn ensure_table(&mut self) -> Result<()> {
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {} (\
             version BIGINT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, checksum VARCHAR(128) NOT NULL, \
             checksum_algorithm VARCHAR(64) NOT NULL, applied_at DATETIME(3) NOT NULL, duration_ms BIGINT NOT NULL, \
             success BOOLEAN NOT NULL, error TEXT, failed_statement_index BIGINT, failed_statement LONGTEXT, \
             statements_total BIGINT NOT NULL, statements_applied BIGINT NOT NULL, applied_by VARCHAR(255) NOT NULL, \
             keel_version VARCHAR(64) NOT NULL, method VARCHAR(16) NOT NULL, applied_sql LONGTEXT NOT NULL\
             ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
            self.table
        );
        self.conn
            .query_drop(sql)
            .await
            .map_err(|e| fail("creating the tracking table", e))
    }

    async fn applied(&mut self) -> Result<Vec<AppliedMigration>> {
        let sql = format!(
            "SELECT version, name, checksum, checksum_algorithm, DATE_FORMAT(applied_at, '%Y-%m-%dT%H:%i:%s.%fZ'), \
             duration_ms, success, error, failed_statement_index, failed_statement, statements_total, \
             statements_applied, applied_by, keel_version, method FROM {} ORDER BY version",
            self.table
        );
        let rows: Vec<mysql_async::Row> = match self.conn.query(sql).await {
            Ok(rows) => rows,
            Err(mysql_async::Error::Server(s)) if s.code == 1146 => return Ok(Vec::new()),
            Err(e) => return Err(fail("reading the tracking table", e)),
        };
        let mut out = Vec::with_capacity(rows.len());
        for mut r in rows {
            out.push(AppliedMigration {
                version: take(&mut r, 0)?,
                name: take(&mut r, 1)?,
                checksum: Checksum::from_stored(take(&mut r, 2)?),
                checksum_algorithm: take(&mut r, 3)?,
                applied_at: take(&mut r, 4)?,
                duration_ms: take(&mut r, 5)?,
                success: take(&mut r, 6)?,
                error: take(&mut r, 7)?,
                failed_statement_index: take(&mut r, 8)?,
                failed_statement: take(&mut r, 9)?,
                statements_total: take(&mut r, 10)?,
                statements_applied: take(&mut r, 11)?,
                applied_by: take(&mut r, 12)?,
                keel_version: take(&mut r, 13)?,
                method: Method::parse(&take::<String>(&mut r, 14)?),
            });
        }
        Ok(out)
    }

    async fn applied_sql(&mut self, version: i64) -> Result<Option<String>> {
        let sql = format!("SELECT applied_sql FROM {} WHERE version = ?", self.table);
        self.conn
            .exec_first(sql, (version,))
            .await
            .map_err(|e| fail("reading applied SQL", e))
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
            .map_err(|e| fail("starting a transaction", e))?;
        self.tx_started = Some(Instant::now());
        for (i, s) in statements.iter().enumerate() {
            if let Err(e) = self.conn.query_drop(s.text.as_str()).await {
                self.tx_started = None;
                self.conn
                    .query_drop("ROLLBACK")
                    .await
                    .map_err(|e| fail("rolling back", e))?;
                return Ok(Err((i, db_error(&e))));
            }
        }
        let (sql, params) = self.write_sql(finish);
        self.tx_started = None;
        self.conn
            .exec_drop(sql, params)
            .await
            .map_err(|e| fail("writing the tracking row", e))?;
        self.conn
            .query_drop("COMMIT")
            .await
            .map_err(|e| fail("committing", e))?;
        Ok(Ok(()))
    }

    async fn execute(&mut self, sql: &str) -> Result<Result<(), DbError>> {
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
            .map_err(|e| fail("writing the tracking table", e))
    }

    async fn user(&mut self) -> Result<String> {
        let user: Option<String> = self
            .conn
            .query_first("SELECT CURRENT_USER()")
            .await
            .map_err(|e| fail("reading the user", e))?;
        let user = user.unwrap_or_default();
        Ok(user.split('@').next().unwrap_or_default().to_string())
    }

    async fn close(self) -> Result<()> {
        self.conn
            .disconnect()
            .await
            .map_err(|e| fail("disconnecting", e))
    }
}
