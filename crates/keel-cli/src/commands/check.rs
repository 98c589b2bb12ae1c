//! `keel check` (to come).
use super::Context;
use crate::exit::ExitStatus;
use keel::Result;

pub async fn run(_ctx: &Context) -> Result<ExitStatus> {
    Ok(ExitStatus::Ok)
}
