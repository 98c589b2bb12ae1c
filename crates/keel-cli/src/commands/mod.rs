//! One file per command: each parses nothing (clap did), calls the library,
//! prints through the [`Printer`], and returns an [`ExitStatus`].

mod adopt;
mod check;
mod copy;
mod diff;
mod down;
mod history;
mod init;
mod new;
mod repair;
mod sequences;
mod stamp;
mod status;
mod up;

use crate::cli::Command;
use crate::exit::ExitStatus;
use crate::printer::Printer;
use keel::runner::Event;
use keel::{ConnectOptions, Database, Migrations, Migrator, Result, Settings};

pub struct Context {
    pub settings: Settings,
    pub printer: Printer,
    /// The command only reads: a missing SQLite file is an error, never
    /// created.
    pub read_only: bool,
}

/// Whether a command only reads the database it targets.
pub fn reads_only(command: &Command) -> bool {
    match command {
        Command::Status | Command::History | Command::Check(_) => true,
        Command::Up(a) => a.dry_run,
        Command::Down(a) => a.dry_run,
        Command::Sequences(a) => !a.fix,
        Command::Diff(_) | Command::Validate(_) => true,
        _ => false,
    }
}

pub fn name(command: &Command) -> &'static str {
    match command {
        Command::Init => "init",
        Command::New(_) => "new",
        Command::Status => "status",
        Command::Up(_) => "up",
        Command::Down(_) => "down",
        Command::Stamp(_) => "stamp",
        Command::Repair(_) => "repair",
        Command::History => "history",
        Command::Sequences(_) => "sequences",
        Command::Copy(_) => "copy",
        Command::Validate(_) => "validate",
        Command::Diff(_) => "diff",
        Command::Check(_) => "check",
        Command::Adopt(_) => "adopt",
    }
}

pub async fn run(command: Command, ctx: &Context) -> Result<ExitStatus> {
    match command {
        Command::Init => init::run(ctx),
        Command::New(args) => new::run(ctx, &args),
        Command::Status => status::run(ctx).await,
        Command::Up(args) => up::run(ctx, &args).await,
        Command::Down(args) => down::run(ctx, &args).await,
        Command::Stamp(args) => stamp::run(ctx, &args).await,
        Command::Repair(args) => repair::run(ctx, &args).await,
        Command::History => history::run(ctx).await,
        Command::Sequences(args) => sequences::run(ctx, &args).await,
        Command::Copy(args) => copy::run(ctx, &args).await,
        Command::Validate(args) => copy::validate(ctx, &args).await,
        Command::Diff(args) => diff::run(ctx, &args).await,
        Command::Check(args) => check::run(ctx, &args).await,
        Command::Adopt(args) => adopt::run(ctx, &args).await,
    }
}

impl Context {
    /// Loads and validates the migrations while connecting, so a start-up
    /// `keel up` pays for the slower of the two, not both. Nothing is sent
    /// to the database unless every file is valid.
    pub async fn open(&self) -> Result<(Migrator, Database)> {
        let dir = self.settings.migrations_dir.clone();
        let layout = self.settings.layout;
        let loading = tokio::task::spawn_blocking(move || load(&dir, layout));
        let db = self.connect().await;
        let migrator = match loading.await {
            Ok(m) => m?,
            Err(e) => {
                return Err(keel::Error::invalid_input(format!(
                    "loading migrations failed: {e}"
                )));
            }
        };
        Ok((migrator, db?))
    }

    /// Connects, saying which database (password redacted) on stderr.
    pub async fn connect(&self) -> Result<Database> {
        let url = &self.settings.database_url;
        // a SQLite URL is its absolute path already; a server's says where
        let shown = match url.engine() {
            keel::settings::Engine::Sqlite => url.redacted(),
            _ => url.description().to_string(),
        };
        self.printer.note(format_args!(
            "database: {shown} (from {})",
            self.settings.url_source.describe()
        ));
        if !self.printer.quiet {
            crate::printer::database_shown();
        }
        for note in url.notes() {
            match note.starts_with("warning:") {
                true => self.printer.note(note),
                false => self.printer.note(format_args!("note: {note}")),
            }
        }
        let db = Database::connect_with(
            &self.settings.database_url,
            ConnectOptions {
                create_missing: !self.read_only,
                ..ConnectOptions::from(&self.settings)
            },
        )
        .await?;
        if let Some(why) = db.pooler() {
            self.printer.note(format_args!(
                "through a transaction pooler ({why}): using a lease lock"
            ));
        }
        Ok(db)
    }

    /// Fields every JSON document carries.
    pub fn header(&self) -> serde_json::Value {
        serde_json::json!({
            "database": self.settings.database_url.redacted(),
            "database_source": self.settings.url_source,
            "database_description": self.settings.database_url.description(),
            "database_notes": self.settings.database_url.notes(),
            "migrations": self.settings.migrations_dir.display().to_string(),
        })
    }

    /// Prints lock waits as they happen.
    pub fn observer(&self) -> impl FnMut(Event<'_>) + '_ {
        move |event| {
            if let Event::WaitingForLock { holder } = event {
                self.printer.note(format_args!(
                    "waiting for the migration lock, held by {holder}"
                ));
            }
        }
    }
}

/// A database named on the command line (copy's and validate's target),
/// as output shows it: resolved and redacted, or — when it does not
/// resolve — not at all, since no redaction can know where a malformed
/// string's password ends (`?password=a@b/%` once showed `@b/%`).
pub fn shown_target(raw: &str) -> String {
    keel::DatabaseUrl::parse(raw)
        .map(|u| u.redacted())
        .unwrap_or_else(|_| {
            "the connection string given (not shown: it may hold a password)".into()
        })
}

pub fn load(dir: &std::path::Path, layout: Option<keel::source::Layout>) -> Result<Migrator> {
    if !dir.is_dir() {
        return Err(keel::Error::InvalidInput {
            message: format!("migrations folder {} does not exist", dir.display()),
            hint: Some("run `keel init`, or point --migrations at your folder".into()),
        });
    }
    Ok(Migrator::new(Migrations::from_dir_as(dir, layout)?))
}

/// Other tools' history tables in the configured database, each printed
/// once as a note (never as drift); an error reading them is no reason to
/// fail the command, so it yields no notes.
pub async fn leftover_notes(ctx: &Context, url: &keel::DatabaseUrl) -> Vec<String> {
    match keel::adopt::leftover_tables(url, &ctx.settings.table).await {
        Ok(list) => list.iter().map(|l| l.note()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Merges `extra` into the header object.
pub fn with_header(ctx: &Context, extra: serde_json::Value) -> serde_json::Value {
    let mut doc = ctx.header();
    if let (Some(map), serde_json::Value::Object(extra)) = (doc.as_object_mut(), extra) {
        map.extend(extra);
    }
    doc
}
