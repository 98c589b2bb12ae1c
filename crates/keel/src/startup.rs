//! [`Migrate`]: the start-up call with its options — how long one
//! connection attempt may take, how long to keep retrying while the
//! database is not up yet (a container that starts after the app), and how
//! long to wait for another replica's migration lock (issue 12, item 5).
//!
//! Only the connection is retried, and only on errors that
//! [`Error::is_transient`] says may pass: a wrong password, URL or
//! certificate, a missing database and a failed migration fail at once.

use crate::ConnectOptions;
use crate::db::Database;
use crate::error::{Error, Result};
use crate::plan::Target;
use crate::runner::{Migrator, RunReport};
use crate::settings::{DEFAULT_LOCK_TIMEOUT, DEFAULT_TABLE, DatabaseUrl};
use crate::source::{EmbeddedFile, Migrations};
use std::time::{Duration, Instant};

/// Applies embedded migrations at start-up, with options:
///
/// ```no_run
/// # async fn start() -> Result<(), keel::Error> {
/// # static MIGRATIONS: &[keel::EmbeddedFile] = &[];
/// use std::time::Duration;
/// let report = keel::Migrate::new("postgres://app@db/app", MIGRATIONS)
///     .connect_timeout(Duration::from_secs(5))
///     .retry_for(Duration::from_secs(60))
///     .backoff(Duration::from_millis(250), Duration::from_secs(5))
///     .lock_timeout(Duration::from_secs(120))
///     .run()
///     .await?;
/// # Ok(()) }
/// ```
///
/// Without [`Migrate::retries`] or [`Migrate::retry_for`] a failed
/// connection fails at once, as [`crate::migrate`] does. Each retry is
/// logged through `tracing` (target `keel::startup`, level WARN) with the
/// attempt, the delay and the cause, password redacted.
#[derive(Clone, Debug)]
#[must_use = "a Migrate does nothing until .run().await"]
pub struct Migrate<'a> {
    url: String,
    files: &'a [EmbeddedFile],
    connect_timeout: Option<Duration>,
    retries: Option<u32>,
    retry_for: Option<Duration>,
    backoff: (Duration, Duration),
    lock_timeout: Duration,
    table: String,
}

/// The first retry waits about this long, each next one twice as long …
pub const DEFAULT_BACKOFF_INITIAL: Duration = Duration::from_millis(250);
/// … up to this.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(5);
const MIN_BACKOFF: Duration = Duration::from_millis(10);

impl<'a> Migrate<'a> {
    pub fn new(url: impl Into<String>, files: &'a [EmbeddedFile]) -> Migrate<'a> {
        Migrate {
            url: url.into(),
            files,
            connect_timeout: None,
            retries: None,
            retry_for: None,
            backoff: (DEFAULT_BACKOFF_INITIAL, DEFAULT_BACKOFF_MAX),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            table: DEFAULT_TABLE.to_string(),
        }
    }

    /// How long one attempt may take to reach the server and finish its
    /// handshake (TLS and login included); over the URL's
    /// `connect_timeout`, default 10 s. With a retry budget, an attempt
    /// never runs past the budget's end.
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.connect_timeout = Some(limit);
        self
    }

    /// Retries a transient connection failure up to `n` times (`n + 1`
    /// attempts in all). With [`Migrate::retry_for`] too, whichever ends
    /// first stops.
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = Some(n);
        self
    }

    /// Keeps retrying transient connection failures until `budget` has
    /// passed since [`Migrate::run`] started.
    pub fn retry_for(mut self, budget: Duration) -> Self {
        self.retry_for = Some(budget);
        self
    }

    /// Exponential backoff between attempts: about `initial` before the
    /// first retry, doubling up to `max`, each delay jittered between half
    /// and all of it so replicas that start together do not retry in step.
    /// `initial` is at least 10 ms: a zero delay would hammer a server
    /// that is starting.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        let initial = initial.max(MIN_BACKOFF);
        self.backoff = (initial, max.max(initial));
        self
    }

    /// How long to wait for the migration lock another runner holds
    /// (default 60 s); then [`Error::LockTimeout`]. Never retried.
    pub fn lock_timeout(mut self, limit: Duration) -> Self {
        self.lock_timeout = limit;
        self
    }

    /// The tracking table, `keel_migrations` by default.
    pub fn table(mut self, name: impl Into<String>) -> Self {
        self.table = name.into();
        self
    }

    /// Validates the migrations, connects (retrying as configured), applies
    /// every pending migration under the lock and closes the connection.
    /// An `Err` means the application should not start.
    pub async fn run(self) -> Result<RunReport> {
        let migrations = Migrations::from_embedded(self.files)?;
        let url = DatabaseUrl::parse(&self.url)?;
        let mut db = self.connect(&url).await?;
        let report = Migrator::new(migrations)
            .up(&mut db, Target::Latest, &mut |_| {})
            .await;
        let closed = db.close().await;
        let report = report?;
        closed?;
        Ok(report)
    }

    async fn connect(&self, url: &DatabaseUrl) -> Result<Database> {
        let started = Instant::now();
        let deadline = self.retry_for.map(|b| started + b);
        let limit = self.connect_timeout.unwrap_or(crate::db::CONNECT_TIMEOUT);
        let mut attempt: u32 = 1;
        loop {
            let options = ConnectOptions {
                table: self.table.clone(),
                lock_timeout: self.lock_timeout,
                create_missing: true,
            };
            // an attempt never outlives the budget
            let this_limit = match deadline {
                Some(end) => limit.min(end.saturating_duration_since(Instant::now())),
                None => limit,
            }
            .max(Duration::from_millis(100));
            let error = match Database::connect_within(url, options, Some(this_limit)).await {
                Ok(db) => {
                    if attempt > 1 {
                        tracing::info!(
                            target: "keel::startup",
                            attempt,
                            waited_ms = millis(started.elapsed()),
                            database = %url,
                            "connected after {} attempts",
                            attempt
                        );
                    }
                    return Ok(db);
                }
                Err(e) => e,
            };
            if !error.is_transient() {
                return Err(error);
            }
            let out_of_attempts = self.retries.is_some_and(|n| attempt > n)
                || (self.retries.is_none() && self.retry_for.is_none());
            let now = Instant::now();
            let out_of_time = deadline.is_some_and(|end| now >= end);
            if out_of_attempts || out_of_time {
                return Err(gave_up(error, attempt, started.elapsed()));
            }
            // the last attempt is made as the budget ends, not a delay early
            let delay = match deadline {
                Some(end) => self.delay(attempt).min(end.saturating_duration_since(now)),
                None => self.delay(attempt),
            };
            tracing::warn!(
                target: "keel::startup",
                attempt,
                delay_ms = millis(delay),
                cause = %error,
                "cannot connect to the database yet; retrying in {:.1} s",
                delay.as_secs_f64()
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// The wait after failed attempt `attempt` (1-based): `initial ×
    /// 2^(attempt-1)` capped at `max`, then "equal jitter" — a random point
    /// in its upper half.
    fn delay(&self, attempt: u32) -> Duration {
        let (initial, max) = self.backoff;
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
        let full = initial.saturating_mul(factor).min(max);
        let half = full / 2;
        let spread = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let jitter = if spread == 0 {
            0
        } else {
            random_u64() % spread.saturating_add(1)
        };
        half + Duration::from_nanos(jitter)
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A random number from std's per-process hash keys: jitter needs no more.
fn random_u64() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(Instant::now())
}

/// The last transient error, saying how long keel kept trying.
fn gave_up(error: Error, attempts: u32, waited: Duration) -> Error {
    match error {
        Error::Connect {
            url,
            message,
            transient,
        } if attempts > 1 => Error::Connect {
            url,
            message: format!(
                "{message} (gave up after {attempts} attempts over {:.1} s)",
                waited.as_secs_f64()
            ),
            transient,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() {
        let m = Migrate::new("sqlite::memory:", &[])
            .backoff(Duration::from_millis(100), Duration::from_millis(1000));
        for _ in 0..50 {
            for (attempt, full) in [
                (1, 100),
                (2, 200),
                (3, 400),
                (4, 800),
                (5, 1000),
                (30, 1000),
            ] {
                let d = m.delay(attempt);
                let full = Duration::from_millis(full);
                assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
            }
        }
        let delays: std::collections::BTreeSet<_> = (0..20).map(|_| m.delay(3)).collect();
        assert!(delays.len() > 1, "no jitter: {delays:?}");
    }

    #[test]
    fn extreme_backoffs_neither_spin_nor_overflow() {
        let zero = Migrate::new("sqlite::memory:", &[]).backoff(Duration::ZERO, Duration::ZERO);
        assert!(zero.delay(1) >= MIN_BACKOFF / 2);
        let huge = Migrate::new("sqlite::memory:", &[]).backoff(Duration::MAX, Duration::MAX);
        assert!(huge.delay(40) >= Duration::MAX / 2);
    }

    #[test]
    fn a_max_below_initial_is_the_initial() {
        let m = Migrate::new("sqlite::memory:", &[])
            .backoff(Duration::from_secs(2), Duration::from_secs(1));
        assert!(m.delay(5) >= Duration::from_secs(1) && m.delay(5) <= Duration::from_secs(2));
    }
}
