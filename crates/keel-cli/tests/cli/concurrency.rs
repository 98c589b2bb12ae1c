//! Incident 5: N app instances start at once. Every migration must be
//! applied exactly once, and the waiters must exit 0 with nothing to do.

use crate::on_every_engine;
use crate::support::{Engine, TestDb, json};
use std::process::Stdio;
use std::time::{Duration, Instant};

on_every_engine!(
    eight_concurrent_runners_apply_each_of_20_migrations_once,
    |db| {
        db.write(
            "0001_log.sql",
            "CREATE TABLE applied_log (v INTEGER NOT NULL);\n",
        );
        for i in 1..=20 {
            db.write(
            &format!("{:04}_m{i}.sql", i + 1),
            format!("CREATE TABLE m_{i} (id INTEGER PRIMARY KEY);\nINSERT INTO applied_log (v) VALUES ({i});\n"),
        );
        }
        let children: Vec<_> = (0..8)
            .map(|_| {
                db.keel_process(&["up", "--format", "json"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut applied_total = 0;
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
            applied_total += json(&out)["steps"].as_array().unwrap().len();
        }
        assert_eq!(
            applied_total, 21,
            "each migration applied by exactly one runner"
        );
        assert_eq!(db.scalar("SELECT count(*) FROM applied_log"), "20");
        assert_eq!(db.scalar("SELECT count(DISTINCT v) FROM applied_log"), "20");
        assert_eq!(
            db.scalar("SELECT count(*) FROM keel_migrations WHERE success = TRUE"),
            "21"
        );
    }
);

fn slow_sql(db: &TestDb) -> &'static str {
    match db.engine {
        Engine::Postgres => "SELECT pg_sleep(3);\n",
        Engine::Mysql => "SELECT SLEEP(3);\n",
        Engine::Sqlite => unreachable!(),
    }
}

/// A runner that cannot get the lock in time says who holds it and exits 2
/// with the `lock_timeout` kind, changing nothing.
#[test]
fn lock_timeout_names_the_holder_postgres_and_mysql() {
    for engine in [Engine::Postgres, Engine::Mysql] {
        let db = TestDb::new(engine, "lock_timeout");
        db.write("0001_slow.sql", slow_sql(&db));
        let mut holder = db
            .keel_process(&["up"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(1200));
        let out = db
            .keel()
            .args(["up", "--lock-timeout", "0.5", "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{engine:?}");
        let doc = json(&out);
        assert_eq!(doc["error"]["kind"], "lock_timeout");
        let who = doc["error"]["holder"].as_str().unwrap();
        assert!(who.contains("connection") || who.contains("pid"), "{who}");
        assert!(holder.wait().unwrap().success());
    }
}

#[test]
fn lock_timeout_names_the_holder_sqlite() {
    let db = TestDb::new(Engine::Sqlite, "lock_timeout_sqlite");
    db.write("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
    let lock_path = format!("{}.keel-lock", db.url.trim_start_matches("sqlite:"));
    let file = std::fs::File::create(&lock_path).unwrap();
    file.lock().unwrap();
    let out = db
        .keel()
        .args(["up", "--lock-timeout", "0.3", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["error"]["kind"], "lock_timeout");
    assert!(!db.has_table("a"));
    file.unlock().unwrap();
    db.keel().arg("up").assert().success();
    assert!(db.has_table("a"));
}

/// Flyway and golang-migrate deadlock here: a waiting runner blocked inside
/// `pg_advisory_lock` holds a snapshot that `CREATE INDEX CONCURRENTLY`
/// waits for. keel polls, so both finish.
#[test]
fn create_index_concurrently_while_another_runner_waits_does_not_deadlock() {
    let db = TestDb::new(Engine::Postgres, "cic_no_deadlock");
    db.write("0001_table.sql", "CREATE TABLE t (id int PRIMARY KEY, v int);\nINSERT INTO t SELECT g, g FROM generate_series(1, 1000) g;\n");
    db.write(
        "0002_index.sql",
        "-- keel:no-transaction\nSELECT pg_sleep(1.5);\nCREATE INDEX CONCURRENTLY t_v_idx ON t (v);\n",
    );
    let start = Instant::now();
    let first = db
        .keel_process(&["up"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let second = db
        .keel_process(&["up", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (a, b) = (
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    );
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "took {:?}",
        start.elapsed()
    );
    assert!(
        json(&b)["waited_for_lock_ms"].as_u64().is_some(),
        "the second runner should have waited"
    );
    assert_eq!(
        db.scalar("SELECT indisvalid::text FROM pg_index WHERE indexrelid = 't_v_idx'::regclass"),
        "true"
    );
}
