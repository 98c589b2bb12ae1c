//! Rendering differences as a [`Plan`]: the statements that turn the
//! actual schema (TO) into the expected one (FROM), one file per dialect.
//!
//! A plan is ordered by dependency, idempotent where the dialect allows
//! (`IF NOT EXISTS`, or a catalog guard), and wrapped in one transaction
//! where DDL is transactional. Every statement carries its hazards (locks,
//! rewrites, casts that can fail). Statements that delete data (dropping a
//! table or column) are left out unless explicitly allowed, and what keel
//! cannot plan is listed instead of guessed.

pub mod hazard;
pub(crate) mod mysql;
pub(crate) mod postgres;
pub(crate) mod sqlite;

pub use hazard::Hazard;

use super::diff::Difference;
use super::model::{Key, Schema};
use crate::dialect::Dialect;
use crate::error::Result;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

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
    /// What running it risks (in JSON, in words).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hazards: Vec<Hazard>,
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

/// A SQL string literal, quotes doubled (the standard spelling; see
/// [`crate::db::sql::literal`]).
pub(crate) fn literal(s: &str) -> String {
    crate::db::sql::literal(crate::dialect::Dialect::Postgres, s)
}

/// What every dialect's planner collects: steps by phase, and what it
/// leaves out (destructive) or cannot plan.
pub(super) struct Steps {
    pub(super) allow_destructive: bool,
    steps: Vec<(u16, Step)>,
    pub(super) omitted: Vec<Omitted>,
    pub(super) unplannable: Vec<Omitted>,
}

impl Steps {
    pub(super) fn new(allow_destructive: bool) -> Steps {
        Steps {
            allow_destructive,
            steps: Vec::new(),
            omitted: Vec::new(),
            unplannable: Vec::new(),
        }
    }

    pub(super) fn add(&mut self, phase: u16, id: &str, sql: String, hazards: Vec<Hazard>) {
        self.push(
            phase,
            Step {
                sql,
                hazards,
                resolves: vec![id.to_string()],
            },
        );
    }

    pub(super) fn push(&mut self, phase: u16, step: Step) {
        self.steps.push((phase, step));
    }

    /// A statement that deletes data: planned only when allowed.
    pub(super) fn destructive(&mut self, phase: u16, id: &str, sql: String, what: &str) {
        if self.allow_destructive {
            self.add(phase, id, sql, vec![Hazard::DeletesData(what.to_string())]);
        } else {
            self.omitted.push(Omitted {
                id: id.to_string(),
                reason: format!("deletes data ({what}); pass --allow-destructive to include it"),
                sql: Some(sql),
            });
        }
    }

    pub(super) fn cannot(&mut self, id: &str, reason: String) {
        self.unplannable.push(Omitted {
            id: id.to_string(),
            reason,
            sql: None,
        });
    }

    /// The steps in phase order (stable: within a phase, the order of the
    /// differences), each statement once, resolving every difference that
    /// asked for it.
    pub(super) fn ordered(&mut self) -> Vec<Step> {
        let mut all = std::mem::take(&mut self.steps);
        all.sort_by_key(|(phase, _)| *phase);
        let mut at: HashMap<String, usize> = HashMap::new();
        let mut steps: Vec<Step> = Vec::new();
        for (_, s) in all {
            match at.get(&s.sql).and_then(|&i| steps.get_mut(i)) {
                Some(first) => {
                    for r in s.resolves {
                        if !first.resolves.contains(&r) {
                            first.resolves.push(r);
                        }
                    }
                }
                None => {
                    at.insert(s.sql.clone(), steps.len());
                    steps.push(s);
                }
            }
        }
        steps
    }
}

/// Orders `keys` so each comes after the keys (in the set) it depends on;
/// a cycle keeps the rest in name order.
pub(super) fn order(keys: &BTreeSet<Key>, deps: impl Fn(&Key) -> Option<Vec<Key>>) -> Vec<Key> {
    let mut done: Vec<Key> = Vec::new();
    let mut left: Vec<Key> = keys.iter().cloned().collect();
    while !left.is_empty() {
        let before = left.len();
        left.retain(|k| {
            let ready = deps(k)
                .unwrap_or_default()
                .iter()
                .all(|d| !keys.contains(d) || done.contains(d) || d == k);
            if ready {
                done.push(k.clone());
            }
            !ready
        });
        if left.len() == before {
            done.append(&mut left);
        }
    }
    done
}
