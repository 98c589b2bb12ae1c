//! A clean session per migration: what one migration sets (`search_path`,
//! `set_config`, `USE`, `sql_mode`) neither breaks keel's own tracking
//! writes nor leaks into the next migration; and `repair --retry` replays
//! the session statements of the statements already applied.

use crate::support::{Engine, TestDb, json};

#[test]
fn postgres_pg_dump_search_path_and_a_clean_next_migration() {
    let db = TestDb::new(Engine::Postgres, "pg_session");
    // what every pg_dump output starts with
    db.write(
        "0001_dump.sql",
        "SELECT pg_catalog.set_config('search_path', '', false);\nSET statement_timeout = 0;\nCREATE TABLE public.a (id int);\n",
    );
    db.write(
        "0002_plain.sql",
        "CREATE TABLE b (id int);\nSET ROLE NONE;\n",
    );
    db.write(
        "0003_plain.sql",
        "-- keel:no-transaction\nCREATE TABLE c (id int);\nSELECT set_config('search_path', '', false);\nCREATE TABLE public.d (id int);\n",
    );
    db.write("0004_after.sql", "CREATE TABLE e (id int);\n");
    let (code, doc) = db.keel_json(&["up"]);
    assert_eq!(code, Some(0), "{doc}");
    for t in ["a", "b", "c", "d", "e"] {
        assert!(db.has_table(t), "{t}");
    }
    assert_eq!(
        db.scalar("SELECT count(*) FROM public.keel_migrations WHERE success"),
        "4"
    );
    db.keel().arg("status").assert().code(0);
}

#[test]
fn mysql_use_and_sql_mode_stay_in_their_migration() {
    let db = TestDb::new(Engine::Mysql, "my_session");
    db.write(
        "0001_mode.sql",
        "CREATE TABLE t (v VARCHAR(10));\nSET SESSION sql_mode = 'ANSI_QUOTES';\nUSE information_schema;\n",
    );
    // with ANSI_QUOTES left on, "x" would be a column name
    db.write(
        "0002_insert.sql",
        "INSERT INTO t VALUES (\"x\");\nCREATE TABLE u (id INT);\n",
    );
    let (code, doc) = db.keel_json(&["up"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(db.scalar("SELECT v FROM t"), "x");
    assert!(db.has_table("u"));
    assert_eq!(
        db.scalar("SELECT count(*) FROM keel_migrations WHERE success"),
        "2"
    );
}

#[test]
fn mysql_retry_replays_the_session_statements_already_applied() {
    let db = TestDb::new(Engine::Mysql, "my_retry_session");
    db.write(
        "0001_quoted.sql",
        "SET SESSION sql_mode = 'ANSI_QUOTES';\nCREATE TABLE \"quoted\" (id INT);\nINSERT INTO missing VALUES (1);\n",
    );
    let (code, _) = db.keel_json(&["up"]);
    assert_eq!(code, Some(2));
    assert!(db.has_table("quoted"));
    db.write(
        "0001_quoted.sql",
        "SET SESSION sql_mode = 'ANSI_QUOTES';\nCREATE TABLE \"quoted\" (id INT);\nINSERT INTO \"quoted\" VALUES (1);\n",
    );
    let (code, doc) = db.keel_json(&["repair", "--retry", "1"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(db.scalar("SELECT count(*) FROM quoted"), "1");
    db.keel().arg("status").assert().code(0);
}

#[test]
fn postgres_retry_replays_search_path() {
    let db = TestDb::new(Engine::Postgres, "pg_retry_session");
    db.write(
        "0001_app.sql",
        "-- keel:no-transaction\nCREATE SCHEMA app;\nSET search_path TO app;\nCREATE TABLE a (id int);\nINSERT INTO nope VALUES (1);\n",
    );
    let (code, _) = db.keel_json(&["up"]);
    assert_eq!(code, Some(2));
    db.write(
        "0001_app.sql",
        "-- keel:no-transaction\nCREATE SCHEMA app;\nSET search_path TO app;\nCREATE TABLE a (id int);\nCREATE TABLE b (id int);\n",
    );
    let out = db
        .keel()
        .args(["repair", "--retry", "1", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", json(&out));
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'app' AND tablename = 'b'"),
        "1"
    );
    assert!(!db.has_table("b"), "b belongs in app, not public");
}

#[test]
fn postgres_a_migration_that_takes_a_role_is_recorded_as_keel_user() {
    let role = crate::support::PgRole::new("owner");
    let db = TestDb::new(Engine::Postgres, "pg_role");
    db.query(&format!(
        "GRANT CREATE ON SCHEMA public TO \"{}\"",
        role.name
    ));
    db.write(
        "0001_owned.sql",
        format!(
            "SET ROLE \"{}\";\nCREATE TABLE owned (id int);\n",
            role.name
        ),
    );
    db.write("0002_next.sql", "CREATE TABLE next_one (id int);\n");
    let (code, doc) = db.keel_json(&["up"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(
        db.scalar("SELECT tableowner FROM pg_tables WHERE tablename = 'owned'"),
        role.name
    );
    // the role stayed in its migration
    assert_eq!(
        db.scalar("SELECT tableowner FROM pg_tables WHERE tablename = 'next_one'"),
        "postgres"
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM keel_migrations WHERE success"),
        "2"
    );
}
