//! Reading a SQLite database for a copy: its tables, columns, keys,
//! indexes and foreign keys from the pragma functions and `sqlite_schema`,
//! AUTOINCREMENT counters from `sqlite_sequence`, and, only for columns
//! whose type depends on it, which storage classes their values use.

use super::types::{self, Classes};
use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub declared: String,
    pub not_null: bool,
    /// The default as SQLite stores it (SQL text), if any.
    pub default: Option<String>,
    /// A generated column (its values are copied, its expression is not).
    pub generated: bool,
    pub classes: Option<Classes>,
}

#[derive(Debug, Clone)]
pub struct Index {
    pub name: String,
    pub unique: bool,
    /// `c` CREATE INDEX, `u` UNIQUE constraint, `pk` primary key.
    pub origin: String,
    pub partial: bool,
    /// Key columns with `DESC`; `None` for an expression.
    pub columns: Vec<Option<(String, bool)>>,
    pub sql: Option<String>,
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
    pub autoincrement: bool,
    /// `sqlite_sequence.seq`: the largest id AUTOINCREMENT ever handed out.
    pub sequence: Option<i64>,
    pub rows: i64,
    /// The largest rowid (the largest id, for a rowid alias).
    pub max_rowid: Option<i64>,
    pub indexes: Vec<Index>,
    pub foreign_keys: Vec<ForeignKey>,
}

/// Views, triggers and virtual tables: reported, never silently dropped.
#[derive(Debug, Clone)]
pub struct Other {
    pub kind: String,
    pub name: String,
}

pub fn open(path: &Path) -> Result<Connection> {
    if !path.is_file() {
        return Err(Error::invalid(
            format!("SQLite file {} does not exist", path.display()),
            Some("give the path of the SQLite database to copy from, e.g. sqlite:app.db"),
        ));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| fail(path, &e))?;
    Ok(conn)
}

pub fn fail(path: &Path, e: &rusqlite::Error) -> Error {
    Error::invalid_input(format!("reading SQLite database {}: {e}", path.display()))
}

/// Every user table (SQLite's own `sqlite_*` tables excluded) and the
/// objects that are not copied.
pub fn tables(conn: &Connection, path: &Path) -> Result<(Vec<Table>, Vec<Other>)> {
    let f = |e: rusqlite::Error| fail(path, &e);
    let mut list = conn
        .prepare("SELECT name, type, wr FROM pragma_table_list WHERE schema = 'main' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
        .map_err(f)?;
    let entries: Vec<(String, String, bool)> = list
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(f)?
        .collect::<rusqlite::Result<_>>()
        .map_err(f)?;
    let mut others: Vec<Other> = conn
        .prepare("SELECT type, name FROM sqlite_schema WHERE type = 'trigger' ORDER BY name")
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok(Other {
                    kind: r.get(0)?,
                    name: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(f)?;
    let sequences: std::collections::HashMap<String, i64> =
        match conn.prepare("SELECT name, seq FROM sqlite_sequence") {
            Ok(mut s) => s
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(f)?
                .collect::<rusqlite::Result<_>>()
                .map_err(f)?,
            Err(_) => Default::default(), // no AUTOINCREMENT table ever existed
        };
    let mut tables = Vec::new();
    for (name, kind, without_rowid) in entries {
        if kind != "table" {
            if kind != "shadow" {
                others.push(Other { kind, name });
            }
            continue;
        }
        tables.push(table(
            conn,
            path,
            &name,
            without_rowid,
            sequences.get(&name).copied(),
        )?);
    }
    Ok((tables, others))
}

fn table(
    conn: &Connection,
    path: &Path,
    name: &str,
    without_rowid: bool,
    sequence: Option<i64>,
) -> Result<Table> {
    let f = |e: rusqlite::Error| fail(path, &e);
    let mut pk: Vec<(i64, usize)> = Vec::new();
    let mut columns = Vec::new();
    let mut stmt = conn
        .prepare("SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) ORDER BY cid")
        .map_err(f)?;
    let mut rows = stmt.query([name]).map_err(f)?;
    while let Some(r) = rows.next().map_err(f)? {
        let hidden: i64 = r.get(5).map_err(f)?;
        if hidden == 1 {
            continue; // a virtual table's hidden column
        }
        let key: i64 = r.get(4).map_err(f)?;
        if key > 0 {
            pk.push((key, columns.len()));
        }
        columns.push(Column {
            name: r.get(0).map_err(f)?,
            declared: r
                .get::<_, Option<String>>(1)
                .map_err(f)?
                .unwrap_or_default(),
            not_null: r.get(2).map_err(f)?,
            default: r.get(3).map_err(f)?,
            generated: hidden >= 2,
            classes: None,
        });
    }
    pk.sort();
    let primary_key: Vec<usize> = pk.into_iter().map(|(_, i)| i).collect();
    let sql: String = conn
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get(0),
        )
        .map_err(f)?;
    let facts = crate::schema::inspect::sqlite_ddl::rowid_facts(&sql);
    let rowid_alias = facts
        .rowid_alias
        .and_then(|a| columns.iter().position(|c| c.name.eq_ignore_ascii_case(&a)));
    let autoincrement = facts.autoincrement || sequence.is_some();

    let mut indexes = Vec::new();
    let mut stmt = conn
        .prepare("SELECT l.name, l.\"unique\", l.origin, l.partial, m.sql FROM pragma_index_list(?1) l LEFT JOIN sqlite_schema m ON m.type = 'index' AND m.name = l.name ORDER BY l.name")
        .map_err(f)?;
    let list: Vec<(String, bool, String, bool, Option<String>)> = stmt
        .query_map([name], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .map_err(f)?
        .collect::<rusqlite::Result<_>>()
        .map_err(f)?;
    for (index, unique, origin, partial, isql) in list {
        let mut stmt = conn
            .prepare(
                "SELECT name, \"desc\" FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno",
            )
            .map_err(f)?;
        let cols: Vec<Option<(String, bool)>> = stmt
            .query_map([&index], |r| {
                let n: Option<String> = r.get(0)?;
                let d: bool = r.get(1)?;
                Ok(n.map(|n| (n, d)))
            })
            .map_err(f)?
            .collect::<rusqlite::Result<_>>()
            .map_err(f)?;
        indexes.push(Index {
            name: index,
            unique,
            origin,
            partial,
            columns: cols,
            sql: isql,
        });
    }

    let mut fks: Vec<(i64, ForeignKey)> = Vec::new();
    let mut stmt = conn
        .prepare("SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq")
        .map_err(f)?;
    let mut rows = stmt.query([name]).map_err(f)?;
    while let Some(r) = rows.next().map_err(f)? {
        let id: i64 = r.get(0).map_err(f)?;
        let from: String = r.get(2).map_err(f)?;
        let to: Option<String> = r.get(3).map_err(f)?;
        match fks.last_mut() {
            Some((last, fk)) if *last == id => {
                fk.from.push(from);
                fk.to.extend(to);
            }
            _ => fks.push((
                id,
                ForeignKey {
                    parent: r.get(1).map_err(f)?,
                    from: vec![from],
                    to: to.into_iter().collect(),
                    on_update: r.get(4).map_err(f)?,
                    on_delete: r.get(5).map_err(f)?,
                },
            )),
        }
    }
    Ok(Table {
        name: name.to_string(),
        columns,
        primary_key,
        rowid_alias,
        without_rowid,
        autoincrement,
        sequence,
        rows: 0,
        max_rowid: None,
        indexes,
        foreign_keys: fks.into_iter().map(|(_, fk)| fk).collect(),
    })
}

/// Counts rows, finds the largest id, and profiles the columns whose type
/// depends on their values: one statement per table.
pub fn profile(conn: &Connection, path: &Path, table: &mut Table) -> Result<()> {
    let q = |s: &str| crate::dialect::Dialect::Sqlite.quote(s);
    let mut parts = vec!["count(*)".to_string()];
    parts.push(
        if table.without_rowid {
            "NULL"
        } else {
            "max(rowid)"
        }
        .into(),
    );
    let profiled: Vec<usize> = (0..table.columns.len())
        .filter(|i| types::needs_profile(&table.columns[*i].declared))
        .collect();
    for i in &profiled {
        let c = q(&table.columns[*i].name);
        parts.push(format!(
            "sum(typeof({c}) = 'integer'), sum(typeof({c}) = 'real'), sum(typeof({c}) = 'text'), sum(typeof({c}) = 'blob'), sum(typeof({c}) = 'text' AND NOT json_valid({c}))"
        ));
    }
    // max(rowid) alone is a lookup; count(*) alone walks the smallest index
    let sql = if profiled.is_empty() {
        format!(
            "SELECT (SELECT count(*) FROM {t}), (SELECT {} FROM {t})",
            parts[1],
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
            table.columns[*i].classes = Some(Classes {
                integer: n(0)?,
                real: n(1)?,
                text: n(2)?,
                blob: n(3)?,
                json_invalid: n(4)?,
            });
        }
        Ok(())
    })
    .map_err(f)?;
    Ok(())
}
