//! Settings resolved once, before any command runs: the database URL (flag,
//! then `DATABASE_URL`, then `.env`, then `keel.toml`, then the embedded
//! default `sqlite:keel.db`), the migrations folder, the tracking table name
//! and the lock timeout; plus [`DatabaseUrl`], which never shows a password.

use crate::connstr;
use crate::error::{Error, Result};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_URL: &str = "sqlite:keel.db";
pub const DEFAULT_TABLE: &str = "keel_migrations";
pub const DEFAULT_MIGRATIONS: &str = "migrations";
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(300);
pub const CONFIG_FILE: &str = "keel.toml";

/// The database engine a URL selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Sqlite,
    Postgres,
    Mysql,
}

/// A database URL in its canonical form (see [`crate::connstr`]), with a
/// description of what it resolved to. `Display` and `Debug` redact the
/// password; only the backends see the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    engine: Engine,
    description: String,
    notes: Vec<String>,
}

impl DatabaseUrl {
    /// Resolves any accepted spelling (see [`crate::connstr`]) with the
    /// process environment, relative paths from the working directory.
    pub fn parse(raw: &str) -> Result<DatabaseUrl> {
        let cwd = std::env::current_dir().unwrap_or_default();
        let env = |k: &str| std::env::var(k).ok();
        DatabaseUrl::parse_in(
            raw,
            &connstr::Context {
                env: &env,
                cwd: &cwd,
                sqlalchemy_dotenv: false,
            },
        )
    }

    /// [`DatabaseUrl::parse`] with the environment and folder given.
    pub fn parse_in(raw: &str, cx: &connstr::Context) -> Result<DatabaseUrl> {
        crate::secrets::register_in(raw.trim());
        connstr::resolve(raw, cx)
            .map(DatabaseUrl::from)
            .map_err(invalid)
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted(&self) -> String {
        redact(&self.raw)
    }

    /// What the URL resolved to, e.g. "PostgreSQL db `app` on
    /// db.internal:5432 as user app" or "SQLite file /srv/app.db".
    pub fn description(&self) -> &str {
        &self.description
    }

    /// What resolution translated, dropped or read from elsewhere (the
    /// libpq environment, `~/.pgpass`, `~/.my.cnf`), one sentence each.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The URL with its secret, for the backends only.
    pub(crate) fn expose(&self) -> &str {
        &self.raw
    }

    /// The same server and settings, another database (a server URL; for
    /// SQLite, `None`). Works on the canonical form, so on multi-host URLs
    /// too, which the url crate refuses.
    pub fn with_database(&self, name: &str) -> Option<DatabaseUrl> {
        if self.engine == Engine::Sqlite {
            return None;
        }
        let start = self.raw.find("://")? + 3;
        // the canonical userinfo is percent-encoded: the first `/` after
        // the last `@` starts the database
        let hosts = self.raw.get(start..)?;
        let at = hosts.rfind('@').map(|i| i + 1).unwrap_or(0);
        let slash = start + at + hosts.get(at..)?.find('/')?;
        let end = self.raw.find('?').unwrap_or(self.raw.len());
        let raw = format!(
            "{}/{}{}",
            self.raw.get(..slash)?,
            connstr::encode(name),
            self.raw.get(end..)?
        );
        Some(DatabaseUrl {
            raw,
            description: self.description.replacen(
                &format!("db `{}`", self.database_name()?),
                &format!("db `{name}`"),
                1,
            ),
            ..self.clone()
        })
    }

    fn database_name(&self) -> Option<&str> {
        let d = self.description.split_once("db `")?.1;
        d.split_once('`').map(|(n, _)| n)
    }

    /// For `sqlite:` URLs: the file path, or `:memory:`.
    pub fn sqlite_path(&self) -> Option<&str> {
        (self.engine == Engine::Sqlite).then(|| sqlite_path(&self.raw))
    }
}

impl From<connstr::Resolved> for DatabaseUrl {
    fn from(r: connstr::Resolved) -> Self {
        // a password from the environment, ~/.pgpass or ~/.my.cnf is as
        // secret as one in the URL
        crate::secrets::register_in(&r.url);
        DatabaseUrl {
            raw: r.url,
            engine: r.engine,
            description: r.description,
            notes: r.notes,
        }
    }
}

fn invalid(e: connstr::Invalid) -> Error {
    Error::InvalidInput {
        message: e.message,
        hint: e.hint,
    }
}

fn sqlite_path(raw: &str) -> &str {
    let rest = &raw["sqlite:".len().min(raw.len())..];
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    rest.split('?').next().unwrap_or(rest)
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

/// One value (a URL, an argument) with every password hidden (see
/// [`crate::secrets::scrub_value`]: the value read as one URL first, then
/// the one redaction routine for running text, which knows every password
/// keel has learnt).
pub fn redact(raw: &str) -> String {
    crate::secrets::scrub_value(raw)
}

/// Where the database URL came from, reported by every command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UrlSource {
    Flag,
    Environment,
    DotEnv,
    ConfigFile,
    /// No URL anywhere, but `PGHOST` or `PGDATABASE` is set: libpq's
    /// environment names the database.
    PgEnvironment,
    Default,
}

impl UrlSource {
    pub fn describe(self) -> &'static str {
        match self {
            UrlSource::Flag => "--database-url",
            UrlSource::Environment => "DATABASE_URL",
            UrlSource::DotEnv => "DATABASE_URL in .env",
            UrlSource::ConfigFile => "keel.toml",
            UrlSource::PgEnvironment => "PGHOST/PGDATABASE in the environment",
            UrlSource::Default => "the default",
        }
    }
}

/// `keel.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub database_url: Option<String>,
    pub migrations: Option<PathBuf>,
    pub table: Option<String>,
    /// Seconds to wait for another runner's lock.
    pub lock_timeout: Option<f64>,
    /// The migrations folder's layout: `auto` (the default), `keel`,
    /// `sqlx`, `diesel`, `golang-migrate`, `dbmate`, `goose`, `flyway`, `prisma`.
    pub layout: Option<String>,
}

/// What the command line says; `None` means "not given".
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub migrations: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub table: Option<String>,
    pub lock_timeout: Option<f64>,
    /// `--layout NAME`.
    pub layout: Option<String>,
}

/// Fully resolved settings.
#[derive(Clone, Debug)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub url_source: UrlSource,
    pub migrations_dir: PathBuf,
    pub table: String,
    pub lock_timeout: Duration,
    /// The migrations folder's layout; `None`: detected from its files.
    pub layout: Option<crate::source::Layout>,
}

/// The longest lock wait keel accepts: 7 days.
pub const MAX_LOCK_TIMEOUT_SECS: f64 = 7.0 * 24.0 * 3600.0;

impl Settings {
    /// Resolves settings from flags, the process environment, `.env` and
    /// `keel.toml` in `cwd`.
    pub fn resolve(overrides: &Overrides, cwd: &Path) -> Result<Settings> {
        Settings::resolve_with(overrides, cwd, |k| std::env::var(k).ok())
    }

    /// [`Settings::resolve`] with the environment given, for tests.
    pub fn resolve_with(
        overrides: &Overrides,
        cwd: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings> {
        let config = load_config(overrides.config.as_deref(), cwd)?;
        let empty = |source: &str| {
            Error::invalid(
                format!("{source} is set but empty"),
                Some(
                    "give it a database URL (e.g. sqlite:app.db or postgres://user@host/db), or unset it to use the next source",
                ),
            )
        };
        let (url, url_source) = if let Some(u) = &overrides.database_url {
            if u.trim().is_empty() {
                return Err(empty("--database-url"));
            }
            (u.clone(), UrlSource::Flag)
        } else if let Some(u) = env("DATABASE_URL") {
            if u.trim().is_empty() {
                return Err(empty("DATABASE_URL"));
            }
            (u, UrlSource::Environment)
        } else if let Some(u) = dotenv_url(cwd)? {
            (u, UrlSource::DotEnv)
        } else if let Some(u) = &config.database_url {
            (u.clone(), UrlSource::ConfigFile)
        } else if connstr::libpq::env_names_a_database(&env) {
            (String::new(), UrlSource::PgEnvironment)
        } else {
            (DEFAULT_URL.to_string(), UrlSource::Default)
        };
        let cx = connstr::Context {
            env: &env,
            cwd,
            sqlalchemy_dotenv: url_source == UrlSource::DotEnv && connstr::sqlalchemy_app(cwd),
        };
        let resolved = match url_source {
            UrlSource::PgEnvironment => connstr::libpq::keywords("", &cx),
            _ => {
                crate::secrets::register_in(url.trim());
                connstr::resolve(&url, &cx)
            }
        };
        let database_url = resolved
            .map(DatabaseUrl::from)
            .map_err(|e| Error::InvalidInput {
                message: format!("{} (from {})", e.message, where_from(url_source, cwd)),
                hint: e.hint,
            })?;
        let migrations_dir = overrides
            .migrations
            .clone()
            .or(config.migrations)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_MIGRATIONS));
        let migrations_dir = if migrations_dir.is_absolute() {
            migrations_dir
        } else {
            cwd.join(migrations_dir)
        };
        let table = overrides
            .table
            .clone()
            .or(config.table)
            .unwrap_or_else(|| DEFAULT_TABLE.to_string());
        if table.is_empty() || table.len() > 63 {
            return Err(Error::invalid(
                format!("tracking table name `{table}` must be 1 to 63 characters"),
                None,
            ));
        }
        let lock_timeout = match overrides.lock_timeout.or(config.lock_timeout) {
            Some(s) if s.is_finite() && (0.0..=MAX_LOCK_TIMEOUT_SECS).contains(&s) => {
                Duration::from_secs_f64(s)
            }
            Some(s) => {
                return Err(Error::invalid(
                    format!(
                        "lock timeout {s} is not a number of seconds from 0 to {MAX_LOCK_TIMEOUT_SECS} (7 days)"
                    ),
                    Some("give --lock-timeout (or lock_timeout in keel.toml) in seconds, e.g. 300"),
                ));
            }
            None => DEFAULT_LOCK_TIMEOUT,
        };
        let layout = match overrides.layout.as_ref().or(config.layout.as_ref()) {
            Some(name) => crate::source::Layout::parse(name)?,
            None => None,
        };
        Ok(Settings {
            database_url,
            url_source,
            migrations_dir,
            table,
            lock_timeout,
            layout,
        })
    }
}

/// The source of a URL for an error message: for `.env`, with the line
/// number of `DATABASE_URL` (never the line itself: it holds the secret).
fn where_from(source: UrlSource, cwd: &Path) -> String {
    if source != UrlSource::DotEnv {
        return source.describe().to_string();
    }
    let path = cwd.join(".env");
    let line = std::fs::read_to_string(&path).ok().and_then(|text| {
        text.lines()
            .enumerate()
            .filter(|(_, l)| {
                let l = l.trim_start();
                let l = l.strip_prefix("export ").unwrap_or(l).trim_start();
                l.strip_prefix("DATABASE_URL")
                    .is_some_and(|r| r.trim_start().starts_with('='))
            })
            .map(|(i, _)| i + 1)
            .next()
    });
    match line {
        Some(n) => format!("DATABASE_URL in {} line {n}", path.display()),
        None => format!("DATABASE_URL in {}", path.display()),
    }
}

fn load_config(explicit: Option<&Path>, cwd: &Path) -> Result<ConfigFile> {
    let path = match explicit {
        Some(p) => cwd.join(p),
        None => {
            let p = cwd.join(CONFIG_FILE);
            if !p.exists() {
                return Ok(ConfigFile::default());
            }
            p
        }
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&shown, e))?;
    toml::from_str(&text).map_err(|e| crate::secrets::files::toml_error(&shown, &text, &e))
}

fn dotenv_url(cwd: &Path) -> Result<Option<String>> {
    let path = cwd.join(".env");
    if !path.exists() {
        return Ok(None);
    }
    // never echoes a line of the file: it holds secrets
    crate::secrets::files::dotenv_database_url(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_everywhere() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/prod"),
            "postgres://app:***@db:5432/prod"
        );
        assert!(!redact("mysql://root:hunter2@h/db?password=hunter2").contains("hunter2"));
        assert!(!redact("postgres://u:p@ss:w@rd@[bad/x").contains("ss:w"));
        assert_eq!(redact("sqlite:keel.db"), "sqlite:keel.db");
    }

    #[test]
    fn engines_by_scheme() {
        assert_eq!(
            DatabaseUrl::parse("sqlite::memory:").unwrap().sqlite_path(),
            Some(":memory:")
        );
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            DatabaseUrl::parse("sqlite://a/b.db").unwrap().sqlite_path(),
            Some(cwd.join("a/b.db").to_str().unwrap())
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/d").unwrap().engine(),
            Engine::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("mariadb://u@h/d").unwrap().engine(),
            Engine::Mysql
        );
        assert!(DatabaseUrl::parse("oracle://u@h/d").is_err());
        assert!(DatabaseUrl::parse("postgres://u@h").is_err());
    }

    #[test]
    fn another_database_on_the_same_servers() {
        let url =
            DatabaseUrl::parse("postgres://u:p%40s@h1:1,h2:2/app?target_session_attrs=read-write")
                .unwrap();
        let other = url.with_database("scratch_1").unwrap();
        assert_eq!(
            other.expose(),
            "postgres://u:p%40s@h1:1,h2:2/scratch_1?target_session_attrs=read-write"
        );
        assert!(
            other
                .description()
                .starts_with("PostgreSQL db `scratch_1` on h1:1 or h2:2")
        );
        let my = DatabaseUrl::parse("mysql://r@h/app").unwrap();
        assert_eq!(
            my.with_database("x").unwrap().expose(),
            "mysql://r@h:3306/x"
        );
        assert!(
            DatabaseUrl::parse("sqlite::memory:")
                .unwrap()
                .with_database("x")
                .is_none()
        );
    }

    #[test]
    fn resolution_order_flag_env_dotenv_config_default() {
        let dir = std::env::temp_dir().join(format!("keel-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let none = |_: &str| None;
        let s = Settings::resolve_with(&Overrides::default(), &dir, none).unwrap();
        assert_eq!(
            (s.database_url.redacted().as_str(), s.url_source),
            (
                format!("sqlite:{}/keel.db", dir.display()).as_str(),
                UrlSource::Default
            )
        );
        std::fs::write(
            dir.join("keel.toml"),
            "database_url = \"sqlite:from-config.db\"\n",
        )
        .unwrap();
        let s = Settings::resolve_with(&Overrides::default(), &dir, none).unwrap();
        assert_eq!(s.url_source, UrlSource::ConfigFile);
        std::fs::write(dir.join(".env"), "DATABASE_URL=sqlite:from-dotenv.db\n").unwrap();
        let s = Settings::resolve_with(&Overrides::default(), &dir, none).unwrap();
        assert_eq!(s.url_source, UrlSource::DotEnv);
        let env = |k: &str| (k == "DATABASE_URL").then(|| "sqlite:env.db".to_string());
        let s = Settings::resolve_with(&Overrides::default(), &dir, env).unwrap();
        assert_eq!(s.url_source, UrlSource::Environment);
        let flag = Overrides {
            database_url: Some("sqlite:flag.db".into()),
            ..Overrides::default()
        };
        let s = Settings::resolve_with(&flag, &dir, env).unwrap();
        assert_eq!(
            (s.database_url.redacted().as_str(), s.url_source),
            (
                format!("sqlite:{}/flag.db", dir.display()).as_str(),
                UrlSource::Flag
            )
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
