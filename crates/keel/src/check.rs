//! `keel check`: the CI and health gate. One report of everything that
//! will hurt in production: migrations pending, modified, missing or
//! failed ([`runner`](crate::runner)); drift of the live schema from what
//! the applied migrations produce ([`schema`](crate::schema), built in a
//! scratch database); and id generators that will fail the next INSERT
//! ([`sequences`](crate::sequences), detection only).

use crate::db::Database;
use crate::error::Result;
use crate::plan::State;
use crate::runner::{Migrator, StatusReport};
use crate::schema::{self, Difference, Side};
use crate::sequences;
use serde::Serialize;

/// Drift of the live schema from the migrations applied to it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Drift {
    /// Compared with what the migrations up to `up_to` produce.
    Checked {
        up_to: i64,
        differences: Vec<Difference>,
    },
    /// Not compared, and why (nothing applied yet).
    Skipped { reason: String },
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    pub migrations: StatusReport,
    pub drift: Drift,
    pub sequences: sequences::Report,
}

impl CheckReport {
    pub fn drift_count(&self) -> usize {
        match &self.drift {
            Drift::Checked { differences, .. } => differences.len(),
            Drift::Skipped { .. } => 0,
        }
    }

    /// Leaves the differences of these tables (and of what hangs on them)
    /// out of the drift: `keel check --exclude TABLE`.
    pub fn exclude(&mut self, tables: &[String]) {
        if let Drift::Checked { differences, .. } = &mut self.drift {
            differences.retain(|d| !excluded(d, tables));
        }
    }

    /// Nothing to report: every migration applied and unchanged, no drift,
    /// every sequence sound.
    pub fn ok(&self) -> bool {
        self.migrations.is_clean() && self.drift_count() == 0 && self.sequences.ok()
    }
}

/// Whether a difference concerns one of `tables` (a table or view, by
/// name, in any schema, with what hangs on it).
pub fn excluded(d: &Difference, tables: &[String]) -> bool {
    let table = match (&d.table, d.kind) {
        (Some(t), _) => t,
        (None, schema::Kind::Table | schema::Kind::View) => &d.name,
        (None, _) => return false,
    };
    tables.iter().any(|x| x == table)
}

/// Checks the database `db` is connected to against `migrator`'s files.
pub async fn run(migrator: &Migrator, db: &mut Database) -> Result<CheckReport> {
    let migrations = migrator.status(db).await?;
    let sequences = sequences::run(db, &sequences::Options::default()).await?;
    // the live schema should be what the applied migrations make
    let newest = migrations
        .entries
        .iter()
        .filter(|e| matches!(e.entry.state, State::Applied | State::Modified { .. }))
        .map(|e| e.entry.version)
        .max();
    let drift = match newest {
        None => Drift::Skipped {
            reason: "no migration is applied yet".into(),
        },
        Some(up_to) => {
            let options = schema::Options {
                table: db.options.table.clone(),
                plan: false,
                allow_destructive: false,
                up_to: Some(up_to),
            };
            let from = Side::Migrations(migrator.migrations().clone());
            let to = Side::Url(db.url().clone());
            let c = schema::compare(&from, &to, &options).await?;
            Drift::Checked {
                up_to,
                differences: c.differences,
            }
        }
    };
    Ok(CheckReport {
        migrations,
        drift,
        sequences,
    })
}
