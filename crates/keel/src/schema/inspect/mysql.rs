//! MySQL introspection (to come).
use crate::error::{Error, Result};
use crate::schema::model::Schema;

pub(crate) async fn inspect(_conn: &mut mysql_async::Conn, _table: &str) -> Result<Schema> {
    Err(Error::invalid_input("MySQL introspection is not built yet"))
}
