//! keel's own history travels with a copy: the source's tracking rows
//! arrive in the target's tracking table (same versions, names, checksums,
//! applied SQL, times and users; `method = copy`), so `keel status` on the
//! target says what it said on the source and `keel up` there applies only
//! what is new. The tracking table itself is never copied as data
//! ([`crate::known`]).

use crate::backend::{Backend, sqlite::Sqlite};
use crate::db::{ConnectOptions, Database};
use crate::error::{DbError, Error, Result};
use crate::settings::DatabaseUrl;
use crate::tracking::{Method, Record, Write};
use std::path::Path;

/// The source's tracking rows, each with its applied SQL; empty when keel
/// never migrated the source.
pub(crate) async fn read(path: &Path, table: &str) -> Result<Vec<Record>> {
    let url = DatabaseUrl::parse(&format!("sqlite:{}", path.display()))?;
    let mut source = Backend::Sqlite(Sqlite::new(crate::db::sqlite_read_only(path)?, &url, table));
    let mut records = Vec::new();
    // a reverted migration is history of the source, not applied there
    for row in source
        .applied()
        .await?
        .into_iter()
        .filter(|r| !r.is_reverted())
    {
        let sql = source.applied_sql(row.version).await?.unwrap_or_default();
        records.push(Record {
            version: row.version,
            name: row.name,
            checksum: row.checksum,
            duration_ms: Some(row.duration_ms),
            applied_at: Some(row.applied_at),
            success: row.success,
            error: row.error,
            failed_statement_index: row.failed_statement_index,
            failed_statement: row.failed_statement,
            statements_total: row.statements_total,
            statements_applied: row.statements_applied,
            applied_by: row.applied_by,
            method: Method::Copy,
            sql,
        });
    }
    source.close().await?;
    Ok(records)
}

/// Writes `records` into the target's tracking table, in one transaction.
pub(crate) async fn write(target: &DatabaseUrl, table: &str, records: Vec<Record>) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let options = ConnectOptions {
        table: table.to_string(),
        ..ConnectOptions::default()
    };
    let mut db = Database::connect_with(target, options).await?;
    let written = write_all(&mut db.backend, records).await;
    let closed = db.close().await;
    written.map_err(|e| {
        Error::db(
            format!(
                "the rows are in the target, but keel's history could not be written to its tracking table {table} (run `keel stamp` there with the last version `keel status` shows on the source)"
            ),
            DbError {
                message: e.to_string(),
                sqlstate: None,
            },
        )
    })?;
    closed
}

async fn write_all(target: &mut Backend, records: Vec<Record>) -> Result<()> {
    target.ensure_table().await?;
    if let Err(e) = target.execute("BEGIN").await? {
        return Err(Error::db("starting the history transaction", e));
    }
    for r in records {
        if let Err(e) = target.write(&Write::Upsert(Box::new(r))).await {
            let _ = target.execute("ROLLBACK").await;
            return Err(e);
        }
    }
    if let Err(e) = target.execute("COMMIT").await? {
        return Err(Error::db("committing the history", e));
    }
    Ok(())
}
