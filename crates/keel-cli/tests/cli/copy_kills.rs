//! `keel copy` under `kill -9` at random moments of every phase (connect,
//! DDL, load, index builds, foreign keys, grants, sequences, the
//! incomplete-copy mark): after each kill the target either holds none of
//! the copy, or is marked incomplete and `validate`, `status` and `check`
//! say so; the copy the message suggests then finishes it, `validate`
//! passes and the app role can INSERT and call `lastval()`.
//!
//! Kill moments are drawn from a seeded RNG over the measured length of a
//! whole copy (the seed is printed; `KEEL_KILL_SEED=N` replays a run).

use crate::support::{Engine, PgRole, TestDb};
use rusqlite::Connection;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KILLS: usize = 20;

/// Sixteen tables tied by foreign keys, CHECKs, unique and partial
/// indexes, AUTOINCREMENT, a few thousand rows each.
const SCHEMA: &str = r#"
CREATE TABLE countries (id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL CHECK (name <> ''));
CREATE TABLE cities (id INTEGER PRIMARY KEY AUTOINCREMENT, country_id INTEGER NOT NULL REFERENCES countries(id), name TEXT NOT NULL);
CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL, city_id INTEGER REFERENCES cities(id), deleted_at TEXT, age INTEGER CHECK (age >= 0));
CREATE UNIQUE INDEX users_email_live ON users (email) WHERE deleted_at IS NULL;
CREATE TABLE categories (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES categories(id), name TEXT NOT NULL);
CREATE TABLE products (id INTEGER PRIMARY KEY AUTOINCREMENT, category_id INTEGER NOT NULL REFERENCES categories(id), sku TEXT NOT NULL UNIQUE, price REAL NOT NULL CHECK (price >= 0));
CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL REFERENCES users(id), placed_at TEXT NOT NULL);
CREATE INDEX orders_user ON orders (user_id);
CREATE TABLE order_items (order_id INTEGER NOT NULL REFERENCES orders(id), product_id INTEGER NOT NULL REFERENCES products(id), qty INTEGER NOT NULL CHECK (qty > 0), PRIMARY KEY (order_id, product_id));
CREATE TABLE tags (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE);
CREATE TABLE product_tags (product_id INTEGER NOT NULL REFERENCES products(id), tag_id INTEGER NOT NULL REFERENCES tags(id), PRIMARY KEY (product_id, tag_id));
CREATE TABLE reviews (id INTEGER PRIMARY KEY AUTOINCREMENT, product_id INTEGER NOT NULL REFERENCES products(id), user_id INTEGER NOT NULL REFERENCES users(id), stars INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5));
CREATE INDEX reviews_product ON reviews (product_id);
CREATE TABLE payments (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id INTEGER NOT NULL REFERENCES orders(id), amount REAL NOT NULL CHECK (amount > 0));
CREATE TABLE shipments (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id INTEGER NOT NULL REFERENCES orders(id), city_id INTEGER REFERENCES cities(id));
CREATE TABLE warehouses (id INTEGER PRIMARY KEY AUTOINCREMENT, city_id INTEGER NOT NULL REFERENCES cities(id), name TEXT NOT NULL);
CREATE TABLE stock (warehouse_id INTEGER NOT NULL REFERENCES warehouses(id), product_id INTEGER NOT NULL REFERENCES products(id), qty INTEGER NOT NULL DEFAULT 0 CHECK (qty >= 0), PRIMARY KEY (warehouse_id, product_id));
CREATE TABLE coupons (id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1);
CREATE UNIQUE INDEX coupons_active_code ON coupons (code) WHERE active = 1;
CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER REFERENCES users(id), action TEXT NOT NULL);
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 60) INSERT INTO countries (code, name) SELECT 'C' || x, 'country ' || x FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 600) INSERT INTO cities (country_id, name) SELECT 1 + x % 60, 'city ' || x FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3000) INSERT INTO users (email, city_id, deleted_at, age) SELECT 'u' || (x % 2900) || '@example.com', 1 + x % 600, CASE WHEN x > 2900 THEN '2024-01-01' END, x % 90 FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 40) INSERT INTO categories (id, parent_id, name) SELECT x, CASE WHEN x > 5 THEN 1 + x % 5 END, 'cat ' || x FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1500) INSERT INTO products (category_id, sku, price) SELECT 1 + x % 40, 'SKU-' || x, (x % 500) * 1.25 FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3000) INSERT INTO orders (user_id, placed_at) SELECT 1 + x % 3000, '2024-02-' || (10 + x % 18) FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3000) INSERT INTO order_items SELECT x, 1 + x % 1500, 1 + x % 7 FROM n UNION ALL SELECT x, 1 + (x + 700) % 1500, 2 FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100) INSERT INTO tags (name) SELECT 'tag ' || x FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1500) INSERT INTO product_tags SELECT x, 1 + x % 100 FROM n UNION ALL SELECT x, 1 + (x + 50) % 100 FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3000) INSERT INTO reviews (product_id, user_id, stars) SELECT 1 + x % 1500, 1 + x % 3000, 1 + x % 5 FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3000) INSERT INTO payments (order_id, amount) SELECT x, 10 + x % 300 FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000) INSERT INTO shipments (order_id, city_id) SELECT x, 1 + x % 600 FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 20) INSERT INTO warehouses (city_id, name) SELECT x, 'wh ' || x FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1500) INSERT INTO stock SELECT 1 + x % 20, x, x % 40 FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 500) INSERT INTO coupons (code, active) SELECT 'CODE' || (x % 400), CASE WHEN x > 400 THEN 0 ELSE 1 END FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2500) INSERT INTO audit (user_id, action) SELECT 1 + x % 3000, 'login' FROM n;
DELETE FROM audit WHERE id > 2490;
"#;

const TABLES: [&str; 16] = [
    "countries",
    "cities",
    "users",
    "categories",
    "products",
    "orders",
    "order_items",
    "tags",
    "product_tags",
    "reviews",
    "payments",
    "shipments",
    "warehouses",
    "stock",
    "coupons",
    "audit",
];

/// splitmix64, seeded.
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
        self.next() % n.max(1)
    }
}

fn copy_cmd(db: &TestDb, src: &str, role: &str, extra: &[&str]) -> Command {
    let mut cmd = db.keel_process(&["copy", src, &db.url, "--grant", role]);
    cmd.args(extra)
        .args(["--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs a copy to the end (a minute at most); exit code and what it said.
fn copy(db: &TestDb, src: &str, role: &str, extra: &[&str]) -> (Option<i32>, String) {
    let mut child = copy_cmd(db, src, role, extra).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("keel copy did not finish within two minutes");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// keel's answer (exit code and all it printed) to a command on the target.
fn keel_says(db: &TestDb, args: &[&str]) -> (Option<i32>, String) {
    let out = db.keel().args(args).output().unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Ends the killed keel's server sessions (a COPY or an index build it
/// left running), so what is checked is what stays.
fn settle(db: &TestDb) {
    let start = Instant::now();
    let others = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'";
    while db.scalar(others) != "0" && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
    while db.scalar(others) != "0" && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn copied_tables(db: &TestDb) -> usize {
    let list: Vec<String> = TABLES.iter().map(|t| format!("'{t}'")).collect();
    db.scalar(&format!(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN ({})",
        list.join(", ")
    ))
    .parse()
    .unwrap()
}

fn marked(db: &TestDb) -> bool {
    db.scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'keel_copy_incomplete'") != "0"
}

/// What a finished copy must give the app: `validate` passes, and the
/// `--grant` role can INSERT and read the id back with `lastval()`.
fn assert_finished(db: &TestDb, src: &str, app: &PgRole, when: &str) {
    assert!(!marked(db), "{when}: still marked incomplete");
    assert_eq!(copied_tables(db), 16, "{when}");
    let (code, said) = keel_says(db, &["validate", src, &db.url]);
    assert_eq!(code, Some(0), "{when}: validate: {said}");
    for (table, cols) in [
        ("countries", "(code, name) VALUES ('ZZ', 'new')"),
        ("audit", "(user_id, action) VALUES (1, 'insert')"),
    ] {
        let rows = app
            .exec(
                db,
                &format!("INSERT INTO {table} {cols}; SELECT lastval()::text"),
            )
            .unwrap_or_else(|e| panic!("{when}: INSERT and lastval() on {table} as the app: {e}"));
        let id: i64 = rows[0][0].as_deref().unwrap().parse().unwrap();
        let max: i64 = db
            .scalar(&format!("SELECT max(id)::text FROM {table}"))
            .parse()
            .unwrap();
        assert_eq!(id, max, "{when}: {table}");
    }
    // the copy's constraints hold: a CHECK, a partial unique index, a key
    let refused = |sql: &str| assert!(app.exec(db, sql).is_err(), "{when}: {sql} was accepted");
    refused("INSERT INTO reviews (product_id, user_id, stars) VALUES (1, 1, 9)");
    refused("INSERT INTO users (email) VALUES ('u1@example.com')");
    refused("INSERT INTO orders (user_id, placed_at) VALUES (999999, 'x')");
}

/// The states a kill can leave, as the catalog shows them.
#[derive(Debug, Default)]
struct Seen {
    nothing: usize,
    incomplete: usize,
    finished: usize,
    killed_reruns: usize,
    by_phase: std::collections::BTreeMap<&'static str, usize>,
}

/// What the finish phase had reached, from the catalog of a marked target.
fn finish_phase(db: &TestDb, role: &str) -> &'static str {
    let pks = db.scalar("SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public' AND contype = 'p'");
    let fks = db.scalar("SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public' AND contype = 'f'");
    let grants = db.scalar(&format!(
        "SELECT count(*) FROM information_schema.role_table_grants WHERE grantee = '{role}'"
    ));
    if pks == "0" {
        "keys and indexes"
    } else if fks == "0" {
        "foreign keys"
    } else if grants == "0" {
        "grants"
    } else {
        "sequences and mark"
    }
}

/// What the catalog shows of a running copy: the rows committed, the
/// primary keys, the foreign keys, the grants, the mark removed (once seen).
fn state(db: &TestDb, role: &str) -> [bool; 5] {
    let rows = db.query(&format!(
        "SELECT (SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 'audit'), \
         (SELECT count(*) FROM pg_constraint WHERE contype = 'p' AND connamespace = 'public'::regnamespace), \
         (SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace), \
         (SELECT count(*) FROM information_schema.role_table_grants WHERE grantee = '{role}'), \
         (SELECT count(*) FROM pg_tables WHERE tablename = 'keel_copy_incomplete')"
    ));
    let v: Vec<bool> = rows[0]
        .iter()
        .map(|c| c.as_deref().is_some_and(|c| c != "0"))
        .collect();
    [v[0], v[1], v[2], v[3], v[0] && !v[4]]
}

/// A whole copy, with the catalog polled while it runs: exit code, output,
/// when (ms from the start) the commit, the keys, the foreign keys, the
/// grants and the mark's removal first showed, and the whole run's length.
fn measured_copy(
    db: &TestDb,
    src: &str,
    role: &str,
) -> (Option<i32>, String, [Option<u64>; 5], u64) {
    let stop = std::sync::atomic::AtomicBool::new(false);
    let start = Instant::now();
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let mut seen: [Option<u64>; 5] = [None; 5];
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let now = state(db, role);
                let at = start.elapsed().as_millis() as u64;
                for (k, on) in now.iter().enumerate() {
                    if *on && seen[k].is_none() {
                        seen[k] = Some(at);
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            seen
        });
        let (code, said) = copy(db, src, role, &[]);
        let full = start.elapsed().as_millis() as u64;
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let phases = watcher.join().unwrap();
        (code, said, phases, full)
    })
}

#[test]
fn a_copy_killed_in_every_phase_is_never_half_and_valid() {
    let seed = match std::env::var("KEEL_KILL_SEED") {
        Ok(s) => s.trim().parse().expect("KEEL_KILL_SEED is a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7),
    };
    eprintln!("copy kills: KEEL_KILL_SEED={seed}");
    let mut rng = Rng(seed);
    let app = PgRole::new("copy_kills");
    let scratch = TestDb::new(Engine::Postgres, "copy_kills_measure");
    let source_dir = tempfile::tempdir().unwrap();
    let src = source_dir.path().join("source.db");
    Connection::open(&src)
        .unwrap()
        .execute_batch(SCHEMA)
        .unwrap();
    let src = src.display().to_string();
    // how long a whole copy and each of its visible phases take here, now
    let (code, said, phases, full) = measured_copy(&scratch, &src, &app.name);
    assert_eq!(code, Some(0), "{said}");
    assert_finished(&scratch, &src, &app, "the measuring copy");
    eprintln!("a whole copy takes {full} ms; phases start at {phases:?} ms");
    // the length of each phase: before the commit (connect, DDL, load),
    // then each step of the finish up to the mark's removal
    let at: Vec<u64> = phases.iter().map(|p| p.unwrap_or(full)).collect();
    let widths = [
        at[0],
        at[1].saturating_sub(at[0]),
        at[2].saturating_sub(at[1]),
        at[3].saturating_sub(at[2]),
        at[4].saturating_sub(at[3]),
    ];

    let mut seen = Seen::default();
    for i in 0..KILLS {
        let db = TestDb::new(Engine::Postgres, &format!("copy_kills_{i}"));
        // each phase in turn: wait until the catalog shows it began (the
        // first: the start), then a random moment within its length
        // (the first phase twice as often: connect, DDL and load are in it)
        let phase = (i % (widths.len() + 1)).saturating_sub(1);
        let delay = rng.below(widths[phase] + 1);
        let mut child = copy_cmd(&db, &src, &app.name, &[]).spawn().unwrap();
        let start = Instant::now();
        while phase > 0
            && child.try_wait().unwrap().is_none()
            && !state(&db, &app.name)[phase - 1]
            && start.elapsed() < Duration::from_secs(120)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        settle(&db);
        let when = format!("kill {i}, {delay} ms into phase {phase} (seed {seed})");
        let tables = copied_tables(&db);
        if tables == 0 {
            assert!(!marked(&db), "{when}: a mark without tables");
            seen.nothing += 1;
            let (code, said) = copy(&db, &src, &app.name, &[]);
            assert_eq!(code, Some(0), "{when}: the copy again: {said}");
        } else if marked(&db) {
            seen.incomplete += 1;
            *seen
                .by_phase
                .entry(finish_phase(&db, &app.name))
                .or_default() += 1;
            // every gate says so
            for args in [
                vec!["validate", src.as_str(), db.url.as_str()],
                vec!["status"],
                vec!["check"],
            ] {
                let (code, said) = keel_says(&db, &args);
                assert_ne!(
                    code,
                    Some(0),
                    "{when}: {args:?} passes an incomplete copy: {said}"
                );
                assert!(
                    ["did not finish", "has not finished", "incomplete"]
                        .iter()
                        .any(|w| said.to_lowercase().contains(w)),
                    "{when}: {args:?} does not name the incomplete copy: {said}"
                );
            }
            // the copy again, as the message says
            let (code, said) = copy(&db, &src, &app.name, &[]);
            assert_eq!(code, Some(2), "{when}: {said}");
            assert!(said.contains("--if-exists drop"), "{when}: {said}");
            if rng.below(3) == 0 {
                // the re-run killed too: still all or nothing
                let mut child = copy_cmd(&db, &src, &app.name, &["--if-exists", "drop"])
                    .spawn()
                    .unwrap();
                std::thread::sleep(Duration::from_millis(rng.below(full)));
                let _ = child.kill();
                let _ = child.wait();
                settle(&db);
                seen.killed_reruns += 1;
                assert_eq!(
                    copied_tables(&db),
                    16,
                    "{when}: a killed re-run lost tables"
                );
                if !marked(&db) {
                    // it had finished
                    assert_finished(&db, &src, &app, &format!("{when}, killed re-run"));
                }
            }
            let (code, said) = copy(&db, &src, &app.name, &["--if-exists", "drop"]);
            assert_eq!(code, Some(0), "{when}: the suggested re-run: {said}");
        } else {
            // unmarked tables: the copy finished before the kill landed
            seen.finished += 1;
            assert_eq!(
                tables,
                16,
                "{when}: {tables} tables and no mark ({})",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert_finished(&db, &src, &app, &when);
    }
    eprintln!("{seen:?}");
    assert!(
        seen.nothing > 0 && seen.incomplete > 0,
        "the kills did not reach both sides of the commit: {seen:?}"
    );
}
