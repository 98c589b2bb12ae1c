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
    /// Statement-level progress of a non-transactional migration.
    Progress {
        version: i64,
        statements_applied: i64,
    },
    /// Accept a modified file's current text.
    Accept {
        version: i64,
        checksum: Checksum,
        sql: String,
    },
    Delete {
        version: i64,
    },
}

/// keel's own version, stored with every row.
pub const KEEL_VERSION: &str = env!("CARGO_PKG_VERSION");
