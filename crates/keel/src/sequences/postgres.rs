//! PostgreSQL: sequences and identity columns, found in a fixed number of
//! round trips however many tables there are:
//! 1. the roles named with `--grant` exist (only when some are named);
//! 2. one catalog query: every column a sequence feeds — through ownership,
//!    identity, or a `nextval` default (so sequences shared by several
//!    tables are seen, which `pg_get_serial_sequence` misses) — and every
//!    integer primary key with no generator, with owners and privileges;
//! 3. each column's extremes and each sequence's state (read from the
//!    sequence itself: `pg_sequences.last_value` is NULL after `RESTART`,
//!    which would make a repaired sequence look fresh), in small `UNION ALL`
//!    statements pipelined over two connections.
//!
//! `fix` then sends `BEGIN`, every repair and the `COMMIT` as one batch.
//! Transactional DDL goes first (owners, links, identity columns, grants);
//! the values move last, once everything else has succeeded and every value
//! has been checked against its sequence's range and keel's right to change
//! it. Up to [`RESTART_LIMIT`] sequences move with `ALTER SEQUENCE …
//! RESTART`, which a rollback undoes, so a repair of that size is
//! all-or-nothing. Past that, `RESTART` (which rewrites each sequence into a
//! new file, about 1 ms apiece) would cost several times the whole repair,
//! so the values move in one `setval` statement over a `VALUES` list, the
//! last before `COMMIT`: only a failure inside that statement or the commit
//! itself could leave some sequences moved, and a repair only ever moves a
//! sequence forward to a value it must reach anyway.

use super::next::{self, Fed, Sequence, Verdict};
use super::{Change, Finding, Options, Problem, Report, Style};
use crate::db::decode::{Origin, PgRow};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::settings::DatabaseUrl;
use std::collections::BTreeMap;
use tokio_postgres::Client;
use tokio_postgres::types::Type;

/// Rows of the catalog queries, for decoding errors.
const CAT: Origin<'static> = Origin {
    table: "the PostgreSQL catalog (sequences)",
    hint: None,
};

pub(crate) const CATALOG: &str = include_str!("sql/postgres_catalog.sql");

/// One column that a sequence feeds, or an integer key with no generator.
#[derive(Debug)]
struct Column {
    schema: String,
    table: String,
    column: String,
    type_name: String,
    table_owner: String,
    inserters: Vec<String>,
    seq: Option<SeqInfo>,
    /// For a missing generator: a free `<table>_<column>_seq` name.
    free_name: Option<String>,
}

#[derive(Debug, Clone)]
struct SeqInfo {
    oid: i64,
    schema: String,
    name: String,
    owner: String,
    /// `a` owned by this column, `i` identity of this column, `a+`/`i+`
    /// owned by another column, empty: owned by nothing.
    link: String,
    fed_count: i64,
    start: i64,
    increment: i64,
    min: i64,
    max: i64,
    can_read: bool,
    can_update: bool,
    lacking_usage: Vec<String>,
}

impl Column {
    fn display_table(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }

    fn qualified_table(&self) -> String {
        qualified(&self.schema, &self.table)
    }
}

fn qualified(schema: &str, name: &str) -> String {
    format!(
        "{}.{}",
        Dialect::Postgres.quote(schema),
        Dialect::Postgres.quote(name)
    )
}

use crate::db::error::fail;

pub(super) async fn run(
    client: &Client,
    url: &DatabaseUrl,
    tracking_table: &str,
    options: &Options,
) -> Result<Report> {
    check_roles(client, &options.grant).await?;
    // A second connection, opened while the catalog is read, halves the
    // time spent reading every table's maximum: the server plans and runs
    // the two halves on two cores. JIT compiling the catalog query costs
    // more than running it (about 0.9 s at 10,000 tables, once its
    // estimated cost passes the optimise threshold): it is turned off for
    // this session in the same round trip, and reset at the end.
    let (jit, columns, second) = tokio::join!(
        client.batch_execute("SET jit = off"),
        catalog(client, tracking_table, options),
        crate::db::postgres(url)
    );
    jit.map_err(|e| fail("turning off JIT for the catalog query", &e))?;
    let known = crate::known::KnownTables::new(tracking_table);
    let mut columns = columns?;
    columns.retain(|c| !known.is_known(&c.table));
    let report = check(client, &columns, second, options).await;
    let _ = client.batch_execute("RESET jit").await;
    report
}

async fn check(
    client: &Client,
    columns: &[Column],
    second: Result<Client>,
    options: &Options,
) -> Result<Report> {
    let mut clients = vec![client];
    if let Ok(second) = &second {
        clients.push(second);
    }
    if let Some(c) = columns
        .iter()
        .find(|c| c.seq.as_ref().is_some_and(|s| !s.can_read))
    {
        let s = c
            .seq
            .as_ref()
            .map(|s| qualified(&s.schema, &s.name))
            .unwrap_or_default();
        return Err(Error::invalid_input(format!(
            "keel's database user may not read sequence {s} (it feeds {}.{}): run `keel sequences` as the owner of the tables or a superuser",
            c.display_table(),
            c.column
        )));
    }
    let values_sql = values_query(columns);
    let mut report = Report {
        columns_checked: columns.iter().filter(|c| c.seq.is_some()).count(),
        ..Report::default()
    };
    let values = read_values(&clients, &values_sql).await?;
    let (findings, sequences) = assess(columns, &values);
    if options.fix {
        let (changes, batch) = repairs(columns, &values, &sequences, &findings, options)?;
        if !batch.is_empty() {
            // one round trip: the transaction, every repair, the commit
            if let Err(e) = client
                .batch_execute(&format!("BEGIN;\n{batch};\nCOMMIT"))
                .await
            {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(fail(
                    "repairing sequences (every change was rolled back)",
                    &e,
                ));
            }
        }
        report.changes = changes;
    }
    report.findings = findings.into_iter().map(|(_, f)| f).collect();
    Ok(report)
}

async fn check_roles(client: &Client, roles: &[String]) -> Result<()> {
    let missing = crate::backend::postgres::missing_roles(client, roles).await?;
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::invalid_input(format!(
        "--grant names role(s) that do not exist: {}; nothing was changed (create the role, or fix the name)",
        missing.join(", ")
    )))
}

async fn catalog(client: &Client, tracking_table: &str, options: &Options) -> Result<Vec<Column>> {
    let rows = client
        .query_typed(
            CATALOG,
            &[
                (&options.schemas, Type::TEXT_ARRAY),
                (&options.grant, Type::TEXT_ARRAY),
                (&tracking_table, Type::TEXT),
            ],
        )
        .await
        .map_err(|e| fail("reading the catalog", &e))?;
    let mut columns = Vec::with_capacity(rows.len());
    for r in &rows {
        let seq = match r.col::<Option<i64>>(6, CAT)? {
            Some(oid) => Some(SeqInfo {
                oid,
                schema: r.col(7, CAT)?,
                name: r.col(8, CAT)?,
                owner: r.col(9, CAT)?,
                link: r.col(10, CAT)?,
                fed_count: 0,
                start: r.col(11, CAT)?,
                increment: r.col(12, CAT)?,
                min: r.col(13, CAT)?,
                max: r.col(14, CAT)?,
                can_read: r.col(15, CAT)?,
                can_update: r.col(16, CAT)?,
                lacking_usage: r.col(17, CAT)?,
            }),
            None => None,
        };
        columns.push(Column {
            schema: r.col(0, CAT)?,
            table: r.col(1, CAT)?,
            column: r.col(2, CAT)?,
            type_name: r.col(3, CAT)?,
            table_owner: r.col(4, CAT)?,
            inserters: r.col(5, CAT)?,
            seq,
            free_name: r.col(18, CAT)?,
        });
    }
    // Per sequence: how many columns it feeds, and every role lacking
    // USAGE across all of them (a shared sequence's users are the union).
    let mut per_seq: BTreeMap<i64, (i64, Vec<String>)> = BTreeMap::new();
    for s in columns.iter().filter_map(|c| c.seq.as_ref()) {
        let entry = per_seq.entry(s.oid).or_default();
        entry.0 += 1;
        entry.1.extend(s.lacking_usage.iter().cloned());
    }
    for s in columns.iter_mut().filter_map(|c| c.seq.as_mut()) {
        if let Some((count, lacking)) = per_seq.get(&s.oid) {
            s.fed_count = *count;
            let mut all = lacking.clone();
            all.sort();
            all.dedup();
            s.lacking_usage = all;
        }
    }
    Ok(columns)
}

/// How many tables one values statement reads: planning a `UNION ALL`
/// grows faster than linearly with its branches, so statements stay small
/// and are pipelined instead.
const TABLES_PER_STATEMENT: usize = 20;

/// Every column's extreme (`c<i>`: the maximum, or the minimum for a
/// descending sequence) and every sequence's state (`s<oid>`), as a few
/// statements.
fn values_query(columns: &[Column]) -> Vec<String> {
    let q = |s: &str| Dialect::Postgres.quote(s);
    let mut statements = Vec::new();
    let mut parts = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, c) in columns.iter().enumerate() {
        let descending = c.seq.as_ref().is_some_and(|s| s.increment < 0);
        parts.push(format!(
            "SELECT 'c{i}', {}({})::int8, NULL::int8 FROM {}",
            if descending { "min" } else { "max" },
            q(&c.column),
            c.qualified_table()
        ));
        if let Some(s) = &c.seq
            && seen.insert(s.oid)
        {
            parts.push(format!(
                "SELECT 's{}', last_value, CASE WHEN is_called THEN 1::int8 ELSE 0::int8 END FROM {}",
                s.oid,
                qualified(&s.schema, &s.name)
            ));
        }
        if parts.len() >= 2 * TABLES_PER_STATEMENT {
            statements.push(parts.join("\nUNION ALL "));
            parts.clear();
        }
    }
    if !parts.is_empty() {
        statements.push(parts.join("\nUNION ALL "));
    }
    statements
}

/// `c<i>` → (extreme, -); `s<oid>` → (last_value, is_called as 0/1).
type Values = BTreeMap<String, (Option<i64>, Option<i64>)>;

/// Runs the value statements spread over `clients`, all pipelined.
async fn read_values(clients: &[&Client], statements: &[String]) -> Result<Values> {
    type Rows = std::result::Result<Vec<tokio_postgres::Row>, tokio_postgres::Error>;
    let requests: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = Rows> + '_>>> = statements
        .iter()
        .enumerate()
        .map(|(i, sql)| {
            let client = clients.get(i % clients.len().max(1)).copied();
            Box::pin(async move {
                match client {
                    Some(c) => c.query_typed(sql, &[]).await,
                    None => Ok(Vec::new()),
                }
            }) as _
        })
        .collect();
    let mut values = Values::new();
    for rows in crate::backend::postgres::pipeline(requests).await {
        let rows = rows.map_err(|e| fail("reading column maxima and sequence positions", &e))?;
        for r in &rows {
            values.insert(r.col(0, CAT)?, (r.col(1, CAT)?, r.col(2, CAT)?));
        }
    }
    Ok(values)
}

/// Each sequence's definition, state, the extremes of every column it
/// feeds and the narrowest of those columns' type bounds, by oid.
type Sequences = BTreeMap<i64, (Sequence, Fed, (i64, i64))>;

/// A finding and the index of its column in the catalog rows.
type Located = (usize, Finding);

/// What is wrong with every generator, from the catalog rows and the values
/// read: pure, unit-tested on literal rows in `postgres_tests.rs`.
fn assess(columns: &[Column], values: &Values) -> (Vec<Located>, Sequences) {
    let mut sequences = Sequences::new();
    for (i, c) in columns.iter().enumerate() {
        let Some(s) = &c.seq else { continue };
        let (last_value, is_called) = values
            .get(&format!("s{}", s.oid))
            .copied()
            .unwrap_or_default();
        let (extreme, _) = values.get(&format!("c{i}")).copied().unwrap_or_default();
        let (max, min) = if s.increment < 0 {
            (None, extreme)
        } else {
            (extreme, None)
        };
        let entry = sequences.entry(s.oid).or_insert((
            Sequence {
                start: s.start,
                increment: s.increment,
                min: s.min,
                max: s.max,
                last_value: last_value.unwrap_or(s.start),
                is_called: is_called == Some(1),
            },
            Fed::default(),
            (i64::MIN, i64::MAX),
        ));
        let bounds = next::type_bounds(&c.type_name);
        entry.2 = (entry.2.0.max(bounds.0), entry.2.1.min(bounds.1));
        entry.1.max = entry.1.max.max(max);
        entry.1.min = match (entry.1.min, min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    // Sequence-wide findings go on one column: the one that owns the
    // sequence, else the first it feeds.
    let mut primary: BTreeMap<i64, usize> = BTreeMap::new();
    for (i, c) in columns.iter().enumerate() {
        if let Some(s) = &c.seq {
            let owns = s.link == "a" || s.link == "i";
            let slot = primary.entry(s.oid).or_insert(i);
            if owns {
                *slot = i;
            }
        }
    }
    let mut findings = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        let finding =
            |problem, sequence: Option<String>, role: Option<String>, detail: String, fixable| {
                (
                    i,
                    Finding {
                        problem,
                        table: c.display_table(),
                        column: c.column.clone(),
                        sequence,
                        role,
                        detail,
                        fixable,
                    },
                )
            };
        let Some(s) = &c.seq else {
            let (max, _) = values.get(&format!("c{i}")).copied().unwrap_or_default();
            findings.push(finding(
                Problem::Missing,
                None,
                None,
                format!(
                    "{} primary key with no default and no identity: every INSERT without an id fails (largest id {})",
                    c.type_name,
                    max.map_or("none, table empty".to_string(), |m| m.to_string())
                ),
                true,
            ));
            continue;
        };
        let seq_name = Some(format!("{}.{}", s.schema, s.name));
        let identity = s.link.starts_with('i');
        if (s.link.is_empty() || s.link == "a+") && s.fed_count == 1 && s.schema == c.schema {
            findings.push(finding(
                    Problem::Unlinked,
                    seq_name.clone(),
                    None,
                    format!(
                        "the default draws from {} but the sequence is {}: dropping the column leaves it behind, and pg_get_serial_sequence cannot find it",
                        s.name,
                        if s.link.is_empty() { "owned by no column" } else { "owned by another column" }
                    ),
                true,
            ));
        }
        if primary.get(&s.oid) != Some(&i) {
            continue;
        }
        let Some((seq, fed, narrowest)) = sequences.get(&s.oid).copied() else {
            continue;
        };
        match seq.verdict(fed) {
            Verdict::Sound => {}
            verdict => {
                let (fixable, want) = match verdict {
                    Verdict::Restart(v) => (true, format!("must become {v}")),
                    Verdict::OutOfRange(v) => (
                        false,
                        format!(
                            "must become {v}, outside the sequence's range [{}, {}]: widen it (ALTER SEQUENCE … AS bigint) first",
                            seq.min, seq.max
                        ),
                    ),
                    Verdict::Sound => (true, String::new()),
                };
                let extreme = if seq.increment > 0 {
                    format!("max {}", fed.max.unwrap_or_default())
                } else {
                    format!("min {}", fed.min.unwrap_or_default())
                };
                let shared = if s.fed_count > 1 {
                    format!(" over the {} columns it feeds", s.fed_count)
                } else {
                    String::new()
                };
                findings.push(finding(
                    Problem::Behind,
                    seq_name.clone(),
                    None,
                    format!(
                        "next value {} is not past the data ({extreme}{shared}): the next INSERT collides; {want}",
                        seq.current_next()
                    ),
                    fixable,
                ));
            }
        }
        // An identity column's INSERT needs no right on its sequence, but
        // `lastval()` and `currval()` — PDO's lastInsertId(), Doctrine — do:
        // without USAGE or SELECT they fail with "permission denied for
        // sequence" right after the INSERT succeeded.
        for role in &s.lacking_usage {
            let detail = if identity {
                format!(
                    "role {role} may insert but lacks USAGE on {}: its INSERTs work, but lastval() and currval() after them (PDO lastInsertId(), Doctrine) fail with permission denied for sequence",
                    s.name
                )
            } else {
                format!(
                    "role {role} may insert but lacks USAGE on {}: its INSERTs fail with permission denied for sequence",
                    s.name
                )
            };
            findings.push(finding(
                Problem::NoPrivilege,
                seq_name.clone(),
                Some(role.clone()),
                detail,
                true,
            ));
        }
        if !identity && s.owner != c.table_owner {
            findings.push(finding(
                Problem::OwnerMismatch,
                seq_name.clone(),
                Some(s.owner.clone()),
                format!(
                    "the sequence is owned by {} but the table by {}",
                    s.owner, c.table_owner
                ),
                true,
            ));
        }
        let used = seq.used(narrowest);
        if used > 0.8 {
            findings.push(finding(
                Problem::NearExhaustion,
                seq_name.clone(),
                None,
                format!(
                    "{:.0}% of the range is used (next value {}, limit {}): plan a move to bigint before inserts fail",
                    used * 100.0,
                    seq.current_next(),
                    if seq.increment > 0 { narrowest.1.min(seq.max) } else { narrowest.0.max(seq.min) }
                ),
                false,
            ));
        }
    }
    (findings, sequences)
}

/// Up to this many sequences move with `ALTER SEQUENCE … RESTART`, which a
/// rollback undoes; more move with one `setval` statement, last in the
/// transaction (see the module documentation).
const RESTART_LIMIT: usize = 100;

/// The changes `fix` makes and the one batch that makes them, in the order
/// owners, links, generators, grants, values: pure, unit-tested on literal
/// rows in `postgres_tests.rs`.
fn repairs(
    columns: &[Column],
    values: &Values,
    sequences: &Sequences,
    findings: &[Located],
    options: &Options,
) -> Result<(Vec<Change>, String)> {
    let q = |s: &str| Dialect::Postgres.quote(s);
    let mut ddl: Vec<String> = Vec::new();
    let mut changes = Vec::new();
    let mut restarts: Vec<(usize, &SeqInfo, i64)> = Vec::new();
    // owners before links: OWNED BY needs the table's owner
    let order = [
        Problem::OwnerMismatch,
        Problem::Unlinked,
        Problem::Missing,
        Problem::NoPrivilege,
        Problem::Behind,
    ];
    for problem in order {
        let mut grants: BTreeMap<i64, (String, Vec<String>, Vec<&Finding>)> = BTreeMap::new();
        for (i, f) in findings
            .iter()
            .filter(|(_, f)| f.problem == problem && f.fixable)
        {
            let Some(c) = columns.get(*i) else { continue };
            let change = |before: String, after: String, sql: Vec<String>| Change {
                problem,
                table: f.table.clone(),
                column: f.column.clone(),
                sequence: f.sequence.clone(),
                role: f.role.clone(),
                before,
                after,
                sql,
            };
            match (problem, &c.seq) {
                (Problem::OwnerMismatch, Some(s)) => {
                    let sql = format!(
                        "ALTER SEQUENCE {} OWNER TO {}",
                        qualified(&s.schema, &s.name),
                        q(&c.table_owner)
                    );
                    changes.push(change(
                        format!("owner {}", s.owner),
                        format!("owner {}", c.table_owner),
                        vec![sql.clone()],
                    ));
                    ddl.push(sql);
                }
                (Problem::Unlinked, Some(s)) => {
                    let sql = format!(
                        "ALTER SEQUENCE {} OWNED BY {}.{}",
                        qualified(&s.schema, &s.name),
                        c.qualified_table(),
                        q(&c.column)
                    );
                    changes.push(change(
                        "owned by no column".into(),
                        format!("owned by {}.{}", f.table, f.column),
                        vec![sql.clone()],
                    ));
                    ddl.push(sql);
                }
                (Problem::Missing, None) => {
                    let (max, _) = values.get(&format!("c{i}")).copied().unwrap_or_default();
                    let first = next::first_value(max);
                    let mut sql = Vec::new();
                    let mut roles: Vec<String> =
                        c.inserters.iter().chain(&options.grant).cloned().collect();
                    roles.sort();
                    roles.dedup();
                    roles.retain(|r| *r != c.table_owner);
                    let grant = |seq: &str| {
                        (!roles.is_empty()).then(|| {
                            format!(
                                "GRANT USAGE, SELECT ON SEQUENCE {seq} TO {}",
                                roles.iter().map(|r| q(r)).collect::<Vec<_>>().join(", ")
                            )
                        })
                    };
                    let after = match options.style {
                        Style::Identity => {
                            // named, so the roles that insert can be granted
                            // it (lastval(), currval()) in the same batch
                            let named = c.free_name.as_ref().map(|n| qualified(&c.schema, n));
                            sql.push(format!(
                                "ALTER TABLE {} ALTER COLUMN {} ADD GENERATED BY DEFAULT AS IDENTITY ({}START WITH {first})",
                                c.qualified_table(),
                                q(&c.column),
                                named
                                    .as_ref()
                                    .map(|n| format!("SEQUENCE NAME {n} "))
                                    .unwrap_or_default()
                            ));
                            sql.extend(named.as_deref().and_then(grant));
                            format!("identity, next value {first}")
                        }
                        Style::Serial => {
                            let Some(name) = &c.free_name else {
                                return Err(Error::invalid_input(format!(
                                    "no free sequence name for {}.{}: use --style identity",
                                    f.table, f.column
                                )));
                            };
                            let seq = qualified(&c.schema, name);
                            sql.push(format!(
                                "CREATE SEQUENCE {seq} AS {} START WITH {first}",
                                c.type_name
                            ));
                            sql.push(format!(
                                "ALTER SEQUENCE {seq} OWNER TO {}",
                                q(&c.table_owner)
                            ));
                            sql.push(format!(
                                "ALTER SEQUENCE {seq} OWNED BY {}.{}",
                                c.qualified_table(),
                                q(&c.column)
                            ));
                            sql.push(format!(
                                "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT nextval({}::regclass)",
                                c.qualified_table(),
                                q(&c.column),
                                literal(&seq)
                            ));
                            sql.extend(grant(&seq));
                            format!("sequence {}.{name}, next value {first}", c.schema)
                        }
                    };
                    changes.push(change("no generator".into(), after, sql.clone()));
                    ddl.extend(sql);
                }
                (Problem::NoPrivilege, Some(s)) => {
                    let entry = grants
                        .entry(s.oid)
                        .or_insert_with(|| (qualified(&s.schema, &s.name), Vec::new(), Vec::new()));
                    if let Some(role) = &f.role {
                        entry.1.push(role.clone());
                    }
                    entry.2.push(f);
                }
                (Problem::Behind, Some(s)) => {
                    let Some((seq, fed, _)) = sequences.get(&s.oid) else {
                        continue;
                    };
                    let Verdict::Restart(v) = seq.verdict(*fed) else {
                        continue;
                    };
                    if !s.can_update {
                        return Err(Error::invalid_input(format!(
                            "keel's database user may not change sequence {}.{} (needs UPDATE on it); nothing was changed: run as the owner of the tables or a superuser",
                            s.schema, s.name
                        )));
                    }
                    changes.push(change(
                        format!("next value {}", seq.current_next()),
                        format!("next value {v}"),
                        Vec::new(),
                    ));
                    restarts.push((changes.len() - 1, s, v));
                }
                _ => {}
            }
        }
        for (seq, roles, fs) in grants.into_values() {
            let sql = format!(
                "GRANT USAGE, SELECT ON SEQUENCE {seq} TO {}",
                roles.iter().map(|r| q(r)).collect::<Vec<_>>().join(", ")
            );
            for f in fs {
                changes.push(Change {
                    problem,
                    table: f.table.clone(),
                    column: f.column.clone(),
                    sequence: f.sequence.clone(),
                    role: f.role.clone(),
                    before: format!("{} lacks USAGE", f.role.clone().unwrap_or_default()),
                    after: "USAGE, SELECT granted".into(),
                    sql: vec![sql.clone()],
                });
            }
            ddl.push(sql);
        }
    }
    if restarts.len() <= RESTART_LIMIT {
        // transactional: undone with everything else if anything fails
        for (change, s, v) in restarts {
            let sql = format!(
                "ALTER SEQUENCE {} RESTART WITH {v}",
                qualified(&s.schema, &s.name)
            );
            if let Some(c) = changes.get_mut(change) {
                c.sql = vec![sql.clone()];
            }
            ddl.push(sql);
        }
    } else {
        let rows: Vec<String> = restarts
            .iter()
            .map(|(change, s, v)| {
                if let Some(c) = changes.get_mut(*change) {
                    c.sql = vec![format!("SELECT setval({}, {v}, false)", s.oid)];
                }
                format!("({}::oid::regclass, {v}::int8)", s.oid)
            })
            .collect();
        ddl.push(format!(
            "SELECT count(setval(s, v, false)) FROM (VALUES {}) AS x(s, v)",
            rows.join(", ")
        ));
    }
    let batch = if ddl.is_empty() {
        String::new()
    } else {
        ddl.join(";\n")
    };
    Ok((changes, batch))
}

/// A string literal, quotes doubled (standard_conforming_strings is on
/// since PostgreSQL 9.1; no backslash is special).
fn literal(text: &str) -> String {
    crate::db::sql::literal(Dialect::Postgres, text)
}

#[cfg(test)]
#[path = "postgres_tests.rs"]
mod tests;
