//! `keel sequences [--fix]`: every id generator that will fail the next
//! INSERT, and with `--fix` the repair, before and after.

use super::{Context, with_header};
use crate::cli::{SequencesArgs, StyleArg};
use crate::exit::ExitStatus;
use keel::Result;
use keel::sequences::{Options, Style};
use serde_json::json;

pub async fn run(ctx: &Context, args: &SequencesArgs) -> Result<ExitStatus> {
    let options = Options {
        fix: args.fix,
        grant: args.grant.clone(),
        schemas: args.schema.clone(),
        style: match args.style {
            StyleArg::Identity => Style::Identity,
            StyleArg::Serial => Style::Serial,
        },
    };
    let mut db = ctx.connect().await?;
    let report = keel::sequences::run(&mut db, &options).await;
    db.close().await?;
    let report = report?;
    let p = &ctx.printer;
    if report.findings.is_empty() {
        p.line(format_args!(
            "every sequence is sound ({} column(s) with a generator checked)",
            report.columns_checked
        ));
    }
    for f in &report.findings {
        let on = match &f.sequence {
            Some(s) => format!(" ({s})"),
            None => String::new(),
        };
        p.line(format_args!(
            "{:<16} {}.{}{on}: {}{}",
            f.problem.as_str(),
            f.table,
            f.column,
            f.detail,
            if f.fixable { "" } else { " [needs a person]" }
        ));
    }
    if args.fix {
        if report.changes.is_empty() {
            p.line("nothing to change");
        } else {
            p.line(format_args!(
                "fixed ({} change(s); one transaction on PostgreSQL and SQLite):",
                report.changes.len()
            ));
        }
        for c in &report.changes {
            p.line(format_args!(
                "  {:<16} {}.{}: {} -> {}",
                c.problem.as_str(),
                c.table,
                c.column,
                c.before,
                c.after
            ));
        }
    } else if !report.findings.is_empty() {
        p.line("run `keel sequences --fix` to repair what can be repaired");
    }
    let status = if report.ok() {
        ExitStatus::Ok
    } else {
        ExitStatus::Problems
    };
    p.document(
        "sequences",
        with_header(
            ctx,
            json!({
                "fix": args.fix,
                "sound": report.ok(),
                "columns_checked": report.columns_checked,
                "findings": report.findings,
                "changes": report.changes,
                "remaining": report.remaining,
            }),
        ),
    );
    Ok(status)
}
