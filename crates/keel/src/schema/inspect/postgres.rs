//! PostgreSQL introspection from `pg_catalog` (never `information_schema`:
//! it is orders of magnitude slower and hides objects the connected role
//! has no rights on).
//!
//! Ten whole-database queries, one `.sql` file per object kind, sent as one
//! pipeline inside a single `READ ONLY REPEATABLE READ` transaction: one
//! round trip and one snapshot, however many tables there are.

use crate::backend::postgres::{db_error, pipeline};
use crate::error::{Error, Result};
use crate::schema::model::*;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Row};

/// The user tables every per-table query joins: ordinary and partitioned
/// tables outside the system schemas, keel's tracking table (`$1`) left
/// out. Tables of extensions are dropped by [`inspect`] (rows whose table
/// relations.sql did not return), not here: that would be one more
/// pg_depend lookup per table in each of four queries.
const REL: &str = "WITH rel AS (
  SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> $1
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%')
";

const RELATIONS: &str = include_str!("postgres/relations.sql");
const COLUMNS: &str = include_str!("postgres/columns.sql");
const CONSTRAINTS: &str = include_str!("postgres/constraints.sql");
const INDEXES: &str = include_str!("postgres/indexes.sql");
const TRIGGERS: &str = include_str!("postgres/triggers.sql");
const FUNCTIONS: &str = include_str!("postgres/functions.sql");
const SEQUENCES: &str = include_str!("postgres/sequences.sql");
const ENUMS: &str = include_str!("postgres/enums.sql");
const VIEW_DEPS: &str = include_str!("postgres/view_deps.sql");
const NAMESPACES: &str = include_str!("postgres/namespaces.sql");

/// How many queries [`inspect`] sends (besides `BEGIN` and `COMMIT`): a
/// constant, whatever the size of the schema.
pub const QUERY_COUNT: usize = 10;

type Request<'a> = Pin<Box<dyn Future<Output = Result<Vec<Row>, tokio_postgres::Error>> + 'a>>;

/// Reads the whole schema of the connected database.
pub(crate) async fn inspect(client: &Client, tracking_table: &str) -> Result<Schema> {
    let with_rel = |q: &str| format!("{REL}{q}");
    let per_table = [COLUMNS, CONSTRAINTS, INDEXES, TRIGGERS].map(with_rel);
    let table_param = [(
        &tracking_table as &(dyn tokio_postgres::types::ToSql + Sync),
        Type::TEXT,
    )];
    let mut requests: Vec<Request<'_>> = Vec::with_capacity(QUERY_COUNT + 2);
    requests.push(Box::pin(async {
        client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL jit = off")
            .await
            .map(|_| Vec::new())
    }));
    requests.push(Box::pin(client.query_typed(RELATIONS, &table_param)));
    for q in &per_table {
        requests.push(Box::pin(client.query_typed(q, &table_param)));
    }
    for q in [FUNCTIONS, SEQUENCES, ENUMS, VIEW_DEPS, NAMESPACES] {
        requests.push(Box::pin(client.query_typed(q, &[])));
    }
    requests.push(Box::pin(async {
        client.batch_execute("COMMIT").await.map(|_| Vec::new())
    }));
    let names = [
        "starting a read-only transaction",
        "reading tables and views",
        "reading columns",
        "reading constraints",
        "reading indexes",
        "reading triggers",
        "reading functions",
        "reading sequences",
        "reading enum types",
        "reading view dependencies",
        "reading schemas and extensions",
        "ending the read-only transaction",
    ];
    let mut results = Vec::with_capacity(names.len());
    let piped = pipeline(requests).await;
    for (r, name) in piped.into_iter().zip(names) {
        results.push(
            r.map_err(|e| Error::db(format!("inspecting the schema: {name}"), db_error(&e)))?,
        );
    }
    let mut it = results.into_iter().skip(1);
    let mut next = || it.next().unwrap_or_default();
    let (relations, columns, constraints, indexes, triggers) =
        (next(), next(), next(), next(), next());
    let (functions, sequences, enums, view_deps, namespaces) =
        (next(), next(), next(), next(), next());

    let mut schema = Schema::empty(crate::dialect::Dialect::Postgres);
    // oid → key of each table or view
    let mut tables: HashMap<i64, Table> = HashMap::new();
    let mut views: HashMap<i64, View> = HashMap::new();
    for r in &relations {
        let key = Key::new(r.get::<_, String>(1), r.get::<_, String>(2));
        let kind: String = r.get(3);
        if kind == "v" || kind == "m" {
            let definition: Option<String> = r.get(4);
            views.insert(
                r.get(0),
                View {
                    key,
                    materialized: kind == "m",
                    definition: definition.unwrap_or_default().trim().to_string(),
                    depends_on: Vec::new(),
                },
            );
        } else {
            tables.insert(r.get(0), Table::new(key));
        }
    }

    let mut cols: Vec<(i64, i32, Column)> = columns.iter().map(column).collect();
    cols.sort_by_key(|(oid, num, _)| (*oid, *num));
    for (oid, _, c) in cols {
        if let Some(t) = tables.get_mut(&oid) {
            t.columns.push(c);
        }
    }

    for r in &constraints {
        let Some(t) = tables.get_mut(&r.get::<_, i64>(0)) else {
            continue;
        };
        constraint(t, r);
    }

    for r in &indexes {
        let Some(t) = tables.get_mut(&r.get::<_, i64>(0)) else {
            continue;
        };
        let index = index(r);
        t.indexes.insert(index.name.clone(), index);
    }

    for r in &triggers {
        let Some(t) = tables.get_mut(&r.get::<_, i64>(0)) else {
            continue;
        };
        let name: String = r.get(1);
        t.triggers.insert(
            name.clone(),
            Trigger {
                name,
                definition: r.get(2),
                enabled: r.get::<_, String>(3) != "D",
                function: Some(Key::new(r.get::<_, String>(4), r.get::<_, String>(5))),
            },
        );
    }

    for r in &view_deps {
        if let Some(v) = views.get_mut(&r.get::<_, i64>(0)) {
            v.depends_on
                .push(Key::new(r.get::<_, String>(1), r.get::<_, String>(2)));
        }
    }

    for r in &functions {
        let key = Key::new(
            r.get::<_, String>(0),
            format!("{}({})", r.get::<_, String>(1), r.get::<_, String>(2)),
        );
        schema.functions.insert(
            key.clone(),
            Function {
                key,
                identity_arguments: r.get(2),
                definition: r.get::<_, String>(3).trim().to_string(),
            },
        );
    }

    for r in &sequences {
        let key = Key::new(r.get::<_, String>(0), r.get::<_, String>(1));
        let owned_by = match (
            r.get::<_, Option<String>>(8),
            r.get::<_, Option<String>>(9),
            r.get::<_, Option<String>>(10),
        ) {
            (Some(s), Some(t), Some(c)) => Some((Key::new(s, t), c)),
            _ => None,
        };
        schema.sequences.insert(
            key.clone(),
            Sequence {
                key,
                data_type: r.get(2),
                start: r.get(3),
                increment: r.get(4),
                min: r.get(5),
                max: r.get(6),
                cycle: r.get(7),
                owned_by,
            },
        );
    }

    for r in &enums {
        let key = Key::new(r.get::<_, String>(0), r.get::<_, String>(1));
        schema.enums.insert(
            key.clone(),
            EnumType {
                key,
                values: r.get(2),
            },
        );
    }

    for r in &namespaces {
        let kind: String = r.get(0);
        let name: String = r.get(1);
        if kind == "schema" {
            schema.schemas.push(name);
        } else {
            let ext_schema: Option<String> = r.get(2);
            schema.extensions.insert(
                name.clone(),
                Extension {
                    name,
                    schema: ext_schema.unwrap_or_else(|| DEFAULT_SCHEMA.to_string()),
                },
            );
        }
    }
    schema.schemas.sort();

    schema.tables = tables.into_values().map(|t| (t.key.clone(), t)).collect();
    schema.views = views
        .into_values()
        .map(|mut v| {
            v.depends_on.sort();
            (v.key.clone(), v)
        })
        .collect();
    Ok(schema)
}

fn column(r: &Row) -> (i64, i32, Column) {
    let default: Option<String> = r.get(5);
    let identity: String = r.get(6);
    let generated: String = r.get(7);
    let seq: Option<(String, String)> = match (r.get(9), r.get(10)) {
        (Some(s), Some(n)) => Some((s, n)),
        _ => None,
    };
    let mut c = Column {
        name: r.get(2),
        data_type: r.get(3),
        nullable: !r.get::<_, bool>(4),
        default: None,
        generator: None,
        generated: None,
        collation: r.get(8),
    };
    match (identity.as_str(), generated.as_str()) {
        ("a", _) => c.generator = Some(Generator::Identity { always: true }),
        ("d", _) => c.generator = Some(Generator::Identity { always: false }),
        (_, "s") => c.generated = default,
        _ => match (default, seq) {
            (Some(d), Some((schema, name))) if d.starts_with("nextval(") => {
                c.generator = Some(Generator::Sequence {
                    sequence: Key::new(schema, name),
                });
            }
            (d, _) => c.default = d,
        },
    }
    (r.get(0), r.get(1), c)
}

fn constraint(t: &mut Table, r: &Row) {
    let name: String = r.get(1);
    let kind: String = r.get(2);
    // NULL but for checks and exclusions (constraints.sql)
    let definition: String = r.get::<_, Option<String>>(3).unwrap_or_default();
    let columns: Vec<String> = r.get(4);
    match kind.as_str() {
        "p" => t.primary_key = Some(PrimaryKey { name, columns }),
        "u" => {
            t.uniques.insert(name.clone(), Unique { name, columns });
        }
        "c" => {
            let expression = check_expression(&definition);
            t.checks.insert(name.clone(), Check { name, expression });
        }
        "f" => {
            let fk = ForeignKey {
                name: name.clone(),
                columns,
                references: Key::new(
                    r.get::<_, Option<String>>(5).unwrap_or_default(),
                    r.get::<_, Option<String>>(6).unwrap_or_default(),
                ),
                referenced_columns: r.get(7),
                on_update: Action::from_pg(&r.get::<_, String>(8)),
                on_delete: Action::from_pg(&r.get::<_, String>(9)),
                deferrable: r.get(10),
                initially_deferred: r.get(11),
            };
            t.foreign_keys.insert(name, fk);
        }
        // Exclusion constraints: kept as checks on their definition, so a
        // difference is reported even though keel does not model them.
        _ => {
            t.checks.insert(
                name.clone(),
                Check {
                    name,
                    expression: definition,
                },
            );
        }
    }
}

/// `CHECK (x > 0) NOT VALID` → `x > 0`.
pub(crate) fn check_expression(definition: &str) -> String {
    let d = definition.trim();
    let d = d.strip_suffix(" NOT VALID").unwrap_or(d);
    let d = d.strip_suffix(" NO INHERIT").unwrap_or(d);
    match d.strip_prefix("CHECK (").and_then(|s| s.strip_suffix(')')) {
        Some(inner) => inner.to_string(),
        None => d.to_string(),
    }
}

fn index(r: &Row) -> Index {
    let key_count = r.get::<_, i32>(5).max(0) as usize;
    let parts: Vec<String> = r.get(6);
    let options: Vec<i16> = r.get(7);
    let mut columns = Vec::new();
    let mut include = Vec::new();
    for (i, p) in parts.into_iter().enumerate() {
        if i < key_count {
            let opt = options.get(i).copied().unwrap_or(0);
            let (desc, nulls_first) = (opt & 1 != 0, opt & 2 != 0);
            let suffix = match (desc, nulls_first) {
                (true, true) => " DESC",
                (true, false) => " DESC NULLS LAST",
                (false, true) => " NULLS FIRST",
                (false, false) => "",
            };
            columns.push(format!("{p}{suffix}"));
        } else {
            include.push(p);
        }
    }
    Index {
        name: r.get(1),
        unique: r.get(2),
        method: r.get(3),
        valid: r.get(4),
        columns,
        include,
        predicate: r.get(8),
    }
}
