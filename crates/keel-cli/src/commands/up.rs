//! `keel up [--to V] [--dry-run] [--allow-out-of-order]`.

use super::{Context, with_header};
use crate::cli::UpArgs;
use crate::exit::ExitStatus;
use keel::runner::{Event, RunReport};
use keel::{Result, Target};
use serde_json::json;

pub async fn run(ctx: &Context, args: &UpArgs) -> Result<ExitStatus> {
    let (migrator, mut db) = ctx.open().await?;
    let migrator = migrator.allow_out_of_order(args.allow_out_of_order);
    let target = args.to.map_or(Target::Latest, Target::Version);
    let report = if args.dry_run {
        migrator.up_dry_run(&mut db, target).await
    } else {
        let bar = ctx.printer.progress(migrator.migrations().len());
        let mut note = ctx.observer();
        let mut observer = |event: Event<'_>| match event {
            Event::Starting {
                version,
                name,
                index,
                total,
            } => {
                bar.set_length(total as u64);
                bar.set_position(index as u64 - 1);
                bar.set_message(format!("{version} {name}"));
            }
            Event::Finished { .. } => bar.inc(1),
            other => note(other),
        };
        let r = migrator.up(&mut db, target, &mut observer).await;
        bar.finish_and_clear();
        r
    };
    db.close().await?;
    let report = report?;
    print_run(ctx, "up", &report, "applied");
    Ok(ExitStatus::Ok)
}

/// Shared by `up` and `down`: one line per migration, statements in a dry run.
pub fn print_run(ctx: &Context, command: &str, report: &RunReport, verb: &str) {
    let p = &ctx.printer;
    if let Some(ms) = report.waited_for_lock_ms {
        p.note(format_args!("waited {ms} ms for the migration lock"));
    }
    for s in &report.steps {
        let mode = if s.transactional {
            ""
        } else {
            ", no transaction"
        };
        match s.duration_ms {
            Some(ms) => p.line(format_args!(
                "{verb} {} {} ({ms} ms{mode})",
                s.version, s.file
            )),
            None => {
                p.line(format_args!(
                    "would run {} ({} statement(s){mode}):",
                    s.file,
                    s.statements.len()
                ));
                for st in &s.statements {
                    for line in st.lines() {
                        p.line(format_args!("    {line}"));
                    }
                    p.line("    ;");
                }
            }
        }
    }
    if report.up_to_date() {
        p.line(if command == "up" {
            "already up to date"
        } else {
            "nothing to revert"
        });
    } else if !report.dry_run {
        p.line(format_args!("{} migration(s) {verb}", report.steps.len()));
    }
    p.document(command, with_header(ctx, json!({ "dry_run": report.dry_run, "up_to_date": report.up_to_date(), "waited_for_lock_ms": report.waited_for_lock_ms, "steps": report.steps })));
}
