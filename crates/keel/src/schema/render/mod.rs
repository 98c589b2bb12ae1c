//! Rendering differences as a [`Plan`]: the statements that turn the
//! actual schema (TO) into the expected one (FROM), one file per dialect.
//!
//! A plan is ordered by dependency, idempotent where the dialect allows
//! (`IF NOT EXISTS`, or a catalog guard), and wrapped in one transaction
//! where DDL is transactional. Every statement carries its hazards (locks,
//! rewrites, casts that can fail). Statements that delete data (dropping a
//! table or column) are left out unless explicitly allowed, and what keel
//! cannot plan is listed instead of guessed.

pub(crate) mod mysql;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use super::diff::Difference;
use super::model::Schema;
use crate::dialect::Dialect;
use crate::error::Result;
use serde::Serialize;

/// The plan for one diff.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub dialect: Dialect,
    /// Whether the statements run in one transaction.
    pub transactional: bool,
    pub steps: Vec<Step>,
    /// Differences the plan leaves alone, and why (e.g. destructive).
    pub omitted: Vec<Omitted>,
    /// Differences keel cannot turn into SQL; a plan with any is refused.
    pub unplannable: Vec<Omitted>,
    /// Statements (and comments) that must run before the transaction,
    /// e.g. SQLite's `PRAGMA foreign_keys = OFF` around a table rebuild.
    #[serde(skip)]
    pub preamble: String,
    /// Comments (or statements) after the transaction.
    #[serde(skip)]
    pub epilogue: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub sql: String,
    /// What running it risks, in words.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hazards: Vec<String>,
    /// The differences it resolves.
    pub resolves: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Omitted {
    pub id: String,
    pub reason: String,
    /// The statement that would resolve it, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The plan as one SQL script: hazards as comments above their
    /// statement, omitted drops as comments at the end.
    pub fn to_sql(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "-- keel plan ({}): {} statement(s)\n",
            self.dialect,
            self.steps.len()
        ));
        out.push_str(&self.preamble);
        if self.dialect == Dialect::Sqlite {
            out.push_str(
                "-- SQLite DDL is transactional: the whole plan applies or nothing does\n",
            );
        }
        if self.transactional {
            out.push_str("BEGIN;\n");
        }
        if self.dialect == Dialect::Postgres {
            // function bodies may name objects created later in the plan
            out.push_str("SET LOCAL check_function_bodies = off;\n");
        }
        for s in &self.steps {
            out.push('\n');
            for h in &s.hazards {
                out.push_str(&format!("-- hazard: {h}\n"));
            }
            out.push_str(&s.sql);
            out.push_str(";\n");
        }
        if self.transactional {
            out.push_str("\nCOMMIT;\n");
        }
        out.push_str(&self.epilogue);
        for o in &self.omitted {
            out.push_str(&format!("\n-- omitted {}: {}\n", o.id, o.reason));
            if let Some(sql) = &o.sql {
                for line in sql.lines() {
                    out.push_str(&format!("--   {line}\n"));
                }
            }
        }
        out
    }
}

/// Plans the change from `actual` to `expected` in `actual`'s dialect.
pub fn plan(
    expected: &Schema,
    actual: &Schema,
    differences: &[Difference],
    allow_destructive: bool,
) -> Result<Plan> {
    match actual.dialect {
        Dialect::Postgres => Ok(postgres::plan(
            expected,
            actual,
            differences,
            allow_destructive,
        )),
        Dialect::Sqlite => Ok(sqlite::plan(
            expected,
            actual,
            differences,
            allow_destructive,
        )),
        Dialect::Mysql => Ok(mysql::plan(
            expected,
            actual,
            differences,
            allow_destructive,
        )),
    }
}

/// A SQL string literal.
pub(crate) fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
