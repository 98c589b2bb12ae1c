//! The mark of a copy that has not finished: one row in keel's own table
//! [`crate::known::COPY_MARKER`] in the target.
//!
//! The rows commit before the foreign keys, unique and primary keys,
//! grants and sequence checks are built (see the module docs of
//! [`super`] for why). So that a failure in between can never look like a
//! finished copy, the first loading connection creates the mark inside
//! its own transaction — it commits with the data, or not at all — and
//! the mark is removed only once every later step has succeeded. While it
//! is there, `keel validate` reports the copy incomplete (exit 1), and a
//! failed copy's error says what is in the target and how to finish.

use crate::db::decode::{Origin, PgRow};
use crate::db::error::fail;
use crate::error::{Error, Result};
use crate::known::COPY_MARKER;
use tokio_postgres::Client;
use tokio_postgres::types::Type;

fn table() -> String {
    crate::dialect::Dialect::Postgres.quote(COPY_MARKER)
}

/// Inside the loading transaction: marks the copy incomplete.
pub(super) async fn mark(client: &Client, source: &str, tables: &[String]) -> Result<()> {
    let t = table();
    client
        .batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {t} (started_at timestamptz NOT NULL DEFAULT now(), source text NOT NULL, tables text[] NOT NULL); DELETE FROM {t}"
        ))
        .await
        .map_err(|e| fail("marking the copy incomplete until it finishes", &e))?;
    client
        .query_typed(
            &format!("INSERT INTO {t} (source, tables) VALUES ($1, $2)"),
            &[(&source, Type::TEXT), (&tables, Type::TEXT_ARRAY)],
        )
        .await
        .map_err(|e| fail("marking the copy incomplete until it finishes", &e))?;
    Ok(())
}

/// Every step done: the copy is complete.
pub(super) async fn clear(client: &Client) -> Result<()> {
    client
        .batch_execute(&format!("DROP TABLE IF EXISTS {}", table()))
        .await
        .map_err(|e| fail("removing the copy's incomplete mark", &e))
}

/// The mark in the target, if any: when the copy started and from where.
pub(crate) async fn read(client: &Client) -> Result<Option<String>> {
    let rows = client
        .query_typed(
            &format!(
                "SELECT (SELECT started_at::text || ' from ' || source FROM {} LIMIT 1) WHERE to_regclass($1) IS NOT NULL",
                table()
            ),
            &[(&COPY_MARKER, Type::TEXT)],
        )
        .await;
    let rows = match rows {
        Ok(rows) => rows,
        // no such table: the query does not even plan
        Err(e) if e.as_db_error().map(|d| d.code().code()) == Some("42P01") => return Ok(None),
        Err(e) => return Err(fail("looking for an unfinished copy", &e)),
    };
    match rows.first() {
        Some(r) => Ok(Some(
            r.col::<Option<String>>(0, Origin::table(COPY_MARKER))?
                .unwrap_or_default(),
        )),
        None => Ok(None),
    }
}

/// What a failure after the commit leaves: the error, with what is in the
/// target and how to finish.
pub(super) fn after_commit(e: Error, target: &str, tables: usize) -> Error {
    let left = format!(
        "the rows of all {tables} table(s) are committed in {target}, but keys, foreign keys, grants or sequences are not all in place: the target is marked incomplete (table {COPY_MARKER}; `keel validate` reports it)"
    );
    let hint = "fix the cause above, then run the same `keel copy` with --if-exists drop: it redoes the copy and removes the mark";
    // the cause first, then what it left behind
    Error::invalid(format!("{e}; {left}"), Some(hint))
}
