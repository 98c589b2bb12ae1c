//! Every fixed query keel sends prepares on a real server of its engine:
//! SQLite (in memory), PostgreSQL and MariaDB (each in a database of its
//! own, dropped afterwards).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keel::Dialect;
use keel::db::queries::{self, Query};
use mysql_async::prelude::Queryable;

const PG_ADMIN: &str = "host=127.0.0.1 port=5432 user=postgres dbname=postgres";
const MY_ADMIN: &str = "mysql://root@127.0.0.1:3306/mysql";

fn of(dialect: Dialect) -> Vec<Query> {
    let q: Vec<Query> = queries::all()
        .into_iter()
        .filter(|q| q.dialect == dialect)
        .collect();
    assert!(q.len() > 1, "{dialect}: no queries gathered");
    q
}

#[test]
fn sqlite_queries_prepare() {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    for q in of(Dialect::Sqlite) {
        // SQLite checks some clauses (ESCAPE) only when a query runs: run
        // each one, every parameter bound to a table name.
        let r = if q.setup {
            conn.execute_batch(&q.sql)
        } else {
            conn.prepare(&q.sql).and_then(|mut stmt| {
                let n = stmt.parameter_count();
                let params: Vec<&str> = vec![queries::PROBE_TABLE; n];
                let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
                while rows.next()?.is_some() {}
                Ok(())
            })
        };
        r.unwrap_or_else(|e| panic!("SQLite: {}: {e}\n{}", q.name, q.sql));
    }
}

#[tokio::test]
async fn postgres_queries_prepare() {
    let name = format!("keel_prepare_{}", std::process::id());
    let (admin, conn) = tokio_postgres::connect(PG_ADMIN, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    let (client, conn) = tokio_postgres::connect(
        &format!("host=127.0.0.1 port=5432 user=postgres dbname={name}"),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    let handle = tokio::spawn(conn);
    let mut failures = Vec::new();
    for q in of(Dialect::Postgres) {
        let r = if q.setup {
            client.batch_execute(&q.sql).await
        } else {
            client.prepare(&q.sql).await.map(|_| ())
        };
        if let Err(e) = r {
            failures.push(format!("{}: {e:?}\n{}", q.name, q.sql));
        }
    }
    drop(client);
    let _ = handle.await;
    admin
        .batch_execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .await
        .unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test]
async fn mysql_queries_prepare() {
    let name = format!("keel_prepare_{}", std::process::id());
    let mut admin = mysql_async::Conn::from_url(MY_ADMIN).await.unwrap();
    admin
        .query_drop(format!("CREATE DATABASE `{name}`"))
        .await
        .unwrap();
    let mut conn = mysql_async::Conn::from_url(format!("mysql://root@127.0.0.1:3306/{name}"))
        .await
        .unwrap();
    let mut failures = Vec::new();
    for q in of(Dialect::Mysql) {
        let r = if q.setup {
            conn.query_drop(&q.sql).await
        } else {
            conn.prep(&q.sql).await.map(|_| ())
        };
        if let Err(e) = r {
            failures.push(format!("{}: {e}\n{}", q.name, q.sql));
        }
    }
    let _ = conn.disconnect().await;
    admin
        .query_drop(format!("DROP DATABASE `{name}`"))
        .await
        .unwrap();
    let _ = admin.disconnect().await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
