//! keel through PgBouncer in transaction pooling (issue 12, item 4): a
//! throwaway PgBouncer from Debian's package (`scripts/pgbouncer.sh`, its
//! own ini and port, `default_pool_size = 3` so that clients really share
//! server connections) in front of the shared PostgreSQL. Each test's
//! database is created directly on 5432 and reached through the pooler's
//! `*` wildcard.

use crate::support::{Engine, TestDb, json};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The port of this test run's PgBouncer, started once.
fn bouncer_port() -> u16 {
    static PORT: OnceLock<u16> = OnceLock::new();
    *PORT.get_or_init(|| {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("keel-pgbouncer-{}-{port}", std::process::id()));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pgbouncer.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg(&dir)
            .arg(port.to_string())
            .arg(std::process::id().to_string())
            .output()
            .expect("run scripts/pgbouncer.sh");
        assert!(
            out.status.success(),
            "scripts/pgbouncer.sh could not start PgBouncer:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        port
    })
}

/// The test database's URL through the pooler.
fn pooled_url(db: &TestDb) -> String {
    db.url.replace(":5432/", &format!(":{}/", bouncer_port()))
}

fn keel(db: &TestDb, url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("keel"));
    cmd.current_dir(db.path())
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .args(args)
        .args(["--database-url", url]);
    cmd
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `keel ARGS --format json` through the pooler: exit code, document, stderr.
fn pooled_json(db: &TestDb, args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let url = pooled_url(db);
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = keel(db, &url, &all).output().expect("run keel");
    (
        out.status.code(),
        json(&out),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Twenty migrations: a slow one, one that sets the session, one outside
/// a transaction; each records itself once in `hits`.
fn twenty_migrations(db: &TestDb) {
    db.write(
        "0001_hits.sql",
        "CREATE TABLE hits (version int NOT NULL);\nINSERT INTO hits VALUES (1);\n",
    );
    for v in 2..=20 {
        let body = match v {
            5 => "SET search_path = public;\nSET work_mem = '7MB';\n".to_string(),
            10 => "SELECT pg_sleep(0.3);\n".to_string(),
            _ => String::new(),
        };
        let (header, tail) = if v == 15 {
            (
                "-- keel:no-transaction\n",
                "CREATE INDEX CONCURRENTLY t_15_id ON t_15 (id);\n",
            )
        } else {
            ("", "")
        };
        db.write(
            &format!("{v:04}_m{v}.sql"),
            format!(
                "{header}{body}CREATE TABLE t_{v:02} (id int);\n{tail}INSERT INTO hits VALUES ({v});\n"
            ),
        );
    }
}

/// Eight `keel up` at once on `url`; their outputs, and the wall time.
fn eight_runners(db: &TestDb, url: &str) -> (Vec<Output>, Duration) {
    let start = Instant::now();
    let children: Vec<_> = (0..8)
        .map(|_| {
            keel(db, url, &["up"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn keel")
        })
        .collect();
    let outputs = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait for keel"))
        .collect();
    (outputs, start.elapsed())
}

/// Every migration applied exactly once: one successful tracking row per
/// version, its table, and its one row in `hits`.
fn applied_exactly_once(db: &TestDb) {
    assert_eq!(
        db.query(
            "SELECT count(*), count(DISTINCT version), bool_and(success) FROM keel_migrations"
        ),
        vec![vec![Some("20".into()), Some("20".into()), Some("t".into())]]
    );
    assert_eq!(
        db.query("SELECT count(*), count(DISTINCT version) FROM hits"),
        vec![vec![Some("20".into()), Some("20".into())]]
    );
    for v in 2..=20 {
        assert!(db.has_table(&format!("t_{v:02}")), "t_{v:02} is missing");
    }
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM pg_index WHERE indexrelid = 't_15_id'::regclass AND indisvalid"
        ),
        "1"
    );
}

#[test]
fn eight_runners_through_pgbouncer_apply_each_migration_once() {
    let db = TestDb::new(Engine::Postgres, "pgb_eight");
    twenty_migrations(&db);
    let url = pooled_url(&db);
    let (outputs, pooled_time) = eight_runners(&db, &url);
    let mut waited = 0;
    for out in &outputs {
        let all = text(out);
        assert_eq!(out.status.code(), Some(0), "a runner failed:\n{all}");
        assert!(
            all.contains("through a transaction pooler") && all.contains("using a lease lock"),
            "{all}"
        );
        assert!(!all.contains("prepared statement"), "{all}");
        if all.contains("waiting for the migration lock, held by keel") {
            assert!(all.contains("keel_migrations_lock"), "{all}");
            waited += 1;
        }
    }
    assert!(waited >= 1, "no runner ever waited for the lease");
    applied_exactly_once(&db);
    // released: no lease is left behind
    assert_eq!(db.scalar("SELECT count(*) FROM keel_migrations_lock"), "0");
    // migration 5's SET did not leak into the pooler's server connections
    let leaked = (0..6)
        .map(|_| {
            let out = keel(&db, &url, &["status"]).output().expect("run keel");
            assert_eq!(out.status.code(), Some(0), "{}", text(&out));
            db_setting_through_pooler(&url)
        })
        .filter(|w| w == "7MB")
        .count();
    assert_eq!(leaked, 0, "a migration's SET work_mem leaked into the pool");

    // the same on a direct connection, for the wall time
    let direct = TestDb::new(Engine::Postgres, "pgb_eight_direct");
    twenty_migrations(&direct);
    let (outputs, direct_time) = eight_runners(&direct, &direct.url);
    for out in &outputs {
        assert_eq!(out.status.code(), Some(0), "{}", text(out));
        assert!(!text(out).contains("pooler"), "{}", text(out));
    }
    applied_exactly_once(&direct);
    eprintln!(
        "8 runners x 20 migrations: through PgBouncer {:.2} s, direct {:.2} s",
        pooled_time.as_secs_f64(),
        direct_time.as_secs_f64()
    );
}

/// `work_mem` as a fresh client of the pooler sees it.
fn db_setting_through_pooler(url: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect through PgBouncer");
        let handle = tokio::spawn(conn);
        let rows = client
            .simple_query("SHOW work_mem")
            .await
            .expect("SHOW work_mem");
        drop(client);
        let _ = handle.await;
        rows.into_iter()
            .find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                _ => None,
            })
            .unwrap_or_default()
    })
}

#[test]
fn a_killed_lease_holder_is_taken_over_after_expiry() {
    let db = TestDb::new(Engine::Postgres, "pgb_killed");
    db.write("0001_first.sql", "CREATE TABLE first (id int);\n");
    db.write(
        "0002_slow.sql",
        "-- keel:no-transaction\nCREATE TABLE second (id int);\nSELECT pg_sleep(3);\nCREATE TABLE third (id int);\n",
    );
    let url = pooled_url(&db);
    let mut child = keel(&db, &url, &["up"])
        .env("KEEL_LEASE_SECONDS", "2")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn keel");
    let start = Instant::now();
    loop {
        let started = if db.has_table("keel_migrations") {
            db.query("SELECT failed_statement_index FROM keel_migrations WHERE version = 2")
                .first()
                .and_then(|r| r[0].clone())
        } else {
            None
        };
        if started.as_deref() == Some("2") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "statement 2 never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL keel");
    let _ = child.wait();
    // the killed runner's lease is still there, live
    assert_eq!(
        db.scalar("SELECT count(*) FROM keel_migrations_lock WHERE expires_at > clock_timestamp()"),
        "1"
    );

    // a runner with a session of its own respects the lease too
    let out = keel(&db, &db.url, &["up", "--lock-timeout", "0.3"])
        .output()
        .expect("run keel");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("waiting for the migration lock")
            && text(&out).contains("the lease in keel_migrations_lock"),
        "{}",
        text(&out)
    );

    // status names the holder of the lease it does not take
    let (_, status, _) = pooled_json(&db, &["status"]);
    let holder = status["lock_holder"].as_str().unwrap_or_default();
    assert!(
        holder.starts_with("keel ") && holder.contains("the lease in keel_migrations_lock"),
        "{status}"
    );

    // the next runner waits for the lease to expire, takes it over, and
    // then says what the killed one left: statement 2 in doubt
    let taking_over = Instant::now();
    let out = keel(&db, &url, &["up"])
        .env("KEEL_LEASE_SECONDS", "2")
        .output()
        .expect("run keel");
    let waited = taking_over.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("waiting for the migration lock, held by keel")
            && stderr.contains("the lease in keel_migrations_lock"),
        "{stderr}"
    );
    assert!(
        waited >= Duration::from_millis(500),
        "took the live lease over at once ({waited:?}): {stderr}"
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("refusing") && stderr.contains("in doubt"),
        "{stderr}"
    );
    assert_eq!(db.scalar("SELECT count(*) FROM keel_migrations_lock"), "0");

    let (code, status, _) = pooled_json(&db, &["status"]);
    assert_eq!(status["lock_holder"], serde_json::Value::Null, "{status}");
    assert_eq!(code, Some(1), "{status}");
    assert_eq!(status["migrations"][1]["state"], "in_doubt", "{status}");
    assert_eq!(status["migrations"][1]["statement_index"], 2, "{status}");
    let (_, history, _) = pooled_json(&db, &["history"]);
    assert_eq!(
        history["migrations"][1]["in_doubt_statement"], 2,
        "{history}"
    );
    assert!(!db.has_table("third"));

    // the user undoes what took effect and says so; then up finishes
    // (waiting for the killed runner's sleep to end on the server first)
    db.query("DROP TABLE second");
    let (code, doc, _) = pooled_json(&db, &["repair", "--mark-rolled-back", "2"]);
    assert_eq!(code, Some(0), "{doc}");
    let (code, doc, stderr) = pooled_json(&db, &["up"]);
    assert_eq!(code, Some(0), "{doc}\n{stderr}");
    assert!(db.has_table("second") && db.has_table("third"));
    assert_eq!(
        db.scalar("SELECT count(*) FROM keel_migrations WHERE success"),
        "2"
    );
}

#[test]
fn every_command_through_pgbouncer() {
    let db = TestDb::new(Engine::Postgres, "pgb_commands");
    db.write(
        "0001_users.up.sql",
        "CREATE TABLE users (id bigserial PRIMARY KEY, name text);\n",
    );
    db.write("0001_users.down.sql", "DROP TABLE users;\n");
    db.write(
        "0002_posts.up.sql",
        "CREATE TABLE posts (id bigserial PRIMARY KEY, title text);\n",
    );
    db.write("0002_posts.down.sql", "DROP TABLE posts;\n");

    let out = keel(&db, &pooled_url(&db), &["up"])
        .output()
        .expect("run keel");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("through a transaction pooler"),
        "{}",
        text(&out)
    );
    let (code, doc, _) = pooled_json(&db, &["status"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["migrations"][1]["state"], "applied", "{doc}");
    let (code, doc, _) = pooled_json(&db, &["history"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["migrations"].as_array().map(Vec::len), Some(2), "{doc}");
    let (code, doc, stderr) = pooled_json(&db, &["check"]);
    assert_eq!(code, Some(0), "{doc}\n{stderr}");
    // the lease table is keel's own: no drift on a direct connection either
    let out = keel(&db, &db.url, &["check"]).output().expect("run keel");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(db.has_table("keel_migrations_lock"));

    let (code, doc, _) = pooled_json(&db, &["down", "--steps", "1"]);
    assert_eq!(code, Some(0), "{doc}");
    assert!(!db.has_table("posts") && db.has_table("users"));
    assert!(
        !db.scalar("SELECT reverted_at IS NULL FROM keel_migrations WHERE version = 2")
            .starts_with('t')
    );

    // a modified file, accepted by repair
    db.write(
        "0001_users.up.sql",
        "CREATE TABLE users (id bigserial PRIMARY KEY, name text); -- reviewed\n",
    );
    let (code, doc, _) = pooled_json(&db, &["status"]);
    assert_eq!(code, Some(1), "{doc}");
    let (code, doc, _) = pooled_json(&db, &["repair"]);
    assert_eq!(code, Some(0), "{doc}");
    let (code, doc, _) = pooled_json(&db, &["up"]);
    assert_eq!(code, Some(0), "{doc}");
    assert!(db.has_table("posts"));

    // the pooler's detection can be overridden from the URL: pgbouncer=true
    // as Prisma spells it says so without a probe
    let url = format!("{}?pgbouncer=true", db.url);
    let out = keel(&db, &url, &["status"]).output().expect("run keel");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("through a transaction pooler (the URL says so)"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_session_setting_outside_a_transaction_is_refused_behind_a_pooler() {
    let db = TestDb::new(Engine::Postgres, "pgb_session");
    db.write("0001_a.sql", "CREATE TABLE a (id int);\n");
    db.write(
        "0002_index.sql",
        "-- keel:no-transaction\nSET maintenance_work_mem = '256MB';\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n",
    );
    let (code, doc, _) = pooled_json(&db, &["up"]);
    assert_eq!(code, Some(2), "{doc}");
    assert_eq!(doc["error"]["kind"], "refused", "{doc}");
    let problems = doc["error"]["problems"].to_string();
    assert!(problems.contains("0002_index.sql:2"), "{doc}");
    // refused before anything ran
    assert!(!db.has_table("a"));
    // the same file runs on a direct connection
    let out = keel(&db, &db.url, &["up"]).output().expect("run keel");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(db.has_table("a"));
}

#[test]
fn a_lost_lease_stops_the_run_before_the_next_migration() {
    let db = TestDb::new(Engine::Postgres, "pgb_lost");
    // a hostile migration removes keel's lease and outlasts it
    db.write(
        "0001_steal.sql",
        "DELETE FROM keel_migrations_lock;\nSELECT pg_sleep(1.5);\n",
    );
    db.write("0002_after.sql", "CREATE TABLE after_loss (id int);\n");
    let out = keel(&db, &pooled_url(&db), &["up"])
        .env("KEEL_LEASE_SECONDS", "1")
        .output()
        .expect("run keel");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("keel lost its lease in keel_migrations_lock"),
        "{}",
        text(&out)
    );
    // the migration that ran is recorded; the next one never started
    assert_eq!(
        db.query("SELECT version, success FROM keel_migrations"),
        vec![vec![Some("1".into()), Some("t".into())]]
    );
    assert!(!db.has_table("after_loss"));
}
