//! `keel adopt --from TOOL [--dry-run]`: imports another tool's history into
//! keel's tracking table without running anything.

use super::{Context, with_header};
use crate::cli::AdoptArgs;
use crate::exit::ExitStatus;
use keel::Result;
use keel::adopt::{AdoptOptions, Tool, Verified};
use keel::source::Layout;
use serde_json::json;

pub async fn run(ctx: &Context, args: &AdoptArgs) -> Result<ExitStatus> {
    let tool = match Tool::parse(&args.from)? {
        Some(t) => t,
        None => keel::adopt::detect_tool(&ctx.settings.database_url).await?,
    };
    // golang-migrate's names are keel's, but its down files are optional
    let migrator = match (tool, ctx.settings.layout) {
        (Tool::GolangMigrate, None) => {
            super::load(&ctx.settings.migrations_dir, Some(Layout::GolangMigrate))?
        }
        (_, layout) => super::load(&ctx.settings.migrations_dir, layout)?,
    };
    let mut db = ctx.connect().await?;
    let options = AdoptOptions {
        tool: Some(tool),
        dry_run: args.dry_run,
    };
    let report =
        keel::adopt::adopt(migrator.migrations(), &mut db, options, &mut ctx.observer()).await;
    db.close().await?;
    let report = report?;
    let p = &ctx.printer;
    let verb = if report.dry_run {
        "would import"
    } else {
        "imported"
    };
    p.line(format_args!(
        "{} history from {} ({} row(s) {verb}, {} already tracked by keel; {} left as it is)",
        report.tool,
        report.source_table,
        report.imported.len(),
        report.already_tracked.len(),
        report.source_table
    ));
    for i in &report.imported {
        let how = match i.verified {
            Verified::Checksum => "checksum verified",
            Verified::Presence => "no checksum kept",
            Verified::VersionOnly => "below the current version, not verified",
        };
        let state = if i.success { "applied" } else { "FAILED" };
        p.line(format_args!(
            "  {:<7} {} {} ({how}{})",
            state,
            i.version,
            i.file,
            i.applied_at
                .as_deref()
                .map(|a| format!(", ran {a}"))
                .unwrap_or_default()
        ));
    }
    for n in &report.notes {
        p.line(format_args!("note: {n}"));
    }
    if report.imported.iter().any(|i| !i.success) {
        p.line(format_args!(
            "failed entries were imported as failures: review them with `keel status`, then `keel repair`"
        ));
    }
    if report.dry_run {
        p.line(format_args!("dry run: nothing was written"));
    }
    let layout = migrator.migrations().layout;
    if layout != Layout::Keel && ctx.settings.layout.is_none() {
        p.line(format_args!(
            "the folder is read in {layout}'s layout; set `layout = \"{layout}\"` in keel.toml to keep it so"
        ));
    }
    p.document(
        "adopt",
        with_header(
            ctx,
            json!({
                "tool": report.tool,
                "source_table": report.source_table,
                "dry_run": report.dry_run,
                "imported": report.imported,
                "already_tracked": report.already_tracked,
                "notes": report.notes,
            }),
        ),
    );
    Ok(ExitStatus::Ok)
}
