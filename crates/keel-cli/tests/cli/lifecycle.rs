//! Incident 3: one code base on SQLite in development and PostgreSQL or
//! MySQL in production; the same migrations run on every engine with
//! status, up, down, stamp and history.

use crate::on_every_engine;
use crate::support::{Engine, json};

fn write_three(db: &crate::support::TestDb) {
    let (user, case, order) = (db.q("user"), db.q("case"), db.q("order"));
    db.write(
        "0001_create_user.up.sql",
        format!("CREATE TABLE {user} (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL);\n"),
    );
    db.write("0001_create_user.down.sql", format!("DROP TABLE {user};\n"));
    db.write(
        "0002_create_case.up.sql",
        format!("-- two statements\nCREATE TABLE {case} (id INTEGER PRIMARY KEY, {order} VARCHAR(20));\nINSERT INTO {case} (id, {order}) VALUES (1, 'it''s; fine');\n"),
    );
    db.write("0002_create_case.down.sql", format!("DROP TABLE {case};\n"));
    db.write(
        "0003_add_email_index.sql",
        format!("CREATE INDEX email_idx ON {user} (email);\n"),
    );
}

on_every_engine!(incident_3_full_lifecycle, |db| {
    write_three(&db);
    if db.engine == Engine::Sqlite {
        // read-only commands never create the file; the empty database exists,
        // as the PostgreSQL and MariaDB ones do
        std::fs::File::create(db.path().join("test.db")).unwrap();
    }

    // status before anything: all pending, exit 1, nothing created
    let out = db
        .keel()
        .args(["status", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    assert_eq!(doc["counts"]["pending"], 3);
    assert!(
        !db.has_table("keel_migrations"),
        "status must not create the tracking table"
    );

    // dry run prints the statements and changes nothing
    let out = db
        .keel()
        .args(["up", "--dry-run", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&out);
    assert_eq!(doc["steps"].as_array().unwrap().len(), 3);
    assert_eq!(doc["steps"][1]["statements"].as_array().unwrap().len(), 2);
    assert!(!db.has_table("user") && !db.has_table("keel_migrations"));

    // up to a version, then the rest
    db.keel().args(["up", "--to", "2"]).assert().success();
    assert!(db.has_table("user") && db.has_table("case"));
    let out = db.keel().args(["up"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("0003_add_email_index.sql"));
    let out = db.keel().args(["status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = db.keel().args(["up"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("already up to date"));

    // history records checksum algorithm, who, timing, statements
    let out = db
        .keel()
        .args(["history", "--format", "json"])
        .output()
        .unwrap();
    let doc = json(&out);
    let rows = doc["migrations"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1]["checksum_algorithm"], "sha256-lf-v1");
    assert_eq!(rows[1]["statements_total"], 2);
    assert_eq!(rows[1]["success"], true);
    assert!(rows[1]["applied_by"].as_str().unwrap().contains('@'));
    assert_eq!(
        db.scalar(&format!(
            "SELECT {} FROM {} WHERE id = 1",
            db.q("order"),
            db.q("case")
        )),
        "it's; fine"
    );

    // down needs a down file for 0003
    let out = db
        .keel()
        .args(["down", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        json(&out)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("0003_add_email_index.sql")
    );
    db.write(
        "0003_add_email_index.down.sql",
        format!(
            "DROP INDEX email_idx{};\n",
            if db.engine == crate::support::Engine::Mysql {
                " ON `user`"
            } else {
                ""
            }
        ),
    );
    db.remove("0003_add_email_index.sql");
    db.write(
        "0003_add_email_index.up.sql",
        format!("CREATE INDEX email_idx ON {} (email);\n", db.q("user")),
    );
    db.keel()
        .args(["down", "--steps", "2", "--dry-run"])
        .assert()
        .success();
    assert!(db.has_table("case"), "a dry run reverts nothing");
    db.keel().args(["down", "--steps", "2"]).assert().success();
    assert!(!db.has_table("case") && db.has_table("user"));
    db.keel().args(["down", "--to", "0"]).assert().success();
    assert!(!db.has_table("user"));
    let out = db
        .keel()
        .args(["status", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(json(&out)["counts"]["pending"], 3);

    // stamp adopts an existing schema without running anything
    db.keel().args(["stamp", "2"]).assert().success();
    assert!(!db.has_table("user"), "stamp must not run migrations");
    let out = db
        .keel()
        .args(["status", "--format", "json"])
        .output()
        .unwrap();
    let doc = json(&out);
    assert_eq!(doc["counts"]["applied"], 2);
    assert_eq!(doc["counts"]["pending"], 1);
});

on_every_engine!(new_creates_the_next_version_that_sorts_last, |db| {
    db.write("99999999999999_future.sql", "SELECT 1;\n");
    let out = db
        .keel()
        .args(["new", "add", "users", "--reversible", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    assert_eq!(doc["version"], 100000000000000i64);
    assert!(
        db.migrations()
            .join("100000000000000_add_users.down.sql")
            .exists()
    );
});
