//! Where the URL comes from, and that passwords never show.

use crate::support::{Engine, TestDb, json};

#[test]
fn connection_failure_is_its_own_kind_and_never_shows_the_password() {
    let db = TestDb::new(Engine::Sqlite, "redaction");
    db.write("0001_a.sql", "SELECT 1;\n");
    for url in [
        "postgres://app:Sup3rSecret@127.0.0.1:1/prod",
        "mysql://app:Sup3rSecret@127.0.0.1:1/prod",
    ] {
        for format in ["text", "json"] {
            let out = db
                .keel()
                .args(["up", "--database-url", url, "--format", format])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2));
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!all.contains("Sup3rSecret"), "password leaked: {all}");
            assert!(all.contains("app:***@127.0.0.1:1"), "{all}");
            if format == "json" {
                assert_eq!(json(&out)["error"]["kind"], "connection");
            }
        }
    }
}

#[test]
fn url_from_dotenv_then_config_then_default() {
    let db = TestDb::new(Engine::Sqlite, "url_sources");
    let run = || {
        let mut cmd = assert_cmd::Command::cargo_bin("keel").unwrap();
        let out = cmd
            .current_dir(db.path())
            .env_remove("DATABASE_URL")
            .args(["up", "--format", "json"])
            .output()
            .unwrap();
        json(&out)
    };
    assert_eq!(run()["database_source"], "default");
    assert!(db.path().join("keel.db").exists());
    std::fs::write(
        db.path().join("keel.toml"),
        "database_url = \"sqlite:from_config.db\"\n",
    )
    .unwrap();
    // relative paths resolve against the working directory, shown absolute
    let abs = |f: &str| format!("sqlite:{}", db.path().join(f).display());
    assert_eq!(run()["database"], abs("from_config.db"));
    std::fs::write(
        db.path().join(".env"),
        "DATABASE_URL=sqlite:from_dotenv.db\n",
    )
    .unwrap();
    assert_eq!(run()["database"], abs("from_dotenv.db"));
    let mut cmd = assert_cmd::Command::cargo_bin("keel").unwrap();
    let out = cmd
        .current_dir(db.path())
        .env("DATABASE_URL", "sqlite:from_env.db")
        .args(["up", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(json(&out)["database_source"], "environment");
}

#[test]
fn a_bad_config_file_is_a_clear_error() {
    let db = TestDb::new(Engine::Sqlite, "bad_config");
    std::fs::write(db.path().join("keel.toml"), "databse_url = 3\n").unwrap();
    let mut cmd = assert_cmd::Command::cargo_bin("keel").unwrap();
    let out = cmd
        .current_dir(db.path())
        .env_remove("DATABASE_URL")
        .args(["status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("keel.toml"));
}
