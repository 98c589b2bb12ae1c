//! The command line: global flags (accepted before or after the command
//! name) and one subcommand per file in `commands/`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "keel",
    version,
    about = "Migrations that are provably applied, on SQLite, PostgreSQL and MySQL/MariaDB"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Database URL (else DATABASE_URL, .env, keel.toml, then sqlite:keel.db)
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Migrations folder [default: migrations]
    #[arg(long, global = true, value_name = "DIR")]
    pub migrations: Option<PathBuf>,
    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print only errors (and the JSON document with --format json)
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Configuration file [default: keel.toml, if present]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Tracking table name [default: keel_migrations]
    #[arg(long, global = true, value_name = "NAME")]
    pub table: Option<String>,
    /// Seconds to wait for another runner's migration lock [default: 300]
    #[arg(long, global = true, value_name = "SECONDS")]
    pub lock_timeout: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the migrations folder and a commented keel.toml
    Init,
    /// Create the next migration file(s), timestamp-versioned
    New(NewArgs),
    /// Show every migration: applied, pending, modified, missing, failed, out-of-order
    Status,
    /// Apply pending migrations in order, under the migration lock
    Up(UpArgs),
    /// Revert applied migrations with their down files
    Down(DownArgs),
    /// Mark migrations up to VERSION applied without running them
    Stamp(StampArgs),
    /// After review: accept modified checksums, clear or resolve failures
    Repair(RepairArgs),
    /// The tracking table, failures included
    History,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// What the migration does, e.g. add_users_email (words are joined with `_`)
    #[arg(required = true, num_args = 1..)]
    pub name: Vec<String>,
    /// Create an .up.sql and .down.sql pair
    #[arg(long, short)]
    pub reversible: bool,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Apply up to and including this version
    #[arg(long, value_name = "VERSION")]
    pub to: Option<i64>,
    /// Print what would run; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Apply pending migrations older than the newest applied one
    #[arg(long)]
    pub allow_out_of_order: bool,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Revert every migration newer than this version (0: all)
    #[arg(long, value_name = "VERSION", conflicts_with = "steps")]
    pub to: Option<i64>,
    /// Revert this many migrations [default: 1]
    #[arg(long, value_name = "N")]
    pub steps: Option<usize>,
    /// Print what would run; change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct StampArgs {
    /// The version to mark applied, with every version before it
    pub version: i64,
}

#[derive(Debug, Args)]
pub struct RepairArgs {
    /// A partially applied migration you finished by hand
    #[arg(long, value_name = "VERSION")]
    pub mark_applied: Vec<i64>,
    /// A partially applied migration you undid by hand
    #[arg(long, value_name = "VERSION")]
    pub mark_rolled_back: Vec<i64>,
    /// Continue a partially applied migration from its failed statement
    #[arg(long, value_name = "VERSION")]
    pub retry: Vec<i64>,
    /// Forget records of applied migrations whose files are gone
    #[arg(long)]
    pub forget_missing: bool,
    /// Show what would change; change nothing
    #[arg(long)]
    pub dry_run: bool,
}
