//! Records that are always true: a file that controls its own transaction
//! is refused before anything runs; a statement killed while it runs is
//! recorded in doubt, never "not applied", and `repair` will not clear it
//! without the user's decision.

use crate::on_every_engine;
use crate::support::{Engine, TestDb};
use std::time::{Duration, Instant};

on_every_engine!(own_begin_commit_is_refused_or_recorded_truly, |db| {
    db.write(
        "0001_own_tx.sql",
        "CREATE TABLE before_tx (id INTEGER);\nBEGIN;\nCREATE TABLE kept (id INTEGER);\nCOMMIT;\nINSERT INTO no_such_table VALUES (1);\n",
    );
    let (code, doc) = db.keel_json(&["up"]);
    assert_eq!(code, Some(2), "{doc}");
    if db.engine == Engine::Mysql {
        // statement by statement anyway: the record says what stayed
        assert_eq!(doc["error"]["kind"], "migration_failed", "{doc}");
        assert_eq!(doc["error"]["failure"]["statements_applied"], 4, "{doc}");
        assert!(db.has_table("kept"));
        let kept = db.scalar("SELECT statements_applied FROM keel_migrations WHERE version = 1");
        assert_eq!(kept, "4");
    } else {
        assert_eq!(doc["error"]["kind"], "refused", "{doc}");
        let problems = doc["error"]["problems"].to_string();
        assert!(problems.contains("0001_own_tx.sql:2"), "{problems}");
        assert!(problems.contains("0001_own_tx.sql:4"), "{problems}");
        let hint = doc["error"]["hint"].as_str().unwrap_or_default();
        assert!(hint.contains("-- keel:no-transaction"), "{hint}");
        // nothing ran, nothing recorded
        assert!(!db.has_table("before_tx") && !db.has_table("kept"));
        assert_eq!(db.scalar("SELECT count(*) FROM keel_migrations"), "0");
        // the dry run refuses the same way
        let (code, doc) = db.keel_json(&["up", "--dry-run"]);
        assert_eq!(
            (code, doc["error"]["kind"].as_str()),
            (Some(2), Some("refused"))
        );
        // marked no-transaction, it runs as written and keel records what stayed
        db.write(
            "0001_own_tx.sql",
            "-- keel:no-transaction\nCREATE TABLE before_tx (id INTEGER);\nBEGIN;\nCREATE TABLE kept (id INTEGER);\nCOMMIT;\nINSERT INTO no_such_table VALUES (1);\n",
        );
        let (code, doc) = db.keel_json(&["up"]);
        assert_eq!(code, Some(2), "{doc}");
        assert_eq!(doc["error"]["failure"]["statements_applied"], 4, "{doc}");
        assert!(db.has_table("kept"));
        assert!(
            !doc["error"]["hint"]
                .to_string()
                .contains("nothing of migration")
        );
    }
    // a plain repair never erases the record of what stayed applied
    db.keel().arg("repair").assert().code(1);
    assert_eq!(db.scalar("SELECT count(*) FROM keel_migrations"), "1");
});

on_every_engine!(
    trigger_and_routine_bodies_are_not_transaction_control,
    |db| {
        let sql = match db.engine {
            Engine::Postgres => {
                "CREATE TABLE a (id int);\nCREATE FUNCTION f() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql;\nDO $$ BEGIN PERFORM 1; END $$;\n"
            }
            Engine::Sqlite => {
                "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\nCREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO b VALUES (new.id); END;\n"
            }
            Engine::Mysql => {
                "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\nCREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW BEGIN INSERT INTO b VALUES (NEW.id); END;\n"
            }
        };
        db.write("0001_bodies.sql", sql);
        db.keel().arg("up").assert().success();
        assert!(db.has_table("a"));
    }
);

/// A statement that runs for a few seconds on each engine.
fn slow_statement(db: &TestDb) -> &'static str {
    match db.engine {
        Engine::Mysql => "CREATE TABLE slow AS SELECT SLEEP(3) AS s",
        Engine::Postgres => "CREATE TABLE slow AS SELECT 1 AS s FROM pg_sleep(3)",
        Engine::Sqlite => {
            "CREATE TABLE slow AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000000) SELECT max(x) AS s FROM c"
        }
    }
}

on_every_engine!(killed_while_a_statement_runs_is_in_doubt, |db| {
    let header = if db.engine == Engine::Mysql {
        ""
    } else {
        "-- keel:no-transaction\n"
    };
    db.write(
        "0001_slow.sql",
        format!(
            "{header}CREATE TABLE first (id INTEGER);\n{};\nCREATE TABLE last (id INTEGER);\n",
            slow_statement(&db)
        ),
    );
    let mut child = db
        .keel_process(&["up"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // wait until keel has recorded that statement 2 started, then kill it
    let start = Instant::now();
    loop {
        let started = if db.has_table("keel_migrations") {
            db.query("SELECT failed_statement_index FROM keel_migrations WHERE version = 1")
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
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap();
    let _ = child.wait();
    // the server too gives up on the statement, so what follows is settled
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
    std::thread::sleep(Duration::from_millis(100));

    let (code, doc) = db.keel_json(&["status"]);
    assert_eq!(code, Some(1));
    let m = &doc["migrations"][0];
    assert_eq!(m["state"], "in_doubt", "{doc}");
    assert_eq!(m["statement_index"], 2, "{doc}");
    assert_eq!(m["statements_applied"], 1, "{doc}");
    let out = db.keel().arg("status").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("in-doubt") && text.contains("statement 2 in doubt"),
        "{text}"
    );
    let (_, history) = db.keel_json(&["history"]);
    assert_eq!(
        history["migrations"][0]["in_doubt_statement"], 2,
        "{history}"
    );

    // up refuses, and a plain repair keeps the record
    let (code, doc) = db.keel_json(&["up"]);
    assert_eq!(
        (code, doc["error"]["kind"].as_str()),
        (Some(2), Some("refused"))
    );
    assert!(
        doc["error"]["problems"].to_string().contains("in doubt"),
        "{doc}"
    );
    let (code, doc) = db.keel_json(&["repair"]);
    assert_eq!(code, Some(1), "{doc}");
    assert!(
        doc["unresolved"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("in doubt"),
        "{doc}"
    );
    assert_eq!(db.scalar("SELECT count(*) FROM keel_migrations"), "1");
    assert!(!db.has_table("last"));

    // the user looks, undoes what took effect, and says so
    db.query("DROP TABLE first");
    if db.has_table("slow") {
        db.query("DROP TABLE slow");
    }
    db.keel()
        .args(["repair", "--mark-rolled-back", "1"])
        .assert()
        .success();
    assert_eq!(db.scalar("SELECT count(*) FROM keel_migrations"), "0");
});

const REVERT_COLUMNS: [&str; 6] = [
    "reverted_at",
    "reverted_by",
    "revert_duration_ms",
    "revert_error",
    "revert_statements_applied",
    "revert_statements_total",
];

on_every_engine!(failed_down_never_rewrites_the_up_row, |db| {
    db.write(
        "0001_three.up.sql",
        "CREATE TABLE a (id INTEGER);\nCREATE TABLE b (id INTEGER);\nCREATE TABLE c (id INTEGER);\n",
    );
    db.write(
        "0001_three.down.sql",
        "DROP TABLE c;\nDROP TABLE no_such_table;\nDROP TABLE b;\nDROP TABLE a;\n",
    );
    db.keel().arg("up").assert().success();
    let up_row = "SELECT success, statements_applied, statements_total, error FROM keel_migrations WHERE version = 1";
    let before = db.query(up_row);
    let (code, doc) = db.keel_json(&["down"]);
    assert_eq!(code, Some(2), "{doc}");
    assert_eq!(doc["error"]["failure"]["direction"], "down", "{doc}");
    // the up row says what the up did, whatever the down did
    assert_eq!(db.query(up_row), before);
    let hint = doc["error"]["hint"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        !hint.contains("the failure is recorded: `keel repair` clears it"),
        "{hint}"
    );
    let (_, history) = db.keel_json(&["history"]);
    let revert = &history["migrations"][0]["revert"];
    assert!(
        revert["error"]
            .as_str()
            .unwrap_or_default()
            .contains("no_such_table"),
        "{history}"
    );
    if db.engine == Engine::Mysql {
        // DROP TABLE c took effect: partly reverted, and said so
        assert!(!db.has_table("c") && db.has_table("b"));
        assert!(hint.contains("partly reverted"), "{hint}");
        let (code, status) = db.keel_json(&["status"]);
        assert_eq!(code, Some(1));
        assert_eq!(
            status["migrations"][0]["state"], "partly_reverted",
            "{status}"
        );
        let (code, _) = db.keel_json(&["up"]);
        assert_eq!(code, Some(2), "up refuses while partly reverted");
        let (code, doc) = db.keel_json(&["repair"]);
        assert_eq!(code, Some(1), "{doc}");
        assert!(
            doc["unresolved"][0]["options"]
                .to_string()
                .contains("--mark-applied 1"),
            "{doc}"
        );
        // a retry of a revert is refused clearly, changing nothing
        let (code, doc) = db.keel_json(&["repair", "--retry", "1"]);
        assert_eq!(code, Some(2), "{doc}");
        assert!(
            doc["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("revert"),
            "{doc}"
        );
        // the user restores the table and says so
        db.query("CREATE TABLE c (id INTEGER)");
        db.keel()
            .args(["repair", "--mark-applied", "1"])
            .assert()
            .success();
        db.keel().arg("status").assert().code(0);
    } else {
        // rolled back: everything is still there and still applied
        assert!(db.has_table("c") && db.has_table("b"));
        assert!(hint.contains("still applied"), "{hint}");
        db.keel().arg("status").assert().code(0);
    }
    // fixed, the revert runs; the row stays as history, not applied
    db.write(
        "0001_three.down.sql",
        "DROP TABLE c;\nDROP TABLE b;\nDROP TABLE a;\n",
    );
    db.keel().arg("down").assert().success();
    assert!(!db.has_table("a"));
    let (code, status) = db.keel_json(&["status"]);
    assert_eq!(code, Some(1));
    assert_eq!(status["migrations"][0]["state"], "pending", "{status}");
    let (_, history) = db.keel_json(&["history"]);
    let revert = &history["migrations"][0]["revert"];
    assert!(revert["reverted_at"].is_string(), "{history}");
    assert!(revert["error"].is_null(), "{history}");
    assert_eq!(revert["statements_applied"], 3, "{history}");
    let text = db.keel().arg("history").output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("reverted "));
    // and up applies it again, with a fresh row
    db.keel().arg("up").assert().success();
    assert!(db.has_table("a"));
    let (_, history) = db.keel_json(&["history"]);
    assert!(history["migrations"][0]["revert"].is_null(), "{history}");
    db.keel().arg("status").assert().code(0);
});

on_every_engine!(a_tracking_table_of_an_older_keel_keeps_working, |db| {
    db.write("0001_a.up.sql", "CREATE TABLE a (id INTEGER);\n");
    db.write("0001_a.down.sql", "DROP TABLE a;\n");
    db.keel().arg("up").assert().success();
    for c in REVERT_COLUMNS {
        db.query(&format!("ALTER TABLE keel_migrations DROP COLUMN {c}"));
    }
    // read-only commands read it as it is, and change nothing
    db.keel().arg("status").assert().code(0);
    db.keel().arg("history").assert().success();
    let has_column = |db: &TestDb| {
        let sql = match db.engine {
            Engine::Sqlite => "SELECT count(*) FROM pragma_table_info('keel_migrations') WHERE name = 'reverted_at'".to_string(),
            Engine::Postgres => "SELECT count(*) FROM information_schema.columns WHERE table_name = 'keel_migrations' AND column_name = 'reverted_at'".to_string(),
            Engine::Mysql => "SELECT count(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'keel_migrations' AND column_name = 'reverted_at'".to_string(),
        };
        db.scalar(&sql) != "0"
    };
    assert!(!has_column(&db));
    // a changing command extends it under its lock
    db.keel().arg("down").assert().success();
    assert!(has_column(&db));
    let (_, history) = db.keel_json(&["history"]);
    assert!(
        history["migrations"][0]["revert"]["reverted_at"].is_string(),
        "{history}"
    );
});

#[test]
fn recorded_duration_includes_the_commit() {
    let db = TestDb::new(Engine::Postgres, "commit_duration");
    // a deferred constraint trigger runs at COMMIT and takes 600 ms there
    db.write(
        "0001_slow_commit.sql",
        "CREATE TABLE a (id int);\n\
         CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.6); RETURN NULL; END $$;\n\
         CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON a DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow();\n\
         INSERT INTO a VALUES (1);\n",
    );
    db.write("0002_a.up.sql", "INSERT INTO a VALUES (2);\n");
    db.write("0002_a.down.sql", "INSERT INTO a VALUES (3);\n");
    db.keel().arg("up").assert().success();
    let ms: i64 = db
        .scalar("SELECT duration_ms FROM keel_migrations WHERE version = 1")
        .parse()
        .unwrap();
    assert!(ms >= 600, "duration {ms} ms leaves out the commit");
    db.keel().arg("down").assert().success();
    let ms: i64 = db
        .scalar("SELECT revert_duration_ms FROM keel_migrations WHERE version = 2")
        .parse()
        .unwrap();
    assert!(ms >= 600, "revert duration {ms} ms leaves out the commit");
}

/// Kills keel (and the server's statement) at moments spread over a
/// migration of slow statements, and checks after each kill that the record
/// never says less than what took effect, nor more than one statement in
/// doubt beyond it.
#[test]
fn a_kill_loop_on_mariadb_never_under_counts() {
    let db = TestDb::new(Engine::Mysql, "kill_loop");
    let statements: Vec<String> = (1..=6)
        .map(|i| format!("CREATE TABLE t{i} AS SELECT SLEEP(0.25) AS s"))
        .collect();
    db.write("0001_slow.sql", format!("{};\n", statements.join(";\n")));
    for delay_ms in [60u64, 310, 420, 700, 980, 1240, 1500] {
        let mut child = db
            .keel_process(&["up"])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap();
        let _ = child.wait();
        for row in db.query(
            "SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()",
        ) {
            if let Some(id) = &row[0] {
                let _ = std::panic::catch_unwind(|| db.query(&format!("KILL {id}")));
            }
        }
        std::thread::sleep(Duration::from_millis(50));
        let exist = (1..=6).filter(|i| db.has_table(&format!("t{i}"))).count() as i64;
        let row = if db.has_table("keel_migrations") {
            db.query("SELECT success, statements_applied, failed_statement_index, error FROM keel_migrations WHERE version = 1")
        } else {
            Vec::new()
        };
        match row.first() {
            None => assert_eq!(
                exist, 0,
                "after {delay_ms} ms: tables exist but nothing is recorded"
            ),
            Some(r) if r[0].as_deref() == Some("1") => assert_eq!(exist, 6),
            Some(r) => {
                let applied: i64 = r[1].as_deref().unwrap_or("0").parse().unwrap();
                let started: Option<i64> = r[2].as_deref().map(|s| s.parse().unwrap());
                assert!(r[3].is_none(), "a kill is no error: {r:?}");
                assert_eq!(started, Some(applied + 1), "after {delay_ms} ms: {r:?}");
                assert!(
                    exist == applied || exist == applied + 1,
                    "after {delay_ms} ms: {exist} tables exist, record says {applied} applied and statement {} in doubt",
                    applied + 1
                );
                let (_, status) = db.keel_json(&["status"]);
                assert_eq!(status["migrations"][0]["state"], "in_doubt", "{status}");
            }
        }
        // the operator undoes everything and says so, for the next round
        for i in 1..=6 {
            db.query(&format!("DROP TABLE IF EXISTS t{i}"));
        }
        if !row.is_empty() {
            if row[0][0].as_deref() == Some("1") {
                db.query("DELETE FROM keel_migrations");
            } else {
                db.keel()
                    .args(["repair", "--mark-rolled-back", "1"])
                    .assert()
                    .success();
            }
        }
    }
}

#[test]
fn an_interrupted_concurrent_index_build_is_reported_invalid() {
    let db = TestDb::new(Engine::Postgres, "invalid_index");
    db.write(
        "0001_table.sql",
        "CREATE TABLE t (a int);\nINSERT INTO t SELECT generate_series(1, 60);\n\
         CREATE FUNCTION slow_id(x int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.05); RETURN x; END $$;\n",
    );
    db.write(
        "0002_index.sql",
        "-- keel:no-transaction\nCREATE INDEX CONCURRENTLY t_slow ON t (slow_id(a));\n",
    );
    let mut child = db
        .keel_process(&["up"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !db.has_table("keel_migrations")
        || db.scalar("SELECT count(*) FROM keel_migrations WHERE version = 2") == "0"
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the index build never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(700));
    child.kill().unwrap();
    let _ = child.wait();
    db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 't_slow' AND NOT i.indisvalid"),
        "1",
        "the build should have left an INVALID index"
    );
    let (code, doc) = db.keel_json(&["repair"]);
    assert_eq!(code, Some(1), "{doc}");
    let catalog = doc["unresolved"][0]["catalog"].as_str().unwrap_or_default();
    assert!(
        catalog.contains("INVALID") && catalog.contains("DROP INDEX t_slow"),
        "{doc}"
    );
    // following the advice works
    db.query("DROP INDEX t_slow");
    db.keel()
        .args(["repair", "--retry", "2"])
        .assert()
        .success();
    db.keel().arg("status").assert().code(0);
}

/// The server ends keel's session while a statement runs (an operator's
/// `pg_terminate_backend`, a failover): the statement's error and the lost
/// record are both said, and the tracking table holds what is true.
#[test]
fn a_session_ended_by_the_server_mid_statement_is_told_truly() {
    for no_transaction in [true, false] {
        let db = TestDb::new(Engine::Postgres, "terminated");
        let header = if no_transaction {
            "-- keel:no-transaction\n"
        } else {
            ""
        };
        db.write("1_a.sql", "CREATE TABLE a (id int);\n");
        db.write(
            "2_b.sql",
            format!(
                "{header}CREATE TABLE b (id int);\nSELECT pg_sleep(20);\nCREATE TABLE c (id int);\n"
            ),
        );
        let child = db
            .keel_process(&["up", "--format", "json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run keel");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let ended = db.scalar(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid() \
                 AND query LIKE '%pg_sleep(20)%' AND query NOT LIKE '%pg_stat_activity%'",
            );
            if ended != "0" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the slow statement never started"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = child.wait_with_output().expect("keel ends");
        assert_eq!(out.status.code(), Some(2));
        let doc = crate::support::json(&out);
        let message = doc["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("57P01"),
            "the statement's error is said: {doc}"
        );
        assert!(db.has_table("a"));
        let row = db.query(
            "SELECT success::text, statements_applied::text, failed_statement_index::text, error FROM keel_migrations WHERE version = 2",
        );
        if no_transaction {
            assert!(message.contains("in doubt"), "{doc}");
            // the statement was recorded as started: in doubt, not failed
            assert_eq!(
                row,
                vec![vec![
                    Some("false".to_string()),
                    Some("1".to_string()),
                    Some("2".to_string()),
                    None
                ]]
            );
            assert!(db.has_table("b") && !db.has_table("c"));
            let (_, status) = db.keel_json(&["status"]);
            assert_eq!(status["counts"]["in-doubt"], 1, "{status}");
        } else {
            assert!(message.contains("nothing of it was kept"), "{doc}");
            assert!(row.is_empty(), "no record of a migration that left nothing");
            assert!(!db.has_table("b"));
        }
    }
}
