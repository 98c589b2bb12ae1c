//! `keel stamp V`: marks migrations up to V applied without running them.

use super::{Context, with_header};
use crate::cli::StampArgs;
use crate::exit::ExitStatus;
use keel::Result;
use serde_json::json;

pub async fn run(ctx: &Context, args: &StampArgs) -> Result<ExitStatus> {
    let (migrator, mut db) = ctx.open().await?;
    let report = migrator
        .stamp(&mut db, args.version, &mut ctx.observer())
        .await;
    db.close().await?;
    let report = report?;
    for v in &report.stamped {
        ctx.printer
            .line(format_args!("stamped {v} as applied (not run)"));
    }
    if report.stamped.is_empty() {
        ctx.printer.line(format_args!(
            "nothing to stamp: everything up to {} is applied",
            args.version
        ));
    }
    ctx.printer.document(
        "stamp",
        with_header(ctx, json!({ "stamped": report.stamped })),
    );
    Ok(ExitStatus::Ok)
}
