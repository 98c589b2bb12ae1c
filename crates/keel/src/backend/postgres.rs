//! PostgreSQL backend (tokio-postgres).
//!
//! A migration in a transaction is sent as one pipeline — `BEGIN`, each
//! statement, the tracking row, `COMMIT` — so it costs one round trip, yet
//! each statement is its own protocol message and the first error names the
//! failing statement. The lock is a session advisory lock taken with
//! `pg_try_advisory_lock`, polled by the runner, so a waiting keel never sits
//! in a blocked statement that `CREATE INDEX CONCURRENTLY` would wait for.

use super::{COLUMNS, Driver, StatementFailure, client_host, lock_key};
use crate::dialect::Dialect;
use crate::error::{DbError, Error, Result};
use crate::settings::DatabaseUrl;
use crate::source::split::Statement;
use crate::source::{Checksum, checksum::ALGORITHM};
use crate::tracking::{AppliedMigration, KEEL_VERSION, Method, Write};
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::task::Poll;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, NoTls};

/// First key of keel's two-part advisory lock: "keel" in ASCII.
const LOCK_CLASS: i64 = 0x6b65_656c;

pub(crate) struct Postgres {
    client: Client,
    table: String,
    lock_key: i64,
    upsert: Option<tokio_postgres::Statement>,
}

pub(crate) fn db_error(e: &tokio_postgres::Error) -> DbError {
    match e.as_db_error() {
        Some(d) => {
            let mut message = d.message().to_string();
            if let Some(detail) = d.detail() {
                message.push_str(&format!(" (detail: {detail})"));
            }
            if let Some(hint) = d.hint() {
                message.push_str(&format!(" (hint: {hint})"));
            }
            DbError {
                message,
                sqlstate: Some(d.code().code().to_string()),
            }
        }
        None => DbError {
            message: e.to_string(),
            sqlstate: None,
        },
    }
}

/// Opens a connection whose `application_name` says it is keel; the
/// connection task runs on the current runtime.
pub(crate) async fn connect_client(url: &DatabaseUrl) -> Result<Client> {
    let connect_error = |message: String| Error::Connect {
        url: url.redacted(),
        message,
    };
    let mut config =
        tokio_postgres::Config::from_str(url.expose()).map_err(|e| connect_error(e.to_string()))?;
    if config.get_application_name().is_none() {
        config.application_name(format!(
            "keel {KEEL_VERSION} on {} pid {}",
            client_host(),
            std::process::id()
        ));
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(std::time::Duration::from_secs(10));
    }
    let (client, connection) = config.connect(NoTls).await.map_err(|e| {
        let db = db_error(&e);
        connect_error(match db.sqlstate {
            Some(_) => db.to_string(),
            None => e.to_string(),
        })
    })?;
    tokio::spawn(connection);
    Ok(client)
}

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
        .map_err(|e| fail("looking up the --grant roles", &e))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

fn fail(context: &str, e: impl std::borrow::Borrow<tokio_postgres::Error>) -> Error {
    Error::db(context, db_error(e.borrow()))
}

impl Postgres {
    /// The client, for engine-specific work outside migrations.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub async fn connect(url: &DatabaseUrl, table: &str) -> Result<Postgres> {
        let client = connect_client(url).await?;
        Ok(Postgres {
            client,
            table: Dialect::Postgres.quote(table),
            lock_key: lock_key(table),
            upsert: None,
        })
    }

    async fn upsert_statement(&mut self) -> Result<tokio_postgres::Statement> {
        if let Some(s) = &self.upsert {
            return Ok(s.clone());
        }
        let sql = format!(
            "INSERT INTO {t} ({COLUMNS}) VALUES ($1, $2, $3, $4, now(), \
             coalesce($5, (extract(epoch FROM clock_timestamp() - now()) * 1000)::int8), \
             $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, checksum = EXCLUDED.checksum, \
             checksum_algorithm = EXCLUDED.checksum_algorithm, applied_at = EXCLUDED.applied_at, \
             duration_ms = EXCLUDED.duration_ms, success = EXCLUDED.success, error = EXCLUDED.error, \
             failed_statement_index = EXCLUDED.failed_statement_index, failed_statement = EXCLUDED.failed_statement, \
             statements_total = EXCLUDED.statements_total, statements_applied = EXCLUDED.statements_applied, \
             applied_by = EXCLUDED.applied_by, keel_version = EXCLUDED.keel_version, method = EXCLUDED.method, \
             applied_sql = EXCLUDED.applied_sql",
            t = self.table
        );
        let s = self
            .client
            .prepare(&sql)
            .await
            .map_err(|e| fail("preparing the tracking-table insert", e))?;
        self.upsert = Some(s.clone());
        Ok(s)
    }

    /// The statement and parameters of a tracking write; prepared before a
    /// pipeline starts so the write is sent in order with the statements.
    async fn prepare_write(&mut self, write: &Write) -> Result<tokio_postgres::Statement> {
        let sql = match write {
            Write::Upsert(_) => return self.upsert_statement().await,
            Write::Progress { .. } => format!(
                "UPDATE {} SET statements_applied = $2 WHERE version = $1",
                self.table
            ),
            Write::Accept { .. } => format!(
                "UPDATE {} SET checksum = $2, checksum_algorithm = $3, applied_sql = $4 WHERE version = $1",
                self.table
            ),
            Write::Delete { .. } => format!("DELETE FROM {} WHERE version = $1", self.table),
        };
        self.client
            .prepare(&sql)
            .await
            .map_err(|e| fail("preparing a tracking-table write", e))
    }
}

fn write_params(write: &Write) -> Vec<&(dyn ToSql + Sync)> {
    match write {
        Write::Upsert(r) => vec![
            &r.version,
            &r.name,
            r.checksum.as_string(),
            &ALGORITHM,
            &r.duration_ms,
            &r.success,
            &r.error,
            &r.failed_statement_index,
            &r.failed_statement,
            &r.statements_total,
            &r.statements_applied,
            &r.applied_by,
            &KEEL_VERSION,
            r.method.as_static(),
            &r.sql,
        ],
        Write::Progress {
            version,
            statements_applied,
        } => vec![version, statements_applied],
        Write::Accept {
            version,
            checksum,
            sql,
        } => vec![version, checksum.as_string(), &ALGORITHM, sql],
        Write::Delete { version } => vec![version],
    }
}

type Request<'a> = Pin<Box<dyn Future<Output = Result<(), tokio_postgres::Error>> + 'a>>;

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
        let rows = self
            .client
            .query_typed(
                "SELECT pg_try_advisory_lock($1, $2)",
                &[
                    (&(LOCK_CLASS as i32), Type::INT4),
                    (&(self.lock_key as i32), Type::INT4),
                ],
            )
            .await
            .map_err(|e| fail("taking the migration lock", e))?;
        Ok(rows.first().is_some_and(|r| r.get::<_, bool>(0)))
    }

    async fn lock_holder(&mut self) -> Result<String> {
        let rows = self
            .client
            .query(
                "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.usename::text, ''), \
                 coalesce(host(a.client_addr), 'local socket'), \
                 to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
                 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 \
                 AND l.classid::int8 = $1 AND l.objid::int8 = $2 AND l.database = \
                 (SELECT oid FROM pg_database WHERE datname = current_database())",
                &[&LOCK_CLASS, &self.lock_key],
            )
            .await
            .map_err(|e| fail("finding the lock holder", e))?;
        Ok(match rows.first() {
            Some(r) => format!(
                "PostgreSQL backend pid {} (\"{}\", user {}, from {}, connected since {})",
                r.get::<_, i32>(0),
                r.get::<_, String>(1),
                r.get::<_, String>(2),
                r.get::<_, String>(3),
                r.get::<_, String>(4)
            ),
            None => "a session that has just released it".to_string(),
        })
    }

    async fn unlock(&mut self) -> Result<()> {
        self.client
            .query_typed(
                "SELECT pg_advisory_unlock($1, $2)",
                &[
                    (&(LOCK_CLASS as i32), Type::INT4),
                    (&(self.lock_key as i32), Type::INT4),
                ],
            )
            .await
            .map_err(|e| fail("releasing the migration lock", e))?;
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
            .map_err(|e| fail("looking for the tracking table", e))?;
        if !exists.first().is_some_and(|r| r.get::<_, bool>(0)) {
            let sql = format!(
                "CREATE TABLE IF NOT EXISTS {} (\
                 version bigint PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, \
                 checksum_algorithm text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), \
                 duration_ms bigint NOT NULL, success boolean NOT NULL, error text, \
                 failed_statement_index bigint, failed_statement text, statements_total bigint NOT NULL, \
                 statements_applied bigint NOT NULL, applied_by text NOT NULL, keel_version text NOT NULL, \
                 method text NOT NULL, applied_sql text NOT NULL)",
                self.table
            );
            self.client
                .batch_execute(&sql)
                .await
                .map_err(|e| fail("creating the tracking table", e))?;
        }
        Ok(())
    }

    async fn applied(&mut self) -> Result<Vec<AppliedMigration>> {
        let sql = format!(
            "SELECT version, name, checksum, checksum_algorithm, \
             applied_at, duration_ms, success, \
             error, failed_statement_index, failed_statement, statements_total, statements_applied, \
             applied_by, keel_version, method FROM {}",
            self.table
        );
        let rows = match self.client.query_typed(&sql, &[]).await {
            Ok(rows) => rows,
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => {
                return Ok(Vec::new());
            }
            Err(e) => return Err(fail("reading the tracking table", e)),
        };
        // Sorted here: an ORDER BY costs the server more planning than the
        // sort costs keel.
        let mut applied: Vec<AppliedMigration> = rows
            .iter()
            .map(|r| AppliedMigration {
                version: r.get(0),
                name: r.get(1),
                checksum: Checksum::from_stored(r.get(2)),
                checksum_algorithm: r.get(3),
                applied_at: r.get::<_, Timestamp>(4).to_string(),
                duration_ms: r.get(5),
                success: r.get(6),
                error: r.get(7),
                failed_statement_index: r.get(8),
                failed_statement: r.get(9),
                statements_total: r.get(10),
                statements_applied: r.get(11),
                applied_by: r.get(12),
                keel_version: r.get(13),
                method: Method::parse(r.get(14)),
            })
            .collect();
        applied.sort_by_key(|a| a.version);
        Ok(applied)
    }

    async fn applied_sql(&mut self, version: i64) -> Result<Option<String>> {
        let sql = format!("SELECT applied_sql FROM {} WHERE version = $1", self.table);
        let row = self
            .client
            .query_opt(&sql, &[&version])
            .await
            .map_err(|e| fail("reading applied SQL", e))?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn run_in_transaction(
        &mut self,
        statements: &[Statement],
        finish: &Write,
        durable: bool,
    ) -> Result<Result<(), StatementFailure>> {
        let write = self.prepare_write(finish).await?;
        let params = write_params(finish);
        let client = &self.client;
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
        for s in statements {
            requests.push(Box::pin(client.batch_execute(&s.text)));
        }
        let (write, params) = (&write, &params);
        requests.push(Box::pin(async move {
            client.execute(write, params).await.map(|_| ())
        }));
        requests.push(Box::pin(client.batch_execute("COMMIT")));
        let results = pipeline(requests).await;
        let n = statements.len();
        if let Some(Err(e)) = results.first() {
            return Err(fail("starting a transaction", e));
        }
        for (i, r) in results[1..=n].iter().enumerate() {
            if let Err(e) = r {
                // the COMMIT that follows an error rolls back
                return Ok(Err((i, db_error(e))));
            }
        }
        if let Err(e) = &results[n + 1] {
            return Err(fail("writing the tracking row", e));
        }
        if let Err(e) = &results[n + 2] {
            return Err(fail("committing", e));
        }
        Ok(Ok(()))
    }

    async fn execute(&mut self, sql: &str) -> Result<Result<(), DbError>> {
        match self.client.batch_execute(sql).await {
            Ok(()) => Ok(Ok(())),
            Err(e) if e.as_db_error().is_some() => Ok(Err(db_error(&e))),
            Err(e) => Err(fail("running a statement", e)),
        }
    }

    async fn write(&mut self, write: &Write) -> Result<()> {
        let statement = self.prepare_write(write).await?;
        self.client
            .execute(&statement, &write_params(write))
            .await
            .map_err(|e| fail("writing the tracking table", e))?;
        Ok(())
    }

    async fn user(&mut self) -> Result<String> {
        let row = self
            .client
            .query_one("SELECT current_user::text", &[])
            .await
            .map_err(|e| fail("reading the user", e))?;
        Ok(row.get(0))
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
