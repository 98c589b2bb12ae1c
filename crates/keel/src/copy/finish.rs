//! The work after the load commits, spread over every connection: index
//! builds, ANALYZE and read-back checksums as a queue of tasks; foreign-key
//! validation; and, in an existing schema, AUTOINCREMENT's promise.

use super::ddl::{self, Plan};
use super::encode::Checksum;
use super::sql;
use super::{Orphans, Report, load, q};
use crate::db::decode::{Origin, PgRow};
use crate::db::error::fail;
use crate::error::{Error, Result};
use tokio_postgres::Client;
use tokio_postgres::types::Type;

/// Tables of at least this many 8 kB pages (64 MB) are read back in slices.
pub(super) const SPLIT_PAGES: u64 = 8192;

/// Each copied table's size in pages.
pub(super) async fn table_pages(
    client: &Client,
    names: &[String],
) -> Result<std::collections::HashMap<String, u64>> {
    let rows = client
        .query_typed(sql::TABLE_PAGES, &[(&names, Type::TEXT_ARRAY)])
        .await
        .map_err(|e| fail("reading table sizes", &e))?;
    let origin = Origin::table("pg_class (table sizes)");
    rows.iter()
        .map(|r| Ok((r.col(0, origin)?, r.col::<i64>(1, origin)?.max(0) as u64)))
        .collect()
}

pub(super) enum Task {
    /// A statement about table `usize` (an index build, ANALYZE).
    Sql(String, usize),
    /// Read table `usize` (or a slice of its pages) back and checksum it.
    Checksum(usize, Option<(u64, Option<u64>)>),
}

/// Runs `tasks` over every connection, each taking the next when free;
/// returns each table's read-back checksum.
pub(super) async fn run_tasks(
    clients: &[Client],
    tasks: Vec<Task>,
    plans: &[Plan],
) -> Result<Vec<Checksum>> {
    let queue = std::sync::Mutex::new(std::collections::VecDeque::from(tasks));
    let next = || queue.lock().ok().and_then(|mut q| q.pop_front());
    let workers = clients.iter().map(|client| {
        let next = &next;
        async move {
            let mut sums = Vec::new();
            while let Some(task) = next() {
                match task {
                    Task::Sql(sql, i) => client
                        .batch_execute(&sql)
                        .await
                        .map_err(|e| fail(format!("on table {}", plans[i].table.name), &e))?,
                    Task::Checksum(i, pages) => {
                        let p = &plans[i];
                        let names: Vec<String> =
                            p.table.columns.iter().map(|c| c.name.clone()).collect();
                        sums.push((
                            i,
                            load::checksum_target(client, &p.table.name, &names, &p.types, pages)
                                .await?,
                        ));
                    }
                }
            }
            Ok::<_, Error>(sums)
        }
    });
    let mut sums = vec![Checksum::default(); plans.len()];
    for (i, s) in futures_util::future::try_join_all(workers)
        .await?
        .into_iter()
        .flatten()
    {
        sums[i].merge(s);
    }
    Ok(sums)
}

/// Validates the `NOT VALID` foreign keys in parallel; a key with orphan
/// rows stays `NOT VALID` (new rows are checked) and the orphans are counted.
pub(super) async fn validate_foreign_keys(
    clients: &[Client],
    fks: &[ddl::ForeignKeySql],
    report: &mut Report,
    notes: &mut Vec<String>,
) -> Result<()> {
    let queue =
        std::sync::Mutex::new((0..fks.len()).collect::<std::collections::VecDeque<usize>>());
    let next = || queue.lock().ok().and_then(|mut q| q.pop_front());
    let workers = clients.iter().map(|client| {
        let next = &next;
        async move {
            let mut out = Vec::new();
            while let Some(i) = next() {
                let fk = &fks[i];
                let Err(e) = client.batch_execute(&fk.validate).await else {
                    continue;
                };
                if e.as_db_error().map(|d| d.code().code()) != Some("23503") {
                    return Err(fail(
                        format!("validating foreign key {} of {}", fk.name, fk.table),
                        &e,
                    ));
                }
                let orphans: i64 = client
                    .query_one(&fk.orphans, &[])
                    .await
                    .map_err(|e| {
                        fail(
                            format!("counting rows of {} without a parent", fk.table),
                            &e,
                        )
                    })?
                    .col(0, Origin::table(&fk.table))?;
                out.push(Orphans {
                    table: fk.table.clone(),
                    constraint: fk.name.clone(),
                    rows: orphans,
                });
            }
            Ok::<_, Error>(out)
        }
    });
    for o in futures_util::future::try_join_all(workers)
        .await?
        .into_iter()
        .flatten()
    {
        notes.push(format!(
            "{}: {} row(s) reference a missing parent; foreign key {} kept NOT VALID (new rows are checked; fix the old ones, then VALIDATE CONSTRAINT)",
            o.table, o.rows, o.constraint
        ));
        report.orphans.push(o);
    }
    Ok(())
}

/// In an existing schema, AUTOINCREMENT's promise (ids never reused)
/// moves each serial or identity sequence above `sqlite_sequence`.
pub(super) async fn promise_autoincrement(
    client: &Client,
    plans: &[Plan],
    existing: &std::collections::HashSet<String>,
) -> Result<()> {
    for p in plans.iter().filter(|p| existing.contains(&p.table.name)) {
        let (Some(seq), Some(i)) = (p.table.sequence, p.table.rowid_alias) else {
            continue;
        };
        let col = &p.table.columns[i].name;
        let fail = |e: tokio_postgres::Error| {
            fail(
                format!(
                    "moving the sequence of {} above sqlite_sequence",
                    p.table.name
                ),
                &e,
            )
        };
        let row = client
            .query_typed(
                "SELECT pg_get_serial_sequence($1, $2)",
                &[(&q(&p.table.name), Type::TEXT), (col, Type::TEXT)],
            )
            .await
            .map_err(fail)?;
        // pg_get_serial_sequence returns the name already quoted
        let sequence: Option<String> = match row.first() {
            Some(r) => r.col(0, Origin::table("pg_get_serial_sequence"))?,
            None => None,
        };
        let Some(sequence) = sequence else {
            continue;
        };
        let state = client
            .query_one(
                &format!("SELECT last_value, is_called FROM {sequence}"),
                &[],
            )
            .await
            .map_err(fail)?;
        let origin = Origin::table(&sequence);
        let (last, called): (i64, bool) = (state.col(0, origin)?, state.col(1, origin)?);
        let next = if called { last + 1 } else { last };
        if next <= seq {
            client
                .query_typed(
                    "SELECT setval($1::text::regclass, $2::int8 + 1, false)",
                    &[(&sequence, Type::TEXT), (&seq, Type::INT8)],
                )
                .await
                .map_err(fail)?;
        }
    }
    Ok(())
}

/// `USAGE, SELECT` on every sequence the copied tables' columns own —
/// identity sequences included: an identity column's INSERT needs no right
/// on its sequence, but `lastval()`/`currval()` after it (PDO's
/// `lastInsertId()`, Doctrine) fail with "permission denied for sequence"
/// without one. One catalog query, one `GRANT`.
pub(super) async fn grant_sequences(
    client: &Client,
    names: &[String],
    roles: &[String],
) -> Result<()> {
    let rows = client
        .query_typed(sql::OWNED_SEQUENCES, &[(&names, Type::TEXT_ARRAY)])
        .await
        .map_err(|e| fail("finding the sequences of the copied tables", &e))?;
    let origin = Origin::table("pg_depend (sequences of the copied tables)");
    let sequences: Vec<String> = rows
        .iter()
        .map(|r| r.col(0, origin))
        .collect::<Result<_>>()?;
    if sequences.is_empty() || roles.is_empty() {
        return Ok(());
    }
    let roles: Vec<String> = roles.iter().map(|r| q(r)).collect();
    // the names come quoted from quote_ident
    client
        .batch_execute(&format!(
            "GRANT USAGE, SELECT ON SEQUENCE {} TO {}",
            sequences.join(", "),
            roles.join(", ")
        ))
        .await
        .map_err(|e| {
            fail(
                "granting the --grant roles USAGE, SELECT on the copied tables' sequences",
                &e,
            )
        })
}
