//! Nothing silent: links that lead nowhere, directive typos, an empty
//! DATABASE_URL, a mistyped SQLite path under a read-only command, a lock
//! timeout out of range and argument errors are all errors that say what
//! is wrong — in JSON too.

use crate::on_every_engine;
use crate::support::{Engine, TestDb, json};
use assert_cmd::Command;

on_every_engine!(links_that_lead_nowhere_are_errors_naming_the_file, |db| {
    db.write("0001_ok.sql", "CREATE TABLE a (id INTEGER);\n");
    #[cfg(unix)]
    {
        let m = db.migrations();
        std::os::unix::fs::symlink(m.join("gone.sql"), m.join("0002_dangling.sql")).unwrap();
        std::os::unix::fs::symlink(m.join("0004_loop.sql"), m.join("0003_loop.sql")).unwrap();
        std::os::unix::fs::symlink(m.join("0003_loop.sql"), m.join("0004_loop.sql")).unwrap();
        for command in [&["status"][..], &["up"], &["up", "--dry-run"]] {
            let (code, doc) = db.keel_json(command);
            assert_eq!(code, Some(2), "{command:?}: {doc}");
            assert_eq!(doc["error"]["kind"], "invalid_input", "{doc}");
            let problems = doc["error"]["problems"].to_string();
            for f in ["0002_dangling.sql", "0003_loop.sql", "0004_loop.sql"] {
                assert!(problems.contains(f), "{f} not named: {problems}");
            }
            assert!(problems.contains("symbolic link"), "{problems}");
        }
        assert!(!db.has_table("a"), "nothing may run");
    }
});

on_every_engine!(
    directives_are_read_however_they_are_spelt_or_refused,
    |db| {
        db.write(
        "0001_header.sql",
        "/*\n * Migration 1: licensed under MIT.\n */\n-- KEEL: no-transaction\nCREATE TABLE a (id INTEGER);\n",
    );
        if db.engine == Engine::Sqlite {
            // a dry run reads an existing database only
            std::fs::File::create(db.path().join("test.db")).unwrap();
        }
        let (code, doc) = db.keel_json(&["up", "--dry-run"]);
        assert_eq!(code, Some(0), "{doc}");
        assert_eq!(doc["steps"][0]["transactional"], false, "{doc}");
        for (typo, says) in [
            ("-- keel no-transaction\n", "malformed"),
            ("-- keel:no_transacton\n", "unknown directive"),
            (
                "CREATE TABLE b (id INTEGER);\n-- keel:no-transaction\n",
                "no effect",
            ),
        ] {
            db.write(
                "0002_typo.sql",
                format!("{typo}CREATE TABLE c (id INTEGER);\n"),
            );
            let (code, doc) = db.keel_json(&["up"]);
            assert_eq!(code, Some(2), "{typo}: {doc}");
            let p = &doc["error"]["problems"][0];
            assert_eq!(p["file"], "0002_typo.sql", "{doc}");
            assert!(p["line"].is_number(), "{doc}");
            assert!(
                p["message"].as_str().unwrap_or_default().contains(says),
                "{doc}"
            );
            assert!(!db.has_table("a") && !db.has_table("c"), "nothing may run");
        }
    }
);

/// `keel` in `db`'s folder with no URL of its own.
fn bare_keel(db: &TestDb) -> Command {
    let mut cmd = Command::cargo_bin("keel").unwrap();
    cmd.current_dir(db.path()).env_remove("DATABASE_URL");
    cmd
}

#[test]
fn an_empty_database_url_is_an_error() {
    let db = TestDb::new(Engine::Sqlite, "empty_url");
    db.write("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
    let out = bare_keel(&db)
        .env("DATABASE_URL", "")
        .args(["up", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc = json(&out);
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("DATABASE_URL is set but empty"),
        "{doc}"
    );
    assert!(!db.path().join("keel.db").exists());
    std::fs::write(db.path().join(".env"), "DATABASE_URL=\n").unwrap();
    let out = bare_keel(&db).args(["up"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("set but empty"));
    assert!(!db.path().join("keel.db").exists());
}

#[test]
fn read_only_commands_never_create_a_sqlite_file() {
    let db = TestDb::new(Engine::Sqlite, "no_create");
    db.write("0001_a.up.sql", "CREATE TABLE a (id INTEGER);\n");
    db.write("0001_a.down.sql", "DROP TABLE a;\n");
    let typo = db.path().join("tpyo.db");
    let url = format!("sqlite:{}", typo.display());
    for command in [
        &["status"][..],
        &["history"],
        &["check"],
        &["up", "--dry-run"],
        &["down", "--dry-run"],
        &["sequences"],
        &["diff", "migrations"],
    ] {
        let out = bare_keel(&db)
            .args(["--database-url", &url, "--format", "json"])
            .args(command)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{command:?}");
        let doc = json(&out);
        let message = doc["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("no such database file") && message.contains("tpyo.db"),
            "{command:?}: {doc}"
        );
        assert!(!typo.exists(), "{command:?} created {}", typo.display());
    }
    // a changing command still creates it
    bare_keel(&db)
        .args(["--database-url", &url, "up"])
        .assert()
        .success();
    assert!(typo.exists());
}

#[test]
fn lock_timeouts_out_of_range_and_argument_errors_are_clear_in_json() {
    let db = TestDb::new(Engine::Sqlite, "bad_args");
    db.write("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
    for bad in ["-1", "NaN", "1e30", "inf"] {
        let out = db
            .keel()
            .args(["up", "--format", "json", &format!("--lock-timeout={bad}")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let doc = json(&out);
        assert_eq!(doc["error"]["kind"], "invalid_input", "{bad}: {doc}");
        assert!(
            doc["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("lock timeout"),
            "{doc}"
        );
    }
    let out = db
        .keel()
        .args(["up", "--format", "json", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc = json(&out);
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["error"]["kind"], "invalid_input");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("--no-such-flag"),
        "{doc}"
    );
    let out = db
        .keel()
        .args(["--format", "json", "frobnicate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["error"]["kind"], "invalid_input");
    assert!(!db.path().join("test.db").exists(), "nothing ran");
}

#[test]
fn a_tracking_row_too_large_for_mariadb_is_stored_truncated() {
    let db = TestDb::new(Engine::Mysql, "huge_row");
    let packet: usize = db.scalar("SELECT @@max_allowed_packet").parse().unwrap();
    // a trailing comment larger than the server takes in one packet
    let comment = "x".repeat(packet + 1024);
    db.write(
        "0001_big.sql",
        format!("CREATE TABLE a (id INTEGER);\n-- {comment}\n"),
    );
    db.keel().arg("up").assert().success();
    assert!(db.has_table("a"));
    let stored = db.scalar("SELECT applied_sql FROM keel_migrations WHERE version = 1");
    assert!(stored.starts_with("CREATE TABLE a"));
    assert!(stored.len() < packet, "{} bytes stored", stored.len());
    assert!(
        stored.contains("-- keel: truncated to"),
        "{}",
        &stored[stored.len() - 300..]
    );
    let checksum = db.scalar("SELECT checksum FROM keel_migrations WHERE version = 1");
    assert!(stored.ends_with(&format!("(the whole: {checksum})")));
    db.keel().arg("status").assert().code(0);
}

/// A server that accepts the TCP connection and never says a word.
fn silent_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

#[test]
fn a_server_that_never_answers_is_a_connection_error_not_a_hang() {
    let port = silent_server();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("migrations")).unwrap();
    for url in [
        format!("postgres://app:Hunter2pw@127.0.0.1:{port}/db?connect_timeout=1"),
        format!("mysql://app:Hunter2pw@127.0.0.1:{port}/db"),
    ] {
        let started = std::time::Instant::now();
        let out = assert_cmd::Command::cargo_bin("keel")
            .unwrap()
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .args(["--database-url", &url, "status", "--format", "json"])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let doc = crate::support::json(&out);
        assert_eq!(out.status.code(), Some(2), "{url}: {doc}");
        assert_eq!(doc["error"]["kind"], "connection", "{doc}");
        assert!(
            doc["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("did not complete the handshake"),
            "{doc}"
        );
        assert!(started.elapsed().as_secs() < 30, "{url} gave up in time");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("Hunter2pw"), "{all}");
    }
}
