//! What keel asks the PostgreSQL target before loading: whether the
//! `--grant` roles exist, which tables exist and hold rows, and the column
//! types of tables it loads into.

use super::sql;
use super::types::PgType;
use super::{inspect, q};
use crate::db::decode::{Origin, PgRow};
use crate::db::error::fail;
use crate::error::{Error, Result};
use tokio_postgres::Client;
use tokio_postgres::types::Type;

pub(super) async fn check_roles(client: &Client, roles: &[String]) -> Result<()> {
    let missing = crate::backend::postgres::missing_roles(client, roles).await?;
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::invalid(
        format!(
            "--grant names role(s) that do not exist: {}; nothing was written",
            missing.join(", ")
        ),
        Some("create the role first, or fix the name"),
    ))
}

/// (name, holds rows) for each of `names` that exists in the current schema.
pub(super) async fn existing_tables(
    client: &Client,
    names: &[String],
) -> Result<Vec<(String, bool)>> {
    let rows = client
        .query_typed(sql::EXISTING_TABLES, &[(&names, Type::TEXT_ARRAY)])
        .await
        .map_err(|e| fail("looking for existing tables", &e))?;
    let found: Vec<String> = rows
        .iter()
        .map(|r| r.col(0, Origin::table("pg_class")))
        .collect::<Result<_>>()?;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    // whether each holds rows, in one round trip
    let probes: Vec<String> = found
        .iter()
        .map(|n| format!("EXISTS (SELECT FROM {})", q(n)))
        .collect();
    let row = client
        .query_one(&format!("SELECT {}", probes.join(", ")), &[])
        .await
        .map_err(|e| fail("looking into the existing tables", &e))?;
    found
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let holds_rows = row.col(i, Origin::table(&name))?;
            Ok((name, holds_rows))
        })
        .collect()
}

/// The column types of an existing target table, in the SQLite column order.
pub(super) async fn target_types(client: &Client, table: &inspect::Table) -> Result<Vec<PgType>> {
    let rows = client
        .query_typed(sql::TABLE_COLUMNS, &[(&q(&table.name), Type::TEXT)])
        .await
        .map_err(|e| fail(format!("reading the columns of {}", table.name), &e))?;
    let origin = Origin::table(&table.name);
    let mut columns: Vec<(String, String)> = Vec::new();
    for r in &rows {
        columns.push((r.col(0, origin)?, r.col(1, origin)?));
    }
    let mut types = Vec::new();
    for c in &table.columns {
        let Some((_, ty)) = columns.iter().find(|(name, _)| *name == c.name) else {
            return Err(Error::invalid(
                format!(
                    "target table {} has no column {}; nothing was written",
                    table.name, c.name
                ),
                Some("add the column with a migration, or leave the table out with --exclude"),
            ));
        };
        let Some(pg) = PgType::parse(ty) else {
            return Err(Error::invalid(
                format!(
                    "target column {}.{} has type {ty}, which keel cannot write yet",
                    table.name, c.name
                ),
                None,
            ));
        };
        types.push(pg);
    }
    Ok(types)
}

/// A foreign key of the target that touches a table being replaced or
/// loaded into.
#[derive(Debug, Clone)]
pub(super) struct TargetForeignKey {
    pub name: String,
    /// The referencing table, schema-qualified and quoted.
    pub child_sql: String,
    /// The referencing table as `schema.table`, for messages.
    pub child: String,
    /// The referencing table's name when it is one of the copied tables.
    pub child_in_set: Option<String>,
    /// The referenced table's name when it is one of the copied tables.
    pub parent_in_set: Option<String>,
    /// `pg_get_constraintdef`: `FOREIGN KEY (…) REFERENCES …`.
    pub definition: String,
    /// The referenced table as `schema.table`.
    pub parent: String,
}

/// What the target holds around the existing tables: every foreign key
/// from or to one of them, and every view built on them (directly or on
/// such a view), as (table, view) pairs.
pub(super) struct Dependents {
    pub foreign_keys: Vec<TargetForeignKey>,
    pub views: Vec<(String, String)>,
}

pub(super) async fn dependents(client: &Client, names: &[String]) -> Result<Dependents> {
    let fk_rows = client
        .query_typed(sql::FOREIGN_KEYS, &[(&names, Type::TEXT_ARRAY)])
        .await
        .map_err(|e| fail("reading the target's foreign keys", &e))?;
    let origin = Origin::table("pg_constraint (foreign keys of the target)");
    let mut foreign_keys = Vec::new();
    for r in &fk_rows {
        foreign_keys.push(TargetForeignKey {
            name: r.col(0, origin)?,
            child_sql: r.col(1, origin)?,
            child: r.col(2, origin)?,
            child_in_set: r.col(3, origin)?,
            parent_in_set: r.col(4, origin)?,
            definition: r.col(5, origin)?,
            parent: r.col(6, origin)?,
        });
    }
    let view_rows = client
        .query_typed(sql::DEPENDENT_VIEWS, &[(&names, Type::TEXT_ARRAY)])
        .await
        .map_err(|e| fail("reading the views built on the target's tables", &e))?;
    let origin = Origin::table("pg_depend (views of the target)");
    let views = view_rows
        .iter()
        .map(|r| Ok((r.col(0, origin)?, r.col(1, origin)?)))
        .collect::<Result<_>>()?;
    Ok(Dependents {
        foreign_keys,
        views,
    })
}
