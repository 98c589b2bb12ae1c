//! SQLite backend (rusqlite, bundled SQLite).
//!
//! The migration lock is an OS file lock on `<database>.keel-lock` beside the
//! database file: it covers every process that opens the same file, dies with
//! its process (no stale lock after a crash), and records who holds it. (Atlas
//! puts its SQLite lock in the temp folder, which two containers sharing a
//! volume do not share; sqlx takes none.)

use super::{COLUMNS, Driver, StatementFailure, client_host};
use crate::db::decode::SqliteRow;
use crate::db::error::{Context, db_error};
use crate::db::sql::{Ident, Sql};
use crate::dialect::Dialect;
use crate::error::{DbError, Error, Result};
use crate::settings::DatabaseUrl;
use crate::source::split::Statement;
use crate::source::{Checksum, checksum::ALGORITHM};
use crate::tracking::{AppliedMigration, KEEL_VERSION, Write};
use rusqlite::{Connection, OptionalExtension, params};
use std::fs::File;
use std::io::{Read, Seek, Write as _};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The tracking table, and the read of its rows.
pub(super) const CREATE: &str = include_str!("sql/sqlite_create.sql");
pub(super) const APPLIED: &str = include_str!("sql/sqlite_applied.sql");
/// The read of a table made before the revert columns.
const APPLIED_V1: &str = include_str!("sql/sqlite_applied_v1.sql");
/// Adds the revert columns to such a table.
const UPGRADE: &str = include_str!("sql/sqlite_upgrade.sql");

pub(crate) struct Sqlite {
    conn: Connection,
    /// The tracking table's name as given, for messages.
    raw_table: String,
    /// The same, quoted.
    table: String,
    lock_path: Option<PathBuf>,
    lock_file: Option<File>,
    tx_started: Option<Instant>,
    /// The last read found a table made before the revert columns.
    legacy: bool,
}

use crate::db::error::fail;

/// The lock file of a database file, keyed by its canonical path: two
/// runners reaching one database through a symlink or a relative path take
/// the same lock. The file may not exist yet; then its folder is
/// canonicalized.
fn lock_path_of(path: &Path) -> PathBuf {
    let canonical = std::fs::canonicalize(path).ok().or_else(|| {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        Some(std::fs::canonicalize(parent).ok()?.join(path.file_name()?))
    });
    let base = canonical.unwrap_or_else(|| path.to_path_buf());
    let mut name = base.into_os_string();
    name.push(".keel-lock");
    PathBuf::from(name)
}

impl Sqlite {
    /// The connection, for engine-specific work outside migrations.
    pub(crate) fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Wraps an open connection to `url`; the lock file sits beside the
    /// database file.
    pub fn new(conn: Connection, url: &DatabaseUrl, table: &str) -> Sqlite {
        let path = url.sqlite_path().unwrap_or(":memory:");
        let lock_path = (path != ":memory:").then(|| lock_path_of(Path::new(path)));
        Sqlite {
            conn,
            raw_table: table.to_string(),
            table: Dialect::Sqlite.quote(table),
            lock_path,
            lock_file: None,
            tx_started: None,
            legacy: false,
        }
    }

    fn write_now(&mut self, write: &Write) -> rusqlite::Result<()> {
        let t = &self.table;
        match write {
            Write::Upsert(r) => {
                let duration = r
                    .duration_ms
                    .or_else(|| self.tx_started.map(|s| s.elapsed().as_millis() as i64))
                    .unwrap_or(0);
                self.conn.execute(
                    &format!(
                        "INSERT OR REPLACE INTO {t} ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, \
                         coalesce(?16, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
                    ),
                    params![
                        r.version,
                        r.name,
                        r.checksum.as_str(),
                        ALGORITHM,
                        duration,
                        r.success,
                        r.error,
                        r.failed_statement_index,
                        r.failed_statement,
                        r.statements_total,
                        r.statements_applied,
                        r.applied_by,
                        KEEL_VERSION,
                        r.method.as_str(),
                        r.sql,
                        r.applied_at
                    ],
                )?;
            }
            Write::Progress {
                version,
                statements_applied,
                started,
            } => {
                self.conn.execute(
                    &format!("UPDATE {t} SET statements_applied = ?2, failed_statement_index = ?3, failed_statement = NULL, error = NULL WHERE version = ?1"),
                    params![version, statements_applied, started],
                )?;
            }
            Write::Accept {
                version,
                name,
                checksum,
                sql,
            } => {
                self.conn.execute(
                    &format!("UPDATE {t} SET checksum = ?2, checksum_algorithm = ?3, applied_sql = ?4, name = ?5 WHERE version = ?1"),
                    params![version, checksum.as_str(), ALGORITHM, sql, name],
                )?;
            }
            Write::Delete { version } => {
                self.conn.execute(
                    &format!("DELETE FROM {t} WHERE version = ?1"),
                    params![version],
                )?;
            }
            Write::RevertProgress {
                version,
                statements_applied,
                statements_total,
            } => {
                self.conn.execute(
                    &format!(
                        "UPDATE {t} SET reverted_at = NULL, reverted_by = NULL, revert_duration_ms = NULL, revert_error = NULL, \
                         revert_statements_applied = ?2, revert_statements_total = ?3 WHERE version = ?1"
                    ),
                    params![version, statements_applied, statements_total],
                )?;
            }
            Write::RevertFailed {
                version,
                error,
                statements_applied,
                statements_total,
                duration_ms,
                by,
            } => {
                self.conn.execute(
                    &format!(
                        "UPDATE {t} SET reverted_at = NULL, revert_error = ?2, revert_statements_applied = ?3, \
                         revert_statements_total = ?4, revert_duration_ms = ?5, reverted_by = ?6 WHERE version = ?1"
                    ),
                    params![version, error, statements_applied, statements_total, duration_ms, by],
                )?;
            }
            Write::Reverted {
                version,
                statements_total,
                duration_ms,
                by,
            } => {
                let duration = duration_ms
                    .or_else(|| self.tx_started.map(|s| s.elapsed().as_millis() as i64))
                    .unwrap_or(0);
                self.conn.execute(
                    &format!(
                        "UPDATE {t} SET reverted_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), revert_error = NULL, \
                         revert_statements_applied = ?2, revert_statements_total = ?2, revert_duration_ms = ?3, \
                         reverted_by = ?4 WHERE version = ?1"
                    ),
                    params![version, statements_total, duration, by],
                )?;
            }
        }
        Ok(())
    }
}

impl Sqlite {
    /// Foreign keys off for a migration run statement by statement, as
    /// `sqlite3` runs a file; returns whether they were on.
    pub(crate) fn foreign_keys_off(&mut self) -> Result<bool> {
        let enforced: bool = self
            .conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .map_err(|e| fail("reading PRAGMA foreign_keys", e))?;
        if enforced {
            self.conn
                .execute_batch("PRAGMA foreign_keys = OFF")
                .map_err(|e| fail("turning foreign key enforcement off", e))?;
        }
        Ok(enforced)
    }

    pub(crate) fn foreign_keys_on(&mut self) -> Result<()> {
        self.conn
            .execute_batch("PRAGMA foreign_keys = ON")
            .map_err(|e| fail("turning foreign key enforcement back on", e))
    }

    /// One migration in one transaction; with `check_foreign_keys`, a
    /// dangling reference left by the migration fails it (at its last
    /// statement) and rolls it back.
    fn run_transaction(
        &mut self,
        statements: &[Statement],
        finish: &Write,
        check_foreign_keys: bool,
    ) -> Result<Result<(), StatementFailure>> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| fail("starting a transaction", e))?;
        self.tx_started = Some(Instant::now());
        for (i, s) in statements.iter().enumerate() {
            if let Err(e) = self.conn.execute_batch(&s.text) {
                let error = db_error(&e);
                self.rollback()?;
                return Ok(Err((i, error)));
            }
        }
        if check_foreign_keys {
            let dangling = self.foreign_key_check();
            let dangling = match dangling {
                Ok(d) => d,
                Err(e) => {
                    self.rollback()?;
                    return Err(fail("checking foreign keys (PRAGMA foreign_key_check)", e));
                }
            };
            if !dangling.is_empty() {
                self.rollback()?;
                let shown: Vec<String> = dangling.iter().take(10).cloned().collect();
                let more = dangling.len().saturating_sub(shown.len());
                let message = format!(
                    "FOREIGN KEY check failed after the migration's last statement (PRAGMA foreign_key_check): {}{}",
                    shown.join("; "),
                    if more > 0 {
                        format!("; and {more} more")
                    } else {
                        String::new()
                    }
                );
                return Ok(Err((
                    statements.len().saturating_sub(1),
                    DbError {
                        message,
                        sqlstate: None,
                    },
                )));
            }
        }
        let started = self.tx_started;
        let written = self.write_now(finish);
        self.tx_started = None;
        if let Err(e) = written {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(fail("writing the tracking row", e));
        }
        self.conn
            .execute_batch("COMMIT")
            .map_err(|e| fail("committing", e))?;
        // the recorded duration includes the commit
        let measured = match finish {
            Write::Upsert(r) if r.duration_ms.is_none() => Some(("duration_ms", r.version)),
            Write::Reverted {
                version,
                duration_ms: None,
                ..
            } => Some(("revert_duration_ms", *version)),
            _ => None,
        };
        if let (Some((column, version)), Some(started)) = (measured, started) {
            let ms = started.elapsed().as_millis() as i64;
            self.conn
                .execute(
                    &format!("UPDATE {} SET {column} = ?2 WHERE version = ?1", self.table),
                    params![version, ms],
                )
                .map_err(|e| fail("recording the migration's duration", e))?;
        }
        Ok(Ok(()))
    }

    fn rollback(&mut self) -> Result<()> {
        self.tx_started = None;
        if !self.conn.is_autocommit() {
            self.conn
                .execute_batch("ROLLBACK")
                .map_err(|e| fail("rolling back", e))?;
        }
        Ok(())
    }

    /// Every dangling reference, in words: table, rowid, parent.
    fn foreign_key_check(&mut self) -> rusqlite::Result<Vec<String>> {
        let mut stmt = self.conn.prepare("PRAGMA foreign_key_check")?;
        let rows = stmt.query_map([], |r| {
            let table: String = r.get(0)?;
            let rowid: Option<i64> = r.get(1)?;
            let parent: String = r.get(2)?;
            Ok(match rowid {
                Some(id) => {
                    format!("table {table} rowid {id} references a missing row of {parent}")
                }
                None => format!("table {table} references a missing row of {parent}"),
            })
        })?;
        rows.collect()
    }
}

impl Driver for Sqlite {
    async fn try_lock(&mut self) -> Result<bool> {
        let Some(path) = &self.lock_path else {
            return Ok(true);
        };
        let shown = path.display().to_string();
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| Error::io(&shown, e))?;
        match file.try_lock() {
            Ok(()) => {
                let holder = format!(
                    "keel {KEEL_VERSION} pid {} on {} (lock file {shown})",
                    std::process::id(),
                    client_host()
                );
                file.set_len(0).map_err(|e| Error::io(&shown, e))?;
                file.rewind().map_err(|e| Error::io(&shown, e))?;
                file.write_all(holder.as_bytes())
                    .map_err(|e| Error::io(&shown, e))?;
                self.lock_file = Some(file);
                Ok(true)
            }
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&shown, e)),
        }
    }

    async fn lock_holder(&mut self) -> Result<String> {
        let Some(path) = &self.lock_path else {
            return Ok("nobody".to_string());
        };
        let mut text = String::new();
        if let Ok(mut f) = File::open(path) {
            let _ = f.read_to_string(&mut text);
        }
        Ok(if text.trim().is_empty() {
            format!("another process (lock file {})", path.display())
        } else {
            text
        })
    }

    async fn unlock(&mut self) -> Result<()> {
        if let Some(file) = self.lock_file.take() {
            let _ = file.set_len(0);
            file.unlock()
                .map_err(|e| Error::io("the SQLite lock file", e))?;
        }
        Ok(())
    }

    async fn ensure_table(&mut self) -> Result<()> {
        let sql = Sql::template(
            Dialect::Sqlite,
            CREATE,
            &[("table", &Ident::new(&self.raw_table))],
        );
        self.conn
            .execute_batch(sql.as_str())
            .context("creating the tracking table")?;
        if self.conn.prepare(&super::probe_sql(&self.table)).is_err() {
            for sql in super::upgrade_statements(UPGRADE, &self.table) {
                match self.conn.execute_batch(&sql) {
                    Ok(()) => {}
                    Err(e) if e.to_string().contains("duplicate column") => {}
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
        let sql = Sql::template(
            Dialect::Sqlite,
            APPLIED,
            &[("table", &Ident::new(&self.raw_table))],
        );
        self.legacy = false;
        let mut stmt = match self.conn.prepare(sql.as_str()) {
            Ok(s) => s,
            Err(e) if e.to_string().contains("no such table") => return Ok(Vec::new()),
            Err(e) if e.to_string().contains("no such column") => {
                self.legacy = true;
                let v1 = Sql::template(
                    Dialect::Sqlite,
                    APPLIED_V1,
                    &[("table", &Ident::new(&self.raw_table))],
                );
                self.conn
                    .prepare(v1.as_str())
                    .map_err(|e| fail(super::reading(&self.raw_table), e))?
            }
            Err(e) => return Err(fail(super::reading(&self.raw_table), e)),
        };
        let legacy = self.legacy;
        let mut rows = stmt.query([]).context(super::reading(&self.raw_table))?;
        let origin = super::tracking_origin(&self.raw_table);
        let mut out = Vec::new();
        while let Some(r) = rows.next().context(super::reading(&self.raw_table))? {
            out.push(super::applied_row!(
                r,
                origin,
                legacy,
                r.col(4, origin)?,
                r.col(15, origin)?
            ));
        }
        Ok(out)
    }

    async fn applied_sql(&mut self, version: i64) -> Result<Option<String>> {
        self.conn
            .query_row(
                &format!("SELECT applied_sql FROM {} WHERE version = ?1", self.table),
                [version],
                |r| r.get(0),
            )
            .optional()
            .context("reading applied SQL")
    }

    async fn run_in_transaction(
        &mut self,
        statements: &[Statement],
        finish: &Write,
        _durable: bool,
    ) -> Result<Result<(), StatementFailure>> {
        // As `sqlite3` runs a file: foreign keys are not enforced statement
        // by statement (SQLite's 12-step table rebuild needs that), but
        // checked once before the commit. The setting cannot change inside
        // a transaction, so it is set before BEGIN and restored after.
        let enforced: bool = self
            .conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .map_err(|e| fail("reading PRAGMA foreign_keys", e))?;
        if enforced {
            self.conn
                .execute_batch("PRAGMA foreign_keys = OFF")
                .map_err(|e| fail("turning foreign key enforcement off", e))?;
        }
        let result = self.run_transaction(statements, finish, enforced);
        if enforced {
            let restored = self
                .conn
                .execute_batch("PRAGMA foreign_keys = ON")
                .map_err(|e| fail("turning foreign key enforcement back on", e));
            let outcome = result?;
            restored?;
            return Ok(outcome);
        }
        result
    }

    async fn execute(&mut self, sql: &str) -> Result<Result<(), DbError>> {
        Ok(self.conn.execute_batch(sql).map_err(|e| db_error(&e)))
    }

    async fn write(&mut self, write: &Write) -> Result<()> {
        self.write_now(write)
            .map_err(|e| fail("writing the tracking table", e))
    }

    async fn user(&mut self) -> Result<String> {
        Ok(super::os_user())
    }

    async fn close(mut self) -> Result<()> {
        self.unlock().await?;
        self.conn
            .close()
            .map_err(|(_, e)| fail("closing the database", e))
    }
}
