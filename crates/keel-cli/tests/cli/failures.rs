//! A failing migration: rolled back and recorded where the database can
//! roll back (PostgreSQL, SQLite); statement-level progress and guided
//! repair where it cannot (MySQL DDL).

use crate::on_every_engine;
use crate::support::{Engine, json};

on_every_engine!(
    failing_migration_is_recorded_and_blocks_until_repaired,
    |db| {
        db.write(
            "0001_ok.sql",
            "CREATE TABLE first (id INTEGER PRIMARY KEY);\n",
        );
        db.write(
        "0002_breaks.sql",
        "CREATE TABLE second (id INTEGER PRIMARY KEY);\nINSERT INTO second (id) VALUES (1);\nINSERT INTO no_such_table (id) VALUES (1);\nCREATE TABLE third (id INTEGER);\n",
    );
        let out = db.keel().args(["up", "--format", "json"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let doc = json(&out);
        assert_eq!(doc["error"]["kind"], "migration_failed");
        let f = &doc["error"]["failure"];
        assert_eq!(f["statement_index"], 3);
        assert_eq!(f["line"], 3);
        assert_eq!(f["file"], "0002_breaks.sql");
        assert!(f["statement"].as_str().unwrap().contains("no_such_table"));
        assert_eq!(f["applied_before"], serde_json::json!([1]));
        assert!(db.has_table("first"));
        assert!(!db.has_table("third"));

        // the failure is recorded with its error and statement
        let row = db.query("SELECT success, error, failed_statement_index, statements_applied FROM keel_migrations WHERE version = 2");
        let row = &row[0];
        assert!(
            matches!(row[0].as_deref(), Some("0" | "f" | "false")),
            "{row:?}"
        );
        assert!(
            row[1].as_deref().unwrap().contains("no_such_table"),
            "{row:?}"
        );
        assert_eq!(row[2].as_deref(), Some("3"));

        // up refuses while the failure is unresolved
        let out = db.keel().args(["up", "--format", "json"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(json(&out)["error"]["kind"], "refused");

        if db.engine == Engine::Mysql {
            // DDL committed: two statements stayed applied, and repair says so
            assert_eq!(row[3].as_deref(), Some("2"));
            assert!(db.has_table("second"));
            let out = db
                .keel()
                .args(["repair", "--format", "json"])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(1));
            let doc = json(&out);
            let u = &doc["unresolved"][0];
            assert_eq!(u["applied_statements"].as_array().unwrap().len(), 2);
            assert!(u["options"][0].as_str().unwrap().contains("--retry 2"));
            // fix the failing statement and continue from it
            db.write(
            "0002_breaks.sql",
            "CREATE TABLE second (id INTEGER PRIMARY KEY);\nINSERT INTO second (id) VALUES (1);\nINSERT INTO first (id) VALUES (1);\nCREATE TABLE third (id INTEGER);\n",
        );
            db.keel()
                .args(["repair", "--retry", "2"])
                .assert()
                .success();
            assert_eq!(
                db.scalar("SELECT count(*) FROM second"),
                "1",
                "applied statements are not re-run"
            );
        } else {
            // rolled back: nothing of migration 2 remains
            assert_eq!(row[3].as_deref(), Some("0"));
            assert!(
                !db.has_table("second"),
                "a failed migration must leave no partial change"
            );
            let out = db
                .keel()
                .args(["repair", "--format", "json"])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0));
            assert_eq!(json(&out)["actions"][0]["action"], "clear_failure");
            db.write(
            "0002_breaks.sql",
            "CREATE TABLE second (id INTEGER PRIMARY KEY);\nINSERT INTO second (id) VALUES (1);\nINSERT INTO first (id) VALUES (1);\nCREATE TABLE third (id INTEGER);\n",
        );
            db.keel().arg("up").assert().success();
        }
        assert!(db.has_table("third"));
        db.keel().arg("status").assert().code(0);
    }
);

on_every_engine!(no_transaction_migration_records_statement_progress, |db| {
    db.write(
        "0001_partial.sql",
        "-- keel:no-transaction\nCREATE TABLE a (id INTEGER);\nCREATE TABLE b (id INTEGER);\nCREATE TABLE a (id INTEGER);\n",
    );
    let out = db.keel().args(["up", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let f = &json(&out)["error"]["failure"];
    assert_eq!(f["statements_applied"], 2);
    assert_eq!(f["rolled_back"], false);
    assert!(db.has_table("a") && db.has_table("b"));
    // the user undid it by hand and says so
    db.query("DROP TABLE a");
    db.query("DROP TABLE b");
    db.keel().args(["repair"]).assert().code(1);
    db.keel()
        .args(["repair", "--mark-rolled-back", "1"])
        .assert()
        .success();
    db.write(
        "0001_partial.sql",
        "-- keel:no-transaction\nCREATE TABLE a (id INTEGER);\nCREATE TABLE b (id INTEGER);\n",
    );
    db.keel().arg("up").assert().success();
    db.keel().arg("status").assert().code(0);
});
