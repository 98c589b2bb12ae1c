//! SQLite: AUTOINCREMENT tables whose `sqlite_sequence` entry is below
//! `MAX(rowid)` (or missing while the table has rows). SQLite hands out
//! `max(seq, MAX(rowid)) + 1`, so the next INSERT still works — but once the
//! top rows are deleted, ids SQLite promised never to reuse would be reused.
//!
//! `fix` raises (or inserts) the `sqlite_sequence` rows in one
//! `BEGIN IMMEDIATE` transaction, recomputing every maximum inside it, so a
//! writer cannot slip a larger id in between check and repair.

use super::{Change, Finding, Options, Problem, Report};
use crate::db::error::fail;
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
    let known = crate::known::KnownTables::new(tracking_table);
    let mut tables = inspect(conn, tracking_table)?;
    tables.retain(|t| !known.is_known(&t.name));
    let mut report = Report {
        columns_checked: tables.len(),
        ..Report::default()
    };
    report.findings.extend(tables.iter().filter_map(assess));
    if options.fix && !report.findings.is_empty() {
        report.changes = fix(conn, &tables)?;
    }
    Ok(report)
}

/// What is wrong with one AUTOINCREMENT table: pure, so it is unit-tested.
fn assess(t: &Table) -> Option<Finding> {
    t.behind().then(|| Finding {
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
    })
}

/// How `fix` raises one counter to the table's maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Raise {
    /// `UPDATE` the table's `sqlite_sequence` row.
    Update(i64),
    /// `INSERT` the row it lacks.
    Insert(i64),
}

/// The repair of one table, from its state read under the write lock
/// (`has_row`: whether `sqlite_sequence` has a row for it): pure, so it is
/// unit-tested. `None` when it is no longer behind.
fn plan_raise(now: &Table, has_row: bool) -> Option<(Raise, Change)> {
    let max = now.max.filter(|_| now.behind())?;
    let literal = sql_string(&now.name);
    let (raise, sql) = if has_row {
        (
            Raise::Update(max),
            format!("UPDATE sqlite_sequence SET seq = {max} WHERE name = {literal}"),
        )
    } else {
        (
            Raise::Insert(max),
            format!("INSERT INTO sqlite_sequence (name, seq) VALUES ({literal}, {max})"),
        )
    };
    let change = Change {
        problem: Problem::Behind,
        table: now.name.clone(),
        column: now.column.clone(),
        sequence: Some("sqlite_sequence".to_string()),
        role: None,
        before: now
            .seq
            .map_or_else(|| "no row".to_string(), |s| format!("seq {s}")),
        after: format!("seq {max}"),
        sql: vec![sql],
    };
    Some((raise, change))
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
        let Some((raise, change)) = plan_raise(&now, seqs.contains_key(&t.name)) else {
            continue;
        };
        match raise {
            Raise::Update(max) => tx.execute(
                "UPDATE sqlite_sequence SET seq = ?1 WHERE name = ?2",
                params![max, t.name],
            ),
            Raise::Insert(max) => tx.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)",
                params![t.name, max],
            ),
        }
        .map_err(|e| fail(context, e))?;
        changes.push(change);
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

    fn table(name: &str, seq: Option<i64>, max: Option<i64>) -> Table {
        Table {
            name: name.into(),
            column: "id".into(),
            seq,
            max,
        }
    }

    #[test]
    fn a_counter_behind_the_data_is_reported_with_both_numbers() {
        let f = assess(&table("user", Some(5), Some(100))).unwrap();
        assert_eq!(f.problem, Problem::Behind);
        assert_eq!((&*f.table, &*f.column), ("user", "id"));
        assert_eq!(f.sequence.as_deref(), Some("sqlite_sequence"));
        assert!(f.fixable);
        assert_eq!(
            f.detail,
            "sqlite_sequence is 5 but MAX(id) is 100: ids SQLite promised never to reuse would be reused after deletes"
        );
        let f = assess(&table("user", None, Some(3))).unwrap();
        assert!(
            f.detail
                .starts_with("sqlite_sequence has no row but MAX(id) is 3"),
            "{}",
            f.detail
        );
        assert!(assess(&table("user", Some(100), Some(100))).is_none());
        assert!(assess(&table("user", None, None)).is_none());
    }

    #[test]
    fn fix_updates_an_existing_row_and_inserts_a_missing_one() {
        let (raise, change) = plan_raise(&table("user", Some(5), Some(100)), true).unwrap();
        assert_eq!(raise, Raise::Update(100));
        assert_eq!((&*change.before, &*change.after), ("seq 5", "seq 100"));
        assert_eq!(
            change.sql,
            ["UPDATE sqlite_sequence SET seq = 100 WHERE name = 'user'"]
        );
        let (raise, change) = plan_raise(&table("it's", None, Some(7)), false).unwrap();
        assert_eq!(raise, Raise::Insert(7));
        assert_eq!((&*change.before, &*change.after), ("no row", "seq 7"));
        assert_eq!(
            change.sql,
            ["INSERT INTO sqlite_sequence (name, seq) VALUES ('it''s', 7)"]
        );
        // caught up in between (read again under the write lock): nothing to do
        assert!(plan_raise(&table("user", Some(100), Some(100)), true).is_none());
        assert!(plan_raise(&table("user", Some(5), None), true).is_none());
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
