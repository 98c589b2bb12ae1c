//! SQLite introspection — the one SQLite schema reader, for `keel diff`
//! and `keel copy` alike: the pragma table-valued functions joined with
//! `sqlite_schema`, one statement per kind for every table at once
//! (tables and their kind, columns, foreign keys, index columns, and the
//! stored SQL), plus readers of what only the stored `CREATE` text holds:
//! [`ddl`] (the rowid alias, `AUTOINCREMENT`, `WITHOUT ROWID`) and `text`
//! (CHECK constraints, generated-column expressions, collations, index
//! expressions and predicates).
//!
//! An `INTEGER PRIMARY KEY` column is the rowid, so it is reported with a
//! [`Generator::Rowid`] (or `AutoIncrement`), and primary-key columns are
//! never nullable (as on every other engine), whatever SQLite's legacy
//! quirk allows. What only SQLite knows and a copy needs (declared types
//! as written, hidden columns, index origins) rides along in
//! [`Table::sqlite`].

use crate::db::error::fail;
use crate::dialect::Dialect;
use crate::error::Result;
use crate::schema::model::*;
use rusqlite::Connection;
use std::collections::BTreeMap;
use text::{find_keyword, parse_index, parse_table};

pub mod ddl;
mod text;

/// Every catalog query, named: for the test that each prepares.
pub(crate) fn queries() -> Vec<(&'static str, String)> {
    [
        ("objects", OBJECTS),
        ("columns", COLUMNS),
        ("foreign keys", FOREIGN_KEYS),
        ("index columns", INDEX_COLUMNS),
        ("table list", TABLE_LIST),
    ]
    .map(|(n, q)| (n, q.to_string()))
    .to_vec()
}

const OBJECTS: &str = include_str!("sql/objects.sql");
const COLUMNS: &str = include_str!("sql/columns.sql");
const FOREIGN_KEYS: &str = include_str!("sql/foreign_keys.sql");
const INDEX_COLUMNS: &str = include_str!("sql/index_columns.sql");

const TABLE_LIST: &str = include_str!("sql/table_list.sql");

type Rows = Vec<Vec<rusqlite::types::Value>>;

fn rows(conn: &Connection, sql: &str, table: &str, what: &str) -> Result<Rows> {
    let mut stmt = conn
        .prepare(sql)
        .map_err(|e| fail(format!("inspecting the schema: {what}"), e))?;
    let n = stmt.column_count();
    let out = stmt
        .query_map([table], |r| (0..n).map(|i| r.get(i)).collect())
        .and_then(|rows| rows.collect::<rusqlite::Result<Rows>>())
        .map_err(|e| fail(format!("inspecting the schema: {what}"), e))?;
    Ok(out)
}

/// Column `i` of a row as text (`None` for NULL, a blob or no such column).
fn text(row: &[rusqlite::types::Value], i: usize) -> Option<String> {
    use rusqlite::types::Value;
    match row.get(i)? {
        Value::Text(s) => Some(s.clone()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(f) => Some(f.to_string()),
        _ => None,
    }
}

/// Column `i` of a row as an integer (0 for anything else).
fn int(row: &[rusqlite::types::Value], i: usize) -> i64 {
    match row.get(i) {
        Some(rusqlite::types::Value::Integer(i)) => *i,
        _ => 0,
    }
}

fn key(name: &str) -> Key {
    Key::new(DEFAULT_SCHEMA, name)
}

pub(crate) fn inspect(conn: &mut Connection, tracking_table: &str) -> Result<Schema> {
    let objects = rows(conn, OBJECTS, tracking_table, "reading sqlite_schema")?;
    let columns = rows(conn, COLUMNS, tracking_table, "reading columns")?;
    let fks = rows(conn, FOREIGN_KEYS, tracking_table, "reading foreign keys")?;
    let index_columns = rows(conn, INDEX_COLUMNS, tracking_table, "reading indexes")?;
    let table_list = rows(conn, TABLE_LIST, tracking_table, "reading the table list")?;

    let mut schema = Schema::empty(Dialect::Sqlite);
    let mut table_sql: BTreeMap<String, String> = BTreeMap::new();
    let mut index_sql: BTreeMap<String, String> = BTreeMap::new();
    // tables first: triggers may come before their table in sqlite_schema
    for pass in ["table", "other"] {
        for o in &objects {
            let (kind, name, tbl, sql) = (
                text(o, 0).unwrap_or_default(),
                text(o, 1).unwrap_or_default(),
                text(o, 2).unwrap_or_default(),
                text(o, 3).unwrap_or_default(),
            );
            match (pass, kind.as_str()) {
                ("table", "table") => {
                    schema.tables.insert(key(&name), Table::new(key(&name)));
                    table_sql.insert(name, sql);
                }
                ("other", "view") => {
                    let view = View {
                        key: key(&name),
                        materialized: false,
                        definition: sql,
                        depends_on: Vec::new(),
                    };
                    schema.views.insert(key(&name), view);
                }
                ("other", "index") => {
                    index_sql.insert(name, sql);
                }
                ("other", "trigger") => {
                    if let Some(t) = schema.tables.get_mut(&key(&tbl)) {
                        let trigger = Trigger {
                            name: name.clone(),
                            definition: sql,
                            function: None,
                            enabled: true,
                        };
                        t.triggers.insert(name, trigger);
                    }
                }
                _ => {}
            }
        }
    }

    // each table's stored SQL parsed once
    let mut parsed: BTreeMap<String, text::ParsedTable> = table_sql
        .iter()
        .map(|(name, sql)| (name.clone(), parse_table(sql)))
        .collect();
    // columns, in table order
    let mut pk_cols: BTreeMap<String, Vec<(i64, String, String)>> = BTreeMap::new();
    for c in &columns {
        let tname = text(c, 0).unwrap_or_default();
        let Some(t) = schema.tables.get_mut(&key(&tname)) else {
            continue;
        };
        let name = text(c, 2).unwrap_or_default();
        let data_type = text(c, 3).unwrap_or_default().trim().to_ascii_lowercase();
        let pk = int(c, 6);
        let hidden = int(c, 7);
        t.sqlite
            .get_or_insert_with(SqliteTable::default)
            .columns
            .push(SqliteColumn {
                name: name.clone(),
                declared: text(c, 3).unwrap_or_default(),
                hidden,
            });
        if pk > 0 {
            pk_cols
                .entry(tname.clone())
                .or_default()
                .push((pk, name.clone(), data_type.clone()));
        }
        let stored = parsed.get(&tname);
        let generated = if hidden == 2 || hidden == 3 {
            stored.and_then(|p| p.generated.get(&name.to_ascii_lowercase()).cloned())
        } else {
            None
        };
        let collation = stored.and_then(|p| p.collations.get(&name.to_ascii_lowercase()).cloned());
        t.columns.push(Column {
            nullable: int(c, 4) == 0 && pk == 0,
            default: text(c, 5),
            generator: None,
            generated,
            collation,
            name,
            data_type,
        });
    }
    for (tname, mut cols) in pk_cols {
        let Some(t) = schema.tables.get_mut(&key(&tname)) else {
            continue;
        };
        cols.sort();
        let facts = table_sql
            .get(&tname)
            .map(|s| ddl::rowid_facts(s))
            .unwrap_or_default();
        if let Some(alias) = &facts.rowid_alias {
            let generator = if facts.autoincrement {
                Generator::AutoIncrement
            } else {
                Generator::Rowid
            };
            if let Some(c) = t
                .columns
                .iter_mut()
                .find(|c| c.name.eq_ignore_ascii_case(alias))
            {
                c.generator = Some(generator);
            }
        }
        t.primary_key = Some(PrimaryKey {
            name: String::new(),
            columns: cols.into_iter().map(|(_, c, _)| c).collect(),
        });
    }
    // CHECK constraints, from the stored SQL
    for (tname, p) in parsed.iter_mut() {
        if let Some(t) = schema.tables.get_mut(&key(tname)) {
            for (i, (name, expression)) in std::mem::take(&mut p.checks).into_iter().enumerate() {
                let name = name.unwrap_or_else(|| format!("{tname}_check{}", i + 1));
                t.checks.insert(name.clone(), Check { name, expression });
            }
        }
    }
    sqlite_facts(&mut schema, &table_sql, &table_list);
    foreign_keys(&mut schema, &fks);
    indexes(&mut schema, &index_columns, &index_sql);
    view_dependencies(&mut schema);
    Ok(schema)
}

/// Each table's kind and rowid facts, for `keel copy`.
fn sqlite_facts(schema: &mut Schema, table_sql: &BTreeMap<String, String>, table_list: &Rows) {
    let kinds: BTreeMap<String, String> = table_list
        .iter()
        .map(|r| {
            (
                text(r, 0).unwrap_or_default(),
                text(r, 1).unwrap_or_default(),
            )
        })
        .collect();
    for (k, t) in schema.tables.iter_mut() {
        let facts = table_sql
            .get(&k.name)
            .map(|s| ddl::rowid_facts(s))
            .unwrap_or_default();
        let lite = t.sqlite.get_or_insert_with(SqliteTable::default);
        lite.kind = kinds
            .get(&k.name)
            .cloned()
            .unwrap_or_else(|| "table".into());
        lite.without_rowid = facts.without_rowid;
        lite.autoincrement = facts.autoincrement;
        lite.rowid_alias = facts.rowid_alias;
    }
}

/// The tables and views a view's query names (SQLite records no
/// dependencies: a whole-word match of the name in the query, which errs
/// on the side of a dependency, for ordering and for the part of a schema
/// a plan touches).
fn view_dependencies(schema: &mut Schema) {
    let names: Vec<Key> = schema
        .tables
        .keys()
        .chain(schema.views.keys())
        .cloned()
        .collect();
    for v in schema.views.values_mut() {
        let query = find_keyword(&v.definition.to_ascii_uppercase(), "AS")
            .map(|i| v.definition[i..].to_string())
            .unwrap_or_default();
        v.depends_on = names
            .iter()
            .filter(|k| **k != v.key && crate::schema::render::sqlite::mentions(&query, &k.name))
            .cloned()
            .collect();
    }
}

fn foreign_keys(schema: &mut Schema, fks: &Rows) {
    let mut grouped: BTreeMap<(String, i64), Vec<&Vec<rusqlite::types::Value>>> = BTreeMap::new();
    for f in fks {
        grouped
            .entry((text(f, 0).unwrap_or_default(), int(f, 1)))
            .or_default()
            .push(f);
    }
    for ((tname, _), mut parts) in grouped {
        parts.sort_by_key(|f| int(f, 2));
        let Some(first) = parts.first().copied() else {
            continue;
        };
        let target = text(first, 3).unwrap_or_default();
        let columns: Vec<String> = parts
            .iter()
            .map(|f| text(f, 4).unwrap_or_default())
            .collect();
        let mut referenced: Vec<String> = parts.iter().filter_map(|f| text(f, 5)).collect();
        if referenced.is_empty() {
            // `REFERENCES t` with no columns means t's primary key
            referenced = schema
                .tables
                .get(&key(&target))
                .and_then(|t| t.primary_key.as_ref())
                .map(|p| p.columns.clone())
                .unwrap_or_default();
        }
        let name = format!("{tname}_{}_fkey", columns.join("_"));
        let fk = ForeignKey {
            name: name.clone(),
            columns,
            references: key(&target),
            referenced_columns: referenced,
            on_update: Action::from_words(&text(first, 6).unwrap_or_default()),
            on_delete: Action::from_words(&text(first, 7).unwrap_or_default()),
            deferrable: false,
            initially_deferred: false,
        };
        if let Some(t) = schema.tables.get_mut(&key(&tname)) {
            t.foreign_keys.insert(name, fk);
        }
    }
}

fn indexes(schema: &mut Schema, index_columns: &Rows, index_sql: &BTreeMap<String, String>) {
    // (table, index) → (unique, origin, [(seqno, column, desc)])
    type Cols = Vec<(i64, Option<String>, bool)>;
    let mut grouped: BTreeMap<(String, String), (bool, String, Cols)> = BTreeMap::new();
    let mut partial: std::collections::BTreeSet<String> = Default::default();
    for r in index_columns {
        let e = grouped
            .entry((
                text(r, 0).unwrap_or_default(),
                text(r, 1).unwrap_or_default(),
            ))
            .or_insert_with(|| (int(r, 2) == 1, text(r, 3).unwrap_or_default(), Vec::new()));
        e.2.push((int(r, 4), text(r, 5), int(r, 6) == 1));
        if int(r, 7) == 1 {
            partial.insert(text(r, 1).unwrap_or_default());
        }
    }
    for ((tname, iname), (unique, origin, mut cols)) in grouped {
        cols.sort_by_key(|c| c.0);
        let Some(t) = schema.tables.get_mut(&key(&tname)) else {
            continue;
        };
        t.sqlite
            .get_or_insert_with(SqliteTable::default)
            .indexes
            .push(SqliteIndex {
                name: iname.clone(),
                unique,
                origin: origin.clone(),
                partial: partial.contains(&iname),
                columns: cols
                    .iter()
                    .map(|(_, c, d)| c.clone().map(|c| (c, *d)))
                    .collect(),
                sql: index_sql.get(&iname).filter(|s| !s.is_empty()).cloned(),
            });
        match origin.as_str() {
            "pk" => {}
            "u" => {
                let columns: Vec<String> = cols.into_iter().filter_map(|c| c.1).collect();
                let name = format!("{tname}_{}_key", columns.join("_"));
                t.uniques.insert(name.clone(), Unique { name, columns });
            }
            _ => {
                let sql = index_sql.get(&iname).map(String::as_str).unwrap_or("");
                let (parsed_cols, predicate) = parse_index(sql);
                let columns = if parsed_cols.len() == cols.len() {
                    parsed_cols
                } else {
                    cols.into_iter()
                        .map(|(_, c, desc)| {
                            let c = c.unwrap_or_default();
                            if desc { format!("{c} DESC") } else { c }
                        })
                        .collect()
                };
                t.indexes.insert(
                    iname.clone(),
                    Index {
                        name: iname,
                        unique,
                        method: "btree".into(),
                        columns,
                        include: Vec::new(),
                        predicate,
                        valid: true,
                    },
                );
            }
        }
    }
}
