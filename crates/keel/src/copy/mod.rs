//! `keel copy`: SQLite to PostgreSQL, losing nothing, working at once.
//!
//! 1. **Inspect** the SQLite file ([`inspect`]): tables, keys, indexes,
//!    foreign keys, `sqlite_sequence`, and — only where the type depends on
//!    it — which storage classes each column holds.
//! 2. **Plan** each column's PostgreSQL type ([`types`]), the identity
//!    column's first value, and the DDL ([`ddl`]).
//! 3. **Load** over `--jobs` connections ([`load`]): each connection opens
//!    one transaction, creates its tables, streams them with binary COPY
//!    (`FREEZE`), and builds their keys and indexes. Only when every
//!    connection has finished does any of them commit, so a refused value
//!    or a failure anywhere — or a kill — leaves nothing written.
//! 4. **Finish**: foreign keys (orphans reported and the key added
//!    `NOT VALID`), grants, `ANALYZE`, the sequence check of
//!    [`crate::sequences`] (its repair in `--data-only` mode).
//! 5. **Validate**: every table read back from PostgreSQL and checksummed
//!    in the same canonical form as the rows that left SQLite.
//!
//! **Why the finish runs after the commit, and how that stays honest.**
//! A foreign key between tables loaded by two connections cannot be added
//! before both commit (neither sees the other's rows), and building every
//! index on the lane that loaded its table would serialise a big table's
//! indexes on one connection instead of spreading them over all of them.
//! So steps 4–5 run after the commit, and the copy is marked incomplete
//! in the target until they have all succeeded ([`marker`]: a row in
//! keel's own table [`crate::known::COPY_MARKER`], created inside the
//! first lane's transaction so it commits with the rows). A failure in
//! between says what is committed and how to finish (the same copy again
//! with `--if-exists drop`), and `keel validate` reports the mark.
//!
//! **Re-runs.** Tables that already exist in the target are dropped or
//! emptied inside the lanes' transactions, so a failure leaves them as
//! they were. Every table linked to another there — by a foreign key
//! either way or a view over both — goes to the same connection
//! ([`units`]), which drops (`--if-exists drop`) or takes the foreign keys
//! off and empties (`truncate`, `--data-only`) the whole group in one
//! statement first and puts the keys back, checked, after loading it: no
//! connection ever waits for a lock another holds until the common
//! commit. `--if-exists drop` lists what `CASCADE` would also remove
//! (views, other tables' foreign keys) and refuses unless
//! `--if-exists drop-cascade`.

mod check;
mod checksum;
pub(crate) mod ddl;
pub(crate) mod encode;
mod finish;
mod history;
mod index_expr;
pub(crate) mod inspect;
pub(crate) mod load;
mod marker;
pub(crate) mod sql;
mod target;
pub mod types;
mod validate;

pub use validate::validate;

use finish::{
    SPLIT_PAGES, Task, promise_autoincrement, run_tasks, table_pages, validate_foreign_keys,
};
use target::{check_roles, dependents, existing_tables, target_types};

use crate::db::error::fail;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::settings::{DatabaseUrl, Engine};
use ddl::Plan;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;
use tokio_postgres::Client;
use types::PgType;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IfExists {
    #[default]
    Fail,
    Truncate,
    /// Drop the existing tables; refused when `CASCADE` would also remove
    /// views or other tables' foreign keys.
    Drop,
    /// Drop them and whatever `CASCADE` takes along (listed in the notes).
    DropCascade,
}

impl IfExists {
    fn drops(self) -> bool {
        matches!(self, IfExists::Drop | IfExists::DropCascade)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub jobs: usize,
    pub tables: Vec<String>,
    pub exclude: Vec<String>,
    pub data_only: bool,
    pub schema_only: bool,
    pub if_exists: IfExists,
    pub grant: Vec<String>,
    /// `TABLE.COLUMN=TYPE` overrides.
    pub casts: Vec<String>,
    /// Proceed when a CHECK constraint cannot be translated (each is
    /// listed in the notes); without it such a copy is refused.
    pub skip_checks: bool,
    /// keel's tracking table in both databases (`keel_migrations` when
    /// empty): never copied as data; its rows arrive as the target's history.
    pub tracking_table: String,
}

impl Options {
    fn known(&self) -> crate::known::KnownTables {
        crate::known::KnownTables::new(self.tracking_table())
    }

    pub(crate) fn tracking_table(&self) -> &str {
        if self.tracking_table.is_empty() {
            crate::settings::DEFAULT_TABLE
        } else {
            &self.tracking_table
        }
    }
}

/// What happened to one table.
#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    pub table: String,
    pub rows_source: u64,
    pub rows_target: u64,
    pub bytes: u64,
    pub millis: u64,
    pub checksum_source: String,
    pub checksum_target: String,
    pub matches: bool,
    pub columns: Vec<ColumnReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnReport {
    pub column: String,
    pub sqlite_type: String,
    pub postgres_type: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Orphans {
    pub table: String,
    pub constraint: String,
    pub rows: i64,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    pub tables: Vec<TableReport>,
    /// Things keel chose, translated imperfectly, or did not copy.
    pub notes: Vec<String>,
    pub orphans: Vec<Orphans>,
    pub sequences: Option<crate::sequences::Report>,
    /// A copy into the target that has not finished (when it started, from
    /// where): its keys, foreign keys or grants may be missing.
    pub incomplete: Option<String>,
    /// Keys, indexes and constraints the copy builds that the target lacks.
    pub missing: Vec<String>,
    pub rows: u64,
    pub bytes: u64,
    pub millis: u64,
}

impl Report {
    /// Every table arrived with the same rows and content.
    pub fn valid(&self) -> bool {
        self.incomplete.is_none()
            && self.missing.is_empty()
            && self.tables.iter().all(|t| t.matches)
    }
}

/// Progress, for bars on a terminal.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    TableStarted { table: &'a str, rows: u64 },
    Rows { table: &'a str, done: u64 },
    TableDone { table: &'a str },
    Step(&'a str),
}

fn q(s: &str) -> String {
    Dialect::Postgres.quote(s)
}

/// The SQLite file a `FROM` argument names (`sqlite:path` or a path).
pub fn sqlite_source(from: &str) -> Result<PathBuf> {
    if from.starts_with("sqlite:") {
        let url = DatabaseUrl::parse(from)?;
        return Ok(PathBuf::from(url.sqlite_path().unwrap_or_default()));
    }
    if from.contains("://") {
        return Err(Error::invalid(
            format!(
                "keel copy reads SQLite; `{}` is not a SQLite file",
                crate::settings::redact(from)
            ),
            Some("give sqlite:path/to/app.db (or the path) as FROM and a postgres:// URL as TO"),
        ));
    }
    Ok(PathBuf::from(from))
}

fn postgres_target(to: &str) -> Result<DatabaseUrl> {
    let url = DatabaseUrl::parse(to)?;
    if url.engine() != Engine::Postgres {
        return Err(Error::invalid(
            format!(
                "keel copy writes to PostgreSQL; `{}` is not a PostgreSQL URL",
                url.redacted()
            ),
            Some("give a postgres://user@host:5432/db URL as TO"),
        ));
    }
    Ok(url)
}

/// Inspects and plans every selected table: the part of a copy that reads
/// only SQLite.
fn plan(path: &std::path::Path, options: &Options) -> Result<(Vec<Plan>, Vec<String>)> {
    let mut conn = inspect::open(path)?;
    let (mut tables, others) = inspect::tables(&mut conn, path)?;
    let mut notes: Vec<String> = others
        .iter()
        .map(|o| {
            format!(
                "{} {} is not copied (SQLite SQL does not run on PostgreSQL): recreate it by hand",
                o.kind, o.name
            )
        })
        .collect();
    let known = options.known();
    tables.retain(|t| match known.owner(&t.name) {
        None => true,
        Some(crate::known::Owner::Keel) => false,
        Some(owner) => {
            notes.push(format!(
                "{} is {}'s migration history, not application data: not copied",
                t.name,
                owner.tool()
            ));
            false
        }
    });
    for name in options.tables.iter().chain(&options.exclude) {
        if !tables.iter().any(|t| &t.name == name) {
            return Err(Error::invalid(
                format!(
                    "table {name} (named in --tables or --exclude) is not in {}",
                    path.display()
                ),
                Some("list the tables with: sqlite3 FILE .tables"),
            ));
        }
    }
    tables.retain(|t| {
        (options.tables.is_empty() || options.tables.contains(&t.name))
            && !options.exclude.contains(&t.name)
    });
    let mut casts = Vec::new();
    for c in &options.casts {
        let parsed = c.split_once('=').and_then(|(tc, ty)| {
            let (t, col) = tc.rsplit_once('.')?;
            Some((t.to_string(), col.to_string(), ty.to_string()))
        });
        let Some((t, col, ty)) = parsed else {
            return Err(Error::invalid(
                format!("--cast `{c}` is not TABLE.COLUMN=TYPE"),
                Some("e.g. --cast event.payload=text"),
            ));
        };
        let Some(pg) = PgType::parse(&ty) else {
            return Err(Error::invalid(
                format!("--cast {c}: keel cannot write type `{ty}`"),
                Some(
                    "use one of: bigint, integer, smallint, double precision, real, boolean, text, varchar(N), bytea, timestamp, timestamptz, date, time, json, jsonb, numeric(P,S), uuid",
                ),
            ));
        };
        if !tables
            .iter()
            .any(|x| x.name == t && x.columns.iter().any(|k| k.name == col))
        {
            return Err(Error::invalid(
                format!("--cast {c}: no column {col} in table {t}"),
                None,
            ));
        }
        casts.push((t, col, pg));
    }
    let mut plans = Vec::new();
    for mut t in tables {
        inspect::profile(&conn, path, &mut t)?;
        null_keys(&conn, path, &t)?;
        let mut types = Vec::new();
        for c in &t.columns {
            let cast = casts
                .iter()
                .find(|(ct, cc, _)| *ct == t.name && *cc == c.name);
            let (ty, note) = match cast {
                Some((_, _, ty)) => (*ty, None),
                None => types::choose(&c.declared, c.classes),
            };
            if let Some(n) = note {
                notes.push(format!("{}.{}: {n}", t.name, c.name));
            }
            types.push(ty);
        }
        let identity_start = t.rowid_alias.map(|_| {
            let top = t.max_rowid.unwrap_or(0).max(t.sequence.unwrap_or(0)).max(0);
            // i64::MAX handed out already: nothing is left above it
            top.saturating_add(1)
        });
        if let (Some(alias), Some(i64::MAX)) = (t.rowid_alias, t.max_rowid.max(t.sequence)) {
            let col = t
                .columns
                .get(alias)
                .map(|c| c.name.as_str())
                .unwrap_or("id");
            notes.push(format!(
                "{}.{col}: SQLite has handed out id 9223372036854775807, the largest there is: the next INSERT without an id fails (as it would in SQLite with AUTOINCREMENT)",
                t.name
            ));
        }
        let typed: Vec<(String, PgType)> = t
            .columns
            .iter()
            .map(|c| c.name.clone())
            .zip(types.iter().copied())
            .collect();
        let (mut checks, mut untranslated_checks) = (Vec::new(), Vec::new());
        for check in &t.checks {
            match check::translate(check, &typed) {
                Some(pg) => checks.push(pg),
                None => untranslated_checks.push(check.clone()),
            }
        }
        if t.without_rowid {
            notes.push(format!(
                "{}: WITHOUT ROWID table, copied with its primary key",
                t.name
            ));
        }
        plans.push(Plan {
            table: t,
            types,
            identity_start,
            checks,
            untranslated_checks,
        });
    }
    Ok((plans, notes))
}

/// Copies `from` (SQLite) into `to` (PostgreSQL). See the module docs.
pub async fn run(
    from: &str,
    to: &str,
    options: &Options,
    progress: &(dyn Fn(Event<'_>) + Sync),
) -> Result<Report> {
    let started = Instant::now();
    let path = sqlite_source(from)?;
    let url = postgres_target(to)?;
    if options.data_only && options.schema_only {
        return Err(Error::invalid(
            "--data-only and --schema-only exclude each other",
            None,
        ));
    }
    if options.data_only && options.if_exists.drops() {
        return Err(Error::invalid(
            "--if-exists drop would drop the tables --data-only loads into",
            Some("use --if-exists truncate"),
        ));
    }
    progress(Event::Step("reading the SQLite schema"));
    let (mut plans, mut notes) = plan(&path, options)?;
    // read before anything is written: a tracking table keel cannot read
    // stops the copy here, not after the rows are in
    let mut history_rows = if options.data_only {
        None
    } else {
        Some(history::read(&path, options.tracking_table()).await?)
    };
    let clashes = name_clashes(&plans);
    if !clashes.is_empty() {
        return Err(Error::invalid(
            format!(
                "names would clash in PostgreSQL (which cuts every name to 63 bytes): {}; nothing was written",
                clashes.join("; ")
            ),
            Some(
                "rename them in SQLite (ALTER TABLE … RENAME, or recreate the index) so they differ in their first 63 bytes",
            ),
        ));
    }
    if plans.is_empty() {
        return Err(Error::invalid(
            format!(
                "{} holds no tables to copy (an empty or 0-byte file is not a database with data); nothing was written",
                path.display()
            ),
            Some("check the FROM path: it must be the application's SQLite file"),
        ));
    }
    let main = crate::db::postgres_primary(&url).await?;
    check_roles(&main, &options.grant).await?;

    // which tables exist already, and which hold rows
    let names: Vec<String> = plans.iter().map(|p| p.table.name.clone()).collect();
    let existing = existing_tables(&main, &names).await?;
    let mut load_into_existing = std::collections::HashSet::new();
    let mut non_empty = Vec::new();
    for (name, has_rows) in &existing {
        if *has_rows {
            non_empty.push(name.clone());
        }
    }
    if options.data_only {
        let missing: Vec<&String> = names
            .iter()
            .filter(|n| !existing.iter().any(|(e, _)| e == *n))
            .collect();
        if !missing.is_empty() {
            return Err(Error::invalid(
                format!(
                    "--data-only: table(s) missing in the target: {}; nothing was written",
                    join(&missing)
                ),
                Some(
                    "run the application's migrations first (keel up), or copy without --data-only",
                ),
            ));
        }
    } else if options.if_exists == IfExists::Fail && !existing.is_empty() {
        let list: Vec<&String> = existing.iter().map(|(n, _)| n).collect();
        if let Some(when) = marker::read(&main).await? {
            return Err(Error::invalid(
                format!(
                    "a keel copy into this database started {when} did not finish: its tables are there ({}), keys, foreign keys or grants may be missing; nothing was written",
                    join(&list)
                ),
                Some("run the copy again with --if-exists drop: it redoes it and removes the mark"),
            ));
        }
        return Err(Error::invalid(
            format!(
                "table(s) already exist in the target: {}; nothing was written",
                join(&list)
            ),
            Some(
                "use --if-exists drop to replace them, --if-exists truncate to empty and reload them, or --data-only to load into them",
            ),
        ));
    }
    if !non_empty.is_empty() && options.if_exists == IfExists::Fail {
        return Err(Error::invalid(
            format!(
                "target table(s) already hold rows: {}; nothing was written",
                join(&non_empty)
            ),
            Some("keel never overwrites rows without --if-exists truncate"),
        ));
    }
    for (name, _) in &existing {
        if options.data_only || options.if_exists == IfExists::Truncate {
            load_into_existing.insert(name.clone());
        }
    }
    // CHECK constraints: translated, or refused before anything is written
    let mut lost: Vec<String> = Vec::new();
    for p in plans
        .iter()
        .filter(|p| !load_into_existing.contains(&p.table.name))
    {
        for c in &p.untranslated_checks {
            lost.push(format!("{}: CHECK ({c})", p.table.name));
        }
    }
    if !lost.is_empty() && !options.skip_checks {
        return Err(Error::invalid(
            format!(
                "CHECK constraint(s) keel cannot translate so that they mean the same in PostgreSQL: {}; nothing was written",
                lost.join("; ")
            ),
            Some(
                "add them by hand after the copy and rerun with --skip-checks to copy without them",
            ),
        ));
    }
    for l in &lost {
        notes.push(format!(
            "{l} is not copied (--skip-checks; SQLite SQL keel could not translate): add it by hand"
        ));
    }
    // tables loaded into an existing definition take its column types
    for p in plans
        .iter_mut()
        .filter(|p| load_into_existing.contains(&p.table.name))
    {
        p.types = target_types(&main, &p.table).await?;
    }

    if options.schema_only {
        for p in &mut plans {
            p.table.rows = 0;
        }
    }
    // Tables that exist already are replaced or loaded into by units:
    // every table linked to another through a foreign key or a view goes
    // to the same connection, which drops or empties the whole unit first,
    // so no connection ever waits on a lock another holds (see `units`).
    let existing_names: Vec<String> = existing.iter().map(|(n, _)| n.clone()).collect();
    let deps = if existing_names.is_empty() {
        target::Dependents {
            foreign_keys: Vec::new(),
            views: Vec::new(),
        }
    } else {
        dependents(&main, &existing_names).await?
    };
    if options.if_exists.drops() && !options.data_only {
        let taken = cascade_victims(&deps);
        if !taken.is_empty() && options.if_exists == IfExists::Drop {
            return Err(Error::invalid(
                format!(
                    "--if-exists drop would also remove, through CASCADE: {}; nothing was written",
                    taken.join(", ")
                ),
                Some(
                    "use --if-exists drop-cascade to remove them too (and recreate them afterwards), or --if-exists truncate to keep the tables, their views and foreign keys",
                ),
            ));
        }
        if !taken.is_empty() {
            notes.push(format!(
                "--if-exists drop-cascade also removed: {}; recreate them",
                taken.join(", ")
            ));
        }
    }
    let units = units(&plans, &existing_names, &deps);
    let jobs = options.jobs.max(1).min(units.len().max(1));
    let mut order: Vec<&Unit> = units.iter().collect();
    order.sort_by_key(|u| std::cmp::Reverse(u.rows(&plans)));
    let mut lanes: Vec<Lane> = (0..jobs).map(|_| Lane::default()).collect();
    for unit in order {
        if let Some(lane) = lanes.iter_mut().min_by_key(|l| l.weight) {
            lane.weight += unit.rows(&plans);
            lane.tables.extend(unit.tables.iter().copied());
            let existing: Vec<String> = unit
                .tables
                .iter()
                .filter_map(|&i| plans.get(i))
                .map(|p| &p.table.name)
                .filter(|n| existing_names.contains(n))
                .map(|n| q(n))
                .collect();
            if existing.is_empty() {
                continue;
            }
            if options.data_only || options.if_exists == IfExists::Truncate {
                // the unit's foreign keys come off, the whole unit is
                // emptied in one statement, and the keys go back (checked)
                // once the lane has loaded it
                for fk in &unit.foreign_keys {
                    lane.before.push(format!(
                        "ALTER TABLE {} DROP CONSTRAINT {}",
                        fk.child_sql,
                        q(&fk.name)
                    ));
                    lane.after.push((
                        format!(
                            "ALTER TABLE {} ADD CONSTRAINT {} {}",
                            fk.child_sql,
                            q(&fk.name),
                            fk.definition
                        ),
                        fk.clone(),
                    ));
                }
                lane.before
                    .push(format!("TRUNCATE {}", existing.join(", ")));
            } else if options.if_exists.drops() {
                lane.before.push(format!(
                    "DROP TABLE {}{}",
                    existing.join(", "),
                    if options.if_exists == IfExists::DropCascade {
                        " CASCADE"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    // COLLATE NOCASE columns need keel's case-insensitive collation; made
    // before the lanes start (each would otherwise wait on another's
    // uncommitted one), it is all a failed copy can leave behind
    let needs_nocase = plans
        .iter()
        .any(|p| !load_into_existing.contains(&p.table.name) && ddl::needs_nocase(p));
    if needs_nocase {
        main.batch_execute(ddl::CREATE_NOCASE).await.map_err(|e| {
            fail(
                "creating the case-insensitive collation keel_nocase for the COLLATE NOCASE columns (PostgreSQL must be built with ICU); nothing was written",
                &e,
            )
        })?;
    }
    progress(Event::Step("loading"));
    let plans_ref = &plans;
    let path_ref = &path;
    let existing_ref = &load_into_existing;
    let url_ref = &url;
    let source_ref = &path.display().to_string();
    let names_ref = &names;
    let lane_futures = lanes.iter().enumerate().map(|(lane_no, lane)| async move {
        let client = crate::db::postgres(url_ref).await?;
        client
            .batch_execute(
                "SET maintenance_work_mem = '256MB'; BEGIN; SET LOCAL synchronous_commit = off",
            )
            .await
            .map_err(|e| fail("starting the load transaction", &e))?;
        if !lane.before.is_empty() {
            client
                .batch_execute(&lane.before.join(";\n"))
                .await
                .map_err(|e| {
                    fail(
                        "emptying or dropping the existing tables (nothing was written)",
                        &e,
                    )
                })?;
        }
        if lane_no == 0 {
            // committed with the rows, removed once the copy has finished
            marker::mark(&client, source_ref, names_ref).await?;
        }
        let mut done = Vec::new();
        for i in &lane.tables {
            let p = &plans_ref[*i];
            let r = load_one(
                &client,
                p,
                path_ref,
                existing_ref.contains(&p.table.name),
                options,
                progress,
            )
            .await?;
            done.push((*i, r));
        }
        for (sql, fk) in &lane.after {
            client.batch_execute(sql).await.map_err(|e| {
                fail(
                    format!(
                        "putting back foreign key {} of {} after the load (nothing was written)",
                        fk.name, fk.child
                    ),
                    &e,
                )
            })?;
        }
        Ok::<_, Error>((client, done))
    });
    let loaded = futures_util::future::try_join_all(lane_futures).await?;
    // every lane succeeded: commit them all
    let mut streamed: Vec<Option<(load::Streamed, u64, Vec<String>)>> = vec![None; plans.len()];
    let mut clients = Vec::new();
    for (client, done) in loaded {
        client
            .batch_execute("COMMIT")
            .await
            .map_err(|e| fail("committing the load", &e))?;
        for (i, r) in done {
            streamed[i] = Some(r);
        }
        clients.push(client);
    }
    for s in streamed.iter().flatten() {
        notes.extend(s.2.iter().cloned());
    }

    let mut report = Report::default();
    let target_name = url.redacted();
    let finished: Result<()> = async {
        // Keys, indexes, ANALYZE and the read-back checksums: independent
        // tasks pulled by every connection, biggest tables first.
        progress(Event::Step("building keys and indexes, validating"));
        let mut tasks = Vec::new();
        let mut attach = Vec::new();
        let mut by_size: Vec<usize> = (0..plans.len()).collect();
        by_size.sort_by_key(|i| std::cmp::Reverse(plans[*i].table.rows));
        // ANALYZE waits for an index build on the same table (their locks
        // conflict), so every ANALYZE comes after every build
        let analyze: Vec<Task> = by_size
            .iter()
            .map(|&i| Task::Sql(format!("ANALYZE {}", q(&plans[i].table.name)), i))
            .collect();
        let pages = table_pages(&main, &names).await?;
        for &i in &by_size {
            // large tables are read back in slices, one per connection
            let n = pages.get(&plans[i].table.name).copied().unwrap_or(0);
            if n >= SPLIT_PAGES && clients.len() > 1 {
                let k = clients.len() as u64;
                for part in 0..k {
                    let to = (part + 1 < k).then_some(n * (part + 1) / k);
                    tasks.push(Task::Checksum(i, Some((n * part / k, to))));
                }
            } else {
                tasks.push(Task::Checksum(i, None));
            }
            if !load_into_existing.contains(&plans[i].table.name) {
                let keys = ddl::keys(&plans[i]);
                notes.extend(keys.notes);
                attach.extend(keys.attach);
                tasks.extend(keys.builds.into_iter().map(|b| Task::Sql(b, i)));
            }
        }
        tasks.extend(analyze);
        let sums = run_tasks(&clients, tasks, &plans).await?;
        if !attach.is_empty() {
            main.batch_execute(&attach.join(";\n"))
                .await
                .map_err(|e| fail("adding primary keys and unique constraints", &e))?;
        }
        if !options.data_only {
            progress(Event::Step("adding foreign keys"));
            let fresh: Vec<Plan> = plans
                .iter()
                .filter(|p| !load_into_existing.contains(&p.table.name))
                .cloned()
                .collect();
            let fks = ddl::foreign_keys(&fresh);
            if !fks.is_empty() {
                let adds: Vec<&str> = fks.iter().map(|f| f.add.as_str()).collect();
                main.batch_execute(&adds.join(";\n"))
                    .await
                    .map_err(|e| fail("adding foreign keys", &e))?;
                validate_foreign_keys(&clients, &fks, &mut report, &mut notes).await?;
            }
        }
        if !options.grant.is_empty() && !names.is_empty() {
            let tables: Vec<String> = names.iter().map(|n| q(n)).collect();
            let roles: Vec<String> = options.grant.iter().map(|r| q(r)).collect();
            main.batch_execute(&format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {} TO {}",
                tables.join(", "),
                roles.join(", ")
            ))
            .await
            .map_err(|e| fail("granting the --grant roles access to the copied tables", &e))?;
            finish::grant_sequences(&main, &names, &options.grant).await?;
        }
        for (i, p) in plans.iter().enumerate() {
            let (s, millis, _) = streamed[i].clone().unwrap_or_default();
            let target = sums[i];
            report.rows += s.rows;
            report.bytes += s.bytes;
            report.tables.push(TableReport {
                table: p.table.name.clone(),
                rows_source: s.rows,
                rows_target: target.rows,
                bytes: s.bytes,
                millis,
                checksum_source: s.checksum.hex(),
                checksum_target: target.hex(),
                matches: s.checksum == target,
                columns: column_reports(p),
            });
        }
        drop(clients);

        // sequences: repaired in data-only mode (the schema is the app's),
        // checked otherwise
        progress(Event::Step("checking sequences"));
        let mut db = crate::Database::connect_with(
            &url,
            crate::ConnectOptions {
                table: options.tracking_table().to_string(),
                ..Default::default()
            },
        )
        .await?;
        if load_into_existing.is_empty() {
            let seq = crate::sequences::run(
                &mut db,
                &crate::sequences::Options {
                    grant: options.grant.clone(),
                    ..Default::default()
                },
            )
            .await;
            report.sequences = Some(seq?);
        } else {
            promise_autoincrement(&main, &plans, &load_into_existing).await?;
            let seq = crate::sequences::run(
                &mut db,
                &crate::sequences::Options {
                    fix: true,
                    grant: options.grant.clone(),
                    ..Default::default()
                },
            )
            .await;
            report.sequences = Some(seq?);
        }
        db.close().await?;
        // keel's history: the target's own when the schema was the app's
        if let Some(records) = history_rows.take()
            && !records.is_empty()
        {
            progress(Event::Step("copying keel's history"));
            let n = records.len();
            history::write(&url, options.tracking_table(), records).await?;
            notes.push(format!(
                "keel's history ({n} row(s) of {}) arrived in the target's {} with method `copy`",
                options.tracking_table(),
                options.tracking_table()
            ));
        }
        // what the copy promised is there, valid
        let fresh: Vec<Plan> = plans
            .iter()
            .filter(|p| !load_into_existing.contains(&p.table.name))
            .cloned()
            .collect();
        report.missing = validate::missing_promises(&main, &fresh).await?;
        marker::clear(&main).await?;
        Ok::<(), Error>(())
    }
    .await;
    if let Err(e) = finished {
        return Err(marker::after_commit(e, &target_name, plans.len()));
    }
    report.notes = notes;
    report.millis = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Each column's SQLite and PostgreSQL type, for the report.
fn column_reports(p: &Plan) -> Vec<ColumnReport> {
    p.table
        .columns
        .iter()
        .zip(&p.types)
        .map(|(c, t)| ColumnReport {
            column: c.name.clone(),
            sqlite_type: c.declared.clone(),
            postgres_type: t.to_string(),
        })
        .collect()
}

fn join(names: &[impl AsRef<str>]) -> String {
    names
        .iter()
        .map(|n| n.as_ref().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn load_one(
    client: &Client,
    p: &Plan,
    path: &std::path::Path,
    existing: bool,
    options: &Options,
    progress: &(dyn Fn(Event<'_>) + Sync),
) -> Result<(load::Streamed, u64, Vec<String>)> {
    let started = Instant::now();
    let name = &p.table.name;
    let mut notes = Vec::new();
    // an existing table was emptied or dropped by its lane already
    if !existing {
        let (create, n) = ddl::create_table(p);
        notes.extend(n);
        client
            .batch_execute(&create)
            .await
            .map_err(|e| fail(format!("creating table {name}"), &e))?;
    }
    progress(Event::TableStarted {
        table: name,
        rows: p.table.rows.max(0) as u64,
    });
    let streamed = if options.schema_only {
        load::Streamed::default()
    } else {
        let copy_sql = format!(
            "COPY {} ({}) FROM STDIN (FORMAT binary{})",
            q(name),
            p.column_list(),
            if existing { "" } else { ", FREEZE" }
        );
        let source = load::Source {
            path: path.to_path_buf(),
            table: name.clone(),
            columns: p.table.columns.iter().map(|c| c.name.clone()).collect(),
            types: p.types.clone(),
            has_rowid: !p.table.without_rowid,
        };
        let report_rows = |done: u64| progress(Event::Rows { table: name, done });
        load::copy_table(client, source, &copy_sql, &report_rows)
            .await
            .map_err(|e| match e {
                Error::Database { error, .. }
                    if error.sqlstate.as_deref() == Some("23514") && !existing =>
                {
                    Error::invalid(
                        format!(
                            "table {name}: rows break a CHECK constraint SQLite declared but did not enforce for them ({}); nothing was written",
                            error.message
                        ),
                        Some(
                            "fix those rows in SQLite (SQLite skips CHECKs under PRAGMA ignore_check_constraints), or leave the table out with --exclude",
                        ),
                    )
                }
                other => other,
            })?
    };
    progress(Event::TableDone { table: name });
    Ok((streamed, started.elapsed().as_millis() as u64, notes))
}

/// One connection's share of the load.
#[derive(Default)]
struct Lane {
    weight: u64,
    tables: Vec<usize>,
    /// Run first in the lane's transaction: foreign keys off, existing
    /// tables emptied or dropped.
    before: Vec<String>,
    /// Run last: the foreign keys put back.
    after: Vec<(String, target::TargetForeignKey)>,
}

/// Tables that must share a connection, and the target's foreign keys
/// among them.
struct Unit {
    tables: Vec<usize>,
    foreign_keys: Vec<target::TargetForeignKey>,
}

impl Unit {
    fn rows(&self, plans: &[Plan]) -> u64 {
        self.tables
            .iter()
            .filter_map(|&i| plans.get(i))
            .map(|p| p.table.rows.max(0) as u64 + 1)
            .sum()
    }
}

/// Groups the tables so that no two connections ever wait on each other.
///
/// Dropping, emptying or re-keying a table locks every table linked to it
/// through a foreign key (and `CASCADE` every view on it); a connection
/// that took such a lock keeps it until all of them commit together, so a
/// second connection waiting for it inside PostgreSQL would wait forever
/// while the first waits in keel. Tables linked that way in the target —
/// by a foreign key either way (through a table outside the copy too) or
/// a view over both — form one unit, loaded by one connection; every other
/// table is a unit of its own. A fresh copy has only single-table units.
fn units(plans: &[Plan], existing: &[String], deps: &target::Dependents) -> Vec<Unit> {
    use std::collections::BTreeMap;
    // union-find over node names: copied tables by name, others prefixed
    let mut parent: BTreeMap<String, String> = BTreeMap::new();
    fn find(parent: &mut BTreeMap<String, String>, x: &str) -> String {
        let mut cur = x.to_string();
        loop {
            match parent.get(&cur) {
                Some(p) if *p != cur => cur = p.clone(),
                _ => break,
            }
        }
        parent.insert(x.to_string(), cur.clone());
        cur
    }
    let mut union = |a: &str, b: &str| {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            parent.insert(ra, rb);
        }
    };
    let node = |in_set: &Option<String>, other: &str| match in_set {
        Some(n) if existing.contains(n) => format!("t:{n}"),
        _ => format!("o:{other}"),
    };
    for fk in &deps.foreign_keys {
        let child = node(&fk.child_in_set, &fk.child);
        let parent_node = node(&fk.parent_in_set, &fk.parent);
        union(&child, &parent_node);
    }
    for (table, view) in &deps.views {
        union(&format!("t:{table}"), &format!("v:{view}"));
    }
    let mut groups: BTreeMap<String, Unit> = BTreeMap::new();
    let mut singles = Vec::new();
    for (i, p) in plans.iter().enumerate() {
        if !existing.contains(&p.table.name) {
            singles.push(Unit {
                tables: vec![i],
                foreign_keys: Vec::new(),
            });
            continue;
        }
        let root = find(&mut parent, &format!("t:{}", p.table.name));
        groups
            .entry(root)
            .or_insert_with(|| Unit {
                tables: Vec::new(),
                foreign_keys: Vec::new(),
            })
            .tables
            .push(i);
    }
    for fk in &deps.foreign_keys {
        let child = node(&fk.child_in_set, &fk.child);
        let root = find(&mut parent, &child);
        if let Some(unit) = groups.get_mut(&root) {
            unit.foreign_keys.push(fk.clone());
        }
    }
    groups.into_values().chain(singles).collect()
}

/// What `DROP … CASCADE` of the existing tables would also remove: views
/// on them and foreign keys of tables outside the copy.
fn cascade_victims(deps: &target::Dependents) -> Vec<String> {
    let mut out: Vec<String> = deps
        .views
        .iter()
        .map(|(table, view)| format!("view {view} (on {table})"))
        .collect();
    for fk in &deps.foreign_keys {
        if fk.child_in_set.is_none()
            && let Some(parent) = &fk.parent_in_set
        {
            out.push(format!(
                "foreign key {} of {} (references {parent})",
                fk.name, fk.child
            ));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A name as PostgreSQL keeps it: at most 63 bytes, cut at a character.
fn pg_name(name: &str) -> &str {
    let mut end = name.len().min(63);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name.get(..end).unwrap_or(name)
}

/// Names the copy would create that PostgreSQL's 63-byte limit makes the
/// same (tables and indexes share one namespace; foreign keys are per
/// table), and table names it would cut at all (every lookup by name
/// would miss them).
fn name_clashes(plans: &[Plan]) -> Vec<String> {
    use std::collections::BTreeMap;
    let mut out = Vec::new();
    let mut relations: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in plans {
        let t = &p.table;
        if t.name.len() > 63 {
            out.push(format!(
                "table {} ({} bytes) would be created as {}",
                t.name,
                t.name.len(),
                pg_name(&t.name)
            ));
        }
        let mut names = vec![(t.name.clone(), format!("table {}", t.name))];
        if !t.primary_key.is_empty() {
            names.push((
                format!("{}_pkey", t.name),
                format!("the primary key of {}", t.name),
            ));
        }
        for index in &t.indexes {
            if index.origin == "pk" {
                continue;
            }
            if index.origin == "u" {
                let cols: Vec<String> = index
                    .columns
                    .iter()
                    .flatten()
                    .map(|(c, _)| c.clone())
                    .collect();
                names.push((
                    format!("{}_{}_key", t.name, cols.join("_")),
                    format!(
                        "the unique constraint of {} on ({})",
                        t.name,
                        cols.join(", ")
                    ),
                ));
            } else {
                names.push((
                    index.name.clone(),
                    format!("index {} of {}", index.name, t.name),
                ));
            }
        }
        for (name, what) in names {
            relations
                .entry(pg_name(&name).to_string())
                .or_default()
                .push(what);
        }
        let mut fks: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for fk in &t.foreign_keys {
            let name = format!("{}_{}_fkey", t.name, fk.from.join("_"));
            fks.entry(pg_name(&name).to_string())
                .or_default()
                .push(format!(
                    "the foreign key of {} on ({})",
                    t.name,
                    fk.from.join(", ")
                ));
        }
        for (name, whats) in fks.into_iter().filter(|(_, w)| w.len() > 1) {
            out.push(format!("{} would all be named {name}", whats.join(" and ")));
        }
    }
    for (name, whats) in relations.into_iter().filter(|(_, w)| w.len() > 1) {
        out.push(format!("{} would all be named {name}", whats.join(" and ")));
    }
    out
}

/// A rowid table whose primary key is not the rowid may hold NULLs in it
/// (a SQLite quirk kept for compatibility); PostgreSQL refuses them. Found
/// before anything is written, through the key's own index.
fn null_keys(
    conn: &rusqlite::Connection,
    path: &std::path::Path,
    t: &inspect::Table,
) -> Result<()> {
    if t.rowid_alias.is_some() || t.without_rowid || t.primary_key.is_empty() {
        return Ok(());
    }
    let cols: Vec<&str> = t
        .primary_key
        .iter()
        .filter_map(|&i| t.columns.get(i))
        .map(|c| c.name.as_str())
        .collect();
    let lite = |s: &str| Dialect::Sqlite.quote(s);
    let test: Vec<String> = cols
        .iter()
        .map(|c| format!("{} IS NULL", lite(c)))
        .collect();
    let sql = format!(
        "SELECT count(*) FROM {} WHERE {}",
        lite(&t.name),
        test.join(" OR ")
    );
    let n: i64 = conn
        .query_row(&sql, [], |r| r.get(0))
        .map_err(|e| inspect::fail(path, &e))?;
    if n == 0 {
        return Ok(());
    }
    Err(Error::invalid(
        format!(
            "table {}: {n} row(s) hold NULL in the primary key ({}), which SQLite allows in a rowid table and PostgreSQL does not; nothing was written",
            t.name,
            cols.join(", ")
        ),
        Some(&format!(
            "find them with: SELECT rowid, * FROM {} WHERE {}; fix or delete them in SQLite, or leave the table out with --exclude {}",
            lite(&t.name),
            test.join(" OR "),
            t.name
        )),
    ))
}

/// A `keel copy` into the database `db` is connected to that has not
/// finished: when it started and from where (see [`marker`]). `None` for
/// other engines and finished copies. For `keel status` and `keel check`,
/// on the connection they already hold.
pub async fn unfinished(db: &mut crate::Database) -> Result<Option<String>> {
    match &db.backend {
        crate::backend::Backend::Postgres(p) => marker::read(p.client()).await,
        _ => Ok(None),
    }
}
