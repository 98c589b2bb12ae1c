//! `keel repair`: after review, accepts modified checksums and clears
//! failures that left nothing applied; for partial failures lists what
//! stayed applied and the choices (`--retry`, `--mark-applied`,
//! `--mark-rolled-back`). Exit 1 while something still needs a decision.

use super::{Context, with_header};
use crate::cli::RepairArgs;
use crate::exit::ExitStatus;
use keel::Result;
use keel::runner::RepairOptions;
use serde_json::json;

pub async fn run(ctx: &Context, args: &RepairArgs) -> Result<ExitStatus> {
    let (migrator, mut db) = ctx.open().await?;
    let options = RepairOptions {
        mark_applied: args.mark_applied.clone(),
        mark_rolled_back: args.mark_rolled_back.clone(),
        retry: args.retry.clone(),
        forget_missing: args.forget_missing,
        accept_renamed: args.accept_renamed.clone(),
        dry_run: args.dry_run,
    };
    let report = migrator
        .repair(&mut db, &options, &mut ctx.observer())
        .await;
    db.close().await?;
    let report = report?;
    let p = &ctx.printer;
    let prefix = if report.dry_run { "would: " } else { "" };
    for a in &report.actions {
        p.line(format_args!(
            "{prefix}{} {}: {}",
            a.version, a.name, a.detail
        ));
    }
    for u in &report.unresolved {
        p.line(format_args!("{} {}: {}", u.version, u.name, u.detail));
        if !u.applied_statements.is_empty() {
            p.line("  statements that stayed applied:");
            for (i, s) in u.applied_statements.iter().enumerate() {
                p.line(format_args!("    {}. {}", i + 1, headline(s)));
            }
        }
        if let Some(f) = &u.failed_statement {
            p.line(format_args!("  failed statement: {}", headline(f)));
        }
        if let Some(d) = &u.in_doubt_statement {
            p.line(format_args!("  statement in doubt: {}", headline(d)));
        }
        if let Some(c) = &u.catalog {
            p.line(format_args!("  catalog: {c}"));
        }
        p.line("  choose one:");
        for o in &u.options {
            p.line(format_args!("    {o}"));
        }
    }
    if report.actions.is_empty() && report.unresolved.is_empty() {
        p.line("nothing to repair");
    }
    p.document("repair", with_header(ctx, json!({ "dry_run": report.dry_run, "actions": report.actions, "unresolved": report.unresolved })));
    Ok(if report.unresolved.is_empty() {
        ExitStatus::Ok
    } else {
        ExitStatus::Problems
    })
}

/// A statement's first line of SQL: leading comment lines (a file's
/// `-- keel:` directives come with its first statement) are skipped.
fn headline(statement: &str) -> &str {
    let mut lines = statement.lines().map(str::trim);
    lines
        .clone()
        .find(|l| !l.is_empty() && !l.starts_with("--"))
        .or_else(|| lines.next())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::headline;

    #[test]
    fn headline_skips_leading_comments() {
        assert_eq!(
            headline("-- keel:no-transaction\n\nCREATE TABLE a (\n  id int\n)"),
            "CREATE TABLE a ("
        );
        assert_eq!(
            headline("INSERT INTO t VALUES (1)"),
            "INSERT INTO t VALUES (1)"
        );
        assert_eq!(headline("-- only a comment"), "-- only a comment");
        assert_eq!(headline(""), "");
    }
}
