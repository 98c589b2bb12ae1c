//! What keel asks the PostgreSQL target before loading: whether the
//! `--grant` roles exist, which tables exist and hold rows, and the column
//! types of tables it loads into.

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
        .query_typed(
            "SELECT c.relname::text FROM pg_class c WHERE c.relkind IN ('r', 'p') AND c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1::text[])",
            &[(&names, Type::TEXT_ARRAY)],
        )
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
        .query_typed(
            "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped",
            &[(&q(&table.name), Type::TEXT)],
        )
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
