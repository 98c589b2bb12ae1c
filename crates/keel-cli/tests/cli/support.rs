//! Test support: a fresh, uniquely named database per test on a real server
//! (or a SQLite file in a temp dir), dropped afterwards; the `keel` binary
//! run in a temp working directory; and direct queries to check what the
//! database really holds.

#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use tempfile::TempDir;

pub const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const MY_ADMIN: &str = "mysql://root@127.0.0.1:3306/mysql";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
    Mysql,
}

/// Runs the same test body on every engine, each in its own database.
#[macro_export]
macro_rules! on_every_engine {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn sqlite() {
                let $db = $crate::support::TestDb::new(
                    $crate::support::Engine::Sqlite,
                    stringify!($name),
                );
                $body
            }
            #[test]
            fn postgres() {
                let $db = $crate::support::TestDb::new(
                    $crate::support::Engine::Postgres,
                    stringify!($name),
                );
                $body
            }
            #[test]
            fn mysql() {
                let $db =
                    $crate::support::TestDb::new($crate::support::Engine::Mysql, stringify!($name));
                $body
            }
        }
    };
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub struct TestDb {
    pub engine: Engine,
    pub url: String,
    pub name: String,
    pub dir: TempDir,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn pg_exec(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    runtime().block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect to PostgreSQL");
        let handle = tokio::spawn(conn);
        let msgs = client
            .simple_query(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        drop(client);
        let _ = handle.await;
        msgs.into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => {
                    Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
                }
                _ => None,
            })
            .collect()
    })
}

fn my_exec(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    use mysql_async::prelude::Queryable;
    runtime().block_on(async {
        let mut conn = mysql_async::Conn::from_url(url)
            .await
            .expect("connect to MariaDB");
        let rows: Vec<mysql_async::Row> = conn
            .query(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let out = rows
            .into_iter()
            .map(|r| {
                r.unwrap()
                    .into_iter()
                    .map(|v| match v {
                        mysql_async::Value::NULL => None,
                        mysql_async::Value::Bytes(b) => {
                            Some(String::from_utf8_lossy(&b).into_owned())
                        }
                        mysql_async::Value::Int(i) => Some(i.to_string()),
                        mysql_async::Value::UInt(i) => Some(i.to_string()),
                        other => Some(format!("{other:?}")),
                    })
                    .collect()
            })
            .collect();
        let _ = conn.disconnect().await;
        out
    })
}

impl TestDb {
    pub fn new(engine: Engine, test: &str) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("migrations")).expect("migrations dir");
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let short: String = test.chars().take(30).collect();
        let name = format!("keel_t_{short}_{}_{n}", std::process::id());
        let url = match engine {
            Engine::Sqlite => format!("sqlite:{}", dir.path().join("test.db").display()),
            Engine::Postgres => {
                pg_exec(PG_ADMIN, &format!("CREATE DATABASE \"{name}\""));
                format!("postgres://postgres@127.0.0.1:5432/{name}")
            }
            Engine::Mysql => {
                my_exec(MY_ADMIN, &format!("CREATE DATABASE `{name}`"));
                format!("mysql://root@127.0.0.1:3306/{name}")
            }
        };
        TestDb {
            engine,
            url,
            name,
            dir,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn migrations(&self) -> PathBuf {
        self.dir.path().join("migrations")
    }

    /// `keel` in the test's directory, aimed at this database.
    pub fn keel(&self) -> Command {
        let mut cmd = Command::cargo_bin("keel").expect("keel binary");
        cmd.current_dir(self.path())
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1")
            .args(["--database-url", &self.url]);
        cmd
    }

    /// The same as a `std::process::Command`, for running in parallel.
    pub fn keel_process(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("keel"));
        cmd.current_dir(self.path())
            .env_remove("DATABASE_URL")
            .args(["--database-url", &self.url])
            .args(args);
        cmd
    }

    pub fn write(&self, file: &str, sql: impl AsRef<[u8]>) {
        std::fs::write(self.migrations().join(file), sql).expect("write migration");
    }

    pub fn remove(&self, file: &str) {
        std::fs::remove_file(self.migrations().join(file)).expect("remove migration");
    }

    /// Rows of a query, every value as text.
    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        match self.engine {
            Engine::Postgres => pg_exec(&self.url, sql),
            Engine::Mysql => my_exec(&self.url, sql),
            Engine::Sqlite => {
                let path = self.url.trim_start_matches("sqlite:");
                let conn = rusqlite::Connection::open(path).expect("open sqlite");
                let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                let n = stmt.column_count();
                stmt.query_map([], |r| {
                    (0..n)
                        .map(|i| {
                            r.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                                rusqlite::types::Value::Null => None,
                                rusqlite::types::Value::Integer(i) => Some(i.to_string()),
                                rusqlite::types::Value::Real(f) => Some(f.to_string()),
                                rusqlite::types::Value::Text(t) => Some(t),
                                rusqlite::types::Value::Blob(b) => Some(format!("{b:?}")),
                            })
                        })
                        .collect()
                })
                .and_then(|rows| rows.collect())
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
        }
    }

    pub fn scalar(&self, sql: &str) -> String {
        self.query(sql)
            .first()
            .and_then(|r| r.first().cloned().flatten())
            .unwrap_or_else(|| panic!("no value from {sql}"))
    }

    /// Whether a table exists in this database.
    pub fn has_table(&self, table: &str) -> bool {
        let sql = match self.engine {
            Engine::Postgres => format!(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = '{table}'"
            ),
            Engine::Mysql => format!(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '{table}'"
            ),
            Engine::Sqlite => format!(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '{table}'"
            ),
        };
        self.scalar(&sql) != "0"
    }

    /// Runs keel with `args` and `--format json`: the exit code and the
    /// one JSON document.
    pub fn keel_json(&self, args: &[&str]) -> (Option<i32>, serde_json::Value) {
        let out = self
            .keel()
            .args(args)
            .args(["--format", "json"])
            .output()
            .expect("run keel");
        (out.status.code(), json(&out))
    }

    /// How to quote an identifier in test SQL.
    pub fn q(&self, ident: &str) -> String {
        match self.engine {
            Engine::Mysql => format!("`{ident}`"),
            _ => format!("\"{ident}\""),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self.engine {
            Engine::Postgres => {
                pg_exec(
                    PG_ADMIN,
                    &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
                );
            }
            Engine::Mysql => {
                my_exec(
                    MY_ADMIN,
                    &format!("DROP DATABASE IF EXISTS `{}`", self.name),
                );
            }
            Engine::Sqlite => {}
        }
    }
}

/// Parses stdout as the one JSON document of `--format json`.
pub fn json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// A uniquely named PostgreSQL login role, dropped (with everything granted
/// to it) when the guard goes. Declare it before the [`TestDb`] so the
/// database is dropped first.
pub struct PgRole {
    pub name: String,
}

impl PgRole {
    pub fn new(test: &str) -> PgRole {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let short: String = test.chars().take(20).collect();
        let name = format!("keel_r_{short}_{}_{n}", std::process::id());
        pg_exec(PG_ADMIN, &format!("CREATE ROLE \"{name}\" LOGIN"));
        PgRole { name }
    }

    /// Runs `sql` on `db` connected as this role; the error text on failure.
    pub fn exec(&self, db: &TestDb, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
        let url = format!("postgres://{}@127.0.0.1:5432/{}", self.name, db.name);
        runtime().block_on(async {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            let handle = tokio::spawn(conn);
            let msgs = client.simple_query(sql).await;
            drop(client);
            let _ = handle.await;
            let msgs = msgs.map_err(|e| match e.as_db_error() {
                Some(d) => d.message().to_string(),
                None => e.to_string(),
            })?;
            Ok(msgs
                .into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => {
                        Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
                    }
                    _ => None,
                })
                .collect())
        })
    }
}

impl Drop for PgRole {
    fn drop(&mut self) {
        pg_exec(PG_ADMIN, &format!("DROP ROLE IF EXISTS \"{}\"", self.name));
    }
}

/// The sorted `id`s of a JSON array of differences (`keel diff`, `keel check`).
pub fn difference_ids(differences: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = differences
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| d["id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
