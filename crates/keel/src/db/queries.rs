//! Every fixed query keel sends, gathered by engine, so one test can prove
//! that each prepares on a real server of its engine (a typo in a `.sql`
//! file, or a catalog column a server version lacks, fails there and not
//! in a user's run). The tracking table's own statements are included,
//! filled with a probe table name.

use super::sql::{Ident, Sql};
use crate::dialect::Dialect;

/// One query: which engine, what it reads, its text.
#[derive(Clone, Debug)]
pub struct Query {
    pub dialect: Dialect,
    pub name: &'static str,
    pub sql: String,
    /// Run it (it creates what the later queries read) rather than only
    /// preparing it.
    pub setup: bool,
}

/// The tracking table every probe uses.
pub const PROBE_TABLE: &str = "keel_probe_history";

/// Every fixed query, setup statements first within each engine.
pub fn all() -> Vec<Query> {
    let probe = Ident::new(PROBE_TABLE);
    let mut out = Vec::new();
    for (dialect, create, applied) in crate::backend::tracking_sql() {
        let fill = |t: &'static str| Sql::template(dialect, t, &[("table", &probe)]).into_string();
        out.push(Query {
            dialect,
            name: "tracking table: create",
            sql: fill(create),
            setup: true,
        });
        out.push(Query {
            dialect,
            name: "tracking table: applied rows",
            sql: fill(applied),
            setup: false,
        });
    }
    for (name, sql) in crate::schema::inspect::sqlite::queries() {
        out.push(Query {
            dialect: Dialect::Sqlite,
            name,
            sql,
            setup: false,
        });
    }
    out.push(Query {
        dialect: Dialect::Postgres,
        name: "lock holder",
        sql: crate::backend::postgres::LOCK_HOLDER.to_string(),
        setup: false,
    });
    // the lease lock behind a transaction pooler, on `<probe table>_lock`
    let lock = Ident::new(format!(
        "{PROBE_TABLE}{}",
        crate::backend::pooler::LOCK_TABLE_SUFFIX
    ));
    let lease =
        |t: &'static str| Sql::template(Dialect::Postgres, t, &[("lock", &lock)]).into_string();
    use crate::backend::pooler::{
        LEASE_CREATE, LEASE_FENCE, LEASE_HOLDER, LEASE_RELEASE, LEASE_RENEW, LEASE_TAKE,
    };
    for (name, sql, setup) in [
        ("lease: create", LEASE_CREATE, true),
        ("lease: take", LEASE_TAKE, false),
        ("lease: renew", LEASE_RENEW, false),
        ("lease: release", LEASE_RELEASE, false),
        ("lease: holder", LEASE_HOLDER, false),
        ("lease: fence", LEASE_FENCE, false),
    ] {
        out.push(Query {
            dialect: Dialect::Postgres,
            name,
            sql: lease(sql),
            setup,
        });
    }
    for (name, sql) in crate::schema::inspect::postgres::queries() {
        out.push(Query {
            dialect: Dialect::Postgres,
            name,
            sql,
            setup: false,
        });
    }
    out.push(Query {
        dialect: Dialect::Postgres,
        name: "sequences: catalog",
        sql: crate::sequences::postgres::CATALOG.to_string(),
        setup: false,
    });
    out.push(Query {
        dialect: Dialect::Mysql,
        name: "sequences: catalog",
        sql: crate::sequences::mysql::CATALOG.to_string(),
        setup: false,
    });
    for (name, sql) in crate::copy::sql::queries() {
        out.push(Query {
            dialect: Dialect::Postgres,
            name,
            sql,
            setup: false,
        });
    }
    for (name, sql) in crate::schema::inspect::mysql::queries() {
        out.push(Query {
            dialect: Dialect::Mysql,
            name,
            sql,
            setup: false,
        });
    }
    out
}
