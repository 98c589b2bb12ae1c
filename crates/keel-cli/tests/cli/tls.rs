//! TLS on every connection keel makes: PostgreSQL's `sslmode` against the
//! shared server (TLS on, the snakeoil certificate for `localhost`), and
//! MySQL's `ssl-mode` against a throwaway TLS MariaDB that
//! `scripts/mariadb-tls.sh` starts for this test run (its own CA and a
//! server certificate for `localhost`). The server side says whether a
//! session was encrypted: migrations record it in a table.

use crate::support::{Engine, TestDb, json};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

const SNAKEOIL: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";

/// `keel ARGS --database-url URL` in the test's folder.
fn keel(db: &TestDb, url: &str, args: &[&str]) -> Output {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("keel"))
        .current_dir(db.path())
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .args(args)
        .args(["--database-url", url])
        .output()
        .expect("run keel")
}

fn keel_json(db: &TestDb, url: &str, args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = keel(db, url, &all);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), json(&out), text)
}

fn ok(db: &TestDb, url: &str, args: &[&str]) -> serde_json::Value {
    let (code, doc, _) = keel_json(db, url, args);
    assert_eq!(code, Some(0), "keel {args:?} on {url}: {doc}");
    doc
}

/// A refused connection: exit 2, `error.kind` "connection", and the message.
fn refused(db: &TestDb, url: &str, args: &[&str]) -> String {
    let (code, doc, text) = keel_json(db, url, args);
    assert_eq!(code, Some(2), "keel {args:?} on {url} should fail: {doc}");
    assert_eq!(doc["error"]["kind"], "connection", "{doc}");
    assert!(!text.contains("s3cret"), "a password leaked: {text}");
    doc["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A TLS parameter keel cannot use: exit 2, `error.kind` "invalid_input"
/// (found before any connection), and the message.
fn bad_input(db: &TestDb, url: &str, args: &[&str]) -> String {
    let (code, doc, text) = keel_json(db, url, args);
    assert_eq!(code, Some(2), "keel {args:?} on {url} should fail: {doc}");
    assert_eq!(doc["error"]["kind"], "invalid_input", "{doc}");
    assert!(!text.contains("s3cret"), "a password leaked: {text}");
    doc["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A certificate authority nobody trusts, made with openssl.
fn other_ca(dir: &Path) -> PathBuf {
    let ca = dir.join("other-ca.pem");
    let out = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=keel untrusted test CA", "-keyout"])
        .arg(dir.join("other-ca.key"))
        .arg("-out")
        .arg(&ca)
        .output()
        .expect("run openssl");
    assert!(out.status.success(), "openssl: {out:?}");
    ca
}

// ---------------------------------------------------------------- PostgreSQL

fn pg_url(db: &TestDb, host: &str, query: &str) -> String {
    format!("postgres://postgres:s3cret@{host}:5432/{}?{query}", db.name)
}

fn pg_verify_full(db: &TestDb) -> String {
    pg_url(
        db,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={SNAKEOIL}"),
    )
}

const PG_SEEN: &str = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

#[test]
fn postgres_require_and_the_default_are_encrypted_disable_is_plain() {
    let db = TestDb::new(Engine::Postgres, "tls_pg_modes");
    db.write(
        "0001_seen.sql",
        format!("CREATE TABLE seen (mode text, ssl boolean);\nINSERT INTO seen SELECT 'require', ({PG_SEEN});\n"),
    );
    ok(&db, &pg_url(&db, "127.0.0.1", "sslmode=require"), &["up"]);
    db.write(
        "0002_seen.sql",
        format!("INSERT INTO seen SELECT 'disable', ({PG_SEEN});\n"),
    );
    ok(&db, &pg_url(&db, "127.0.0.1", "sslmode=disable"), &["up"]);
    db.write(
        "0003_seen.sql",
        format!("INSERT INTO seen SELECT 'default', ({PG_SEEN});\n"),
    );
    let url = format!("postgres://postgres@127.0.0.1:5432/{}", db.name);
    ok(&db, &url, &["up"]);
    let rows = db.query("SELECT mode || ' ' || ssl FROM seen ORDER BY mode");
    let rows: Vec<String> = rows
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .collect();
    assert_eq!(rows, ["default true", "disable false", "require true"]);
}

#[test]
fn postgres_verify_full_runs_every_command_and_refuses_a_wrong_root_or_host() {
    let db = TestDb::new(Engine::Postgres, "tls_pg_verify_full");
    let url = pg_verify_full(&db);
    db.write(
        "0001_items.sql",
        format!(
            "CREATE TABLE item (id serial PRIMARY KEY, name text NOT NULL, ssl boolean);\nINSERT INTO item (name, ssl) SELECT 'first', ({PG_SEEN});\n"
        ),
    );
    ok(&db, &url, &["up"]);
    assert_eq!(db.scalar("SELECT ssl::text FROM item"), "true");
    let status = ok(&db, &url, &["status"]);
    assert!(status.to_string().contains("applied"), "{status}");
    ok(&db, &url, &["sequences"]);
    // `migrations` is built in a scratch database on the same server, over
    // the same TLS parameters
    let diff = ok(&db, &url, &["diff", "migrations", &url]);
    assert!(!diff.to_string().contains("s3cret"), "{diff}");
    ok(&db, &url, &["check"]);

    // verify-ca checks the chain only: 127.0.0.1 is fine
    let ca_only = pg_url(
        &db,
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={SNAKEOIL}"),
    );
    ok(&db, &ca_only, &["status"]);

    // the wrong certificate authority
    let other = other_ca(db.path());
    let wrong_root = pg_url(
        &db,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", other.display()),
    );
    let message = refused(&db, &wrong_root, &["status"]);
    assert!(message.contains("sslmode=verify-full"), "{message}");
    assert!(message.contains("unknown issuer"), "{message}");
    // require with a root checks the chain too, as libpq
    let require_root = pg_url(
        &db,
        "localhost",
        &format!("sslmode=require&sslrootcert={}", other.display()),
    );
    let message = refused(&db, &require_root, &["up"]);
    assert!(
        message.contains("sslmode=require") && message.contains("unknown issuer"),
        "{message}"
    );
    // the right root, the wrong host name
    let wrong_host = pg_url(
        &db,
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={SNAKEOIL}"),
    );
    let message = refused(&db, &wrong_host, &["up"]);
    assert!(message.contains("host name mismatch"), "{message}");
    assert!(
        message.contains("127.0.0.1") && message.contains("localhost"),
        "{message}"
    );
    // verify-full without any root is refused before connecting: bad input
    let message = bad_input(
        &db,
        &pg_url(&db, "localhost", "sslmode=verify-full"),
        &["status"],
    );
    assert!(message.contains("sslrootcert"), "{message}");
    let message = bad_input(
        &db,
        &pg_url(&db, "localhost", "sslmode=sometimes"),
        &["status"],
    );
    assert!(message.contains("unknown sslmode"), "{message}");
    // nothing ran through the refused connections
    assert_eq!(db.scalar("SELECT count(*) FROM item"), "1");
}

#[test]
fn postgres_copy_and_validate_over_verify_full_with_parallel_workers() {
    let db = TestDb::new(Engine::Postgres, "tls_pg_copy");
    let src = db.path().join("source.db");
    let conn = rusqlite::Connection::open(&src).unwrap();
    let mut sql = String::new();
    for t in 0..6 {
        sql.push_str(&format!(
            "CREATE TABLE t{t} (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL);\n"
        ));
        for i in 0..50 {
            sql.push_str(&format!("INSERT INTO t{t} (v) VALUES ('row {i}');\n"));
        }
    }
    conn.execute_batch(&sql).unwrap();
    drop(conn);
    let url = pg_verify_full(&db);
    let src = src.display().to_string();
    let (code, doc, _) = keel_json(&db, &url, &["copy", &src, &url, "--jobs", "3"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["valid"], true, "{doc}");
    assert_eq!(doc["rows"], 300, "{doc}");
    assert_eq!(db.scalar("SELECT count(*) FROM t5"), "50");
    let (code, doc, _) = keel_json(&db, &url, &["validate", &src, &url]);
    assert_eq!(code, Some(0), "{doc}");
    // and a wrong host stops the copy before anything is written
    let other = TestDb::new(Engine::Postgres, "tls_pg_copy_refused");
    let wrong_host = pg_url(
        &other,
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={SNAKEOIL}"),
    );
    let message = refused(&other, &wrong_host, &["copy", &src, &wrong_host]);
    assert!(message.contains("host name mismatch"), "{message}");
    assert_eq!(
        other.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"),
        "0"
    );
}

// ------------------------------------------------------------- MariaDB (TLS)

struct TlsMariadb {
    port: u16,
    ca: PathBuf,
}

/// Starts `scripts/<script>` on a free port in a new folder: a throwaway
/// server that stops, and whose folder goes, when this test process ends.
pub(crate) fn throwaway(script: &str) -> (u16, PathBuf) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dir = std::env::temp_dir().join(format!(
        "keel-{}-{}-{port}",
        script.trim_end_matches(".sh"),
        std::process::id()
    ));
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts")
        .join(script);
    let out = std::process::Command::new("bash")
        .arg(&path)
        .arg(&dir)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .output()
        .expect("run the script");
    assert!(
        out.status.success(),
        "scripts/{script} could not start its server:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (port, dir.join("certs"))
}

/// The TLS MariaDB of this test run, started once.
fn mariadb_tls() -> &'static TlsMariadb {
    static SERVER: OnceLock<TlsMariadb> = OnceLock::new();
    SERVER.get_or_init(|| {
        let (port, certs) = throwaway("mariadb-tls.sh");
        TlsMariadb {
            port,
            ca: certs.join("ca.pem"),
        }
    })
}

fn my_plain(port: u16, sql: &str) -> Vec<String> {
    use mysql_async::prelude::Queryable;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let url = format!("mysql://root@127.0.0.1:{port}/mysql");
        let mut conn = mysql_async::Conn::from_url(url).await.expect("connect");
        let rows: Vec<mysql_async::Row> = conn
            .query(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let _ = conn.disconnect().await;
        rows.into_iter()
            .map(|r| {
                r.unwrap()
                    .into_iter()
                    .map(|v| match v {
                        mysql_async::Value::Bytes(b) => String::from_utf8_lossy(&b).into_owned(),
                        other => format!("{other:?}"),
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    })
}

/// A database of its own on the TLS MariaDB, dropped afterwards.
struct MyDb {
    port: u16,
    name: String,
    /// for the folder and the migrations
    local: TestDb,
}

impl MyDb {
    fn new(test: &str) -> MyDb {
        let server = mariadb_tls();
        let local = TestDb::new(Engine::Sqlite, test);
        let name = format!("keel_tls_{test}_{}", std::process::id());
        my_plain(server.port, &format!("CREATE DATABASE `{name}`"));
        MyDb {
            port: server.port,
            name,
            local,
        }
    }

    fn url(&self, host: &str, query: &str) -> String {
        format!("mysql://root@{host}:{}/{}?{query}", self.port, self.name)
    }

    fn verify_identity(&self) -> String {
        self.url(
            "localhost",
            &format!(
                "ssl-mode=VERIFY_IDENTITY&ssl-ca={}",
                mariadb_tls().ca.display()
            ),
        )
    }
}

impl Drop for MyDb {
    fn drop(&mut self) {
        my_plain(
            self.port,
            &format!("DROP DATABASE IF EXISTS `{}`", self.name),
        );
    }
}

const MY_SEEN: &str = "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_CIPHER'";

#[test]
fn mariadb_required_and_the_default_are_encrypted_disabled_is_plain() {
    let db = MyDb::new("modes");
    let l = &db.local;
    l.write(
        "0001_seen.sql",
        format!("CREATE TABLE seen (mode VARCHAR(20), cipher VARCHAR(100));\nINSERT INTO seen SELECT 'required', ({MY_SEEN});\n"),
    );
    ok(l, &db.url("127.0.0.1", "ssl-mode=REQUIRED"), &["up"]);
    l.write(
        "0002_seen.sql",
        format!("INSERT INTO seen SELECT 'disabled', ({MY_SEEN});\n"),
    );
    ok(l, &db.url("127.0.0.1", "sslmode=disabled"), &["up"]);
    l.write(
        "0003_seen.sql",
        format!("INSERT INTO seen SELECT 'default', ({MY_SEEN});\n"),
    );
    ok(
        l,
        &format!("mariadb://root@127.0.0.1:{}/{}", db.port, db.name),
        &["up"],
    );
    let rows = my_plain(
        db.port,
        &format!(
            "SELECT mode, cipher <> '' FROM `{}`.seen ORDER BY mode",
            db.name
        ),
    );
    assert_eq!(rows, ["default 1", "disabled 0", "required 1"]);
}

#[test]
fn mariadb_verify_identity_runs_every_command_and_refuses_a_wrong_ca_or_host() {
    let db = MyDb::new("verify");
    let l = &db.local;
    let url = db.verify_identity();
    l.write(
        "0001_items.sql",
        format!(
            "CREATE TABLE item (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) NOT NULL, cipher VARCHAR(100));\nINSERT INTO item (name, cipher) SELECT 'first', ({MY_SEEN});\n"
        ),
    );
    ok(l, &url, &["up"]);
    let cipher = my_plain(db.port, &format!("SELECT cipher FROM `{}`.item", db.name));
    assert!(
        cipher.first().is_some_and(|c| c.starts_with("TLS")),
        "{cipher:?}"
    );
    ok(l, &url, &["status"]);
    ok(l, &url, &["sequences"]);
    ok(l, &url, &["diff", "migrations", &url]);
    ok(l, &url, &["check"]);

    // VERIFY_CA checks the chain only: 127.0.0.1 is fine
    let ca = mariadb_tls().ca.display().to_string();
    ok(
        l,
        &db.url("127.0.0.1", &format!("ssl_mode=verify_ca&ssl_ca={ca}")),
        &["status"],
    );

    let other = other_ca(l.path());
    let wrong_ca = db.url(
        "localhost",
        &format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={}", other.display()),
    );
    let message = refused(l, &wrong_ca, &["status"]);
    assert!(message.contains("ssl-mode=VERIFY_IDENTITY"), "{message}");
    assert!(message.contains("unknown issuer"), "{message}");
    let wrong_ca = db.url(
        "127.0.0.1",
        &format!("ssl-mode=VERIFY_CA&ssl-ca={}", other.display()),
    );
    let message = refused(l, &wrong_ca, &["status"]);
    assert!(
        message.contains("ssl-mode=VERIFY_CA") && message.contains("unknown issuer"),
        "{message}"
    );
    let wrong_host = db.url(
        "127.0.0.1",
        &format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}"),
    );
    let message = refused(l, &wrong_host, &["up"]);
    assert!(message.contains("host name mismatch"), "{message}");
    assert!(
        message.contains("127.0.0.1") && message.contains("localhost"),
        "{message}"
    );
    // a client certificate: keel_x509 may only log in with one
    let certs = mariadb_tls().ca.parent().unwrap().to_path_buf();
    let x509 = |query: &str| {
        format!(
            "mysql://keel_x509@localhost:{}/{}?ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}{query}",
            db.port, db.name
        )
    };
    let with_cert = x509(&format!(
        "&ssl-cert={}&ssl-key={}",
        certs.join("client.pem").display(),
        certs.join("client.key").display()
    ));
    ok(l, &with_cert, &["status"]);
    let message = refused(l, &x509(""), &["status"]);
    assert!(message.contains("Access denied"), "{message}");
    let message = bad_input(
        l,
        &x509(&format!("&ssl-cert={}", certs.join("client.pem").display())),
        &["status"],
    );
    assert!(message.contains("ssl-key"), "{message}");
    let message = bad_input(l, &db.url("localhost", "ssl-mode=SOMETIMES"), &["status"]);
    assert!(message.contains("unknown ssl-mode"), "{message}");
}

#[test]
fn mariadb_without_tls_is_refused_unless_preferred() {
    // the shared MariaDB has no TLS
    let db = TestDb::new(Engine::Mysql, "tls_my_no_tls");
    let message = refused(&db, &format!("{}?ssl-mode=REQUIRED", db.url), &["status"]);
    assert!(message.contains("does not support TLS"), "{message}");
    assert!(message.contains("ssl-mode=REQUIRED"), "{message}");
    ok(&db, &format!("{}?ssl-mode=PREFERRED", db.url), &["status"]);
}

/// A stand-in PostgreSQL server that answers every SSLRequest with `N`
/// (no TLS) and then hangs up: enough to see what each `sslmode` does.
fn server_without_tls() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = [0u8; 8];
            if stream.read_exact(&mut request).is_ok() && request[4..] == [0x04, 0xd2, 0x16, 0x2f] {
                let _ = stream.write_all(b"N");
            }
        }
    });
    port
}

#[test]
fn postgres_without_tls_is_refused_where_the_mode_requires_it() {
    let local = TestDb::new(Engine::Sqlite, "tls_pg_no_tls");
    let port = server_without_tls();
    for mode in ["require", "verify-ca", "verify-full"] {
        let url = format!(
            "postgres://postgres:s3cret@localhost:{port}/db?sslmode={mode}&sslrootcert={SNAKEOIL}"
        );
        let message = refused(&local, &url, &["status"]);
        assert!(message.contains("does not support TLS"), "{message}");
        assert!(message.contains(&format!("sslmode={mode}")), "{message}");
    }
    // prefer goes on in plain text: the stand-in then hangs up, which is
    // not a TLS error
    let url = format!("postgres://postgres@localhost:{port}/db?sslmode=prefer");
    let message = refused(&local, &url, &["status"]);
    assert!(!message.contains("TLS"), "{message}");
}

// ------------------------------------ PostgreSQL: SCRAM and client certificates

#[test]
fn postgres_scram_with_channel_binding_and_client_certificates() {
    let (port, certs) = throwaway("postgres-tls.sh");
    let local = TestDb::new(Engine::Sqlite, "tls_pg_scram");
    let ca = certs.join("ca.pem").display().to_string();
    let base = format!("localhost:{port}/postgres?sslmode=verify-full&sslrootcert={ca}");
    local.write(
        "0001_seen.sql",
        format!("CREATE TABLE IF NOT EXISTS seen (who text, ssl boolean);\nINSERT INTO seen SELECT current_user, ({PG_SEEN});\n"),
    );
    // SCRAM-SHA-256-PLUS: the server's certificate bound to the login, which
    // channel_binding=require insists on
    let scram = format!("postgres://keel_scram:s3cret@{base}&channel_binding=require");
    let (code, doc, text) = keel_json(&local, &scram, &["up"]);
    assert_eq!(code, Some(0), "{doc}");
    assert!(!text.contains("s3cret"), "{text}");
    let wrong = format!("postgres://keel_scram:hunter2@{base}");
    let message = refused(&local, &wrong, &["status"]);
    assert!(
        message.contains("password authentication failed"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");

    // a client certificate is the login of keel_cert
    let key = certs.join("client.key").display().to_string();
    let cert = certs.join("client.pem").display().to_string();
    let with_cert = format!("postgres://keel_cert@{base}&sslcert={cert}&sslkey={key}");
    let local2 = TestDb::new(Engine::Sqlite, "tls_pg_cert");
    std::fs::copy(
        local.migrations().join("0001_seen.sql"),
        local2.migrations().join("0001_seen.sql"),
    )
    .unwrap();
    let (code, doc, _) = keel_json(
        &local2,
        &with_cert,
        &["up", "--table", "keel_cert_migrations"],
    );
    assert_eq!(code, Some(0), "{doc}");
    // the scratch database `diff` builds `migrations` in is reached with the
    // same client certificate: keel_cert has no other way in
    let (code, doc, _) = keel_json(
        &local2,
        &with_cert,
        &[
            "diff",
            "migrations",
            &with_cert,
            "--table",
            "keel_cert_migrations",
        ],
    );
    assert!(doc.get("error").is_none(), "{doc}");
    assert!(code == Some(0) || code == Some(1), "{doc}");
    let message = refused(
        &local2,
        &format!("postgres://keel_cert@{base}"),
        &["status"],
    );
    assert!(message.contains("certificate"), "{message}");
    // a certificate without its key is bad input, found before connecting
    let message = bad_input(
        &local2,
        &format!("postgres://keel_cert@{base}&sslcert={cert}"),
        &["status"],
    );
    assert!(message.contains("sslkey"), "{message}");

    // the server saw both logins encrypted
    let seen = pg_rows(
        &format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        "SELECT who || ' ' || ssl FROM seen ORDER BY who",
    );
    assert_eq!(seen, ["keel_cert true", "keel_scram true"]);
}

fn pg_rows(url: &str, sql: &str) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        let handle = tokio::spawn(conn);
        let rows = client
            .simple_query(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        drop(client);
        let _ = handle.await;
        rows.into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                _ => None,
            })
            .collect()
    })
}
