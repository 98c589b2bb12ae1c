//! Introspection: one file per engine, each reading a whole database into
//! the neutral [`Schema`](super::model::Schema) in a number of queries that
//! does not depend on the number of tables. keel's own tracking table is
//! never part of the result.

pub(crate) mod mysql;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use super::model::Schema;
use crate::backend::Backend;
use crate::database::Database;
use crate::error::Result;

/// Reads the schema of the database `db` is connected to.
pub async fn inspect(db: &mut Database) -> Result<Schema> {
    let table = db.options.table.clone();
    match &mut db.backend {
        Backend::Postgres(p) => postgres::inspect(p.client(), &table).await,
        Backend::Sqlite(s) => sqlite::inspect(s.connection(), &table),
        Backend::Mysql(m) => mysql::inspect(m.connection(), &table).await,
    }
}
