//! PostgreSQL behind a transaction pooler (PgBouncer `pool_mode =
//! transaction`, Supavisor, Neon's pooler): each transaction may run on
//! another server connection, so nothing that lives in a server session
//! survives from one transaction to the next — a session advisory lock, a
//! named prepared statement, a `SET` (issue 12, item 4).
//!
//! Detection, once at connect: the URL says so (`pgbouncer=true` as Prisma
//! spells it, or `keel_pooler=transaction`; `pgbouncer=false` /
//! `keel_pooler=none` says the opposite and skips the probe), else a probe:
//! a session setting made in one transaction must still be there in the
//! next, on the same backend; and when the server listens on another port
//! than the one keel connected to (something stands in between), a second
//! connection must not see that setting.
//!
//! The lock there is a lease: one row in `<tracking table>_lock`, taken by a
//! single `INSERT … ON CONFLICT DO UPDATE … WHERE expires_at < now`,
//! renewed by a task on a connection of its own while keel works (a
//! migration's transaction never delays it), deleted when the lock scope
//! ends. A runner killed while holding it blocks the others until it
//! expires (`KEEL_LEASE_SECONDS`, default 30), then the next takes over.

use crate::db::decode::{Origin, PgRow};
use crate::db::error::{Context, fail};
use crate::error::{Error, Result};
use crate::settings::DatabaseUrl;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio_postgres::Client;
use tokio_postgres::types::Type;

pub(crate) const LEASE_CREATE: &str = include_str!("sql/postgres_lease_create.sql");
pub(crate) const LEASE_TAKE: &str = include_str!("sql/postgres_lease_take.sql");
pub(crate) const LEASE_RENEW: &str = include_str!("sql/postgres_lease_renew.sql");
pub(crate) const LEASE_HOLDER: &str = include_str!("sql/postgres_lease_holder.sql");
pub(crate) const LEASE_RELEASE: &str = "DELETE FROM {lock} WHERE id = 1 AND token = $1";
/// Inside each migration's transaction: fails (division by zero) unless
/// this runner's lease is live, so a runner that lost it changes nothing.
/// A plain read: it never waits for the row.
pub(crate) const LEASE_FENCE: &str = "SELECT 1 / (SELECT count(*)::int FROM {lock} \
     WHERE id = 1 AND token = $1 AND expires_at > clock_timestamp())";

/// The environment variable that sets the lease's length in seconds.
pub const LEASE_SECONDS_VAR: &str = "KEEL_LEASE_SECONDS";
const DEFAULT_LEASE_SECONDS: f64 = 30.0;

/// Second key of the transaction-level advisory lock that serialises
/// creating keel's tables ("keeL"): released at commit, so it is safe
/// through a transaction pooler too.
pub(crate) const CREATE_LOCK_CLASS: i64 = 0x6b65_654c;

/// The suffix of the lease table's name.
pub const LOCK_TABLE_SUFFIX: &str = "_lock";

const CATALOG: Origin<'static> = Origin {
    table: "the PostgreSQL catalog",
    hint: None,
};

/// Query parameters keel reads itself and never passes to the driver.
const URL_KEYS: [&str; 2] = ["pgbouncer", "keel_pooler"];

/// What the URL says about a pooler: `Some(true)` behind a transaction
/// pooler, `Some(false)` direct, `None` not said (probe).
pub(crate) fn url_choice(raw: &str) -> Option<bool> {
    let query = raw.split_once('?')?.1.split('#').next()?;
    let mut choice = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let v = v.to_ascii_lowercase();
        match k.as_ref() {
            "pgbouncer" => choice = Some(matches!(v.as_str(), "true" | "1" | "yes" | "on")),
            "keel_pooler" => choice = Some(matches!(v.as_str(), "transaction" | "pgbouncer")),
            _ => {}
        }
    }
    choice
}

/// The URL without the parameters [`url_choice`] reads (the driver refuses
/// parameters it does not know).
pub(crate) fn strip_url_params(raw: &str) -> String {
    let (base, fragment) = match raw.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (raw, None),
    };
    let Some((head, query)) = base.split_once('?') else {
        return raw.to_string();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|s| {
            let key = s.split('=').next().unwrap_or_default();
            !s.is_empty() && !URL_KEYS.contains(&key)
        })
        .collect();
    let mut out = head.to_string();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// Where the URL connects: a Unix socket folder, or a TCP port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    Socket,
    Tcp(u16),
}

/// The endpoint the URL names, when keel can read it (one host).
fn url_endpoint(raw: &str) -> Option<Endpoint> {
    let raw = strip_url_params(raw);
    let (host, port) = if raw.contains("://") {
        let parsed = url::Url::parse(&raw).ok()?;
        let query_host = parsed
            .query_pairs()
            .find(|(k, _)| k == "host")
            .map(|(_, v)| v.into_owned());
        let host = query_host.unwrap_or_else(|| {
            url::form_urlencoded::parse(parsed.host_str().unwrap_or_default().as_bytes())
                .map(|(k, v)| format!("{k}{v}"))
                .collect()
        });
        let port = parsed
            .query_pairs()
            .find(|(k, _)| k == "port")
            .and_then(|(_, v)| v.parse().ok())
            .or(parsed.port());
        (host, port)
    } else {
        let field = |name: &str| {
            raw.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name).map(str::to_string))
        };
        (
            field("host=").unwrap_or_default(),
            field("port=").and_then(|p| p.parse().ok()),
        )
    };
    if host.contains(',') {
        return None;
    }
    Some(if host.is_empty() || host.starts_with('/') {
        Endpoint::Socket
    } else {
        Endpoint::Tcp(port.unwrap_or(5432))
    })
}

/// Whether something stands between keel and the server: the server's
/// endpoint (`inet_server_port()`, NULL on a Unix socket) is not the one
/// keel connected to. `None` when keel cannot tell (a multi-host URL).
fn in_between(url: Option<Endpoint>, server_port: Option<i32>) -> Option<String> {
    let server = match server_port {
        Some(p) => format!("port {p}"),
        None => "a Unix socket".to_string(),
    };
    let (ours, same) = match url? {
        Endpoint::Socket => ("a Unix socket".to_string(), server_port.is_none()),
        Endpoint::Tcp(p) => (format!("port {p}"), server_port == Some(i32::from(p))),
    };
    (!same).then(|| {
        format!(
            "keel connected to {ours} but the server listens on {server}; add pgbouncer=false to the URL if what is in between keeps one server session per client"
        )
    })
}

/// A value no other session has.
fn new_token() -> String {
    use sha2::{Digest, Sha256};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let d = Sha256::digest(format!(
        "{}:{}:{nanos}",
        super::client_host(),
        std::process::id()
    ));
    d.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// What connect learned: the current schema, and why keel thinks it is
/// behind a transaction pooler (`None`: a direct session).
pub(crate) struct Probe {
    pub schema: String,
    pub pooled: Option<String>,
}

/// Reads the current schema and probes for a transaction pooler, in one
/// round trip on a direct connection.
pub(crate) async fn probe(client: &Client, url: &DatabaseUrl) -> Result<Probe> {
    let choice = url_choice(url.expose());
    let token = new_token();
    let set_params: [(&(dyn tokio_postgres::types::ToSql + Sync), Type); 1] =
        [(&token, Type::TEXT)];
    let set = client.query_typed(
        "SELECT current_schema()::text, \
         set_config('keel.pooler_probe', $1, false), pg_backend_pid(), inet_server_port(), \
         current_setting('search_path')",
        &set_params,
    );
    let get = client.query_typed(
        "SELECT current_setting('keel.pooler_probe', true), pg_backend_pid()",
        &[],
    );
    let mut results = super::postgres::pipeline(vec![Box::pin(set), Box::pin(get)])
        .await
        .into_iter();
    let first = results
        .next()
        .unwrap_or_else(|| Ok(Vec::new()))
        .context("reading the current schema")?;
    let second = results
        .next()
        .unwrap_or_else(|| Ok(Vec::new()))
        .context("checking for a transaction pooler")?;
    let (schema, pid, server_port) = match first.first() {
        Some(r) => (
            r.col::<Option<String>>(0, CATALOG)?,
            r.col::<i32>(2, CATALOG)?,
            r.col::<Option<i32>>(3, CATALOG)?,
        ),
        None => (Some("public".to_string()), 0, None),
    };
    // keel's table lives in the session's first schema: with none that
    // exists (Prisma's `schema=` or `options=-c search_path=` naming one
    // not yet made), it would land elsewhere or nowhere
    let Some(schema) = schema else {
        let path = first
            .first()
            .map(|r| r.col::<String>(4, CATALOG))
            .transpose()?
            .unwrap_or_default();
        return Err(crate::error::Error::invalid(
            format!(
                "the session's search_path ({path}) names no schema that exists, so keel has nowhere to keep its tracking table"
            ),
            Some(
                "create the schema first (CREATE SCHEMA name), or fix schema= / options=-c search_path= in the URL",
            ),
        ));
    };
    let (seen, pid_after) = match second.first() {
        Some(r) => (
            r.col::<Option<String>>(0, CATALOG)?,
            r.col::<i32>(1, CATALOG)?,
        ),
        None => (None, pid),
    };
    let pooled = match choice {
        Some(true) => Some("the URL says so".to_string()),
        Some(false) => None,
        None if pid != pid_after || seen.as_deref() != Some(token.as_str()) => {
            Some("a session setting made in one transaction was gone in the next".to_string())
        }
        // An idle pool hands the same server connection back, so the
        // setting survives there too: a pooler keel cannot tell from a
        // port forward is treated as one. A lease is safe either way.
        None => in_between(url_endpoint(url.expose()), server_port),
    };
    Ok(Probe { schema, pooled })
}

/// How long a lease lasts unless renewed.
fn lease_seconds() -> f64 {
    std::env::var(LEASE_SECONDS_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && (0.5..=86_400.0).contains(s))
        .unwrap_or(DEFAULT_LEASE_SECONDS)
}

/// The lease lock of one tracking table.
pub(crate) struct Lease {
    /// `<tracking table>_lock`, quoted and qualified.
    table: String,
    /// The same, as given, for messages.
    raw_table: String,
    create_key: i64,
    token: String,
    holder: String,
    seconds: f64,
    renewal: Option<Renewal>,
}

struct Renewal {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    lost: Arc<AtomicBool>,
}

impl Lease {
    pub(crate) fn new(schema: &str, tracking_table: &str) -> Lease {
        let raw_table = format!("{tracking_table}{LOCK_TABLE_SUFFIX}");
        let quote = |s: &str| crate::dialect::Dialect::Postgres.quote(s);
        Lease {
            table: format!("{}.{}", quote(schema), quote(&raw_table)),
            raw_table,
            create_key: super::lock_key(tracking_table),
            token: new_token(),
            holder: format!(
                "keel {} ({}@{} pid {})",
                crate::tracking::KEEL_VERSION,
                super::os_user(),
                super::client_host(),
                std::process::id()
            ),
            seconds: lease_seconds(),
            renewal: None,
        }
    }

    fn fill(&self, template: &str) -> String {
        template.replace("{lock}", &self.table)
    }

    /// `BEGIN; pg_advisory_xact_lock; CREATE …; COMMIT` in one message:
    /// `CREATE TABLE IF NOT EXISTS` alone still races on the row type when
    /// runners start at once.
    pub(crate) fn create_under_xact_lock(key: i64, create: &str) -> String {
        format!(
            "BEGIN; SELECT pg_advisory_xact_lock({CREATE_LOCK_CLASS}::int4, {key}::int4); {create}; COMMIT"
        )
    }

    /// Tries once to take the lease; on success starts renewing it.
    pub(crate) async fn try_take(&mut self, client: &Client, url: &DatabaseUrl) -> Result<bool> {
        let take = self.fill(LEASE_TAKE);
        let params: [(&(dyn tokio_postgres::types::ToSql + Sync), Type); 3] = [
            (&self.holder, Type::TEXT),
            (&self.token, Type::TEXT),
            (&self.seconds, Type::FLOAT8),
        ];
        let rows = match client.query_typed(&take, &params).await {
            Ok(rows) => rows,
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => {
                let create =
                    Lease::create_under_xact_lock(self.create_key, &self.fill(LEASE_CREATE));
                if let Err(e) = client.batch_execute(&create).await {
                    let _ = client.batch_execute("ROLLBACK").await;
                    return Err(fail(
                        format!("creating the lock table {}", self.raw_table),
                        e,
                    ));
                }
                client
                    .query_typed(&take, &params)
                    .await
                    .map_err(|e| fail(format!("taking the lease in {}", self.raw_table), e))?
            }
            Err(e) => return Err(fail(format!("taking the lease in {}", self.raw_table), e)),
        };
        if rows.is_empty() {
            return Ok(false);
        }
        match self.start_renewal(url).await {
            Ok(()) => Ok(true),
            Err(e) => {
                let _ = self.release(client).await;
                Err(e)
            }
        }
    }

    async fn start_renewal(&mut self, url: &DatabaseUrl) -> Result<()> {
        let renewer = crate::db::postgres(url).await?;
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let lost = Arc::new(AtomicBool::new(false));
        let (sql, token, seconds, flag) = (
            self.fill(LEASE_RENEW),
            self.token.clone(),
            self.seconds,
            lost.clone(),
        );
        let task = tokio::spawn(async move {
            let every = Duration::from_secs_f64(seconds / 3.0);
            let mut renewed = Instant::now();
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tokio::time::sleep(every) => {}
                }
                match renewer
                    .query_typed(&sql, &[(&token, Type::TEXT), (&seconds, Type::FLOAT8)])
                    .await
                {
                    Ok(rows) if rows.is_empty() => {
                        flag.store(true, Ordering::SeqCst);
                        break;
                    }
                    Ok(_) => renewed = Instant::now(),
                    // retried at the next tick; past the lease, it is lost
                    Err(_) if renewed.elapsed().as_secs_f64() >= seconds => {
                        flag.store(true, Ordering::SeqCst);
                        break;
                    }
                    Err(_) => {}
                }
            }
        });
        self.renewal = Some(Renewal { stop, task, lost });
        Ok(())
    }

    /// An error once the lease was lost (renewal found another holder, or
    /// could not renew before it expired): nothing more may be changed.
    pub(crate) fn check(&self) -> Result<()> {
        match &self.renewal {
            Some(r) if r.lost.load(Ordering::SeqCst) => Err(self.lost()),
            _ => Ok(()),
        }
    }

    /// The fence statement and its parameter (see [`LEASE_FENCE`]).
    pub(crate) fn fence(&self) -> (String, &String) {
        (self.fill(LEASE_FENCE), &self.token)
    }

    /// The error of a runner whose lease is gone.
    pub(crate) fn lost(&self) -> Error {
        Error::Refused {
            action: "go on migrating".into(),
            problems: vec![format!(
                "keel lost its lease in {}: it expired before keel could renew it, or someone removed it; another runner may hold it now",
                self.raw_table
            )],
            hint: format!(
                "run `keel status` to see what was applied, then `keel up` again; if the runner is often paused for long, raise {LEASE_SECONDS_VAR} (now {} s)",
                self.seconds
            ),
        }
    }

    /// Stops renewing and deletes the lease row (only this runner's).
    pub(crate) async fn release(&mut self, client: &Client) -> Result<()> {
        if let Some(r) = self.renewal.take() {
            let _ = r.stop.send(());
            let _ = tokio::time::timeout(Duration::from_secs(5), r.task).await;
        }
        client
            .query_typed(&self.fill(LEASE_RELEASE), &[(&self.token, Type::TEXT)])
            .await
            .map_err(|e| fail(format!("releasing the lease in {}", self.raw_table), e))?;
        Ok(())
    }

    /// The lease table's name, quoted and qualified (for `to_regclass`).
    pub(crate) fn quoted(&self) -> String {
        self.table.clone()
    }

    /// Whether someone holds a lease that has not expired.
    pub(crate) async fn live(&self, client: &Client) -> Result<bool> {
        Ok(self
            .read(client)
            .await?
            .is_some_and(|(_, _, left)| left >= 0.0))
    }

    /// Who holds the lease, in words; `None` when nobody does.
    pub(crate) async fn holder(&self, client: &Client) -> Result<Option<String>> {
        let Some((holder, since, left)) = self.read(client).await? else {
            return Ok(None);
        };
        let expiry = if left >= 0.0 {
            format!("expires in {left:.1} s unless renewed")
        } else {
            format!(
                "expired {:.1} s ago: its runner stopped renewing it, and the next runner takes it over",
                -left
            )
        };
        Ok(Some(format!(
            "{holder}, by the lease in {} taken at {since} ({expiry})",
            self.raw_table
        )))
    }

    /// The lease row: holder, taken at, seconds left (negative: expired).
    async fn read(&self, client: &Client) -> Result<Option<(String, String, f64)>> {
        let rows = match client.query_typed(&self.fill(LEASE_HOLDER), &[]).await {
            Ok(rows) => rows,
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => {
                return Ok(None);
            }
            Err(e) => return Err(fail("finding the lease holder", e)),
        };
        let origin = Origin::table(&self.raw_table);
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        Ok(Some((
            r.col(0, origin)?,
            r.col(1, origin)?,
            r.col(2, origin)?,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_says_whether_a_pooler_is_in_between() {
        assert_eq!(url_choice("postgres://h/db?pgbouncer=true"), Some(true));
        assert_eq!(
            url_choice("postgres://h/db?sslmode=require&pgbouncer=false"),
            Some(false)
        );
        assert_eq!(
            url_choice("postgres://h/db?keel_pooler=transaction"),
            Some(true)
        );
        assert_eq!(url_choice("postgres://h/db?keel_pooler=none"), Some(false));
        assert_eq!(url_choice("postgres://h/db?sslmode=require"), None);
        assert_eq!(url_choice("host=h dbname=db"), None);
    }

    #[test]
    fn the_driver_never_sees_keels_own_parameters() {
        assert_eq!(
            strip_url_params("postgres://u:p@h:6432/db?pgbouncer=true&sslmode=require#x"),
            "postgres://u:p@h:6432/db?sslmode=require#x"
        );
        assert_eq!(
            strip_url_params("postgres://h/db?keel_pooler=none"),
            "postgres://h/db"
        );
        assert_eq!(strip_url_params("postgres://h/db"), "postgres://h/db");
    }

    #[test]
    fn endpoints_from_either_spelling() {
        use Endpoint::*;
        assert_eq!(
            url_endpoint("postgres://h:6432/db?pgbouncer=true"),
            Some(Tcp(6432))
        );
        assert_eq!(
            url_endpoint("postgres://u:p@h/db?sslmode=require"),
            Some(Tcp(5432))
        );
        assert_eq!(
            url_endpoint("postgres://h/db?host=/run/postgresql"),
            Some(Socket)
        );
        assert_eq!(
            url_endpoint("postgres://%2Frun%2Fpostgresql/db"),
            Some(Socket)
        );
        assert_eq!(url_endpoint("host=h port=6543 dbname=db"), Some(Tcp(6543)));
        assert_eq!(url_endpoint("postgres://h1:5432,h2:5433/db"), None);
    }

    #[test]
    fn something_in_between_when_the_server_listens_elsewhere() {
        use Endpoint::*;
        assert_eq!(in_between(Some(Tcp(5432)), Some(5432)), None);
        assert_eq!(in_between(Some(Socket), None), None);
        assert_eq!(in_between(None, Some(5432)), None);
        let why = in_between(Some(Tcp(6432)), Some(5432)).unwrap_or_default();
        assert!(
            why.contains("port 6432") && why.contains("port 5432"),
            "{why}"
        );
        assert!(in_between(Some(Tcp(6432)), None).is_some());
        assert!(in_between(Some(Socket), Some(5432)).is_some());
    }
}
