//! Snapshots of what a person sees: the human (text) output of every
//! command on SQLite — exit code, stdout and stderr — so a change of
//! wording, layout or exit status shows up in review. Temp paths,
//! timestamps, timestamp versions, durations, user@host and keel's version
//! are filtered out, so the snapshots hold on any machine and any run.
//!
//! To accept intended changes: `INSTA_UPDATE=always cargo test -p keel-cli
//! --test cli snapshots_sqlite`, then review the `.snap` files' diff.

use crate::support::{Engine, TestDb};

/// Escapes a literal for a filter's regex.
fn literal(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Runs one command and asserts its output against the snapshot `name`.
fn snap(db: &TestDb, name: &str, args: &[&str]) {
    let out = db.keel().args(args).output().expect("run keel");
    let text = format!(
        "$ keel {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status
            .code()
            .map_or("killed".to_string(), |c| c.to_string()),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let mut dirs = vec![db.path().display().to_string()];
    if let Ok(real) = db.path().canonicalize() {
        dirs.push(real.display().to_string());
    }
    dirs.sort_by_key(|d| std::cmp::Reverse(d.len()));
    for d in dirs {
        settings.add_filter(&literal(&d), "[TMP]");
    }
    settings.add_filter(
        r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?",
        "[TIME]",
    );
    // `keel new` versions files by the UTC time
    settings.add_filter(r"\b\d{14}_", "[VERSION]_");
    settings.add_filter(r"\b\d+(\.\d+)? ?ms\b", "[N] ms");
    settings.add_filter(r"\b(run|stamp|repair) by \S+@\S+", "$1 by [USER]@[HOST]");
    settings.add_filter(
        &format!(r"\bkeel {}\b", literal(env!("CARGO_PKG_VERSION"))),
        "keel [KEEL_VERSION]",
    );
    settings.bind(|| insta::assert_snapshot!(name, text));
}

fn sqlite(test: &str) -> TestDb {
    TestDb::new(Engine::Sqlite, test)
}

#[test]
fn init_new_and_an_invalid_folder() {
    let db = sqlite("snap_init");
    std::fs::remove_dir(db.migrations()).expect("remove migrations/");
    snap(&db, "init", &["init"]);
    snap(&db, "init_again", &["init"]);
    snap(&db, "new", &["new", "create", "user"]);
    snap(&db, "new_reversible", &["new", "add_case", "--reversible"]);
    // the new files hold no SQL yet: an error naming each, never "up to date"
    snap(&db, "error_invalid_folder", &["status"]);
}

fn write_lifecycle(db: &TestDb) {
    db.write(
        "0001_user.sql",
        "CREATE TABLE \"user\" (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);\n",
    );
    db.write(
        "0002_case.up.sql",
        "CREATE TABLE \"case\" (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES \"user\" (id));\nCREATE INDEX case_user ON \"case\" (user_id);\n",
    );
    db.write("0002_case.down.sql", "DROP TABLE \"case\";\n");
}

#[test]
fn lifecycle_on_a_clean_database() {
    let db = sqlite("snap_lifecycle");
    write_lifecycle(&db);
    // a command that only reads creates no database file
    snap(&db, "status_no_database_file", &["status"]);
    std::fs::File::create(db.path().join("test.db")).expect("empty database");
    snap(&db, "status_pending", &["status"]);
    snap(&db, "up_dry_run", &["up", "--dry-run"]);
    snap(&db, "up", &["up"]);
    snap(&db, "up_up_to_date", &["up"]);
    snap(&db, "status_clean", &["status"]);
    snap(&db, "history", &["history"]);
    snap(&db, "check_clean", &["check"]);
    snap(&db, "sequences_clean", &["sequences"]);
    snap(&db, "diff_clean", &["diff", "migrations"]);
    snap(&db, "down_dry_run", &["down", "--dry-run"]);
    snap(&db, "down", &["down"]);
    snap(&db, "stamp", &["stamp", "2"]);
    snap(&db, "history_after_stamp", &["history"]);
}

#[test]
fn drift_and_sequence_trouble() {
    let db = sqlite("snap_drift");
    write_lifecycle(&db);
    db.keel().arg("up").assert().success();
    // a column added by hand, and ids imported past the AUTOINCREMENT counter
    db.query("ALTER TABLE \"user\" ADD COLUMN email TEXT");
    db.query("INSERT INTO \"user\" (id, name) VALUES (41, 'a'), (42, 'b')");
    db.query("UPDATE sqlite_sequence SET seq = 3 WHERE name = 'user'");
    snap(&db, "diff_drift", &["diff", "migrations"]);
    snap(&db, "diff_drift_sql", &["diff", "migrations", "--sql"]);
    snap(&db, "sequences_behind", &["sequences"]);
    snap(&db, "check_problems", &["check"]);
    snap(&db, "sequences_fix", &["sequences", "--fix"]);
    snap(&db, "sequences_after_fix", &["sequences"]);
}

#[test]
fn modified_missing_and_failed_migrations_and_their_repair() {
    let db = sqlite("snap_states");
    db.write("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
    db.write("0002_b.sql", "CREATE TABLE b (id INTEGER);\n");
    db.keel().arg("up").assert().success();

    db.write("0001_a.sql", "CREATE TABLE a (id INTEGER, note TEXT);\n");
    snap(&db, "status_modified", &["status"]);
    snap(&db, "up_refused_modified", &["up"]);
    snap(&db, "repair_dry_run", &["repair", "--dry-run"]);
    snap(&db, "repair_accept_checksum", &["repair"]);

    db.remove("0002_b.sql");
    snap(&db, "status_missing", &["status"]);
    snap(&db, "repair_missing", &["repair"]);
    snap(
        &db,
        "repair_forget_missing",
        &["repair", "--forget-missing"],
    );

    db.write(
        "0003_c.sql",
        "CREATE TABLE c (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\n",
    );
    snap(&db, "error_migration_failed", &["up"]);
    snap(&db, "status_failed", &["status"]);
    snap(&db, "history_failed", &["history"]);
    snap(
        &db,
        "repair_choice_without_failure",
        &["repair", "--retry", "1"],
    );
    snap(&db, "repair_clear_failure", &["repair"]);
    snap(&db, "repair_nothing", &["repair"]);
}

/// A `no-transaction` migration whose third statement fails after two
/// stayed applied.
fn partial_failure(test: &str) -> TestDb {
    let db = sqlite(test);
    db.write(
        "0001_partial.sql",
        "-- keel:no-transaction\nCREATE TABLE a (id INTEGER);\nCREATE TABLE b (id INTEGER);\nINSERT INTO missing VALUES (1);\nCREATE TABLE c (id INTEGER);\n",
    );
    db.keel().arg("up").assert().code(2);
    db
}

#[test]
fn partial_failure_and_each_choice() {
    let db = partial_failure("snap_partial_retry");
    snap(&db, "status_partial", &["status"]);
    snap(&db, "repair_partial", &["repair"]);
    snap(
        &db,
        "repair_conflicting_choices",
        &["repair", "--mark-applied", "1", "--mark-rolled-back", "1"],
    );
    snap(
        &db,
        "repair_retry_dry_run",
        &["repair", "--retry", "1", "--dry-run"],
    );
    // editing an applied statement is refused; fixing the failing one is not
    db.write(
        "0001_partial.sql",
        "-- keel:no-transaction\nCREATE TABLE a (id BIGINT);\nCREATE TABLE b (id INTEGER);\nCREATE TABLE missing (id INTEGER);\nCREATE TABLE c (id INTEGER);\n",
    );
    snap(&db, "repair_retry_changed", &["repair", "--retry", "1"]);
    snap(
        &db,
        "repair_retry_changed_dry_run",
        &["repair", "--retry", "1", "--dry-run"],
    );
    db.write(
        "0001_partial.sql",
        "-- keel:no-transaction\nCREATE TABLE a (id INTEGER);\nCREATE TABLE b (id INTEGER);\nCREATE TABLE missing (id INTEGER);\nCREATE TABLE c (id INTEGER);\n",
    );
    snap(&db, "repair_retry", &["repair", "--retry", "1"]);
    snap(&db, "status_after_retry", &["status"]);

    let db = partial_failure("snap_partial_applied");
    snap(
        &db,
        "repair_mark_applied",
        &["repair", "--mark-applied", "1"],
    );
    snap(&db, "history_mark_applied", &["history"]);

    let db = partial_failure("snap_partial_rolled_back");
    snap(
        &db,
        "repair_mark_rolled_back",
        &["repair", "--mark-rolled-back", "1"],
    );
    snap(&db, "status_after_rolled_back", &["status"]);
}
