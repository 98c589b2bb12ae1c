//! `keel check`: the CI and health gate — migrations pending, modified,
//! missing or failed; drift of the live schema from what the applied
//! migrations produce; sequence trouble. Exit 1 when anything is found.

use super::{Context, diff, with_header};
use crate::cli::CheckArgs;
use crate::exit::ExitStatus;
use keel::Result;
use keel::check::Drift;
use serde_json::json;

pub async fn run(ctx: &Context, args: &CheckArgs) -> Result<ExitStatus> {
    let (migrator, mut db) = ctx.open().await?;
    let report = keel::check::run(&migrator, &mut db).await;
    let copy_incomplete = keel::copy::unfinished(&mut db).await;
    db.close().await?;
    let mut report = report?;
    let copy_incomplete = copy_incomplete?;
    report.exclude(&args.exclude);
    let notes = super::leftover_notes(ctx, &ctx.settings.database_url).await;
    let p = &ctx.printer;
    let out = |s: String| p.line(s);

    let troubled: Vec<_> = report
        .migrations
        .entries
        .iter()
        .filter(|e| !e.entry.state.is_clean())
        .collect();
    let applied = report.migrations.count("applied");
    if troubled.is_empty() {
        out(format!("migrations: ok ({applied} applied)"));
    } else {
        out(format!(
            "migrations: {} need attention ({applied} applied)",
            troubled.len()
        ));
        for e in &troubled {
            out(format!(
                "  {:<13} {}",
                e.entry.state.label(),
                e.entry.file.as_deref().unwrap_or(&e.entry.name)
            ));
        }
    }

    match &report.drift {
        Drift::Skipped { reason } => out(format!("drift: not checked ({reason})")),
        Drift::Checked { up_to, differences } if differences.is_empty() => out(format!(
            "drift: none (the schema is what migrations up to {up_to} produce)"
        )),
        Drift::Checked { up_to, differences } => {
            out(format!(
                "drift: {} difference(s) from what migrations up to {up_to} produce",
                differences.len()
            ));
            diff::differences(differences, "  ", &out);
            out("  (`keel diff migrations --sql` prints the plan that fixes it)".into());
        }
    }

    if report.sequences.remaining.is_empty() {
        out(format!(
            "sequences: ok ({} column(s) with a generator)",
            report.sequences.columns_checked
        ));
    } else {
        out(format!(
            "sequences: {} problem(s)",
            report.sequences.remaining.len()
        ));
        for f in &report.sequences.remaining {
            out(format!(
                "  {:<16} {}.{}: {}",
                f.problem.as_str(),
                f.table,
                f.column,
                f.detail
            ));
        }
        out("  (`keel sequences --fix` repairs them)".into());
    }

    for n in &notes {
        out(format!("note: {n}"));
    }
    if let Some(when) = &copy_incomplete {
        out(format!(
            "copy: INCOMPLETE: the keel copy started {when} has not finished (keys, foreign keys or grants may be missing): run it again with --if-exists drop"
        ));
    }
    let ok = report.ok() && copy_incomplete.is_none();
    out(if ok {
        "\ncheck passed".to_string()
    } else {
        "\ncheck failed".to_string()
    });
    p.document(
        "check",
        with_header(
            ctx,
            json!({
                "passed": ok,
                "migrations": report.migrations.entries,
                "drift": report.drift,
                "sequences": report.sequences.remaining,
                "notes": notes,
                "excluded": args.exclude,
                "copy_incomplete": copy_incomplete,
            }),
        ),
    );
    Ok(if ok {
        ExitStatus::Ok
    } else {
        ExitStatus::Problems
    })
}
