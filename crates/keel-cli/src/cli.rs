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
    /// Migrations folder layout: auto, keel, sqlx, diesel, golang-migrate,
    /// dbmate, goose, flyway, prisma [default: auto]
    #[arg(long, global = true, value_name = "NAME")]
    pub layout: Option<String>,
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
    /// Find id generators that are missing, unlinked, behind the data, not
    /// usable by the roles that insert, or near exhaustion; --fix repairs
    /// them in one transaction
    Sequences(SequencesArgs),
    /// Copy a SQLite database into PostgreSQL: faithful types, data, keys,
    /// indexes, foreign keys, working identity columns, grants; then
    /// validate every table
    Copy(CopyArgs),
    /// Compare row counts and content checksums of every table, SQLite
    /// against PostgreSQL
    Validate(ValidateArgs),
    /// Compare two schemas (database URLs, or `migrations`: what the
    /// migration folder produces); --sql prints the plan that turns TO into FROM
    Diff(DiffArgs),
    /// The CI gate: pending, modified, missing and failed migrations, drift
    /// against the migrations, and sequence trouble
    Check(CheckArgs),
    /// Import another tool's history (sqlx, diesel, golang-migrate, dbmate,
    /// goose, flyway, prisma, alembic, rails) into keel's tracking table
    /// without running anything, checking files against its checksums
    Adopt(AdoptArgs),
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// The tool whose history to import: sqlx, diesel, golang-migrate,
    /// dbmate, goose, flyway, prisma, alembic, rails, or auto
    #[arg(long, value_name = "TOOL", default_value = "auto")]
    pub from: String,
    /// Show what would be imported; write nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The SQLite database: sqlite:path/to/app.db or a path
    pub from: String,
    /// The PostgreSQL database: postgres://user@host:5432/db
    pub to: String,
    /// Connections loading tables in parallel [default: 2]
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub jobs: usize,
    /// Copy only these tables (comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub tables: Vec<String>,
    /// Leave these tables out (comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub exclude: Vec<String>,
    /// Load into tables that already exist (made by the application's
    /// migrations), then repair their sequences
    #[arg(long, conflicts_with = "schema_only")]
    pub data_only: bool,
    /// Create the tables, keys and indexes, without rows
    #[arg(long)]
    pub schema_only: bool,
    /// What to do with target tables that exist already: fail, truncate
    /// (keeps their definition, views and foreign keys), drop (refused when
    /// CASCADE would also remove views or other tables' foreign keys), or
    /// drop-cascade (removes those too, and lists them)
    #[arg(long, value_enum, default_value_t = IfExistsArg::Fail)]
    pub if_exists: IfExistsArg,
    /// Grant SELECT, INSERT, UPDATE, DELETE on the copied tables, and
    /// USAGE, SELECT on their sequences (lastval()), to ROLE
    #[arg(long, value_name = "ROLE")]
    pub grant: Vec<String>,
    /// Copy even when a CHECK constraint cannot be translated (each one
    /// left out is listed)
    #[arg(long)]
    pub skip_checks: bool,
    /// Choose a column's PostgreSQL type: TABLE.COLUMN=TYPE
    #[arg(long, value_name = "TABLE.COLUMN=TYPE")]
    pub cast: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IfExistsArg {
    Fail,
    Truncate,
    Drop,
    DropCascade,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The SQLite database: sqlite:path/to/app.db or a path
    pub from: String,
    /// The PostgreSQL database: postgres://user@host:5432/db
    pub to: String,
    /// Compare only these tables (comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub tables: Vec<String>,
    /// Leave these tables out (comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub exclude: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The expected schema: a database URL, or `migrations`
    pub from: String,
    /// The actual schema: a database URL, or `migrations` [default: the
    /// database URL from --database-url, DATABASE_URL, .env or keel.toml]
    pub to: Option<String>,
    /// Print the SQL that turns TO into FROM (checked on a scratch copy of
    /// TO's schema before it is printed)
    #[arg(long)]
    pub sql: bool,
    /// Include statements that delete data (DROP TABLE, DROP COLUMN) in the plan
    #[arg(long)]
    pub allow_destructive: bool,
    /// Leave these tables out of the comparison (repeatable or comma-separated)
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "TABLE",
        conflicts_with = "sql"
    )]
    pub exclude: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Leave these tables out of the drift check (repeatable or comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "TABLE")]
    pub exclude: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SequencesArgs {
    /// Repair everything found, in one transaction
    #[arg(long)]
    pub fix: bool,
    /// A role that must be able to insert (PostgreSQL; repeatable): checked
    /// for USAGE on every sequence a default draws from, granted it by --fix
    #[arg(long, value_name = "ROLE")]
    pub grant: Vec<String>,
    /// Only this schema (PostgreSQL; repeatable); default every non-system schema
    #[arg(long, value_name = "NAME")]
    pub schema: Vec<String>,
    /// How --fix gives an id column with no generator one (PostgreSQL)
    #[arg(long, value_enum, default_value_t = StyleArg::Identity)]
    pub style: StyleArg,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum StyleArg {
    /// GENERATED BY DEFAULT AS IDENTITY (needs no sequence grants)
    Identity,
    /// a <table>_<column>_seq sequence owned by the column, as serial makes
    Serial,
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
    /// An applied migration whose file now has another name and other SQL:
    /// record it as the same migration, renamed and edited
    #[arg(long, value_name = "VERSION")]
    pub accept_renamed: Vec<i64>,
    /// Show what would change; change nothing
    #[arg(long)]
    pub dry_run: bool,
}
