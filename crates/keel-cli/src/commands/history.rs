//! `keel history`: the tracking table, failures included.

use super::{Context, with_header};
use crate::exit::ExitStatus;
use keel::Result;
use serde_json::json;

pub async fn run(ctx: &Context) -> Result<ExitStatus> {
    let mut db = ctx.connect().await?;
    let rows = keel::runner::history(&mut db).await;
    db.close().await?;
    let rows = rows?;
    let p = &ctx.printer;
    if rows.is_empty() {
        p.line("nothing applied yet");
    }
    for r in &rows {
        let outcome = match (r.success, r.in_doubt()) {
            (true, _) if r.is_reverted() => "undone",
            (true, _) => "ok",
            (false, Some(_)) => "IN DOUBT",
            (false, None) => "FAILED",
        };
        p.line(format_args!(
            "{:>14}  {:<6} {:<24} {}  {} ms  {} by {} (keel {}, {}/{} statements)",
            r.version,
            outcome,
            r.name,
            r.applied_at,
            r.duration_ms,
            r.method.as_str(),
            r.applied_by,
            r.keel_version,
            r.statements_applied,
            r.statements_total
        ));
        if let Some(e) = &r.error {
            p.line(format_args!("{:>16}error: {e}", ""));
        }
        if let Some(rev) = &r.revert {
            match (&rev.reverted_at, &rev.error) {
                (Some(at), _) => p.line(format_args!(
                    "{:>16}reverted {at}  {} ms by {}",
                    "",
                    rev.duration_ms.unwrap_or(0),
                    rev.reverted_by.as_deref().unwrap_or("")
                )),
                (None, Some(e)) => p.line(format_args!(
                    "{:>16}revert FAILED ({}/{} down statements took effect) by {}: {e}",
                    "",
                    rev.statements_applied,
                    rev.statements_total,
                    rev.reverted_by.as_deref().unwrap_or("")
                )),
                (None, None) => p.line(format_args!(
                    "{:>16}revert interrupted: {}/{} down statements took effect, statement {} in doubt",
                    "",
                    rev.statements_applied,
                    rev.statements_total,
                    rev.statements_applied + 1
                )),
            }
        }
        if let Some(n) = r.in_doubt() {
            p.line(format_args!(
                "{:>16}statement {n} in doubt: keel was interrupted while it ran and never learnt whether it took effect",
                ""
            ));
        }
        if let Some(s) = r
            .failed_statement
            .as_ref()
            .filter(|_| r.in_doubt().is_none())
        {
            p.line(format_args!(
                "{:>16}statement {}: {}",
                "",
                r.failed_statement_index.unwrap_or(0),
                s.lines().next().unwrap_or_default()
            ));
        }
    }
    let migrations: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut v = json!(r);
            if let Some(o) = v.as_object_mut() {
                o.insert("in_doubt_statement".into(), json!(r.in_doubt()));
            }
            v
        })
        .collect();
    p.document(
        "history",
        with_header(ctx, json!({ "migrations": migrations })),
    );
    Ok(ExitStatus::Ok)
}
