//! PostgreSQL URLs: `postgres://`, `postgresql://`, SQLAlchemy's
//! `postgresql+asyncpg://` (`+psycopg2`, `+psycopg`, `+pg8000`, …), JDBC's
//! `jdbc:postgresql://host/db?user=…` and `jdbc:postgresql:db`, with one or
//! more `host:port` (libpq's multi-host form). Everything lands in
//! [`PgParts`], which [`super::libpq`] completes from the environment and
//! `~/.pgpass` and renders as the canonical `postgres://` URL.

use super::{Context, Invalid, Resolved, dropped, libpq};

/// A PostgreSQL connection, spelling-neutral.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct PgParts {
    pub hosts: Vec<(String, Option<u16>)>,
    /// Ports given apart from hosts (`port=5432,5433`, `PGPORT`).
    pub ports: Vec<u16>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub dbname: Option<String>,
    /// Parameters tokio-postgres or keel's TLS layer know, canonical names.
    pub params: Vec<(String, String)>,
    pub search_path: Option<String>,
    pub dropped: Vec<String>,
    pub notes: Vec<String>,
}

/// Parameters passed on as they are.
const PASSED: [&str; 16] = [
    // keel's own: a transaction pooler in front (backend::pooler)
    "pgbouncer",
    "keel_pooler",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "application_name",
    "connect_timeout",
    "options",
    "target_session_attrs",
    "channel_binding",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "tcp_user_timeout",
];

pub const SSLMODES: [&str; 6] = [
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// Which family a parameter came from: `ssl=true` means `verify-full` to
/// pgjdbc and `require` elsewhere.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Url,
    Jdbc,
    Keywords,
}

impl PgParts {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn set(&mut self, key: &str, value: String) {
        self.params.retain(|(k, _)| k != key);
        self.params.push((key.to_string(), value));
    }

    /// One `key=value` of a URL query or a keyword string.
    pub fn param(&mut self, key: &str, value: String, flavor: Flavor) -> Result<(), Invalid> {
        let lower = key.to_ascii_lowercase();
        match lower.as_str() {
            "host" => {
                self.hosts = value
                    .split(',')
                    .map(|h| (h.trim().to_string(), None))
                    .collect();
            }
            "port" => {
                self.ports = value
                    .split(',')
                    .map(super::parse_port)
                    .collect::<Result<_, _>>()?;
            }
            "user" | "username" => self.user = Some(value),
            "password" => self.password = Some(value),
            "dbname" | "database" => self.dbname = Some(value),
            "sslmode" => {
                let mode = value.to_ascii_lowercase();
                if !SSLMODES.contains(&mode.as_str()) {
                    return Err(bad_sslmode(&value));
                }
                self.set("sslmode", mode);
            }
            "ssl" => {
                let mode = value.to_ascii_lowercase();
                let mode = match super::truthy(&mode) {
                    Some(true) if flavor == Flavor::Jdbc => "verify-full".to_string(),
                    Some(true) => "require".to_string(),
                    Some(false) => "disable".to_string(),
                    None if SSLMODES.contains(&mode.as_str()) => mode,
                    None => return Err(bad_sslmode(&value)),
                };
                self.notes
                    .push(format!("`ssl={value}` read as sslmode={mode}"));
                self.set("sslmode", mode);
            }
            "target_session_attrs" | "targetservertype" => {
                let attrs = match value.to_ascii_lowercase().as_str() {
                    "any" => "any",
                    "read-write" => "read-write",
                    "read-only" => "read-only",
                    // libpq 14's and pgjdbc's names
                    "primary" | "master" => "read-write",
                    "standby" | "secondary" | "preferstandby" | "prefer-standby"
                    | "prefersecondary" => "read-only",
                    _ => {
                        return Err(Invalid::new(
                            format!(
                                "unknown target_session_attrs `{value}`: use any, read-write, primary, read-only or standby"
                            ),
                            None,
                        ));
                    }
                };
                if attrs != value {
                    self.notes.push(format!(
                        "`{key}={value}` read as target_session_attrs={attrs}"
                    ));
                }
                self.set("target_session_attrs", attrs.to_string());
            }
            // Prisma's `schema`, pgjdbc's `currentSchema`
            "schema" | "currentschema" | "search_path" => {
                self.notes.push(format!(
                    "`{key}={value}` sets the session's search_path: unqualified names in migrations and keel's tracking table live in that schema"
                ));
                self.search_path = Some(value);
            }
            // a secret keel cannot use (it reads no encrypted keys, and
            // says so when the key is one): never kept, never shown
            "sslpassword" => self
                .notes
                .push("ignored `sslpassword`: keel reads only unencrypted client keys".to_string()),
            "applicationname" => self.set("application_name", value),
            "connecttimeout" => self.set("connect_timeout", value),
            k if PASSED.contains(&k) => self.set(k, value),
            _ => self.dropped.push(key.to_string()),
        }
        Ok(())
    }
}

fn bad_sslmode(value: &str) -> Invalid {
    Invalid::new(
        format!(
            "unknown sslmode `{value}`: use disable, prefer, require, verify-ca or verify-full"
        ),
        Some(
            "libpq's sslmode values; `require` encrypts, `verify-full` also checks the certificate and host name",
        ),
    )
}

/// `postgres[ql][+driver]://…`.
pub(crate) fn url(raw: &str, cx: &Context) -> Result<Resolved, Invalid> {
    let (scheme, rest) = raw.split_once(':').unwrap_or((raw, ""));
    let mut parts = PgParts::default();
    if let Some((_, driver)) = scheme.split_once('+') {
        parts.notes.push(format!(
            "`+{driver}` is SQLAlchemy's driver suffix: keel connects with its own driver"
        ));
    }
    let rest = rest.strip_prefix("//").ok_or_else(|| {
        Invalid::new(
            "a PostgreSQL URL needs `//` after the scheme",
            Some("postgres://user@host:5432/db"),
        )
    })?;
    authority_into(&mut parts, rest, Flavor::Url)?;
    libpq::finish(parts, cx, true)
}

/// `jdbc:postgresql://host:port/db?user=…&password=…`, `jdbc:postgresql:db`,
/// `jdbc:postgresql:/` (what follows `jdbc:postgresql:`).
pub(crate) fn jdbc(tail: &str, cx: &Context) -> Result<Resolved, Invalid> {
    let mut parts = PgParts::default();
    match tail.strip_prefix("//") {
        Some(rest) => authority_into(&mut parts, rest, Flavor::Jdbc)?,
        None => {
            let (db, query) = tail.split_once('?').unwrap_or((tail, ""));
            let db = db.trim_start_matches('/');
            if !db.is_empty() {
                parts.dbname = Some(super::decode(db)?);
            }
            for (k, v) in super::query_pairs(query)? {
                parts.param(&k, v, Flavor::Jdbc)?;
            }
        }
    }
    libpq::finish(parts, cx, true)
}

fn authority_into(parts: &mut PgParts, rest: &str, flavor: Flavor) -> Result<(), Invalid> {
    let a = super::authority(rest)?;
    parts.user = a.user;
    parts.password = a.password;
    parts.hosts = super::host_list(a.hosts)?;
    if let Some(db) = a.path.filter(|p| !p.is_empty()) {
        parts.dbname = Some(super::decode(db)?);
    }
    for (k, v) in super::query_pairs(a.query)? {
        parts.param(&k, v, flavor)?;
    }
    Ok(())
}

/// The canonical URL: percent-encoded userinfo, `host:port` list, database,
/// passed parameters. `parts` is complete (hosts, ports, user, dbname).
pub(crate) fn render(parts: &PgParts) -> String {
    use super::encode;
    let mut out = String::from("postgres://");
    if let Some(u) = &parts.user {
        out.push_str(&encode(u));
        if let Some(p) = &parts.password {
            out.push(':');
            out.push_str(&encode(p));
        }
        out.push('@');
    }
    let hosts: Vec<String> = parts
        .hosts
        .iter()
        .map(|(h, p)| match p {
            Some(p) => format!("{}:{p}", super::url_host(h)),
            None => super::url_host(h),
        })
        .collect();
    out.push_str(&hosts.join(","));
    out.push('/');
    out.push_str(&encode(parts.dbname.as_deref().unwrap_or_default()));
    let mut params = parts.params.clone();
    if let Some(schema) = &parts.search_path {
        // the server splits `options` at spaces; a backslash escapes one
        let value = format!(
            "-c search_path={}",
            schema.replace('\\', "\\\\").replace(' ', "\\ ")
        );
        let options = match parts.get("options") {
            Some(o) => format!("{o} {value}"),
            None => value,
        };
        params.retain(|(k, _)| k != "options");
        params.push(("options".to_string(), options));
    }
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    if !query.is_empty() {
        out.push('?');
        out.push_str(&query.join("&"));
    }
    out
}

/// "PostgreSQL db `app` on db.internal:5432 as user app".
pub(crate) fn describe(parts: &PgParts) -> String {
    let hosts: Vec<String> = parts
        .hosts
        .iter()
        .map(|(h, p)| {
            let port = p.unwrap_or(5432);
            if h.starts_with('/') {
                format!("socket {h} port {port}")
            } else if h.contains(':') {
                format!("[{h}]:{port}")
            } else {
                format!("{h}:{port}")
            }
        })
        .collect();
    let mut out = format!(
        "PostgreSQL db `{}` on {} as user {}",
        parts.dbname.as_deref().unwrap_or_default(),
        hosts.join(" or "),
        parts.user.as_deref().unwrap_or_default()
    );
    if let Some(attrs) = parts.get("target_session_attrs") {
        out.push_str(&format!(" (target_session_attrs={attrs})"));
    }
    if let Some(schema) = &parts.search_path {
        out.push_str(&format!(", search_path `{schema}`"));
    }
    if let Some(mode) = parts.get("sslmode") {
        out.push_str(&format!(", sslmode={mode}"));
    }
    out
}

pub(crate) fn dropped_note(parts: &PgParts) -> Option<String> {
    dropped(
        &parts.dropped,
        "driver or pool settings (SQLAlchemy, asyncpg, Prisma, JDBC) that are not PostgreSQL connection settings",
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use std::path::Path;

    #[test]
    fn sqlalchemy_driver_suffixes_and_asyncpg_ssl() {
        let r = ok(
            "postgresql+asyncpg://app:p%40ss@db.internal/app?ssl=require&prepared_statement_cache_size=0",
            &[],
        );
        assert_eq!(
            r.url,
            "postgres://app:p%40ss@db.internal:5432/app?sslmode=require"
        );
        assert_eq!(
            r.description,
            "PostgreSQL db `app` on db.internal:5432 as user app, sslmode=require"
        );
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("prepared_statement_cache_size"))
        );
        for driver in ["psycopg2", "psycopg", "pg8000"] {
            let r = ok(&format!("postgresql+{driver}://u@h:6543/d"), &[]);
            assert_eq!(r.url, "postgres://u@h:6543/d");
        }
    }

    #[test]
    fn prisma_parameters() {
        let r = ok(
            "postgresql://u:p@h:5432/d?schema=app&connection_limit=5&pool_timeout=10&pgbouncer=true",
            &[],
        );
        // Prisma's `pgbouncer=true` stays: it tells keel a transaction
        // pooler is in front (backend::pooler)
        assert_eq!(
            r.url,
            "postgres://u:p@h:5432/d?pgbouncer=true&options=-c%20search_path%3Dapp"
        );
        assert!(r.description.contains("search_path `app`"));
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("`connection_limit`, `pool_timeout`"))
        );
    }

    #[test]
    fn a_key_passphrase_is_never_kept() {
        let r = ok("postgres://u@h1,h2/d?sslpassword=s3cret&sslkey=/k.pem", &[]);
        assert_eq!(r.url, "postgres://u@h1:5432,h2:5432/d?sslkey=%2Fk.pem");
        assert!(!format!("{r:?}").contains("s3cret"));
    }

    #[test]
    fn multi_host() {
        let r = ok(
            "postgres://u@standby:5433,primary:5432/d?target_session_attrs=read-write",
            &[],
        );
        assert_eq!(
            r.url,
            "postgres://u@standby:5433,primary:5432/d?target_session_attrs=read-write"
        );
        assert!(r.description.contains("standby:5433 or primary:5432"));
        let r = ok("postgres://u@h1,h2/d?target_session_attrs=primary", &[]);
        assert_eq!(
            r.url,
            "postgres://u@h1:5432,h2:5432/d?target_session_attrs=read-write"
        );
        let r = ok("postgres://u@[::1]:5433/d", &[]);
        assert_eq!(r.url, "postgres://u@[::1]:5433/d");
    }

    #[test]
    fn jdbc_postgres() {
        let r = ok(
            "jdbc:postgresql://db:5432/app?user=app&password=s%26cret&ssl=true&sslrootcert=/ca.pem&currentSchema=s&ApplicationName=x&loginTimeout=3",
            &[],
        );
        assert_eq!(
            r.url,
            "postgres://app:s%26cret@db:5432/app?sslmode=verify-full&sslrootcert=%2Fca.pem&application_name=x&options=-c%20search_path%3Ds"
        );
        assert!(r.notes.iter().any(|n| n.contains("loginTimeout")));
        let r = ok("jdbc:postgresql:app", &[("USER", "me")]);
        assert_eq!(r.url, "postgres://me@localhost:5432/app");
    }

    #[test]
    fn bad_input_is_invalid_and_never_echoed() {
        let bad = |raw: &str| resolve_in(raw, Path::new("/"), &[], false).unwrap_err();
        let e = bad("postgres://u:s3cret@h/d?sslmode=on");
        assert!(e.message.contains("unknown sslmode `on`"), "{e:?}");
        let e = bad("postgres:u:s3cret@h/d");
        assert!(!e.message.contains("s3cret"));
        assert!(
            bad("postgres://u:s3cret@h")
                .message
                .contains("names no database")
        );
        assert!(bad("postgres://u:s3%zz@h/d").message.contains("hex"));
        assert!(
            bad("postgres://u@h/d?target_session_attrs=sometimes")
                .message
                .contains("target_session_attrs")
        );
    }
}
