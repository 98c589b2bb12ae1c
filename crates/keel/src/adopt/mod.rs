//! `keel adopt --from TOOL`: imports another migration tool's history into
//! keel's tracking table without running anything, so a team can switch to
//! keel with the production database as it is (incident 5: no hand-made
//! `stamp` that nobody checked).
//!
//! - Rows keep the other tool's applied time, duration and user where it
//!   stored them; `method = adopt`, and `applied_by` says which tool applied
//!   it and who adopted it.
//! - Files are checked against the tool's own checksum where it keeps one
//!   (sqlx, Flyway, Prisma; [`checksum`]); a file edited after it ran is
//!   reported, naming it, before anything is written.
//! - Failed or dirty entries arrive as failures for `keel repair`, never as
//!   applied.
//! - Where the tool keeps only its current version (golang-migrate, Alembic,
//!   a Flyway baseline) every migration up to it is marked, as `stamp`
//!   does, and the report says the contents could not be verified.
//! - The other tool's table is only read. Versions keel already tracks are
//!   left alone, so a second run changes nothing.
//!
//! [`read`] reads the table as text, [`tools`] knows each tool's table, and
//! [`plan`] (pure) decides what to import.

mod checksum;
mod read;
pub mod tools;

use crate::db::Database;
use crate::error::{Error, Result};
use crate::runner::Observer;
use crate::source::{Migration, Migrations};
use crate::tracking::{AppliedMigration, Method, Record, Write};
use serde::Serialize;
use std::path::Path;
pub use tools::Tool;
use tools::{Entry, History, Key, Recorded};

/// How far keel could check a file against the other tool's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verified {
    /// The file matches the checksum the tool recorded.
    Checksum,
    /// The tool records which migrations ran, but keeps no checksum.
    Presence,
    /// The tool keeps only its current version: this one is below it.
    VersionOnly,
}

/// One row adopt imports (or, in a dry run, would).
#[derive(Clone, Debug, Serialize)]
pub struct Imported {
    pub version: i64,
    pub name: String,
    pub file: String,
    /// The version as the other tool stores it.
    pub original: String,
    pub applied_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub success: bool,
    pub error: Option<String>,
    pub verified: Verified,
}

/// What `keel adopt` did or would do.
#[derive(Clone, Debug, Serialize)]
pub struct AdoptReport {
    pub tool: Tool,
    /// The other tool's table, which keel only read.
    pub source_table: String,
    pub dry_run: bool,
    pub imported: Vec<Imported>,
    /// Versions keel's table already had; left as they are.
    pub already_tracked: Vec<i64>,
    /// What keel could not check or left out.
    pub notes: Vec<String>,
}

/// `keel adopt`'s options.
#[derive(Clone, Copy, Debug)]
pub struct AdoptOptions {
    /// `None`: find the tool by its table.
    pub tool: Option<Tool>,
    pub dry_run: bool,
}

/// Another tool's history table left in a database keel manages.
#[derive(Clone, Debug, Serialize)]
pub struct Leftover {
    pub table: String,
    /// The tool, in words.
    pub tool: &'static str,
}

impl Leftover {
    /// The note `status`, `check` and `diff` print: once, never as drift.
    pub fn note(&self) -> String {
        format!(
            "{} is the history table of {}: not part of the schema, never reported as drift (`keel adopt` imports it)",
            self.table, self.tool
        )
    }
}

/// The other tools' history tables in the database at `url` (keel's own
/// table, under whatever name, is not one of them).
pub async fn leftover_tables(url: &crate::DatabaseUrl, keel_table: &str) -> Result<Vec<Leftover>> {
    let known = crate::known::KnownTables::new(keel_table);
    let mut reader = read::Reader::open(url).await?;
    let tables = reader.tables().await;
    reader.close().await?;
    let mut out: Vec<Leftover> = tables?
        .into_iter()
        .filter_map(|table| match known.owner(&table) {
            None | Some(crate::known::Owner::Keel) => None,
            Some(owner) => Some(Leftover {
                table,
                tool: owner.tool(),
            }),
        })
        .collect();
    out.sort_by(|a, b| a.table.cmp(&b.table));
    Ok(out)
}

/// Which tool's history table the database at `url` holds (`--from auto`);
/// an error naming what it looked for when none, or them when several.
pub async fn detect_tool(url: &crate::DatabaseUrl) -> Result<Tool> {
    let mut reader = read::Reader::open(url).await?;
    let tool = tools::detect(&mut reader).await;
    reader.close().await?;
    tool
}

/// Imports the other tool's history of `db` for `migrations`.
pub async fn adopt(
    migrations: &Migrations,
    db: &mut Database,
    options: AdoptOptions,
    observer: Observer<'_>,
) -> Result<AdoptReport> {
    let mut reader = read::Reader::open(db.url()).await?;
    let history = async {
        let tool = match options.tool {
            Some(t) => t,
            None => tools::detect(&mut reader).await?,
        };
        tools::read(&mut reader, tool).await
    }
    .await;
    reader.close().await?;
    let history = history?;
    let dir = Path::new(&migrations.origin);
    let raw = |m: &Migration| raw_file(dir, m);
    if options.dry_run {
        let applied = db.backend.applied().await?;
        return Ok(plan(migrations, &history, &applied, &raw, db.dialect())?.report(&history, true));
    }
    let body = async |db: &mut Database, applied: &[AppliedMigration], _: Observer<'_>| {
        let planned = plan(migrations, &history, applied, &raw, db.dialect())?;
        if !planned.records.is_empty() {
            let by = format!(
                "{}@{}",
                db.backend.user().await?,
                crate::backend::client_host()
            );
            let records = planned
                .records
                .iter()
                .map(|r| Record {
                    applied_by: format!("{} (adopted by {by})", r.applied_by),
                    ..r.clone()
                })
                .collect();
            write_all(db, records).await?;
        }
        Ok(planned.report(&history, false))
    };
    crate::runner::locked(db, observer, body)
        .await
        .map(|(report, _)| report)
}

/// The bytes of a migration's up file as they are on disk (the section
/// markers of one-file layouts stripped from the name); `None` for
/// embedded migrations.
fn raw_file(dir: &Path, m: &Migration) -> Option<Vec<u8>> {
    let path = m.up.file.split(" (").next().unwrap_or(&m.up.file);
    std::fs::read(dir.join(path)).ok()
}

async fn write_all(db: &mut Database, records: Vec<Record>) -> Result<()> {
    if let Err(e) = db.backend.execute("BEGIN").await? {
        return Err(Error::db("starting the adopt transaction", e));
    }
    for r in records {
        if let Err(e) = db.backend.write(&Write::Upsert(Box::new(r))).await {
            let _ = db.backend.execute("ROLLBACK").await;
            return Err(e);
        }
    }
    if let Err(e) = db.backend.execute("COMMIT").await? {
        return Err(Error::db("committing the adopted history", e));
    }
    Ok(())
}

/// What to import: the records, each with how it was verified.
#[derive(Debug)]
pub(crate) struct Plan {
    pub records: Vec<Record>,
    pub imported: Vec<Imported>,
    pub already_tracked: Vec<i64>,
    pub notes: Vec<String>,
}

impl Plan {
    fn report(self, history: &History, dry_run: bool) -> AdoptReport {
        let mut notes = history.notes.clone();
        notes.extend(self.notes);
        AdoptReport {
            tool: history.tool,
            source_table: history.table.clone(),
            dry_run,
            imported: self.imported,
            already_tracked: self.already_tracked,
            notes,
        }
    }
}

/// Decides what to import (pure but for `raw`, which gives a file's bytes
/// for the checksum check). Every edited file and every entry without a
/// file is a problem, and any problem refuses the whole import.
pub(crate) fn plan(
    migrations: &Migrations,
    history: &History,
    applied: &[AppliedMigration],
    raw: &dyn Fn(&Migration) -> Option<Vec<u8>>,
    dialect: crate::Dialect,
) -> Result<Plan> {
    let tool = history.tool;
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    // version → (entry, how verified)
    let mut chosen: std::collections::BTreeMap<i64, (&Migration, &Entry, Verified)> =
        Default::default();
    let dotted = {
        let names: Vec<&str> = migrations.iter().map(|m| m.up.file.as_str()).collect();
        crate::source::layout::flyway::is_dotted(&names)
    };
    for entry in &history.entries {
        let found = match &entry.key {
            Key::Version(v) => migrations.get(*v),
            Key::Script(s) => migrations.iter().find(|m| m.up.file == *s),
            Key::Folder(f) => migrations.iter().find(|m| {
                m.up.file
                    .strip_prefix(f.as_str())
                    .is_some_and(|r| r.starts_with('/'))
            }),
            Key::Revision(r) => migrations
                .iter()
                .find(|m| m.name.contains(r.as_str()) || m.up.file.contains(r.as_str())),
            Key::FlywayVersion(v) => crate::source::layout::flyway::version_parts(v)
                .and_then(|p| crate::source::layout::flyway::map_version(&p, dotted).ok())
                .and_then(|v| migrations.get(v)),
        };
        let Some(m) = found else {
            problems.push(match &entry.key {
                Key::Revision(r) => format!(
                    "Alembic's current revision {r} matches no file (keel looks for the revision id in a file's name): rename that file, or use `keel stamp VERSION`"
                ),
                _ => format!(
                    "{tool} recorded {} but no migration file in {} has it: restore the file, or remove the folder's claim to it",
                    entry.original, migrations.origin
                ),
            });
            continue;
        };
        if entry.up_to {
            for below in migrations.iter().take_while(|b| b.version < m.version) {
                chosen
                    .entry(below.version)
                    .or_insert((below, entry, Verified::VersionOnly));
            }
            chosen.insert(m.version, (m, entry, Verified::VersionOnly));
            continue;
        }
        let verified = match &entry.checksum {
            None => Verified::Presence,
            Some(recorded) => {
                let Some(bytes) = raw(m) else {
                    problems.push(format!(
                        "{}: cannot read the file to check it against {tool}'s checksum",
                        m.up.file
                    ));
                    continue;
                };
                let same = match recorded {
                    Recorded::Sqlx(hex) => checksum::sqlx_matches(&bytes, hex),
                    Recorded::Prisma(hex) => checksum::prisma_matches(&bytes, hex),
                    Recorded::Flyway(crc) => {
                        checksum::flyway(&String::from_utf8_lossy(&bytes)) == *crc
                    }
                };
                if !same {
                    problems.push(format!(
                        "{} was edited after {tool} applied it (its checksum no longer matches {tool}'s record of version {}): restore the file as it ran, or put the change in a new migration",
                        m.up.file, entry.original
                    ));
                    continue;
                }
                Verified::Checksum
            }
        };
        chosen.insert(m.version, (m, entry, verified));
    }
    if !problems.is_empty() {
        return Err(Error::Refused {
            action: format!("adopt {tool}'s history"),
            problems,
            hint: "nothing was written; fix the files named above and run `keel adopt` again"
                .into(),
        });
    }
    if chosen.values().any(|(_, _, v)| *v == Verified::VersionOnly) {
        notes.push(format!(
            "{tool} keeps only its current version: migrations up to it are marked applied, but keel could not verify that their contents are what ran"
        ));
    }
    if chosen.values().any(|(_, _, v)| *v == Verified::Presence) {
        notes.push(format!(
            "{tool} keeps no checksums: keel checked which migrations ran, not that their files are unchanged since"
        ));
    }
    let mut plan = Plan {
        records: Vec::new(),
        imported: Vec::new(),
        already_tracked: Vec::new(),
        notes,
    };
    for (version, (m, entry, verified)) in chosen {
        if applied.iter().any(|a| a.version == version) {
            plan.already_tracked.push(version);
            continue;
        }
        let own = entry.key_matches(m);
        let success = entry.success || !own;
        let error = (!success).then(|| {
            format!(
                "{} (imported by keel adopt, in doubt): `keel repair` shows what the catalog holds and the choices (--mark-applied {version} if it is all there, --mark-rolled-back {version} once nothing of it is left, --retry {version})",
                entry.failure.as_deref().unwrap_or("failed")
            )
        });
        let total = m.up.statements(dialect).len() as i64;
        let applied_by = match &entry.user {
            Some(user) => format!("{user} via {tool}"),
            None => tool.to_string(),
        };
        // The other tool recorded a failure or a dirty state, not how far
        // its statements got: keel cannot know whether they ran, so the
        // record is in doubt from the first statement (never "0 applied",
        // which a plain `keel repair` would clear), and `repair` offers the
        // choices with what the catalog shows.
        plan.records.push(Record {
            version,
            name: m.name.clone(),
            checksum: m.up.checksum.clone(),
            duration_ms: Some(if own {
                entry.duration_ms.unwrap_or(0)
            } else {
                0
            }),
            applied_at: if own { entry.applied_at.clone() } else { None },
            success,
            error: None,
            failed_statement_index: (!success).then_some(1),
            failed_statement: None,
            statements_total: total,
            statements_applied: if success { total } else { 0 },
            applied_by,
            method: Method::Adopt,
            sql: m.up.sql.clone(),
        });
        plan.imported.push(Imported {
            version,
            name: m.name.clone(),
            file: m.up.file.clone(),
            original: if own {
                entry.original.clone()
            } else {
                format!("below {}", entry.original)
            },
            applied_at: if own { entry.applied_at.clone() } else { None },
            duration_ms: if own { entry.duration_ms } else { None },
            success,
            error,
            verified,
        });
    }
    Ok(plan)
}

impl Entry {
    /// Whether this entry is the migration `m` itself (not one below it).
    fn key_matches(&self, m: &Migration) -> bool {
        match &self.key {
            Key::Version(v) => *v == m.version,
            Key::Script(s) => m.up.file == *s,
            Key::Folder(f) => m.up.file.starts_with(&format!("{f}/")),
            Key::Revision(r) => m.name.contains(r.as_str()) || m.up.file.contains(r.as_str()),
            // a baseline stands for migrations that never ran under Flyway
            Key::FlywayVersion(_) => false,
        }
    }
}

#[cfg(test)]
mod tests;
