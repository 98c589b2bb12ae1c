//! `keel validate FROM TO`: the copy's checksums, on their own.

use super::encode::Checksum;
use super::sql;
use super::{
    Event, Options, Report, TableReport, column_reports, load, plan, postgres_target,
    sqlite_source, target,
};
use crate::error::Result;
use std::time::Instant;

/// `keel validate FROM TO`: row counts and content checksums of every
/// table, SQLite against PostgreSQL, without changing either.
pub async fn validate(
    from: &str,
    to: &str,
    options: &Options,
    progress: &(dyn Fn(Event<'_>) + Sync),
) -> Result<Report> {
    let started = Instant::now();
    let path = sqlite_source(from)?;
    let url = postgres_target(to)?;
    progress(Event::Step("reading the SQLite schema"));
    let (mut plans, notes) = plan(&path, options)?;
    let client = crate::db::postgres(&url).await?;
    let names: Vec<String> = plans.iter().map(|p| p.table.name.clone()).collect();
    let existing = target::existing_tables(&client, &names).await?;
    let mut report = Report {
        notes,
        incomplete: super::marker::read(&client).await?,
        ..Report::default()
    };
    for p in &mut plans {
        let found = existing.iter().any(|(n, _)| *n == p.table.name);
        let columns: Vec<String> = p.table.columns.iter().map(|c| c.name.clone()).collect();
        let (target, ok) = if found {
            p.types = target::target_types(&client, &p.table).await?;
            (
                load::checksum_target(&client, &p.table.name, &columns, &p.types, None).await?,
                true,
            )
        } else {
            report
                .notes
                .push(format!("{}: missing in the target", p.table.name));
            (Checksum::default(), false)
        };
        progress(Event::TableStarted {
            table: &p.table.name,
            rows: p.table.rows.max(0) as u64,
        });
        let source = load::Source {
            path: path.clone(),
            table: p.table.name.clone(),
            columns,
            types: p.types.clone(),
            has_rowid: !p.table.without_rowid,
        };
        let s = load::checksum_source(&source)?;
        progress(Event::TableDone {
            table: &p.table.name,
        });
        report.rows += s.rows;
        report.tables.push(TableReport {
            table: p.table.name.clone(),
            rows_source: s.rows,
            rows_target: target.rows,
            bytes: s.bytes,
            millis: 0,
            checksum_source: s.checksum.hex(),
            checksum_target: target.hex(),
            matches: ok && s.checksum == target,
            columns: column_reports(p),
        });
    }
    // the keys, indexes and constraints a copy builds, present and valid
    let present: Vec<super::ddl::Plan> = plans
        .iter()
        .filter(|p| existing.iter().any(|(n, _)| *n == p.table.name))
        .cloned()
        .collect();
    report.missing = missing_promises(&client, &present).await?;
    report.millis = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// One key, index or constraint of the target, as the catalog has it.
struct Built {
    table: String,
    kind: String,
    unique: bool,
    valid: bool,
    primary: bool,
    columns: Vec<String>,
    parent: Option<String>,
    plain: bool,
    /// An index with a `WHERE` condition (and no expression).
    partial: bool,
}

/// What a copy of `plans` promised and the target lacks: the primary key,
/// every unique constraint and plain index (on the same columns, built and
/// valid), every foreign key (to the same parent, from the same columns)
/// and every translated CHECK. One catalog query for all tables.
pub(super) async fn missing_promises(
    client: &tokio_postgres::Client,
    plans: &[super::ddl::Plan],
) -> Result<Vec<String>> {
    use crate::db::decode::{Origin, PgRow};
    use tokio_postgres::types::Type;
    if plans.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<String> = plans.iter().map(|p| p.table.name.clone()).collect();
    let rows = client
        .query_typed(sql::BUILT_OBJECTS, &[(&names, Type::TEXT_ARRAY)])
        .await
        .map_err(|e| {
            crate::db::error::fail("reading the target's keys, indexes and constraints", &e)
        })?;
    let origin = Origin::table("pg_index, pg_constraint (what the copy built)");
    let mut built = Vec::new();
    for r in &rows {
        built.push(Built {
            table: r.col(0, origin)?,
            kind: r.col(1, origin)?,
            unique: r.col(2, origin)?,
            valid: r.col(3, origin)?,
            primary: r.col(4, origin)?,
            columns: r.col(5, origin)?,
            parent: r.col(6, origin)?,
            plain: r.col(7, origin)?,
            partial: r.col(8, origin)?,
        });
    }
    let mut missing = Vec::new();
    for p in plans {
        let t = &p.table;
        let on = |b: &&Built| b.table == t.name;
        let index_on = |cols: &[String], unique: bool, primary: bool| {
            built.iter().filter(on).any(|b| {
                b.kind == "i"
                    && b.plain
                    && b.valid
                    && b.columns == cols
                    && (!unique || b.unique)
                    && (!primary || b.primary)
            })
        };
        let pk: Vec<String> = t
            .primary_key
            .iter()
            .filter_map(|&i| t.columns.get(i))
            .map(|c| c.name.clone())
            .collect();
        if !pk.is_empty() && !index_on(&pk, true, true) {
            missing.push(format!("{}: primary key ({})", t.name, pk.join(", ")));
        }
        for index in t.indexes.iter().filter(|i| i.origin != "pk" && !i.partial) {
            let Some(cols) = index
                .columns
                .iter()
                .map(|c| c.as_ref().map(|(n, _)| n.clone()))
                .collect::<Option<Vec<String>>>()
            else {
                continue;
            };
            if !index_on(&cols, index.unique || index.origin == "u", false) {
                missing.push(format!(
                    "{}: {} ({}){}",
                    t.name,
                    if index.origin == "u" {
                        "unique constraint".to_string()
                    } else {
                        format!("index {}", index.name)
                    },
                    cols.join(", "),
                    if built
                        .iter()
                        .filter(on)
                        .any(|b| b.kind == "i" && b.columns == cols && !b.valid)
                    {
                        ", present but invalid (a failed build): drop it and rerun"
                    } else {
                        ""
                    }
                ));
            }
        }
        for fk in &t.foreign_keys {
            let present = built.iter().filter(on).any(|b| {
                b.kind == "f" && b.columns == fk.from && b.parent.as_deref() == Some(&fk.parent)
            });
            if !present {
                missing.push(format!(
                    "{}: foreign key ({}) references {}",
                    t.name,
                    fk.from.join(", "),
                    fk.parent
                ));
            }
        }
        // partial indexes whose condition translates were built with it
        let typed: Vec<(String, crate::types::PgType)> = t
            .columns
            .iter()
            .map(|c| c.name.clone())
            .zip(p.types.iter().copied())
            .collect();
        for index in t.indexes.iter().filter(|i| i.partial && i.origin == "c") {
            let Some(cols) = index
                .columns
                .iter()
                .map(|c| c.as_ref().map(|(n, _)| n.clone()))
                .collect::<Option<Vec<String>>>()
            else {
                continue;
            };
            let translates = index
                .sql
                .as_deref()
                .and_then(super::check::index_predicate)
                .and_then(|w| super::check::translate(w, &typed))
                .is_some();
            let present = built.iter().filter(on).any(|b| {
                b.kind == "i"
                    && b.partial
                    && b.valid
                    && b.columns == cols
                    && (!index.unique || b.unique)
            });
            if translates && !present {
                missing.push(format!(
                    "{}: partial index {} ({})",
                    t.name,
                    index.name,
                    cols.join(", ")
                ));
            }
        }
        let checks = built.iter().filter(on).filter(|b| b.kind == "c").count();
        if checks < p.checks.len() {
            missing.push(format!(
                "{}: {} of {} CHECK constraint(s)",
                t.name,
                p.checks.len() - checks,
                p.checks.len()
            ));
        }
    }
    Ok(missing)
}
