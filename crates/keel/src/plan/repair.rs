//! `keel repair` as a pure plan: local migrations × applied rows × the
//! user's choices → the steps to take (accept a checksum, clear a failure,
//! mark applied, mark rolled back, forget a missing file, retry from a
//! statement), the things keel will not decide alone (blockers, with the
//! commands that resolve them), or a refusal of the choices themselves.
//! The runner only executes the steps, under the lock.

use super::{State, status};
use crate::error::Error;
use crate::source::split::Statement;
use crate::source::{Checksum, Migration, Migrations};
use crate::tracking::AppliedMigration;

/// Options of `repair`, naming the decisions the user took after review.
#[derive(Clone, Debug, Default)]
pub struct RepairOptions {
    /// Partially applied migrations the user finished by hand.
    pub mark_applied: Vec<i64>,
    /// Partially applied migrations the user undid by hand.
    pub mark_rolled_back: Vec<i64>,
    /// Partially applied migrations to continue from the failed statement.
    pub retry: Vec<i64>,
    /// Forget the records of applied migrations whose files are gone.
    pub forget_missing: bool,
    /// Applied migrations whose file now has another name and content, to
    /// record as the same migration renamed and edited.
    pub accept_renamed: Vec<i64>,
    pub dry_run: bool,
}

/// One change `repair` makes to the tracking table (or, for `Retry`, to the
/// database and then the tracking table).
#[derive(Clone, Debug)]
pub enum RepairStep<'a> {
    /// Record the modified file's current checksum and text as applied.
    AcceptChecksum {
        migration: &'a Migration,
        applied_checksum: Checksum,
    },
    /// Delete a failure record none of whose statements stayed applied.
    ClearFailure {
        row: &'a AppliedMigration,
        migration: Option<&'a Migration>,
    },
    /// The user finished a partial migration by hand: record it applied.
    MarkApplied {
        row: &'a AppliedMigration,
        migration: Option<&'a Migration>,
    },
    /// The user undid a partial migration by hand: delete its record.
    MarkRolledBack {
        row: &'a AppliedMigration,
        migration: Option<&'a Migration>,
    },
    /// Delete the record of an applied migration whose file is gone.
    ForgetMissing { row: &'a AppliedMigration },
    /// The user finished a partly reverted migration's revert by hand:
    /// record it reverted.
    FinishRevert {
        row: &'a AppliedMigration,
        migration: Option<&'a Migration>,
    },
    /// The user restored a partly reverted migration by hand: record that
    /// the revert left nothing behind (the migration is applied).
    UndoRevert {
        row: &'a AppliedMigration,
        migration: Option<&'a Migration>,
    },
    /// Run the file from statement `row.statements_applied + 1` on.
    Retry {
        row: &'a AppliedMigration,
        migration: &'a Migration,
    },
}

impl RepairStep<'_> {
    pub fn version(&self) -> i64 {
        match self {
            RepairStep::AcceptChecksum { migration, .. } | RepairStep::Retry { migration, .. } => {
                migration.version
            }
            RepairStep::ClearFailure { row, .. }
            | RepairStep::MarkApplied { row, .. }
            | RepairStep::MarkRolledBack { row, .. }
            | RepairStep::FinishRevert { row, .. }
            | RepairStep::UndoRevert { row, .. }
            | RepairStep::ForgetMissing { row } => row.version,
        }
    }

    /// The local file's name for the migration, else the recorded one.
    pub fn name(&self) -> &str {
        match self {
            RepairStep::AcceptChecksum { migration, .. } | RepairStep::Retry { migration, .. } => {
                &migration.name
            }
            RepairStep::ClearFailure { row, migration }
            | RepairStep::MarkApplied { row, migration }
            | RepairStep::MarkRolledBack { row, migration }
            | RepairStep::FinishRevert { row, migration }
            | RepairStep::UndoRevert { row, migration } => {
                migration.map_or(row.name.as_str(), |m| m.name.as_str())
            }
            RepairStep::ForgetMissing { row } => &row.name,
        }
    }

    /// The stable label of `--format json`'s `action`.
    pub fn action(&self) -> &'static str {
        match self {
            RepairStep::AcceptChecksum { .. } => "accept_checksum",
            RepairStep::ClearFailure { .. } => "clear_failure",
            RepairStep::MarkApplied { .. } | RepairStep::UndoRevert { .. } => "mark_applied",
            RepairStep::MarkRolledBack { .. } | RepairStep::FinishRevert { .. } => {
                "mark_rolled_back"
            }
            RepairStep::ForgetMissing { .. } => "forget_missing",
            RepairStep::Retry { .. } => "retry",
        }
    }

    /// What the step did, as `keel repair` prints it.
    pub fn detail(&self) -> String {
        match self {
            RepairStep::AcceptChecksum {
                migration,
                applied_checksum,
            } => format!(
                "accepted {} as applied (checksum {} → {})",
                migration.up.file,
                applied_checksum.short(),
                migration.up.checksum.short()
            ),
            RepairStep::ClearFailure { .. } => {
                "cleared the failure record (none of its statements had stayed applied)".to_string()
            }
            RepairStep::MarkApplied { .. } => "recorded as applied".to_string(),
            RepairStep::MarkRolledBack { .. } => "recorded as not applied".to_string(),
            RepairStep::FinishRevert { .. } => {
                "recorded as reverted (you finished its revert by hand)".to_string()
            }
            RepairStep::UndoRevert { .. } => {
                "recorded as applied (you restored what its failed revert undid)".to_string()
            }
            RepairStep::ForgetMissing { .. } => {
                "forgot the record of a migration whose file is gone".to_string()
            }
            RepairStep::Retry { row, migration } => format!(
                "ran {} from statement {}",
                migration.up.file,
                row.statements_applied + 1
            ),
        }
    }
}

/// Something `repair` will not decide alone.
#[derive(Clone, Debug)]
pub enum RepairBlocker<'a> {
    /// Applied, but its file is gone; `--forget-missing` resolves it.
    Missing { row: &'a AppliedMigration },
    /// Applied under another name, and the file with its version now holds
    /// other SQL: maybe another migration renumbered onto it, which was
    /// never applied. `--accept-renamed` says it is the same one.
    Renamed {
        row: &'a AppliedMigration,
        migration: &'a Migration,
    },
    /// Some statements stayed applied before one failed; the user chooses
    /// `--retry`, `--mark-applied` or `--mark-rolled-back`.
    PartiallyApplied {
        row: &'a AppliedMigration,
        migration: Option<&'a Migration>,
    },
    /// A `keel down` failed after some of its statements took effect; the
    /// user chooses `--mark-rolled-back` or `--mark-applied`.
    PartlyReverted {
        row: &'a AppliedMigration,
        migration: Option<&'a Migration>,
    },
}

impl RepairBlocker<'_> {
    pub fn version(&self) -> i64 {
        match self {
            RepairBlocker::Missing { row }
            | RepairBlocker::Renamed { row, .. }
            | RepairBlocker::PartiallyApplied { row, .. }
            | RepairBlocker::PartlyReverted { row, .. } => row.version,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            RepairBlocker::Missing { row } => &row.name,
            RepairBlocker::Renamed { migration, .. } => &migration.name,
            RepairBlocker::PartiallyApplied { row, migration }
            | RepairBlocker::PartlyReverted { row, migration } => {
                migration.map_or(row.name.as_str(), |m| m.name.as_str())
            }
        }
    }

    /// The failed migration's row, for a partial failure.
    pub fn partial(&self) -> Option<&AppliedMigration> {
        match self {
            RepairBlocker::Missing { .. }
            | RepairBlocker::Renamed { .. }
            | RepairBlocker::PartlyReverted { .. } => None,
            RepairBlocker::PartiallyApplied { row, .. } => Some(row),
        }
    }

    pub fn detail(&self) -> String {
        match self {
            RepairBlocker::Missing { .. } => "applied, but its file is missing".to_string(),
            RepairBlocker::Renamed { row, migration } => format!(
                "applied as `{}`, but the file with its version is now {} and holds other SQL: if another migration was renumbered onto this version, it was never applied",
                row.name, migration.up.file
            ),
            RepairBlocker::PartlyReverted { row, .. } => {
                let r = row.revert.clone().unwrap_or_default();
                format!(
                    "partly reverted: {} of {} statements of its down file took effect before `keel down` {}; its up record is unchanged",
                    r.statements_applied,
                    r.statements_total,
                    match &r.error {
                        Some(e) => format!("failed: {e}"),
                        None => format!(
                            "was interrupted (statement {} in doubt)",
                            r.statements_applied + 1
                        ),
                    }
                )
            }
            RepairBlocker::PartiallyApplied { row, .. } if row.in_doubt().is_some() => format!(
                "{} of {} statements are applied and statement {} is in doubt: keel recorded that it started, then was interrupted before it learnt the outcome (it may or may not have taken effect)",
                row.statements_applied,
                row.statements_total,
                row.in_doubt().unwrap_or(row.statements_applied + 1),
            ),
            RepairBlocker::PartiallyApplied { row, .. } => format!(
                "{} of {} statements stayed applied before statement {} failed: {}",
                row.statements_applied,
                row.statements_total,
                row.failed_statement_index
                    .unwrap_or(row.statements_applied + 1),
                row.error.as_deref().unwrap_or("interrupted")
            ),
        }
    }

    /// The choices that resolve it, as `keel repair` prints them.
    pub fn options(&self) -> Vec<String> {
        match self {
            RepairBlocker::Renamed { row, migration } => vec![
                format!(
                    "restore `{}`'s file under version {} and give {} a version of its own (then `keel up` applies it)",
                    row.name, row.version, migration.up.file
                ),
                format!(
                    "keel repair --accept-renamed {}  (the same migration, renamed and edited: record the file as applied)",
                    row.version
                ),
            ],
            RepairBlocker::Missing { .. } => vec![
                "restore the file from version control".to_string(),
                "keel repair --forget-missing (the schema change stays; only the record goes)"
                    .to_string(),
            ],
            RepairBlocker::PartlyReverted { row, .. } => {
                let v = row.version;
                vec![
                    format!(
                        "keel repair --mark-rolled-back {v}  (you finished the revert by hand; then `keel up` applies it again)"
                    ),
                    format!(
                        "keel repair --mark-applied {v}  (you restored what the revert undid by hand)"
                    ),
                ]
            }
            RepairBlocker::PartiallyApplied { row, .. } if row.in_doubt().is_some() => {
                let v = row.version;
                let n = row.in_doubt().unwrap_or(row.statements_applied + 1);
                vec![
                    format!(
                        "keel repair --retry {v}  (statement {n} did not take effect: runs it again and the rest)"
                    ),
                    format!(
                        "keel repair --mark-applied {v}  (statement {n} and the rest are in place, by it or by hand)"
                    ),
                    format!(
                        "keel repair --mark-rolled-back {v}  (you undid every statement that took effect)"
                    ),
                ]
            }
            RepairBlocker::PartiallyApplied { row, .. } => {
                let v = row.version;
                vec![
                    format!(
                        "keel repair --retry {v}  (fix the file's failing statement first; runs it and the rest)"
                    ),
                    format!("keel repair --mark-applied {v}  (you finished it by hand)"),
                    format!(
                        "keel repair --mark-rolled-back {v}  (you undid the applied statements by hand)"
                    ),
                ]
            }
        }
    }
}

/// Why `repair` refuses the user's choices; nothing is changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RepairRefusal {
    /// `--mark-applied`, `--mark-rolled-back` or `--retry` named a version
    /// with no recorded failure.
    NoFailure { version: i64 },
    /// More than one decision for the same failure.
    Conflicting {
        version: i64,
        choices: Vec<&'static str>,
    },
    /// `--retry` of a failed migration whose file is gone.
    RetryWithoutFile { version: i64 },
    /// `--retry` of a failed revert: keel does not resume a `down`.
    RetryRevert { version: i64 },
    /// `--retry` after the statements that stayed applied were edited.
    RetryChangedApplied {
        version: i64,
        file: String,
        applied: usize,
    },
}

impl From<RepairRefusal> for Error {
    fn from(r: RepairRefusal) -> Error {
        match r {
            RepairRefusal::NoFailure { version } => Error::invalid(
                format!("migration {version} has no recorded failure to resolve"),
                Some(
                    "run `keel status`: only failed migrations take --mark-applied, --mark-rolled-back or --retry",
                ),
            ),
            RepairRefusal::Conflicting { version, choices } => Error::invalid(
                format!(
                    "migration {version}: choose one of {}, not several",
                    choices.join(", ")
                ),
                Some("pass one decision per failed migration"),
            ),
            RepairRefusal::RetryRevert { version } => Error::invalid(
                format!("cannot retry migration {version}: what failed is its revert (`keel down`), which keel does not resume"),
                Some(
                    "finish the revert by hand and run `keel repair --mark-rolled-back V`, or restore the migration by hand and run `keel repair --mark-applied V`",
                ),
            ),
            RepairRefusal::RetryWithoutFile { version } => Error::invalid(
                format!("cannot retry migration {version}: its file is missing"),
                None,
            ),
            RepairRefusal::RetryChangedApplied {
                version,
                file,
                applied,
            } => Error::Refused {
                action: format!("retry migration {version}"),
                problems: vec![format!(
                    "the first {applied} statements of {file} differ from those that were applied"
                )],
                hint: "keep the applied statements as they were and fix only the failing one and those after it".into(),
            },
        }
    }
}

/// What `repair` does, in version order, and what it leaves to the user.
#[derive(Clone, Debug, Default)]
pub struct RepairPlan<'a> {
    pub steps: Vec<RepairStep<'a>>,
    pub blockers: Vec<RepairBlocker<'a>>,
}

/// Decides `repair`: modified files have their checksums accepted, failures
/// that left nothing applied are cleared, partial failures follow the
/// user's choice (or block), missing files are forgotten only with
/// `--forget-missing` (or block). Choices that do not fit are refused.
pub fn repair<'a>(
    local: &'a Migrations,
    applied: &'a [AppliedMigration],
    options: &RepairOptions,
) -> Result<RepairPlan<'a>, RepairRefusal> {
    let entries = status(local, applied);
    let failed = |v: i64| {
        entries
            .iter()
            .any(|e| e.version == v && e.state.is_unfinished())
    };
    let choices = [
        ("--mark-applied", &options.mark_applied),
        ("--mark-rolled-back", &options.mark_rolled_back),
        ("--retry", &options.retry),
    ];
    for (_, versions) in choices {
        if let Some(&version) = versions.iter().find(|v| !failed(**v)) {
            return Err(RepairRefusal::NoFailure { version });
        }
    }
    for (_, versions) in choices {
        for &version in versions.iter() {
            let chosen: Vec<&'static str> = choices
                .iter()
                .filter(|(_, vs)| vs.contains(&version))
                .map(|(flag, _)| *flag)
                .collect();
            if chosen.len() > 1 {
                return Err(RepairRefusal::Conflicting {
                    version,
                    choices: chosen,
                });
            }
        }
    }
    if let Some(&version) = options.retry.iter().find(|v| {
        entries
            .iter()
            .any(|e| e.version == **v && matches!(e.state, State::PartlyReverted { .. }))
    }) {
        return Err(RepairRefusal::RetryRevert { version });
    }
    if let Some(&version) = options.retry.iter().find(|v| local.get(**v).is_none()) {
        return Err(RepairRefusal::RetryWithoutFile { version });
    }

    let mut plan = RepairPlan::default();
    for e in &entries {
        let row = applied.iter().find(|a| a.version == e.version);
        let migration = local.get(e.version);
        match (&e.state, row, migration) {
            (
                State::Modified {
                    renamed_from: Some(_),
                    ..
                },
                Some(row),
                Some(migration),
            ) if !options.accept_renamed.contains(&e.version) => plan
                .blockers
                .push(RepairBlocker::Renamed { row, migration }),
            (
                State::Modified {
                    applied_checksum, ..
                },
                _,
                Some(migration),
            ) => plan.steps.push(RepairStep::AcceptChecksum {
                migration,
                applied_checksum: applied_checksum.clone(),
            }),
            (State::Missing, Some(row), _) if options.forget_missing => {
                plan.steps.push(RepairStep::ForgetMissing { row })
            }
            (State::Missing, Some(row), _) => plan.blockers.push(RepairBlocker::Missing { row }),
            (State::PartlyReverted { .. }, Some(row), _) => {
                let v = e.version;
                if options.mark_rolled_back.contains(&v) {
                    plan.steps.push(RepairStep::FinishRevert { row, migration });
                } else if options.mark_applied.contains(&v) {
                    plan.steps.push(RepairStep::UndoRevert { row, migration });
                } else {
                    plan.blockers
                        .push(RepairBlocker::PartlyReverted { row, migration });
                }
            }
            (State::Failed { .. } | State::InDoubt { .. }, Some(row), _) => {
                let v = e.version;
                if options.retry.contains(&v) {
                    // A retry without a file was refused above.
                    if let Some(migration) = migration {
                        plan.steps.push(RepairStep::Retry { row, migration });
                    }
                } else if options.mark_rolled_back.contains(&v) {
                    plan.steps
                        .push(RepairStep::MarkRolledBack { row, migration });
                } else if options.mark_applied.contains(&v) {
                    plan.steps.push(RepairStep::MarkApplied { row, migration });
                } else if row.statements_applied == 0 && row.in_doubt().is_none() {
                    plan.steps.push(RepairStep::ClearFailure { row, migration });
                } else {
                    plan.blockers
                        .push(RepairBlocker::PartiallyApplied { row, migration });
                }
            }
            _ => {}
        }
    }
    Ok(plan)
}

/// A retry continues after the statements that stayed applied, so those
/// must read the same in the file as when they ran (`stored`, split from
/// the recorded SQL) as now (`now`, split from the file).
pub fn check_retry(
    migration: &Migration,
    row: &AppliedMigration,
    stored: &[Statement],
    now: &[Statement],
) -> Result<usize, RepairRefusal> {
    let done = usize::try_from(row.statements_applied).unwrap_or(0);
    let texts =
        |s: &[Statement]| -> Vec<String> { s.iter().take(done).map(|s| s.text.clone()).collect() };
    if texts(stored) != texts(now) {
        return Err(RepairRefusal::RetryChangedApplied {
            version: migration.version,
            file: migration.up.file.clone(),
            applied: done,
        });
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::checksum::ALGORITHM;
    use crate::tracking::Method;

    /// Local migrations `<v>_m.sql` holding `SELECT <v>;`.
    fn local(versions: &[i64]) -> Migrations {
        let files = versions
            .iter()
            .map(|v| (format!("{v:04}_m.sql"), format!("SELECT {v};").into_bytes()))
            .collect();
        Migrations::from_files("t".into(), files).unwrap()
    }

    /// A row as applied from `sql`.
    fn applied(v: i64, sql: &str) -> AppliedMigration {
        AppliedMigration {
            version: v,
            name: "m".into(),
            checksum: Checksum::of(sql),
            checksum_algorithm: ALGORITHM.into(),
            applied_at: "2026-01-01T00:00:00Z".into(),
            duration_ms: 1,
            success: true,
            error: None,
            failed_statement_index: None,
            failed_statement: None,
            statements_total: 3,
            statements_applied: 3,
            applied_by: "t".into(),
            keel_version: "0".into(),
            method: Method::Run,
            revert: None,
        }
    }

    /// A failure that left `kept` of 3 statements applied.
    fn failed(v: i64, kept: i64) -> AppliedMigration {
        AppliedMigration {
            success: false,
            error: Some("boom".into()),
            failed_statement_index: Some(kept + 1),
            failed_statement: Some("INSERT INTO nowhere".into()),
            statements_applied: kept,
            ..applied(v, &format!("SELECT {v};"))
        }
    }

    fn steps(plan: &RepairPlan<'_>) -> Vec<(i64, &'static str)> {
        plan.steps
            .iter()
            .map(|s| (s.version(), s.action()))
            .collect()
    }

    fn blockers(plan: &RepairPlan<'_>) -> Vec<(i64, String)> {
        plan.blockers
            .iter()
            .map(|b| (b.version(), b.detail()))
            .collect()
    }

    fn opts(f: impl FnOnce(&mut RepairOptions)) -> RepairOptions {
        let mut o = RepairOptions::default();
        f(&mut o);
        o
    }

    /// What repair decides for version 2, in a short word.
    fn outcome(l: &Migrations, rows: &[AppliedMigration], o: &RepairOptions) -> String {
        match repair(l, rows, o) {
            Err(RepairRefusal::NoFailure { version: 2 }) => "no-failure".into(),
            Err(RepairRefusal::RetryWithoutFile { version: 2 }) => "retry-without-file".into(),
            Err(other) => format!("{other:?}"),
            Ok(plan) => {
                let mut words: Vec<String> = plan
                    .steps
                    .iter()
                    .map(|s| format!("{}:{}", s.version(), s.action()))
                    .collect();
                words.extend(
                    plan.blockers
                        .iter()
                        .map(|b| format!("{}:blocked", b.version())),
                );
                words.join(" ")
            }
        }
    }

    #[test]
    fn every_option_in_every_state() {
        let kept_nothing = failed(2, 0);
        let partial = failed(2, 2);
        let states: [(&str, Migrations, Vec<AppliedMigration>); 8] = [
            (
                "applied",
                local(&[1, 2]),
                vec![applied(1, "SELECT 1;"), applied(2, "SELECT 2;")],
            ),
            ("pending", local(&[1, 2]), vec![applied(1, "SELECT 1;")]),
            (
                "out-of-order",
                local(&[1, 2, 3]),
                vec![applied(1, "SELECT 1;"), applied(3, "SELECT 3;")],
            ),
            (
                "modified",
                local(&[1, 2]),
                vec![applied(1, "SELECT 1;"), applied(2, "SELECT 2; -- x")],
            ),
            (
                "missing",
                local(&[1]),
                vec![applied(1, "SELECT 1;"), applied(2, "SELECT 2;")],
            ),
            (
                "failed, nothing kept",
                local(&[1, 2]),
                vec![applied(1, "SELECT 1;"), kept_nothing],
            ),
            (
                "failed, partly kept",
                local(&[1, 2]),
                vec![applied(1, "SELECT 1;"), partial.clone()],
            ),
            (
                "failed, file gone",
                local(&[1]),
                vec![applied(1, "SELECT 1;"), partial],
            ),
        ];
        let options = [
            ("none", RepairOptions::default()),
            ("--forget-missing", opts(|o| o.forget_missing = true)),
            ("--mark-applied 2", opts(|o| o.mark_applied = vec![2])),
            (
                "--mark-rolled-back 2",
                opts(|o| o.mark_rolled_back = vec![2]),
            ),
            ("--retry 2", opts(|o| o.retry = vec![2])),
        ];
        let refused = "no-failure";
        let expected: [[&str; 5]; 8] = [
            ["", "", refused, refused, refused],
            ["", "", refused, refused, refused],
            ["", "", refused, refused, refused],
            [
                "2:accept_checksum",
                "2:accept_checksum",
                refused,
                refused,
                refused,
            ],
            ["2:blocked", "2:forget_missing", refused, refused, refused],
            [
                "2:clear_failure",
                "2:clear_failure",
                "2:mark_applied",
                "2:mark_rolled_back",
                "2:retry",
            ],
            [
                "2:blocked",
                "2:blocked",
                "2:mark_applied",
                "2:mark_rolled_back",
                "2:retry",
            ],
            [
                "2:blocked",
                "2:blocked",
                "2:mark_applied",
                "2:mark_rolled_back",
                "retry-without-file",
            ],
        ];
        for ((state, l, rows), expected) in states.iter().zip(expected) {
            for ((option, o), expected) in options.iter().zip(expected) {
                assert_eq!(outcome(l, rows, o), expected, "{state} × {option}");
                // a dry run plans exactly the same
                let dry = RepairOptions {
                    dry_run: true,
                    ..o.clone()
                };
                assert_eq!(
                    outcome(l, rows, &dry),
                    expected,
                    "{state} × {option} --dry-run"
                );
            }
        }
    }

    #[test]
    fn clean_database_needs_nothing() {
        let l = local(&[1, 2, 3]);
        let rows = [applied(1, "SELECT 1;"), applied(2, "SELECT 2;")];
        let plan = repair(&l, &rows, &RepairOptions::default()).unwrap();
        assert!(plan.steps.is_empty() && plan.blockers.is_empty());
        // forget-missing with nothing missing is not an error, and does nothing
        let plan = repair(&l, &rows, &opts(|o| o.forget_missing = true)).unwrap();
        assert!(plan.steps.is_empty() && plan.blockers.is_empty());
    }

    #[test]
    fn modified_files_have_their_checksums_accepted_whatever_the_options() {
        let l = local(&[1]);
        let rows = [applied(1, "SELECT 1; -- before the edit")];
        for o in [
            RepairOptions::default(),
            opts(|o| o.forget_missing = true),
            opts(|o| o.dry_run = true),
        ] {
            let plan = repair(&l, &rows, &o).unwrap();
            assert_eq!(steps(&plan), [(1, "accept_checksum")]);
            let detail = plan.steps[0].detail();
            assert!(
                detail.starts_with("accepted 0001_m.sql as applied (checksum "),
                "{detail}"
            );
            assert!(
                detail.contains(&format!(
                    "{} → {}",
                    Checksum::of("SELECT 1; -- before the edit").short(),
                    Checksum::of("SELECT 1;").short()
                )),
                "{detail}"
            );
            assert!(plan.blockers.is_empty());
        }
    }

    #[test]
    fn missing_files_block_unless_forgotten() {
        let l = local(&[1]);
        let rows = [applied(1, "SELECT 1;"), applied(2, "SELECT 2;")];
        let plan = repair(&l, &rows, &RepairOptions::default()).unwrap();
        assert!(plan.steps.is_empty());
        assert_eq!(
            blockers(&plan),
            [(2, "applied, but its file is missing".to_string())]
        );
        assert_eq!(
            plan.blockers[0].options(),
            [
                "restore the file from version control",
                "keel repair --forget-missing (the schema change stays; only the record goes)"
            ]
        );
        assert!(plan.blockers[0].partial().is_none());

        let plan = repair(&l, &rows, &opts(|o| o.forget_missing = true)).unwrap();
        assert_eq!(steps(&plan), [(2, "forget_missing")]);
        assert_eq!(
            plan.steps[0].detail(),
            "forgot the record of a migration whose file is gone"
        );
        assert!(plan.blockers.is_empty());
    }

    #[test]
    fn failures_that_kept_nothing_are_cleared() {
        let l = local(&[1, 2]);
        let rows = [applied(1, "SELECT 1;"), failed(2, 0)];
        let plan = repair(&l, &rows, &RepairOptions::default()).unwrap();
        assert_eq!(steps(&plan), [(2, "clear_failure")]);
        assert_eq!(
            plan.steps[0].detail(),
            "cleared the failure record (none of its statements had stayed applied)"
        );
        // a failure with no file left is cleared as well
        let rows = [applied(1, "SELECT 1;"), failed(7, 0)];
        let plan = repair(&l, &rows, &RepairOptions::default()).unwrap();
        assert_eq!(steps(&plan), [(7, "clear_failure")]);
    }

    #[test]
    fn partial_failures_block_with_the_three_choices() {
        let l = local(&[1, 2]);
        let rows = [applied(1, "SELECT 1;"), failed(2, 2)];
        let plan = repair(&l, &rows, &RepairOptions::default()).unwrap();
        assert!(plan.steps.is_empty());
        assert_eq!(
            blockers(&plan),
            [(
                2,
                "2 of 3 statements stayed applied before statement 3 failed: boom".to_string()
            )]
        );
        assert_eq!(
            plan.blockers[0].options(),
            [
                "keel repair --retry 2  (fix the file's failing statement first; runs it and the rest)",
                "keel repair --mark-applied 2  (you finished it by hand)",
                "keel repair --mark-rolled-back 2  (you undid the applied statements by hand)",
            ]
        );
        assert_eq!(plan.blockers[0].partial().map(|r| r.version), Some(2));
        assert_eq!(plan.blockers[0].name(), "m");
    }

    #[test]
    fn interrupted_failure_without_error_or_index_says_so() {
        let l = local(&[1]);
        let rows = [AppliedMigration {
            error: None,
            failed_statement_index: None,
            ..failed(1, 1)
        }];
        let plan = repair(&l, &rows, &RepairOptions::default()).unwrap();
        assert_eq!(
            blockers(&plan),
            [(
                1,
                "1 of 3 statements are applied and statement 2 is in doubt: keel recorded that it started, then was interrupted before it learnt the outcome (it may or may not have taken effect)"
                    .to_string()
            )]
        );
    }

    #[test]
    fn each_choice_resolves_a_partial_failure() {
        let l = local(&[1, 2]);
        let rows = [applied(1, "SELECT 1;"), failed(2, 2)];
        let cases: [(RepairOptions, &str, &str); 3] = [
            (
                opts(|o| o.mark_applied = vec![2]),
                "mark_applied",
                "recorded as applied",
            ),
            (
                opts(|o| o.mark_rolled_back = vec![2]),
                "mark_rolled_back",
                "recorded as not applied",
            ),
            (
                opts(|o| o.retry = vec![2]),
                "retry",
                "ran 0002_m.sql from statement 3",
            ),
        ];
        for (o, action, detail) in cases {
            let plan = repair(&l, &rows, &o).unwrap();
            assert_eq!(steps(&plan), [(2, action)]);
            assert_eq!(plan.steps[0].detail(), detail);
            assert!(plan.blockers.is_empty(), "{action}");
        }
    }

    #[test]
    fn choices_also_apply_to_failures_that_kept_nothing() {
        let l = local(&[1]);
        let rows = [failed(1, 0)];
        let plan = repair(&l, &rows, &opts(|o| o.mark_applied = vec![1])).unwrap();
        assert_eq!(steps(&plan), [(1, "mark_applied")]);
        let plan = repair(&l, &rows, &opts(|o| o.retry = vec![1])).unwrap();
        assert_eq!(steps(&plan), [(1, "retry")]);
        assert_eq!(plan.steps[0].detail(), "ran 0001_m.sql from statement 1");
    }

    #[test]
    fn choices_for_versions_without_a_failure_are_refused() {
        let l = local(&[1, 2]);
        let rows = [applied(1, "SELECT 1;"), applied(2, "SELECT 2; -- edited")];
        for o in [
            opts(|o| o.mark_applied = vec![1]),
            opts(|o| o.mark_rolled_back = vec![2]),
            opts(|o| o.retry = vec![9]),
        ] {
            let refusal = repair(&l, &rows, &o).unwrap_err();
            assert!(
                matches!(refusal, RepairRefusal::NoFailure { .. }),
                "{refusal:?}"
            );
        }
        let err = Error::from(repair(&l, &rows, &opts(|o| o.retry = vec![9])).unwrap_err());
        assert_eq!(
            err.to_string(),
            "migration 9 has no recorded failure to resolve"
        );
        assert_eq!(
            err.hint().as_deref(),
            Some(
                "run `keel status`: only failed migrations take --mark-applied, --mark-rolled-back or --retry"
            )
        );
    }

    #[test]
    fn two_choices_for_one_failure_are_refused() {
        let l = local(&[1]);
        let rows = [failed(1, 2)];
        let refusal = repair(
            &l,
            &rows,
            &opts(|o| {
                o.mark_applied = vec![1];
                o.mark_rolled_back = vec![1];
            }),
        )
        .unwrap_err();
        assert_eq!(
            refusal,
            RepairRefusal::Conflicting {
                version: 1,
                choices: vec!["--mark-applied", "--mark-rolled-back"]
            }
        );
        assert!(
            Error::from(refusal)
                .to_string()
                .contains("choose one of --mark-applied, --mark-rolled-back")
        );
    }

    #[test]
    fn retry_needs_the_file() {
        let l = local(&[1]);
        let rows = [applied(1, "SELECT 1;"), failed(2, 1)];
        let refusal = repair(&l, &rows, &opts(|o| o.retry = vec![2])).unwrap_err();
        assert_eq!(refusal, RepairRefusal::RetryWithoutFile { version: 2 });
        assert_eq!(
            Error::from(refusal).to_string(),
            "cannot retry migration 2: its file is missing"
        );
        // the other choices work without the file
        let plan = repair(&l, &rows, &opts(|o| o.mark_rolled_back = vec![2])).unwrap();
        assert_eq!(steps(&plan), [(2, "mark_rolled_back")]);
        assert_eq!(plan.steps[0].name(), "m");
    }

    #[test]
    fn everything_at_once_in_version_order() {
        let l = local(&[1, 2, 3, 4, 5]);
        let rows = [
            applied(1, "SELECT 1; -- edited"),
            failed(2, 0),
            failed(3, 1),
            failed(4, 2),
            applied(6, "SELECT 6;"),
        ];
        let plan = repair(&l, &rows, &opts(|o| o.mark_applied = vec![4])).unwrap();
        assert_eq!(
            steps(&plan),
            [
                (1, "accept_checksum"),
                (2, "clear_failure"),
                (4, "mark_applied")
            ]
        );
        assert_eq!(
            plan.blockers
                .iter()
                .map(|b| b.version())
                .collect::<Vec<_>>(),
            [3, 6]
        );
    }

    #[test]
    fn retry_refuses_when_the_applied_statements_changed() {
        let l = local(&[1]);
        let m = l.get(1).unwrap();
        let row = failed(1, 2);
        let st = |texts: &[&str]| -> Vec<Statement> {
            texts
                .iter()
                .enumerate()
                .map(|(i, t)| Statement {
                    text: (*t).to_string(),
                    line: i + 1,
                })
                .collect()
        };
        let stored = st(&["CREATE TABLE a (id int)", "INSERT INTO a VALUES (1)", "bad"]);
        // the failing statement and those after it may change
        let fixed = st(&[
            "CREATE TABLE a (id int)",
            "INSERT INTO a VALUES (1)",
            "good",
            "more",
        ]);
        assert_eq!(check_retry(m, &row, &stored, &fixed), Ok(2));
        // the applied ones may not
        let edited = st(&[
            "CREATE TABLE a (id bigint)",
            "INSERT INTO a VALUES (1)",
            "good",
        ]);
        let refusal = check_retry(m, &row, &stored, &edited).unwrap_err();
        assert_eq!(
            Error::from(refusal).to_string(),
            "refusing to retry migration 1: the first 2 statements of 0001_m.sql differ from those that were applied"
        );
        // nor may the file lose them
        assert!(check_retry(m, &row, &stored, &st(&["CREATE TABLE a (id int)"])).is_err());
    }
}
