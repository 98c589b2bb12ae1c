//! Incidents 1 and 2 on PostgreSQL: a copy that left id columns with no
//! sequence, and imported rows that left sequences behind `MAX(id)` — found
//! by `keel sequences`, repaired by `--fix`, and proven by a plain INSERT
//! run as the application role, which is not the tables' owner.

use crate::support::{Engine, PgRole, TestDb};
use serde_json::Value;

fn problems(doc: &Value) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = doc["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["problem"].as_str().unwrap_or_default().to_string(),
                        f["table"].as_str().unwrap_or_default().to_string(),
                        f["column"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn has(doc: &Value, problem: &str, table: &str) -> bool {
    problems(doc)
        .iter()
        .any(|(p, t, _)| p == problem && t == table)
}

fn insert_id(app: &PgRole, db: &TestDb, table: &str) -> String {
    let rows = app
        .exec(
            db,
            &format!("INSERT INTO {table} DEFAULT VALUES RETURNING 1, *"),
        )
        .unwrap_or_else(|e| panic!("INSERT INTO {table} as the app role failed: {e}"));
    rows[0][1].clone().unwrap_or_default()
}

#[test]
fn incident_1_copied_tables_without_sequences_get_working_ids_for_the_app_role() {
    let app = PgRole::new("inc1");
    let db = TestDb::new(Engine::Postgres, "seq_incident_1");
    db.query(&format!(
        "CREATE TABLE \"user\" (id integer PRIMARY KEY, email text);
         INSERT INTO \"user\" VALUES (1, 'a'), (2, 'b'), (40, 'c');
         CREATE TABLE \"case\" (id bigint PRIMARY KEY, title text);
         INSERT INTO \"case\" VALUES (7, 'x');
         CREATE TABLE empty_t (id integer PRIMARY KEY, v int);
         GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO \"{r}\";",
        r = app.name
    ));
    let before = app.exec(&db, "INSERT INTO \"user\" (email) VALUES ('d')");
    assert!(
        before.is_err(),
        "the incident: INSERT without id must fail before the fix"
    );

    let (code, doc) = db.keel_json(&["sequences"]);
    assert_eq!(code, Some(1), "problems found: exit 1");
    assert!(has(&doc, "missing", "public.user"));
    assert!(has(&doc, "missing", "public.case"));
    assert!(has(&doc, "missing", "public.empty_t"));
    assert!(
        !problems(&doc)
            .iter()
            .any(|(_, t, _)| t.contains("keel_migrations")),
        "keel's own table is never reported"
    );

    let (code, doc) = db.keel_json(&["sequences", "--fix", "--grant", &app.name]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["changes"].as_array().map(Vec::len), Some(3), "{doc}");
    let change = &doc["changes"][0];
    assert!(change["before"].is_string() && change["after"].is_string());

    assert_eq!(insert_id(&app, &db, "\"user\""), "41");
    assert_eq!(insert_id(&app, &db, "\"case\""), "8");
    assert_eq!(
        insert_id(&app, &db, "empty_t"),
        "1",
        "an empty table starts at 1, not 2"
    );

    // idempotent: a second run finds nothing and changes nothing
    let (code, doc) = db.keel_json(&["sequences", "--fix", "--grant", &app.name]);
    assert_eq!(code, Some(0));
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(0), "{doc}");
    assert_eq!(doc["changes"].as_array().map(Vec::len), Some(0), "{doc}");
}

#[test]
fn serial_style_creates_owned_sequences_the_app_role_may_use() {
    let app = PgRole::new("serial");
    let db = TestDb::new(Engine::Postgres, "seq_serial_style");
    db.query(&format!(
        "CREATE TABLE \"order\" (id integer PRIMARY KEY, v int);
         INSERT INTO \"order\" VALUES (5, 1), (9, 2);
         GRANT SELECT, INSERT ON \"order\" TO \"{r}\";",
        r = app.name
    ));
    let (code, _) = db.keel_json(&["sequences", "--fix", "--style", "serial"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        db.scalar("SELECT pg_get_serial_sequence('\"order\"', 'id')"),
        "public.order_id_seq",
        "the new sequence is owned by the column"
    );
    // the role holding INSERT was granted USAGE on the new sequence
    assert_eq!(insert_id(&app, &db, "\"order\""), "10");
    let (code, doc) = db.keel_json(&["sequences"]);
    assert_eq!(code, Some(0), "{doc}");
}

#[test]
fn incident_2_imported_rows_leave_sequences_behind_and_fix_repairs_every_shape() {
    let app = PgRole::new("inc2");
    let db = TestDb::new(Engine::Postgres, "seq_incident_2");
    db.query(&format!(
        "CREATE TABLE \"user\" (id serial PRIMARY KEY, v int);
         INSERT INTO \"user\" (id, v) VALUES (1, 1), (2, 1), (77, 1);
         -- an index on a column depends on it too, and is no sequence
         CREATE INDEX user_v_idx ON \"user\" (v);
         -- one sequence feeding two tables: pg_get_serial_sequence misses it
         CREATE SEQUENCE shared_seq;
         CREATE TABLE a (id bigint PRIMARY KEY DEFAULT nextval('shared_seq'), v int);
         CREATE TABLE b (id bigint PRIMARY KEY DEFAULT nextval('shared_seq'), v int);
         INSERT INTO a VALUES (10, 1); INSERT INTO b VALUES (55, 1);
         CREATE TABLE empty_t (id bigserial PRIMARY KEY, v int);
         CREATE TABLE ident (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v int);
         INSERT INTO ident (id, v) VALUES (5, 1), (9, 2);
         CREATE SEQUENCE down_seq INCREMENT -1 MAXVALUE -1 START -1;
         CREATE TABLE neg (id int PRIMARY KEY DEFAULT nextval('down_seq'), v int);
         ALTER SEQUENCE down_seq OWNED BY neg.id;
         INSERT INTO neg VALUES (-1, 1), (-20, 1);
         -- quotes and spaces, and a sequence no column owns
         CREATE SEQUENCE \"lo\"\"ose seq\";
         CREATE TABLE \"we\"\"ird t\" (\"my id\" int PRIMARY KEY DEFAULT nextval('\"lo\"\"ose seq\"'), v int);
         INSERT INTO \"we\"\"ird t\" VALUES (3, 1);
         -- a sequence owned by another role than its table
         CREATE TABLE \"case\" (id serial PRIMARY KEY, v int);
         INSERT INTO \"case\" (id, v) VALUES (1000, 1);
         GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO \"{r}\";",
        r = app.name
    ));
    // the app role cannot use the serial sequences yet
    let denied = app.exec(&db, "INSERT INTO empty_t (v) VALUES (1)");
    assert!(
        denied
            .as_ref()
            .is_err_and(|e| e.contains("permission denied for sequence")),
        "{denied:?}"
    );

    let (code, doc) = db.keel_json(&["sequences"]);
    assert_eq!(code, Some(1));
    for table in [
        "public.user",
        "public.a",
        "public.ident",
        "public.neg",
        "public.case",
    ] {
        assert!(has(&doc, "behind", table), "{table} behind: {doc}");
    }
    assert!(
        !has(&doc, "behind", "public.empty_t"),
        "an empty table is not behind"
    );
    assert!(has(&doc, "unlinked", "public.we\"ird t"));
    assert!(has(&doc, "no-privilege", "public.empty_t"));
    assert!(
        has(&doc, "no-privilege", "public.ident"),
        "an identity's INSERT needs no grant, but lastval()/currval() do: {doc}"
    );
    let denied = app.exec(
        &db,
        "INSERT INTO ident (v) VALUES (0); SELECT lastval(); DELETE FROM ident WHERE v = 0",
    );
    assert!(
        denied
            .as_ref()
            .is_err_and(|e| e.contains("permission denied for sequence")),
        "{denied:?}"
    );
    let shared = doc["findings"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|f| f["problem"] == "behind" && f["table"] == "public.a")
        })
        .cloned()
        .unwrap_or_default();
    assert!(
        shared["detail"].as_str().unwrap_or_default().contains("55"),
        "a shared sequence must pass the maximum of every table it feeds: {shared}"
    );

    // a --grant role that does not exist: refused, nothing changed
    let (code, doc) = db.keel_json(&["sequences", "--fix", "--grant", "no_such_role_keel"]);
    assert_eq!(code, Some(2));
    assert_eq!(doc["error"]["kind"], "invalid_input", "{doc}");
    assert_eq!(db.scalar("SELECT last_value FROM user_id_seq"), "1");

    let (code, doc) = db.keel_json(&["sequences", "--fix", "--grant", &app.name]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(insert_id(&app, &db, "\"user\""), "78");
    assert_eq!(insert_id(&app, &db, "a"), "56");
    assert_eq!(insert_id(&app, &db, "b"), "57");
    assert_eq!(insert_id(&app, &db, "empty_t"), "1");
    assert_eq!(insert_id(&app, &db, "ident"), "10");
    assert_eq!(
        app.exec(
            &db,
            "INSERT INTO ident (v) VALUES (3); SELECT lastval()::text, currval(pg_get_serial_sequence('ident', 'id'))::text"
        )
        .map(|r| r[0].clone()),
        Ok(vec![Some("11".to_string()), Some("11".to_string())]),
        "--fix granted the identity's sequence: lastval() and currval() work"
    );
    assert_eq!(insert_id(&app, &db, "neg"), "-21");
    assert_eq!(insert_id(&app, &db, "\"we\"\"ird t\""), "4");
    assert_eq!(insert_id(&app, &db, "\"case\""), "1001");
    assert_eq!(
        db.scalar("SELECT pg_get_serial_sequence('\"we\"\"ird t\"', 'my id')"),
        "public.\"lo\"\"ose seq\"",
        "the unlinked sequence is now owned by its column"
    );

    let (code, doc) = db.keel_json(&["sequences", "--fix", "--grant", &app.name]);
    assert_eq!(code, Some(0));
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(0), "{doc}");
    assert_eq!(doc["changes"].as_array().map(Vec::len), Some(0), "{doc}");
}

#[test]
fn owner_mismatch_and_near_exhaustion_are_reported_and_only_the_owner_is_fixed() {
    let other = PgRole::new("owner");
    let db = TestDb::new(Engine::Postgres, "seq_owner_exhaust");
    db.query(&format!(
        "CREATE TABLE t (id serial PRIMARY KEY, v int);
         CREATE SEQUENCE t2_seq;
         ALTER SEQUENCE t2_seq OWNER TO \"{r}\";
         CREATE TABLE t2 (id int PRIMARY KEY DEFAULT nextval('t2_seq'));
         SELECT setval('t_id_seq', 2000000000);
         INSERT INTO t (v) VALUES (1);",
        r = other.name
    ));
    let (code, doc) = db.keel_json(&["sequences"]);
    assert_eq!(code, Some(1));
    assert!(has(&doc, "owner-mismatch", "public.t2"), "{doc}");
    assert!(has(&doc, "near-exhaustion", "public.t"), "{doc}");

    let (code, doc) = db.keel_json(&["sequences", "--fix"]);
    assert_eq!(code, Some(1), "near-exhaustion remains: {doc}");
    assert_eq!(
        db.scalar("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 't2_seq'"),
        "postgres"
    );
    assert_eq!(
        db.scalar("SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'id'"),
        "integer",
        "a column type is never changed"
    );
    let remaining = doc["remaining"].as_array().cloned().unwrap_or_default();
    assert_eq!(remaining.len(), 1, "{doc}");
    assert_eq!(remaining[0]["problem"], "near-exhaustion");
}

#[test]
fn text_output_names_each_problem_and_the_fix_shows_before_and_after() {
    let db = TestDb::new(Engine::Postgres, "seq_text");
    db.query("CREATE TABLE \"user\" (id serial PRIMARY KEY); INSERT INTO \"user\" VALUES (5);");
    let out = db.keel().arg("sequences").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("behind") && text.contains("public.user.id"),
        "{text}"
    );
    assert!(text.contains("keel sequences --fix"), "{text}");
    let out = db.keel().args(["sequences", "--fix"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("next value 1 -> next value 6"), "{text}");
}

#[test]
fn a_repair_that_fails_part_way_changes_nothing() {
    // keel runs as `fixer`, which owns table a and its sequence but may only
    // UPDATE b's sequence: moving b fails, and a must not stay moved.
    let fixer = PgRole::new("fixer");
    let db = TestDb::new(Engine::Postgres, "seq_all_or_nothing");
    db.query(&format!(
        "CREATE TABLE a (id serial PRIMARY KEY); INSERT INTO a VALUES (10);
         ALTER TABLE a OWNER TO \"{r}\";
         CREATE TABLE b (id serial PRIMARY KEY); INSERT INTO b VALUES (20);
         GRANT SELECT, UPDATE ON SEQUENCE b_id_seq TO \"{r}\";
         GRANT SELECT ON b TO \"{r}\";",
        r = fixer.name
    ));
    let url = format!("postgres://{}@127.0.0.1:5432/{}", fixer.name, db.name);
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("keel"))
        .current_dir(db.path())
        .env_remove("DATABASE_URL")
        .args(["--database-url", &url, "sequences", "--fix"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rolled back") && err.contains("b_id_seq"),
        "{err}"
    );
    assert_eq!(
        db.scalar("SELECT last_value || ' ' || is_called FROM a_id_seq"),
        "1 false",
        "a's sequence moved although the repair failed"
    );
    let (code, doc) = db.keel_json(&["sequences"]);
    assert_eq!(code, Some(1));
    assert!(
        has(&doc, "behind", "public.a") && has(&doc, "behind", "public.b"),
        "{doc}"
    );
}

/// A primary key that is also a foreign key (a 1:1 table) takes its value
/// from its parent: no generator is missing, and `--fix` adds none.
#[test]
fn a_key_that_is_also_a_foreign_key_needs_no_generator() {
    let db = TestDb::new(Engine::Postgres, "seq_pk_fk");
    db.query(
        "CREATE TABLE u (id serial PRIMARY KEY);
         CREATE TABLE profile (user_id int PRIMARY KEY REFERENCES u (id), bio text);
         CREATE TABLE orphan_ids (id int PRIMARY KEY);",
    );
    let (code, doc) = db.keel_json(&["sequences"]);
    assert!(!has(&doc, "missing", "public.profile"), "{doc}");
    // a plain integer key with no generator still is one
    assert!(has(&doc, "missing", "public.orphan_ids"), "{doc}");
    assert_eq!(code, Some(1), "{doc}");
    let (code, doc) = db.keel_json(&["sequences", "--fix"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(
        db.scalar(
            "SELECT attidentity::text FROM pg_attribute WHERE attrelid = 'profile'::regclass AND attname = 'user_id'"
        ),
        "",
        "--fix gave a 1:1 key a generator"
    );
}
