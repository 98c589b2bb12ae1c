//! Tables that are never user data: keel's own tracking table (whatever
//! name `--table` gives it) and the history tables of the other migration
//! tools. They are never copied as plain tables, never reported as drift
//! and never touched by `sequences --fix`; every command asks here.

use crate::schema::model::Schema;

/// Who keeps a known table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Owner {
    Keel,
    Sqlx,
    Diesel,
    /// golang-migrate, dbmate and Rails share the name `schema_migrations`.
    SchemaMigrations,
    Flyway,
    Goose,
    Alembic,
    Prisma,
    Rails,
    Refinery,
}

impl Owner {
    /// The tool, in words.
    pub fn tool(self) -> &'static str {
        match self {
            Owner::Keel => "keel",
            Owner::Sqlx => "sqlx",
            Owner::Diesel => "diesel",
            Owner::SchemaMigrations => "golang-migrate, dbmate or Rails",
            Owner::Flyway => "Flyway",
            Owner::Goose => "goose",
            Owner::Alembic => "Alembic",
            Owner::Prisma => "Prisma",
            Owner::Rails => "Rails",
            Owner::Refinery => "refinery",
        }
    }
}

/// keel's mark of a `keel copy` that has not finished (see
/// `copy::marker`): never user data, never copied, never drift.
pub const COPY_MARKER: &str = "keel_copy_incomplete";

/// The other tools' tables, by the names they create by default.
const OTHERS: &[(&str, Owner)] = &[
    ("_sqlx_migrations", Owner::Sqlx),
    ("__diesel_schema_migrations", Owner::Diesel),
    ("schema_migrations", Owner::SchemaMigrations),
    ("ar_internal_metadata", Owner::Rails),
    ("flyway_schema_history", Owner::Flyway),
    ("goose_db_version", Owner::Goose),
    ("alembic_version", Owner::Alembic),
    ("_prisma_migrations", Owner::Prisma),
    ("refinery_schema_history", Owner::Refinery),
];

/// The known tables of one database: keel's (by the configured name) and
/// every other tool's.
#[derive(Clone, Debug)]
pub struct KnownTables {
    keel_table: String,
}

impl KnownTables {
    pub fn new(keel_table: &str) -> KnownTables {
        KnownTables {
            keel_table: keel_table.to_string(),
        }
    }

    /// keel's tracking table, as configured.
    pub fn keel_table(&self) -> &str {
        &self.keel_table
    }

    /// Who keeps `table`, if anyone but the application. keel's own name is
    /// matched exactly (it is quoted everywhere); the other tools' names
    /// without regard to ASCII case, as SQLite and MySQL compare them.
    pub fn owner(&self, table: &str) -> Option<Owner> {
        // `<table>_lock` holds keel's lease behind a transaction pooler
        let lease = table
            .strip_suffix(crate::backend::pooler::LOCK_TABLE_SUFFIX)
            .is_some_and(|t| t == self.keel_table);
        if table == self.keel_table || table == COPY_MARKER || lease {
            return Some(Owner::Keel);
        }
        OTHERS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(table))
            .map(|(_, owner)| *owner)
    }

    pub fn is_known(&self, table: &str) -> bool {
        self.owner(table).is_some()
    }

    /// Removes the known tables from an inspected schema, with what hangs
    /// on them (sequences they own).
    pub fn retain_user_objects(&self, schema: &mut Schema) {
        schema.tables.retain(|k, _| !self.is_known(&k.name));
        schema.sequences.retain(|_, s| {
            !s.owned_by
                .as_ref()
                .is_some_and(|(t, _)| self.is_known(&t.name))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keel_by_its_configured_name_and_others_by_theirs() {
        let k = KnownTables::new("ops_history");
        assert_eq!(k.owner("ops_history"), Some(Owner::Keel));
        assert_eq!(k.owner("ops_history_lock"), Some(Owner::Keel));
        assert_eq!(k.owner("keel_migrations_lock"), None);
        assert_eq!(
            k.owner("keel_migrations"),
            None,
            "only the configured name is keel's"
        );
        assert_eq!(k.owner("_sqlx_migrations"), Some(Owner::Sqlx));
        assert_eq!(k.owner("Flyway_Schema_History"), Some(Owner::Flyway));
        assert_eq!(k.owner("schema_migrations"), Some(Owner::SchemaMigrations));
        assert_eq!(k.owner("users"), None);
        assert_eq!(k.owner("alembic_version_notes"), None);
    }
}
