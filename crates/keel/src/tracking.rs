//! The rows of the tracking table (`keel_migrations` by default): what keel
//! reads back ([`AppliedMigration`]) and what it writes ([`Write`]).
//!
//! One row per version: checksum with its algorithm label, when, how long,
//! success, the error and failing statement, statement-level progress for
//! migrations the database cannot roll back, who applied it, with which keel,
//! how (run, stamp, repair), and the applied SQL itself so `status` can show
//! what changed in a modified file.

use crate::source::Checksum;
use serde::Serialize;

/// A row of the tracking table, without its stored SQL.
#[derive(Clone, Debug, Serialize)]
pub struct AppliedMigration {
    pub version: i64,
    pub name: String,
    pub checksum: Checksum,
    pub checksum_algorithm: String,
    /// UTC, ISO 8601.
    pub applied_at: String,
    pub duration_ms: i64,
    pub success: bool,
    pub error: Option<String>,
    /// 1-based index of the statement that failed.
    pub failed_statement_index: Option<i64>,
    pub failed_statement: Option<String>,
    pub statements_total: i64,
    pub statements_applied: i64,
    /// `database user@client host`.
    pub applied_by: String,
    pub keel_version: String,
    pub method: Method,
    /// The last `keel down` of this migration, if any. A reverted row stays
    /// in the table (who reverted it, when, how long) and counts as not
    /// applied; a failed revert never rewrites the up columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revert: Option<Revert>,
}

/// The last revert (`keel down`) of a migration: finished, failed, or
/// interrupted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Revert {
    /// UTC, ISO 8601; set once the revert finished.
    pub reverted_at: Option<String>,
    pub reverted_by: Option<String>,
    pub duration_ms: Option<i64>,
    /// The error of a failed revert.
    pub error: Option<String>,
    /// Statements of the down file that took effect.
    pub statements_applied: i64,
    pub statements_total: i64,
}

impl AppliedMigration {
    /// Reverted by `keel down`: counts as not applied.
    pub fn is_reverted(&self) -> bool {
        self.revert
            .as_ref()
            .is_some_and(|r| r.reverted_at.is_some())
    }

    /// A revert that did not finish and changed (or may have changed)
    /// something: the migration is partly reverted until the user decides.
    /// A revert that failed with nothing kept (rolled back, or its first
    /// statement failed) leaves the migration applied.
    pub fn partly_reverted(&self) -> Option<&Revert> {
        self.revert
            .as_ref()
            .filter(|r| r.reverted_at.is_none() && (r.statements_applied > 0 || r.error.is_none()))
    }

    /// The statement (1-based) whose outcome nobody knows: keel recorded that
    /// it started, and then the process, connection or server died before
    /// the outcome was written. Such a row has no error and no success;
    /// rows of older keel versions without a started statement count the
    /// next statement after the ones recorded as applied.
    pub fn in_doubt(&self) -> Option<i64> {
        (!self.success && self.error.is_none()).then(|| {
            self.failed_statement_index
                .unwrap_or(self.statements_applied + 1)
        })
    }
}

/// How a row came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// keel ran the SQL.
    Run,
    /// `keel stamp` marked it applied without running it.
    Stamp,
    /// `keel repair` marked it applied after a partial failure.
    Repair,
    /// `keel copy` brought the row from the source database's history.
    Copy,
    /// `keel adopt` imported it from another tool's history table.
    Adopt,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::Run,
        Method::Stamp,
        Method::Repair,
        Method::Copy,
        Method::Adopt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Run => "run",
            Method::Stamp => "stamp",
            Method::Repair => "repair",
            Method::Copy => "copy",
            Method::Adopt => "adopt",
        }
    }

    /// A `'static` reference, for bind parameters.
    pub fn as_static(self) -> &'static &'static str {
        match self {
            Method::Run => &"run",
            Method::Stamp => &"stamp",
            Method::Repair => &"repair",
            Method::Copy => &"copy",
            Method::Adopt => &"adopt",
        }
    }

    /// The method a stored label names; `None` for a label keel never writes.
    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// A full row to insert or replace.
#[derive(Clone, Debug)]
pub struct Record {
    pub version: i64,
    pub name: String,
    pub checksum: Checksum,
    /// `None`: the backend measures from the start of the migration's transaction.
    pub duration_ms: Option<i64>,
    /// UTC, ISO 8601; `None`: now. Set when a row keeps the time of another
    /// database's history (a copy).
    pub applied_at: Option<String>,
    pub success: bool,
    pub error: Option<String>,
    pub failed_statement_index: Option<i64>,
    pub failed_statement: Option<String>,
    pub statements_total: i64,
    pub statements_applied: i64,
    pub applied_by: String,
    pub method: Method,
    pub sql: String,
}

/// A change to the tracking table.
#[derive(Clone, Debug)]
pub enum Write {
    Upsert(Box<Record>),
    /// Statement-level progress of a non-transactional migration, written
    /// *before* statement `started` (1-based) is sent: `statements_applied`
    /// are known applied, `started` is in doubt until the next write.
    Progress {
        version: i64,
        statements_applied: i64,
        started: i64,
    },
    /// Accept a modified file's current text.
    /// `repair` accepts the file as what was applied: its checksum, text
    /// and name (a migration renamed and edited).
    Accept {
        version: i64,
        name: String,
        checksum: Checksum,
        sql: String,
    },
    Delete {
        version: i64,
    },
    /// `keel down` is about to send statement `statements_applied + 1` of
    /// the down file (never rewrites the up columns).
    RevertProgress {
        version: i64,
        statements_applied: i64,
        statements_total: i64,
    },
    /// `keel down` failed.
    RevertFailed {
        version: i64,
        error: String,
        statements_applied: i64,
        statements_total: i64,
        duration_ms: i64,
        by: String,
    },
    /// `keel down` finished: the row stays, marked reverted.
    /// `duration_ms: None` measures from the start of the transaction.
    Reverted {
        version: i64,
        statements_total: i64,
        duration_ms: Option<i64>,
        by: String,
    },
}

/// keel's own version, stored with every row.
pub const KEEL_VERSION: &str = env!("CARGO_PKG_VERSION");
