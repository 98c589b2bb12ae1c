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
//!
//! This module is the one owner of these facts: [`sqlite`] is how `keel
//! copy` chooses a PostgreSQL type for a SQLite column (declared type and
//! value profile), [`postgres`] the types it writes, [`defaults`] how a
//! default is translated and when two defaults mean the same, and
//! [`spell`] how the renderers write one engine's type in another's
//! dialect. Diff accepts every type copy could have chosen for a SQLite
//! column and translates SQLite defaults with copy's own function, so a
//! fresh `keel copy` compares clean by construction.

pub mod defaults;
pub mod postgres;
pub mod sqlite;

pub use defaults::{neutral_default, same_column_default, same_default};
pub use postgres::PgType;
pub use sqlite::Classes;

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
    let copied = |lite: &str, pg: &str| {
        let pg = logical(Dialect::Postgres, pg);
        sqlite::candidates(lite)
            .iter()
            .any(|c| logically_equal(logical(Dialect::Postgres, &c.to_string()), pg.clone(), true))
    };
    let cross_sqlite = a == Dialect::Sqlite || b == Dialect::Sqlite;
    let as_copy_makes_it = match (a, b) {
        (Dialect::Sqlite, Dialect::Postgres) => copied(a_type, b_type),
        (Dialect::Postgres, Dialect::Sqlite) => copied(b_type, a_type),
        _ => false,
    };
    as_copy_makes_it || logically_equal(logical(a, a_type), logical(b, b_type), cross_sqlite)
}

/// Integers of different widths are equal when SQLite (one 64-bit
/// integer) is a side.
fn logically_equal(x: Logical, y: Logical, any_integer_width: bool) -> bool {
    match (x, y) {
        (Logical::Integer(x), Logical::Integer(y)) => x == y || any_integer_width,
        (x, y) => x == y,
    }
}

fn normalize_spelling(t: &str) -> String {
    t.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

/// How each dialect writes a logical type: `[SQLite, PostgreSQL, MySQL]`.
/// `{p}` stands for the source type's parameters (`(10,2)`); text has one
/// row without parameters and one with (`varchar(n)`).
fn spellings(l: &Logical, params: bool) -> Option<[&'static str; 3]> {
    Some(match (l, params) {
        (Logical::Bool, _) => ["boolean", "boolean", "tinyint(1)"],
        (Logical::Integer(2), _) => ["integer", "smallint", "smallint"],
        (Logical::Integer(4), _) => ["integer", "integer", "int"],
        (Logical::Integer(_), _) => ["integer", "bigint", "bigint"],
        (Logical::Decimal, _) => ["decimal{p}", "numeric{p}", "decimal{p}"],
        (Logical::Float, _) => ["real", "double precision", "double"],
        (Logical::Text, false) => ["text", "text", "text"],
        (Logical::Text, true) => ["varchar{p}", "character varying{p}", "varchar{p}"],
        (Logical::Uuid, _) => ["uuid", "uuid", "char(36)"],
        (Logical::Timestamp, _) => ["datetime", "timestamp without time zone", "datetime"],
        (Logical::Date, _) => ["date", "date", "date"],
        (Logical::Time, _) => ["time", "time without time zone", "time"],
        (Logical::Json, _) => ["json", "jsonb", "json"],
        (Logical::Bytes, _) => ["blob", "bytea", "blob"],
        (Logical::Other(_), _) => return None,
    })
}

/// A column type of engine `from` written for engine `to`, for the
/// renderers. SQLite → PostgreSQL is the type `keel copy` writes where the
/// declared type decides it ([`sqlite::declared_type`]).
pub fn spell(from: Dialect, data_type: &str, to: Dialect) -> String {
    if from == to {
        return data_type.to_string();
    }
    let lower = data_type.trim().to_ascii_lowercase();
    if (from, to) == (Dialect::Sqlite, Dialect::Postgres)
        && let Some(ty) = sqlite::declared_type(&lower)
    {
        return ty.to_string();
    }
    let params = lower.find('(').map(|i| &lower[i..]).unwrap_or("");
    let mut l = logical(from, &lower);
    if from == Dialect::Sqlite && matches!(l, Logical::Integer(_)) {
        l = Logical::Integer(8); // SQLite has one 64-bit integer
    }
    let column = match to {
        Dialect::Sqlite => 0,
        Dialect::Postgres => 1,
        Dialect::Mysql => 2,
    };
    // special cases the table cannot hold
    if to == Dialect::Postgres
        && l == Logical::Text
        && lower.starts_with("char")
        && !params.is_empty()
    {
        return format!("character{params}");
    }
    if to == Dialect::Postgres
        && l == Logical::Timestamp
        && from == Dialect::Mysql
        && lower.starts_with("timestamp")
    {
        return "timestamp with time zone".into();
    }
    if to == Dialect::Postgres
        && l == Logical::Text
        && !params.is_empty()
        && !(lower.starts_with("varchar") || lower.starts_with("character varying"))
    {
        return "text".into();
    }
    match spellings(&l, !params.is_empty()).and_then(|row| row.get(column).copied()) {
        Some(spelling) => spelling.replace("{p}", params),
        None => match l {
            Logical::Other(o) => o,
            _ => lower,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Dialect::*;

    #[test]
    fn renderers_spell_types_as_copy_writes_them() {
        // SQLite → PostgreSQL is copy's own choice
        assert_eq!(spell(Sqlite, "INTEGER", Postgres), "bigint");
        assert_eq!(spell(Sqlite, "char(3)", Postgres), "character varying(3)");
        assert_eq!(
            spell(Sqlite, "nvarchar(10)", Postgres),
            "character varying(10)"
        );
        assert_eq!(
            spell(Sqlite, "timestamp with time zone", Postgres),
            "timestamp with time zone"
        );
        assert_eq!(spell(Sqlite, "REAL", Postgres), "double precision");
        assert_eq!(spell(Sqlite, "json", Postgres), "jsonb");
        assert_eq!(spell(Sqlite, "", Postgres), "bytea", "no data to profile");
        // the rest of the table
        assert_eq!(
            spell(Mysql, "timestamp", Postgres),
            "timestamp with time zone"
        );
        assert_eq!(spell(Mysql, "char(2)", Postgres), "character(2)");
        assert_eq!(spell(Mysql, "tinyint(1)", Sqlite), "boolean");
        assert_eq!(
            spell(Postgres, "character varying(20)", Mysql),
            "varchar(20)"
        );
        assert_eq!(spell(Postgres, "uuid", Mysql), "char(36)");
        assert_eq!(spell(Postgres, "integer", Mysql), "int");
        assert_eq!(spell(Sqlite, "integer", Mysql), "bigint");
        assert_eq!(spell(Postgres, "numeric(10,2)", Sqlite), "decimal(10,2)");
        assert_eq!(spell(Postgres, "point", Sqlite), "point");
        for (declared, pg) in [("VARCHAR(80)", "character varying(80)"), ("DATE", "date")] {
            assert_eq!(spell(Sqlite, declared, Postgres), pg);
            assert_eq!(
                sqlite::choose(declared, None).0.to_string(),
                pg,
                "the renderer and copy agree"
            );
        }
    }

    #[test]
    fn a_sqlite_column_matches_every_type_copy_could_give_it() {
        for pg in ["bigint", "double precision", "text", "bytea"] {
            assert!(same_type(Sqlite, "", Postgres, pg), "{pg}");
            assert!(same_type(Postgres, pg, Sqlite, "string"), "{pg}");
        }
        assert!(
            same_type(Sqlite, "json", Postgres, "text"),
            "JSON that did not parse"
        );
        assert!(!same_type(Sqlite, "", Postgres, "uuid"));
        assert!(!same_type(Sqlite, "boolean", Postgres, "text"));
    }

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
}
