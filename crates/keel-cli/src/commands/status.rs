//! `keel status`: every migration and its state. Exit 1 unless everything is
//! applied and unchanged.

use super::{Context, with_header};
use crate::exit::ExitStatus;
use keel::Result;
use keel::plan::State;
use serde_json::json;

pub async fn run(ctx: &Context) -> Result<ExitStatus> {
    let (migrator, mut db) = ctx.open().await?;
    let report = migrator.status(&mut db).await;
    let copy_incomplete = keel::copy::unfinished(&mut db).await;
    let lock_holder = db.lock_holder().await;
    db.close().await?;
    let report = report?;
    let copy_incomplete = copy_incomplete?;
    let lock_holder = lock_holder?;
    let notes = super::leftover_notes(ctx, &ctx.settings.database_url).await;
    let p = &ctx.printer;
    if report.entries.is_empty() {
        p.line("no migrations yet: create one with `keel new <name>`");
    }
    for line in &report.entries {
        let e = &line.entry;
        let extra = match &e.state {
            State::Modified {
                applied_checksum,
                file_checksum,
                renamed_from,
            } => {
                format!(
                    "  checksum {} applied, {} in the file{}",
                    applied_checksum.short(),
                    file_checksum.short(),
                    keel::plan::renamed(renamed_from.as_deref(), &e.name)
                )
            }
            State::Failed {
                error,
                statements_applied,
                statements_total,
            } => format!(
                "  {statements_applied}/{statements_total} statements applied: {}",
                error.as_deref().unwrap_or("interrupted")
            ),
            State::PartlyReverted {
                error,
                statements_applied,
                statements_total,
            } => format!(
                "  {statements_applied}/{statements_total} statements of its down file took effect: {}",
                error.as_deref().unwrap_or("interrupted")
            ),
            State::InDoubt {
                statement_index,
                statements_applied,
                statements_total,
            } => format!(
                "  {statements_applied}/{statements_total} statements applied, statement {statement_index} in doubt (interrupted while it ran): `keel repair` shows the options"
            ),
            _ => e
                .applied_at
                .as_deref()
                .map(|a| format!("  {a}"))
                .unwrap_or_default(),
        };
        p.line(format_args!(
            "{:>14}  {:<13} {}{extra}",
            e.version,
            e.state.label(),
            e.file.as_deref().unwrap_or(&e.name)
        ));
        if let Some(diff) = &line.diff {
            for d in diff.lines() {
                p.line(format_args!("{:>16}{d}", ""));
            }
        }
    }
    let labels = [
        "applied",
        "pending",
        "out-of-order",
        "modified",
        "missing",
        "failed",
        "in-doubt",
        "partly-reverted",
    ];
    let summary: Vec<String> = labels
        .iter()
        .map(|l| (l, report.count(l)))
        .filter(|(_, n)| *n > 0)
        .map(|(l, n)| format!("{n} {l}"))
        .collect();
    if !summary.is_empty() {
        p.line(format_args!("\n{}", summary.join(", ")));
    }
    if let Some(when) = &copy_incomplete {
        p.line(format_args!(
            "\nINCOMPLETE: a keel copy into this database started {when} has not finished (keys, foreign keys or grants may be missing): run it again with --if-exists drop"
        ));
    }
    if let Some(holder) = &lock_holder {
        p.line(format_args!("\nmigration lock: held by {holder}"));
    }
    for n in &notes {
        p.line(format_args!("note: {n}"));
    }
    let counts: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .map(|l| (l.to_string(), json!(report.count(l))))
        .collect();
    p.document(
        "status",
        with_header(
            ctx,
            json!({ "clean": report.is_clean() && copy_incomplete.is_none(), "counts": counts, "migrations": report.entries, "notes": notes, "copy_incomplete": copy_incomplete, "lock_holder": lock_holder }),
        ),
    );
    Ok(if report.is_clean() && copy_incomplete.is_none() {
        ExitStatus::Ok
    } else {
        ExitStatus::Problems
    })
}
