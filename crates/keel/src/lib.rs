//! keel keeps databases honest: migrations that are provably applied, on
//! SQLite (the embedded default), PostgreSQL and MySQL/MariaDB.
//!
//! # How the pieces fit
//!
//! Data flows one way:
//! [`settings`] (URL — any spelling, made canonical once by [`connstr`] —,
//! folder, table) → [`source`] (validated
//! [`Migrations`]) → [`plan`] (pure: local × applied → states and plans) →
//! [`runner`] ([`Migrator`] applies a plan under the lock) → `backend` (one
//! file per engine, behind one narrow set of primitives) → [`db`] (the one
//! place connections are opened, errors mapped and rows decoded).
//!
//! A folder may be in another tool's layout ([`source::layout`]: sqlx,
//! diesel, golang-migrate, dbmate, goose, Flyway, Prisma), and [`adopt`]
//! imports that tool's history into keel's tracking table without running
//! anything.
//!
//! # Start-up
//!
//! Apply pending migrations before serving traffic, and refuse to start if
//! one fails:
//!
//! ```ignore
//! # async fn start() -> Result<(), keel::Error> {
//! static MIGRATIONS: &[keel::EmbeddedFile] = keel::embed_migrations!("migrations");
//!
//! let report = keel::migrate("sqlite:app.db", MIGRATIONS).await?;
//! println!("{} migration(s) applied", report.steps.len());
//! # Ok(()) }
//! ```
//!
//! `migrate` takes the migration lock, so many replicas can start at once:
//! each migration is applied exactly once, and the others wait, find nothing
//! left to do and carry on.
//!
//! When the database may start after the app (containers, a cluster
//! restart), [`Migrate`] is the same call with options: a connect timeout,
//! retries with exponential backoff and jitter for transient connection
//! errors only ([`Error::is_transient`]), a lock timeout and the tracking
//! table:
//!
//! ```ignore
//! let report = keel::Migrate::new(&url, MIGRATIONS)
//!     .connect_timeout(Duration::from_secs(5))
//!     .retry_for(Duration::from_secs(60))
//!     .lock_timeout(Duration::from_secs(120))
//!     .run()
//!     .await?;
//! ```
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod adopt;
mod backend;
pub mod check;
pub mod connstr;
pub mod copy;
pub mod db;
pub mod dialect;
pub mod error;
/// Entry points for the `cargo fuzz` targets in `fuzz/`; not keel's API.
#[doc(hidden)]
pub mod fuzzing;
pub mod known;
pub mod plan;
pub mod runner;
pub mod schema;
pub mod secrets;
pub mod sequences;
pub mod settings;
pub mod source;
pub mod startup;
pub mod tracking;
pub mod types;

pub use db::{ConnectOptions, Database};
pub use dialect::Dialect;
pub use error::{Error, ErrorKind, Result};
pub use plan::{DownTarget, Target};
pub use runner::{Migrator, RunReport};
pub use settings::{DatabaseUrl, Settings};
pub use source::{EmbeddedFile, Migration, Migrations};
pub use startup::Migrate;

/// Embeds a migrations folder (relative to the crate's `Cargo.toml`) into
/// the binary as a `&'static [EmbeddedFile]`. Every `.sql` file is embedded;
/// validation happens when [`Migrations::from_embedded`] loads them, with
/// the same rules and errors as the command line. Add
/// `println!("cargo:rerun-if-changed=migrations");` to a `build.rs` so new
/// files trigger a rebuild.
pub use keel_macros::embed_migrations;

/// Connects to `url`, applies every pending migration of `files` under the
/// lock, and closes the connection. The few-line start-up call; an `Err`
/// means the application should not start. No retries: [`Migrate`] has
/// them, and the other options.
pub async fn migrate(url: &str, files: &[EmbeddedFile]) -> Result<RunReport> {
    Migrate::new(url, files).run().await
}
