//! `keel down [--to V | --steps N] [--dry-run]`.

use super::Context;
use super::up::print_run;
use crate::cli::DownArgs;
use crate::exit::ExitStatus;
use keel::{DownTarget, Result};

pub async fn run(ctx: &Context, args: &DownArgs) -> Result<ExitStatus> {
    let (migrator, mut db) = ctx.open().await?;
    let target = match (args.to, args.steps) {
        (Some(v), _) => DownTarget::Version(v),
        (None, steps) => DownTarget::Steps(steps.unwrap_or(1)),
    };
    let report = if args.dry_run {
        migrator.down_dry_run(&mut db, target).await
    } else {
        migrator.down(&mut db, target, &mut ctx.observer()).await
    };
    db.close().await?;
    print_run(ctx, "down", &report?, "reverted");
    Ok(ExitStatus::Ok)
}
