//! Checksums: an edited applied file is caught, with both checksums and
//! what changed; a CRLF-only (or BOM-only) change is not an edit.

use crate::on_every_engine;
use crate::support::json;

on_every_engine!(modified_file_is_caught_but_crlf_is_not, |db| {
    db.write(
        "0001_a.sql",
        "CREATE TABLE a (id INTEGER);\nCREATE TABLE b (id INTEGER);\n",
    );
    db.write("0002_c.sql", "CREATE TABLE c (id INTEGER);\n");
    db.keel().arg("up").assert().success();

    // a CRLF checkout with a BOM: still applied
    db.write(
        "0001_a.sql",
        "\u{feff}CREATE TABLE a (id INTEGER);\r\nCREATE TABLE b (id INTEGER);\r\n",
    );
    let out = db
        .keel()
        .args(["status", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // a real edit: modified, with a diff, and up refuses naming file and checksums
    db.write(
        "0001_a.sql",
        "CREATE TABLE a (id INTEGER);\nCREATE TABLE b (id BIGINT);\n",
    );
    db.write("0003_d.sql", "CREATE TABLE d (id INTEGER);\n");
    let out = db.keel().args(["status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("modified")
            && text.contains("- CREATE TABLE b (id INTEGER);")
            && text.contains("+ CREATE TABLE b (id BIGINT);"),
        "{text}"
    );
    let out = db.keel().args(["up"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("0001_a.sql")
            && err.contains("applied checksum")
            && err.contains("file checksum"),
        "{err}"
    );
    assert!(!db.has_table("d"), "a refused up applies nothing");

    // a missing applied file blocks too
    db.remove("0002_c.sql");
    let out = db
        .keel()
        .args(["status", "--format", "json"])
        .output()
        .unwrap();
    let doc = json(&out);
    assert_eq!(doc["counts"]["missing"], 1);
    assert_eq!(doc["counts"]["modified"], 1);

    // repair accepts the edit; the missing file needs its own decision
    let out = db
        .keel()
        .args(["repair", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    db.keel()
        .args(["repair", "--forget-missing"])
        .assert()
        .success();
    db.keel().arg("up").assert().success();
    assert!(db.has_table("d"));
});

on_every_engine!(out_of_order_needs_a_flag, |db| {
    db.write("0002_b.sql", "CREATE TABLE b (id INTEGER);\n");
    db.keel().arg("up").assert().success();
    db.write("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
    let out = db
        .keel()
        .args(["status", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(json(&out)["counts"]["out-of-order"], 1);
    let out = db.keel().args(["up", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!db.has_table("a"));
    db.keel()
        .args(["up", "--allow-out-of-order"])
        .assert()
        .success();
    assert!(db.has_table("a"));
});

on_every_engine!(
    a_migration_renumbered_onto_an_applied_version_is_not_accepted_alone,
    |db| {
        db.write("0001_a.sql", "CREATE TABLE a (id INT);\n");
        db.write("0002_b.sql", "CREATE TABLE b (id INT);\n");
        let (code, doc) = db.keel_json(&["up"]);
        assert_eq!(code, Some(0), "{doc}");
        // a teammate's `mid` takes version 2, and `b` moves to 3
        db.remove("0002_b.sql");
        db.write("0002_mid.sql", "CREATE TABLE mid (id INT);\n");
        db.write("0003_b.sql", "CREATE TABLE b (id INT);\n");
        let (code, doc) = db.keel_json(&["status"]);
        assert_eq!(code, Some(1), "{doc}");
        assert!(doc.to_string().contains("\"renamed_from\":\"b\""), "{doc}");
        // a plain repair would record `mid` as applied, which it never was
        let (code, doc) = db.keel_json(&["repair"]);
        assert_eq!(code, Some(1), "{doc}");
        assert!(doc.to_string().contains("--accept-renamed 2"), "{doc}");
        assert_eq!(
            db.scalar("SELECT name FROM keel_migrations WHERE version = 2"),
            "b"
        );
        // told it is the same migration, repair records the file as it is
        db.remove("0003_b.sql");
        db.write("0002_mid.sql", "CREATE TABLE b (id INT);\n-- renamed\n");
        let (code, doc) = db.keel_json(&["repair", "--accept-renamed", "2"]);
        assert_eq!(code, Some(0), "{doc}");
        assert_eq!(
            db.scalar("SELECT name FROM keel_migrations WHERE version = 2"),
            "mid"
        );
        let (code, doc) = db.keel_json(&["status"]);
        assert_eq!(code, Some(0), "{doc}");
    }
);
