//! Connection strings as users have them, turned ONCE into the canonical
//! form the db layer consumes, plus a short description of what they
//! resolved to (issue 12, item 2).
//!
//! Accepted spellings, one file per family:
//! - [`sqlite`]: keel/sqlx `sqlite:path`, `sqlite://path`, `sqlite:///abs`;
//!   SQLAlchemy `sqlite+driver:///relative.db`, `sqlite:////abs.db`; Prisma
//!   `file:./dev.db`; `jdbc:sqlite:path`.
//! - [`postgres`]: `postgres[ql][+driver]://` (multi-host too) and
//!   `jdbc:postgresql:`, with driver parameters translated or dropped.
//! - [`libpq`]: `key=value` strings, the `PG*` environment and `~/.pgpass`.
//! - [`mysql`]: `mysql[+driver]://`, `mariadb[+driver]://`, `jdbc:mysql:`,
//!   `jdbc:mariadb:`; [`mycnf`]: the `[client]` section of `~/.my.cnf`.
//!
//! Canonical forms: `sqlite:` + an absolute path (or `sqlite::memory:`);
//! `postgres://` with percent-encoded userinfo, one or more `host:port`
//! and only parameters tokio-postgres or keel's TLS layer know;
//! `mysql://` likewise for mysql_async. Errors never quote the input (it
//! may hold a password): they name what is wrong, and the caller names
//! where the string came from.

pub(crate) mod libpq;
pub(crate) mod mycnf;
pub(crate) mod mysql;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use crate::settings::Engine;
use std::path::{Path, PathBuf};

/// A connection string resolved: what the db layer gets, and what to tell
/// the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub engine: Engine,
    /// The canonical URL, with its secret.
    pub url: String,
    /// "PostgreSQL db `app` on db.internal:5432 as user app".
    pub description: String,
    /// What was translated or dropped, one sentence each (no secrets).
    pub notes: Vec<String>,
}

/// Why a connection string was refused; the caller adds where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub message: String,
    pub hint: Option<String>,
}

impl Invalid {
    pub(crate) fn new(message: impl Into<String>, hint: Option<&str>) -> Invalid {
        Invalid {
            message: message.into(),
            hint: hint.map(str::to_string),
        }
    }
}

/// What resolution may look at besides the string itself.
pub struct Context<'a> {
    /// The environment (`PG*`, `HOME`, `PGPASSFILE`, `MYSQL_HOME`, `USER`).
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The working directory: relative SQLite paths start here.
    pub cwd: &'a Path,
    /// The string comes from a `.env` that an SQLAlchemy app reads (see
    /// [`sqlalchemy_app`]): `sqlite:///x.db` is then relative.
    pub sqlalchemy_dotenv: bool,
}

impl Context<'_> {
    pub(crate) fn var(&self, key: &str) -> Option<String> {
        (self.env)(key).filter(|v| !v.is_empty())
    }

    pub(crate) fn home(&self) -> Option<PathBuf> {
        self.var("HOME").map(PathBuf::from)
    }

    /// The operating-system user, libpq's default user name.
    pub(crate) fn os_user(&self) -> Option<String> {
        self.var("USER").or_else(|| self.var("LOGNAME"))
    }
}

/// Resolves any accepted spelling.
pub fn resolve(raw: &str, cx: &Context) -> Result<Resolved, Invalid> {
    let raw = raw.trim();
    let lower = raw.to_ascii_lowercase();
    let scheme = lower.split_once(':').map(|(s, _)| s).unwrap_or("");
    let base = scheme.split_once('+').map(|(b, _)| b).unwrap_or(scheme);
    if let Some(rest) = lower.strip_prefix("jdbc:") {
        let sub = rest.split_once(':').map(|(s, _)| s).unwrap_or(rest);
        let tail = raw.get("jdbc:".len() + sub.len() + 1..).unwrap_or("");
        return match sub {
            "sqlite" => sqlite::jdbc(tail, cx),
            "postgresql" | "postgres" => postgres::jdbc(tail, cx),
            "mysql" | "mariadb" => mysql::jdbc(tail, cx),
            _ => Err(unsupported()),
        };
    }
    match base {
        // `sqlite3:` is Rails' spelling
        "sqlite" | "sqlite3" => sqlite::url(raw, cx),
        "file" => sqlite::prisma(raw, cx),
        // `pgsql:`/`postgis:` are dj-database-url's
        "postgres" | "postgresql" | "pgsql" | "postgis" => postgres::url(raw, cx),
        // `mysql2:` is Rails' and dj-database-url's
        "mysql" | "mariadb" | "mysql2" => mysql::url(raw, cx),
        _ if libpq::looks_like(raw) => libpq::keywords(raw, cx),
        _ => Err(unsupported()),
    }
}

fn unsupported() -> Invalid {
    Invalid::new(
        "unsupported database URL (not a sqlite:, postgres://, mysql://, jdbc:, file: URL or a libpq key=value string)",
        Some(
            "use sqlite:path.db, postgres://user@host/db, mysql://user@host/db or host=… dbname=…",
        ),
    )
}

/// The files that mark a folder as an SQLAlchemy app's: `alembic.ini`, or
/// one of these mentioning `sqlalchemy` or `sqlmodel` (any case, so
/// `Flask-SQLAlchemy` and `flask_sqlalchemy` count).
pub const SQLALCHEMY_MARKERS: [&str; 5] = [
    "pyproject.toml",
    "requirements.txt",
    "Pipfile",
    "setup.cfg",
    "setup.py",
];

/// Whether `dir` is an SQLAlchemy app's folder: it holds `alembic.ini`, or
/// a [`SQLALCHEMY_MARKERS`] file or a `requirements*.txt` that names
/// SQLAlchemy.
pub fn sqlalchemy_app(dir: &Path) -> bool {
    if dir.join("alembic.ini").is_file() {
        return true;
    }
    let mentions = |p: &Path| {
        std::fs::read_to_string(p).is_ok_and(|t| {
            let t = t.to_ascii_lowercase();
            t.contains("sqlalchemy") || t.contains("sqlmodel")
        })
    };
    if SQLALCHEMY_MARKERS.iter().any(|f| mentions(&dir.join(f))) {
        return true;
    }
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.starts_with("requirements") && name.ends_with(".txt") && mentions(&e.path())
        })
    })
}

// ------------------------------------------------------------------ shared

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decoding (`+` stays a plus, as libpq reads URLs).
pub(crate) fn decode(s: &str) -> Result<String, Invalid> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    Invalid::new(
                        "a `%` in the URL is not followed by two hex digits",
                        Some("percent-encode special characters of the password: % is %25, @ is %40, : is %3A, / is %2F"),
                    )
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Invalid::new("the URL decodes to invalid UTF-8", None))
}

/// `a=1&b=2` decoded into pairs.
pub(crate) fn query_pairs(query: &str) -> Result<Vec<(String, String)>, Invalid> {
    query
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|seg| {
            // as libpq: a parameter without `=` is an error (and most
            // often an unencoded `&` in a password, so it is not quoted)
            let (k, v) = seg.split_once('=').ok_or_else(|| {
                Invalid::new(
                    "a URL parameter (after `?`) has no `=`",
                    Some("write key=value pairs joined by &; percent-encode & in a password as %26, # as %23, ? as %3F"),
                )
            })?;
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

/// `scheme://userinfo@hosts/path?query` cut into its parts, without the url
/// crate (which refuses the multi-host form libpq and JDBC accept).
pub(crate) struct Authority<'a> {
    pub user: Option<String>,
    pub password: Option<String>,
    pub hosts: &'a str,
    pub path: Option<&'a str>,
    pub query: &'a str,
}

/// Cuts `rest` (what follows `scheme://`).
pub(crate) fn authority(rest: &str) -> Result<Authority<'_>, Invalid> {
    let rest = rest.split_once('#').map(|(b, _)| b).unwrap_or(rest);
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    // the userinfo ends at the LAST `@` before the path: an unencoded `@`
    // in a password is common enough to accept
    let path_start = {
        let after_at = before_query.rfind('@').map(|i| i + 1).unwrap_or(0);
        before_query
            .get(after_at..)
            .and_then(|s| s.find('/'))
            .map(|i| i + after_at)
    };
    let (auth, path) = match path_start {
        Some(i) => (
            before_query.get(..i).unwrap_or(""),
            before_query.get(i + 1..),
        ),
        None => (before_query, None),
    };
    let (userinfo, hosts) = match auth.rfind('@') {
        Some(i) => (auth.get(..i), auth.get(i + 1..).unwrap_or("")),
        None => (None, auth),
    };
    let (user, password) = match userinfo {
        None => (None, None),
        Some(ui) => match ui.split_once(':') {
            Some((u, p)) => (Some(decode(u)?), Some(decode(p)?)),
            None => (Some(decode(ui)?), None),
        },
    };
    Ok(Authority {
        user: user.filter(|u| !u.is_empty()),
        password,
        hosts,
        path,
        query,
    })
}

/// `h1:5432,[::1]:5433,h3` into hosts and ports.
pub(crate) fn host_list(hosts: &str) -> Result<Vec<(String, Option<u16>)>, Invalid> {
    if hosts.is_empty() {
        return Ok(Vec::new());
    }
    hosts
        .split(',')
        .map(|chunk| {
            let (host, port) = if let Some(inner) = chunk.strip_prefix('[') {
                let (h, after) = inner
                    .split_once(']')
                    .ok_or_else(|| Invalid::new("an IPv6 host lacks its closing `]`", None))?;
                (h.to_string(), after.strip_prefix(':'))
            } else {
                match chunk.rsplit_once(':') {
                    Some((h, p)) => (decode(h)?, Some(p)),
                    None => (decode(chunk)?, None),
                }
            };
            let port = match port.filter(|p| !p.is_empty()) {
                None => None,
                Some(p) => Some(parse_port(p)?),
            };
            Ok((host, port))
        })
        .collect()
}

pub(crate) fn parse_port(p: &str) -> Result<u16, Invalid> {
    p.trim()
        .parse::<u16>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            // the value is not quoted: in a malformed URL it may be a piece
            // of the password
            Invalid::new(
                "a port is not a number from 1 to 65535",
                Some("give the port as a number from 1 to 65535; if the URL has a password, percent-encode its special characters (@ is %40, : is %3A, / is %2F, ? is %3F, # is %23), or a part of it may read as the port"),
            )
        })
}

/// A host for a URL: IPv6 in brackets, a socket folder percent-encoded.
pub(crate) fn url_host(host: &str) -> String {
    if host.contains(':') && !host.starts_with('/') {
        format!("[{host}]")
    } else {
        encode(host)
    }
}

/// `true`/`false` as drivers spell them.
pub(crate) fn truthy(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// The note for parameters keel does not pass on.
pub(crate) fn dropped(keys: &[String], why: &str) -> Option<String> {
    (!keys.is_empty()).then(|| {
        let list = keys
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("ignored URL parameter(s) {list}: {why}")
    })
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use std::collections::HashMap;

    /// Resolves with the given environment in `cwd`.
    pub fn resolve_in(
        raw: &str,
        cwd: &Path,
        env: &[(&str, &str)],
        sqlalchemy: bool,
    ) -> Result<Resolved, Invalid> {
        let map: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |k: &str| map.get(k).cloned();
        let cx = Context {
            env: &lookup,
            cwd,
            sqlalchemy_dotenv: sqlalchemy,
        };
        resolve(raw, &cx)
    }

    pub fn ok(raw: &str, env: &[(&str, &str)]) -> Resolved {
        match resolve_in(raw, Path::new("/work/app"), env, false) {
            Ok(r) => r,
            Err(e) => panic!("{raw}: {e:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn authority_handles_multi_host_and_at_in_password() {
        let a = authority("u:p@ss@h1:1,h2:2/db?x=1").unwrap();
        assert_eq!(a.user.as_deref(), Some("u"));
        assert_eq!(a.password.as_deref(), Some("p@ss"));
        assert_eq!(a.hosts, "h1:1,h2:2");
        assert_eq!(a.path, Some("db"));
        assert_eq!(a.query, "x=1");
        assert_eq!(
            host_list("h1:1,[::1]:5433,h3").unwrap(),
            vec![
                ("h1".to_string(), Some(1)),
                ("::1".to_string(), Some(5433)),
                ("h3".to_string(), None)
            ]
        );
        assert!(host_list("h:99999").is_err());
    }

    #[test]
    fn framework_aliases() {
        assert_eq!(ok("pgsql://u@h/d", &[]).url, "postgres://u@h:5432/d");
        assert_eq!(ok("mysql2://u@h/d", &[]).url, "mysql://u@h:3306/d");
        assert_eq!(
            ok("sqlite3:db/development.sqlite3", &[]).url,
            "sqlite:/work/app/db/development.sqlite3"
        );
    }

    #[test]
    fn encode_roundtrips() {
        let s = "p@ss:w/rd%é ";
        assert_eq!(decode(&encode(s)).unwrap(), s);
        assert!(decode("%zz").is_err());
    }

    #[test]
    fn unknown_schemes_are_refused_without_echo() {
        let e = resolve_in("oracle://u:s3cret@h/db", Path::new("/"), &[], false).unwrap_err();
        assert!(!e.message.contains("s3cret"));
    }

    #[test]
    fn sqlalchemy_app_markers() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!sqlalchemy_app(dir.path()));
        std::fs::write(
            dir.path().join("requirements-prod.txt"),
            "Flask-SQLAlchemy==3\n",
        )
        .unwrap();
        assert!(sqlalchemy_app(dir.path()));
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("pyproject.toml"), "[project]\nname='x'\n").unwrap();
        assert!(!sqlalchemy_app(other.path()));
        std::fs::write(other.path().join("alembic.ini"), "").unwrap();
        assert!(sqlalchemy_app(other.path()));
        let _ = ok("sqlite::memory:", &[]);
    }
}
