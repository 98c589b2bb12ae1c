//! What running a plan's statement risks, typed. Each hazard is rendered
//! to words (`-- hazard: …` in the script, a string in JSON) by its
//! [`Display`](std::fmt::Display), in this one place.

use crate::schema::model::Key;
use serde::Serialize;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hazard {
    /// A statement that deletes data, and what it deletes.
    DeletesData(String),

    // PostgreSQL
    /// `ADD COLUMN … NOT NULL` without a default on a table with rows.
    NotNullWithoutDefault(Key),
    /// A column whose every row gets a computed value.
    RewritesForComputedValue(Key),
    /// A type change PostgreSQL cannot make without a rewrite.
    RewritesTableAndIndexes(Key),
    /// A cast between logical types, which can fail on existing values.
    CastCanFail {
        table: Key,
        column: String,
        from: String,
        to: String,
    },
    /// `SET NOT NULL` scans the table.
    SetNotNullScans {
        table: Key,
        column: String,
    },
    /// A new identity or sequence default starts at 1.
    GeneratorStartsAtOne(Key),
    /// A primary key (`nulls`) or unique constraint builds its index.
    UniqueIndexUnderLock {
        table: Key,
        nulls: bool,
    },
    /// `ADD CONSTRAINT … CHECK` scans the table.
    CheckScansUnderLock(Key),
    /// `ADD FOREIGN KEY` locks both tables while it checks every row.
    ForeignKeyLocksBoth {
        table: Key,
        references: Key,
    },
    /// `CREATE INDEX` blocks writes while it builds.
    IndexBlocksWrites(Key),
    /// `CREATE TRIGGER` takes a lock on its table.
    TriggerLock(Key),
    /// `ALTER TYPE … ADD VALUE`.
    EnumValueUnusableInTransaction,

    // SQLite
    /// `ADD COLUMN … NOT NULL DEFAULT …` fills every row.
    ExistingRowsGetDefault {
        table: Key,
        column: String,
    },
    /// `CREATE INDEX` holds the database's write lock.
    DatabaseWriteLockWhileIndexing(Key),
    /// The 12-step table rebuild.
    Rebuilds(Key),
    /// A rebuild that applies these differences can fail on existing rows.
    RebuildCanFail(Vec<String>),
    /// A rebuild that keeps the actual table's extra columns.
    RebuildKeepsColumns(Vec<String>),

    // MySQL
    NoAddColumnIfNotExists,
    /// `ADD COLUMN … NOT NULL` without a default.
    ImplicitDefault(Key),
    /// `MODIFY COLUMN` may copy the table.
    MayCopyTable(Key),
    /// `MODIFY COLUMN` to another type.
    MustConvert {
        table: Key,
        column: String,
        to: String,
    },
    /// `MODIFY COLUMN … NOT NULL`.
    FailsOnNull(String),
    /// `ADD PRIMARY KEY`.
    RebuildsForPrimaryKey(Key),
    /// `ADD CONSTRAINT … UNIQUE`.
    BuildsUniqueIndex(Key),
    /// `ADD CONSTRAINT … CHECK`.
    ChecksEveryRow(Key),
    /// `ADD FOREIGN KEY` with `foreign_key_checks` on.
    ForeignKeyChecksEveryRow {
        table: Key,
        references: Key,
    },
    /// `CREATE INDEX`, which has no `IF NOT EXISTS`.
    BuildsIndexWithoutGuard(Key),
    /// A trigger body and the mysql client's statement delimiter.
    TriggerNeedsDelimiter,
}

impl fmt::Display for Hazard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hazard::DeletesData(what) => write!(f, "deletes data: {what}"),
            Hazard::NotNullWithoutDefault(t) => write!(
                f,
                "NOT NULL without a default fails if {t} has rows: backfill first or give it a default"
            ),
            Hazard::RewritesForComputedValue(t) => write!(
                f,
                "rewrites {t} under an ACCESS EXCLUSIVE lock (every row gets a computed value)"
            ),
            Hazard::RewritesTableAndIndexes(t) => write!(
                f,
                "rewrites {t} and its indexes under an ACCESS EXCLUSIVE lock"
            ),
            Hazard::CastCanFail {
                table,
                column,
                from,
                to,
            } => write!(
                f,
                "the cast {from} → {to} can fail: every existing value of {table}.{column} must convert (USING {column}::{to})"
            ),
            Hazard::SetNotNullScans { table, column } => write!(
                f,
                "scans all of {table} under an ACCESS EXCLUSIVE lock, and fails if a row holds NULL in {column}"
            ),
            Hazard::GeneratorStartsAtOne(t) => write!(
                f,
                "a new generator starts at 1: run `keel sequences --fix` afterwards if {t} has rows"
            ),
            Hazard::UniqueIndexUnderLock { table, nulls } => write!(
                f,
                "builds a unique index on {table} under an ACCESS EXCLUSIVE lock; fails on duplicates{}",
                if *nulls { " or NULLs" } else { "" }
            ),
            Hazard::CheckScansUnderLock(t) => write!(
                f,
                "scans all of {t} under an ACCESS EXCLUSIVE lock; fails if a row violates it"
            ),
            Hazard::ForeignKeyLocksBoth { table, references } => write!(
                f,
                "takes SHARE ROW EXCLUSIVE locks on both {table} and {references} (writes to both wait) while every row is checked; on busy tables add it NOT VALID, then VALIDATE CONSTRAINT"
            ),
            Hazard::IndexBlocksWrites(t) => write!(
                f,
                "blocks writes to {t} while it builds; on a busy table run it as CREATE INDEX CONCURRENTLY outside a transaction"
            ),
            Hazard::TriggerLock(t) => write!(f, "takes a SHARE ROW EXCLUSIVE lock on {t}"),
            Hazard::EnumValueUnusableInTransaction => write!(
                f,
                "a new enum value cannot be used in the transaction that adds it"
            ),
            Hazard::ExistingRowsGetDefault { table, column } => write!(
                f,
                "every existing row of {table} gets the default in {column}"
            ),
            Hazard::DatabaseWriteLockWhileIndexing(t) => {
                write!(f, "blocks writes to the database while it builds on {t}")
            }
            Hazard::Rebuilds(t) => write!(
                f,
                "rebuilds {t}: copies every row into a new table and drops the old one, holding the database's write lock throughout"
            ),
            Hazard::RebuildCanFail(ids) => write!(
                f,
                "fails if an existing row violates the new definition (NOT NULL, UNIQUE, CHECK), and values keep their stored type under the new column type affinity: {}",
                ids.join(", ")
            ),
            Hazard::RebuildKeepsColumns(columns) => write!(
                f,
                "keeps the columns FROM does not have ({}); pass --allow-destructive to drop them",
                columns.join(", ")
            ),
            Hazard::NoAddColumnIfNotExists => write!(
                f,
                "MySQL has no ADD COLUMN IF NOT EXISTS (MariaDB does): fails if the column exists"
            ),
            Hazard::ImplicitDefault(t) => write!(
                f,
                "existing rows of {t} get the type's implicit default (0, '') or, in strict mode, the statement fails"
            ),
            Hazard::MayCopyTable(t) => write!(f, "may rebuild {t} (a table copy) while it runs"),
            Hazard::MustConvert { table, column, to } => write!(
                f,
                "every existing value of {table}.{column} must convert to {to} (strict mode fails, otherwise values are truncated)"
            ),
            Hazard::FailsOnNull(column) => write!(f, "fails if a row holds NULL in {column}"),
            Hazard::RebuildsForPrimaryKey(t) => {
                write!(f, "rebuilds {t}; fails on duplicates or NULLs")
            }
            Hazard::BuildsUniqueIndex(t) => {
                write!(f, "builds a unique index on {t}; fails on duplicates")
            }
            Hazard::ChecksEveryRow(t) => {
                write!(f, "checks every row of {t}; fails if one violates it")
            }
            Hazard::ForeignKeyChecksEveryRow { table, references } => write!(
                f,
                "checks every row of {table} against {references} (with foreign_key_checks on); fails on an orphan"
            ),
            Hazard::BuildsIndexWithoutGuard(t) => write!(
                f,
                "builds an index on {t} (MySQL has no CREATE INDEX IF NOT EXISTS: fails if it exists)"
            ),
            Hazard::TriggerNeedsDelimiter => write!(
                f,
                "a trigger body with `;` needs a DELIMITER change in the mysql client"
            ),
        }
    }
}

/// As its words, the same string the script's comment shows.
impl Serialize for Hazard {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hazards_are_words_in_the_script_and_in_json() {
        let t = Key::new("public", "user");
        let pk = Hazard::UniqueIndexUnderLock {
            table: t.clone(),
            nulls: true,
        };
        assert_eq!(
            pk.to_string(),
            "builds a unique index on public.user under an ACCESS EXCLUSIVE lock; fails on duplicates or NULLs"
        );
        let unique = Hazard::UniqueIndexUnderLock {
            table: t,
            nulls: false,
        };
        assert_eq!(
            serde_json::to_value(&unique).unwrap_or_default(),
            serde_json::json!(
                "builds a unique index on public.user under an ACCESS EXCLUSIVE lock; fails on duplicates"
            )
        );
        assert_eq!(
            Hazard::RebuildCanFail(vec![
                "column/public/t/a/type".into(),
                "check/public/t/c".into()
            ])
            .to_string(),
            "fails if an existing row violates the new definition (NOT NULL, UNIQUE, CHECK), and values keep their stored type under the new column type affinity: column/public/t/a/type, check/public/t/c"
        );
    }
}
