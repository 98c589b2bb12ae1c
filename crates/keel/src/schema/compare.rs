//! `keel diff FROM TO`: read both sides (a database, or what the migration
//! folder produces, built in a scratch database), compare them, and, when
//! asked, plan the change from TO to FROM — proving the plan converges by
//! running it on a scratch copy of TO's schema and comparing again, so a
//! wrong plan is never handed out.

use super::diff::{Difference, diff};
use super::model::Schema;
use super::render::{self, Plan};
use super::scratch::Scratch;
use super::subset::Subset;
use crate::db::{ConnectOptions, Database};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::plan::Target;
use crate::runner::Migrator;
use crate::settings::DatabaseUrl;
use crate::source::Migrations;
use serde::Serialize;

/// One side of a comparison.
#[derive(Clone, Debug)]
pub enum Side {
    /// A live database.
    Url(DatabaseUrl),
    /// The schema the migrations produce, built in a scratch database of
    /// the other side's engine, on its server.
    Migrations(Migrations),
}

impl Side {
    /// How output names the side (passwords redacted).
    pub fn describe(&self) -> String {
        match self {
            Side::Url(u) => u.redacted(),
            Side::Migrations(_) => "migrations".into(),
        }
    }

    fn url(&self) -> Option<&DatabaseUrl> {
        match self {
            Side::Url(u) => Some(u),
            Side::Migrations(_) => None,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// keel's tracking table, never compared.
    pub table: String,
    /// Write the plan that turns TO into FROM.
    pub plan: bool,
    /// Include statements that delete data (dropping tables or columns).
    pub allow_destructive: bool,
    /// Build the `migrations` side only up to this version (`keel check`
    /// compares a database with the migrations applied to it).
    pub up_to: Option<i64>,
}

/// The result of comparing FROM (expected) with TO (actual).
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub from: String,
    pub to: String,
    pub from_engine: Dialect,
    pub to_engine: Dialect,
    pub differences: Vec<Difference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    /// The plan ran on a scratch copy of TO's schema and left no
    /// difference but the ones it omits on purpose.
    pub plan_verified: bool,
}

/// Compares `from` (expected) with `to` (actual).
pub async fn compare(from: &Side, to: &Side, options: &Options) -> Result<Comparison> {
    let (from_url, to_url) = match (from.url(), to.url()) {
        (Some(f), Some(t)) => (f.clone(), t.clone()),
        (Some(f), None) => (f.clone(), f.clone()),
        (None, Some(t)) => (t.clone(), t.clone()),
        (None, None) => {
            return Err(Error::InvalidInput {
                message: "both sides are `migrations`: there is nothing to compare".into(),
                hint: Some(
                    "compare the migrations with a database: keel diff migrations postgres://…"
                        .into(),
                ),
            });
        }
    };
    // both sides are read at once
    let (expected, actual) =
        tokio::join!(read(from, &from_url, options), read(to, &to_url, options));
    let (expected, actual) = (expected?, actual?);
    let differences = diff(&expected, &actual);
    let mut comparison = Comparison {
        from: from.describe(),
        to: to.describe(),
        from_engine: expected.dialect,
        to_engine: actual.dialect,
        differences,
        plan: None,
        plan_verified: false,
    };
    if options.plan {
        let plan = render::plan(
            &expected,
            &actual,
            &comparison.differences,
            options.allow_destructive,
        )?;
        if !plan.unplannable.is_empty() {
            return Err(Error::Refused {
                action: "print a plan".into(),
                problems: plan
                    .unplannable
                    .iter()
                    .map(|o| format!("{}: {}", o.id, o.reason))
                    .collect(),
                hint: "change these by hand (or in a migration); `keel diff` without --sql lists every difference".into(),
            });
        }
        if !plan.is_empty() {
            let sides = (&expected, &actual);
            verify(
                &plan,
                sides,
                &comparison.differences,
                &to_url,
                &options.table,
            )
            .await?;
        }
        comparison.plan_verified = true;
        comparison.plan = Some(plan);
    }
    Ok(comparison)
}

async fn read(side: &Side, url: &DatabaseUrl, options: &Options) -> Result<Schema> {
    let table = options.table.as_str();
    match side {
        Side::Url(u) => {
            let options = ConnectOptions {
                table: table.to_string(),
                // reading a schema never creates a SQLite file
                create_missing: false,
                ..ConnectOptions::default()
            };
            let mut db = Database::connect_with(u, options).await?;
            let schema = super::inspect(&mut db).await;
            let _ = db.close().await;
            schema
        }
        Side::Migrations(m) => {
            let scratch = Scratch::create(url).await?;
            let target = options.up_to.map_or(Target::Latest, Target::Version);
            let built = build(&scratch, m, table, target).await;
            scratch.remove().await?;
            built
        }
    }
}

/// Applies every migration to the scratch database and reads the result.
async fn build(
    scratch: &Scratch,
    migrations: &Migrations,
    table: &str,
    target: Target,
) -> Result<Schema> {
    let mut db = scratch.connect(table).await?;
    let result = async {
        Migrator::new(migrations.clone())
            .up(&mut db, target, &mut |_| {})
            .await?;
        super::inspect(&mut db).await
    }
    .await;
    let _ = db.close().await;
    result
}

/// Rebuilds `actual` in a scratch database on TO's server, runs the plan
/// there, and checks that only the omitted differences remain.
async fn verify(
    plan: &Plan,
    (expected, actual): (&Schema, &Schema),
    differences: &[Difference],
    server: &DatabaseUrl,
    table: &str,
) -> Result<()> {
    // only what the plan can touch is rebuilt and compared
    let subset = Subset::of(differences, [expected, actual]);
    let (expected, actual) = (&subset.restrict(expected), &subset.restrict(actual));
    let empty = Schema::empty(actual.dialect);
    let seed_diffs = diff(actual, &empty);
    let seed = render::plan(actual, &empty, &seed_diffs, true)?;
    let scratch = Scratch::create(server).await?;
    let result = async {
        let mut db = scratch.connect(table).await?;
        let outcome = async {
            if let Err(e) = db.backend.execute(&seed.to_sql()).await? {
                return Err(refuse(vec![format!(
                    "keel could not rebuild TO's schema in a scratch database to test the plan: {e}"
                )]));
            }
            if let Err(e) = db.backend.execute(&plan.to_sql()).await? {
                return Err(refuse(vec![format!(
                    "the plan fails on a copy of TO's schema: {e}"
                )]));
            }
            super::inspect(&mut db).await
        }
        .await;
        let _ = db.close().await;
        outcome
    }
    .await;
    scratch.remove().await?;
    let after = result?;
    let omitted: Vec<&str> = plan.omitted.iter().map(|o| o.id.as_str()).collect();
    let left: Vec<String> = diff(expected, &after)
        .into_iter()
        .filter(|d| !omitted.contains(&d.id.as_str()))
        .map(|d| {
            format!(
                "{} ({}: expected {}, still {})",
                d.id,
                d.kind.words(),
                d.expected.as_deref().unwrap_or("none"),
                d.actual.as_deref().unwrap_or("none")
            )
        })
        .collect();
    if left.is_empty() {
        Ok(())
    } else {
        Err(refuse(left))
    }
}

fn refuse(problems: Vec<String>) -> Error {
    Error::Refused {
        action: "print a plan that does not converge".into(),
        problems,
        hint: "keel cannot plan these differences safely; change them by hand (or in a migration) and run `keel diff` again".into(),
    }
}
