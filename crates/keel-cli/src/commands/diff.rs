//! `keel diff FROM TO [--sql]`: every difference between two schemas,
//! grouped by table; with `--sql`, the verified plan that turns TO into
//! FROM (on stdout, the report then going to stderr). Exit 1 when the
//! schemas differ.

use super::{Context, with_header};
use crate::cli::DiffArgs;
use crate::exit::ExitStatus;
use keel::schema::{Change, Comparison, Difference, Options, Side};
use keel::{DatabaseUrl, Migrations, Result};
use serde_json::json;

pub async fn run(ctx: &Context, args: &DiffArgs) -> Result<ExitStatus> {
    let from = side(ctx, &args.from)?;
    let to = match &args.to {
        Some(to) => side(ctx, to)?,
        None => Side::Url(ctx.settings.database_url.clone()),
    };
    let options = Options {
        table: ctx.settings.table.clone(),
        plan: args.sql,
        allow_destructive: args.allow_destructive,
        up_to: None,
    };
    let p = &ctx.printer;
    p.note(format_args!(
        "comparing {} (expected) with {} (actual)",
        from.describe(),
        to.describe()
    ));
    let mut c = keel::schema::compare(&from, &to, &options).await?;
    c.differences
        .retain(|d| !keel::check::excluded(d, &args.exclude));
    let mut notes = Vec::new();
    for side in [&from, &to] {
        if let Side::Url(url) = side {
            notes.extend(super::leftover_notes(ctx, url).await);
        }
    }
    for n in &notes {
        p.note(format_args!("note: {n}"));
    }
    if args.sql {
        if let Some(plan) = &c.plan {
            p.line(plan.to_sql());
        }
        report(ctx, &c, true);
    } else {
        report(ctx, &c, false);
    }
    p.document(
        "diff",
        with_header(
            ctx,
            json!({
                "from": c.from,
                "to": c.to,
                "from_engine": c.from_engine,
                "to_engine": c.to_engine,
                "same": c.differences.is_empty(),
                "differences": c.differences,
                "notes": notes,
                "plan": c.plan.as_ref().map(|plan| json!({
                    "sql": plan.to_sql(),
                    "verified": c.plan_verified,
                    "steps": plan.steps,
                    "omitted": plan.omitted,
                })),
            }),
        ),
    );
    Ok(if c.differences.is_empty() {
        ExitStatus::Ok
    } else {
        ExitStatus::Problems
    })
}

/// `migrations`, or a database URL.
pub fn side(ctx: &Context, arg: &str) -> Result<Side> {
    if arg == "migrations" {
        let dir = &ctx.settings.migrations_dir;
        if !dir.is_dir() {
            return Err(keel::Error::InvalidInput {
                message: format!("migrations folder {} does not exist", dir.display()),
                hint: Some("point --migrations at your folder".into()),
            });
        }
        return Ok(Side::Migrations(Migrations::from_dir_as(
            dir,
            ctx.settings.layout,
        )?));
    }
    Ok(Side::Url(DatabaseUrl::parse(arg)?))
}

/// The differences grouped by table, on stdout (or stderr under a plan).
pub fn report(ctx: &Context, c: &Comparison, to_stderr: bool) {
    let p = &ctx.printer;
    let out = |s: String| {
        if to_stderr { p.note(s) } else { p.line(s) }
    };
    if c.differences.is_empty() {
        out("no differences: the schemas match".into());
        return;
    }
    differences(&c.differences, "", &out);
    summary(c, &out);
}

/// One line per difference, under a line per table.
pub fn differences(diffs: &[Difference], indent: &str, out: &dyn Fn(String)) {
    let mut group = String::new();
    for d in diffs {
        if d.group() != group {
            group = d.group();
            out(format!("{indent}{group}"));
        }
        let what = match (&d.table, d.kind) {
            (None, keel::schema::Kind::Table) => "table".to_string(),
            (None, k) => k.words().to_string(),
            (Some(_), k) => format!("{} {}", k.words(), d.name),
        };
        let line = match d.change {
            Change::Missing => format!(
                "  missing  {what}: {}",
                d.expected.as_deref().unwrap_or_default()
            ),
            Change::Extra => format!(
                "  extra    {what}: {}",
                d.actual.as_deref().unwrap_or_default()
            ),
            Change::Changed => format!(
                "  changed  {what} {}: expected {}, actual {}",
                d.attribute.as_deref().unwrap_or("definition"),
                d.expected.as_deref().unwrap_or("none"),
                d.actual.as_deref().unwrap_or("none")
            ),
        };
        out(format!("{indent}{line}"));
    }
}

fn summary(c: &Comparison, out: &dyn Fn(String)) {
    let count = |ch: Change| c.differences.iter().filter(|d| d.change == ch).count();
    out(format!(
        "\n{} difference(s): {} missing from {}, {} only in {}, {} changed",
        c.differences.len(),
        count(Change::Missing),
        c.to,
        count(Change::Extra),
        c.to,
        count(Change::Changed)
    ));
    if let Some(plan) = &c.plan {
        if !plan.omitted.is_empty() {
            out(format!(
                "{} difference(s) left out of the plan (listed at its end)",
                plan.omitted.len()
            ));
        }
        if c.plan_verified && !plan.is_empty() {
            out("the plan was checked on a scratch copy of the actual schema: it leaves no other difference".into());
        }
    }
}
