//! `keel validate FROM TO`: the copy's checksums, on their own.

use super::encode::Checksum;
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
    report.millis = started.elapsed().as_millis() as u64;
    Ok(report)
}
