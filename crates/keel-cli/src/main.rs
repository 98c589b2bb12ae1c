//! The `keel` binary: parses the command line, resolves settings once, calls
//! the library through `commands/`, prints, and picks the exit status.

mod cli;
mod commands;
mod exit;
mod printer;

use clap::Parser;
use exit::ExitStatus;
use keel::settings::{Overrides, Settings};
use printer::Printer;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let printer = Printer {
        format: cli.global.format,
        quiet: cli.global.quiet,
    };
    let command = commands::name(&cli.command);
    let overrides = Overrides {
        database_url: cli.global.database_url.clone(),
        migrations: cli.global.migrations.clone(),
        config: cli.global.config.clone(),
        table: cli.global.table.clone(),
        lock_timeout: cli.global.lock_timeout,
        layout: cli.global.layout.clone(),
    };
    let settings = std::env::current_dir()
        .map_err(|e| keel::Error::Io {
            path: "the current directory".into(),
            source: e,
        })
        .and_then(|cwd| Settings::resolve(&overrides, &cwd));
    let settings = match settings {
        Ok(s) => s,
        Err(e) => {
            printer.error(command, None, &e);
            return ExitStatus::Error.into();
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            printer.error(
                command,
                None,
                &keel::Error::Io {
                    path: "the async runtime".into(),
                    source: e,
                },
            );
            return ExitStatus::Error.into();
        }
    };
    // the database an error is about: copy and validate name their own
    let db = match &cli.command {
        cli::Command::Copy(a) => keel::settings::redact(&a.to),
        cli::Command::Validate(a) => keel::settings::redact(&a.to),
        _ => settings.database_url.redacted(),
    };
    let ctx = commands::Context { settings, printer };
    match runtime.block_on(commands::run(cli.command, &ctx)) {
        Ok(status) => status.into(),
        Err(e) => {
            ctx.printer.error(command, Some(&db), &e);
            ExitStatus::Error.into()
        }
    }
}
