//! SQLite spellings, each resolved to `sqlite:` + an absolute path:
//!
//! | spelling | file |
//! | --- | --- |
//! | `sqlite:app.db`, `sqlite://app.db` (keel, sqlx) | `app.db` in the working dir |
//! | `sqlite:///abs/app.db` (keel, sqlx) | `/abs/app.db` |
//! | `sqlite+pysqlite:///app.db`, or `sqlite:///app.db` from a `.env` of an SQLAlchemy app | `app.db` in the working dir |
//! | `sqlite:////abs/app.db` (SQLAlchemy) | `/abs/app.db` |
//! | `file:./dev.db` (Prisma) | next to `prisma/schema.prisma` when it exists, else the working dir |
//! | `jdbc:sqlite:app.db` | `app.db` in the working dir |
//!
//! `sqlite::memory:`, `sqlite://` and `sqlite+driver://` (SQLAlchemy) are
//! an in-memory database.

use super::{Context, Invalid, Resolved};
use crate::settings::Engine;
use std::path::{Component, Path, PathBuf};

pub const MEMORY: &str = ":memory:";

/// `sqlite:` and `sqlite+driver:` URLs.
pub(crate) fn url(raw: &str, cx: &Context) -> Result<Resolved, Invalid> {
    let (scheme, rest) = raw.split_once(':').unwrap_or((raw, ""));
    let driver = scheme.split_once('+').map(|(_, d)| d.to_string());
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut notes = Vec::new();
    let sqlalchemy = driver.is_some() || cx.sqlalchemy_dotenv;
    let path = if sqlalchemy {
        // SQLAlchemy: `sqlite://` + `/` + the path, relative unless it
        // starts with another `/`
        match rest.strip_prefix("//") {
            Some("") => MEMORY.to_string(),
            Some(p) => {
                let p = p.strip_prefix('/').ok_or_else(|| {
                    Invalid::new(
                        "an SQLAlchemy SQLite URL needs three slashes before the file: sqlite:///relative.db or sqlite:////absolute.db",
                        None,
                    )
                })?;
                p.to_string()
            }
            None => rest.to_string(),
        }
    } else {
        rest.strip_prefix("//").unwrap_or(rest).to_string()
    };
    if let Some(d) = &driver {
        notes.push(format!(
            "`sqlite+{d}` is SQLAlchemy's spelling: the path after `sqlite:///` is relative to the working directory, `sqlite:////` starts an absolute path"
        ));
    } else if sqlalchemy && !path.starts_with('/') && path != MEMORY {
        notes.push(
            "read as SQLAlchemy means it (the .env is an SQLAlchemy app's): `sqlite:///` is followed by a path relative to the working directory"
                .to_string(),
        );
    }
    if !query.is_empty() {
        notes.push(ignored_query());
    }
    finish(&decode_path(&path)?, cx.cwd, notes)
}

/// Prisma's `file:./dev.db`: relative to the folder of
/// `prisma/schema.prisma` when it exists (Prisma's own rule), else to the
/// working directory.
pub(crate) fn prisma(raw: &str, cx: &Context) -> Result<Resolved, Invalid> {
    let rest = raw.get("file:".len()..).unwrap_or("");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = path.strip_prefix("//").unwrap_or(path);
    let mut notes = Vec::new();
    let schema_dir = cx.cwd.join("prisma");
    let base = if schema_dir.join("schema.prisma").is_file() {
        notes.push(
            "Prisma `file:` path read relative to prisma/ (where schema.prisma is), as Prisma does"
                .to_string(),
        );
        schema_dir
    } else {
        cx.cwd.to_path_buf()
    };
    if !query.is_empty() {
        notes.push(ignored_query());
    }
    finish(&decode_path(path)?, &base, notes)
}

/// `jdbc:sqlite:path` (what follows `jdbc:sqlite:`).
pub(crate) fn jdbc(tail: &str, cx: &Context) -> Result<Resolved, Invalid> {
    let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
    let path = path.strip_prefix("file:").unwrap_or(path);
    let notes = if query.is_empty() {
        Vec::new()
    } else {
        vec![ignored_query()]
    };
    finish(path, cx.cwd, notes)
}

fn ignored_query() -> String {
    "ignored the SQLite URL's parameters (after `?`): keel opens the file read-write and sets its own busy timeout".to_string()
}

fn decode_path(p: &str) -> Result<String, Invalid> {
    if p.contains('%') {
        super::decode(p)
    } else {
        Ok(p.to_string())
    }
}

fn finish(path: &str, base: &Path, notes: Vec<String>) -> Result<Resolved, Invalid> {
    if path == MEMORY {
        return Ok(Resolved {
            engine: Engine::Sqlite,
            url: format!("sqlite:{MEMORY}"),
            description: "SQLite in memory".to_string(),
            notes,
        });
    }
    if path.is_empty() {
        return Err(Invalid::new(
            "the SQLite URL names no file",
            Some("use sqlite:path/to/file.db or sqlite::memory:"),
        ));
    }
    let abs = normalize(&base.join(path));
    let shown = abs.display().to_string();
    Ok(Resolved {
        engine: Engine::Sqlite,
        url: format!("sqlite:{shown}"),
        description: format!("SQLite file {shown}"),
        notes,
    })
}

/// `a/./b/../c` → `a/c`, without touching the file system (the file may
/// not exist yet).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use std::path::Path;

    fn file(raw: &str, sqlalchemy: bool) -> String {
        resolve_in(raw, Path::new("/work/app"), &[], sqlalchemy)
            .unwrap()
            .url
    }

    #[test]
    fn keel_and_sqlx_meaning() {
        assert_eq!(file("sqlite:keel.db", false), "sqlite:/work/app/keel.db");
        assert_eq!(file("sqlite://a/b.db", false), "sqlite:/work/app/a/b.db");
        assert_eq!(file("sqlite:///data/app.db", false), "sqlite:/data/app.db");
        assert_eq!(file("sqlite:./x/../y.db", false), "sqlite:/work/app/y.db");
        assert_eq!(file("sqlite::memory:", false), "sqlite::memory:");
        assert_eq!(
            file("sqlite:app.db?mode=rwc", false),
            "sqlite:/work/app/app.db"
        );
    }

    #[test]
    fn sqlalchemy_meaning() {
        assert_eq!(
            file("sqlite+pysqlite:///data/app.db", false),
            "sqlite:/work/app/data/app.db"
        );
        assert_eq!(
            file("sqlite+aiosqlite:////srv/app.db", false),
            "sqlite:/srv/app.db"
        );
        assert_eq!(
            file("sqlite:///data/app.db", true),
            "sqlite:/work/app/data/app.db"
        );
        assert_eq!(file("sqlite:////abs.db", true), "sqlite:/abs.db");
        assert_eq!(file("sqlite+pysqlite://", false), "sqlite::memory:");
        assert!(resolve_in("sqlite+pysqlite://x.db", Path::new("/"), &[], false).is_err());
        let r = resolve_in("sqlite+pysqlite:///a.db", Path::new("/w"), &[], false).unwrap();
        assert_eq!(r.description, "SQLite file /w/a.db");
        assert_eq!(r.notes.len(), 1);
    }

    #[test]
    fn prisma_file_is_relative_to_the_schema_folder() {
        let dir = tempfile::tempdir().unwrap();
        let at = |raw: &str| resolve_in(raw, dir.path(), &[], false).unwrap().url;
        let root = dir.path().display().to_string();
        assert_eq!(at("file:./dev.db"), format!("sqlite:{root}/dev.db"));
        std::fs::create_dir(dir.path().join("prisma")).unwrap();
        std::fs::write(dir.path().join("prisma/schema.prisma"), "").unwrap();
        assert_eq!(at("file:./dev.db"), format!("sqlite:{root}/prisma/dev.db"));
        assert_eq!(at("file:/abs/dev.db"), "sqlite:/abs/dev.db");
    }

    #[test]
    fn jdbc_sqlite() {
        assert_eq!(file("jdbc:sqlite:app.db", false), "sqlite:/work/app/app.db");
        assert_eq!(file("jdbc:sqlite:/x/app.db", false), "sqlite:/x/app.db");
        assert_eq!(file("jdbc:sqlite::memory:", false), "sqlite::memory:");
        assert!(resolve_in("sqlite:", Path::new("/"), &[], false).is_err());
    }
}
