//! The start-up API (issue 12, item 5): `keel::Migrate` against a
//! PostgreSQL that starts seconds after the app, a port where nothing ever
//! listens, a server still in recovery (`57P03`), a wrong password and a
//! wrong database name — each a real server, each retry seen in the
//! `tracing` log.

use crate::support::{Engine, TestDb};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

static FILES: &[keel::EmbeddedFile] = &[keel::EmbeddedFile {
    name: "0001_started.sql",
    bytes: b"CREATE TABLE started (id integer PRIMARY KEY);\nINSERT INTO started VALUES (1);\n",
}];

/// What `tracing` printed while a test ran.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
    fn retries(&self) -> usize {
        self.text().matches("retrying in").count()
    }
}

/// Runs `future` on a runtime of this thread with `tracing` captured.
fn logged<T>(future: impl std::future::Future<Output = T>) -> (T, Log) {
    use tracing_subscriber::util::SubscriberInitExt;
    let log = Log::default();
    let writer = log.clone();
    let _guard = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
        .finish()
        .set_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    (rt.block_on(future), log)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Starts `scripts/postgres-tls.sh FLAGS` on `port`: a throwaway cluster
/// that stops, and whose folder goes, when this test process ends.
fn throwaway_postgres(flags: &[&str], port: u16) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keel-startup-{}-{port}", std::process::id()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/postgres-tls.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .args(flags)
        .arg(&dir)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .output()
        .expect("run the script");
    assert!(
        out.status.success(),
        "scripts/postgres-tls.sh {flags:?} could not start its server:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("certs")
}

fn pg_scalar(url: &str, sql: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        let handle = tokio::spawn(conn);
        let rows = client.simple_query(sql).await.expect(sql);
        drop(client);
        let _ = handle.await;
        rows.into_iter()
            .find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                _ => None,
            })
            .unwrap_or_default()
    })
}

/// The incident this API exists for: the app starts first, the database
/// a few seconds later; the migrations run once it answers.
#[test]
fn a_database_that_starts_after_the_app_is_migrated_after_retries() {
    let port = free_port();
    let server = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        throwaway_postgres(&[], port)
    });
    // trust auth ignores the password: it is there to prove it never leaks
    let url = format!("postgres://postgres:s3cret@127.0.0.1:{port}/postgres?sslmode=disable");
    let started = Instant::now();
    let (report, log) = logged(
        keel::Migrate::new(url.as_str(), FILES)
            .connect_timeout(Duration::from_secs(5))
            .retry_for(Duration::from_secs(90))
            .backoff(Duration::from_millis(100), Duration::from_millis(800))
            .table("keel_startup")
            .run(),
    );
    let report = report.unwrap_or_else(|e| panic!("{e}\n{}", log.text()));
    let waited = started.elapsed();
    let certs = server.join().unwrap();
    assert_eq!(report.steps.len(), 1);
    assert!(waited >= Duration::from_secs(2), "{waited:?}");
    let text = log.text();
    assert!(log.retries() >= 2, "{text}");
    assert!(text.contains("attempt=1"), "{text}");
    assert!(text.contains("delay_ms="), "{text}");
    assert!(
        text.contains("Connection refused"),
        "the cause is logged: {text}"
    );
    assert!(text.contains("postgres:***@127.0.0.1"), "{text}");
    assert!(text.contains("connected after"), "{text}");
    assert!(!text.contains("s3cret"), "a password leaked: {text}");
    let admin = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    assert_eq!(pg_scalar(&admin, "SELECT count(*) FROM started"), "1");
    assert_eq!(
        pg_scalar(
            &admin,
            "SELECT string_agg(version::text, ',') FROM keel_startup WHERE success"
        ),
        "1"
    );

    // a wrong password on the same server fails at once, retry budget or not
    let _ = certs;
    let wrong = format!("postgres://keel_scram:hunter2@localhost:{port}/postgres?sslmode=require");
    let started = Instant::now();
    let (result, log) = logged(
        keel::Migrate::new(wrong.as_str(), FILES)
            .retry_for(Duration::from_secs(30))
            .run(),
    );
    let e = result.expect_err("a wrong password");
    assert!(!e.is_transient(), "{e}");
    assert_eq!(e.kind(), keel::ErrorKind::Connection);
    assert!(
        e.to_string().contains("password authentication failed"),
        "{e}"
    );
    assert!(!e.to_string().contains("hunter2"), "{e}");
    assert_eq!(log.retries(), 0, "{}", log.text());
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// The same on MariaDB: a throwaway `mariadbd` that starts a second later.
#[test]
fn a_mariadb_that_starts_after_the_app_is_migrated_after_retries() {
    let port = free_port();
    let server = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(1));
        let dir =
            std::env::temp_dir().join(format!("keel-startup-my-{}-{port}", std::process::id()));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/mariadb-tls.sh");
        std::process::Command::new("bash")
            .arg(&script)
            .arg(&dir)
            .arg(port.to_string())
            .arg(std::process::id().to_string())
            .output()
            .expect("run the script")
    });
    // the throwaway server is ours alone: its `mysql` schema may take a table
    let url = format!("mysql://root@127.0.0.1:{port}/mysql");
    let (report, log) = logged(
        keel::Migrate::new(url.as_str(), FILES)
            .retry_for(Duration::from_secs(90))
            .backoff(Duration::from_millis(100), Duration::from_millis(800))
            .table("keel_startup")
            .run(),
    );
    let out = server.join().unwrap();
    assert!(
        out.status.success(),
        "scripts/mariadb-tls.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = report.unwrap_or_else(|e| panic!("{e}\n{}", log.text()));
    assert_eq!(report.steps.len(), 1);
    assert!(log.retries() >= 1, "{}", log.text());
    assert!(log.text().contains("connected after"), "{}", log.text());
    // the migration really ran there, once, and was recorded
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let counts: (u64, u64) = rt.block_on(async {
        use mysql_async::prelude::Queryable;
        let mut conn = mysql_async::Conn::from_url(url.as_str()).await.unwrap();
        let started: Option<u64> = conn
            .query_first("SELECT COUNT(*) FROM started")
            .await
            .unwrap();
        let recorded: Option<u64> = conn
            .query_first("SELECT COUNT(*) FROM keel_startup WHERE success")
            .await
            .unwrap();
        let _ = conn.disconnect().await;
        (started.unwrap(), recorded.unwrap())
    });
    assert_eq!(counts, (1, 1));
}

#[test]
fn a_closed_port_fails_with_a_transient_error_after_the_budget_or_the_retries() {
    let port = free_port();
    let url = format!("postgres://app:s3cret@127.0.0.1:{port}/app");
    let started = Instant::now();
    let (result, log) = logged(
        keel::Migrate::new(url.as_str(), FILES)
            .retry_for(Duration::from_millis(1500))
            .backoff(Duration::from_millis(100), Duration::from_millis(400))
            .run(),
    );
    let waited = started.elapsed();
    let e = result.expect_err("nothing listens");
    assert!(e.is_transient(), "{e}");
    assert_eq!(e.kind(), keel::ErrorKind::Connection);
    let message = e.to_string();
    let attempts = log.retries() + 1;
    assert!(attempts >= 3, "{}", log.text());
    assert!(
        message.contains(&format!("gave up after {attempts} attempts")),
        "{message}"
    );
    assert!(message.contains("Connection refused"), "{message}");
    assert!(!message.contains("s3cret") && !log.text().contains("s3cret"));
    assert!(
        waited < Duration::from_secs(4),
        "the budget is kept: {waited:?}"
    );

    // a count of retries instead of a budget: exactly n + 1 attempts
    let (result, log) = logged(
        keel::Migrate::new(format!("mysql://root@127.0.0.1:{port}/app"), FILES)
            .retries(2)
            .backoff(Duration::from_millis(50), Duration::from_millis(100))
            .run(),
    );
    let e = result.expect_err("nothing listens");
    assert!(e.is_transient(), "{e}");
    assert!(e.to_string().contains("gave up after 3 attempts"), "{e}");
    assert_eq!(log.retries(), 2, "{}", log.text());

    // a server that accepts and never answers: each attempt is cut at the
    // connect timeout, and that is transient too (PostgreSQL and MySQL)
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    for url in [
        format!("postgres://app@127.0.0.1:{silent_port}/app"),
        format!("mysql://app@127.0.0.1:{silent_port}/app"),
    ] {
        let started = Instant::now();
        let (result, log) = logged(
            keel::Migrate::new(url.as_str(), FILES)
                .connect_timeout(Duration::from_millis(400))
                .retries(1)
                .backoff(Duration::from_millis(50), Duration::from_millis(50))
                .run(),
        );
        let e = result.expect_err("the server never answers");
        assert!(e.is_transient(), "{url}: {e}");
        assert!(e.to_string().contains("gave up after 2 attempts"), "{e}");
        assert!(e.to_string().contains("0.4 s"), "{e}");
        assert_eq!(log.retries(), 1);
        assert!(started.elapsed() < Duration::from_secs(3), "{url}");
    }
    drop(silent);

    // keel::migrate has no retries: one attempt, the plain error
    let (result, log) = logged(keel::migrate(&url, FILES));
    let e = result.expect_err("nothing listens");
    assert!(e.is_transient(), "{e}");
    assert!(!e.to_string().contains("gave up"), "{e}");
    assert_eq!(log.retries(), 0);
}

#[test]
fn a_wrong_database_name_fails_at_once_on_every_server_engine() {
    for url in [
        "postgres://postgres@127.0.0.1:5432/keel_no_such_database",
        "mysql://root@127.0.0.1:3306/keel_no_such_database",
    ] {
        let started = Instant::now();
        let (result, log) = logged(
            keel::Migrate::new(url, FILES)
                .retry_for(Duration::from_secs(30))
                .run(),
        );
        let e = result.expect_err(url);
        assert!(!e.is_transient(), "{url}: {e}");
        assert_eq!(e.kind(), keel::ErrorKind::Connection, "{url}: {e}");
        let message = e.to_string();
        assert!(
            message.contains("keel_no_such_database") && !message.contains("gave up"),
            "{message}"
        );
        assert_eq!(log.retries(), 0, "{url}: {}", log.text());
        assert!(started.elapsed() < Duration::from_secs(5), "{url}");
    }
    // a refused certificate (the snakeoil one is for localhost) and a
    // mistyped TLS mode are no better later either
    for (url, says) in [
        (
            "postgres://postgres@127.0.0.1:5432/postgres?sslmode=verify-full&sslrootcert=/etc/ssl/certs/ssl-cert-snakeoil.pem",
            "host name mismatch",
        ),
        (
            "postgres://postgres@127.0.0.1:5432/postgres?sslmode=requir",
            "unknown sslmode",
        ),
    ] {
        let (result, log) = logged(keel::Migrate::new(url, FILES).retries(5).run());
        let e = result.expect_err(url);
        assert!(!e.is_transient(), "{e}");
        assert!(e.to_string().contains(says), "{e}");
        assert_eq!(log.retries(), 0, "{}", log.text());
    }
    // a wrong MariaDB password (the shared root has none) is no better later
    let (result, _) = logged(
        keel::Migrate::new("mysql://root:hunter2@127.0.0.1:3306/mysql", FILES)
            .retries(5)
            .run(),
    );
    let e = result.expect_err("a wrong password");
    assert!(!e.is_transient(), "{e}");
    assert!(e.to_string().contains("1045"), "{e}");
    assert!(!e.to_string().contains("hunter2"), "{e}");
}

/// A server that answers but takes no logins yet: PostgreSQL in recovery
/// says `57P03`, as it does while it starts up.
#[test]
fn a_server_that_cannot_take_logins_yet_is_transient() {
    let port = free_port();
    throwaway_postgres(&["--standby"], port);
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let (result, log) = logged(
        keel::Migrate::new(url.as_str(), FILES)
            .retries(1)
            .backoff(Duration::from_millis(50), Duration::from_millis(50))
            .run(),
    );
    let e = result.expect_err("the server is in recovery");
    assert!(e.is_transient(), "{e}");
    let message = e.to_string();
    assert!(message.contains("57P03"), "{message}");
    assert!(message.contains("gave up after 2 attempts"), "{message}");
    assert_eq!(log.retries(), 1, "{}", log.text());
    assert!(log.text().contains("57P03"), "{}", log.text());

    // the CLI (no retries) says the same
    let local = TestDb::new(Engine::Sqlite, "startup_standby");
    let out = local
        .keel()
        .args(["status", "--format", "json", "--database-url", &url])
        .output()
        .unwrap();
    let doc = crate::support::json(&out);
    assert_eq!(out.status.code(), Some(2), "{doc}");
    assert_eq!(doc["error"]["kind"], "connection", "{doc}");
    assert_eq!(doc["error"]["transient"], true, "{doc}");
    // and a database that is not there is not transient
    let out = local
        .keel()
        .args(["status", "--format", "json", "--database-url"])
        .arg("postgres://postgres@127.0.0.1:5432/keel_no_such_database")
        .output()
        .unwrap();
    let doc = crate::support::json(&out);
    assert_eq!(doc["error"]["kind"], "connection", "{doc}");
    assert_eq!(doc["error"]["transient"], false, "{doc}");
}
