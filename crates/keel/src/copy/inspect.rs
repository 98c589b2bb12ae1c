//! Reading a SQLite database for a copy. The schema comes from the one
//! SQLite reader, [`crate::schema::inspect::sqlite`] (tables, columns,
//! keys, indexes, foreign keys, the rowid alias and AUTOINCREMENT, in a
//! fixed number of whole-database queries); here it is turned into what a
//! copy plans with, plus what only a copy reads: the AUTOINCREMENT
//! counters in `sqlite_sequence` and, only for columns whose type depends
//! on it, which storage classes their values use.

use super::types::{self, Classes};
use crate::error::{Error, Result};
use crate::schema::model;
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::Path;

pub use crate::schema::model::SqliteIndex as Index;

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// The declared type as written (empty when untyped).
    pub declared: String,
    /// NOT NULL, or part of the primary key.
    pub not_null: bool,
    /// The default as SQLite stores it (SQL text), if any.
    pub default: Option<String>,
    /// A generated column (its values are copied, its expression is not).
    pub generated: bool,
    pub classes: Option<Classes>,
    /// `COLLATE` of the column (NOCASE, RTRIM, …), if any.
    pub collation: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub parent: String,
    pub from: Vec<String>,
    /// Empty: the parent's primary key.
    pub to: Vec<String>,
    pub on_update: String,
    pub on_delete: String,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// Primary-key column indexes, in key order.
    pub primary_key: Vec<usize>,
    /// The INTEGER PRIMARY KEY column that aliases the rowid.
    pub rowid_alias: Option<usize>,
    pub without_rowid: bool,
    /// `sqlite_sequence.seq`: the largest id AUTOINCREMENT ever handed out.
    pub sequence: Option<i64>,
    pub rows: i64,
    /// The largest rowid (the largest id, for a rowid alias).
    pub max_rowid: Option<i64>,
    pub indexes: Vec<Index>,
    /// The collation of each index key column, by (index, column), as
    /// SQLite compares it there (`COLLATE` in the index, else the column's).
    pub index_collations: HashMap<(String, String), String>,
    pub foreign_keys: Vec<ForeignKey>,
    /// CHECK expressions (SQLite SQL: reported, not copied).
    pub checks: Vec<String>,
}

/// Views, triggers and virtual tables: reported, never silently dropped.
#[derive(Debug, Clone)]
pub struct Other {
    pub kind: String,
    pub name: String,
}

pub fn open(path: &Path) -> Result<Connection> {
    crate::db::sqlite_read_only(path)
}

/// An error reading the SQLite source, naming the file.
pub fn fail(path: &Path, e: &rusqlite::Error) -> Error {
    Error::invalid_input(format!(
        "reading SQLite database {}: {}",
        path.display(),
        crate::db::error::db_error(e)
    ))
}

/// Every user table (SQLite's own `sqlite_*` tables excluded) and the
/// objects that are not copied.
pub fn tables(conn: &mut Connection, path: &Path) -> Result<(Vec<Table>, Vec<Other>)> {
    // no table is left out here (an empty name matches none)
    let schema = crate::schema::inspect::sqlite::inspect(conn, "")?;
    let sequences = sqlite_sequence(conn, path)?;
    let collations = index_collations(conn, path)?;
    let mut triggers = Vec::new();
    let mut others: Vec<Other> = schema
        .views
        .keys()
        .map(|k| Other {
            kind: "view".into(),
            name: k.name.clone(),
        })
        .collect();
    let mut tables = Vec::new();
    for t in schema.tables.values() {
        triggers.extend(t.triggers.keys().map(|name| Other {
            kind: "trigger".into(),
            name: name.clone(),
        }));
        let lite = t.sqlite.clone().unwrap_or_default();
        match lite.kind.as_str() {
            "table" => {
                let mut table = table(t, lite, sequences.get(&t.key.name).copied());
                for index in &table.indexes {
                    for ((i, c), coll) in &collations {
                        if *i == index.name {
                            table
                                .index_collations
                                .insert((i.clone(), c.clone()), coll.clone());
                        }
                    }
                }
                tables.push(table);
            }
            "shadow" => {}
            _ => others.push(Other {
                kind: lite.kind,
                name: t.key.name.clone(),
            }),
        }
    }
    triggers.sort_by(|a, b| a.name.cmp(&b.name));
    others.sort_by(|a, b| a.name.cmp(&b.name));
    triggers.extend(others);
    Ok((tables, triggers))
}

/// The collation of every index key column that is a column, by (index,
/// column): `email COLLATE NOCASE` in a `CREATE INDEX` shows here, not in
/// the column.
fn index_collations(conn: &Connection, path: &Path) -> Result<HashMap<(String, String), String>> {
    let f = |e: rusqlite::Error| fail(path, &e);
    let mut s = conn
        .prepare(include_str!("sql/index_collations.sql"))
        .map_err(f)?;
    let rows = s
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))
        .map_err(f)?
        .collect::<rusqlite::Result<_>>()
        .map_err(f)?;
    Ok(rows)
}

/// `sqlite_sequence` by table name; empty when no AUTOINCREMENT table ever
/// existed (the table does not exist then).
fn sqlite_sequence(conn: &Connection, path: &Path) -> Result<HashMap<String, i64>> {
    let f = |e: rusqlite::Error| fail(path, &e);
    match conn.prepare("SELECT name, seq FROM sqlite_sequence") {
        Ok(mut s) => s
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(f)?
            .collect::<rusqlite::Result<_>>()
            .map_err(f),
        Err(_) => Ok(HashMap::new()),
    }
}

/// A table of the neutral model as a copy plans it.
fn table(t: &model::Table, lite: model::SqliteTable, sequence: Option<i64>) -> Table {
    let columns: Vec<Column> = lite
        .columns
        .iter()
        .filter(|c| c.hidden != 1) // a virtual table's hidden column
        .map(|c| {
            let m = t.column(&c.name);
            Column {
                name: c.name.clone(),
                declared: c.declared.clone(),
                not_null: m.is_some_and(|m| !m.nullable),
                default: m.and_then(|m| m.default.clone()),
                generated: c.hidden >= 2,
                classes: None,
                collation: m.and_then(|m| m.collation.clone()),
            }
        })
        .collect();
    let position = |name: &str| {
        columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    };
    let primary_key: Vec<usize> = t
        .primary_key
        .iter()
        .flat_map(|k| k.columns.iter())
        .filter_map(|c| position(c))
        .collect();
    let rowid_alias = lite.rowid_alias.as_deref().and_then(position);
    let foreign_keys = t
        .foreign_keys
        .values()
        .map(|fk| ForeignKey {
            parent: fk.references.name.clone(),
            from: fk.columns.clone(),
            to: fk.referenced_columns.clone(),
            on_update: fk.on_update.sql().into(),
            on_delete: fk.on_delete.sql().into(),
        })
        .collect();
    Table {
        name: t.key.name.clone(),
        columns,
        primary_key,
        rowid_alias,
        without_rowid: lite.without_rowid,
        sequence,
        rows: 0,
        max_rowid: None,
        indexes: lite.indexes,
        index_collations: HashMap::new(),
        foreign_keys,
        checks: t.checks.values().map(|c| c.expression.clone()).collect(),
    }
}

/// Counts rows, finds the largest id, and profiles the columns whose type
/// depends on their values: one statement per table.
pub fn profile(conn: &Connection, path: &Path, table: &mut Table) -> Result<()> {
    let q = |s: &str| crate::dialect::Dialect::Sqlite.quote(s);
    let max_rowid = if table.without_rowid {
        "NULL"
    } else {
        "max(rowid)"
    };
    let profiled: Vec<usize> = (0..table.columns.len())
        .filter(|i| {
            table
                .columns
                .get(*i)
                .is_some_and(|c| types::needs_profile(&c.declared))
        })
        .collect();
    let mut parts = vec!["count(*)".to_string(), max_rowid.to_string()];
    for c in profiled.iter().filter_map(|i| table.columns.get(*i)) {
        let c = q(&c.name);
        parts.push(format!(
            "sum(typeof({c}) = 'integer'), sum(typeof({c}) = 'real'), sum(typeof({c}) = 'text'), sum(typeof({c}) = 'blob'), sum(typeof({c}) = 'text' AND NOT json_valid({c}))"
        ));
    }
    // max(rowid) alone is a lookup; count(*) alone walks the smallest index
    let sql = if profiled.is_empty() {
        format!(
            "SELECT (SELECT count(*) FROM {t}), (SELECT {max_rowid} FROM {t})",
            t = q(&table.name)
        )
    } else {
        format!("SELECT {} FROM {}", parts.join(", "), q(&table.name))
    };
    let f = |e: rusqlite::Error| fail(path, &e);
    conn.query_row(&sql, [], |r| {
        table.rows = r.get(0)?;
        table.max_rowid = r.get(1)?;
        for (k, i) in profiled.iter().enumerate() {
            let base = 2 + 5 * k;
            let n = |j: usize| {
                r.get::<_, Option<i64>>(base + j)
                    .map(Option::unwrap_or_default)
            };
            let classes = Classes {
                integer: n(0)?,
                real: n(1)?,
                text: n(2)?,
                blob: n(3)?,
                json_invalid: n(4)?,
            };
            if let Some(c) = table.columns.get_mut(*i) {
                c.classes = Some(classes);
            }
        }
        Ok(())
    })
    .map_err(f)?;
    Ok(())
}
