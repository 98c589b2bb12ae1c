//! Reading another tool's history table on a connection of its own, as
//! text: every value comes back as `Option<String>` (binary checksums as
//! lowercase hex, timestamps as UTC ISO 8601), so each tool's mapping is
//! plain string work. The other tool's table is only ever read.

use crate::db::Conn;
use crate::dialect::Dialect;
use crate::error::{Error, Result};

/// One row, every column as text.
pub(crate) type TextRow = Vec<Option<String>>;

/// A connection for reading, with the session's time zone set to UTC so
/// timestamps render as UTC whatever the server's zone.
pub(crate) struct Reader {
    conn: Conn,
}

impl Reader {
    pub async fn open(url: &crate::settings::DatabaseUrl) -> Result<Reader> {
        let mut conn = Conn::open(url, crate::db::Options::default()).await?;
        let zone = match &conn {
            Conn::Postgres(_) => Some("SET TIME ZONE 'UTC'"),
            Conn::Mysql(_) => Some("SET time_zone = '+00:00'"),
            Conn::Sqlite(_) => None,
        };
        if let Some(sql) = zone
            && let Err(e) = conn.execute(sql).await?
        {
            return Err(Error::db("setting the session time zone to UTC", e));
        }
        Ok(Reader { conn })
    }

    pub fn dialect(&self) -> Dialect {
        match self.conn {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
            Conn::Mysql(_) => Dialect::Mysql,
        }
    }

    /// Runs a query keel wrote (identifiers quoted, no user text) and
    /// returns its rows as text.
    pub async fn rows(&mut self, sql: &str, what: &str) -> Result<Vec<TextRow>> {
        let fail = |message: String| {
            Error::db(
                format!("reading {what}"),
                crate::error::DbError {
                    message,
                    sqlstate: None,
                },
            )
        };
        match &mut self.conn {
            Conn::Postgres(c) => {
                let messages = c.simple_query(sql).await.map_err(|e| fail(e.to_string()))?;
                let mut out = Vec::new();
                for m in messages {
                    if let tokio_postgres::SimpleQueryMessage::Row(r) = m {
                        let mut row = Vec::with_capacity(r.len());
                        for i in 0..r.len() {
                            let v = r.try_get(i).map_err(|e| fail(e.to_string()))?;
                            row.push(v.map(str::to_string));
                        }
                        out.push(row);
                    }
                }
                Ok(out)
            }
            Conn::Mysql(c) => {
                use mysql_async::prelude::Queryable;
                let rows: Vec<mysql_async::Row> =
                    c.query(sql).await.map_err(|e| fail(e.to_string()))?;
                Ok(rows
                    .into_iter()
                    .map(|r| r.unwrap().into_iter().map(mysql_text).collect())
                    .collect())
            }
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare(sql).map_err(|e| fail(e.to_string()))?;
                let n = stmt.column_count();
                let mut rows = stmt.query([]).map_err(|e| fail(e.to_string()))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next().map_err(|e| fail(e.to_string()))? {
                    let mut row = Vec::with_capacity(n);
                    for i in 0..n {
                        use rusqlite::types::ValueRef;
                        let v = r.get_ref(i).map_err(|e| fail(e.to_string()))?;
                        row.push(match v {
                            ValueRef::Null => None,
                            ValueRef::Integer(i) => Some(i.to_string()),
                            ValueRef::Real(f) => Some(f.to_string()),
                            ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
                            ValueRef::Blob(b) => Some(hex(b)),
                        });
                    }
                    out.push(row);
                }
                Ok(out)
            }
        }
    }

    /// The tables of the current schema (database), by name.
    pub async fn tables(&mut self) -> Result<Vec<String>> {
        let sql = match self.dialect() {
            Dialect::Postgres => {
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            }
            Dialect::Mysql => {
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
            }
            Dialect::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table'",
        };
        Ok(self
            .rows(sql, "the list of tables")
            .await?
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect())
    }

    /// The column names of `table`, lowercased.
    pub async fn columns(&mut self, table: &str) -> Result<Vec<String>> {
        let literal = crate::db::sql::literal(self.dialect(), table);
        let sql = match self.dialect() {
            Dialect::Sqlite => format!("SELECT name FROM pragma_table_info({literal})"),
            Dialect::Postgres => format!(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = {literal}"
            ),
            Dialect::Mysql => format!(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = {literal}"
            ),
        };
        Ok(self
            .rows(&sql, table)
            .await?
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .map(|c| c.to_ascii_lowercase())
            .collect())
    }

    pub async fn close(self) -> Result<()> {
        self.conn.close().await
    }
}

fn mysql_text(v: mysql_async::Value) -> Option<String> {
    use mysql_async::Value;
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(f) => Some(f.to_string()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s
}

/// A timestamp column rendered as UTC ISO 8601 (the session is in UTC).
pub(crate) fn ts(dialect: Dialect, column: &str) -> String {
    match dialect {
        Dialect::Postgres => format!("to_char({column}, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"),
        Dialect::Mysql => format!("DATE_FORMAT({column}, '%Y-%m-%dT%H:%i:%s.%fZ')"),
        Dialect::Sqlite => format!("strftime('%Y-%m-%dT%H:%M:%fZ', {column})"),
    }
}

/// A binary column as lowercase hex.
pub(crate) fn hex_of(dialect: Dialect, column: &str) -> String {
    match dialect {
        Dialect::Postgres => format!("encode({column}, 'hex')"),
        Dialect::Mysql => format!("LOWER(HEX({column}))"),
        Dialect::Sqlite => format!("lower(hex({column}))"),
    }
}

/// A stored boolean: PostgreSQL's `t`, MySQL's and SQLite's `1`.
pub(crate) fn truthy(v: Option<&str>) -> bool {
    matches!(
        v.map(str::to_ascii_lowercase).as_deref(),
        Some("t" | "true" | "1")
    )
}
