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

/// `SET autocommit = 0` (mysqldump --no-autocommit, hand-written files)
/// opens a transaction that every write joins, keel's records too: a file
/// that never commits it is refused, a failure inside it is recorded
/// durably after keel rolls it back, and a retry's records stay.
#[test]
fn mysql_autocommit_off_keeps_records_true() {
    let db = TestDb::new(Engine::Mysql, "autocommit_off");
    let body = "CREATE TABLE ac (id INT) ENGINE=InnoDB;\nSET autocommit=0;\nINSERT INTO ac VALUES (1);\nINSERT INTO later VALUES (1);\n";
    db.write("0001_a.sql", body);
    let (code, doc) = db.keel_json(&["up"]);
    assert_eq!(code, Some(2), "{doc}");
    assert_eq!(doc["error"]["kind"], "refused", "{doc}");
    assert!(doc.to_string().contains("0001_a.sql:2"), "{doc}");
    assert!(!db.has_table("ac"), "nothing ran");
    db.write("0001_a.sql", format!("{body}COMMIT;\n"));
    let (code, doc) = db.keel_json(&["up"]);
    assert_eq!(code, Some(2), "{doc}");
    assert_eq!(doc["error"]["kind"], "migration_failed", "{doc}");
    // rolled back to the SET: the insert before the failure was not kept,
    // and the record of the failure was (not lost with the transaction)
    assert_eq!(db.scalar("SELECT COUNT(*) FROM ac"), "0");
    let row = db.query(
        "SELECT success, statements_applied, failed_statement_index, error IS NOT NULL FROM keel_migrations",
    );
    assert_eq!(
        row,
        vec![vec![
            Some("0".to_string()),
            Some("1".to_string()),
            Some("4".to_string()),
            Some("1".to_string())
        ]]
    );
    db.query("CREATE TABLE later (id INT)");
    let (code, doc) = db.keel_json(&["repair", "--retry", "1"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM ac"), "1");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM later"), "1");
    assert_eq!(
        db.scalar("SELECT CONCAT(success, '/', statements_applied) FROM keel_migrations"),
        "1/5",
        "the retry's record was committed"
    );
    // the next migration runs with autocommit on again, and is recorded
    db.write("0002_b.sql", "INSERT INTO ac VALUES (2);\n");
    let (code, doc) = db.keel_json(&["up"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM ac"), "2");
    let (_, status) = db.keel_json(&["status"]);
    assert_eq!(status["counts"]["applied"], 2, "{status}");
}
