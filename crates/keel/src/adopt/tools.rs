//! What each tool keeps in its history table, and how keel reads it (the
//! tables as the tools create them by default; see
//! `/work/shared/research/wave2.md` (d) and each tool's source named below).

use super::read::{Reader, TextRow, hex_of, truthy, ts};
use crate::db::sql::Ident;
use crate::error::{Error, Result};
use serde::Serialize;

/// A tool whose history keel can import.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    Sqlx,
    Diesel,
    GolangMigrate,
    Dbmate,
    Goose,
    Flyway,
    Prisma,
    Alembic,
    Rails,
}

impl Tool {
    pub const ALL: [Tool; 9] = [
        Tool::Sqlx,
        Tool::Diesel,
        Tool::GolangMigrate,
        Tool::Dbmate,
        Tool::Goose,
        Tool::Flyway,
        Tool::Prisma,
        Tool::Alembic,
        Tool::Rails,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tool::Sqlx => "sqlx",
            Tool::Diesel => "diesel",
            Tool::GolangMigrate => "golang-migrate",
            Tool::Dbmate => "dbmate",
            Tool::Goose => "goose",
            Tool::Flyway => "flyway",
            Tool::Prisma => "prisma",
            Tool::Alembic => "alembic",
            Tool::Rails => "rails",
        }
    }

    /// `--from NAME`; `auto` is `None`.
    pub fn parse(name: &str) -> Result<Option<Tool>> {
        let wanted = name.trim().to_ascii_lowercase();
        if wanted == "auto" {
            return Ok(None);
        }
        Tool::ALL
            .into_iter()
            .find(|t| t.as_str() == wanted || (wanted == "migrate" && *t == Tool::GolangMigrate))
            .map(Some)
            .ok_or_else(|| {
                Error::invalid(
                    format!("unknown tool `{name}`"),
                    Some(&format!(
                        "use auto or one of {}",
                        Tool::ALL.map(Tool::as_str).join(", ")
                    )),
                )
            })
    }

    /// The history table the tool creates by default.
    pub fn table(self) -> &'static str {
        match self {
            Tool::Sqlx => "_sqlx_migrations",
            Tool::Diesel => "__diesel_schema_migrations",
            Tool::GolangMigrate | Tool::Dbmate | Tool::Rails => "schema_migrations",
            Tool::Goose => "goose_db_version",
            Tool::Flyway => "flyway_schema_history",
            Tool::Prisma => "_prisma_migrations",
            Tool::Alembic => "alembic_version",
        }
    }
}

impl std::fmt::Display for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an entry names its migration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    Version(i64),
    /// Flyway's `script`: the file name.
    Script(String),
    /// Prisma's `migration_name`: the folder name.
    Folder(String),
    /// Alembic's revision id, found in a file's name.
    Revision(String),
    /// A Flyway version (a baseline's), mapped as the folder maps its own.
    FlywayVersion(String),
}

/// The checksum the tool recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Recorded {
    Sqlx(String),
    Flyway(i32),
    Prisma(String),
}

/// One migration (or, with `up_to`, everything up to one) in another tool's history.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub key: Key,
    /// The version as the tool stores it, for messages.
    pub original: String,
    /// The tool keeps only its current version: every migration up to this
    /// one is applied (golang-migrate, Alembic, a Flyway baseline).
    pub up_to: bool,
    pub applied_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub user: Option<String>,
    pub success: bool,
    /// Why it counts as failed, in the tool's terms.
    pub failure: Option<String>,
    pub checksum: Option<Recorded>,
}

impl Entry {
    fn new(key: Key, original: &str) -> Entry {
        Entry {
            key,
            original: original.to_string(),
            up_to: false,
            applied_at: None,
            duration_ms: None,
            user: None,
            success: true,
            failure: None,
            checksum: None,
        }
    }
}

/// What keel read from the other tool's table.
#[derive(Clone, Debug)]
pub(crate) struct History {
    pub tool: Tool,
    pub table: String,
    pub entries: Vec<Entry>,
    /// Rows keel leaves out, and why.
    pub notes: Vec<String>,
}

fn col(row: &TextRow, i: usize) -> Option<&str> {
    row.get(i).and_then(|v| v.as_deref())
}

fn int(row: &TextRow, i: usize) -> Option<i64> {
    col(row, i).and_then(|v| v.trim().parse().ok())
}

fn version_key(v: &str, tool: Tool) -> Result<Key> {
    let digits: String = v.chars().filter(|c| *c != '-').collect();
    digits.trim().parse().map(Key::Version).map_err(|_| {
        Error::invalid(
            format!(
                "{tool} recorded version `{v}`, which is not a number keel can match to a file"
            ),
            None,
        )
    })
}

/// Which tool's table this database holds; an error when none or several.
pub(crate) async fn detect(reader: &mut Reader) -> Result<Tool> {
    let tables = reader.tables().await?;
    let has = |name: &str| tables.iter().any(|t| t.eq_ignore_ascii_case(name));
    let mut found = Vec::new();
    for tool in [
        Tool::Sqlx,
        Tool::Diesel,
        Tool::Goose,
        Tool::Flyway,
        Tool::Prisma,
        Tool::Alembic,
    ] {
        if has(tool.table()) {
            found.push(tool);
        }
    }
    if has("schema_migrations") {
        let columns = reader.columns("schema_migrations").await?;
        found.push(if columns.iter().any(|c| c == "dirty") {
            Tool::GolangMigrate
        } else if has("ar_internal_metadata") {
            Tool::Rails
        } else {
            Tool::Dbmate
        });
    }
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(Error::invalid(
            "no other tool's history table in this database",
            Some(&format!(
                "looked for {}; give --from TOOL if the table has another name in another schema",
                Tool::ALL.map(Tool::table).join(", ")
            )),
        )),
        many => Err(Error::invalid(
            format!(
                "several tools' history tables: {}",
                many.iter()
                    .map(|t| format!("{} ({t})", t.table()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some("choose one with --from TOOL"),
        )),
    }
}

/// Reads `tool`'s history; the table must exist.
pub(crate) async fn read(reader: &mut Reader, tool: Tool) -> Result<History> {
    let d = reader.dialect();
    let table = tool.table();
    let exists = reader
        .tables()
        .await?
        .iter()
        .any(|t| t.eq_ignore_ascii_case(table));
    if !exists {
        return Err(Error::invalid(
            format!("{tool}'s history table {table} does not exist in this database"),
            Some("check --database-url, or try --from auto"),
        ));
    }
    let t = Ident::new(table).quoted(d);
    let what = format!("{tool}'s history table {table}");
    let mut history = History {
        tool,
        table: table.to_string(),
        entries: Vec::new(),
        notes: Vec::new(),
    };
    match tool {
        // sqlx-postgres/src/migrate.rs: version BIGINT, description, installed_on,
        // success, checksum BYTEA (SHA-384), execution_time BIGINT (ns)
        Tool::Sqlx => {
            let sql = format!(
                "SELECT version, description, {}, success, {}, execution_time FROM {t} ORDER BY version",
                ts(d, "installed_on"),
                hex_of(d, "checksum")
            );
            for r in reader.rows(&sql, &what).await? {
                let v = col(&r, 0).unwrap_or_default();
                let mut e = Entry::new(version_key(v, tool)?, v);
                e.applied_at = col(&r, 2).map(str::to_string);
                e.success = truthy(col(&r, 3));
                if !e.success {
                    e.failure = Some("sqlx recorded success = false".into());
                }
                e.checksum = col(&r, 4).map(|c| Recorded::Sqlx(c.to_string()));
                e.duration_ms = int(&r, 5).map(|ns| (ns.max(0)) / 1_000_000);
                history.entries.push(e);
            }
        }
        // migrations_internals: version VARCHAR(50), run_on TIMESTAMP
        Tool::Diesel => {
            let sql = format!(
                "SELECT version, {} FROM {t} ORDER BY version",
                ts(d, "run_on")
            );
            for r in reader.rows(&sql, &what).await? {
                let v = col(&r, 0).unwrap_or_default();
                let mut e = Entry::new(version_key(v, tool)?, v);
                e.applied_at = col(&r, 1).map(str::to_string);
                history.entries.push(e);
            }
        }
        // golang-migrate database/postgres: version bigint, dirty boolean; one row
        Tool::GolangMigrate => {
            let sql = format!("SELECT version, dirty FROM {t}");
            for r in reader.rows(&sql, &what).await? {
                let v = col(&r, 0).unwrap_or_default();
                let mut e = Entry::new(version_key(v, tool)?, v);
                e.up_to = true;
                e.success = !truthy(col(&r, 1));
                if !e.success {
                    e.failure =
                        Some("golang-migrate marked the database dirty at this version".into());
                }
                history.entries.push(e);
            }
        }
        // dbmate and Rails: version varchar, one row per applied migration
        Tool::Dbmate | Tool::Rails => {
            let sql = format!("SELECT version FROM {t} ORDER BY version");
            for r in reader.rows(&sql, &what).await? {
                let v = col(&r, 0).unwrap_or_default();
                history.entries.push(Entry::new(version_key(v, tool)?, v));
            }
        }
        // goose: id, version_id, is_applied, tstamp; the newest row per version wins
        Tool::Goose => {
            let sql = format!(
                "SELECT version_id, is_applied, {} FROM {t} ORDER BY id",
                ts(d, "tstamp")
            );
            let mut latest: std::collections::BTreeMap<i64, Entry> = Default::default();
            for r in reader.rows(&sql, &what).await? {
                let v = col(&r, 0).unwrap_or_default();
                let Key::Version(n) = version_key(v, tool)? else {
                    continue;
                };
                if n == 0 {
                    continue; // goose's own first row
                }
                if truthy(col(&r, 1)) {
                    let mut e = Entry::new(Key::Version(n), v);
                    e.applied_at = col(&r, 2).map(str::to_string);
                    latest.insert(n, e);
                } else {
                    latest.remove(&n);
                }
            }
            history.entries.extend(latest.into_values());
        }
        // Flyway: installed_rank, version, description, type, script,
        // checksum (CRC32), installed_by, installed_on, execution_time (ms), success
        Tool::Flyway => {
            let sql = format!(
                "SELECT installed_rank, version, description, type, script, checksum, installed_by, {}, execution_time, success FROM {t} ORDER BY installed_rank",
                ts(d, "installed_on")
            );
            let mut current: Vec<Entry> = Vec::new();
            for r in reader.rows(&sql, &what).await? {
                let version = col(&r, 1);
                let kind = col(&r, 3).unwrap_or_default().to_ascii_uppercase();
                let script = col(&r, 4).unwrap_or_default().to_string();
                match (kind.as_str(), version) {
                    ("SCHEMA" | "DELETE", _) => continue,
                    (_, None) => {
                        // a repeatable: its newest successful run counts
                        current.retain(|e| e.original != script);
                        let mut e = Entry::new(Key::Script(script.clone()), &script);
                        e.user = col(&r, 6).map(str::to_string);
                        e.applied_at = col(&r, 7).map(str::to_string);
                        e.duration_ms = int(&r, 8);
                        e.success = truthy(col(&r, 9));
                        if !e.success {
                            e.failure = Some("Flyway recorded success = 0".into());
                        }
                        e.checksum = int(&r, 5)
                            .and_then(|c| i32::try_from(c).ok())
                            .map(Recorded::Flyway);
                        current.push(e);
                        continue;
                    }
                    ("UNDO_SQL" | "UNDO_JDBC", Some(v)) => {
                        if truthy(col(&r, 9)) {
                            current.retain(|e| e.original != v);
                        }
                        continue;
                    }
                    _ => {}
                }
                let v = version.unwrap_or_default();
                current.retain(|e| e.original != v);
                let baseline = kind == "BASELINE";
                let mut e = Entry::new(
                    if baseline {
                        Key::FlywayVersion(v.to_string())
                    } else {
                        Key::Script(script.clone())
                    },
                    v,
                );
                e.up_to = baseline;
                e.user = col(&r, 6).map(str::to_string);
                e.applied_at = col(&r, 7).map(str::to_string);
                e.duration_ms = int(&r, 8);
                e.success = truthy(col(&r, 9));
                if !e.success {
                    e.failure = Some("Flyway recorded success = 0".into());
                }
                e.checksum = int(&r, 5)
                    .and_then(|c| i32::try_from(c).ok())
                    .map(Recorded::Flyway);
                current.push(e);
            }
            history.entries = current;
        }
        // prisma-engines schema-engine: id, checksum (SHA-256 hex), finished_at,
        // migration_name, logs, rolled_back_at, started_at, applied_steps_count
        Tool::Prisma => {
            let sql = format!(
                "SELECT migration_name, checksum, {}, {}, CASE WHEN rolled_back_at IS NULL THEN 0 ELSE 1 END, logs FROM {t} ORDER BY started_at",
                ts(d, "finished_at"),
                ts(d, "started_at")
            );
            for r in reader.rows(&sql, &what).await? {
                let name = col(&r, 0).unwrap_or_default().to_string();
                if truthy(col(&r, 4)) {
                    history
                        .notes
                        .push(format!("{name} was rolled back under Prisma; not imported"));
                    continue;
                }
                let mut e = Entry::new(Key::Folder(name.clone()), &name);
                e.checksum = col(&r, 1).map(|c| Recorded::Prisma(c.to_string()));
                e.applied_at = col(&r, 2).or(col(&r, 3)).map(str::to_string);
                e.success = col(&r, 2).is_some();
                if !e.success {
                    e.failure = Some(format!(
                        "Prisma never finished it{}",
                        col(&r, 5)
                            .map(|l| format!(": {}", l.trim()))
                            .unwrap_or_default()
                    ));
                }
                history.entries.push(e);
            }
        }
        // alembic: version_num, the current head(s) only
        Tool::Alembic => {
            let sql = format!("SELECT version_num FROM {t}");
            for r in reader.rows(&sql, &what).await? {
                let v = col(&r, 0).unwrap_or_default().to_string();
                let mut e = Entry::new(Key::Revision(v.clone()), &v);
                e.up_to = true;
                history.entries.push(e);
            }
        }
    }
    Ok(history)
}
