//! Connection strings as the apps that own them write them (issue 12,
//! item 2), each run through the real `keel` binary against the real
//! servers: SQLAlchemy's `postgresql+asyncpg://` in a `.env`, SQLAlchemy's
//! SQLite rule, JDBC, Prisma's `file:`, libpq `key=value` strings, the
//! `PG*` environment alone, a password file, `~/.my.cnf`; and a throwaway
//! standby (`scripts/postgres-standby.sh`) that keel refuses to write to,
//! while a multi-host URL with `target_session_attrs=read-write` picks the
//! primary.

use crate::support::{Engine, TestDb, json};
use std::path::{Path, PathBuf};
use std::process::Output;

const LIBPQ_ENV: [&str; 11] = [
    "PGHOST",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGSSLMODE",
    "PGSSLROOTCERT",
    "PGCONNECT_TIMEOUT",
    "PGAPPNAME",
    "PGPASSFILE",
    "MYSQL_HOME",
];

/// `keel ARGS --format json` in `dir` with only `env` of the libpq/MySQL
/// environment, `HOME` in a folder of its own (no real `~/.pgpass`).
fn keel_in(
    dir: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> (Option<i32>, serde_json::Value, String) {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("keel"));
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .env("HOME", &home)
        .env("USER", "keel_nobody");
    for var in LIBPQ_ENV {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out: Output = cmd
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("run keel");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), json(&out), text)
}

/// The same in text mode: what a user reads on stderr.
fn stderr_in(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("keel"));
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .env("HOME", dir.join("home"))
        .env("USER", "keel_nobody");
    for var in LIBPQ_ENV {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().expect("run keel");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn one_migration(db: &TestDb) {
    db.write(
        "0001_widgets.sql",
        "CREATE TABLE widgets (id integer PRIMARY KEY);\n",
    );
}

fn ok(doc: &(Option<i32>, serde_json::Value, String)) -> &serde_json::Value {
    assert_eq!(doc.0, Some(0), "{}", doc.2);
    &doc.1
}

#[test]
fn dotenv_with_sqlalchemy_asyncpg_reaches_postgres() {
    let db = TestDb::new(Engine::Postgres, "cs_asyncpg");
    one_migration(&db);
    std::fs::write(
        db.path().join(".env"),
        format!(
            "SECRET_KEY=abc\nDATABASE_URL=postgresql+asyncpg://postgres:s3cret@127.0.0.1:5432/{}?prepared_statement_cache_size=0&ssl=prefer\n",
            db.name
        ),
    )
    .unwrap();
    let run = keel_in(db.path(), &[], &["up"]);
    let doc = ok(&run);
    assert_eq!(doc["database_source"], "dot_env");
    assert_eq!(
        doc["database_description"],
        format!(
            "PostgreSQL db `{}` on 127.0.0.1:5432 as user postgres, sslmode=prefer",
            db.name
        )
    );
    let notes = doc["database_notes"].to_string();
    assert!(notes.contains("prepared_statement_cache_size"), "{notes}");
    assert!(notes.contains("+asyncpg"), "{notes}");
    assert!(!run.2.contains("s3cret"), "{}", run.2);
    assert!(db.has_table("widgets"));
    assert!(db.has_table("keel_migrations"));
    let (code, stderr) = stderr_in(db.path(), &[], &["status"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "database: PostgreSQL db `{}` on 127.0.0.1:5432",
            db.name
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("note: ignored URL parameter(s) `prepared_statement_cache_size`"),
        "{stderr}"
    );
}

#[test]
fn sqlalchemy_sqlite_urls_resolve_where_sqlalchemy_would() {
    let db = TestDb::new(Engine::Sqlite, "cs_sqlalchemy");
    one_migration(&db);
    let app = db.path();
    std::fs::create_dir(app.join("data")).unwrap();
    std::fs::write(app.join(".env"), "DATABASE_URL=sqlite:///data/app.db\n").unwrap();
    // not an SQLAlchemy app: keel's (sqlx's) meaning, an absolute path —
    // read-only, so nothing is created at /data/app.db
    let (code, doc, text) = keel_in(app, &[], &["status"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/data/app.db"),
        "{doc}"
    );
    assert!(!Path::new("/data/app.db").exists());
    // an SQLAlchemy app (requirements.txt names it): relative, as SQLAlchemy
    std::fs::write(app.join("requirements.txt"), "Flask-SQLAlchemy==3.1\n").unwrap();
    let run = keel_in(app, &[], &["up"]);
    let doc = ok(&run);
    let file = app.join("data/app.db");
    assert_eq!(doc["database"], format!("sqlite:{}", file.display()));
    assert_eq!(
        doc["database_description"],
        format!("SQLite file {}", file.display())
    );
    assert!(file.is_file(), "the file SQLAlchemy opens was not created");
    let conn = rusqlite::Connection::open(&file).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM widgets", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
    // a +driver URL is SQLAlchemy's whatever the folder, and four slashes
    // start an absolute path
    let abs = app.join("abs.db");
    let url = format!("sqlite+aiosqlite:///{}", abs.display());
    let run = keel_in(app, &[], &["up", "--database-url", &url]);
    ok(&run);
    assert!(abs.is_file());
    let url = "sqlite+pysqlite:///rel.db";
    ok(&keel_in(app, &[], &["up", "--database-url", url]));
    assert!(app.join("rel.db").is_file());
}

#[test]
fn prisma_file_url_is_relative_to_the_schema_folder() {
    let db = TestDb::new(Engine::Sqlite, "cs_prisma");
    one_migration(&db);
    std::fs::create_dir(db.path().join("prisma")).unwrap();
    std::fs::write(db.path().join("prisma/schema.prisma"), "datasource db {}\n").unwrap();
    let run = keel_in(
        db.path(),
        &[],
        &["up", "--database-url", "file:./dev.db?connection_limit=1"],
    );
    let doc = ok(&run);
    let file = db.path().join("prisma/dev.db");
    assert_eq!(doc["database"], format!("sqlite:{}", file.display()));
    assert!(file.is_file());
    assert!(!db.path().join("dev.db").exists());
}

#[test]
fn jdbc_urls_for_postgres_and_mysql() {
    let pg = TestDb::new(Engine::Postgres, "cs_jdbc_pg");
    one_migration(&pg);
    let url = format!(
        "jdbc:postgresql://127.0.0.1:5432/{}?user=postgres&loginTimeout=5&ApplicationName=keel-jdbc",
        pg.name
    );
    let run = keel_in(pg.path(), &[], &["up", "--database-url", &url]);
    let doc = ok(&run);
    assert!(doc["database_notes"].to_string().contains("loginTimeout"));
    assert!(pg.has_table("widgets"));
    let my = TestDb::new(Engine::Mysql, "cs_jdbc_my");
    one_migration(&my);
    let url = format!(
        "jdbc:mysql://127.0.0.1:3306/{}?user=root&useSSL=false&serverTimezone=UTC",
        my.name
    );
    let run = keel_in(my.path(), &[], &["up", "--database-url", &url]);
    let doc = ok(&run);
    assert_eq!(
        doc["database_description"],
        format!(
            "MySQL/MariaDB db `{}` on 127.0.0.1:3306 as user root, ssl-mode=DISABLED",
            my.name
        )
    );
    assert!(my.has_table("widgets"));
}

#[test]
fn libpq_keyword_strings_and_their_refusals() {
    let db = TestDb::new(Engine::Postgres, "cs_libpq_kv");
    one_migration(&db);
    let kv = format!(
        "host=127.0.0.1 port = 5432 dbname={} user=postgres application_name='keel kv ''test'''",
        db.name
    );
    ok(&keel_in(db.path(), &[], &["up", "--database-url", &kv]));
    assert!(db.has_table("widgets"));
    // bad input: invalid, named by its source, never echoed, nothing changed
    for (bad, says) in [
        (
            "host=127.0.0.1 user=postgres password='s3cret",
            "no closing quote",
        ),
        (
            "host=127.0.0.1 user=postgres password=s3cret sslmode=bogus",
            "unknown sslmode `bogus`",
        ),
        (
            "host=127.0.0.1 user=postgres password=s3cret dbname",
            "not followed by `=`",
        ),
    ] {
        let (code, doc, text) = keel_in(db.path(), &[], &["down", "--database-url", bad]);
        assert_eq!(code, Some(2), "{text}");
        assert_eq!(doc["error"]["kind"], "invalid_input", "{doc}");
        let message = doc["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
        assert!(message.contains("--database-url"), "{message}");
        assert!(!text.contains("s3cret"), "{text}");
    }
    assert!(
        db.has_table("widgets"),
        "a refused command changed the database"
    );
}

#[test]
fn the_pg_environment_alone_names_the_database() {
    let db = TestDb::new(Engine::Postgres, "cs_pg_env");
    one_migration(&db);
    let env = [
        ("PGHOST", "127.0.0.1"),
        ("PGPORT", "5432"),
        ("PGUSER", "postgres"),
        ("PGDATABASE", db.name.as_str()),
        ("PGAPPNAME", "keel-from-env"),
    ];
    let run = keel_in(db.path(), &env, &["up"]);
    let doc = ok(&run);
    assert_eq!(doc["database_source"], "pg_environment");
    assert!(
        doc["database_notes"]
            .to_string()
            .contains("PGHOST, PGPORT, PGUSER, PGDATABASE")
    );
    assert!(db.has_table("widgets"));
    // no sqlite default file was made instead
    assert!(!db.path().join("keel.db").exists());
    // PGSSLMODE is validated like sslmode
    let (code, doc, _) = keel_in(
        db.path(),
        &[("PGSSLMODE", "maybe"), env[3], env[0]],
        &["status"],
    );
    assert_eq!(code, Some(2));
    assert_eq!(doc["error"]["kind"], "invalid_input");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("PGSSLMODE"),
        "{doc}"
    );
}

#[test]
fn my_cnf_client_section_fills_in_the_user() {
    let db = TestDb::new(Engine::Mysql, "cs_mycnf");
    one_migration(&db);
    let url = format!("mysql://127.0.0.1:3306/{}", db.name);
    // without the option file, the user is the OS user, unknown to MariaDB
    let (code, doc, text) = keel_in(db.path(), &[], &["up", "--database-url", &url]);
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(doc["error"]["kind"], "connection", "{doc}");
    let home = db.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join(".my.cnf"),
        "[mysqld]\nuser=mysql\n[client]\nuser = root\npassword = \"\"\n",
    )
    .unwrap();
    let run = keel_in(db.path(), &[], &["up", "--database-url", &url]);
    let doc = ok(&run);
    assert!(
        doc["database_description"]
            .as_str()
            .unwrap()
            .ends_with("as user root"),
        "{doc}"
    );
    assert!(
        doc["database_notes"].to_string().contains(".my.cnf"),
        "{doc}"
    );
    assert!(db.has_table("widgets"));
}

// ------------------------------------------------------------- the standby

/// A standby of its own for one test, holding database `name` (and role
/// keel_pw, password s3cret): its port.
fn standby(name: &str) -> u16 {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dir: PathBuf =
        std::env::temp_dir().join(format!("keel-standby-{}-{port}", std::process::id()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/postgres-standby.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .arg(&dir)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .arg(name)
        .output()
        .expect("run the script");
    assert!(
        out.status.success(),
        "scripts/postgres-standby.sh could not start its server:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    port
}

/// Tables named `table` in the standby's database.
fn standby_has(port: u16, name: &str, table: &str) -> bool {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let url = format!("postgres://postgres@127.0.0.1:{port}/{name}");
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let rows = client
            .simple_query(&format!(
                "SELECT 1 FROM pg_tables WHERE tablename = '{table}'"
            ))
            .await
            .unwrap();
        rows.iter()
            .any(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_)))
    })
}

#[test]
fn a_standby_is_refused_and_read_write_picks_the_primary() {
    let primary = TestDb::new(Engine::Postgres, "cs_standby");
    one_migration(&primary);
    let port = standby(&primary.name);
    let name = primary.name.as_str();
    let alone = format!("postgres://postgres@127.0.0.1:{port}/{name}");
    // every writing command is refused on the standby, naming it
    for args in [
        vec!["up"],
        vec!["stamp", "1"],
        vec!["repair"],
        vec!["down"],
        vec!["sequences", "--fix"],
    ] {
        let mut all = args.clone();
        all.extend(["--database-url", &alone]);
        let (code, doc, text) = keel_in(primary.path(), &[], &all);
        assert_eq!(code, Some(2), "{args:?}: {text}");
        assert_eq!(doc["error"]["kind"], "refused", "{args:?}: {doc}");
        let message = doc["error"]["message"].as_str().unwrap();
        assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
        assert!(message.contains("standby"), "{message}");
    }
    // and so is a copy into it
    let source = primary.path().join("app.db");
    let conn = rusqlite::Connection::open(&source).unwrap();
    conn.execute_batch("CREATE TABLE gadgets (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO gadgets (name) VALUES ('a');")
        .unwrap();
    drop(conn);
    let from = format!("sqlite:{}", source.display());
    let (code, doc, text) = keel_in(primary.path(), &[], &["copy", &from, &alone]);
    assert_eq!(code, Some(2), "copy into the standby: {text}");
    assert_eq!(doc["error"]["kind"], "refused", "{doc}");
    assert!(!standby_has(port, name, "gadgets"));
    assert!(!standby_has(port, name, "keel_migrations"));
    assert!(!standby_has(port, name, "widgets"));
    // reading a standby is fine
    let (code, _, text) = keel_in(primary.path(), &[], &["status", "--database-url", &alone]);
    assert_eq!(code, Some(1), "status on the standby (one pending): {text}");
    // both hosts, standby first, without target_session_attrs: lands on the
    // standby, which is refused whatever the URL says
    let any = format!("postgres://postgres@127.0.0.1:{port},127.0.0.1:5432/{name}");
    let (code, doc, _) = keel_in(primary.path(), &[], &["up", "--database-url", &any]);
    assert_eq!(
        (code, doc["error"]["kind"].as_str()),
        (Some(2), Some("refused")),
        "{doc}"
    );
    assert!(!primary.has_table("widgets"));
    // with read-write, the primary is chosen
    let rw = format!("{any}?target_session_attrs=read-write");
    let run = keel_in(primary.path(), &[], &["up", "--database-url", &rw]);
    let doc = ok(&run);
    assert!(
        doc["database_description"]
            .as_str()
            .unwrap()
            .contains(&format!("127.0.0.1:{port} or 127.0.0.1:5432 as user postgres (target_session_attrs=read-write)")),
        "{doc}"
    );
    assert!(primary.has_table("widgets"));
    assert!(!standby_has(port, name, "widgets"));
    // check builds the migrations in a scratch database on the same servers
    // (exit 1: the test table's id has no sequence, which check reports)
    let (code, doc, text) = keel_in(primary.path(), &[], &["check", "--database-url", &rw]);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(doc["drift"]["state"], "checked", "{doc}");
    assert_eq!(doc["drift"]["differences"], serde_json::json!([]), "{doc}");
    // the libpq keyword form of the same, with libpq 14's `primary`
    let kv = format!(
        "host=127.0.0.1,127.0.0.1 port={port},5432 dbname={name} user=postgres target_session_attrs=primary"
    );
    ok(&keel_in(
        primary.path(),
        &[],
        &["status", "--database-url", &kv],
    ));
}

#[test]
fn a_password_file_supplies_the_password_only_when_private() {
    use std::os::unix::fs::PermissionsExt;
    let local = TestDb::new(Engine::Sqlite, "cs_pgpass");
    let name = local.name.clone();
    let port = standby(&name);
    let url = format!("postgres://keel_pw@127.0.0.1:{port}/{name}");
    // no password: SCRAM refuses the login
    let (code, doc, _) = keel_in(local.path(), &[], &["status", "--database-url", &url]);
    assert_eq!(
        (code, doc["error"]["kind"].as_str()),
        (Some(2), Some("connection")),
        "{doc}"
    );
    let file = local.path().join("pgpass");
    std::fs::write(
        &file,
        format!(
            "# test\n127.0.0.1:{port}:otherdb:keel_pw:wrong\n127.0.0.1:{port}:*:keel_pw:s3cret\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let passfile = file.display().to_string();
    let env = [("PGPASSFILE", passfile.as_str())];
    let run = keel_in(local.path(), &env, &["status", "--database-url", &url]);
    let doc = ok(&run);
    assert!(
        doc["database_notes"].to_string().contains("password from"),
        "{doc}"
    );
    assert!(!run.2.contains("s3cret"), "{}", run.2);
    // the PG* environment with the same file, no URL at all
    let env_only = [
        ("PGPASSFILE", passfile.as_str()),
        ("PGHOST", "127.0.0.1"),
        ("PGPORT", &port.to_string()),
        ("PGUSER", "keel_pw"),
        ("PGDATABASE", name.as_str()),
    ];
    let doc = ok(&keel_in(local.path(), &env_only, &["status"])).clone();
    assert_eq!(doc["database_source"], "pg_environment");
    // readable by others: ignored with a warning, as libpq does
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, stderr) = stderr_in(local.path(), &env, &["status", "--database-url", &url]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("warning: password file {passfile} is ignored")),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[test]
fn prisma_schema_parameter_is_the_search_path() {
    let db = TestDb::new(Engine::Postgres, "cs_prisma_schema");
    db.query("CREATE SCHEMA app");
    one_migration(&db);
    let url = format!(
        "postgresql://postgres@127.0.0.1:5432/{}?schema=app&connection_limit=5&pgbouncer=true",
        db.name
    );
    let run = keel_in(db.path(), &[], &["up", "--database-url", &url]);
    let doc = ok(&run);
    assert!(
        doc["database_description"]
            .as_str()
            .unwrap()
            .ends_with("search_path `app`"),
        "{doc}"
    );
    let notes = doc["database_notes"].to_string();
    // Prisma's `pgbouncer=true` is kept: it tells keel a pooler is in front
    assert!(notes.contains("`connection_limit`"), "{notes}");
    assert!(!notes.contains("`pgbouncer`"), "{notes}");
    let placed = db.query(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_name IN ('widgets', 'keel_migrations') ORDER BY table_name",
    );
    let placed: Vec<(String, String)> = placed
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
        .collect();
    assert_eq!(
        placed,
        vec![
            ("app".to_string(), "keel_migrations".to_string()),
            ("app".to_string(), "widgets".to_string())
        ]
    );
    // and status through the same URL sees them applied
    let (code, doc, text) = keel_in(db.path(), &[], &["status", "--database-url", &url]);
    assert_eq!(code, Some(0), "{text}");
    assert!(doc.to_string().contains("applied"), "{doc}");
}

/// A Unix socket, in each spelling: libpq never uses TLS there, whatever
/// `sslmode` says (keel once refused every socket: "`` is not a host name").
#[test]
fn a_unix_socket_connects_in_every_spelling() {
    let db = TestDb::new(Engine::Postgres, "cs_socket");
    one_migration(&db);
    let kv = format!("host=/var/run/postgresql dbname={} user=postgres", db.name);
    ok(&keel_in(db.path(), &[], &["up", "--database-url", &kv]));
    assert!(db.has_table("widgets"));
    for url in [
        format!("{kv} sslmode=require"),
        format!("postgres://postgres@%2Fvar%2Frun%2Fpostgresql/{}", db.name),
        format!(
            "postgresql:///{}?host=/var/run/postgresql&user=postgres",
            db.name
        ),
    ] {
        let doc = keel_in(db.path(), &[], &["status", "--database-url", &url]);
        assert_eq!(ok(&doc)["counts"]["applied"], 1, "{url}: {}", doc.2);
    }
    let doc = keel_in(
        db.path(),
        &[
            ("PGHOST", "/var/run/postgresql"),
            ("PGUSER", "postgres"),
            ("PGDATABASE", db.name.as_str()),
        ],
        &["status"],
    );
    assert_eq!(ok(&doc)["counts"]["applied"], 1, "{}", doc.2);
}

/// `schema=` naming a schema that does not exist: refused before anything
/// is written (keel's history once went to `public` while the note said
/// otherwise).
#[test]
fn a_schema_parameter_naming_no_schema_is_refused() {
    let db = TestDb::new(Engine::Postgres, "cs_no_schema");
    one_migration(&db);
    let url = format!("{}?schema=nosuch", db.url);
    let (code, doc, text) = keel_in(db.path(), &[], &["up", "--database-url", &url]);
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(doc["error"]["kind"], "invalid_input", "{doc}");
    assert!(text.contains("names no schema that exists"), "{text}");
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM pg_tables WHERE tablename IN ('keel_migrations', 'widgets')"
        ),
        "0"
    );
}

/// A target that does not resolve is never shown: no redaction knows where
/// a raw `?password=a@b/%` ends (copy once printed `@x/%?y` of it).
#[test]
fn an_unresolvable_copy_target_is_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let target = "jdbc:postgresql://127.0.0.1:5432/db?user=u&password=S3cr:t@x/%?y";
    for command in ["copy", "validate"] {
        let (code, doc, text) = keel_in(dir.path(), &[], &[command, "sqlite:none.db", target]);
        assert_ne!(code, Some(0), "{text}");
        for fragment in ["S3cr", "t@x", "x/%?y"] {
            assert!(!text.contains(fragment), "{command}: {text}");
        }
        assert!(doc.to_string().contains("not shown"), "{doc}");
    }
}
