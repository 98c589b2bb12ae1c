//! `keel copy` run again over a finished copy: `--if-exists drop`,
//! `--if-exists truncate` and `--data-only` on the incident-1 database (16
//! tables, a foreign-key graph) with 1, 2 and 4 connections, finishing —
//! never waiting on itself — and leaving the catalog whole; `drop` refusing
//! to take the application's views and other tables' foreign keys along.

use crate::copy_postgres::{INCIDENT_1, sqlite};
use crate::support::{Engine, TestDb};
use std::time::{Duration, Instant};

/// Runs `keel copy … --format json`, killed (and the test failed) if it
/// has not finished after a minute: a copy that waits on itself never does.
fn copy(db: &TestDb, args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let mut all = vec!["copy"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let mut child = db
        .keel_process(&all)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("keel {all:?} did not finish within a minute: it waits on itself");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    // what the user reads: stderr, and the JSON error when there is one
    let said = format!("{}{}", String::from_utf8_lossy(&out.stderr), doc["error"]);
    (out.status.code(), doc, said)
}

fn foreign_keys(db: &TestDb) -> String {
    db.scalar("SELECT count(*)::text FROM pg_constraint WHERE contype = 'f' AND convalidated")
}

#[test]
fn reruns_over_a_foreign_key_graph_finish_with_every_job_count() {
    for jobs in ["1", "2", "4"] {
        let db = TestDb::new(Engine::Postgres, &format!("copy_rerun_{jobs}"));
        let src = sqlite(&db, INCIDENT_1);
        let (code, doc, err) = copy(&db, &[&src, &db.url, "--jobs", jobs]);
        assert_eq!(code, Some(0), "first copy, --jobs {jobs}: {doc} {err}");
        assert_eq!(foreign_keys(&db), "16");
        for mode in [
            vec!["--if-exists", "drop"],
            vec!["--if-exists", "truncate"],
            vec!["--data-only", "--if-exists", "truncate"],
        ] {
            // a change the re-run must undo
            db.query("UPDATE \"user\" SET username = 'changed' WHERE id = 1");
            let mut args = vec![src.as_str(), db.url.as_str(), "--jobs", jobs];
            args.extend(mode.iter().copied());
            let (code, doc, err) = copy(&db, &args);
            assert_eq!(code, Some(0), "{mode:?} --jobs {jobs}: {doc} {err}");
            assert_eq!(doc["valid"], true, "{mode:?} --jobs {jobs}: {doc}");
            assert_eq!(doc["rows"], 21, "{mode:?} --jobs {jobs}: {doc}");
            assert_eq!(
                db.scalar("SELECT username FROM \"user\" WHERE id = 1"),
                "admin",
                "{mode:?} --jobs {jobs}"
            );
            assert_eq!(
                foreign_keys(&db),
                "16",
                "{mode:?} --jobs {jobs}: every foreign key back, validated"
            );
            // above the data and sqlite_sequence (7); never one handed out
            let id: i64 = db
                .scalar("INSERT INTO \"case\" (name) VALUES ('n') RETURNING id::text")
                .parse()
                .unwrap();
            assert!(id >= 8, "{mode:?} --jobs {jobs}: new id {id}");
            db.query("DELETE FROM \"case\" WHERE name = 'n'");
        }
    }
}

#[test]
fn drop_refuses_to_take_views_and_other_tables_foreign_keys_along() {
    let db = TestDb::new(Engine::Postgres, "copy_rerun_cascade");
    let src = sqlite(&db, INCIDENT_1);
    let (code, doc, err) = copy(&db, &[&src, &db.url]);
    assert_eq!(code, Some(0), "{doc} {err}");
    // the application's own objects on top of the copy
    db.query(
        "CREATE VIEW active_users AS SELECT id, username FROM \"user\" WHERE is_active;
         CREATE VIEW active_user_names AS SELECT username FROM active_users;
         CREATE TABLE app_note (id int PRIMARY KEY, case_id bigint REFERENCES \"case\"(id), user_id bigint);
         INSERT INTO app_note VALUES (1, 1, 1);",
    );
    let (code, _, err) = copy(&db, &[&src, &db.url, "--if-exists", "drop", "--jobs", "4"]);
    assert_eq!(code, Some(2), "{err}");
    for named in [
        "view active_users",
        "view active_user_names",
        "foreign key app_note_case_id_fkey of public.app_note",
        "drop-cascade",
        "nothing was written",
    ] {
        assert!(err.contains(named), "`{named}` in: {err}");
    }
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM active_user_names"),
        "1",
        "nothing was dropped"
    );

    // truncate keeps them: the outside foreign key is put back, checked
    let (code, doc, err) = copy(
        &db,
        &[&src, &db.url, "--if-exists", "truncate", "--jobs", "4"],
    );
    assert_eq!(code, Some(0), "{doc} {err}");
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM pg_constraint WHERE conname = 'app_note_case_id_fkey' AND convalidated"),
        "1"
    );
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM active_user_names"),
        "1"
    );

    // an outside row whose parent the copy no longer has: refused, whole
    db.query("INSERT INTO \"case\" (id, name) VALUES (50, 'extra'); INSERT INTO app_note VALUES (2, 50, 1);");
    let (code, _, err) = copy(
        &db,
        &[&src, &db.url, "--if-exists", "truncate", "--jobs", "2"],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("app_note_case_id_fkey"), "{err}");
    assert_eq!(
        db.scalar("SELECT name FROM \"case\" WHERE id = 50"),
        "extra",
        "all or nothing: the target is as it was"
    );
    db.query("DELETE FROM app_note WHERE id = 2; DELETE FROM \"case\" WHERE id = 50");

    // drop-cascade does it, and says what went
    let (code, doc, err) = copy(
        &db,
        &[&src, &db.url, "--if-exists", "drop-cascade", "--jobs", "4"],
    );
    assert_eq!(code, Some(0), "{doc} {err}");
    let notes = doc["notes"].to_string();
    assert!(notes.contains("active_user_names"), "{notes}");
    assert!(notes.contains("app_note_case_id_fkey"), "{notes}");
    assert!(
        !db.has_table("active_users")
            && db
                .query("SELECT 1 FROM pg_views WHERE viewname = 'active_users'")
                .is_empty()
    );
    assert_eq!(
        db.scalar(
            "SELECT count(*)::text FROM pg_constraint WHERE conname = 'app_note_case_id_fkey'"
        ),
        "0"
    );
    assert_eq!(foreign_keys(&db), "16");
}

/// Northwind's order details, with the CHECKs that keep its data sane.
const NORTHWIND_CHECKS: &str = r#"
CREATE TABLE "Order Details" (
  OrderID INTEGER NOT NULL, ProductID INTEGER NOT NULL,
  UnitPrice NUMERIC NOT NULL DEFAULT 0 CHECK (UnitPrice >= 0),
  Quantity INTEGER NOT NULL DEFAULT 1 CHECK (Quantity > 0),
  Discount REAL NOT NULL DEFAULT 0 CHECK (Discount BETWEEN 0 AND 1),
  PRIMARY KEY (OrderID, ProductID));
INSERT INTO "Order Details" VALUES (10248, 11, 14, 12, 0), (10248, 42, 9.8, 10, 0.15);
"#;

#[test]
fn check_constraints_arrive_translated_or_the_copy_says_which_it_cannot() {
    let db = TestDb::new(Engine::Postgres, "copy_checks");
    let src = sqlite(&db, NORTHWIND_CHECKS);
    let (code, doc, said) = copy(&db, &[&src, &db.url]);
    assert_eq!(code, Some(0), "{doc} {said}");
    assert!(said.contains("written into"), "the target is named: {said}");
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM pg_constraint WHERE conrelid = '\"Order Details\"'::regclass AND contype = 'c'"),
        "3",
        "{doc}"
    );
    for bad in [
        "INSERT INTO \"Order Details\" VALUES (1, 1, 1, 0, 0)",
        "INSERT INTO \"Order Details\" VALUES (1, 1, 1, 1, 1.5)",
        "INSERT INTO \"Order Details\" VALUES (1, 1, -1, 1, 0)",
    ] {
        let err = crate::support::PgRole::new("checks").exec(&db, bad);
        assert!(
            err.as_ref()
                .is_err_and(|e| e.contains("check constraint") || e.contains("permission denied")),
            "{bad}: {err:?}"
        );
    }
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM \"Order Details\""),
        "2",
        "refused rows stayed out"
    );

    // one that cannot be shown to mean the same: refused, named, nothing written
    let db2 = TestDb::new(Engine::Postgres, "copy_checks_lost");
    let src2 = sqlite(
        &db2,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT CHECK (length(code) = 3), n INTEGER CHECK (n > 0));
         INSERT INTO t VALUES (1, 'abc', 1);",
    );
    let (code, _, said) = copy(&db2, &[&src2, &db2.url]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("CHECK (length(code) = 3)"), "{said}");
    assert!(said.contains("--skip-checks"), "{said}");
    assert!(!db2.has_table("t"), "nothing was written");
    let (code, doc, said) = copy(&db2, &[&src2, &db2.url, "--skip-checks"]);
    assert_eq!(code, Some(0), "{said}");
    assert!(
        doc["notes"].to_string().contains("length(code) = 3"),
        "{doc}"
    );
    assert_eq!(
        db2.scalar("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 't'::regclass AND contype = 'c'"),
        "CHECK ((n > 0))",
        "the translatable one still arrives"
    );
}

#[test]
fn an_empty_source_is_an_error_and_the_largest_id_is_handled() {
    let db = TestDb::new(Engine::Postgres, "copy_empty_src");
    let empty = db.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let empty = empty.display().to_string();
    let (code, _, said) = copy(&db, &[&empty, &db.url]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("no tables"), "{said}");

    let src = sqlite(
        &db,
        "CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO big VALUES (9223372036854775807, 'top');",
    );
    let (code, doc, said) = copy(&db, &[&src, &db.url]);
    // copied whole, and exit 1: no id is left for the next INSERT, and the
    // sequence check says so (before, the identity's start overflowed)
    assert_eq!(code, Some(1), "{doc} {said}");
    assert_eq!(doc["valid"], true, "{doc}");
    assert_eq!(doc["sequences_sound"], false, "{doc}");
    assert_eq!(
        db.scalar("SELECT v FROM big WHERE id = 9223372036854775807"),
        "top"
    );
    assert!(
        doc["notes"].to_string().contains("9223372036854775807"),
        "{doc}"
    );
}

#[test]
fn a_failure_after_the_rows_commit_leaves_the_target_marked_incomplete_until_a_rerun() {
    let db = TestDb::new(Engine::Postgres, "copy_incomplete");
    // distinct in SQLite (an integer and a text), the same text in
    // PostgreSQL: the unique key, built after the rows commit, fails
    let src = sqlite(
        &db,
        "CREATE TABLE m (id INTEGER PRIMARY KEY, k UNIQUE); INSERT INTO m VALUES (1, 1), (2, '1');",
    );
    let (code, _, said) = copy(&db, &[&src, &db.url]);
    assert_eq!(code, Some(2), "{said}");
    for told in ["committed in", "marked incomplete", "--if-exists drop"] {
        assert!(said.contains(told), "`{told}` in: {said}");
    }
    assert!(
        db.has_table("keel_copy_incomplete"),
        "the mark is in the target"
    );
    let (code, doc) = db.keel_json(&["validate", &src, &db.url]);
    assert_eq!(code, Some(1), "an unfinished copy is not valid: {doc}");
    assert!(doc["incomplete"].is_string(), "{doc}");
    assert_eq!(
        doc["missing"],
        serde_json::json!(["m: primary key (id)", "m: unique constraint (k)"]),
        "validate names what the copy promised and the target lacks: {doc}"
    );
    let out = db
        .keel()
        .args(["validate", &src, &db.url])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("INCOMPLETE"),
        "{out:?}"
    );

    for command in ["status", "check"] {
        let out = db.keel().arg(command).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{command}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("INCOMPLETE"),
            "{command}: {out:?}"
        );
    }

    // the same copy without --if-exists: told what happened and what to do
    let (code, _, said) = copy(&db, &[&src, &db.url]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("did not finish"), "{said}");
    assert!(said.contains("--if-exists drop"), "{said}");

    // the cause fixed in the source, the same copy again finishes it
    rusqlite::Connection::open(&src)
        .unwrap()
        .execute_batch("DELETE FROM m WHERE id = 2")
        .unwrap();
    let (code, doc, said) = copy(&db, &[&src, &db.url, "--if-exists", "drop"]);
    assert_eq!(code, Some(0), "{doc} {said}");
    assert!(!db.has_table("keel_copy_incomplete"), "the mark is gone");
    let (code, doc) = db.keel_json(&["validate", &src, &db.url]);
    assert_eq!(code, Some(0), "{doc}");
    assert!(doc["incomplete"].is_null(), "{doc}");
}

#[test]
fn validate_names_the_keys_indexes_and_constraints_the_target_lacks() {
    let db = TestDb::new(Engine::Postgres, "copy_validate_promises");
    let src = sqlite(&db, INCIDENT_1);
    let (code, doc, said) = copy(&db, &[&src, &db.url]);
    assert_eq!(code, Some(0), "{doc} {said}");
    assert_eq!(doc["missing"], serde_json::json!([]), "{doc}");
    let (code, doc) = db.keel_json(&["validate", &src, &db.url]);
    assert_eq!(code, Some(0), "{doc}");
    db.query(
        "DROP INDEX ix_ioc_match_ioc_id; ALTER TABLE case_share DROP CONSTRAINT case_share_user_id_fkey;
         ALTER TABLE system_settings DROP CONSTRAINT system_settings_setting_key_key",
    );
    let (code, doc) = db.keel_json(&["validate", &src, &db.url]);
    assert_eq!(code, Some(1), "{doc}");
    assert_eq!(
        doc["missing"],
        serde_json::json!([
            "case_share: foreign key (user_id) references user",
            "ioc_match: index ix_ioc_match_ioc_id (ioc_id)",
            "system_settings: unique constraint (setting_key)"
        ]),
        "{doc}"
    );
}

#[test]
fn a_partial_unique_index_keeps_its_condition_and_json_nul_is_refused_by_name() {
    let db = TestDb::new(Engine::Postgres, "copy_partial");
    let src = sqlite(
        &db,
        "CREATE TABLE account (id INTEGER PRIMARY KEY, email TEXT NOT NULL, deleted_at DATETIME);
         CREATE UNIQUE INDEX account_live_email ON account (email) WHERE deleted_at IS NULL;
         INSERT INTO account VALUES (1, 'a@x', NULL), (2, 'a@x', '2025-01-01 00:00:00');",
    );
    let (code, doc, said) = copy(&db, &[&src, &db.url]);
    assert_eq!(code, Some(0), "{doc} {said}");
    assert_eq!(
        db.scalar("SELECT pg_get_indexdef('account_live_email'::regclass)"),
        "CREATE UNIQUE INDEX account_live_email ON public.account USING btree (email) WHERE (deleted_at IS NULL)"
    );
    // a second live row with the same email is refused, a deleted one is not
    db.query("INSERT INTO account (email, deleted_at) VALUES ('a@x', now())");
    let refused =
        std::panic::catch_unwind(|| db.query("INSERT INTO account (email) VALUES ('a@x')"));
    assert!(refused.is_err(), "the partial unique index holds");
    let (code, doc) = db.keel_json(&["validate", &src, &db.url]);
    assert_eq!(code, Some(1), "rows were added since: {doc}");
    assert_eq!(doc["missing"], serde_json::json!([]), "{doc}");
    db.query("DROP INDEX account_live_email");
    let (_, doc) = db.keel_json(&["validate", &src, &db.url]);
    assert_eq!(
        doc["missing"],
        serde_json::json!(["account: partial index account_live_email (email)"]),
        "{doc}"
    );

    let db2 = TestDb::new(Engine::Postgres, "copy_json_nul");
    let src2 = sqlite(
        &db2,
        r#"CREATE TABLE event (id INTEGER PRIMARY KEY, payload JSON); INSERT INTO event VALUES (1, '{"a": 1}'), (2, '{"a": "x\u0000y"}');"#,
    );
    let (code, _, said) = copy(&db2, &[&src2, &db2.url]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("event") && said.contains("payload"), "{said}");
    assert!(said.contains("u0000"), "{said}");
    assert!(!db2.has_table("event"), "nothing was written");
}

#[test]
fn null_primary_keys_and_names_clashing_at_63_bytes_are_refused_before_anything_is_written() {
    let db = TestDb::new(Engine::Postgres, "copy_null_pk");
    let src = sqlite(
        &db,
        "CREATE TABLE ok (id INTEGER PRIMARY KEY);
         CREATE TABLE tag (name TEXT PRIMARY KEY, n INTEGER); INSERT INTO tag VALUES ('a', 1), (NULL, 2);",
    );
    let (code, _, said) = copy(&db, &[&src, &db.url]);
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains("table tag: 1 row(s) hold NULL in the primary key (name)"),
        "{said}"
    );
    assert!(!db.has_table("ok"), "nothing was written");

    let db2 = TestDb::new(Engine::Postgres, "copy_long_names");
    let long = "x".repeat(60);
    let src2 = sqlite(
        &db2,
        &format!(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT);
             CREATE INDEX {long}_by_a ON t (a); CREATE INDEX {long}_by_b ON t (b);"
        ),
    );
    let (code, _, said) = copy(&db2, &[&src2, &db2.url]);
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains(&format!(
            "index {long}_by_a of t and index {long}_by_b of t"
        )),
        "{said}"
    );
    assert!(said.contains("63 bytes"), "{said}");
    assert!(!db2.has_table("t"), "nothing was written");
}

#[test]
fn a_number_default_on_a_date_or_json_column_arrives_as_the_rows_do() {
    let db = TestDb::new(Engine::Postgres, "copy_number_defaults");
    let src = sqlite(
        &db,
        "CREATE TABLE job (id INTEGER PRIMARY KEY, created DATETIME DEFAULT 0, doc JSON DEFAULT 0, day DATE DEFAULT 0);
         INSERT INTO job (id) VALUES (1);",
    );
    let (code, doc, said) = copy(&db, &[&src, &db.url]);
    assert_eq!(code, Some(0), "{doc} {said}");
    assert_eq!(
        db.scalar("INSERT INTO job DEFAULT VALUES RETURNING created::text || ' ' || doc::text"),
        db.scalar("SELECT created::text || ' ' || doc::text FROM job WHERE id = 1"),
        "a new row gets what the copied row holds"
    );
    assert_eq!(
        db.scalar("SELECT created::text FROM job WHERE id = 1"),
        "1970-01-01 00:00:00"
    );
    assert!(
        doc["notes"]
            .to_string()
            .contains("job.day: default `0` not translated"),
        "{doc}"
    );
}

#[test]
fn collate_nocase_keeps_unique_case_insensitive() {
    let db = TestDb::new(Engine::Postgres, "copy_nocase");
    let src = sqlite(
        &db,
        "CREATE TABLE member (id INTEGER PRIMARY KEY, email VARCHAR(100) COLLATE NOCASE NOT NULL UNIQUE, nick TEXT);
         INSERT INTO member VALUES (1, 'Ann@Example.org', 'x');",
    );
    let (code, doc, said) = copy(&db, &[&src, &db.url]);
    assert_eq!(code, Some(0), "{doc} {said}");
    assert!(
        doc["notes"].to_string().contains("COLLATE NOCASE kept"),
        "{doc}"
    );
    // as in SQLite: found whatever the case, and a duplicate differing only
    // in case is refused by the UNIQUE constraint
    assert_eq!(
        db.scalar("SELECT id::text FROM member WHERE email = 'ann@example.ORG'"),
        "1"
    );
    let dup = std::panic::catch_unwind(|| {
        db.query("INSERT INTO member (email) VALUES ('ANN@example.org')")
    });
    assert!(dup.is_err(), "a case-only duplicate must be refused");
    assert_eq!(db.scalar("SELECT count(*)::text FROM member"), "1");
    let (code, doc) = db.keel_json(&["validate", &src, &db.url]);
    assert_eq!(code, Some(0), "{doc}");
}

#[test]
fn rows_sqlite_let_past_a_check_are_refused_by_table_before_anything_is_written() {
    let db = TestDb::new(Engine::Postgres, "copy_check_rows");
    let src = sqlite(
        &db,
        "PRAGMA ignore_check_constraints = 1;
         CREATE TABLE line (id INTEGER PRIMARY KEY, quantity INTEGER CHECK (quantity > 0));
         INSERT INTO line VALUES (1, 3), (2, -5);",
    );
    let (code, _, said) = copy(&db, &[&src, &db.url, "--jobs", "2"]);
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains("table line: rows break a CHECK constraint"),
        "{said}"
    );
    assert!(said.contains("nothing was written"), "{said}");
    assert!(!db.has_table("line"));
}
