//! `keel diff` on SQLite and MySQL/MariaDB, and across engines: the
//! `migrations` side built in a scratch database of the same engine, drift
//! found by stable id, and development SQLite against production
//! PostgreSQL compared by logical type (incident 4 across engines).

use crate::on_every_engine;
use crate::support::{Engine, TestDb};
use serde_json::Value;

/// Runs each `;`-terminated statement (the SQLite helper runs one at a time).
fn exec_each(db: &TestDb, sql: &str) {
    for s in sql.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        db.query(s.trim_end_matches(';'));
    }
}

fn ids(doc: &Value) -> Vec<String> {
    crate::support::difference_ids(&doc["differences"])
}

on_every_engine!(diff_against_migrations_finds_hand_made_drift, |db| {
    let (u, o) = (db.q("user"), db.q("order"));
    db.write(
        "0001_init.sql",
        format!(
            "CREATE TABLE {u} (id integer PRIMARY KEY, email varchar(200) NOT NULL, status varchar(20) NOT NULL DEFAULT 'new');\n\
             CREATE TABLE {o} (id integer PRIMARY KEY, user_id integer REFERENCES {u} (id) ON DELETE CASCADE, total decimal(10,2));\n\
             CREATE INDEX order_user ON {o} (user_id);"
        ),
    );
    // the database was built by hand, without status and without the index
    db.query(&format!(
        "CREATE TABLE {u} (id integer PRIMARY KEY, email varchar(200) NOT NULL)"
    ));
    db.query(&format!(
        "CREATE TABLE {o} (id integer PRIMARY KEY, user_id integer REFERENCES {u} (id) ON DELETE CASCADE, total decimal(10,2))"
    ));
    let (code, doc) = db.keel_json(&["diff", "migrations", &db.url]);
    assert_eq!(code, Some(1), "{doc}");
    let mut expected = vec!["column/public/user/status"];
    // MySQL indexes every foreign key anyway: order_user is what it made
    if db.engine != Engine::Mysql {
        expected.push("index/public/order/order_user");
    }
    assert_eq!(ids(&doc), expected, "{doc}");
    // the same migrations against themselves: nothing
    db.query(&format!(
        "ALTER TABLE {u} ADD COLUMN status varchar(20) NOT NULL DEFAULT 'new'"
    ));
    db.query(&format!("CREATE INDEX order_user ON {o} (user_id)"));
    let (code, doc) = db.keel_json(&["diff", "migrations", &db.url]);
    assert_eq!(code, Some(0), "{doc}");
});

/// Applies a plan the way a user would: the whole script at once.
fn apply_sqlite(db: &TestDb, sql: &str) {
    let path = db.url.trim_start_matches("sqlite:");
    let conn = rusqlite::Connection::open(path).expect("open sqlite");
    conn.execute_batch(sql)
        .unwrap_or_else(|e| panic!("applying the plan failed: {e}\n{sql}"));
}

#[test]
fn plans_for_sqlite_targets_converge_when_applied() {
    let db = TestDb::new(Engine::Sqlite, "diff_sqlite_plan");
    // TO, built by hand: no status/created/note columns, a score stored as
    // text, no index, no audit table; and rows to keep
    exec_each(
        &db,
        "CREATE TABLE \"user\" (id integer PRIMARY KEY, email varchar(200) NOT NULL, score text);
         CREATE TABLE \"order\" (id integer PRIMARY KEY, user_id integer NOT NULL REFERENCES \"user\" (id));
         CREATE VIEW big_spenders AS SELECT u.email FROM \"user\" u JOIN \"order\" o ON o.user_id = u.id;
         INSERT INTO \"user\" (id, email, score) VALUES (1, 'a@example.com', '42');
         INSERT INTO \"order\" (id, user_id) VALUES (7, 1);",
    );
    db.write(
        "0001_init.sql",
        "CREATE TABLE \"user\" (id integer PRIMARY KEY, email varchar(200) NOT NULL, score integer,
           status varchar(20) NOT NULL DEFAULT 'new', note text,
           created datetime NOT NULL DEFAULT CURRENT_TIMESTAMP);
         CREATE TABLE \"order\" (id integer PRIMARY KEY, user_id integer NOT NULL REFERENCES \"user\" (id));
         CREATE INDEX user_email ON \"user\" (email);
         CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, what text NOT NULL UNIQUE);
         CREATE VIEW big_spenders AS SELECT u.email FROM \"user\" u JOIN \"order\" o ON o.user_id = u.id;",
    );
    let (code, doc) = db.keel_json(&["diff", "migrations", &db.url]);
    assert_eq!(code, Some(1), "{doc}");
    assert_eq!(
        ids(&doc),
        [
            "column/public/user/created",
            "column/public/user/note",
            "column/public/user/score/type",
            "column/public/user/status",
            "index/public/user/user_email",
            "table/public/audit",
        ],
        "{doc}"
    );
    let (code, doc) = db.keel_json(&["diff", "migrations", &db.url, "--sql"]);
    assert_eq!(code, Some(1), "{doc}");
    assert_eq!(doc["plan"]["verified"], true, "{doc}");
    let sql = doc["plan"]["sql"].as_str().unwrap_or_default().to_string();
    for expected in [
        "BEGIN;",
        "COMMIT;",
        "CREATE TABLE IF NOT EXISTS \"audit\"",
        "CREATE INDEX IF NOT EXISTS \"user_email\"",
        "CREATE TABLE \"user_keel_new\"",
        "ALTER TABLE \"user_keel_new\" RENAME TO \"user\"",
        "PRAGMA foreign_keys = OFF;",
        "SQLite DDL is transactional",
        "-- hazard: rebuilds public.user",
    ] {
        assert!(sql.contains(expected), "{expected} missing from\n{sql}");
    }
    apply_sqlite(&db, &sql);
    let (code, doc) = db.keel_json(&["diff", "migrations", &db.url]);
    assert_eq!(code, Some(0), "the applied plan converges:\n{doc}\n{sql}");
    // the rebuild kept the rows (and the order still points at its user)
    assert_eq!(
        db.scalar("SELECT email || ' ' || score || ' ' || status FROM \"user\""),
        "a@example.com 42 new"
    );
    assert_eq!(db.scalar("SELECT count(*) FROM big_spenders"), "1");
    assert!(db.query("PRAGMA foreign_key_check").is_empty());
}

#[test]
fn sqlite_plans_add_columns_in_place_and_leave_drops_out_unless_allowed() {
    let db = TestDb::new(Engine::Sqlite, "diff_sqlite_in_place");
    exec_each(
        &db,
        "CREATE TABLE t (id integer PRIMARY KEY, legacy text);
         CREATE TABLE old_stuff (id integer PRIMARY KEY);
         INSERT INTO t (id, legacy) VALUES (1, 'x');",
    );
    db.write(
        "0001_t.sql",
        "CREATE TABLE t (id integer PRIMARY KEY, n integer NOT NULL DEFAULT 0, label text);
         CREATE INDEX t_n ON t (n) WHERE n > 0;",
    );
    let (code, doc) = db.keel_json(&["diff", "migrations", &db.url, "--sql"]);
    assert_eq!(code, Some(1), "{doc}");
    let sql = doc["plan"]["sql"].as_str().unwrap_or_default().to_string();
    assert!(
        sql.contains("ALTER TABLE \"t\" ADD COLUMN \"n\" integer DEFAULT 0 NOT NULL"),
        "{sql}"
    );
    assert!(sql.contains("no ADD COLUMN IF NOT EXISTS"), "{sql}");
    assert!(!sql.contains("_keel_new"), "no rebuild needed:\n{sql}");
    assert!(sql.contains("-- omitted column/public/t/legacy"), "{sql}");
    assert!(sql.contains("-- omitted table/public/old_stuff"), "{sql}");
    apply_sqlite(&db, &sql);
    let (code, doc) = db.keel_json(&["diff", "migrations", &db.url]);
    assert_eq!(code, Some(1), "{doc}");
    assert_eq!(
        ids(&doc),
        ["column/public/t/legacy", "table/public/old_stuff"],
        "{doc}"
    );
    let (code, doc) = db.keel_json(&[
        "diff",
        "migrations",
        &db.url,
        "--sql",
        "--allow-destructive",
    ]);
    assert_eq!(code, Some(1), "{doc}");
    apply_sqlite(&db, doc["plan"]["sql"].as_str().unwrap_or_default());
    let (code, doc) = db.keel_json(&["diff", "migrations", &db.url]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(db.scalar("SELECT n FROM t WHERE id = 1"), "0");
}

#[test]
fn plans_for_mysql_targets_converge_when_applied() {
    let db = TestDb::new(Engine::Mysql, "diff_mysql_plan");
    exec_each(
        &db,
        "CREATE TABLE `user` (id int PRIMARY KEY AUTO_INCREMENT, email varchar(100) NOT NULL, score varchar(10));
         CREATE TABLE `order` (id int PRIMARY KEY, user_id int NOT NULL);
         INSERT INTO `user` (email, score) VALUES ('a@example.com', '42');",
    );
    db.write(
        "0001_init.sql",
        "CREATE TABLE `user` (id int PRIMARY KEY AUTO_INCREMENT, email varchar(200) NOT NULL UNIQUE, score int,
           status varchar(20) NOT NULL DEFAULT 'new');
         CREATE TABLE `order` (id int PRIMARY KEY, user_id int NOT NULL,
           CONSTRAINT order_user FOREIGN KEY (user_id) REFERENCES `user` (id) ON DELETE CASCADE);
         CREATE INDEX user_score ON `user` (score);
         CREATE TABLE audit (id bigint PRIMARY KEY AUTO_INCREMENT, what text NOT NULL);",
    );
    let (code, doc) = db.keel_json(&["diff", "migrations", &db.url, "--sql"]);
    assert_eq!(code, Some(1), "{doc}");
    assert_eq!(doc["plan"]["verified"], true, "{doc}");
    let sql = doc["plan"]["sql"].as_str().unwrap_or_default().to_string();
    assert!(sql.contains("MySQL DDL is not transactional"), "{sql}");
    assert!(!sql.contains("BEGIN;"), "{sql}");
    assert!(sql.contains("MODIFY COLUMN `score`"), "{sql}");
    // the mysql client's way: one statement at a time, comments skipped
    for statement in sql.split(";\n") {
        let code: Vec<&str> = statement
            .lines()
            .filter(|l| !l.trim_start().starts_with("--") && !l.trim().is_empty())
            .collect();
        if !code.is_empty() {
            db.query(&code.join("\n"));
        }
    }
    let (code, doc) = db.keel_json(&["diff", "migrations", &db.url]);
    assert_eq!(code, Some(0), "the applied plan converges:\n{doc}\n{sql}");
    assert_eq!(
        db.scalar("SELECT concat(email, ' ', score, ' ', status) FROM `user`"),
        "a@example.com 42 new"
    );
}

#[test]
fn incident_4_across_engines_development_sqlite_against_production_postgres() {
    let dev = TestDb::new(Engine::Sqlite, "diff_dev_sqlite");
    let prod = TestDb::new(Engine::Postgres, "diff_prod_pg");
    exec_each(
        &dev,
        "CREATE TABLE \"user\" (id varchar(255) PRIMARY KEY, email varchar(255) NOT NULL UNIQUE,
           is_admin boolean NOT NULL DEFAULT 0, created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
           login_count integer NOT NULL DEFAULT 0);
         CREATE TABLE \"order\" (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id varchar(255) NOT NULL REFERENCES \"user\" (id),
           placed date NOT NULL);
         CREATE INDEX order_placed ON \"order\" (placed DESC);",
    );
    prod.query(
        "CREATE TABLE \"user\" (id uuid PRIMARY KEY, email varchar(255) NOT NULL UNIQUE,
           is_admin boolean NOT NULL DEFAULT false, created_at timestamptz NOT NULL DEFAULT now());
         CREATE TABLE \"order\" (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, user_id varchar(255) NOT NULL,
           placed date NOT NULL);
         CREATE INDEX order_placed ON \"order\" (placed DESC);",
    );
    let (code, doc) = prod.keel_json(&["diff", &dev.url, &prod.url]);
    assert_eq!(code, Some(1), "{doc}");
    assert_eq!(
        ids(&doc),
        [
            "column/public/user/id/type",
            "column/public/user/login_count",
            "foreign_key/public/order/order_user_id_fkey",
        ],
        "types compare by meaning across engines; uuid against text does not:\n{doc}"
    );
    let (code, doc) = prod.keel_json(&["diff", &dev.url, &prod.url, "--sql"]);
    assert_eq!(code, Some(1), "{doc}");
    assert_eq!(doc["plan"]["verified"], true, "{doc}");
    prod.query(doc["plan"]["sql"].as_str().unwrap_or_default());
    let (code, doc) = prod.keel_json(&["diff", &dev.url, &prod.url]);
    assert_eq!(code, Some(0), "{doc}");
}
