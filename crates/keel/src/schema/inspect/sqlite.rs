//! SQLite introspection (to come).
use crate::error::{Error, Result};
use crate::schema::model::Schema;

pub(crate) fn inspect(_conn: &mut rusqlite::Connection, _table: &str) -> Result<Schema> {
    Err(Error::invalid_input(
        "SQLite introspection is not built yet",
    ))
}
