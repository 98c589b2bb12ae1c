//! Introspection: one file per engine, each reading a whole database into
//! the neutral [`Schema`](super::model::Schema) in a number of queries that
//! does not depend on the number of tables. keel's own tracking table and
//! the other tools' history tables ([`crate::known`]) are never part of the
//! result.

pub(crate) mod mysql;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use super::model::Schema;
use crate::backend::Backend;
use crate::db::Database;
use crate::error::Result;
use crate::known::KnownTables;

/// Reads the schema of the database `db` is connected to.
pub async fn inspect(db: &mut Database) -> Result<Schema> {
    let table = db.options.table.clone();
    let mut schema = match &mut db.backend {
        Backend::Postgres(p) => postgres::inspect(p.client(), &table).await,
        Backend::Sqlite(s) => sqlite::inspect(s.connection(), &table),
        Backend::Mysql(m) => mysql::inspect(m.connection(), &table).await,
    }?;
    KnownTables::new(&table).retain_user_objects(&mut schema);
    Ok(schema)
}
