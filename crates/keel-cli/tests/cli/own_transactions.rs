//! Files that open their own transaction and run statement by statement
//! (`-- keel:no-transaction`, or a golang-migrate file with `BEGIN …
//! COMMIT`, as that tool runs it): keel's records join that transaction,
//! and a failure inside it is recorded after keel rolls it back — what the
//! catalog holds and what the tracking table says agree.

use crate::on_every_engine;
use crate::support::*;

fn begin(db: &TestDb) -> &'static str {
    match db.engine {
        Engine::Mysql => "START TRANSACTION",
        _ => "BEGIN",
    }
}

on_every_engine!(failure_inside_a_files_own_transaction, |db| {
    db.write("1_a.sql", "CREATE TABLE a (id INT PRIMARY KEY);\n");
    db.write(
        "2_c.sql",
        format!(
            "-- keel:no-transaction\n{};\nCREATE TABLE c (id INT PRIMARY KEY);\nINSERT INTO c VALUES (1);\nINSERT INTO no_such_table VALUES (1);\nCOMMIT;\n",
            begin(&db)
        ),
    );
    let (code, doc) = db.keel_json(&["up"]);
    assert_ne!(code, Some(0), "{doc}");
    // keel's record is written, not "current transaction is aborted"
    assert_eq!(doc["error"]["kind"], "migration_failed", "{doc}");
    let kept = db.scalar("SELECT statements_applied FROM keel_migrations WHERE version = 2");
    match db.engine {
        // the CREATE TABLE committed the transaction, as MySQL does for DDL:
        // the table and its row stayed
        Engine::Mysql => {
            assert_eq!(kept, "3");
            assert!(db.has_table("c"));
            assert_eq!(db.scalar("SELECT COUNT(*) FROM c"), "1");
        }
        // rolled back: nothing after BEGIN was kept
        _ => {
            assert_eq!(kept, "0");
            assert!(!db.has_table("c"), "the rolled-back table is gone");
        }
    }
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM keel_migrations WHERE version = 1 AND success"),
        "1"
    );
    // the file fixed, a retry continues from what stayed applied
    db.write(
        "2_c.sql",
        format!(
            "-- keel:no-transaction\n{};\nCREATE TABLE c (id INT PRIMARY KEY);\nINSERT INTO c VALUES (1);\nINSERT INTO c VALUES (2);\nCOMMIT;\n",
            begin(&db)
        ),
    );
    let (code, doc) = db.keel_json(&["repair", "--retry", "2"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM c"), "2");
    let (code, doc) = db.keel_json(&["status"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["counts"]["applied"], 2, "{doc}");
});

on_every_engine!(a_transaction_never_committed_is_refused, |db| {
    db.write("1_a.sql", "CREATE TABLE a (id INT PRIMARY KEY);\n");
    db.write(
        "2_c.sql",
        format!(
            "-- keel:no-transaction\n{};\nINSERT INTO a VALUES (1);\n",
            begin(&db)
        ),
    );
    let (code, doc) = db.keel_json(&["up"]);
    assert_eq!(code, Some(2), "{doc}");
    assert_eq!(doc["error"]["kind"], "refused", "{doc}");
    assert!(doc.to_string().contains("never committed"), "{doc}");
    let hint = doc["error"]["hint"].as_str().unwrap();
    assert!(
        hint.contains("COMMIT") && !hint.contains("remove"),
        "{hint}"
    );
    assert!(doc.to_string().contains("2_c.sql:"), "{doc}");
    // refused before anything ran
    assert!(!db.has_table("a"));
});

#[test]
fn a_statement_that_cannot_run_in_a_transaction_is_refused_before_anything_runs() {
    for engine in [Engine::Postgres, Engine::Sqlite] {
        let db = TestDb::new(engine, "outside_only");
        db.write("1_a.sql", "CREATE TABLE a (id INT);\n");
        let statement = match engine {
            Engine::Postgres => "CREATE INDEX CONCURRENTLY a_id ON a (id)",
            _ => "VACUUM",
        };
        db.write(
            "2_b.sql",
            format!("CREATE TABLE b (id INT);\n{statement};\n"),
        );
        let (code, doc) = db.keel_json(&["up"]);
        assert_eq!(code, Some(2), "{doc}");
        assert_eq!(doc["error"]["kind"], "refused", "{doc}");
        assert!(
            doc["error"]["problems"].to_string().contains("2_b.sql:2"),
            "{doc}"
        );
        assert!(
            doc["error"]["hint"]
                .as_str()
                .unwrap_or_default()
                .contains("-- keel:no-transaction"),
            "{doc}"
        );
        // nothing ran, not even the migration before it
        assert!(!db.has_table("a") && !db.has_table("b"), "{engine:?}");
        // as the hint says
        db.write(
            "2_b.sql",
            format!("-- keel:no-transaction\nCREATE TABLE b (id INT);\n{statement};\n"),
        );
        let (code, doc) = db.keel_json(&["up"]);
        assert_eq!(code, Some(0), "{engine:?}: {doc}");
        assert!(db.has_table("b"));
    }
}
