//! A SQLite database that keel migrated, copied to PostgreSQL: the
//! tracking table is not copied as a user table; its rows arrive as the
//! target's history (same versions, names, checksums; method `copy`), so
//! `keel status` there is all-applied, `keel up` applies only what is new,
//! and `keel diff` between source and copy is clean. Other tools' history
//! tables are never copied as data.

use crate::support::{Engine, TestDb, json};
use assert_cmd::Command;

fn keel_on(db: &TestDb, url: &str) -> Command {
    let mut cmd = Command::cargo_bin("keel").unwrap();
    cmd.current_dir(db.path())
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .args(["--database-url", url]);
    cmd
}

const FIRST: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, email VARCHAR(200) NOT NULL UNIQUE, active BOOLEAN NOT NULL DEFAULT 1, created_at DATETIME DEFAULT CURRENT_TIMESTAMP);\n";
const SECOND: &str = "CREATE TABLE posts (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL REFERENCES users(id), title TEXT NOT NULL, score REAL DEFAULT 0);\nCREATE INDEX posts_user ON posts (user_id);\n";

fn migrated_source(db: &TestDb, table: Option<&str>) -> String {
    let src = format!("sqlite:{}", db.path().join("app.db").display());
    db.write("0001_users.sql", FIRST);
    db.write("0002_posts.sql", SECOND);
    let mut up = keel_on(db, &src);
    if let Some(t) = table {
        up.args(["--table", t]);
    }
    up.arg("up").assert().success();
    let conn = rusqlite::Connection::open(db.path().join("app.db")).unwrap();
    conn.execute_batch(
        "INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com');
         INSERT INTO posts (user_id, title) VALUES (1, 'hello'), (2, 'world');
         CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, checksum BLOB NOT NULL, execution_time BIGINT NOT NULL);
         INSERT INTO _sqlx_migrations VALUES (1, 'init', '2024-01-01 00:00:00', 1, x'00', 5);",
    )
    .unwrap();
    src
}

#[test]
fn a_keel_migrated_sqlite_database_arrives_with_its_history() {
    let db = TestDb::new(Engine::Postgres, "copy_history");
    let src = migrated_source(&db, None);
    let out = keel_on(&db, &db.url)
        .args(["copy", &src, &db.url, "--format", "json"])
        .output()
        .unwrap();
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc}");
    let tables: Vec<&str> = doc["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["table"].as_str())
        .collect();
    assert_eq!(
        tables,
        ["posts", "users"],
        "only user tables are data: {doc}"
    );
    assert!(
        doc["notes"].to_string().contains("_sqlx_migrations"),
        "another tool's history is named as not copied: {doc}"
    );
    assert!(!db.has_table("_sqlx_migrations"));

    // the history, row for row
    let source_rows = {
        let conn = rusqlite::Connection::open(db.path().join("app.db")).unwrap();
        let mut s = conn
            .prepare(
                "SELECT version, name, checksum, applied_sql FROM keel_migrations ORDER BY version",
            )
            .unwrap();
        s.query_map([], |r| {
            Ok(vec![
                Some(r.get::<_, i64>(0)?.to_string()),
                Some(r.get::<_, String>(1)?),
                Some(r.get::<_, String>(2)?),
                Some(r.get::<_, String>(3)?),
            ])
        })
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
    };
    let target_rows = db.query(
        "SELECT version::text, name, checksum, applied_sql FROM keel_migrations ORDER BY version",
    );
    assert_eq!(source_rows, target_rows);
    assert_eq!(
        db.scalar("SELECT string_agg(DISTINCT method, ',') FROM keel_migrations"),
        "copy"
    );

    // status on the target: all applied
    let out = db
        .keel()
        .args(["status", "--format", "json"])
        .output()
        .unwrap();
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc}");
    // the copy is what the source is
    let out = keel_on(&db, &db.url)
        .args(["diff", &src, &db.url])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "diff of a database and its fresh copy is clean:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // validate compares only user tables
    let out = keel_on(&db, &db.url)
        .args(["validate", &src, &db.url, "--format", "json"])
        .output()
        .unwrap();
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc}");
    assert_eq!(doc["tables"].as_array().map(Vec::len), Some(2), "{doc}");

    // up on the target applies only what is new
    db.write(
        "0003_tags.sql",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT);\n",
    );
    let out = db.keel().args(["up", "--format", "json"]).output().unwrap();
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc}");
    assert_eq!(doc["steps"].as_array().map(Vec::len), Some(1), "{doc}");
    assert!(db.has_table("tags"));
    assert_eq!(db.scalar("SELECT count(*) FROM keel_migrations"), "3");
    assert_eq!(db.scalar("SELECT count(*) FROM users"), "2");
}

#[test]
fn a_tracking_table_of_another_name_is_known_by_that_name() {
    let db = TestDb::new(Engine::Postgres, "copy_history_table");
    let src = migrated_source(&db, Some("ops_history"));
    let out = keel_on(&db, &db.url)
        .args([
            "--table",
            "ops_history",
            "copy",
            &src,
            &db.url,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc}");
    assert!(!doc["tables"].to_string().contains("ops_history"), "{doc}");
    assert_eq!(
        db.scalar("SELECT count(*) FROM ops_history WHERE method = 'copy'"),
        "2"
    );
    assert!(!db.has_table("keel_migrations"));
    db.keel()
        .args(["--table", "ops_history", "status"])
        .assert()
        .success();
    // sequences never look at it
    let out = db
        .keel()
        .args(["--table", "ops_history", "sequences", "--format", "json"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("ops_history"));
}

#[test]
fn an_unreadable_history_stops_the_copy_before_anything_is_written() {
    let db = TestDb::new(Engine::Postgres, "copy_history_bad");
    let src = migrated_source(&db, None);
    let conn = rusqlite::Connection::open(db.path().join("app.db")).unwrap();
    conn.execute_batch("UPDATE keel_migrations SET success = 'yes' WHERE version = 1")
        .unwrap();
    drop(conn);
    let out = keel_on(&db, &db.url)
        .args(["copy", &src, &db.url])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("keel_migrations") && err.contains("success"),
        "names the source's table and column: {err}"
    );
    assert!(!db.has_table("users") && !db.has_table("keel_migrations"));
}
