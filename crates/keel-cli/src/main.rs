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
    // learn every password before anything can be printed: the arguments
    // (also when clap refuses them), DATABASE_URL, PGPASSWORD, MYSQL_PWD
    for arg in std::env::args().skip(1) {
        keel::secrets::register_in(&arg);
    }
    keel::secrets::register_environment();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return argument_error(e),
    };
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
    // (resolved first: a libpq key=value string is no URL `redact` knows)
    let shown = commands::shown_target;
    let db = match &cli.command {
        cli::Command::Copy(a) => shown(&a.to),
        cli::Command::Validate(a) => shown(&a.to),
        _ => settings.database_url.redacted(),
    };
    let read_only = commands::reads_only(&cli.command);
    let ctx = commands::Context {
        settings,
        printer,
        read_only,
    };
    match runtime.block_on(commands::run(cli.command, &ctx)) {
        Ok(status) => status.into(),
        Err(e) => {
            ctx.printer.error(command, Some(&db), &e);
            ExitStatus::Error.into()
        }
    }
}

/// A command line clap refused: clap's own message, or with `--format json`
/// the one JSON document every error gets. Help and version print as usual.
fn argument_error(e: clap::Error) -> std::process::ExitCode {
    use clap::error::ErrorKind;
    let args: Vec<String> = std::env::args().collect();
    let json = args
        .windows(2)
        .any(|w| w[0] == "--format" && w[1] == "json")
        || args.iter().any(|a| a == "--format=json");
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    // clap quotes the refused argument, which may be a URL with a password
    let rendered = e.render().to_string();
    if !json {
        printer::err_line(rendered.trim_end());
        return ExitStatus::Error.into();
    }
    let message = rendered
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_string();
    // the first argument that names a command: never an option's value,
    // which may be a URL holding a password
    let names: Vec<String> = <cli::Cli as clap::CommandFactory>::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    let command = args.iter().skip(1).find(|a| names.contains(a)).cloned();
    let doc = serde_json::json!({
        "ok": false,
        "command": command,
        "database": null,
        "error": {
            "kind": "invalid_input",
            "message": message,
            "hint": "run `keel --help` (or `keel COMMAND --help`) for the arguments",
            "usage": rendered.trim_end(),
        }
    });
    printer::out_json(doc);
    ExitStatus::Error.into()
}
