//! SQLite introspection: the pragma table-valued functions joined with
//! `sqlite_schema`, one statement per kind for every table at once
//! (columns, foreign keys, index columns, and the stored SQL), plus a small
//! parser for what only the stored `CREATE` text holds: CHECK constraints,
//! generated-column expressions, `AUTOINCREMENT`, and index expressions and
//! predicates.
//!
//! An `INTEGER PRIMARY KEY` column is the rowid, so it is reported with a
//! [`Generator::Rowid`] (or `AutoIncrement`), and primary-key columns are
//! never nullable (as on every other engine), whatever SQLite's legacy
//! quirk allows.

use crate::backend::sqlite::fail;
use crate::dialect::Dialect;
use crate::error::Result;
use crate::schema::model::*;
use rusqlite::Connection;
use std::collections::BTreeMap;

const OBJECTS: &str = "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema \
     WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND tbl_name <> ?1";
const COLUMNS: &str = "SELECT m.name, c.cid, c.name, c.type, c.\"notnull\", c.dflt_value, c.pk, c.hidden \
     FROM sqlite_schema m JOIN pragma_table_xinfo(m.name) c \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND m.name <> ?1";
const FOREIGN_KEYS: &str = "SELECT m.name, f.id, f.seq, f.\"table\", f.\"from\", f.\"to\", f.on_update, f.on_delete \
     FROM sqlite_schema m JOIN pragma_foreign_key_list(m.name) f \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND m.name <> ?1";
const INDEX_COLUMNS: &str = "SELECT m.name, il.name, il.\"unique\", il.origin, ix.seqno, ix.name, ix.\"desc\", il.partial \
     FROM sqlite_schema m JOIN pragma_index_list(m.name) il JOIN pragma_index_xinfo(il.name) ix \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND m.name <> ?1 AND ix.key = 1";

const TABLE_LIST: &str = "SELECT name, type FROM pragma_table_list \
     WHERE schema = 'main' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> ?1";

type Rows = Vec<Vec<rusqlite::types::Value>>;

fn rows(conn: &Connection, sql: &str, table: &str, what: &str) -> Result<Rows> {
    let mut stmt = conn
        .prepare(sql)
        .map_err(|e| fail(&format!("inspecting the schema: {what}"), e))?;
    let n = stmt.column_count();
    let out = stmt
        .query_map([table], |r| (0..n).map(|i| r.get(i)).collect())
        .and_then(|rows| rows.collect::<rusqlite::Result<Rows>>())
        .map_err(|e| fail(&format!("inspecting the schema: {what}"), e))?;
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
        let parsed = table_sql
            .get(&tname)
            .map(|s| parse_table(s))
            .unwrap_or_default();
        let generated = if hidden == 2 || hidden == 3 {
            parsed.generated.get(&name.to_ascii_lowercase()).cloned()
        } else {
            None
        };
        let collation = parsed.collations.get(&name.to_ascii_lowercase()).cloned();
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
            .map(|s| super::sqlite_ddl::rowid_facts(s))
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
    for (tname, sql) in &table_sql {
        if let Some(t) = schema.tables.get_mut(&key(tname)) {
            for (i, (name, expression)) in parse_table(sql).checks.into_iter().enumerate() {
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
            .map(|s| super::sqlite_ddl::rowid_facts(s))
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

/// What a `CREATE TABLE` statement holds beyond the pragmas.
#[derive(Default)]
struct ParsedTable {
    /// (name, expression), in order.
    checks: Vec<(Option<String>, String)>,
    /// lower-cased column name → generated expression
    generated: BTreeMap<String, String>,
    collations: BTreeMap<String, String>,
}

fn parse_table(sql: &str) -> ParsedTable {
    let mut out = ParsedTable::default();
    let Some(open) = sql.find('(') else {
        return out;
    };
    let body = match matching(sql, open) {
        Some(close) => &sql[open + 1..close],
        None => return out,
    };
    for part in split_top(body, ',') {
        let part = part.trim();
        let upper = part.to_ascii_uppercase();
        let (name, rest) = first_word(part);
        let constraint_name = if upper.starts_with("CONSTRAINT") {
            let (n, _) = first_word(rest);
            Some(unquote(n))
        } else {
            None
        };
        let is_column = !["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
            .iter()
            .any(|k| upper.starts_with(k));
        // every CHECK ( … ) in this part
        let mut from = 0;
        while let Some(pos) = find_keyword(&upper[from..], "CHECK") {
            let at = from + pos;
            let Some(open) = part[at..].find('(').map(|p| at + p) else {
                break;
            };
            let Some(close) = matching(part, open) else {
                break;
            };
            let cname = if is_column {
                None
            } else {
                constraint_name.clone()
            };
            out.checks
                .push((cname, part[open + 1..close].trim().to_string()));
            from = close;
        }
        if is_column {
            let col = unquote(name).to_ascii_lowercase();
            if let Some(pos) = find_keyword(&upper, "AS")
                && let Some(open) = part[pos..].find('(').map(|p| pos + p)
                && upper[pos + 2..open].trim().is_empty()
                && let Some(close) = matching(part, open)
            {
                out.generated
                    .insert(col.clone(), part[open + 1..close].trim().to_string());
            }
            if let Some(pos) = find_keyword(&upper, "COLLATE") {
                let (c, _) = first_word(part[pos + 7..].trim_start());
                out.collations.insert(col, unquote(c));
            }
        }
    }
    out
}

/// Columns (as written) and `WHERE` predicate of a `CREATE INDEX`.
fn parse_index(sql: &str) -> (Vec<String>, Option<String>) {
    let upper = sql.to_ascii_uppercase();
    let Some(on) = find_keyword(&upper, "ON") else {
        return (Vec::new(), None);
    };
    let Some(open) = sql[on..].find('(').map(|p| on + p) else {
        return (Vec::new(), None);
    };
    let Some(close) = matching(sql, open) else {
        return (Vec::new(), None);
    };
    let cols = split_top(&sql[open + 1..close], ',')
        .into_iter()
        .map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "))
        .map(|c| c.strip_suffix(" ASC").map(str::to_string).unwrap_or(c))
        .collect();
    let predicate = find_keyword(&upper[close..], "WHERE").map(|p| {
        sql[close + p + 5..]
            .trim()
            .trim_end_matches(';')
            .trim()
            .to_string()
    });
    (cols, predicate)
}

/// Index of the `)` matching the `(` at `open`, skipping quoted text.
fn matching(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices().skip_while(|(i, _)| *i < open) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' | '`' | '[' => quote = Some(if c == '[' { ']' } else { c }),
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            },
        }
    }
    None
}

/// Splits on `sep` outside parentheses and quotes.
fn split_top(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' | '`' | '[' => quote = Some(if c == '[' { ']' } else { c }),
                '(' => depth += 1,
                ')' => depth -= 1,
                c if c == sep && depth == 0 => {
                    out.push(&s[start..i]);
                    start = i + c.len_utf8();
                }
                _ => {}
            },
        }
    }
    out.push(&s[start..]);
    out
}

/// The first identifier (possibly quoted) and the rest.
fn first_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let close = match s.chars().next() {
        Some('"') => s[1..].find('"').map(|p| p + 2),
        Some('`') => s[1..].find('`').map(|p| p + 2),
        Some('[') => s[1..].find(']').map(|p| p + 2),
        _ => None,
    };
    let end = close.unwrap_or_else(|| {
        s.find(|c: char| c.is_whitespace() || c == '(')
            .unwrap_or(s.len())
    });
    (&s[..end], &s[end..])
}

fn unquote(s: &str) -> String {
    let t = s.trim();
    let inner = (t.len() >= 2
        && ((t.starts_with('"') && t.ends_with('"'))
            || (t.starts_with('`') && t.ends_with('`'))
            || (t.starts_with('[') && t.ends_with(']'))))
    .then(|| &t[1..t.len() - 1]);
    match inner {
        Some(i) => i.replace("\"\"", "\"").replace("``", "`"),
        None => t.to_string(),
    }
}

/// Position of `word` as a whole word in upper-cased `s`, outside quotes.
fn find_keyword(s: &str, word: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'\'' || c == b'"' || c == b'`' => quote = Some(c),
            None => {
                let boundary_before =
                    i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
                let end = i + word.len();
                if boundary_before
                    && s[i..].starts_with(word)
                    && (end >= bytes.len()
                        || !(bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_'))
                {
                    return Some(i);
                }
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_generated_columns_and_collations_come_from_the_stored_sql() {
        let p = parse_table(
            "CREATE TABLE \"or der\" (id INTEGER PRIMARY KEY, n int CHECK (n > 0), \
             code text COLLATE NOCASE, total real GENERATED ALWAYS AS (n * 2) STORED, \
             CONSTRAINT positive CHECK (total >= (0)), note text DEFAULT 'CHECK (x)')",
        );
        assert_eq!(
            p.checks,
            [
                (None, "n > 0".to_string()),
                (Some("positive".to_string()), "total >= (0)".to_string())
            ]
        );
        assert_eq!(p.generated.get("total").map(String::as_str), Some("n * 2"));
        assert_eq!(p.collations.get("code").map(String::as_str), Some("NOCASE"));
    }

    #[test]
    fn index_expressions_and_predicates_are_parsed() {
        let (cols, pred) = parse_index(
            "CREATE INDEX i ON \"t\" (lower(email), placed DESC) WHERE user_id IS NOT NULL",
        );
        assert_eq!(cols, ["lower(email)", "placed DESC"]);
        assert_eq!(pred.as_deref(), Some("user_id IS NOT NULL"));
    }
}
