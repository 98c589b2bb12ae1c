//! Pure decisions: local migrations × applied rows → each migration's state,
//! and the plan for `up`, `down`, `stamp` and ([`repair`](mod@repair))
//! `repair`, or the reasons to refuse.
//! No I/O here; everything is unit-tested without a database.

pub mod repair;
pub use repair::{RepairBlocker, RepairOptions, RepairPlan, RepairRefusal, RepairStep, repair};

use crate::error::Error;
use crate::source::{Checksum, Migration, Migrations, checksum::ALGORITHM};
use crate::tracking::AppliedMigration;
use serde::Serialize;

/// The state of one migration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum State {
    Applied,
    Pending,
    /// Pending, but older than the newest applied migration.
    OutOfOrder,
    /// Applied, but the file's checksum differs from the applied one.
    Modified {
        applied_checksum: Checksum,
        file_checksum: Checksum,
        /// The name it was applied under, when the file with its version
        /// now has another (renumbered files: maybe another migration).
        #[serde(skip_serializing_if = "Option::is_none")]
        renamed_from: Option<String>,
    },
    /// Applied, but the file is gone.
    Missing,
    /// keel recorded that statement `statement_index` started and never
    /// learnt its outcome (the process, connection or server died while it
    /// ran): it may or may not have taken effect.
    InDoubt {
        statement_index: i64,
        statements_applied: i64,
        statements_total: i64,
    },
    /// Applied, then a `keel down` of it failed (or was interrupted) after
    /// some of its down statements took effect.
    PartlyReverted {
        error: Option<String>,
        statements_applied: i64,
        statements_total: i64,
    },
    /// A recorded failure, not yet repaired.
    Failed {
        error: Option<String>,
        statements_applied: i64,
        statements_total: i64,
    },
}

impl State {
    pub fn label(&self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::OutOfOrder => "out-of-order",
            State::Modified { .. } => "modified",
            State::Missing => "missing",
            State::Failed { .. } => "failed",
            State::InDoubt { .. } => "in-doubt",
            State::PartlyReverted { .. } => "partly-reverted",
        }
    }

    /// Everything but `applied` needs attention.
    pub fn is_clean(&self) -> bool {
        matches!(self, State::Applied)
    }
}

/// One line of `keel status`.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub version: i64,
    pub name: String,
    #[serde(flatten)]
    pub state: State,
    /// The local file, when there is one.
    pub file: Option<String>,
    pub applied_at: Option<String>,
}

/// Every migration's state, ordered by version.
pub fn status(local: &Migrations, applied: &[AppliedMigration]) -> Vec<Entry> {
    // A reverted row stays in the table as history; it is not applied.
    let applied: Vec<&AppliedMigration> = applied.iter().filter(|a| !a.is_reverted()).collect();
    let newest_applied = applied
        .iter()
        .filter(|a| a.success && a.version >= 0)
        .map(|a| a.version)
        .max();
    let by_version: std::collections::HashMap<i64, &AppliedMigration> =
        applied.iter().map(|a| (a.version, *a)).collect();
    let mut entries = Vec::new();
    for m in local.iter() {
        let row = by_version.get(&m.version).copied();
        let state = match row {
            // a repeatable runs again whenever its file changes
            Some(a) if m.is_repeatable() && a.success && a.checksum != m.up.checksum => {
                State::Pending
            }
            None if m.is_repeatable() => State::Pending,
            None if newest_applied.is_some_and(|n| n > m.version) => State::OutOfOrder,
            None => State::Pending,
            Some(a) if !a.success => unfinished(a),
            Some(a) if a.partly_reverted().is_some() => partly_reverted(a),
            Some(a) if a.checksum != m.up.checksum || a.checksum_algorithm != ALGORITHM => {
                State::Modified {
                    applied_checksum: a.checksum.clone(),
                    file_checksum: m.up.checksum.clone(),
                    renamed_from: (a.name != m.name).then(|| a.name.clone()),
                }
            }
            Some(_) => State::Applied,
        };
        entries.push(Entry {
            version: m.version,
            name: m.name.clone(),
            state,
            file: Some(m.up.file.clone()),
            applied_at: row.map(|a| a.applied_at.clone()),
        });
    }
    for a in applied.iter().filter(|a| local.get(a.version).is_none()) {
        let state = if a.partly_reverted().is_some() {
            partly_reverted(a)
        } else if a.success {
            State::Missing
        } else {
            unfinished(a)
        };
        entries.push(Entry {
            version: a.version,
            name: a.name.clone(),
            state,
            file: None,
            applied_at: Some(a.applied_at.clone()),
        });
    }
    // repeatables (negative versions) after the versioned ones, as they run
    entries.sort_by_key(|e| (e.version < 0, e.version));
    entries
}

fn partly_reverted(a: &AppliedMigration) -> State {
    let r = a.revert.clone().unwrap_or_default();
    State::PartlyReverted {
        error: r.error,
        statements_applied: r.statements_applied,
        statements_total: r.statements_total,
    }
}

/// The state of a row that did not succeed: failed, or in doubt.
fn unfinished(a: &AppliedMigration) -> State {
    match a.in_doubt() {
        Some(statement_index) => State::InDoubt {
            statement_index,
            statements_applied: a.statements_applied,
            statements_total: a.statements_total,
        },
        None => State::Failed {
            error: a.error.clone(),
            statements_applied: a.statements_applied,
            statements_total: a.statements_total,
        },
    }
}

impl State {
    /// Failed or in doubt: `repair` must resolve it before `up` runs.
    pub fn is_unfinished(&self) -> bool {
        matches!(
            self,
            State::Failed { .. } | State::InDoubt { .. } | State::PartlyReverted { .. }
        )
    }
}

/// How far `up` goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Latest,
    Version(i64),
}

/// How far `down` goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DownTarget {
    /// Revert this many of the newest applied migrations.
    Steps(usize),
    /// Revert every applied migration newer than this version.
    Version(i64),
}

/// ", and renamed: applied as `old`, the file is now `new` — …" when the
/// name changed too.
pub fn renamed(from: Option<&str>, to: &str) -> String {
    match from {
        Some(old) => format!(
            ", and it was applied as `{old}` but the file is now `{to}`: another migration under the same version?"
        ),
        None => String::new(),
    }
}

fn describe_blocker(e: &Entry) -> Option<String> {
    let file = e.file.as_deref().unwrap_or("(no file)");
    match &e.state {
        State::Modified {
            applied_checksum,
            file_checksum,
            renamed_from,
        } => Some(format!(
            "migration {} ({file}) was modified after it was applied (applied checksum {}, file checksum {}){}",
            e.version,
            applied_checksum.short(),
            file_checksum.short(),
            renamed(renamed_from.as_deref(), &e.name)
        )),
        State::Missing => Some(format!(
            "migration {} ({}) was applied but its file is missing",
            e.version, e.name
        )),
        State::Failed {
            error,
            statements_applied,
            statements_total,
        } => Some(format!(
            "migration {} ({file}) failed ({} of {} statements applied): {}",
            e.version,
            statements_applied,
            statements_total,
            error.as_deref().unwrap_or("interrupted before it finished")
        )),
        State::PartlyReverted {
            error,
            statements_applied,
            statements_total,
        } => Some(format!(
            "migration {} ({file}) is partly reverted: {statements_applied} of {statements_total} statements of its down file took effect before `keel down` {}",
            e.version,
            match error {
                Some(e) => format!("failed: {e}"),
                None => format!(
                    "was interrupted (statement {} in doubt)",
                    statements_applied + 1
                ),
            }
        )),
        State::InDoubt {
            statement_index,
            statements_applied,
            statements_total,
        } => Some(format!(
            "migration {} ({file}) was interrupted while statement {statement_index} ran: {statements_applied} of {statements_total} statements are applied and statement {statement_index} is in doubt (it may or may not have taken effect)",
            e.version,
        )),
        _ => None,
    }
}

/// What to do about the blockers `up` found, one clause per kind present:
/// a hint claims only what fits them.
fn blocker_hint(entries: &[Entry]) -> String {
    let any = |f: fn(&State) -> bool| entries.iter().any(|e| f(&e.state));
    let mut clauses = Vec::new();
    if any(|s| matches!(s, State::Modified { .. } | State::Missing)) {
        clauses.push("restore the modified or missing files, or run `keel repair` to accept the files as they are now");
    }
    if any(|s| matches!(s, State::Failed { .. } | State::InDoubt { .. })) {
        clauses.push("run `keel repair` to see the choices for each unfinished migration (retry, or mark it applied or rolled back after checking the database)");
    }
    if any(|s| matches!(s, State::PartlyReverted { .. })) {
        clauses.push("for a partly reverted migration, `keel repair` offers to record the revert as finished or undone once you have completed it by hand");
    }
    if clauses.is_empty() {
        return "review with `keel status`".to_string();
    }
    format!("review with `keel status`; then {}", clauses.join("; "))
}

/// The migrations `up` applies, in order; refuses while an applied
/// migration is modified or missing or a failure is unresolved, and applies
/// out-of-order migrations only when allowed.
pub fn up<'a>(
    local: &'a Migrations,
    applied: &[AppliedMigration],
    target: Target,
    allow_out_of_order: bool,
) -> Result<Vec<&'a Migration>, Error> {
    if let Target::Version(v) = target
        && local.get(v).is_none()
    {
        return Err(Error::invalid(
            format!("--to {v}: no migration has version {v}"),
            Some("run `keel status` to list the versions"),
        ));
    }
    let entries = status(local, applied);
    let blockers: Vec<String> = entries.iter().filter_map(describe_blocker).collect();
    if !blockers.is_empty() {
        return Err(Error::Refused {
            action: "apply migrations".into(),
            problems: blockers,
            hint: blocker_hint(&entries),
        });
    }
    let in_target = |v: i64| match target {
        Target::Latest => true,
        Target::Version(t) => v <= t,
    };
    let out_of_order: Vec<String> = entries
        .iter()
        .filter(|e| e.state == State::OutOfOrder && in_target(e.version))
        .map(|e| {
            format!(
                "migration {} ({}) is older than the newest applied migration",
                e.version,
                e.file.as_deref().unwrap_or("")
            )
        })
        .collect();
    if !out_of_order.is_empty() && !allow_out_of_order {
        return Err(Error::Refused {
            action: "apply migrations out of order".into(),
            problems: out_of_order,
            hint: "pass --allow-out-of-order if applying them after newer ones is safe".into(),
        });
    }
    Ok(entries
        .iter()
        .filter(|e| matches!(e.state, State::Pending | State::OutOfOrder) && in_target(e.version))
        .filter_map(|e| local.get(e.version))
        .collect())
}

/// The migrations `down` reverts, newest first.
pub fn down<'a>(
    local: &'a Migrations,
    applied: &[AppliedMigration],
    target: DownTarget,
) -> Result<Vec<&'a Migration>, Error> {
    let entries = status(local, applied);
    let failures: Vec<String> = entries
        .iter()
        .filter(|e| e.state.is_unfinished())
        .filter_map(describe_blocker)
        .collect();
    if !failures.is_empty() {
        return Err(Error::Refused {
            action: "revert migrations".into(),
            problems: failures,
            hint: "run `keel repair` first".into(),
        });
    }
    // repeatables are never reverted
    let mut done: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.applied_at.is_some() && e.version >= 0)
        .collect();
    done.sort_by_key(|e| std::cmp::Reverse(e.version));
    let chosen: Vec<&Entry> = match target {
        DownTarget::Steps(n) => done.into_iter().take(n).collect(),
        DownTarget::Version(v) => {
            if v != 0
                && !entries
                    .iter()
                    .any(|e| e.version == v && e.applied_at.is_some())
            {
                return Err(Error::invalid(
                    format!("--to {v}: version {v} is not applied"),
                    Some("give an applied version (or 0 to revert everything)"),
                ));
            }
            done.into_iter().filter(|e| e.version > v).collect()
        }
    };
    let mut problems = Vec::new();
    let mut plan = Vec::new();
    for e in chosen {
        match (&e.state, local.get(e.version)) {
            (State::Missing, _) | (_, None) => {
                problems.push(format!("migration {} ({}) has no file to revert with", e.version, e.name))
            }
            (State::Modified { .. }, Some(m)) => problems.push(format!(
                "migration {} ({}) was modified after it was applied; its down file may not match what ran",
                e.version, m.up.file
            )),
            (_, Some(m)) if m.down.is_none() && m.irreversible.is_some() => problems.push(format!(
                "migration {} is not reversible: its down file {} holds no statement",
                e.version,
                m.irreversible.as_deref().unwrap_or_default()
            )),
            (_, Some(m)) if m.down.is_none() => problems.push(format!(
                "migration {} ({}) has no down file; it cannot be reverted",
                e.version, m.up.file
            )),
            (_, Some(m)) => plan.push(m),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Refused {
            action: "revert migrations".into(),
            problems,
            hint: "write the statements that undo each named migration into its down file (or add one), or revert fewer steps".into(),
        });
    }
    Ok(plan)
}

/// The migrations `stamp V` marks applied: every local one up to `version`
/// not yet successfully applied.
pub fn stamp<'a>(
    local: &'a Migrations,
    applied: &[AppliedMigration],
    version: i64,
) -> Result<Vec<&'a Migration>, Error> {
    if local.get(version).is_none() {
        return Err(Error::invalid(
            format!("no migration has version {version}"),
            Some("run `keel status` to list the versions"),
        ));
    }
    Ok(local
        .iter()
        .filter(|m| m.version <= version && !m.is_repeatable())
        .filter(|m| {
            !applied
                .iter()
                .any(|a| a.version == m.version && a.success && !a.is_reverted())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracking::Method;

    fn local(versions: &[i64]) -> Migrations {
        let files = versions
            .iter()
            .flat_map(|v| {
                [
                    (format!("{v}_m.up.sql"), format!("SELECT {v};").into_bytes()),
                    (
                        format!("{v}_m.down.sql"),
                        format!("SELECT -{v};").into_bytes(),
                    ),
                ]
            })
            .collect();
        Migrations::from_files("t".into(), files).unwrap()
    }

    fn row(v: i64, sql: &str, success: bool) -> AppliedMigration {
        AppliedMigration {
            version: v,
            name: "m".into(),
            checksum: Checksum::of(sql),
            checksum_algorithm: ALGORITHM.into(),
            applied_at: "2026-01-01T00:00:00Z".into(),
            duration_ms: 1,
            success,
            error: (!success).then(|| "boom".to_string()),
            failed_statement_index: None,
            failed_statement: None,
            statements_total: 1,
            statements_applied: 0,
            applied_by: "t".into(),
            keel_version: "0".into(),
            method: Method::Run,
            revert: None,
        }
    }

    fn labels(entries: &[Entry]) -> Vec<(i64, &'static str)> {
        entries
            .iter()
            .map(|e| (e.version, e.state.label()))
            .collect()
    }

    #[test]
    fn every_state() {
        let l = local(&[1, 2, 3, 4, 6]);
        let applied = [
            row(1, "SELECT 1;", true),
            row(2, "SELECT 2; -- edited", true),
            row(4, "SELECT 4;", false),
            row(5, "SELECT 5;", true),
        ];
        assert_eq!(
            labels(&status(&l, &applied)),
            [
                (1, "applied"),
                (2, "modified"),
                (3, "out-of-order"),
                (4, "failed"),
                (5, "missing"),
                (6, "pending")
            ]
        );
    }

    #[test]
    fn up_refuses_modified_missing_failed_and_names_them() {
        let l = local(&[1, 2]);
        let err = up(&l, &[row(1, "SELECT 1; -- x", true)], Target::Latest, false).unwrap_err();
        assert!(err.to_string().contains("1_m.up.sql"), "{err}");
        let err = up(&l, &[row(9, "SELECT 9;", true)], Target::Latest, true).unwrap_err();
        assert!(matches!(err, Error::Refused { .. }));
        let err = up(&l, &[row(1, "SELECT 1;", false)], Target::Latest, true).unwrap_err();
        assert!(err.to_string().contains("failed"));
    }

    #[test]
    fn up_applies_out_of_order_only_when_allowed_and_honours_target() {
        let l = local(&[1, 2, 3]);
        let applied = [row(2, "SELECT 2;", true)];
        assert!(up(&l, &applied, Target::Latest, false).is_err());
        let plan: Vec<i64> = up(&l, &applied, Target::Latest, true)
            .unwrap()
            .iter()
            .map(|m| m.version)
            .collect();
        assert_eq!(plan, [1, 3]);
        let plan: Vec<i64> = up(&l, &[], Target::Version(2), false)
            .unwrap()
            .iter()
            .map(|m| m.version)
            .collect();
        assert_eq!(plan, [1, 2]);
        assert!(up(&l, &[], Target::Version(7), false).is_err());
    }

    #[test]
    fn down_reverts_newest_first_and_needs_down_files() {
        let l = local(&[1, 2, 3]);
        let applied = [
            row(1, "SELECT 1;", true),
            row(2, "SELECT 2;", true),
            row(3, "SELECT 3;", true),
        ];
        let plan: Vec<i64> = down(&l, &applied, DownTarget::Steps(2))
            .unwrap()
            .iter()
            .map(|m| m.version)
            .collect();
        assert_eq!(plan, [3, 2]);
        let plan: Vec<i64> = down(&l, &applied, DownTarget::Version(1))
            .unwrap()
            .iter()
            .map(|m| m.version)
            .collect();
        assert_eq!(plan, [3, 2]);
        let up_only =
            Migrations::from_files("t".into(), vec![("1_a.sql".into(), b"SELECT 1;".to_vec())])
                .unwrap();
        let err = down(&up_only, &[row(1, "SELECT 1;", true)], DownTarget::Steps(1)).unwrap_err();
        assert!(err.to_string().contains("no down file"), "{err}");
    }

    #[test]
    fn stamp_marks_everything_up_to_version() {
        let l = local(&[1, 2, 3]);
        let plan: Vec<i64> = stamp(&l, &[row(1, "SELECT 1;", true)], 2)
            .unwrap()
            .iter()
            .map(|m| m.version)
            .collect();
        assert_eq!(plan, [2]);
        assert!(stamp(&l, &[], 5).is_err());
    }
}
