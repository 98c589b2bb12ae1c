//! SQLite: AUTOINCREMENT tables whose `sqlite_sequence` entry is below
//! `MAX(rowid)` (or missing while the table has rows). SQLite hands out
//! `max(seq, MAX(rowid)) + 1`, so the next INSERT still works — but once the
//! top rows are deleted, ids SQLite promised never to reuse would be reused.
//!
//! `fix` raises (or inserts) the `sqlite_sequence` rows in one
//! `BEGIN IMMEDIATE` transaction, recomputing every maximum inside it, so a
//! writer cannot slip a larger id in between check and repair.

use super::{Change, Finding, Options, Problem, Report};
use crate::backend::sqlite::fail;
use crate::dialect::Dialect;
use crate::error::Result;
use crate::schema::inspect::sqlite::ddl::rowid_facts;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::collections::HashMap;

/// One AUTOINCREMENT table and where its counter stands.
struct Table {
    name: String,
    /// The INTEGER PRIMARY KEY column, or `rowid`.
    column: String,
    seq: Option<i64>,
    max: Option<i64>,
}

impl Table {
    /// Whether the counter is below the data (a missing row counts as 0).
    fn behind(&self) -> bool {
        self.max.is_some_and(|m| m > self.seq.unwrap_or(0))
    }
}

pub(super) fn run(
    conn: &mut Connection,
    tracking_table: &str,
    options: &Options,
) -> Result<Report> {
    let tables = inspect(conn, tracking_table)?;
    let mut report = Report {
        columns_checked: tables.len(),
        ..Report::default()
    };
    for t in tables.iter().filter(|t| t.behind()) {
        report.findings.push(Finding {
            problem: Problem::Behind,
            table: t.name.clone(),
            column: t.column.clone(),
            sequence: Some("sqlite_sequence".to_string()),
            role: None,
            detail: format!(
                "{} but MAX({}) is {}: ids SQLite promised never to reuse would be reused after deletes",
                describe_seq(t.seq),
                t.column,
                t.max.unwrap_or(0)
            ),
            fixable: true,
        });
    }
    if options.fix && !report.findings.is_empty() {
        report.changes = fix(conn, &tables)?;
    }
    Ok(report)
}

fn describe_seq(seq: Option<i64>) -> String {
    match seq {
        Some(s) => format!("sqlite_sequence is {s}"),
        None => "sqlite_sequence has no row".to_string(),
    }
}

/// Every AUTOINCREMENT table but SQLite's own and keel's tracking table.
fn inspect(conn: &Connection, tracking_table: &str) -> Result<Vec<Table>> {
    let context = "reading the AUTOINCREMENT tables";
    let candidates: Vec<(String, Option<String>)> = conn
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> ?1 ORDER BY name",
        )
        .and_then(|mut s| {
            s.query_map([tracking_table], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .map_err(|e| fail(context, e))?;
    let seqs = sequence_rows(conn).map_err(|e| fail(context, e))?;
    let mut tables = Vec::new();
    for (name, sql) in candidates {
        let facts = rowid_facts(sql.as_deref().unwrap_or(""));
        let autoincrement = facts.autoincrement || seqs.contains_key(&name);
        if !autoincrement || facts.without_rowid || facts.virtual_table {
            continue;
        }
        let column = facts.rowid_alias.unwrap_or_else(|| "rowid".to_string());
        let max = column_max(conn, &name, &column).map_err(|e| fail(context, e))?;
        tables.push(Table {
            seq: seqs.get(&name).copied().flatten(),
            name,
            column,
            max,
        });
    }
    Ok(tables)
}

/// `sqlite_sequence` by table name; empty when no AUTOINCREMENT table was
/// ever created (the table does not exist then).
fn sequence_rows(conn: &Connection) -> rusqlite::Result<HashMap<String, Option<i64>>> {
    let exists: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Ok(HashMap::new());
    }
    let mut stmt = conn.prepare("SELECT name, seq FROM sqlite_sequence")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut out = HashMap::new();
    for row in rows {
        let (name, seq): (String, Option<i64>) = row?;
        // Duplicate rows (only a hand edit makes them): the largest counts.
        let entry = out.entry(name).or_insert(seq);
        *entry = (*entry).max(seq);
    }
    Ok(out)
}

fn column_max(conn: &Connection, table: &str, column: &str) -> rusqlite::Result<Option<i64>> {
    let sql = format!(
        "SELECT MAX({}) FROM {}",
        Dialect::Sqlite.quote(column),
        Dialect::Sqlite.quote(table)
    );
    conn.query_row(&sql, [], |r| r.get(0))
}

/// Raises every counter still behind, in one immediate transaction.
fn fix(conn: &mut Connection, tables: &[Table]) -> Result<Vec<Change>> {
    let context = "repairing sqlite_sequence";
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| fail(context, e))?;
    // Recomputed under the write lock: what was read before may be stale.
    let seqs = sequence_rows(&tx).map_err(|e| fail(context, e))?;
    let mut changes = Vec::new();
    for t in tables.iter().filter(|t| t.behind()) {
        let now = Table {
            name: t.name.clone(),
            column: t.column.clone(),
            seq: seqs.get(&t.name).copied().flatten(),
            max: column_max(&tx, &t.name, &t.column).map_err(|e| fail(context, e))?,
        };
        let Some(max) = now.max.filter(|_| now.behind()) else {
            continue;
        };
        let literal = sql_string(&t.name);
        let sql = if seqs.contains_key(&t.name) {
            tx.execute(
                "UPDATE sqlite_sequence SET seq = ?1 WHERE name = ?2",
                params![max, t.name],
            )
            .map_err(|e| fail(context, e))?;
            format!("UPDATE sqlite_sequence SET seq = {max} WHERE name = {literal}")
        } else {
            tx.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)",
                params![t.name, max],
            )
            .map_err(|e| fail(context, e))?;
            format!("INSERT INTO sqlite_sequence (name, seq) VALUES ({literal}, {max})")
        };
        changes.push(Change {
            problem: Problem::Behind,
            table: t.name.clone(),
            column: t.column.clone(),
            sequence: Some("sqlite_sequence".to_string()),
            role: None,
            before: now
                .seq
                .map_or_else(|| "no row".to_string(), |s| format!("seq {s}")),
            after: format!("seq {max}"),
            sql: vec![sql],
        });
    }
    // Dropping `tx` on an error above rolls everything back.
    tx.commit().map_err(|e| fail(context, e))?;
    Ok(changes)
}

/// A string as an SQL literal, for showing a statement that was run with
/// bound parameters.
fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_row_is_behind_only_when_the_table_has_positive_ids() {
        let t = |seq, max| Table {
            name: "t".into(),
            column: "id".into(),
            seq,
            max,
        };
        assert!(t(Some(5), Some(100)).behind());
        assert!(t(None, Some(1)).behind());
        assert!(!t(None, None).behind());
        assert!(!t(Some(100), Some(100)).behind());
        assert!(!t(Some(500), Some(100)).behind());
        assert!(!t(None, Some(-3)).behind());
    }

    #[test]
    fn fix_raises_and_inserts_counters_and_is_idempotent() -> Result<()> {
        let mut conn = Connection::open_in_memory().map_err(|e| fail("open", e))?;
        conn.execute_batch(
            "CREATE TABLE \"user\" (id INTEGER PRIMARY KEY AUTOINCREMENT);
             CREATE TABLE \"we\"\"ird name\" (\"the id\" INTEGER PRIMARY KEY AUTOINCREMENT);
             CREATE TABLE plain (id INTEGER PRIMARY KEY);
             CREATE TABLE decoy (id INTEGER PRIMARY KEY, autoincrement_note TEXT DEFAULT 'AUTOINCREMENT' CHECK (autoincrement_note <> 'x AUTOINCREMENT'));
             INSERT INTO decoy VALUES (50, 'AUTOINCREMENT');
             CREATE TABLE keel_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT);
             INSERT INTO \"user\" VALUES (100);
             INSERT INTO \"we\"\"ird name\" VALUES (7);
             INSERT INTO keel_migrations VALUES (9);
             UPDATE sqlite_sequence SET seq = 5 WHERE name = 'user';
             DELETE FROM sqlite_sequence WHERE name <> 'user';",
        )
        .map_err(|e| fail("setup", e))?;
        let fix = Options {
            fix: true,
            ..Options::default()
        };
        let report = run(&mut conn, "keel_migrations", &fix)?;
        assert_eq!(report.columns_checked, 2);
        let found: Vec<_> = report
            .findings
            .iter()
            .map(|f| (&*f.table, &*f.column))
            .collect();
        assert_eq!(found, [("user", "id"), ("we\"ird name", "the id")]);
        assert_eq!(report.changes.len(), 2);
        assert_eq!(report.changes[0].before, "seq 5");
        assert_eq!(report.changes[0].after, "seq 100");
        assert_eq!(report.changes[1].before, "no row");
        assert_eq!(report.changes[1].after, "seq 7");
        let again = run(&mut conn, "keel_migrations", &fix)?;
        assert!(again.findings.is_empty() && again.changes.is_empty());
        Ok(())
    }
}
