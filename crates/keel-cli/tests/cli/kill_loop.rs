//! Records that are always true, under `kill -9`: on each engine, a
//! generated set of 200 migrations (tables, counter inserts, columns added
//! to earlier tables, indexes, slow statements, multi-statement files,
//! no-transaction files, MySQL's auto-committed DDL) is applied by `keel up`
//! processes killed after random delays, spread over the whole run. After
//! every kill each record is checked against the catalog; what is in doubt
//! or partial is resolved as a user would (look at the catalog, then give
//! `keel repair` the explicit choice its message offers), and `keel up`
//! goes on until all 200 are applied, each exactly once.
//!
//! The seed is printed; `KEEL_KILL_SEED=N` replays a run.

use crate::support::{Engine, TestDb, json};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::time::{Duration, Instant};

const MIGRATIONS: i64 = 200;
const MAX_KILLS: usize = 30;

/// splitmix64: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn seed() -> u64 {
    match std::env::var("KEEL_KILL_SEED") {
        Ok(s) => s.trim().parse().expect("KEEL_KILL_SEED is a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7),
    }
}

/// What one statement leaves in the database, so the test can look for it
/// (and undo it, as a user would).
#[derive(Clone, Debug)]
enum Effect {
    Table(String),
    Column {
        table: String,
        column: String,
    },
    Index {
        table: String,
        index: String,
    },
    Counter {
        v: i64,
        s: i64,
    },
    /// Leaves no trace in the catalog (`LOCK TABLES`, `UNLOCK TABLES`).
    Session,
}

struct Stmt {
    sql: String,
    effect: Effect,
}

struct Mig {
    version: i64,
    /// Runs in one transaction (PostgreSQL and SQLite without the directive).
    transactional: bool,
    statements: Vec<Stmt>,
}

fn slow_create(engine: Engine, table: &str, rng: &mut Rng) -> String {
    let secs = 0.05 + rng.below(16) as f64 / 100.0;
    match engine {
        Engine::Postgres => format!("CREATE TABLE {table} AS SELECT 1 AS x FROM pg_sleep({secs})"),
        Engine::Mysql => format!("CREATE TABLE {table} AS SELECT SLEEP({secs}) AS x"),
        Engine::Sqlite => format!(
            "CREATE TABLE {table} AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {}) SELECT max(x) AS x FROM c",
            (secs * 600_000.0) as i64
        ),
    }
}

fn slow_insert(engine: Engine, v: i64, s: i64, rng: &mut Rng) -> String {
    let secs = 0.05 + rng.below(16) as f64 / 100.0;
    match engine {
        Engine::Postgres => format!("INSERT INTO kc SELECT {v}, {s} FROM pg_sleep({secs})"),
        Engine::Mysql => {
            format!("INSERT INTO kc SELECT {v}, {s} FROM (SELECT SLEEP({secs}) AS z) AS q")
        }
        Engine::Sqlite => format!(
            "INSERT INTO kc SELECT {v}, {s} FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {}) SELECT max(x) FROM c)",
            (secs * 600_000.0) as i64
        ),
    }
}

/// The migration set: version 1 creates the counter table, the rest mix
/// every kind of statement.
fn generate(engine: Engine, rng: &mut Rng) -> Vec<Mig> {
    let mut migs = vec![Mig {
        version: 1,
        transactional: engine != Engine::Mysql,
        statements: vec![Stmt {
            sql: "CREATE TABLE kc (v INTEGER, s INTEGER)".into(),
            effect: Effect::Table("kc".into()),
        }],
    }];
    let mut tables: Vec<String> = Vec::new();
    for v in 2..=MIGRATIONS {
        let no_tx = rng.chance(30);
        let n = 1 + rng.below(5) as i64;
        let mut statements = Vec::new();
        for s in 1..=n {
            let roll = rng.below(100);
            let stmt = if (s == 1 && rng.chance(60)) || tables.is_empty() || roll < 10 {
                let t = format!("t{v}_{s}");
                tables.push(t.clone());
                Stmt {
                    sql: format!("CREATE TABLE {t} (id INTEGER PRIMARY KEY, a INTEGER)"),
                    effect: Effect::Table(t),
                }
            } else if roll < 45 {
                Stmt {
                    sql: format!("INSERT INTO kc (v, s) VALUES ({v}, {s})"),
                    effect: Effect::Counter { v, s },
                }
            } else if roll < 60 {
                let table = tables[rng.below(tables.len() as u64) as usize].clone();
                let column = format!("c{v}_{s}");
                Stmt {
                    sql: format!("ALTER TABLE {table} ADD COLUMN {column} INTEGER"),
                    effect: Effect::Column { table, column },
                }
            } else if roll < 75 {
                let table = tables[rng.below(tables.len() as u64) as usize].clone();
                let index = format!("i{v}_{s}");
                Stmt {
                    sql: format!("CREATE INDEX {index} ON {table} (a)"),
                    effect: Effect::Index { table, index },
                }
            } else if roll < 82 {
                Stmt {
                    sql: slow_insert(engine, v, s, rng),
                    effect: Effect::Counter { v, s },
                }
            } else if roll < 87 {
                // what dump files do: MySQL's `LOCK TABLES` around a slow
                // insert (keel's progress rows must still be written),
                // PostgreSQL's `COPY … FROM stdin` with its data
                match engine {
                    Engine::Mysql => {
                        statements.push(Stmt {
                            sql: "LOCK TABLES kc WRITE".into(),
                            effect: Effect::Session,
                        });
                        statements.push(Stmt {
                            sql: slow_insert(engine, v, s, rng),
                            effect: Effect::Counter { v, s },
                        });
                        Stmt {
                            sql: "UNLOCK TABLES".into(),
                            effect: Effect::Session,
                        }
                    }
                    Engine::Postgres => Stmt {
                        sql: format!("COPY kc (v, s) FROM stdin;\n{v}\t{s}\n\\."),
                        effect: Effect::Counter { v, s },
                    },
                    Engine::Sqlite => Stmt {
                        sql: format!("INSERT INTO kc (v, s) VALUES ({v}, {s})"),
                        effect: Effect::Counter { v, s },
                    },
                }
            } else {
                let t = format!("s{v}_{s}");
                Stmt {
                    sql: slow_create(engine, &t, rng),
                    effect: Effect::Table(t),
                }
            };
            statements.push(stmt);
        }
        migs.push(Mig {
            version: v,
            transactional: engine != Engine::Mysql && !no_tx,
            statements,
        });
    }
    migs
}

fn write_files(db: &TestDb, migs: &[Mig]) {
    for m in migs {
        let header = if m.transactional || m.version == 1 {
            ""
        } else {
            "-- keel:no-transaction\n"
        };
        // a COPY's data ends at its `\.` line, with no `;` after it
        let body: String = m
            .statements
            .iter()
            .map(|s| {
                if s.sql.ends_with("\\.") {
                    format!("{}\n", s.sql)
                } else {
                    format!("{};\n", s.sql)
                }
            })
            .collect();
        db.write(
            &format!("{:04}_m{}.sql", m.version, m.version),
            format!("{header}{body}"),
        );
    }
}

/// What the database holds, read in a few queries.
#[derive(Default)]
struct Catalog {
    tables: BTreeSet<String>,
    columns: BTreeSet<(String, String)>,
    indexes: BTreeSet<String>,
    counter: BTreeMap<(i64, i64), i64>,
}

fn strings(rows: Vec<Vec<Option<String>>>) -> Vec<Vec<String>> {
    rows.into_iter()
        .map(|r| {
            r.into_iter()
                .map(|c| c.unwrap_or_default().to_lowercase())
                .collect()
        })
        .collect()
}

fn catalog(db: &TestDb) -> Catalog {
    let (tables, columns, indexes) = match db.engine {
        Engine::Postgres => (
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'",
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'",
        ),
        Engine::Mysql => (
            "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = DATABASE()",
            "SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = DATABASE()",
        ),
        Engine::Sqlite => (
            "SELECT name FROM sqlite_schema WHERE type = 'table'",
            "SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p WHERE m.type = 'table'",
            "SELECT name FROM sqlite_schema WHERE type = 'index'",
        ),
    };
    let mut c = Catalog {
        tables: strings(db.query(tables))
            .into_iter()
            .map(|r| r[0].clone())
            .collect(),
        columns: strings(db.query(columns))
            .into_iter()
            .map(|r| (r[0].clone(), r[1].clone()))
            .collect(),
        indexes: strings(db.query(indexes))
            .into_iter()
            .map(|r| r[0].clone())
            .collect(),
        counter: BTreeMap::new(),
    };
    if c.tables.contains("kc") {
        for r in strings(db.query("SELECT v, s, count(*) FROM kc GROUP BY v, s")) {
            c.counter.insert(
                (r[0].parse().unwrap(), r[1].parse().unwrap()),
                r[2].parse().unwrap(),
            );
        }
    }
    c
}

impl Catalog {
    /// How many times the statement's effect is in the database.
    fn count(&self, e: &Effect) -> i64 {
        match e {
            Effect::Table(t) => i64::from(self.tables.contains(t)),
            Effect::Column { table, column } => {
                i64::from(self.columns.contains(&(table.clone(), column.clone())))
            }
            Effect::Index { index, .. } => i64::from(self.indexes.contains(index)),
            Effect::Counter { v, s } => self.counter.get(&(*v, *s)).copied().unwrap_or(0),
            // nothing to see: never held against the record
            Effect::Session => -1,
        }
    }
}

/// A row of the tracking table.
#[derive(Debug)]
struct Row {
    success: bool,
    applied: i64,
    started: Option<i64>,
    error: Option<String>,
}

fn records(db: &TestDb) -> BTreeMap<i64, Row> {
    let mut out = BTreeMap::new();
    if !db.has_table("keel_migrations") {
        return out;
    }
    for r in db.query(
        "SELECT version, success, statements_applied, failed_statement_index, error FROM keel_migrations",
    ) {
        let success = matches!(r[1].as_deref(), Some("1" | "t" | "true"));
        out.insert(
            r[0].as_deref().unwrap().parse().unwrap(),
            Row {
                success,
                applied: r[2].as_deref().unwrap_or("0").parse().unwrap(),
                started: r[3].as_deref().map(|s| s.parse().unwrap()),
                error: r[4].clone(),
            },
        );
    }
    out
}

/// Waits until the killed keel's server sessions are gone (a statement the
/// server was running finishes or is rolled back), then ends any left.
fn settle(db: &TestDb) {
    let others = match db.engine {
        Engine::Postgres => {
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        }
        Engine::Mysql => {
            "SELECT count(*) FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()"
        }
        Engine::Sqlite => return,
    };
    let start = Instant::now();
    while db.scalar(others) != "0" {
        if start.elapsed() > Duration::from_secs(30) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if start.elapsed() <= Duration::from_secs(30) {
        return;
    }
    match db.engine {
        Engine::Postgres => {
            db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
        }
        Engine::Mysql => {
            for row in db.query("SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()") {
                if let Some(id) = &row[0] {
                    let _ = std::panic::catch_unwind(|| db.query(&format!("KILL {id}")));
                }
            }
        }
        Engine::Sqlite => {}
    }
}

/// Every record against the catalog; the unfinished migration, if any
/// (version, statements applied, statement in doubt).
fn check(db: &TestDb, migs: &[Mig], when: &str) -> Option<(i64, i64, Option<i64>)> {
    let cat = catalog(db);
    let rows = records(db);
    let mut unfinished = None;
    for m in migs {
        let counts: Vec<i64> = m.statements.iter().map(|s| cat.count(&s.effect)).collect();
        let ctx = format!("{when}: migration {} {counts:?}", m.version);
        assert!(
            counts.iter().all(|c| *c <= 1),
            "{ctx}: an effect exists twice"
        );
        match rows.get(&m.version) {
            None => assert!(
                counts.iter().all(|c| *c <= 0),
                "{ctx}: not recorded, yet some of its effects exist"
            ),
            Some(r) if r.success => assert!(
                counts.iter().all(|c| *c == 1 || *c < 0),
                "{ctx}: recorded applied, yet some of its effects are missing ({r:?})"
            ),
            Some(r) => {
                assert!(
                    !m.transactional,
                    "{ctx}: a transactional migration has an unfinished record {r:?}"
                );
                assert!(r.error.is_none(), "{ctx}: a kill is no error: {r:?}");
                let applied = r.applied as usize;
                let doubt = r.started.unwrap_or(r.applied + 1);
                assert_eq!(
                    doubt,
                    r.applied + 1,
                    "{ctx}: the statement in doubt is not the next one {r:?}"
                );
                for (i, count) in counts.iter().enumerate() {
                    if *count < 0 {
                        continue;
                    }
                    if i < applied {
                        assert!(
                            *count == 1,
                            "{ctx}: statement {} recorded applied, missing ({r:?})",
                            i + 1
                        );
                    } else if i > applied {
                        assert!(
                            *count != 1,
                            "{ctx}: statement {} took effect, recorded neither applied nor in doubt ({r:?})",
                            i + 1
                        );
                    }
                }
                assert!(unfinished.is_none(), "{ctx}: two unfinished migrations");
                unfinished = Some((m.version, r.applied, Some(doubt)));
            }
        }
    }
    unfinished
}

fn undo_sql(engine: Engine, e: &Effect) -> String {
    match e {
        Effect::Table(t) => format!("DROP TABLE {t}"),
        Effect::Column { table, column } => format!("ALTER TABLE {table} DROP COLUMN {column}"),
        Effect::Index { table, index } => match engine {
            Engine::Mysql => format!("DROP INDEX {index} ON {table}"),
            _ => format!("DROP INDEX {index}"),
        },
        Effect::Counter { v, s } => format!("DELETE FROM kc WHERE v = {v} AND s = {s}"),
        Effect::Session => String::new(),
    }
}

/// Resolves an unfinished migration as a user would: a plain `repair` first
/// (it must keep the record), then the choice its message offers that fits
/// what the catalog shows, after undoing by hand what that choice needs.
/// `false` when the repair was killed on purpose before it finished.
fn resolve(db: &TestDb, m: &Mig, applied: i64, doubt: i64, rng: &mut Rng) -> bool {
    let v = m.version;
    let (code, doc) = db.keel_json(&["repair"]);
    assert_eq!(code, Some(1), "a plain repair decides alone: {doc}");
    let unresolved = &doc["unresolved"][0];
    assert_eq!(unresolved["version"], v, "{doc}");
    assert!(
        records(db).contains_key(&v),
        "a plain repair cleared the record of {v}"
    );
    let options = unresolved["options"].to_string();
    let cat = catalog(db);
    let d = (doubt - 1) as usize;
    let took_effect = d < m.statements.len() && cat.count(&m.statements[d].effect) == 1;
    // where keel can tell from the catalog, it must tell the truth
    if let Some(note) = unresolved["catalog"].as_str() {
        assert_eq!(
            !note.contains("does not exist"),
            took_effect,
            "migration {v}: keel's catalog note disagrees with the catalog: {note}"
        );
    }
    let undo = |range: std::ops::Range<usize>| {
        for s in m.statements[range].iter().rev() {
            if cat.count(&s.effect) == 1 {
                db.query(&undo_sql(db.engine, &s.effect));
            }
        }
    };
    let choice = if rng.chance(25) {
        undo(0..m.statements.len());
        "--mark-rolled-back"
    } else if took_effect && doubt as usize == m.statements.len() {
        "--mark-applied"
    } else {
        if took_effect {
            undo(d..d + 1);
        }
        "--retry"
    };
    assert!(options.contains(choice), "{choice} is not offered: {doc}");
    let args = ["repair", choice, &v.to_string(), "--format", "json"];
    if choice == "--retry" && rng.chance(30) {
        // the retry killed too: the record must stay as true as for `up`
        let mut child = db
            .keel_process(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(400)));
        let _ = child.kill();
        let _ = child.wait();
        return false;
    }
    let out = db.keel().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "repair {choice} {v} ({applied} applied, {doubt} in doubt): {}",
        json(&out)
    );
    true
}

fn kill_loop(engine: Engine) {
    let seed = seed();
    eprintln!("kill loop on {engine:?}: KEEL_KILL_SEED={seed}");
    let mut rng = Rng(seed);
    let db = TestDb::new(engine, "kill_loop_200");
    let migs = generate(engine, &mut rng);
    write_files(&db, &migs);
    let total_statements: usize = migs.iter().map(|m| m.statements.len()).sum();
    eprintln!("{} migrations, {total_statements} statements", migs.len());
    let mut kills = 0;
    let mut in_doubt_seen = 0;
    let mut killed_repairs = 0;
    let start = Instant::now();
    loop {
        let mut child = db
            .keel_process(&["up", "--format", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let last = Instant::now();
        let killed = kills < MAX_KILLS && {
            // connect and lock in the first 100 ms; statements after
            // SQLite runs the whole set in a few seconds: shorter delays, or
            // the run ends before enough kills land
            let span = match engine {
                Engine::Sqlite => 300,
                _ => 1900,
            };
            let delay = if rng.chance(20) {
                rng.below(100)
            } else {
                100 + rng.below(span)
            };
            std::thread::sleep(Duration::from_millis(delay));
            child.try_wait().unwrap().is_none()
        };
        if killed {
            child.kill().unwrap();
            kills += 1;
        }
        let out = child.wait_with_output().unwrap();
        if !killed {
            assert!(out.status.success(), "up: {}", json(&out));
            eprintln!("the last up ran for {:?}", last.elapsed());
            break;
        }
        settle(&db);
        let when = format!("after kill {kills} (seed {seed})");
        let mut round = 0;
        while let Some((v, applied, doubt)) =
            check(&db, &migs, &format!("{when}, repair round {round}"))
        {
            in_doubt_seen += 1;
            let m = &migs[(v - 1) as usize];
            if !resolve(&db, m, applied, doubt.unwrap_or(applied + 1), &mut rng) {
                killed_repairs += 1;
                settle(&db);
            }
            round += 1;
            assert!(round < 20, "{when}: the record of {v} never resolved");
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "the loop did not finish"
        );
    }
    eprintln!(
        "{kills} kills of up, {killed_repairs} of repair --retry, {in_doubt_seen} unfinished records met, {:?}",
        start.elapsed()
    );
    // every migration applied, each effect exactly once
    assert!(check(&db, &migs, "at the end").is_none());
    let rows = records(&db);
    assert_eq!(rows.len() as i64, MIGRATIONS);
    assert!(rows.values().all(|r| r.success), "{rows:?}");
    let cat = catalog(&db);
    for m in &migs {
        for s in m
            .statements
            .iter()
            .filter(|s| !matches!(s.effect, Effect::Session))
        {
            assert_eq!(cat.count(&s.effect), 1, "{:?} of {}", s.effect, m.version);
        }
    }
    let counters = migs
        .iter()
        .flat_map(|m| &m.statements)
        .filter(|s| matches!(s.effect, Effect::Counter { .. }))
        .count();
    assert_eq!(
        cat.counter.values().sum::<i64>() as usize,
        counters,
        "counter rows"
    );
    let (code, doc) = db.keel_json(&["status"]);
    assert_eq!(code, Some(0), "{doc}");
    assert!(kills >= 10, "only {kills} kills landed");
}

#[test]
fn sqlite() {
    kill_loop(Engine::Sqlite);
}

#[test]
fn postgres() {
    kill_loop(Engine::Postgres);
}

#[test]
fn mysql() {
    kill_loop(Engine::Mysql);
}

crate::on_every_engine!(an_in_doubt_note_offers_only_what_fits, |db| {
    db.write(
        "0001_three.sql",
        "-- keel:no-transaction\nCREATE TABLE a (id INTEGER);\nCREATE TABLE b (id INTEGER);\nCREATE TABLE c (id INTEGER);\n",
    );
    db.keel().arg("up").assert().success();
    // what a kill leaves between statement 2 and its record: the table of
    // statement 2 exists, statement 3 never ran
    db.query("DROP TABLE c");
    let no = if db.engine == Engine::Postgres {
        "false"
    } else {
        "0"
    };
    for (applied, started) in [(1, 2), (2, 3)] {
        db.query(&format!(
            "UPDATE keel_migrations SET success = {no}, statements_applied = {applied}, failed_statement_index = {started}, error = NULL WHERE version = 1"
        ));
        let (code, doc) = db.keel_json(&["repair"]);
        assert_eq!(code, Some(1), "{doc}");
        let note = doc["unresolved"][0]["catalog"].as_str().unwrap_or_default();
        if started == 2 {
            // table b exists, c does not: marking applied would be untrue
            assert!(note.contains(" b ") && note.contains("exists"), "{note}");
            assert!(
                note.contains("--retry") && !note.contains("--mark-applied"),
                "{note}"
            );
        } else {
            assert!(
                note.contains(" c ") && note.contains("does not exist"),
                "{note}"
            );
        }
    }
    // the last statement in doubt, and in place: --mark-applied is the truth
    db.query("CREATE TABLE c (id INTEGER)");
    let (_, doc) = db.keel_json(&["repair"]);
    let note = doc["unresolved"][0]["catalog"].as_str().unwrap_or_default();
    assert!(note.contains("it is the last (--mark-applied"), "{note}");
    db.keel()
        .args(["repair", "--mark-applied", "1"])
        .assert()
        .success();
    assert_eq!(db.keel_json(&["status"]).0, Some(0));
});
