//! The PostgreSQL column types keel writes (in binary COPY format), and
//! their names as `format_type` prints them and users write them.

use std::fmt;

/// A PostgreSQL column type keel can write in binary COPY format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgType {
    Smallint,
    Integer,
    Bigint,
    Real,
    Double,
    Boolean,
    Text,
    Varchar(Option<u32>),
    Bytea,
    Timestamp,
    Timestamptz,
    Date,
    Time,
    Json,
    Jsonb,
    /// `numeric(precision, scale)`, or unconstrained.
    Numeric(Option<(u32, u32)>),
    Uuid,
}

impl fmt::Display for PgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PgType::Smallint => f.write_str("smallint"),
            PgType::Integer => f.write_str("integer"),
            PgType::Bigint => f.write_str("bigint"),
            PgType::Real => f.write_str("real"),
            PgType::Double => f.write_str("double precision"),
            PgType::Boolean => f.write_str("boolean"),
            PgType::Text => f.write_str("text"),
            PgType::Varchar(None) => f.write_str("character varying"),
            PgType::Varchar(Some(n)) => write!(f, "character varying({n})"),
            PgType::Bytea => f.write_str("bytea"),
            PgType::Timestamp => f.write_str("timestamp without time zone"),
            PgType::Timestamptz => f.write_str("timestamp with time zone"),
            PgType::Date => f.write_str("date"),
            PgType::Time => f.write_str("time without time zone"),
            PgType::Json => f.write_str("json"),
            PgType::Jsonb => f.write_str("jsonb"),
            PgType::Numeric(None) => f.write_str("numeric"),
            PgType::Numeric(Some((p, s))) => write!(f, "numeric({p},{s})"),
            PgType::Uuid => f.write_str("uuid"),
        }
    }
}

impl PgType {
    /// Parses a PostgreSQL type name as `format_type` prints it, or as a
    /// user writes it in `--cast` (`int8`, `varchar(20)`, `timestamptz`…).
    pub fn parse(name: &str) -> Option<PgType> {
        let lower = name.trim().to_ascii_lowercase();
        let (base, args) = match lower.split_once('(') {
            Some((b, rest)) => (b.trim().to_string(), rest.trim_end_matches(')').to_string()),
            None => (lower.clone(), String::new()),
        };
        let nums: Vec<u32> = args
            .split(',')
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        Some(match base.as_str() {
            "smallint" | "int2" => PgType::Smallint,
            "integer" | "int" | "int4" => PgType::Integer,
            "bigint" | "int8" => PgType::Bigint,
            "real" | "float4" => PgType::Real,
            "double precision" | "float8" | "double" | "float" => PgType::Double,
            "boolean" | "bool" => PgType::Boolean,
            "text" => PgType::Text,
            "character varying" | "varchar" => PgType::Varchar(nums.first().copied()),
            "bytea" => PgType::Bytea,
            "timestamp" | "timestamp without time zone" => PgType::Timestamp,
            "timestamptz" | "timestamp with time zone" => PgType::Timestamptz,
            "date" => PgType::Date,
            "time" | "time without time zone" => PgType::Time,
            "json" => PgType::Json,
            "jsonb" => PgType::Jsonb,
            "numeric" | "decimal" => match nums.as_slice() {
                [p] => PgType::Numeric(Some((*p, 0))),
                [p, s] => PgType::Numeric(Some((*p, *s))),
                _ => PgType::Numeric(None),
            },
            "uuid" => PgType::Uuid,
            _ => return None,
        })
    }

    /// Whether the value comes back from PostgreSQL in a normalised form
    /// (so checksums compare a canonical form rather than the bytes sent).
    pub fn normalised(self) -> bool {
        matches!(self, PgType::Numeric(_) | PgType::Json | PgType::Jsonb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cast_names_parse() {
        assert_eq!(PgType::parse("int8"), Some(PgType::Bigint));
        assert_eq!(
            PgType::parse("varchar(20)"),
            Some(PgType::Varchar(Some(20)))
        );
        assert_eq!(PgType::parse("timestamptz"), Some(PgType::Timestamptz));
        assert_eq!(
            PgType::parse("numeric(12, 4)"),
            Some(PgType::Numeric(Some((12, 4))))
        );
        assert_eq!(
            PgType::parse("character varying(255)"),
            Some(PgType::Varchar(Some(255)))
        );
        assert_eq!(PgType::parse("point"), None);
        assert_eq!(PgType::Varchar(Some(5)).to_string(), "character varying(5)");
    }
}
