//! `keel copy FROM TO` and `keel validate FROM TO`: the summary table
//! (rows, bytes, time, checksum per table), notes, orphans and sequences;
//! progress bars per table with rows/s on a terminal.

use super::{Context, with_header};
use crate::cli::{CopyArgs, IfExistsArg, ValidateArgs};
use crate::exit::ExitStatus;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use keel::Result;
use keel::copy::{Event, IfExists, Options, Report};
use serde_json::json;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

/// Bars per table while it loads, on a terminal only.
struct Bars {
    multi: Option<MultiProgress>,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    fn new(ctx: &Context) -> Bars {
        let show = !ctx.printer.is_json() && !ctx.printer.quiet && std::io::stderr().is_terminal();
        Bars {
            multi: show.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn event(&self, event: Event<'_>) {
        let Some(multi) = &self.multi else { return };
        let Ok(mut bars) = self.bars.lock() else {
            return;
        };
        match event {
            Event::TableStarted { table, rows } => {
                let bar = multi.add(ProgressBar::new(rows));
                if let Ok(style) =
                    ProgressStyle::with_template("{msg:24} {bar:30} {pos}/{len} rows {per_sec}")
                {
                    bar.set_style(style);
                }
                bar.set_message(table.to_string());
                bars.insert(table.to_string(), bar);
            }
            Event::Rows { table, done } => {
                if let Some(bar) = bars.get(table) {
                    bar.set_position(done);
                }
            }
            Event::TableDone { table } => {
                if let Some(bar) = bars.remove(table) {
                    bar.finish_and_clear();
                }
            }
            Event::Step(_) => {}
        }
    }
}

pub async fn run(ctx: &Context, args: &CopyArgs) -> Result<ExitStatus> {
    let options = Options {
        jobs: args.jobs,
        tables: args.tables.clone(),
        exclude: args.exclude.clone(),
        data_only: args.data_only,
        schema_only: args.schema_only,
        if_exists: match args.if_exists {
            IfExistsArg::Fail => IfExists::Fail,
            IfExistsArg::Truncate => IfExists::Truncate,
            IfExistsArg::Drop => IfExists::Drop,
            IfExistsArg::DropCascade => IfExists::DropCascade,
        },
        grant: args.grant.clone(),
        casts: args.cast.clone(),
        skip_checks: args.skip_checks,
        tracking_table: ctx.settings.table.clone(),
    };
    let bars = Bars::new(ctx);
    let report = keel::copy::run(&args.from, &args.to, &options, &|e| bars.event(e)).await?;
    print(ctx, "copy", &args.to, &report)
}

pub async fn validate(ctx: &Context, args: &ValidateArgs) -> Result<ExitStatus> {
    let options = Options {
        tables: args.tables.clone(),
        exclude: args.exclude.clone(),
        tracking_table: ctx.settings.table.clone(),
        ..Options::default()
    };
    let bars = Bars::new(ctx);
    let report = keel::copy::validate(&args.from, &args.to, &options, &|e| bars.event(e)).await?;
    print(ctx, "validate", &args.to, &report)
}

fn print(ctx: &Context, command: &str, to: &str, report: &Report) -> Result<ExitStatus> {
    let p = &ctx.printer;
    p.line(format_args!(
        "{:<28} {:>10} {:>10} {:>12} {:>9}  content",
        "table", "rows", "in target", "bytes", "ms"
    ));
    for t in &report.tables {
        p.line(format_args!(
            "{:<28} {:>10} {:>10} {:>12} {:>9}  {}",
            t.table,
            t.rows_source,
            t.rows_target,
            t.bytes,
            t.millis,
            if t.matches { "same" } else { "DIFFERS" }
        ));
    }
    p.line(format_args!(
        "{:<28} {:>10} {:>10} {:>12} {:>9}",
        "total",
        report.rows,
        report.tables.iter().map(|t| t.rows_target).sum::<u64>(),
        report.bytes,
        report.millis
    ));
    for o in &report.orphans {
        p.line(format_args!(
            "orphans: {} row(s) of {} have no parent ({} added NOT VALID)",
            o.rows, o.table, o.constraint
        ));
    }
    for n in &report.notes {
        p.line(format_args!("note: {n}"));
    }
    let seq_ok = report.sequences.as_ref().is_none_or(|s| s.ok());
    if let Some(s) = &report.sequences {
        for f in &s.findings {
            p.line(format_args!(
                "sequence {}: {}.{}: {}",
                f.problem.as_str(),
                f.table,
                f.column,
                f.detail
            ));
        }
    }
    let valid = report.valid();
    if command == "copy" && !p.quiet {
        // where the data went, on stderr whatever the format of stdout
        crate::printer::err_line(format_args!(
            "keel copy: {} table(s), {} row(s) written into {}",
            report.tables.len(),
            report.rows,
            super::shown_target(to)
        ));
    }
    if valid && seq_ok {
        p.line(format_args!(
            "{}: every table has the same rows and content in {}",
            if command == "copy" {
                "copied and validated"
            } else {
                "valid"
            },
            super::shown_target(to)
        ));
    }
    if let Some(when) = &report.incomplete {
        p.line(format_args!(
            "INCOMPLETE: the keel copy started {when} has not finished: keys, foreign keys or grants may be missing; run it again with --if-exists drop"
        ));
    }
    for m in &report.missing {
        p.line(format_args!("MISSING in the target: {m}"));
    }
    if !valid && report.tables.iter().any(|t| !t.matches) {
        let bad: Vec<&str> = report
            .tables
            .iter()
            .filter(|t| !t.matches)
            .map(|t| t.table.as_str())
            .collect();
        p.line(format_args!(
            "MISMATCH in {} table(s): {}",
            bad.len(),
            bad.join(", ")
        ));
    }
    p.document(
        command,
        with_header(
            ctx,
            json!({
                "valid": valid,
                "sequences_sound": seq_ok,
                "tables": report.tables,
                "rows": report.rows,
                "bytes": report.bytes,
                "millis": report.millis,
                "orphans": report.orphans,
                "notes": report.notes,
                "incomplete": report.incomplete,
                "missing": report.missing,
                "sequences": report.sequences,
            }),
        ),
    );
    Ok(if valid && seq_ok {
        ExitStatus::Ok
    } else {
        ExitStatus::Problems
    })
}
