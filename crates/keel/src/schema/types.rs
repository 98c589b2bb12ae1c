//! Type and default equivalences between engines, so "development SQLite
//! against production PostgreSQL" compares what matters.
//!
//! Within one engine, types compare as the engine spells them
//! (`format_type` on PostgreSQL, `COLUMN_TYPE` on MySQL, the declared type
//! on SQLite). Across engines both sides map to a [`Logical`] type first:
//!
//! | logical | SQLite declared | PostgreSQL | MySQL/MariaDB |
//! | --- | --- | --- | --- |
//! | bool | `boolean`, `bool` | `boolean` | `tinyint(1)`, `boolean` |
//! | integer | any type containing `int` | `smallint`, `integer`, `bigint` | `tinyint`…`bigint` |
//! | decimal | `decimal(p,s)`, `numeric(p,s)` | `numeric(p,s)` | `decimal(p,s)` |
//! | float | `real`, `double`, `float` | `real`, `double precision` | `float`, `double` |
//! | text | `text`, `varchar(n)`, `char(n)`, `clob` | `text`, `character varying(n)`, `character(n)` | `varchar(n)`, `char(n)`, `*text` |
//! | uuid | `uuid` | `uuid` | `uuid` (MariaDB 10.7+) |
//! | timestamp | `datetime`, `timestamp` | `timestamp` with or without time zone | `datetime`, `timestamp` |
//! | date, time | `date`, `time` | `date`, `time` | `date`, `time` |
//! | json | `json`, `jsonb` | `json`, `jsonb` | `json` (`longtext` on MariaDB) |
//! | bytes | `blob` | `bytea` | `*blob`, `binary`, `varbinary` |
//!
//! Integers of different widths count as equal only when SQLite (which has
//! one 64-bit integer) is one side; text lengths are not compared across
//! engines. A `uuid` against a text type is always a difference: that is
//! keel incident 4 (`invalid input syntax for type uuid`).

use crate::dialect::Dialect;

/// An engine-neutral type, for comparing across engines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Logical {
    Bool,
    /// Width in bytes.
    Integer(u8),
    Decimal,
    Float,
    Text,
    Uuid,
    Timestamp,
    Date,
    Time,
    Json,
    Bytes,
    Other(String),
}

/// Maps an engine's type spelling to its logical type.
pub fn logical(dialect: Dialect, data_type: &str) -> Logical {
    let t = data_type.trim().to_ascii_lowercase();
    let base = t.split('(').next().unwrap_or("").trim().to_string();
    let base = base.strip_suffix(" unsigned").unwrap_or(&base).trim();
    if dialect == Dialect::Mysql && t.starts_with("tinyint(1)") {
        return Logical::Bool;
    }
    match base {
        "bool" | "boolean" => Logical::Bool,
        "smallint" | "int2" | "tinyint" => Logical::Integer(2),
        "integer" | "int" | "int4" | "mediumint" => Logical::Integer(4),
        "bigint" | "int8" => Logical::Integer(8),
        "numeric" | "decimal" => Logical::Decimal,
        "real" | "float4" | "float" | "double" | "double precision" | "float8" => Logical::Float,
        "text" | "character varying" | "varchar" | "character" | "char" | "clob" | "tinytext"
        | "mediumtext" | "longtext" | "nvarchar" | "nchar" | "citext" => Logical::Text,
        "uuid" => Logical::Uuid,
        "timestamp"
        | "timestamptz"
        | "datetime"
        | "timestamp with time zone"
        | "timestamp without time zone" => Logical::Timestamp,
        "date" => Logical::Date,
        "time" | "time with time zone" | "time without time zone" | "timetz" => Logical::Time,
        "json" | "jsonb" => Logical::Json,
        "bytea" | "blob" | "tinyblob" | "mediumblob" | "longblob" | "binary" | "varbinary" => {
            Logical::Bytes
        }
        _ if dialect == Dialect::Sqlite => sqlite_affinity(&t),
        _ => Logical::Other(t),
    }
}

/// SQLite's affinity rules for declared types keel does not know by name.
fn sqlite_affinity(t: &str) -> Logical {
    if t.contains("int") {
        Logical::Integer(8)
    } else if t.contains("char") || t.contains("clob") || t.contains("text") {
        Logical::Text
    } else if t.contains("blob") || t.is_empty() {
        Logical::Bytes
    } else if t.contains("real") || t.contains("floa") || t.contains("doub") {
        Logical::Float
    } else {
        Logical::Other(t.to_string())
    }
}

/// Whether two column types are the same, given the engines they come from.
pub fn same_type(a: Dialect, a_type: &str, b: Dialect, b_type: &str) -> bool {
    if a == b {
        return normalize_spelling(a_type) == normalize_spelling(b_type);
    }
    match (logical(a, a_type), logical(b, b_type)) {
        (Logical::Integer(x), Logical::Integer(y)) => {
            x == y || a == Dialect::Sqlite || b == Dialect::Sqlite
        }
        (x, y) => x == y,
    }
}

fn normalize_spelling(t: &str) -> String {
    t.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

/// Whether two defaults mean the same, given their engines.
pub fn same_default(a: Dialect, a_def: Option<&str>, b: Dialect, b_def: Option<&str>) -> bool {
    if a == b {
        return a_def.map(str::trim) == b_def.map(str::trim);
    }
    a_def.map(neutral_default) == b_def.map(neutral_default)
}

/// A default reduced to what survives every engine's spelling: casts,
/// outer parentheses and quotes around numbers dropped, `now()` and
/// `CURRENT_TIMESTAMP` unified, booleans as 1/0.
pub fn neutral_default(d: &str) -> String {
    let mut s = d.trim().to_string();
    while s.starts_with('(') && s.ends_with(')') && balanced(&s[1..s.len() - 1]) {
        s = s[1..s.len() - 1].trim().to_string();
    }
    // 'x'::character varying → 'x'
    if let Some(pos) = s.rfind("::")
        && (s.starts_with('\'')
            || s[..pos]
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '-'))
    {
        s.truncate(pos);
    }
    let lower = s.to_ascii_lowercase();
    let unquoted = lower
        .strip_prefix('\'')
        .and_then(|x| x.strip_suffix('\''))
        .filter(|x| x.parse::<f64>().is_ok());
    match unquoted.unwrap_or(&lower) {
        "now()" | "current_timestamp" | "current_timestamp()" | "localtimestamp" => {
            "current_timestamp".into()
        }
        "true" => "1".into(),
        "false" => "0".into(),
        "null" => "null".into(),
        other => other.to_string(),
    }
}

fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use Dialect::*;

    #[test]
    fn same_engine_compares_spelling() {
        assert!(same_type(Postgres, "uuid", Postgres, "uuid"));
        assert!(!same_type(
            Postgres,
            "uuid",
            Postgres,
            "character varying(255)"
        ));
        assert!(!same_type(Postgres, "integer", Postgres, "bigint"));
    }

    #[test]
    fn sqlite_and_postgres_share_logical_types() {
        assert!(same_type(Sqlite, "varchar(255)", Postgres, "text"));
        assert!(same_type(Sqlite, "integer", Postgres, "bigint"));
        assert!(same_type(
            Sqlite,
            "datetime",
            Postgres,
            "timestamp with time zone"
        ));
        assert!(same_type(Sqlite, "boolean", Postgres, "boolean"));
        assert!(same_type(Mysql, "tinyint(1)", Postgres, "boolean"));
        assert!(same_type(
            Sqlite,
            "decimal(10,2)",
            Postgres,
            "numeric(10,2)"
        ));
    }

    #[test]
    fn incident_4_uuid_against_text_is_a_difference_on_every_engine_pair() {
        assert!(!same_type(Sqlite, "varchar(255)", Postgres, "uuid"));
        assert!(!same_type(Mysql, "varchar(36)", Postgres, "uuid"));
        assert!(!same_type(Postgres, "integer", Mysql, "bigint"));
    }

    #[test]
    fn defaults_lose_their_casts_and_spellings_across_engines() {
        assert_eq!(neutral_default("'new'::character varying"), "'new'");
        assert_eq!(neutral_default("(0)"), "0");
        assert_eq!(neutral_default("'0'"), "0");
        assert_eq!(neutral_default("now()"), "current_timestamp");
        assert_eq!(neutral_default("CURRENT_TIMESTAMP"), "current_timestamp");
        assert_eq!(neutral_default("false"), "0");
        assert!(same_default(
            Sqlite,
            Some("'new'"),
            Postgres,
            Some("'new'::character varying")
        ));
        assert!(!same_default(Postgres, Some("0"), Postgres, Some("1")));
    }
}
