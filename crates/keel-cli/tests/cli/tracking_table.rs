//! The tracking table as keel finds it, not as keel made it: a column of
//! the wrong type (a table copied by another tool, edited by hand, or
//! another tool's table of the same name) is a clear error naming the table
//! and the column, on every engine — never a panic, never a guess, and
//! nothing is applied while keel cannot read its own records.

use crate::on_every_engine;
use crate::support::{Engine, json};

on_every_engine!(a_wrong_column_type_is_named_and_nothing_runs, |db| {
    db.write("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
    db.keel().arg("up").assert().success();
    // `success` no longer holds a boolean keel can read
    match db.engine {
        Engine::Sqlite => {
            db.query("UPDATE keel_migrations SET success = 'yes'");
        }
        Engine::Postgres => {
            db.query("ALTER TABLE keel_migrations ALTER COLUMN success TYPE text USING 'yes'");
        }
        Engine::Mysql => {
            db.query("ALTER TABLE keel_migrations MODIFY success VARCHAR(10) NOT NULL");
            db.query("UPDATE keel_migrations SET success = 'yes'");
        }
    }
    db.write("0002_b.sql", "CREATE TABLE b (id INTEGER);\n");

    for command in [&["status"][..], &["up"], &["history"], &["check"]] {
        let out = db.keel().args(command).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {err}");
        assert!(!err.contains("panicked"), "{command:?}: {err}");
        assert!(
            err.contains("keel_migrations") && err.contains("success") && err.contains("boolean"),
            "{command:?} names table, column and the expected type: {err}"
        );
        assert!(
            err.contains("--table"),
            "{command:?} says what to do: {err}"
        );
    }
    assert!(
        !db.has_table("b"),
        "nothing runs while the records are unreadable"
    );

    let out = db
        .keel()
        .args(["status", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc = json(&out);
    assert_eq!(doc["error"]["kind"], "database", "{doc}");
    let message = doc["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("success"), "{doc}");
});

on_every_engine!(an_unknown_method_is_not_taken_for_run, |db| {
    db.write("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
    db.keel().arg("up").assert().success();
    db.query("UPDATE keel_migrations SET method = 'teleport'");
    let out = db.keel().arg("status").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("method") && err.contains("teleport"),
        "names the column and the value: {err}"
    );
});

on_every_engine!(a_foreign_table_of_the_same_name_is_refused, |db| {
    // another tool's history table, under keel's name
    db.query("CREATE TABLE keel_migrations (version VARCHAR(50) PRIMARY KEY, description TEXT)");
    db.query("INSERT INTO keel_migrations VALUES ('20240101', 'init')");
    db.write("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
    for command in ["status", "up"] {
        let out = db.keel().arg(command).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        assert!(!err.contains("panicked"), "{command}: {err}");
        assert!(err.contains("keel_migrations"), "{command}: {err}");
    }
    assert!(!db.has_table("a"));
});
