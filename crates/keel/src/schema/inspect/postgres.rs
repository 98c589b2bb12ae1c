//! PostgreSQL introspection from `pg_catalog` (never `information_schema`:
//! it is orders of magnitude slower and hides objects the connected role
//! has no rights on).
//!
//! Ten whole-database queries, one `.sql` file per object kind, sent as one
//! pipeline inside a single `READ ONLY REPEATABLE READ` transaction: one
//! round trip and one snapshot, however many tables there are.

use crate::backend::postgres::pipeline;
use crate::db::decode::{Origin, PgRow};
use crate::db::error::fail;
use crate::error::Result;
use crate::schema::model::*;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Row};

/// Rows of the catalog queries, for decoding errors.
const CAT: Origin<'static> = Origin {
    table: "the PostgreSQL catalog",
    hint: None,
};

/// The user tables every per-table query joins: ordinary and partitioned
/// tables outside the system schemas, keel's tracking table (`$1`) left
/// out. Tables of extensions are dropped by [`inspect`] (rows whose table
/// relations.sql did not return), not here: that would be one more
/// pg_depend lookup per table in each of four queries.
const REL: &str = include_str!("postgres/rel.sql");

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

/// Every catalog query, named, as sent: for the test that each prepares.
pub(crate) fn queries() -> Vec<(&'static str, String)> {
    let with_rel = |q: &str| format!("{REL}{q}");
    vec![
        ("relations", RELATIONS.to_string()),
        ("columns", with_rel(COLUMNS)),
        ("constraints", with_rel(CONSTRAINTS)),
        ("indexes", with_rel(INDEXES)),
        ("triggers", with_rel(TRIGGERS)),
        ("functions", FUNCTIONS.to_string()),
        ("sequences", SEQUENCES.to_string()),
        ("enums", ENUMS.to_string()),
        ("view_deps", VIEW_DEPS.to_string()),
        ("namespaces", NAMESPACES.to_string()),
    ]
}

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
        results.push(r.map_err(|e| fail(format!("inspecting the schema: {name}"), e))?);
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
        let key = Key::new(r.col::<String>(1, CAT)?, r.col::<String>(2, CAT)?);
        let kind: String = r.col(3, CAT)?;
        if kind == "v" || kind == "m" {
            let definition: Option<String> = r.col(4, CAT)?;
            views.insert(
                r.col(0, CAT)?,
                View {
                    key,
                    materialized: kind == "m",
                    definition: definition.unwrap_or_default().trim().to_string(),
                    depends_on: Vec::new(),
                },
            );
        } else {
            tables.insert(r.col(0, CAT)?, Table::new(key));
        }
    }

    let mut cols: Vec<(i64, i32, Column)> = columns.iter().map(column).collect::<Result<_>>()?;
    cols.sort_by_key(|(oid, num, _)| (*oid, *num));
    for (oid, _, c) in cols {
        if let Some(t) = tables.get_mut(&oid) {
            t.columns.push(c);
        }
    }

    for r in &constraints {
        let Some(t) = tables.get_mut(&r.col::<i64>(0, CAT)?) else {
            continue;
        };
        constraint(t, r)?;
    }

    for r in &indexes {
        let Some(t) = tables.get_mut(&r.col::<i64>(0, CAT)?) else {
            continue;
        };
        let index = index(r)?;
        t.indexes.insert(index.name.clone(), index);
    }

    for r in &triggers {
        let Some(t) = tables.get_mut(&r.col::<i64>(0, CAT)?) else {
            continue;
        };
        let name: String = r.col(1, CAT)?;
        t.triggers.insert(
            name.clone(),
            Trigger {
                name,
                definition: r.col(2, CAT)?,
                enabled: r.col::<String>(3, CAT)? != "D",
                function: Some(Key::new(r.col::<String>(4, CAT)?, r.col::<String>(5, CAT)?)),
            },
        );
    }

    for r in &view_deps {
        if let Some(v) = views.get_mut(&r.col::<i64>(0, CAT)?) {
            v.depends_on
                .push(Key::new(r.col::<String>(1, CAT)?, r.col::<String>(2, CAT)?));
        }
    }

    for r in &functions {
        let key = Key::new(
            r.col::<String>(0, CAT)?,
            format!("{}({})", r.col::<String>(1, CAT)?, r.col::<String>(2, CAT)?),
        );
        schema.functions.insert(
            key.clone(),
            Function {
                key,
                identity_arguments: r.col(2, CAT)?,
                definition: r.col::<String>(3, CAT)?.trim().to_string(),
            },
        );
    }

    for r in &sequences {
        let key = Key::new(r.col::<String>(0, CAT)?, r.col::<String>(1, CAT)?);
        let owned_by = match (
            r.col::<Option<String>>(8, CAT)?,
            r.col::<Option<String>>(9, CAT)?,
            r.col::<Option<String>>(10, CAT)?,
        ) {
            (Some(s), Some(t), Some(c)) => Some((Key::new(s, t), c)),
            _ => None,
        };
        schema.sequences.insert(
            key.clone(),
            Sequence {
                key,
                data_type: r.col(2, CAT)?,
                start: r.col(3, CAT)?,
                increment: r.col(4, CAT)?,
                min: r.col(5, CAT)?,
                max: r.col(6, CAT)?,
                cycle: r.col(7, CAT)?,
                owned_by,
            },
        );
    }

    for r in &enums {
        let key = Key::new(r.col::<String>(0, CAT)?, r.col::<String>(1, CAT)?);
        schema.enums.insert(
            key.clone(),
            EnumType {
                key,
                values: r.col(2, CAT)?,
            },
        );
    }

    for r in &namespaces {
        let kind: String = r.col(0, CAT)?;
        let name: String = r.col(1, CAT)?;
        if kind == "schema" {
            schema.schemas.push(name);
        } else {
            let ext_schema: Option<String> = r.col(2, CAT)?;
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

fn column(r: &Row) -> Result<(i64, i32, Column)> {
    let default: Option<String> = r.col(5, CAT)?;
    let identity: String = r.col(6, CAT)?;
    let generated: String = r.col(7, CAT)?;
    let seq: Option<(String, String)> = match (r.col(9, CAT)?, r.col(10, CAT)?) {
        (Some(s), Some(n)) => Some((s, n)),
        _ => None,
    };
    let mut c = Column {
        name: r.col(2, CAT)?,
        data_type: r.col(3, CAT)?,
        nullable: !r.col::<bool>(4, CAT)?,
        default: None,
        generator: None,
        generated: None,
        collation: r.col(8, CAT)?,
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
    Ok((r.col(0, CAT)?, r.col(1, CAT)?, c))
}

fn constraint(t: &mut Table, r: &Row) -> Result<()> {
    let name: String = r.col(1, CAT)?;
    let kind: String = r.col(2, CAT)?;
    // NULL but for checks and exclusions (constraints.sql)
    let definition: String = r.col::<Option<String>>(3, CAT)?.unwrap_or_default();
    let columns: Vec<String> = r.col(4, CAT)?;
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
                    r.col::<Option<String>>(5, CAT)?.unwrap_or_default(),
                    r.col::<Option<String>>(6, CAT)?.unwrap_or_default(),
                ),
                referenced_columns: r.col(7, CAT)?,
                on_update: Action::from_pg(&r.col::<String>(8, CAT)?),
                on_delete: Action::from_pg(&r.col::<String>(9, CAT)?),
                deferrable: r.col(10, CAT)?,
                initially_deferred: r.col(11, CAT)?,
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
    Ok(())
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

fn index(r: &Row) -> Result<Index> {
    let key_count = r.col::<i32>(5, CAT)?.max(0) as usize;
    let parts: Vec<String> = r.col(6, CAT)?;
    let options: Vec<i16> = r.col(7, CAT)?;
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
    Ok(Index {
        name: r.col(1, CAT)?,
        unique: r.col(2, CAT)?,
        method: r.col(3, CAT)?,
        valid: r.col(4, CAT)?,
        columns,
        include,
        predicate: r.col(8, CAT)?,
    })
}
