//! PostgreSQL backend (tokio-postgres).
//!
//! A migration in a transaction is sent as one pipeline — `BEGIN`, each
//! statement, the tracking row, `COMMIT` — so it costs one round trip, yet
//! each statement is its own protocol message and the first error names the
//! failing statement. The lock is a session advisory lock taken with
//! `pg_try_advisory_lock`, polled by the runner, so a waiting keel never sits
//! in a blocked statement that `CREATE INDEX CONCURRENTLY` would wait for.
//! Behind a transaction pooler the lock is a lease instead, and nothing
//! relies on the server session between transactions ([`super::pooler`]).
//! Every statement keel sends is unnamed (`query_typed`) or simple
//! protocol, except the tracking writes of a direct session, prepared once.

use super::pooler::{self, Lease};
use super::postgres_write::WriteStatement;
use super::{CLEAR_REVERT, COLUMNS, Driver, StatementFailure, lock_key};
use crate::db::decode::PgRow;
use crate::dialect::Dialect;
use crate::error::{DbError, Result};
use crate::settings::DatabaseUrl;
use crate::source::Checksum;
use crate::source::split::Statement;
use crate::tracking::{AppliedMigration, Write};
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use tokio_postgres::Client;
use tokio_postgres::types::Type;

/// Rows of PostgreSQL's own functions and catalogs.
const CATALOG: crate::db::decode::Origin<'static> = crate::db::decode::Origin {
    table: "the PostgreSQL catalog",
    hint: None,
};

/// Who holds keel's advisory lock on this database.
pub(crate) const LOCK_HOLDER: &str = include_str!("sql/postgres_lock_holder.sql");

/// First key of keel's two-part advisory lock: "keel" in ASCII.
const LOCK_CLASS: i64 = 0x6b65_656c;

/// The tracking table, and the read of its rows.
pub(super) const CREATE: &str = include_str!("sql/postgres_create.sql");
pub(super) const APPLIED: &str = include_str!("sql/postgres_applied.sql");
/// The read of a table made before the revert columns.
const APPLIED_V1: &str = include_str!("sql/postgres_applied_v1.sql");
/// Adds the revert columns to such a table.
pub(super) const UPGRADE: &str = include_str!("sql/postgres_upgrade.sql");

pub(crate) struct Postgres {
    client: Client,
    /// The tracking table's name as given, for messages.
    raw_table: String,
    /// The same, quoted.
    table: String,
    lock_key: i64,
    upsert: Option<tokio_postgres::Statement>,
    /// The last read found a table made before the revert columns.
    legacy: bool,
    /// The last migration's pipeline ended with the session reset.
    reset_done: bool,
    /// The duration (with its commit) of the last migration that committed
    /// without a flush, measured by keel: written with the next migration's
    /// transaction, or the next tracking write, rather than in one of its own.
    pending_timing: Option<String>,
    /// Behind a transaction pooler: why keel thinks so. The lock is then
    /// the lease; a direct session checks it too.
    pooled: Option<String>,
    lease: Box<Lease>,
    url: DatabaseUrl,
}

use crate::db::error::db_error;
use crate::db::error::{Context, fail};

/// Which of `roles` do not exist (for `--grant`), checked before anything
/// is changed.
pub(crate) async fn missing_roles(client: &Client, roles: &[String]) -> Result<Vec<String>> {
    if roles.is_empty() {
        return Ok(Vec::new());
    }
    let rows = client
        .query_typed(
            "SELECT r FROM unnest($1::text[]) r WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r)",
            &[(&roles, Type::TEXT_ARRAY)],
        )
        .await
        .context("looking up the --grant roles")?;
    rows.iter()
        .map(|r| r.col(0, crate::db::decode::Origin::table("pg_roles")))
        .collect()
}

impl Postgres {
    /// The client, for engine-specific work outside migrations.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Wraps an open connection. The tracking table is named with the
    /// schema it resolves to now, so a migration that empties the
    /// `search_path` (every `pg_dump` output does) cannot lose it.
    pub async fn new(client: Client, url: &DatabaseUrl, table: &str) -> Result<Postgres> {
        let probe = pooler::probe(&client, url).await?;
        let schema = probe.schema;
        Ok(Postgres {
            client,
            raw_table: table.to_string(),
            table: format!(
                "{}.{}",
                Dialect::Postgres.quote(&schema),
                Dialect::Postgres.quote(table)
            ),
            lock_key: lock_key(table),
            upsert: None,
            legacy: false,
            reset_done: false,
            pending_timing: None,
            pooled: probe.pooled,
            lease: Box::new(Lease::new(&schema, table)),
            url: url.clone(),
        })
    }

    /// Why keel thinks it is behind a transaction pooler; `None` when it
    /// has a server session of its own.
    pub(crate) fn pooler(&self) -> Option<&str> {
        self.pooled.as_deref()
    }

    async fn advisory_holder(&self) -> Result<Option<String>> {
        advisory_holder(&self.client, self.lock_key).await
    }

    /// Who holds the migration lock now (the lease, live or expired, or a
    /// session's advisory lock), without taking it; `None` when nobody does.
    pub(crate) async fn current_holder(&self) -> Result<Option<String>> {
        Ok(match &self.pooled {
            Some(_) => match self.lease.holder(&self.client).await? {
                Some(h) => Some(h),
                None => self.advisory_holder().await?,
            },
            None => match self.advisory_holder().await? {
                Some(h) => Some(h),
                None => self.lease.holder(&self.client).await?,
            },
        })
    }

    /// An error once a pooled runner lost its lease.
    fn check_lease(&self) -> Result<()> {
        match &self.pooled {
            Some(_) => self.lease.check(),
            None => Ok(()),
        }
    }

    /// `RESET ALL` and back to the user keel logged in as. Not `DISCARD
    /// ALL`: that would release keel's advisory lock and prepared writes.
    /// A migration run in keel's transaction already reset the session at
    /// the end of its pipeline, which costs no round trip.
    pub(crate) async fn reset_session(&mut self) -> Result<()> {
        // behind a pooler the migration's own transaction reset it (and a
        // statement outside one that sets the session is refused)
        if std::mem::take(&mut self.reset_done) || self.pooled.is_some() {
            return Ok(());
        }
        self.client
            .batch_execute(RESET_SESSION)
            .await
            .context("resetting the session after a migration")
    }

    /// A fixed statement with the tracking table filled in.
    fn fill(&self, template: &str) -> String {
        template.replace("{table}", &self.table)
    }

    fn upsert_sql(&self) -> String {
        format!(
            "INSERT INTO {t} ({COLUMNS}) VALUES ($1, $2, $3, $4, coalesce($16::text::timestamptz, now()), \
             coalesce($5, (extract(epoch FROM clock_timestamp() - now()) * 1000)::int8), \
             $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, checksum = EXCLUDED.checksum, \
             checksum_algorithm = EXCLUDED.checksum_algorithm, applied_at = EXCLUDED.applied_at, \
             duration_ms = EXCLUDED.duration_ms, success = EXCLUDED.success, error = EXCLUDED.error, \
             failed_statement_index = EXCLUDED.failed_statement_index, failed_statement = EXCLUDED.failed_statement, \
             statements_total = EXCLUDED.statements_total, statements_applied = EXCLUDED.statements_applied, \
             applied_by = EXCLUDED.applied_by, keel_version = EXCLUDED.keel_version, method = EXCLUDED.method, \
             applied_sql = EXCLUDED.applied_sql, {CLEAR_REVERT}",
            t = self.table
        )
    }

    /// The statement of a tracking write; in a direct session prepared
    /// before a pipeline starts so the write is sent in order with the
    /// statements (the upsert once per run); behind a pooler unnamed, sent
    /// with its parameters' types.
    async fn prepare_write(&mut self, write: &Write) -> Result<WriteStatement> {
        if self.pooled.is_some() {
            return Ok(WriteStatement::Unnamed(self.write_sql(write)));
        }
        if let (Write::Upsert(_), Some(s)) = (write, &self.upsert) {
            return Ok(WriteStatement::Named(s.clone()));
        }
        let s = self
            .client
            .prepare(&self.write_sql(write))
            .await
            .context("preparing a tracking-table write")?;
        if let Write::Upsert(_) = write {
            self.upsert = Some(s.clone());
        }
        Ok(WriteStatement::Named(s))
    }

    fn write_sql(&self, write: &Write) -> String {
        match write {
            Write::Upsert(_) => self.upsert_sql(),
            Write::Progress { .. } => format!(
                "UPDATE {} SET statements_applied = $2, failed_statement_index = $3, failed_statement = NULL, error = NULL WHERE version = $1",
                self.table
            ),
            Write::Accept { .. } => format!(
                "UPDATE {} SET checksum = $2, checksum_algorithm = $3, applied_sql = $4, name = $5 WHERE version = $1",
                self.table
            ),
            Write::Delete { .. } => format!("DELETE FROM {} WHERE version = $1", self.table),
            Write::RevertProgress { .. } => format!(
                "UPDATE {} SET reverted_at = NULL, reverted_by = NULL, revert_duration_ms = NULL, revert_error = NULL, \
                 revert_statements_applied = $2, revert_statements_total = $3 WHERE version = $1",
                self.table
            ),
            Write::RevertFailed { .. } => format!(
                "UPDATE {} SET reverted_at = NULL, revert_error = $2, revert_statements_applied = $3, \
                 revert_statements_total = $4, revert_duration_ms = $5, reverted_by = $6 WHERE version = $1",
                self.table
            ),
            Write::Reverted { .. } => format!(
                "UPDATE {} SET reverted_at = now(), revert_error = NULL, revert_statements_applied = $2, \
                 revert_statements_total = $2, \
                 revert_duration_ms = coalesce($3, (extract(epoch FROM clock_timestamp() - now()) * 1000)::int8), \
                 reverted_by = $4 WHERE version = $1",
                self.table
            ),
        }
    }
}

/// Who holds keel's advisory lock on this database, in words.
async fn advisory_holder(client: &Client, lock_key: i64) -> Result<Option<String>> {
    let rows = client
        .query_typed(
            LOCK_HOLDER,
            &[(&LOCK_CLASS, Type::INT8), (&lock_key, Type::INT8)],
        )
        .await
        .context("finding the lock holder")?;
    rows.first()
        .map(|r| {
            Ok(format!(
                "PostgreSQL backend pid {} (\"{}\", user {}, from {}, connected since {})",
                r.col::<i32>(0, CATALOG)?,
                r.col::<String>(1, CATALOG)?,
                r.col::<String>(2, CATALOG)?,
                r.col::<String>(3, CATALOG)?,
                r.col::<String>(4, CATALOG)?
            ))
        })
        .transpose()
}

/// Back to the session keel opened: settings and the user it logged in as.
const RESET_SESSION: &str = "RESET ALL; SET SESSION AUTHORIZATION DEFAULT";

/// After a migration's commit, its measured duration made to include the
/// commit: from the transaction's start (`applied_at`/`reverted_at`, both
/// `now()` of that transaction) to the end of the commit.
/// What [`commit_timing`] measures on the server, as keel measured it
/// from the migration's first message to its commit's answer.
fn measured_timing(table: &str, finish: &Write, ms: i64) -> Option<String> {
    let (column, _, version, guard) = timing_target(finish)?;
    Some(format!(
        "UPDATE {table} SET {column} = greatest({column}, {ms}) WHERE version = {version} AND {guard}"
    ))
}

/// The duration column a finishing write leaves to be measured, the
/// column it counts from, its row's version and the guard that the row is
/// the one just written.
fn timing_target(finish: &Write) -> Option<(&'static str, &'static str, i64, &'static str)> {
    match finish {
        Write::Upsert(r) if r.duration_ms.is_none() => {
            Some(("duration_ms", "applied_at", r.version, "success"))
        }
        Write::Reverted {
            version,
            duration_ms: None,
            ..
        } => Some((
            "revert_duration_ms",
            "reverted_at",
            *version,
            "reverted_at IS NOT NULL",
        )),
        _ => None,
    }
}

fn commit_timing(table: &str, finish: &Write) -> Option<String> {
    let (column, since, version, guard) = timing_target(finish)?;
    Some(format!(
        "BEGIN; SET LOCAL synchronous_commit TO off; SET LOCAL SESSION AUTHORIZATION DEFAULT; \
         UPDATE {table} SET {column} = greatest({column}, (extract(epoch FROM clock_timestamp() - {since}) * 1000)::int8) \
         WHERE version = {version} AND {guard}; COMMIT"
    ))
}

type Request<'a> = Pin<Box<dyn Future<Output = Result<(), tokio_postgres::Error>> + 'a>>;

/// Sends a migration's `COPY … FROM STDIN` and its data, as psql does for
/// the `COPY` blocks of a `pg_dump` file.
async fn copy_in(client: &Client, command: &str, data: &str) -> Result<(), tokio_postgres::Error> {
    use futures_util::SinkExt;
    let sink = client.copy_in::<_, bytes::Bytes>(command).await?;
    let mut sink = std::pin::pin!(sink);
    for chunk in data.as_bytes().chunks(1 << 20) {
        sink.send(bytes::Bytes::copy_from_slice(chunk)).await?;
    }
    sink.as_mut().finish().await.map(|_| ())
}

/// One statement of a migration: a `COPY … FROM STDIN` with its data, or
/// anything else as simple protocol.
async fn run_statement(client: &Client, sql: &str) -> Result<(), tokio_postgres::Error> {
    match crate::source::split::copy_from_stdin(sql) {
        Some((command, data)) => copy_in(client, command, &data).await,
        None => client.batch_execute(sql).await,
    }
}

/// Polls every request once, in order, before waiting on any: tokio-postgres
/// sends a request on its first poll, so this pipelines them in order on the
/// connection (or on several connections at once). Returns each request's
/// result, in order.
pub(crate) async fn pipeline<'a, T>(
    mut requests: Vec<Pin<Box<dyn Future<Output = T> + 'a>>>,
) -> Vec<T> {
    let mut results: Vec<Option<T>> = requests.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (request, result) in requests.iter_mut().zip(results.iter_mut()) {
            if result.is_none() {
                match request.as_mut().poll(cx) {
                    Poll::Ready(r) => *result = Some(r),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

impl Driver for Postgres {
    async fn try_lock(&mut self) -> Result<bool> {
        if self.pooled.is_some() {
            if !self.lease.try_take(&self.client, &self.url).await? {
                return Ok(false);
            }
            // a runner with a session of its own (connected past the
            // pooler) holds the advisory lock: wait for it
            if advisory_holder(&self.client, self.lock_key)
                .await?
                .is_some()
            {
                self.lease.release(&self.client).await?;
                return Ok(false);
            }
            return Ok(true);
        }
        let rows = self
            .client
            .query_typed(
                "SELECT pg_try_advisory_lock($1, $2), to_regclass($3) IS NOT NULL",
                &[
                    (&(LOCK_CLASS as i32), Type::INT4),
                    (&(self.lock_key as i32), Type::INT4),
                    (&self.lease.quoted(), Type::TEXT),
                ],
            )
            .await
            .context("taking the migration lock")?;
        let (taken, leases) = match rows.first() {
            Some(r) => (r.col(0, CATALOG)?, r.col(1, CATALOG)?),
            None => (false, false),
        };
        // runners behind a pooler lock with a lease: wait for a live one
        if taken && leases && self.lease.live(&self.client).await? {
            self.unlock().await?;
            return Ok(false);
        }
        Ok(taken)
    }

    async fn lock_holder(&mut self) -> Result<String> {
        Ok(self
            .current_holder()
            .await?
            .unwrap_or_else(|| "a session that has just released it".to_string()))
    }

    async fn unlock(&mut self) -> Result<()> {
        if self.pooled.is_some() {
            return self.lease.release(&self.client).await;
        }
        self.client
            .query_typed(
                "SELECT pg_advisory_unlock($1, $2)",
                &[
                    (&(LOCK_CLASS as i32), Type::INT4),
                    (&(self.lock_key as i32), Type::INT4),
                ],
            )
            .await
            .context("releasing the migration lock")?;
        Ok(())
    }

    async fn ensure_table(&mut self) -> Result<()> {
        // Check first: CREATE TABLE IF NOT EXISTS still takes a catalog lock and
        // prints a notice on every run.
        let exists = self
            .client
            .query_typed(
                "SELECT to_regclass($1) IS NOT NULL",
                &[(&self.table, Type::TEXT)],
            )
            .await
            .context("looking for the tracking table")?;
        let exists = match exists.first() {
            Some(r) => r.col::<bool>(0, CATALOG)?,
            None => false,
        };
        if !exists {
            // under a transaction-level lock: concurrent CREATE TABLE IF NOT
            // EXISTS still collide on the row type (and a lease only
            // serialises runners that agree on being pooled)
            let sql = Lease::create_under_xact_lock(self.lock_key, &self.fill(CREATE));
            if let Err(e) = self.client.batch_execute(&sql).await {
                let _ = self.client.batch_execute("ROLLBACK").await;
                return Err(fail("creating the tracking table", e));
            }
        } else if self
            .client
            .simple_query(&super::probe_sql(&self.table))
            .await
            .is_err()
        {
            for sql in super::upgrade_statements(UPGRADE, &self.table) {
                match self.client.batch_execute(&sql).await {
                    Ok(()) => {}
                    Err(e)
                        if e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_COLUMN) => {
                    }
                    Err(e) => {
                        return Err(fail("adding the revert columns to the tracking table", e));
                    }
                }
            }
        }
        self.legacy = false;
        Ok(())
    }

    fn needs_upgrade(&self) -> bool {
        self.legacy
    }

    async fn applied(&mut self) -> Result<Vec<AppliedMigration>> {
        let sql = self.fill(APPLIED);
        self.legacy = false;
        let rows = match self.client.query_typed(&sql, &[]).await {
            Ok(rows) => rows,
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => {
                return Ok(Vec::new());
            }
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_COLUMN) => {
                self.legacy = true;
                let v1 = self.fill(APPLIED_V1);
                self.client
                    .query_typed(&v1, &[])
                    .await
                    .map_err(|e| fail(super::reading(&self.raw_table), e))?
            }
            Err(e) => return Err(fail(super::reading(&self.raw_table), e)),
        };
        let origin = super::tracking_origin(&self.raw_table);
        // Sorted here: an ORDER BY costs the server more planning than the
        // sort costs keel.
        let mut applied = Vec::with_capacity(rows.len());
        for r in &rows {
            applied.push(super::applied_row!(
                r,
                origin,
                self.legacy,
                r.col::<Timestamp>(4, origin)?.to_string(),
                r.col::<Option<Timestamp>>(15, origin)?
                    .map(|t| t.to_string())
            ));
        }
        applied.sort_by_key(|a| a.version);
        Ok(applied)
    }

    async fn applied_sql(&mut self, version: i64) -> Result<Option<String>> {
        let sql = format!("SELECT applied_sql FROM {} WHERE version = $1", self.table);
        let row = self
            .client
            .query_typed_opt(&sql, &[(&version, Type::INT8)])
            .await
            .context("reading applied SQL")?;
        row.map(|r| r.col(0, super::tracking_origin(&self.raw_table)))
            .transpose()
    }

    async fn run_in_transaction(
        &mut self,
        statements: &[Statement],
        finish: &Write,
        durable: bool,
    ) -> Result<Result<(), StatementFailure>> {
        self.check_lease()?;
        let write = self.prepare_write(finish).await?;
        // The recorded duration includes the commit where the commit takes
        // time — a durable one, which waits for its WAL flush: measured once
        // it is done, pipelined so it costs no round trip. A commit with
        // synchronous_commit off returns at once, and a second transaction
        // per migration to add nothing cost ~20% of a run of small ones.
        let pooled = self.pooled.is_some();
        let timing = if durable || pooled {
            commit_timing(&self.table, finish)
        } else {
            None
        };
        let started = std::time::Instant::now();
        let carried = self.pending_timing.take();
        // after the commit, in one message: the duration that includes it,
        // and the session reset for the next migration. Behind a pooler the
        // next transaction may run on another server connection, and this
        // one serves other clients next: the reset is committed with the
        // migration instead.
        let after_commit = match (&timing, pooled) {
            (Some(t), false) => Some(format!("{t}; {RESET_SESSION}")),
            (None, false) => Some(RESET_SESSION.to_string()),
            (t, true) => t.clone(),
        };
        // keel writes its row as the user it logged in as, whatever role the
        // migration took (`SET ROLE owner` to own what it creates)
        let own_user = match (pooled, durable) {
            (false, _) => "SET LOCAL SESSION AUTHORIZATION DEFAULT",
            (true, true) => RESET_SESSION,
            (true, false) => {
                "RESET ALL; SET SESSION AUTHORIZATION DEFAULT; SET LOCAL synchronous_commit TO off"
            }
        };
        // A `COPY … FROM STDIN` prepares its statement before it sends its
        // data, which a pipeline would reorder: a migration holding one is
        // sent request by request instead (in its transaction, so on one
        // server connection behind a pooler too).
        let has_copy = statements
            .iter()
            .any(|s| crate::source::split::copy_from_stdin(&s.text).is_some());
        let client = &self.client;
        let fence = self.lease.fence();
        let (fence_sql, token) = (&fence.0, fence.1);
        let mut requests: Vec<Request<'_>> = Vec::with_capacity(statements.len() + 3);
        // A migration's commit need not wait for its WAL flush when a later
        // durable commit in the same run flushes it (WAL is sequential): the
        // change and its tracking row stay atomic either way.
        let begin = if durable {
            "BEGIN"
        } else {
            "BEGIN; SET LOCAL synchronous_commit TO off"
        };
        requests.push(Box::pin(client.batch_execute(begin)));
        // behind a pooler: nothing commits unless this runner's lease is live
        if pooled {
            requests.push(Box::pin(async move {
                client
                    .execute_typed(fence_sql, &[(token, Type::TEXT)])
                    .await
                    .map(|_| ())
            }));
        }
        for s in statements {
            if has_copy {
                requests.push(Box::pin(run_statement(client, &s.text)));
            } else {
                requests.push(Box::pin(client.batch_execute(&s.text)));
            }
        }
        requests.push(Box::pin(client.batch_execute(own_user)));
        if let Some(carried) = &carried {
            requests.push(Box::pin(client.batch_execute(carried)));
        }
        let write = &write;
        requests.push(Box::pin(write.send(client, finish)));
        requests.push(Box::pin(client.batch_execute("COMMIT")));
        if let Some(after) = &after_commit {
            requests.push(Box::pin(client.batch_execute(after)));
        }
        self.reset_done = false;
        let mut results = if has_copy {
            let mut done = Vec::with_capacity(requests.len());
            for request in requests {
                done.push(request.await);
            }
            done
        } else {
            pipeline(requests).await
        }
        .into_iter();
        if let Some(Err(e)) = results.next() {
            return Err(fail("starting a transaction", e));
        }
        if pooled && let Some(Err(_)) = results.next() {
            // the COMMIT that follows rolls the whole migration back
            return Err(self.lease.lost());
        }
        for i in 0..statements.len() {
            if let Some(Err(e)) = results.next() {
                // the COMMIT that follows an error rolls back
                return Ok(Err((i, db_error(e))));
            }
        }
        if let Some(Err(e)) = results.next() {
            return Err(fail(
                "returning to keel's own user before its tracking write",
                e,
            ));
        }
        if carried.is_some()
            && let Some(Err(e)) = results.next()
        {
            return Err(fail("recording the previous migration's duration", e));
        }
        if let Some(Err(e)) = results.next() {
            return Err(fail("writing the tracking row", e));
        }
        if let Some(Err(e)) = results.next() {
            return Err(fail("committing", e));
        }
        if timing.is_none() {
            let ms = started.elapsed().as_millis() as i64;
            self.pending_timing = measured_timing(&self.table, finish, ms);
        }
        // The migration and its row are committed. Should the duration's
        // refinement or the reset have failed, leave no transaction open,
        // and reset_session sends the reset again.
        match results.next() {
            Some(Ok(())) => self.reset_done = true,
            None => {}
            Some(Err(_)) => {
                let _ = self.client.batch_execute("ROLLBACK").await;
            }
        }
        Ok(Ok(()))
    }

    async fn execute(&mut self, sql: &str) -> Result<Result<(), DbError>> {
        self.check_lease()?;
        // a statement keel does not wrap may change the session
        self.reset_done = false;
        match run_statement(&self.client, sql).await {
            Ok(()) => Ok(Ok(())),
            Err(e) if e.as_db_error().is_some() => Ok(Err(db_error(&e))),
            Err(e) => Err(fail("running a statement", e)),
        }
    }

    async fn write(&mut self, write: &Write) -> Result<()> {
        self.check_lease()?;
        if let Some(carried) = self.pending_timing.take() {
            self.client
                .batch_execute(&carried)
                .await
                .context("recording the previous migration's duration")?;
        }
        let statement = self.prepare_write(write).await?;
        statement
            .send(&self.client, write)
            .await
            .context("writing the tracking table")?;
        Ok(())
    }

    async fn user(&mut self) -> Result<String> {
        let row = self
            .client
            .query_typed_one("SELECT current_user::text", &[])
            .await
            .context("reading the user")?;
        row.col(0, CATALOG)
    }

    async fn close(self) -> Result<()> {
        drop(self.client);
        Ok(())
    }
}

/// A `timestamptz` read in binary — microseconds since 2000-01-01 UTC — and
/// shown as ISO 8601 with milliseconds. Decoding it here saves the server a
/// `to_char` per tracking row on every run.
struct Timestamp(i64);

impl<'a> tokio_postgres::types::FromSql<'a> for Timestamp {
    fn from_sql(
        _: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let bytes: [u8; 8] = raw.try_into()?;
        Ok(Timestamp(i64::from_be_bytes(bytes)))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ || *ty == Type::TIMESTAMP
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const MICROS_PER_DAY: i64 = 86_400_000_000;
        // days from 1970-01-01 to 2000-01-01
        let days = self.0.div_euclid(MICROS_PER_DAY) + 10_957;
        let micros = self.0.rem_euclid(MICROS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let secs = micros / 1_000_000;
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            micros % 1_000_000 / 1000
        )
    }
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn timestamps_print_as_utc_iso_8601() {
        assert_eq!(Timestamp(0).to_string(), "2000-01-01T00:00:00.000Z");
        // 2026-11-23 10:43:17.318 UTC
        let micros = (9823 * 86_400 + 10 * 3600 + 43 * 60 + 17) * 1_000_000 + 318_000;
        assert_eq!(Timestamp(micros).to_string(), "2026-11-23T10:43:17.318Z");
        assert_eq!(Timestamp(-1).to_string(), "1999-12-31T23:59:59.999Z");
        // a leap day
        let leap = (1520 * 86_400) * 1_000_000;
        assert_eq!(Timestamp(leap).to_string(), "2004-02-29T00:00:00.000Z");
    }
}
