//! SQLite migrations run as `sqlite3` runs them: foreign keys are not
//! enforced statement by statement (SQLite's documented 12-step table
//! rebuild works on a database with rows) but checked before the commit;
//! and one lock per database file, however its path is spelled.

use crate::support::{Engine, TestDb, json};
use std::time::{Duration, Instant};

#[test]
fn twelve_step_rebuild_runs_and_dangling_references_fail_the_migration() {
    let db = TestDb::new(Engine::Sqlite, "twelve_step");
    db.write(
        "0001_tables.sql",
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);\n\
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id));\n\
         INSERT INTO parent VALUES (1, 'a'), (2, 'b');\n\
         INSERT INTO child VALUES (10, 1), (11, 2);\n",
    );
    // https://www.sqlite.org/lang_altertable.html#otheralter
    db.write(
        "0002_rebuild_parent.sql",
        "CREATE TABLE new_parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');\n\
         INSERT INTO new_parent (id, name) SELECT id, coalesce(name, '') FROM parent;\n\
         DROP TABLE parent;\n\
         ALTER TABLE new_parent RENAME TO parent;\n",
    );
    db.keel().arg("up").assert().success();
    assert_eq!(db.scalar("SELECT count(*) FROM child"), "2");
    assert_eq!(db.scalar("SELECT count(*) FROM parent"), "2");

    db.write(
        "0003_dangling.sql",
        "INSERT INTO parent VALUES (3, 'c');\nINSERT INTO child VALUES (12, 999);\n",
    );
    let out = db.keel().args(["up", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc = json(&out);
    let message = doc["error"]["failure"]["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("table child rowid 12") && message.contains("parent"),
        "{doc}"
    );
    assert_eq!(doc["error"]["failure"]["rolled_back"], true);
    // rolled back: neither row is there
    assert_eq!(db.scalar("SELECT count(*) FROM parent WHERE id = 3"), "0");
    assert_eq!(db.scalar("SELECT count(*) FROM child WHERE id = 12"), "0");
    assert_eq!(
        db.scalar("SELECT success FROM keel_migrations WHERE version = 3"),
        "0"
    );
}

#[test]
fn a_no_transaction_rebuild_runs_as_sqlite3_runs_it() {
    let db = TestDb::new(Engine::Sqlite, "twelve_step_no_tx");
    db.write(
        "0001_tables.sql",
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));
         INSERT INTO parent VALUES (1);
INSERT INTO child VALUES (10, 1);
",
    );
    db.write(
        "0002_rebuild.sql",
        "-- keel:no-transaction
BEGIN;
CREATE TABLE new_parent (id INTEGER PRIMARY KEY, note TEXT);
         INSERT INTO new_parent (id) SELECT id FROM parent;
DROP TABLE parent;
         ALTER TABLE new_parent RENAME TO parent;
COMMIT;
",
    );
    let (code, doc) = db.keel_json(&["up"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(db.scalar("SELECT count(*) FROM child"), "1");
    assert_eq!(db.scalar("SELECT count(*) FROM parent"), "1");
    // enforcement is back for the next migration
    db.write(
        "0003_dangling.sql",
        "INSERT INTO child VALUES (11, 999);
",
    );
    let (code, doc) = db.keel_json(&["up"]);
    assert_eq!(code, Some(2), "{doc}");
    assert_eq!(db.scalar("SELECT count(*) FROM child WHERE id = 11"), "0");
}

#[cfg(unix)]
#[test]
fn one_lock_per_database_file_through_a_symlink() {
    let db = TestDb::new(Engine::Sqlite, "symlink_lock");
    let real = db.path().join("test.db");
    let link = db.path().join("link.db");
    std::fs::File::create(&real).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    db.write(
        "0001_slow.sql",
        "CREATE TABLE slow AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 4000000) SELECT max(x) AS s FROM c;\n",
    );
    let mut first = db
        .keel_process(&["up"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // wait for the first runner to hold the lock
    let lock = db.path().join("test.db.keel-lock");
    let start = Instant::now();
    while std::fs::read_to_string(&lock)
        .unwrap_or_default()
        .is_empty()
    {
        assert!(start.elapsed() < Duration::from_secs(10), "no lock taken");
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("keel"))
        .current_dir(db.path())
        .env_remove("DATABASE_URL")
        .args([
            "--database-url",
            &format!("sqlite:{}", link.display()),
            "up",
            "--lock-timeout",
            "0.3",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let _ = first.wait();
    assert_eq!(
        json(&out)["error"]["kind"],
        "lock_timeout",
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!db.path().join("link.db.keel-lock").exists());
    assert_eq!(db.scalar("SELECT count(*) FROM keel_migrations"), "1");
}
