//! MySQL/MariaDB introspection from `information_schema`, one query per
//! object kind for the whole current database (MySQL 8 serves these views
//! from its data dictionary; MariaDB's are slower but still one query
//! each, however many tables).
//!
//! Spelling differences between the two servers are smoothed here:
//! MariaDB quotes literal defaults and reports `NULL` as a default, MySQL
//! does neither; MariaDB stores `json` as `longtext` with a
//! `json_valid(col)` check, reported here as `json` with no check.

use crate::db::error::fail;
use crate::dialect::Dialect;
use crate::error::Result;
use crate::schema::model::*;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value};
use std::collections::{BTreeMap, BTreeSet};

const TABLES: &str = include_str!("mysql/tables.sql");
const COLUMNS: &str = include_str!("mysql/columns.sql");
const KEYS: &str = include_str!("mysql/keys.sql");
const RULES: &str = include_str!("mysql/rules.sql");
/// MariaDB names checks per table (its view has `TABLE_NAME`).
const CHECKS_MARIADB: &str = include_str!("mysql/checks_mariadb.sql");
const CHECKS_MYSQL: &str = include_str!("mysql/checks_mysql.sql");
const STATISTICS: &str = include_str!("mysql/statistics.sql");
const TRIGGERS: &str = include_str!("mysql/triggers.sql");
const VIEWS: &str = include_str!("mysql/views.sql");

/// Every catalog query, named: for the test that each prepares.
pub(crate) fn queries() -> Vec<(&'static str, String)> {
    [
        ("tables", TABLES),
        ("columns", COLUMNS),
        ("keys", KEYS),
        ("rules", RULES),
        ("checks (MariaDB)", CHECKS_MARIADB),
        ("statistics", STATISTICS),
        ("triggers", TRIGGERS),
        ("views", VIEWS),
    ]
    .map(|(n, q)| (n, q.to_string()))
    .to_vec()
}

fn key(name: &str) -> Key {
    Key::new(DEFAULT_SCHEMA, name)
}

/// Every value of a row as text (`None` for SQL NULL).
fn texts(row: Row) -> Vec<Option<String>> {
    row.unwrap()
        .into_iter()
        .map(|v| match v {
            Value::NULL => None,
            Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
            Value::Int(i) => Some(i.to_string()),
            Value::UInt(i) => Some(i.to_string()),
            other => Some(other.as_sql(true)),
        })
        .collect()
}

async fn query(
    conn: &mut Conn,
    sql: &str,
    table: &str,
    what: &str,
) -> Result<Vec<Vec<Option<String>>>> {
    let rows: Vec<Row> = conn
        .exec(sql, (table,))
        .await
        .map_err(|e| fail(format!("inspecting the schema: {what}"), e))?;
    Ok(rows.into_iter().map(texts).collect())
}

fn s(v: &[Option<String>], i: usize) -> String {
    v.get(i).cloned().flatten().unwrap_or_default()
}

pub(crate) async fn inspect(conn: &mut Conn, tracking_table: &str) -> Result<Schema> {
    let version: Option<String> = conn
        .query_first("SELECT VERSION()")
        .await
        .map_err(|e| fail("reading the server version", e))?;
    let mariadb = version.unwrap_or_default().contains("MariaDB");
    let t = tracking_table;
    let tables = query(conn, TABLES, t, "reading tables").await?;
    let columns = query(conn, COLUMNS, t, "reading columns").await?;
    let keys = query(conn, KEYS, t, "reading keys").await?;
    let rules = query(conn, RULES, t, "reading foreign-key actions").await?;
    let checks_sql = if mariadb {
        CHECKS_MARIADB
    } else {
        CHECKS_MYSQL
    };
    let checks = query(conn, checks_sql, t, "reading check constraints").await?;
    let stats = query(conn, STATISTICS, t, "reading indexes").await?;
    let triggers = query(conn, TRIGGERS, t, "reading triggers").await?;
    let views = query(conn, VIEWS, t, "reading views").await?;

    let mut schema = Schema::empty(Dialect::Mysql);
    for r in &tables {
        if s(r, 1) == "BASE TABLE" {
            schema
                .tables
                .insert(key(&s(r, 0)), Table::new(key(&s(r, 0))));
        }
    }
    // MariaDB's json: longtext plus CHECK (json_valid(`col`))
    let mut json_columns: BTreeSet<(String, String)> = BTreeSet::new();
    for r in &checks {
        let clause = s(r, 2);
        if let Some(col) = clause
            .strip_prefix("json_valid(`")
            .and_then(|c| c.strip_suffix("`)"))
        {
            json_columns.insert((s(r, 0), col.replace("``", "`")));
        } else if let Some(table) = schema.tables.get_mut(&key(&s(r, 0))) {
            let name = s(r, 1);
            table.checks.insert(
                name.clone(),
                Check {
                    name,
                    expression: clause,
                },
            );
        }
    }
    let mut cols: Vec<(String, i64, Column)> = columns
        .iter()
        .map(|r| {
            let (tname, name) = (s(r, 0), s(r, 1));
            let extra = s(r, 6).to_ascii_lowercase();
            let mut data_type = s(r, 3);
            if json_columns.contains(&(tname.clone(), name.clone())) && data_type == "longtext" {
                data_type = "json".into();
            }
            let generated = (extra.contains("generated") && !extra.contains("default_generated"))
                .then(|| s(r, 7))
                .filter(|g| !g.is_empty());
            let default = r.get(5).cloned().flatten().and_then(|d| {
                if mariadb {
                    (d != "NULL").then_some(d)
                } else if extra.contains("default_generated") || d.parse::<f64>().is_ok() {
                    Some(d)
                } else {
                    Some(format!("'{}'", d.replace('\'', "''")))
                }
            });
            let column = Column {
                nullable: s(r, 4) == "YES",
                default: if generated.is_some() { None } else { default },
                generator: extra
                    .contains("auto_increment")
                    .then_some(Generator::AutoIncrement),
                generated,
                collation: None,
                name,
                data_type,
            };
            (tname, s(r, 2).parse().unwrap_or(0), column)
        })
        .collect();
    cols.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    for (tname, _, c) in cols {
        if let Some(table) = schema.tables.get_mut(&key(&tname)) {
            table.columns.push(c);
        }
    }
    constraints(&mut schema, &keys, &rules);
    indexes(&mut schema, &stats);
    for r in &triggers {
        if let Some(table) = schema.tables.get_mut(&key(&s(r, 0))) {
            let name = s(r, 1);
            let definition = format!(
                "CREATE TRIGGER {} {} {} ON {} FOR EACH ROW {}",
                Dialect::Mysql.quote(&name),
                s(r, 2),
                s(r, 3),
                Dialect::Mysql.quote(&s(r, 0)),
                s(r, 4)
            );
            table.triggers.insert(
                name.clone(),
                Trigger {
                    name,
                    definition,
                    function: None,
                    enabled: true,
                },
            );
        }
    }
    for r in &views {
        let k = key(&s(r, 0));
        schema.views.insert(
            k.clone(),
            View {
                key: k,
                materialized: false,
                definition: s(r, 1),
                depends_on: Vec::new(),
            },
        );
    }
    Ok(schema)
}

fn constraints(schema: &mut Schema, keys: &[Vec<Option<String>>], rules: &[Vec<Option<String>>]) {
    let actions: BTreeMap<(String, String), (String, String)> = rules
        .iter()
        .map(|r| ((s(r, 0), s(r, 1)), (s(r, 2), s(r, 3))))
        .collect();
    // (table, constraint) → (type, [(position, column, referenced table, referenced column)])
    type Parts = Vec<(i64, String, String, String)>;
    let mut grouped: BTreeMap<(String, String), (String, Parts)> = BTreeMap::new();
    for r in keys {
        grouped
            .entry((s(r, 0), s(r, 1)))
            .or_insert_with(|| (s(r, 2), Vec::new()))
            .1
            .push((s(r, 4).parse().unwrap_or(0), s(r, 3), s(r, 5), s(r, 6)));
    }
    for ((tname, name), (kind, mut parts)) in grouped {
        parts.sort();
        let Some(t) = schema.tables.get_mut(&key(&tname)) else {
            continue;
        };
        let columns: Vec<String> = parts.iter().map(|p| p.1.clone()).collect();
        match kind.as_str() {
            "PRIMARY KEY" => {
                t.primary_key = Some(PrimaryKey {
                    name: String::new(),
                    columns,
                })
            }
            "UNIQUE" => {
                t.uniques.insert(name.clone(), Unique { name, columns });
            }
            "FOREIGN KEY" => {
                let (update, delete) = actions
                    .get(&(tname.clone(), name.clone()))
                    .cloned()
                    .unwrap_or_default();
                let fk = ForeignKey {
                    name: name.clone(),
                    columns,
                    references: key(&parts[0].2),
                    referenced_columns: parts.iter().map(|p| p.3.clone()).collect(),
                    on_update: Action::from_words(&update),
                    on_delete: Action::from_words(&delete),
                    deferrable: false,
                    initially_deferred: false,
                };
                t.foreign_keys.insert(name, fk);
            }
            _ => {}
        }
    }
}

fn indexes(schema: &mut Schema, stats: &[Vec<Option<String>>]) {
    type Cols = Vec<(i64, String)>;
    let mut grouped: BTreeMap<(String, String), (bool, String, Cols)> = BTreeMap::new();
    for r in stats {
        let mut col = s(r, 4);
        if let Some(len) = r.get(5).cloned().flatten() {
            col = format!("{col}({len})");
        }
        if s(r, 7) == "D" {
            col.push_str(" DESC");
        }
        grouped
            .entry((s(r, 0), s(r, 1)))
            .or_insert_with(|| (s(r, 2) == "0", s(r, 6).to_ascii_lowercase(), Vec::new()))
            .2
            .push((s(r, 3).parse().unwrap_or(0), col));
    }
    for ((tname, name), (unique, method, mut cols)) in grouped {
        let Some(t) = schema.tables.get_mut(&key(&tname)) else {
            continue;
        };
        // the primary key, unique constraints, and the index MySQL makes
        // for each foreign key are constraints, not indexes
        if name == "PRIMARY" || t.uniques.contains_key(&name) || t.foreign_keys.contains_key(&name)
        {
            continue;
        }
        cols.sort();
        t.indexes.insert(
            name.clone(),
            Index {
                name,
                unique,
                method,
                columns: cols.into_iter().map(|c| c.1).collect(),
                include: Vec::new(),
                predicate: None,
                valid: true,
            },
        );
    }
}
