//! Migration folder layouts: keel's own and the other tools' (sqlx, diesel,
//! golang-migrate, dbmate, goose, Flyway, Prisma), each read as it is, one
//! small file per layout. A layout turns the folder's files into [`Part`]s —
//! the up, down and repeatable halves of migrations, with the directives of
//! that tool already honoured — and [`super::Migrations`] assembles and
//! validates them the same way for every layout.
//!
//! Detection ([`detect`]) looks at names and, where two tools share a naming
//! scheme, at content markers (`-- migrate:up`, `-- +goose Up`, a first line
//! `-- no-transaction`). A folder whose files disagree is an error naming
//! them; a folder holding migrations keel cannot run (Alembic's `.py`,
//! Rails' `.rb`, goose's `.go`, unknown subfolders with SQL) is an error too,
//! never "up to date" (incident 5).

mod dbmate;
mod diesel;
pub(crate) mod flyway;
mod golang_migrate;
mod goose;
mod keel;
mod prisma;
mod sqlx;

use crate::error::{Error, SourceProblem};

/// A folder layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// `<V>_<name>.sql`, or `<V>_<name>.up.sql` + `.down.sql`; `-- keel:` directives.
    Keel,
    /// keel's names; a first line `-- no-transaction`.
    Sqlx,
    /// `<V>_<name>/up.sql` + `down.sql`, `metadata.toml` `run_in_transaction = false`.
    Diesel,
    /// `<V>_<title>.up.sql` + optional `.down.sql`.
    GolangMigrate,
    /// One file with `-- migrate:up` / `-- migrate:down` sections.
    Dbmate,
    /// One file with `-- +goose Up` / `-- +goose Down` sections.
    Goose,
    /// `V<ver>__<desc>.sql`, `U<ver>__<desc>.sql`, `R__<desc>.sql`.
    Flyway,
    /// `<V>_<name>/migration.sql`.
    Prisma,
}

impl Layout {
    pub const ALL: [Layout; 8] = [
        Layout::Keel,
        Layout::Sqlx,
        Layout::Diesel,
        Layout::GolangMigrate,
        Layout::Dbmate,
        Layout::Goose,
        Layout::Flyway,
        Layout::Prisma,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Keel => "keel",
            Layout::Sqlx => "sqlx",
            Layout::Diesel => "diesel",
            Layout::GolangMigrate => "golang-migrate",
            Layout::Dbmate => "dbmate",
            Layout::Goose => "goose",
            Layout::Flyway => "flyway",
            Layout::Prisma => "prisma",
        }
    }

    /// `--layout NAME` / `layout = "…"`; `auto` is `None`.
    pub fn parse(name: &str) -> Result<Option<Layout>, Error> {
        let wanted = name.trim().to_ascii_lowercase();
        if wanted == "auto" {
            return Ok(None);
        }
        Layout::ALL
            .into_iter()
            .find(|l| l.as_str() == wanted || (wanted == "migrate" && *l == Layout::GolangMigrate))
            .map(Some)
            .ok_or_else(|| {
                Error::invalid(
                    format!("unknown layout `{name}`"),
                    Some(&format!(
                        "use auto or one of {}",
                        Layout::ALL.map(Layout::as_str).join(", ")
                    )),
                )
            })
    }

    /// Whether versions may be 0 (diesel's `00000000000000_diesel_initial_setup`).
    fn allows_version_zero(self) -> bool {
        self != Layout::Keel
    }

    /// Reads every file of the folder into parts, or problems naming files.
    fn read(self, files: &[File]) -> (Vec<Part>, Vec<SourceProblem>) {
        let mut parts = Vec::new();
        let mut problems = Vec::new();
        if self == Layout::Flyway {
            flyway::read(files, &mut parts, &mut problems);
        } else {
            for f in files {
                let read = match self {
                    Layout::Keel => keel::read(f),
                    Layout::GolangMigrate => golang_migrate::read(f),
                    Layout::Sqlx => sqlx::read(f),
                    Layout::Diesel => diesel::read(f, files),
                    Layout::Dbmate => dbmate::read(f),
                    Layout::Goose => goose::read(f),
                    Layout::Prisma => prisma::read(f),
                    Layout::Flyway => Ok(Vec::new()),
                };
                match read {
                    Ok(p) => parts.extend(p),
                    Err(p) => problems.push(p),
                }
            }
        }
        if !self.allows_version_zero() {
            for p in &parts {
                if p.version == 0 && p.role != Role::Repeatable {
                    problems.push(SourceProblem::new(
                        &p.file,
                        None,
                        "version 0 is not allowed: versions start at 1".to_string(),
                    ));
                }
            }
            parts.retain(|p| p.version != 0 || p.role == Role::Repeatable);
        }
        (parts, problems)
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file of the folder: its path relative to the folder (`/`-separated,
/// `2023-01-01-000000_x/up.sql` for a diesel folder) and its text
/// (BOM removed, line endings LF). Files that are not UTF-8 never get here.
#[derive(Clone, Debug)]
pub(crate) struct File {
    pub path: String,
    pub text: String,
}

impl File {
    /// The file name without its folder.
    pub fn base(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// The folder it sits in, if it is not at the top.
    pub fn dir(&self) -> Option<&str> {
        self.path.rsplit_once('/').map(|(d, _)| d)
    }

    fn is_sql(&self) -> bool {
        self.base().to_ascii_lowercase().ends_with(".sql")
    }
}

/// What half of a migration a part is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// An up half, and whether it must, may or must not have a down half.
    Up(DownRule),
    Down,
    /// A Flyway (or keel) `R__` file, re-applied when its checksum changes.
    Repeatable,
}

/// Whether an up half comes with a down half.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DownRule {
    /// keel's `.up.sql`: its `.down.sql` must exist.
    Required,
    Optional,
    /// keel's `<V>_<name>.sql`: a down file beside it is a naming mistake.
    Forbidden,
}

/// How a part's SQL splits into statements.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Splitting {
    /// keel's splitter.
    #[default]
    Standard,
    /// keel's splitter, except that what stands between goose's
    /// `-- +goose StatementBegin` and `StatementEnd` is one statement.
    Goose,
}

/// One half of a migration as a layout read it.
#[derive(Clone, Debug)]
pub(crate) struct Part {
    pub version: i64,
    pub name: String,
    pub role: Role,
    /// Where it is, for messages: a path, or a path and section
    /// (`1_x.sql (-- migrate:down)`).
    pub file: String,
    /// The SQL to run, normalised.
    pub sql: String,
    /// The tool's own "no transaction" marker.
    pub no_transaction: bool,
    pub splitting: Splitting,
    /// The tool runs it as written, outside any transaction of its own.
    pub as_written: bool,
}

impl Part {
    pub fn new(version: i64, name: &str, role: Role, file: &str, sql: String) -> Part {
        Part {
            version,
            name: name.to_string(),
            role,
            file: file.to_string(),
            sql,
            no_transaction: false,
            splitting: Splitting::Standard,
            as_written: false,
        }
    }
}

/// Which layout claims each file, if any; `None`: ignored.
fn claim(f: &File) -> Option<Claim> {
    let lower = f.base().to_ascii_lowercase();
    if let Some(dir) = f.dir() {
        if dir.contains('/') {
            return None;
        }
        return match lower.as_str() {
            "up.sql" | "down.sql" | "metadata.toml" => Some(Claim::Layout(Layout::Diesel)),
            "migration.sql" => Some(Claim::Layout(Layout::Prisma)),
            "migration_lock.toml" => Some(Claim::Layout(Layout::Prisma)),
            _ if lower.ends_with(".sql") => Some(Claim::Unknown(
                "an SQL file in a subfolder, in no layout keel knows (diesel folders hold up.sql and down.sql, Prisma's migration.sql)",
            )),
            _ if lower.ends_with(".py") && dir == "versions" => Some(Claim::Unknown(
                "an Alembic migration (Python): keel cannot run it; export its SQL with `alembic upgrade --sql`",
            )),
            _ => None,
        };
    }
    if lower == "migration_lock.toml" {
        return Some(Claim::Layout(Layout::Prisma));
    }
    if lower.ends_with(".py") {
        return Some(Claim::Unknown(
            "an Alembic migration (Python): keel cannot run it; export its SQL with `alembic upgrade --sql`",
        ));
    }
    if lower.ends_with(".rb") && lower.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(Claim::Unknown(
            "a Rails migration (Ruby): keel cannot run it; dump the SQL it runs into .sql files",
        ));
    }
    if lower.ends_with(".go") && lower.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(Claim::Unknown(
            "a goose Go migration: keel runs only SQL migrations",
        ));
    }
    if lower.ends_with(".sql.conf") {
        return Some(Claim::Layout(Layout::Flyway));
    }
    if !f.is_sql() {
        return None;
    }
    if f.base().starts_with("R__") {
        return Some(Claim::Repeatable);
    }
    if flyway::claims(f.base()) {
        return Some(Claim::Layout(Layout::Flyway));
    }
    if dbmate::claims(&f.text) {
        return Some(Claim::Layout(Layout::Dbmate));
    }
    if goose::claims(&f.text) {
        return Some(Claim::Layout(Layout::Goose));
    }
    if sqlx::claims(&f.text) {
        return Some(Claim::Layout(Layout::Sqlx));
    }
    Some(Claim::Numbered)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Claim {
    Layout(Layout),
    /// keel's names, shared by keel, sqlx and golang-migrate.
    Numbered,
    /// `R__<name>.sql`, a repeatable of keel's or Flyway's layout.
    Repeatable,
    /// Migrations keel cannot run; the reason.
    Unknown(&'static str),
}

/// Detects the layout of a folder's files, or says which files disagree.
pub(crate) fn detect(origin: &str, files: &[File]) -> Result<Layout, Error> {
    let mut problems = Vec::new();
    let mut by_layout: Vec<(Layout, Vec<&str>)> = Vec::new();
    let mut numbered: Vec<&str> = Vec::new();
    let mut repeatables: Vec<&str> = Vec::new();
    for f in files {
        match claim(f) {
            None => {}
            Some(Claim::Repeatable) => repeatables.push(&f.path),
            Some(Claim::Unknown(why)) => {
                problems.push(SourceProblem::new(&f.path, None, why.to_string()))
            }
            Some(Claim::Numbered) => numbered.push(&f.path),
            Some(Claim::Layout(l)) => match by_layout.iter_mut().find(|(k, _)| *k == l) {
                Some((_, list)) => list.push(&f.path),
                None => by_layout.push((l, vec![&f.path])),
            },
        }
    }
    if !problems.is_empty() {
        return Err(Error::InvalidMigrations {
            origin: origin.to_string(),
            problems,
        });
    }
    // keel-style names go with sqlx (a file marked `-- no-transaction`);
    // next to dbmate or goose files they are files without their markers.
    let single = match by_layout.as_slice() {
        [] if up_files_without_downs(&numbered) => Some(Layout::GolangMigrate),
        [] => Some(Layout::Keel),
        [(Layout::Sqlx, _)] => Some(Layout::Sqlx),
        [(l, _)] if numbered.is_empty() => Some(*l),
        _ => None,
    };
    match single {
        Some(l) if repeatables.is_empty() || matches!(l, Layout::Keel | Layout::Flyway) => {
            return Ok(l);
        }
        Some(l) => {
            return Err(Error::InvalidMigrations {
                origin: origin.to_string(),
                problems: repeatables
                    .iter()
                    .map(|r| {
                        SourceProblem::new(
                            r,
                            None,
                            format!("a repeatable migration (R__) in a {l} folder: only keel's and Flyway's layouts have them"),
                        )
                    })
                    .collect(),
            });
        }
        None => {}
    }
    let mut groups: Vec<String> = by_layout
        .iter()
        .map(|(l, list)| format!("{l}: {}", sample(list)))
        .collect();
    if !numbered.is_empty() {
        groups.push(format!(
            "keel/sqlx/golang-migrate names without another tool's markers: {}",
            sample(&numbered)
        ));
    }
    Err(Error::InvalidMigrations {
        origin: origin.to_string(),
        problems: vec![SourceProblem::new(
            origin,
            None,
            format!(
                "the folder mixes migration layouts ({}); keep one tool's layout per folder, or force one with --layout NAME (layout = \"…\" in keel.toml)",
                groups.join("; ")
            ),
        )],
    })
}

/// keel-style names that are all `.up.sql`/`.down.sql`, with some up file
/// lacking its down: golang-migrate's layout (downs optional there), which
/// keel's own layout would refuse.
fn up_files_without_downs(paths: &[&str]) -> bool {
    let bases: std::collections::BTreeSet<&str> = paths
        .iter()
        .map(|p| p.rsplit('/').next().unwrap_or(p))
        .collect();
    let all_paired_names = bases
        .iter()
        .all(|b| b.ends_with(".up.sql") || b.ends_with(".down.sql"));
    all_paired_names
        && bases.iter().any(|b| {
            b.strip_suffix(".up.sql")
                .is_some_and(|stem| !bases.contains(format!("{stem}.down.sql").as_str()))
        })
}

fn sample(list: &[&str]) -> String {
    let shown: Vec<&str> = list.iter().take(5).copied().collect();
    if list.len() > shown.len() {
        format!("{} and {} more", shown.join(", "), list.len() - shown.len())
    } else {
        shown.join(", ")
    }
}

/// With a layout forced, files that belong to another tool (or that keel
/// cannot run) are errors naming them: reading a dbmate file as keel's would
/// run its down section too.
pub(crate) fn check_forced(origin: &str, layout: Layout, files: &[File]) -> Result<(), Error> {
    let mut problems = Vec::new();
    for f in files {
        let message = match claim(f) {
            None => continue,
            Some(Claim::Unknown(why)) => why.to_string(),
            Some(Claim::Layout(l)) if l == layout => continue,
            Some(Claim::Repeatable) if matches!(layout, Layout::Keel | Layout::Flyway) => continue,
            Some(Claim::Repeatable) => format!(
                "a repeatable migration (R__), which the {layout} layout does not have"
            ),
            // keel's names are read by the numbered layouts, and checked by
            // the readers of the others
            Some(Claim::Numbered) if !matches!(layout, Layout::Diesel | Layout::Prisma) => {
                continue;
            }
            Some(Claim::Numbered) => format!("not a {layout} migration (the layout is {layout})"),
            Some(Claim::Layout(Layout::Sqlx))
                if matches!(layout, Layout::Keel | Layout::GolangMigrate) =>
            {
                "starts with sqlx's `-- no-transaction`, which this layout would ignore: use --layout sqlx, or write `-- keel:no-transaction`".to_string()
            }
            Some(Claim::Layout(l)) => {
                format!("looks like a {l} migration, but the layout is {layout}")
            }
        };
        problems.push(SourceProblem::new(&f.path, None, message));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidMigrations {
            origin: origin.to_string(),
            problems,
        })
    }
}

/// Reads `files` in `layout`.
pub(crate) fn read(layout: Layout, files: &[File]) -> (Vec<Part>, Vec<SourceProblem>) {
    layout.read(files)
}

/// Whether `sql` has nothing but comments and blanks: an empty down file
/// means "not reversible".
pub(crate) fn is_blank(sql: &str) -> bool {
    !crate::source::split::has_statement(sql, crate::Dialect::Postgres)
}

/// Splits a version prefix `<digits>_<rest>` off a name.
pub(crate) fn version_prefix(stem: &str) -> Option<(i64, &str)> {
    let (v, rest) = stem.split_once('_')?;
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((v.parse().ok()?, rest))
}

/// Statements of goose-marked SQL: keel's splitter outside
/// `StatementBegin`/`StatementEnd` blocks, one statement per block.
pub(crate) fn split_goose(
    sql: &str,
    dialect: crate::Dialect,
) -> Vec<crate::source::split::Statement> {
    goose::split(sql, dialect)
}

#[cfg(test)]
mod tests;
