//! The migration runner: applies a [`plan`](crate::plan) through a backend,
//! inside the migration lock. `keel up` and the library's start-up call go
//! through this one code path.
//!
//! Every change happens under the lock, which is polled (never waited for
//! inside the database), taken before the tracking table is created, and
//! released on every path. A runner that waited and finds nothing left to do
//! reports "up to date", not an error: N replicas starting at once is the
//! normal case (incident 5).

use crate::db::Database;
use crate::error::{DbError, Error, MigrationFailure, Result};
use crate::plan::{self, DownTarget, Entry, RepairStep, State, Target};
use crate::source::split::{OpenTransaction, Statement, split};
use crate::source::{Migration, Migrations, SqlFile, textdiff};
use crate::tracking::{AppliedMigration, Method, Record, Write};
use serde::Serialize;
use std::time::{Duration, Instant};

/// Something worth telling the user while a command runs.
#[derive(Debug)]
pub enum Event<'a> {
    /// Another runner holds the lock; keel polls until it is free.
    WaitingForLock {
        holder: &'a str,
    },
    /// About to run migration `index` (1-based) of `total`.
    Starting {
        version: i64,
        name: &'a str,
        index: usize,
        total: usize,
    },
    Finished {
        version: i64,
        duration_ms: u64,
    },
}

/// Receives [`Event`]s; `&mut |_| {}` ignores them.
pub type Observer<'a> = &'a mut dyn FnMut(Event<'_>);

/// Which way a migration runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
}

/// One migration a run applied or reverted (or, in a dry run, would).
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub version: i64,
    pub name: String,
    pub file: String,
    pub direction: Direction,
    pub transactional: bool,
    pub statements: Vec<String>,
    /// `None` in a dry run.
    pub duration_ms: Option<u64>,
}

/// What `up` or `down` did.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub dry_run: bool,
    pub steps: Vec<Step>,
    /// How long keel waited for another runner's lock, if it had to.
    pub waited_for_lock_ms: Option<u64>,
}

impl RunReport {
    /// Nothing was left to do.
    pub fn up_to_date(&self) -> bool {
        self.steps.is_empty()
    }
}

/// What `stamp` marked applied.
#[derive(Clone, Debug, Serialize)]
pub struct StampReport {
    pub stamped: Vec<i64>,
}

pub use crate::plan::RepairOptions;

/// One thing `repair` did or would do.
#[derive(Clone, Debug, Serialize)]
pub struct RepairAction {
    pub version: i64,
    pub name: String,
    /// `accept_checksum`, `clear_failure`, `mark_applied`, `mark_rolled_back`,
    /// `retry`, `forget_missing`.
    pub action: &'static str,
    pub detail: String,
}

/// Something `repair` will not decide alone.
#[derive(Clone, Debug, Serialize)]
pub struct Unresolved {
    pub version: i64,
    pub name: String,
    pub detail: String,
    /// Statements of the migration that stayed applied.
    pub applied_statements: Vec<String>,
    pub failed_statement: Option<String>,
    /// The statement that started and whose outcome is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_doubt_statement: Option<String>,
    /// What the catalog says of the object the statement in doubt creates
    /// (a `CREATE TABLE`/`CREATE INDEX`), where it can tell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog: Option<String>,
    pub options: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RepairReport {
    pub dry_run: bool,
    pub actions: Vec<RepairAction>,
    pub unresolved: Vec<Unresolved>,
}

/// `keel status`: every migration's state, and for modified ones what changed.
#[derive(Clone, Debug, Serialize)]
pub struct StatusReport {
    pub entries: Vec<StatusLine>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StatusLine {
    #[serde(flatten)]
    pub entry: Entry,
    /// For `modified`: applied SQL (`-`) against the file (`+`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

impl StatusReport {
    /// Everything applied and unchanged.
    pub fn is_clean(&self) -> bool {
        self.entries.iter().all(|e| e.entry.state.is_clean())
    }

    pub fn count(&self, label: &str) -> usize {
        self.entries
            .iter()
            .filter(|e| e.entry.state.label() == label)
            .count()
    }
}

/// Runs a set of migrations against databases.
#[derive(Clone, Debug)]
pub struct Migrator {
    migrations: Migrations,
    allow_out_of_order: bool,
}

impl Migrator {
    pub fn new(migrations: Migrations) -> Migrator {
        Migrator {
            migrations,
            allow_out_of_order: false,
        }
    }

    /// Apply pending migrations older than the newest applied one.
    pub fn allow_out_of_order(mut self, allow: bool) -> Migrator {
        self.allow_out_of_order = allow;
        self
    }

    pub fn migrations(&self) -> &Migrations {
        &self.migrations
    }

    /// Every migration's state. Reads only; creates nothing.
    pub async fn status(&self, db: &mut Database) -> Result<StatusReport> {
        let applied = db.backend.applied().await?;
        let mut entries = Vec::new();
        for entry in plan::status(&self.migrations, &applied) {
            let diff = match (&entry.state, self.migrations.get(entry.version)) {
                (State::Modified { .. }, Some(m)) => {
                    let old = db
                        .backend
                        .applied_sql(entry.version)
                        .await?
                        .unwrap_or_default();
                    Some(textdiff::diff_lines(&old, &m.up.sql))
                }
                _ => None,
            };
            entries.push(StatusLine { entry, diff });
        }
        Ok(StatusReport { entries })
    }

    /// Applies pending migrations up to `target`, each in its own
    /// transaction unless marked `-- keel:no-transaction`.
    pub async fn up(
        &self,
        db: &mut Database,
        target: Target,
        observer: Observer<'_>,
    ) -> Result<RunReport> {
        let body =
            async |db: &mut Database, applied: &[AppliedMigration], observer: Observer<'_>| {
                let plan = plan::up(&self.migrations, applied, target, self.allow_out_of_order)?;
                run_plan(db, &plan, Direction::Up, observer).await
            };
        locked(db, observer, body)
            .await
            .map(|(steps, waited)| RunReport {
                dry_run: false,
                steps,
                waited_for_lock_ms: waited,
            })
    }

    /// What `up` would do, without taking the lock or changing anything.
    pub async fn up_dry_run(&self, db: &mut Database, target: Target) -> Result<RunReport> {
        let applied = db.backend.applied().await?;
        let plan = plan::up(&self.migrations, &applied, target, self.allow_out_of_order)?;
        dry_report(db, plan, Direction::Up)
    }

    /// Reverts applied migrations with their down files, newest first.
    pub async fn down(
        &self,
        db: &mut Database,
        target: DownTarget,
        observer: Observer<'_>,
    ) -> Result<RunReport> {
        let body =
            async |db: &mut Database, applied: &[AppliedMigration], observer: Observer<'_>| {
                let plan = plan::down(&self.migrations, applied, target)?;
                run_plan(db, &plan, Direction::Down, observer).await
            };
        locked(db, observer, body)
            .await
            .map(|(steps, waited)| RunReport {
                dry_run: false,
                steps,
                waited_for_lock_ms: waited,
            })
    }

    pub async fn down_dry_run(&self, db: &mut Database, target: DownTarget) -> Result<RunReport> {
        let applied = db.backend.applied().await?;
        let plan = plan::down(&self.migrations, &applied, target)?;
        dry_report(db, plan, Direction::Down)
    }

    /// Marks every migration up to `version` applied without running it, to
    /// adopt a database whose schema already exists.
    pub async fn stamp(
        &self,
        db: &mut Database,
        version: i64,
        observer: Observer<'_>,
    ) -> Result<StampReport> {
        let body = async |db: &mut Database, applied: &[AppliedMigration], _: Observer<'_>| {
            self.stamp_locked(db, applied, version).await
        };
        locked(db, observer, body).await.map(|(report, _)| report)
    }

    async fn stamp_locked(
        &self,
        db: &mut Database,
        applied: &[AppliedMigration],
        version: i64,
    ) -> Result<StampReport> {
        let plan = plan::stamp(&self.migrations, applied, version)?;
        let applied_by = applied_by(db, plan.is_empty()).await?;
        for m in &plan {
            let total = m.up.statements(db.dialect()).len() as i64;
            let record = success_record(m, Some(0), total, &applied_by, Method::Stamp);
            db.backend.write(&Write::Upsert(Box::new(record))).await?;
        }
        Ok(StampReport {
            stamped: plan.iter().map(|m| m.version).collect(),
        })
    }

    /// Resolves what blocks `up` after the user reviewed it: accepts modified
    /// checksums, clears failures that left nothing applied, and for partial
    /// failures does what the user chose. [`plan::repair`] decides; this
    /// only carries its steps out, under the lock.
    pub async fn repair(
        &self,
        db: &mut Database,
        options: &RepairOptions,
        observer: Observer<'_>,
    ) -> Result<RepairReport> {
        let body = async |db: &mut Database, applied: &[AppliedMigration], _: Observer<'_>| {
            self.repair_locked(db, applied, options).await
        };
        locked(db, observer, body).await.map(|(report, _)| report)
    }

    async fn repair_locked(
        &self,
        db: &mut Database,
        applied: &[AppliedMigration],
        options: &RepairOptions,
    ) -> Result<RepairReport> {
        let plan = plan::repair(&self.migrations, applied, options)?;
        let writes_records = !options.dry_run
            && plan.steps.iter().any(|s| {
                matches!(
                    s,
                    RepairStep::MarkApplied { .. }
                        | RepairStep::Retry { .. }
                        | RepairStep::FinishRevert { .. }
                        | RepairStep::UndoRevert { .. }
                )
            });
        let applied_by = applied_by(db, !writes_records).await?;
        let mut report = RepairReport {
            dry_run: options.dry_run,
            actions: Vec::with_capacity(plan.steps.len()),
            unresolved: Vec::with_capacity(plan.blockers.len()),
        };
        for step in &plan.steps {
            match step {
                // a dry run refuses a retry exactly as the real one would
                RepairStep::Retry { row, migration } if options.dry_run => {
                    retry_from(db, migration, row).await?;
                }
                _ if options.dry_run => {}
                _ => execute_repair(db, step, &applied_by).await?,
            }
            report.actions.push(RepairAction {
                version: step.version(),
                name: step.name().to_string(),
                action: step.action(),
                detail: step.detail(),
            });
        }
        for blocker in &plan.blockers {
            let mut catalog = None;
            let mut in_doubt = None;
            let applied_statements = match blocker.partial() {
                Some(row) => {
                    let stored = db
                        .backend
                        .applied_sql(row.version)
                        .await?
                        .unwrap_or_default();
                    let statements = match self.migrations.get(row.version) {
                        Some(m) => m.up.split_like(&stored, db.dialect()),
                        None => split(&stored, db.dialect()),
                    };
                    if let Some(n) = row.in_doubt() {
                        catalog = in_doubt_catalog(db, &statements, n).await?;
                        in_doubt = usize::try_from(n - 1)
                            .ok()
                            .and_then(|i| statements.get(i))
                            .map(|s| s.text.clone());
                    }
                    statements
                        .into_iter()
                        .take(usize::try_from(row.statements_applied).unwrap_or(0))
                        .map(|s| s.text)
                        .collect()
                }
                None => Vec::new(),
            };
            report.unresolved.push(Unresolved {
                version: blocker.version(),
                name: blocker.name().to_string(),
                detail: blocker.detail(),
                applied_statements,
                failed_statement: blocker.partial().and_then(|r| r.failed_statement.clone()),
                in_doubt_statement: in_doubt,
                catalog,
                options: blocker.options(),
            });
        }
        Ok(report)
    }
}

/// What the catalog tells of statement `n` (1-based, in doubt), when it
/// creates a table or an index.
async fn in_doubt_catalog(
    db: &mut Database,
    statements: &[Statement],
    n: i64,
) -> Result<Option<String>> {
    use crate::backend::CatalogState;
    let Some(s) = usize::try_from(n - 1).ok().and_then(|i| statements.get(i)) else {
        return Ok(None);
    };
    let Some(object) = crate::source::split::created_object(&s.text, db.dialect()) else {
        return Ok(None);
    };
    let kind = if object.index { "index" } else { "table" };
    let name = &object.name;
    Ok(Some(match db.backend.catalog_state(&object).await? {
        // --mark-applied is only true when nothing comes after it, and
        // --mark-rolled-back only once every applied statement is undone
        CatalogState::Exists if n >= statements.len() as i64 => format!(
            "the {kind} {name} that statement {n} creates exists: the statement took effect, and it is the last (--mark-applied; or undo every statement and --mark-rolled-back)"
        ),
        CatalogState::Exists => format!(
            "the {kind} {name} that statement {n} creates exists: the statement took effect, statements {} to {} did not run (undo it and --retry runs it again and the rest; or undo every applied statement and --mark-rolled-back)",
            n + 1,
            statements.len()
        ),
        CatalogState::Missing => format!(
            "the {kind} {name} that statement {n} creates does not exist: the statement did not take effect (--retry runs it again)"
        ),
        CatalogState::Invalid => format!(
            "the index {name} that statement {n} creates exists but is INVALID (its build did not finish): DROP INDEX {name}, then --retry"
        ),
    }))
}

/// Carries out one step of a repair plan.
async fn execute_repair(db: &mut Database, step: &RepairStep<'_>, applied_by: &str) -> Result<()> {
    let write = match step {
        RepairStep::AcceptChecksum { migration: m, .. } => Write::Accept {
            version: m.version,
            name: m.name.clone(),
            checksum: m.up.checksum.clone(),
            sql: m.up.sql.clone(),
        },
        RepairStep::ClearFailure { row, .. }
        | RepairStep::MarkRolledBack { row, .. }
        | RepairStep::ForgetMissing { row } => Write::Delete {
            version: row.version,
        },
        RepairStep::MarkApplied { row, migration } => {
            let sql = db
                .backend
                .applied_sql(row.version)
                .await?
                .unwrap_or_default();
            Write::Upsert(Box::new(Record {
                success: true,
                error: None,
                failed_statement_index: None,
                failed_statement: None,
                statements_applied: row.statements_total,
                method: Method::Repair,
                applied_by: applied_by.to_string(),
                duration_ms: Some(row.duration_ms),
                ..failure_base(row, *migration, sql)
            }))
        }
        RepairStep::FinishRevert { row, .. } => {
            let r = row.revert.clone().unwrap_or_default();
            Write::Reverted {
                version: row.version,
                statements_total: r.statements_total,
                duration_ms: Some(r.duration_ms.unwrap_or(0)),
                by: applied_by.to_string(),
            }
        }
        RepairStep::UndoRevert { row, .. } => {
            let r = row.revert.clone().unwrap_or_default();
            Write::RevertFailed {
                version: row.version,
                error: format!(
                    "{} (restored by hand: `keel repair --mark-applied` by {applied_by})",
                    r.error.as_deref().unwrap_or("the revert was interrupted")
                ),
                statements_applied: 0,
                statements_total: r.statements_total,
                duration_ms: r.duration_ms.unwrap_or(0),
                by: r.reverted_by.unwrap_or_default(),
            }
        }
        RepairStep::Retry { row, migration } => return retry(db, migration, row, applied_by).await,
    };
    db.backend.write(&write).await
}

/// The tracking rows, failures included.
pub async fn history(db: &mut Database) -> Result<Vec<AppliedMigration>> {
    db.backend.applied().await
}

/// Runs a plan's migrations in order, stopping at the first failure.
async fn run_plan(
    db: &mut Database,
    plan: &[&Migration],
    direction: Direction,
    observer: Observer<'_>,
) -> Result<Vec<Step>> {
    refuse_transaction_control(db, plan, direction)?;
    let applied_by = applied_by(db, plan.is_empty()).await?;
    let mut steps = Vec::with_capacity(plan.len());
    for (index, m) in plan.iter().enumerate() {
        observer(Event::Starting {
            version: m.version,
            name: &m.name,
            index: index + 1,
            total: plan.len(),
        });
        // Only the run's last commit must wait for its flush; it makes the others durable too.
        let durable = index + 1 == plan.len();
        let step = run_file(db, m, direction, &applied_by, &steps, durable, 0).await?;
        // the next migration starts from the session keel opened
        db.backend.reset_session().await?;
        observer(Event::Finished {
            version: m.version,
            duration_ms: step.duration_ms.unwrap_or(0),
        });
        steps.push(step);
    }
    Ok(steps)
}

/// Polls the lock until it is free or the timeout passes. Returns how long
/// keel waited, if it had to.
async fn acquire_lock(db: &mut Database, observer: Observer<'_>) -> Result<Option<u64>> {
    let start = Instant::now();
    let timeout = db.options.lock_timeout;
    let mut delay = Duration::from_millis(25);
    let mut waited = false;
    loop {
        if db.backend.try_lock().await? {
            return Ok(waited.then(|| start.elapsed().as_millis() as u64));
        }
        if start.elapsed() >= timeout {
            let holder = db.backend.lock_holder().await?;
            return Err(Error::LockTimeout {
                waited_secs: start.elapsed().as_secs_f64(),
                holder,
            });
        }
        if !waited {
            let holder = db.backend.lock_holder().await?;
            observer(Event::WaitingForLock { holder: &holder });
            waited = true;
        }
        let remaining = timeout.saturating_sub(start.elapsed());
        tokio::time::sleep(delay.min(remaining)).await;
        delay = (delay * 2).min(Duration::from_millis(250));
    }
}

/// The lock scope every changing command runs in: take the lock, make sure
/// the tracking table exists, read it, run `body`, and release the lock on
/// every path. The body's error wins over an error releasing (a session lock
/// dies with its connection anyway). Returns how long keel waited, if it had to.
pub(crate) async fn locked<T>(
    db: &mut Database,
    observer: Observer<'_>,
    body: impl AsyncFnOnce(&mut Database, &[AppliedMigration], Observer<'_>) -> Result<T>,
) -> Result<(T, Option<u64>)> {
    let waited = acquire_lock(db, observer).await?;
    let result = async {
        // Read first: the table exists on every run but the first, and
        // checking for it would cost a round trip each time.
        // (An empty result means a missing table or one with no rows, and
        // either way there is nothing to re-read.)
        let applied = db.backend.applied().await?;
        if applied.is_empty() || db.backend.needs_upgrade() {
            db.backend.ensure_table().await?;
        }
        body(db, &applied, observer).await
    }
    .await;
    let released = db.backend.unlock().await;
    let value = result?;
    released?;
    Ok((value, waited))
}

async fn applied_by(db: &mut Database, nothing_to_do: bool) -> Result<String> {
    if nothing_to_do {
        return Ok(String::new());
    }
    Ok(format!(
        "{}@{}",
        db.backend.user().await?,
        crate::backend::client_host()
    ))
}

/// A file keel runs in its own transaction may not commit or roll back
/// itself: its records would claim "nothing was kept" while part of it
/// stayed committed. Checked for the whole plan before anything runs.
/// psql backslash commands (`\connect`, `\i`, `\copy`, …) are no SQL: the
/// server cannot run them, and a file holding one was written for psql.
/// Refused before anything runs, naming each line.
fn refuse_psql_commands(db: &Database, plan: &[&Migration], direction: Direction) -> Result<()> {
    let dialect = db.dialect();
    if dialect != crate::dialect::Dialect::Postgres {
        return Ok(());
    }
    let mut problems = Vec::new();
    for m in plan {
        let Some(file) = file_for(m, direction) else {
            continue;
        };
        for s in file.statements(dialect) {
            if let Some(command) = crate::source::split::psql_command(&s.text) {
                problems.push(format!(
                    "{}:{}: `\\{}` is a psql command, not SQL",
                    file.file, s.line, command.name
                ));
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::Refused {
        action: "run psql commands".into(),
        problems,
        hint: "keel sends each statement to the server, which cannot run psql's backslash commands: remove these lines (keel connects to the database the URL names; for `\\i`, put the included file's SQL in a migration of its own). `\\restrict`, `\\unrestrict` and `\\set ON_ERROR_STOP` are passed over, and `COPY … FROM stdin` blocks run as psql runs them".into(),
    })
}

fn refuse_transaction_control(
    db: &Database,
    plan: &[&Migration],
    direction: Direction,
) -> Result<()> {
    refuse_psql_commands(db, plan, direction)?;
    let dialect = db.dialect();
    // three kinds of problem, each with its own hint
    let mut in_keels = Vec::new();
    let mut never_committed = Vec::new();
    let mut pooled = Vec::new();
    let mut outside_only = Vec::new();
    for m in plan {
        let Some(file) = file_for(m, direction) else {
            continue;
        };
        if !transactional(db, file) {
            let statements = file.statements(dialect);
            // behind a transaction pooler each statement outside keel's
            // transaction may run on another server connection (issue 12)
            if db.pooler().is_some() {
                for s in &statements {
                    if crate::source::split::is_session_statement(&s.text, dialect) {
                        // named by its first line of code, past leading comments
                        let (offset, first) = s
                            .text
                            .lines()
                            .enumerate()
                            .find(|(_, l)| {
                                !l.trim().is_empty() && !l.trim_start().starts_with("--")
                            })
                            .unwrap_or((0, ""));
                        pooled.push(format!(
                            "{}:{}: `{}` sets the session, but behind a transaction pooler each statement of a `-- keel:no-transaction` file may run on another server connection",
                            file.file,
                            s.line + offset,
                            first.trim()
                        ));
                    }
                }
            }
            let mut open = OpenTransaction::default();
            for (i, s) in statements.iter().enumerate() {
                open.step(i, &s.text, dialect);
            }
            if let Some(line) = open.since().and_then(|i| statements.get(i)).map(|s| s.line) {
                never_committed.push(format!(
                    "{}:{line}: the transaction this statement opens is never committed (it would be rolled back when keel disconnects, records and all): end it with COMMIT",
                    file.file
                ));
            }
            continue;
        }
        for s in split(&file.sql, dialect) {
            if let Some(what) = crate::source::split::outside_transaction_only(&s.text, dialect) {
                outside_only.push(format!(
                    "{}:{}: `{what}` cannot run inside a transaction, and keel runs this file in one",
                    file.file, s.line
                ));
            }
            if let Some(command) = crate::source::split::transaction_control(&s.text, dialect) {
                in_keels.push(format!(
                    "{}:{}: `{command}` controls the transaction keel runs this migration in",
                    file.file, s.line
                ));
            }
        }
    }
    if !pooled.is_empty() {
        return Err(Error::Refused {
            action: "run session settings statement by statement through a transaction pooler".into(),
            problems: pooled,
            hint: "drop the `-- keel:no-transaction` line if PostgreSQL allows the file in a transaction (its SET then holds for the whole migration), or qualify names instead of setting search_path, or run this migration with a URL that bypasses the pooler".into(),
        });
    }
    if !outside_only.is_empty() {
        return Err(Error::Refused {
            action: "run statements that cannot run in a transaction inside one".into(),
            problems: outside_only,
            hint: "put `-- keel:no-transaction` on the file's first line, so keel runs it statement by statement and records each one; keep such a statement in a file of its own, as a failure there leaves the statements before it applied".into(),
        });
    }
    let hint = match (in_keels.is_empty(), never_committed.is_empty()) {
        (true, true) => return Ok(()),
        (true, false) => "end each transaction a file opens with COMMIT (or ROLLBACK) before the file ends".to_string(),
        (false, true) => "remove the BEGIN/COMMIT lines (keel already runs each migration in one transaction), or put `-- keel:no-transaction` on the file's first line to run it statement by statement as written".to_string(),
        (false, false) => "files run in keel's transaction: remove their BEGIN/COMMIT lines, or mark them `-- keel:no-transaction`; files run statement by statement: end each transaction they open with COMMIT".to_string(),
    };
    let mut problems = in_keels;
    problems.extend(never_committed);
    Err(Error::Refused {
        action: "run migrations that control their own transaction".into(),
        problems,
        hint,
    })
}

fn dry_report(db: &Database, plan: Vec<&Migration>, direction: Direction) -> Result<RunReport> {
    refuse_transaction_control(db, &plan, direction)?;
    let steps = plan
        .into_iter()
        .filter_map(|m| {
            let file = file_for(m, direction)?;
            Some(Step {
                version: m.version,
                name: m.name.clone(),
                file: file.file.clone(),
                direction,
                transactional: transactional(db, file),
                statements: file
                    .statements(db.dialect())
                    .into_iter()
                    .map(|s| s.text)
                    .collect(),
                duration_ms: None,
            })
        })
        .collect();
    Ok(RunReport {
        dry_run: true,
        steps,
        waited_for_lock_ms: None,
    })
}

fn file_for(m: &Migration, direction: Direction) -> Option<&SqlFile> {
    match direction {
        Direction::Up => Some(&m.up),
        Direction::Down => m.down.as_ref(),
    }
}

fn transactional(db: &Database, file: &SqlFile) -> bool {
    db.backend.transactional_ddl()
        && !file.directives.no_transaction
        && !(file.directives.as_written && controls_its_transaction(db, file))
}

/// Whether a file holds top-level `BEGIN`/`COMMIT`/… of its own.
fn controls_its_transaction(db: &Database, file: &SqlFile) -> bool {
    let dialect = db.dialect();
    file.statements(dialect)
        .iter()
        .any(|s| crate::source::split::transaction_control(&s.text, dialect).is_some())
}

fn success_record(
    m: &Migration,
    duration_ms: Option<i64>,
    total: i64,
    applied_by: &str,
    method: Method,
) -> Record {
    Record {
        version: m.version,
        name: m.name.clone(),
        checksum: m.up.checksum.clone(),
        duration_ms,
        applied_at: None,
        success: true,
        error: None,
        failed_statement_index: None,
        failed_statement: None,
        statements_total: total,
        statements_applied: total,
        applied_by: applied_by.to_string(),
        method,
        sql: m.up.sql.clone(),
    }
}

fn failure_base(row: &AppliedMigration, local: Option<&Migration>, sql: String) -> Record {
    Record {
        version: row.version,
        name: local
            .map(|m| m.name.clone())
            .unwrap_or_else(|| row.name.clone()),
        checksum: row.checksum.clone(),
        duration_ms: Some(row.duration_ms),
        applied_at: None,
        success: false,
        error: row.error.clone(),
        failed_statement_index: row.failed_statement_index,
        failed_statement: row.failed_statement.clone(),
        statements_total: row.statements_total,
        statements_applied: row.statements_applied,
        applied_by: row.applied_by.clone(),
        method: Method::Run,
        sql,
    }
}

/// Runs one migration file and records the outcome.
async fn run_file(
    db: &mut Database,
    m: &Migration,
    direction: Direction,
    applied_by: &str,
    done: &[Step],
    durable: bool,
    resume_from: usize,
) -> Result<Step> {
    let Some(file) = file_for(m, direction) else {
        return Err(Error::invalid(
            format!("migration {} has no down file", m.version),
            None,
        ));
    };
    let statements = file.statements(db.dialect());
    let total = statements.len() as i64;
    let started = Instant::now();
    // Resuming a partial migration continues statement by statement.
    let is_transactional = transactional(db, file) && resume_from == 0;
    let finish = match direction {
        Direction::Up => Write::Upsert(Box::new(success_record(
            m,
            None,
            total,
            applied_by,
            Method::Run,
        ))),
        Direction::Down => Write::Reverted {
            version: m.version,
            statements_total: total,
            duration_ms: None,
            by: applied_by.to_string(),
        },
    };
    let failure = |index: usize, error: DbError, kept: usize| {
        let s: &Statement = &statements[index];
        MigrationFailure {
            version: m.version,
            name: m.name.clone(),
            file: file.file.clone(),
            direction,
            statement_index: index + 1,
            statement: s.text.clone(),
            line: s.line,
            error,
            statements_applied: kept,
            statements_total: statements.len(),
            rolled_back: is_transactional,
            applied_before: done.iter().map(|s| s.version).collect(),
        }
    };
    // A failed up replaces its row; a failed down only records the revert
    // and never rewrites what the up did.
    let failure_write = |f: &MigrationFailure| match direction {
        Direction::Up => Write::Upsert(Box::new(Record {
            success: false,
            error: Some(f.error.to_string()),
            failed_statement_index: Some(f.statement_index as i64),
            failed_statement: Some(f.statement.clone()),
            statements_applied: f.statements_applied as i64,
            duration_ms: Some(started.elapsed().as_millis() as i64),
            ..success_record(m, None, total, applied_by, Method::Run)
        })),
        Direction::Down => Write::RevertFailed {
            version: m.version,
            error: format!(
                "reverting with {} failed at statement {}: {}",
                f.file, f.statement_index, f.error
            ),
            statements_applied: f.statements_applied as i64,
            statements_total: total,
            duration_ms: started.elapsed().as_millis() as i64,
            by: applied_by.to_string(),
        },
    };

    if resume_from > 0 {
        // The statements already applied set up the session the rest ran
        // in (`SET search_path`, `USE`, `set_config`): replay those.
        let dialect = db.dialect();
        for s in statements.iter().take(resume_from) {
            if crate::source::split::is_session_statement(&s.text, dialect)
                && let Err(error) = db.backend.execute(&s.text).await?
            {
                return Err(Error::db(
                    format!(
                        "replaying the session statement at {}:{} before retrying",
                        file.file, s.line
                    ),
                    error,
                ));
            }
        }
    }
    if is_transactional {
        if let Err((index, error)) = db
            .backend
            .run_in_transaction(&statements, &finish, durable)
            .await?
        {
            let f = failure(index, error, 0);
            let written = db.backend.write(&failure_write(&f)).await;
            return Err(recorded_failure(f, written, true));
        }
    } else {
        // Statement by statement. Each statement is recorded as started
        // before it is sent, so a kill while it runs leaves it in doubt,
        // never "not applied".
        match direction {
            Direction::Up => {
                let mut in_progress = success_record(m, None, total, applied_by, Method::Run);
                in_progress.success = false;
                in_progress.statements_applied = resume_from as i64;
                in_progress.failed_statement_index = Some(resume_from as i64 + 1);
                db.backend
                    .write(&Write::Upsert(Box::new(in_progress)))
                    .await?;
            }
            Direction::Down => {}
        }
        let enforced = db.backend.foreign_keys_off()?;
        let ran = run_statements(db, m, &statements, direction, resume_from, total).await;
        if enforced {
            db.backend.foreign_keys_on()?;
        }
        let autocommit_off = match ran? {
            Ran::Failed { index, error, kept } => {
                let f = failure(index, error, kept);
                let written = db.backend.write(&failure_write(&f)).await;
                return Err(recorded_failure(f, written, false));
            }
            Ran::Done { autocommit_off } => autocommit_off,
        };
        let finish = match finish {
            Write::Upsert(mut r) => {
                r.duration_ms = Some(started.elapsed().as_millis() as i64);
                Write::Upsert(r)
            }
            Write::Reverted {
                version,
                statements_total,
                by,
                ..
            } => Write::Reverted {
                version,
                statements_total,
                duration_ms: Some(started.elapsed().as_millis() as i64),
                by,
            },
            other => other,
        };
        db.backend.write(&finish).await?;
        // A MySQL file that turned autocommit off leaves keel's last rows
        // waiting for a commit that never comes. The file's own writes are
        // committed by then (one that leaves a transaction open is refused
        // before it runs), so this commits keel's rows only.
        if autocommit_off && let Err(error) = db.backend.execute("COMMIT").await? {
            return Err(Error::db(
                "committing keel's record of the migration",
                error,
            ));
        }
    }
    Ok(Step {
        version: m.version,
        name: m.name.clone(),
        file: file.file.clone(),
        direction,
        transactional: is_transactional,
        statements: Vec::new(),
        duration_ms: Some(started.elapsed().as_millis() as u64),
    })
}

/// The error of a failed statement, once keel tried to record it. When the
/// record could not be written either (the server ended the session, as
/// `pg_terminate_backend` or a restart does), both are said, with what the
/// tracking table holds instead: nothing for a migration in a transaction
/// (never committed), else the record of the statement as started, in doubt.
fn recorded_failure(f: MigrationFailure, written: Result<()>, transactional: bool) -> Error {
    let Err(lost) = written else {
        return Error::MigrationFailed(Box::new(f));
    };
    let state = if transactional {
        "nothing of it was kept (its transaction was never committed) and nothing is recorded: run `keel up` again once the database is reachable".to_string()
    } else {
        format!(
            "its record says statement {} is in doubt: once the database is reachable, `keel repair` shows the options",
            f.statement_index
        )
    };
    Error::Database {
        context: format!(
            "migration {} ({}) stopped at statement {} (line {}), and recording that failed too ({lost}), so {state}; the statement's error",
            f.version, f.file, f.statement_index, f.line
        ),
        error: f.error,
    }
}

/// The connection lost while a statement ran statement by statement (the
/// server killed the session, a restart, a network failure): what keel
/// knows is what it recorded before sending it.
fn lost_while_running(
    m: &Migration,
    s: &Statement,
    index: usize,
    in_files_transaction: bool,
    direction: Direction,
    lost: Error,
) -> Error {
    let n = index + 1;
    let what = match direction {
        Direction::Up if in_files_transaction => format!(
            "the file's own open transaction was rolled back by the server, so its record says statement {n} is in doubt, and what ran since that transaction began was not kept"
        ),
        Direction::Up => format!(
            "its record says statement {n} is in doubt (keel recorded that it started; it may or may not have taken effect)"
        ),
        Direction::Down => {
            format!("its record says the revert got to statement {n}, which is in doubt")
        }
    };
    let file = file_for(m, direction).map_or(m.name.as_str(), |f| f.file.as_str());
    Error::Database {
        context: format!(
            "migration {} ({file}): the connection was lost while statement {n} (line {}) ran, so {what}; once the database is reachable, `keel repair` shows the options; the connection's error",
            m.version, s.line
        ),
        error: DbError {
            message: lost.to_string(),
            sqlstate: None,
        },
    }
}

/// Runs `statements` one by one from `resume_from`, recording each as
/// started before it is sent; the first failure, if any, with the number
/// of statements that stayed applied.
///
/// A file may open its own transaction (`BEGIN … COMMIT` in a
/// no-transaction file): keel's progress writes then join it and commit or
/// vanish with it. When a statement inside it fails, keel rolls it back
/// before recording the failure (PostgreSQL refuses any write in a failed
/// transaction, and elsewhere the record would vanish with the connection):
/// nothing after its `BEGIN` was kept, and a retry starts at the `BEGIN`.
async fn run_statements(
    db: &mut Database,
    m: &Migration,
    statements: &[Statement],
    direction: Direction,
    resume_from: usize,
    total: i64,
) -> Result<Ran> {
    let dialect = db.dialect();
    let mut open =
        OpenTransaction::resumed(statements.get(..resume_from).unwrap_or_default(), dialect);
    for (index, s) in statements.iter().enumerate().skip(resume_from) {
        match direction {
            Direction::Up if index > resume_from => {
                db.backend
                    .write(&Write::Progress {
                        version: m.version,
                        statements_applied: index as i64,
                        started: index as i64 + 1,
                    })
                    .await?;
            }
            Direction::Up => {}
            Direction::Down => {
                db.backend
                    .write(&Write::RevertProgress {
                        version: m.version,
                        statements_applied: index as i64,
                        statements_total: total,
                    })
                    .await?;
            }
        }
        let ran = db.backend.execute(&s.text).await.map_err(|lost| {
            lost_while_running(m, s, index, open.since().is_some(), direction, lost)
        })?;
        if let Err(error) = ran {
            let kept = match open.since() {
                Some(begin) => {
                    // the error is the statement's; a failed ROLLBACK
                    // leaves nothing more to undo
                    let _ = db.backend.execute("ROLLBACK").await?;
                    begin
                }
                None => index,
            };
            // with autocommit off, keel's record of the failure would wait
            // for a commit that never comes
            if open.autocommit_off() {
                let _ = db.backend.execute("SET autocommit = 1").await?;
            }
            return Ok(Ran::Failed { index, error, kept });
        }
        open.step(index, &s.text, dialect);
    }
    Ok(Ran::Done {
        autocommit_off: open.autocommit_off(),
    })
}

/// How a statement-by-statement run ended.
enum Ran {
    /// Statement `index` (0-based) failed; `kept` statements stayed applied.
    Failed {
        index: usize,
        error: DbError,
        kept: usize,
    },
    /// Every statement ran; whether the file left autocommit off (MySQL).
    Done { autocommit_off: bool },
}

/// Continues a partially applied migration from its failed statement, after
/// checking that the statements that stayed applied are unchanged in the file.
async fn retry(
    db: &mut Database,
    m: &Migration,
    row: &AppliedMigration,
    applied_by: &str,
) -> Result<()> {
    let done = retry_from(db, m, row).await?;
    run_file(db, m, Direction::Up, applied_by, &[], true, done).await?;
    Ok(())
}

/// The statement a retry continues from (0-based), once the statements
/// that stayed applied are found unchanged in the file.
async fn retry_from(db: &mut Database, m: &Migration, row: &AppliedMigration) -> Result<usize> {
    let stored = db.backend.applied_sql(m.version).await?.unwrap_or_default();
    let dialect = db.dialect();
    let done = plan::repair::check_retry(
        m,
        row,
        &m.up.split_like(&stored, dialect),
        &m.up.statements(dialect),
    )?;
    Ok(done)
}
