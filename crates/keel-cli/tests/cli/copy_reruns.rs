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
