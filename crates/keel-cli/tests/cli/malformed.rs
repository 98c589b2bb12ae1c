//! Bad input gets a clear error naming the file, and changes nothing: not
//! even the tracking table is created.

use crate::support::{Engine, TestDb, json};

const CASES: &[(&str, &[u8], &str)] = &[
    ("create_users.sql", b"SELECT 1;", "create_users.sql"),
    ("0002_dup.sql", b"SELECT 2;", "duplicate version 2"),
    ("0003_latin1.sql", b"SELECT 'caf\xe9';", "not valid UTF-8"),
    (
        "0004_orphan.down.sql",
        b"SELECT 4;",
        "down file without an up file",
    ),
    (
        "0005_empty.sql",
        b"-- todo\n\n",
        "contains no SQL statement",
    ),
    (
        "0006_typo.sql",
        b"-- keel:no-transacton\nSELECT 6;",
        "unknown directive",
    ),
    ("0007_bad name.sql", b"SELECT 7;", "0007_bad name.sql"),
];

#[test]
fn each_malformed_input_is_reported_and_nothing_changes() {
    for engine in [Engine::Sqlite, Engine::Postgres, Engine::Mysql] {
        let db = TestDb::new(engine, "malformed");
        db.write("0001_good.sql", "CREATE TABLE good (id INTEGER);\n");
        db.write("0002_first.sql", "CREATE TABLE other (id INTEGER);\n");
        for (file, body, expected) in CASES {
            db.write(file, body);
            let out = db.keel().args(["up", "--format", "json"]).output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{engine:?} {file}");
            let doc = json(&out);
            assert_eq!(doc["error"]["kind"], "invalid_input");
            let problems = doc["error"]["problems"].to_string();
            assert!(problems.contains(expected), "{engine:?} {file}: {problems}");
            assert!(
                !db.has_table("good") && !db.has_table("keel_migrations"),
                "{engine:?} {file}: database changed"
            );
            std::fs::remove_file(db.migrations().join(file)).unwrap();
        }
        // all at once: every problem is listed in one run, each with its file
        for (file, body, _) in CASES {
            db.write(file, body);
        }
        let out = db.keel().arg("up").output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        for (file, _, _) in CASES {
            assert!(
                err.contains(file) || *file == "0002_dup.sql",
                "{file} missing from:\n{err}"
            );
        }
        assert!(!db.has_table("good"));
    }
}

#[test]
fn a_missing_migrations_folder_says_how_to_create_one() {
    let db = TestDb::new(Engine::Sqlite, "no_folder");
    std::fs::remove_dir(db.migrations()).unwrap();
    let out = db.keel().arg("up").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not exist") && err.contains("keel init"),
        "{err}"
    );
}
