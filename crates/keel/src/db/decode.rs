//! Fallible decoding of result rows. A column of a type keel did not expect
//! — a tracking table someone else made, a copied table, a catalog of an
//! unexpected server version — is an [`Error::Decode`] that names the table
//! and column, never a panic. Every row keel reads goes through here.

use crate::error::{Error, Result};

/// Where a row came from, for messages: `table keel_migrations`,
/// `the PostgreSQL catalog (sequences)`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Origin<'a> {
    pub table: &'a str,
    pub hint: Option<&'a str>,
}

impl<'a> Origin<'a> {
    pub fn table(table: &'a str) -> Origin<'a> {
        Origin { table, hint: None }
    }

    pub fn with_hint(self, hint: &'a str) -> Origin<'a> {
        Origin {
            hint: Some(hint),
            ..self
        }
    }

    fn error(&self, column: &str, found: String, expected: &str) -> Error {
        Error::Decode {
            table: self.table.to_string(),
            column: column.to_string(),
            found,
            expected: expected.to_string(),
            hint: self.hint.map(str::to_string),
        }
    }
}

/// The short name of a Rust type, as the SQL type keel expects.
fn expected<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    let t = full
        .strip_prefix("core::option::Option<")
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(full);
    match t.rsplit("::").next().unwrap_or(t) {
        "i64" | "i32" | "i16" | "u64" | "u32" => "an integer",
        "f64" | "f32" => "a floating-point number",
        "bool" => "a boolean",
        "String" | "str" | "&str" => "text",
        "Timestamp" => "a timestamp",
        "Vec<u8>" => "bytes",
        _ => "another type",
    }
}

/// A PostgreSQL row.
pub(crate) trait PgRow {
    fn col<'r, T: tokio_postgres::types::FromSql<'r>>(
        &'r self,
        i: usize,
        origin: Origin<'_>,
    ) -> Result<T>;
}

impl PgRow for tokio_postgres::Row {
    fn col<'r, T: tokio_postgres::types::FromSql<'r>>(
        &'r self,
        i: usize,
        origin: Origin<'_>,
    ) -> Result<T> {
        self.try_get(i).map_err(|e| {
            let (name, ty) = self
                .columns()
                .get(i)
                .map(|c| (c.name().to_string(), c.type_().name().to_string()))
                .unwrap_or_else(|| (format!("#{}", i + 1), "nothing".to_string()));
            let found = if e.to_string().contains("unexpected null") {
                "NULL".to_string()
            } else {
                format!("type {ty}")
            };
            origin.error(&name, found, expected::<T>())
        })
    }
}

/// A SQLite row.
pub(crate) trait SqliteRow {
    fn col<T: rusqlite::types::FromSql>(&self, i: usize, origin: Origin<'_>) -> Result<T>;
}

impl SqliteRow for rusqlite::Row<'_> {
    fn col<T: rusqlite::types::FromSql>(&self, i: usize, origin: Origin<'_>) -> Result<T> {
        self.get(i).map_err(|e| {
            let name = self
                .as_ref()
                .column_name(i)
                .map(str::to_string)
                .unwrap_or_else(|_| format!("#{}", i + 1));
            let found = match self.get_ref(i) {
                Ok(v) => match v.data_type() {
                    rusqlite::types::Type::Null => "NULL".to_string(),
                    t => format!("a value of storage class {t}"),
                },
                Err(_) => e.to_string(),
            };
            origin.error(&name, found, expected::<T>())
        })
    }
}

/// A MySQL/MariaDB row; `take` moves the value out.
pub(crate) trait MysqlRow {
    fn col<T: mysql_async::prelude::FromValue>(
        &mut self,
        i: usize,
        origin: Origin<'_>,
    ) -> Result<T>;
}

impl MysqlRow for mysql_async::Row {
    fn col<T: mysql_async::prelude::FromValue>(
        &mut self,
        i: usize,
        origin: Origin<'_>,
    ) -> Result<T> {
        let name = self
            .columns_ref()
            .get(i)
            .map(|c| c.name_str().to_string())
            .unwrap_or_else(|| format!("#{}", i + 1));
        let ty = self
            .columns_ref()
            .get(i)
            .map(|c| format!("{:?}", c.column_type()))
            .unwrap_or_default();
        match self.take_opt::<T, usize>(i) {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => {
                let found = if e.0 == mysql_async::Value::NULL {
                    "NULL".to_string()
                } else {
                    format!(
                        "type {}",
                        ty.trim_start_matches("MYSQL_TYPE_").to_lowercase()
                    )
                };
                Err(origin.error(&name, found, expected::<T>()))
            }
            None => Err(origin.error(&name, "no such column".to_string(), expected::<T>())),
        }
    }
}
