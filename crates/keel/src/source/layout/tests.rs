//! Each layout read from a small folder written from its tool's documentation.

use crate::error::Error;
use crate::source::{Layout, Migrations};
use crate::{Dialect, source::SqlFile};

fn load(files: &[(&str, &str)], layout: Option<Layout>) -> Result<Migrations, Error> {
    let files = files
        .iter()
        .map(|(n, b)| (n.to_string(), b.as_bytes().to_vec()))
        .collect();
    Migrations::from_files_as("t".into(), files, layout)
}

fn ok(files: &[(&str, &str)]) -> Migrations {
    match load(files, None) {
        Ok(m) => m,
        Err(e) => panic!("expected a valid folder, got {e:?}"),
    }
}

fn problems(files: &[(&str, &str)], layout: Option<Layout>) -> String {
    match load(files, layout) {
        Err(Error::InvalidMigrations { problems, .. }) => format!("{problems:?}"),
        other => panic!("expected invalid migrations, got {other:?}"),
    }
}

fn texts(f: &SqlFile) -> Vec<String> {
    f.statements(Dialect::Postgres)
        .into_iter()
        .map(|s| s.text)
        .collect()
}

#[test]
fn diesel_folders_with_version_zero_metadata_and_an_empty_down() {
    let m = ok(&[
        (
            "00000000000000_diesel_initial_setup/up.sql",
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n",
        ),
        (
            "00000000000000_diesel_initial_setup/down.sql",
            "DROP FUNCTION f();\n",
        ),
        (
            "2023-01-02-030405_create_posts/up.sql",
            "CREATE TABLE posts (id int);\n",
        ),
        (
            "2023-01-02-030405_create_posts/down.sql",
            "-- This file should undo anything in `up.sql`\n",
        ),
        (
            "2023-02-01-000000_index/up.sql",
            "CREATE INDEX CONCURRENTLY i ON posts (id);\n",
        ),
        (
            "2023-02-01-000000_index/metadata.toml",
            "run_in_transaction = false\n",
        ),
        (".keep", ""),
    ]);
    assert_eq!(m.layout, Layout::Diesel);
    let v: Vec<i64> = m.iter().map(|m| m.version).collect();
    assert_eq!(v, [0, 20230102030405, 20230201000000]);
    let posts = m.get(20230102030405).unwrap();
    assert!(posts.down.is_none());
    assert_eq!(
        posts.irreversible.as_deref(),
        Some("2023-01-02-030405_create_posts/down.sql")
    );
    assert!(m.get(20230201000000).unwrap().up.directives.no_transaction);
    assert!(!m.get(0).unwrap().up.directives.no_transaction);
}

#[test]
fn sqlx_no_transaction_first_line() {
    let m = ok(&[
        ("20240101000000_init.sql", "CREATE TABLE a (id int);\n"),
        (
            "20240102000000_idx.sql",
            "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON a (id);\n",
        ),
    ]);
    assert_eq!(m.layout, Layout::Sqlx);
    assert!(m.get(20240102000000).unwrap().up.directives.no_transaction);
    assert!(!m.get(20240101000000).unwrap().up.directives.no_transaction);
}

#[test]
fn dbmate_sections_and_transaction_false() {
    // https://github.com/amacneil/dbmate#creating-migrations
    let m = ok(&[
        (
            "20200101000000_users.sql",
            "-- migrate:up\nCREATE TABLE users (id int);\n\n-- migrate:down\nDROP TABLE users;\n",
        ),
        (
            "20200102000000_idx.sql",
            "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON users (id);\n\n-- migrate:down\n",
        ),
    ]);
    assert_eq!(m.layout, Layout::Dbmate);
    let users = m.get(20200101000000).unwrap();
    assert_eq!(texts(&users.up), ["CREATE TABLE users (id int)"]);
    assert_eq!(texts(users.down.as_ref().unwrap()), ["DROP TABLE users"]);
    let idx = m.get(20200102000000).unwrap();
    assert!(idx.up.directives.no_transaction);
    assert!(idx.down.is_none() && idx.irreversible.is_some());
    // the up statement keeps its line in the file
    assert_eq!(idx.up.statements(Dialect::Postgres)[0].line, 2);
}

#[test]
fn goose_statement_blocks_are_one_statement() {
    // https://pressly.github.io/goose/documentation/annotations/
    let body = "-- +goose Up\nCREATE TABLE t (id int);\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\n-- +goose StatementEnd\nINSERT INTO t VALUES (1);\n\n-- +goose Down\nDROP TABLE t;\n";
    let m = ok(&[
        ("00001_t.sql", body),
        (
            "00002_idx.sql",
            "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (id);\n",
        ),
    ]);
    assert_eq!(m.layout, Layout::Goose);
    let t = m.get(1).unwrap();
    let s = t.up.statements(Dialect::Postgres);
    assert_eq!(s.len(), 3, "{s:#?}");
    assert!(s[1].text.starts_with("CREATE FUNCTION") && s[1].text.ends_with("plpgsql"));
    assert_eq!(s[1].line, 4);
    assert_eq!(s[2].text, "INSERT INTO t VALUES (1)");
    assert!(m.get(2).unwrap().up.directives.no_transaction);
    assert!(m.get(2).unwrap().down.is_none());
}

#[test]
fn flyway_dotted_versions_keep_their_order() {
    // https://documentation.red-gate.com/fd/migrations-184127470.html
    let m = ok(&[
        ("V1__init.sql", "CREATE TABLE a (id int);\n"),
        ("V1.1__more.sql", "CREATE TABLE b (id int);\n"),
        ("V1.10__later.sql", "CREATE TABLE c (id int);\n"),
        ("V2__two.sql", "CREATE TABLE d (id int);\n"),
        ("U2__two.sql", "DROP TABLE d;\n"),
    ]);
    assert_eq!(m.layout, Layout::Flyway);
    let v: Vec<i64> = m.iter().map(|m| m.version).collect();
    assert_eq!(
        v,
        [1_000_000_000, 1_001_000_000, 1_010_000_000, 2_000_000_000]
    );
    assert!(m.get(2_000_000_000).unwrap().down.is_some());
    let plain = ok(&[("V1__a.sql", "SELECT 1;"), ("V20__b.sql", "SELECT 2;")]);
    assert_eq!(plain.iter().map(|m| m.version).collect::<Vec<_>>(), [1, 20]);
    assert!(
        problems(
            &[("V1__a.sql", "SELECT 1;"), ("V1.0__b.sql", "SELECT 2;")],
            None
        )
        .contains("duplicate version")
    );
}

#[test]
fn golang_migrate_down_optional_when_forced() {
    let files = [
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("2_b.up.sql", "CREATE TABLE b (id int);"),
        ("2_b.down.sql", "DROP TABLE b;"),
    ];
    let m = load(&files, Some(Layout::GolangMigrate)).unwrap();
    assert!(m.get(1).unwrap().down.is_none());
    // detected too: every name is .up/.down and an up lacks its down
    let m = ok(&files);
    assert!(m.get(1).unwrap().down.is_none());
    assert!(m.get(1).unwrap().up.directives.as_written);
    // a plain <V>_<name>.sql beside them makes it keel's own layout, which
    // wants the pair
    let mut keel = files.to_vec();
    keel.push(("3_c.sql", "SELECT 1;"));
    assert!(problems(&keel, None).contains("up file without its down file"));
}

#[test]
fn mixed_and_unreadable_folders_are_errors_naming_files() {
    let p = problems(
        &[("V1__init.sql", "SELECT 1;"), ("2_two.sql", "SELECT 2;")],
        None,
    );
    assert!(
        p.contains("mixes migration layouts")
            && p.contains("V1__init.sql")
            && p.contains("2_two.sql"),
        "{p}"
    );
    let p = problems(
        &[
            ("1_a.sql", "-- migrate:up\nSELECT 1;\n"),
            ("2_b.sql", "-- +goose Up\nSELECT 2;\n"),
        ],
        None,
    );
    assert!(p.contains("dbmate") && p.contains("goose"), "{p}");
    for (file, expected) in [
        ("versions/1a2b_add.py", "Alembic"),
        ("1a2b3c4d5e6f_add_users.py", "Alembic"),
        ("20200101000000_create_users.rb", "Rails"),
        ("custom/up.sql", "custom/up.sql"),
        ("stuff/schema.sql", "subfolder"),
    ] {
        let p = problems(&[(file, "revision = '1a2b'\nSELECT 1;\n")], None);
        assert!(p.contains(expected), "{file}: {p}");
    }
    // a forced layout refuses another tool's files instead of misreading them
    let p = problems(
        &[(
            "1_a.sql",
            "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n",
        )],
        Some(Layout::Keel),
    );
    assert!(p.contains("looks like a dbmate migration"), "{p}");
    let p = problems(
        &[("1_a.sql", "-- no-transaction\nSELECT 1;\n")],
        Some(Layout::Keel),
    );
    assert!(p.contains("-- no-transaction"), "{p}");
}

#[test]
fn keel_layout_empty_down_is_not_reversible_but_empty_up_is_an_error() {
    let m = ok(&[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("1_a.down.sql", "-- nothing to undo\n"),
    ]);
    assert_eq!(m.layout, Layout::Keel);
    assert_eq!(
        m.get(1).unwrap().irreversible.as_deref(),
        Some("1_a.down.sql")
    );
    assert!(problems(&[("1_a.sql", "-- todo\n")], None).contains("contains no SQL statement"));
    assert!(problems(&[("0_a.sql", "SELECT 1;")], None).contains("version 0"));
}

#[test]
fn repeatables_run_after_versioned_ones_and_again_when_changed() {
    use crate::plan::{self, State, Target};
    use crate::tracking::{AppliedMigration, Method};
    let load_with = |view: &str| {
        ok(&[
            ("1_a.sql", "CREATE TABLE a (id int);"),
            ("2_b.sql", "CREATE TABLE b (id int);"),
            ("R__view.sql", view),
        ])
    };
    let m = load_with("CREATE VIEW v AS SELECT 1;");
    let r = m.iter().find(|m| m.is_repeatable()).unwrap();
    assert_eq!(r.version, crate::source::repeatable_version("view"));
    assert!(r.version < 0);
    let order: Vec<i64> = plan::up(&m, &[], Target::Latest, false)
        .unwrap()
        .iter()
        .map(|m| m.version)
        .collect();
    assert_eq!(order, [1, 2, r.version], "repeatables last");
    let row = |m: &crate::source::Migration| AppliedMigration {
        version: m.version,
        name: m.name.clone(),
        checksum: m.up.checksum.clone(),
        checksum_algorithm: crate::source::checksum::ALGORITHM.into(),
        applied_at: "2024-01-01T00:00:00Z".into(),
        duration_ms: 0,
        success: true,
        error: None,
        failed_statement_index: None,
        failed_statement: None,
        statements_total: 1,
        statements_applied: 1,
        applied_by: "t".into(),
        keel_version: "t".into(),
        method: Method::Run,
        revert: None,
    };
    let applied: Vec<AppliedMigration> = m.iter().map(row).collect();
    assert!(
        plan::up(&m, &applied, Target::Latest, false)
            .unwrap()
            .is_empty()
    );
    // the view changed: only it runs again, and nothing is "modified"
    let changed = load_with("CREATE VIEW v AS SELECT 2;");
    let states = plan::status(&changed, &applied);
    assert!(
        states
            .iter()
            .all(|e| e.version >= 0 && e.state == State::Applied
                || e.version < 0 && e.state == State::Pending),
        "{states:#?}"
    );
    let again = plan::up(&changed, &applied, Target::Latest, false).unwrap();
    assert_eq!(again.len(), 1);
    assert!(again[0].is_repeatable());
    // never reverted
    let down = plan::down(&changed, &applied, crate::plan::DownTarget::Version(0));
    assert!(down.is_err() || down.unwrap().iter().all(|m| !m.is_repeatable()));
}

#[test]
fn keel_directives_hold_in_every_layout_and_are_never_lost() {
    // inside a dbmate or goose section, in a Flyway file
    let m = ok(&[(
        "20200101000000_idx.sql",
        "-- migrate:up\n-- keel:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (id);\n",
    )]);
    assert!(m.get(20200101000000).unwrap().up.directives.no_transaction);
    let m = ok(&[(
        "00001_idx.sql",
        "-- +goose Up\n-- keel:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (id);\n",
    )]);
    assert!(m.get(1).unwrap().up.directives.no_transaction);
    let m = ok(&[(
        "V1__idx.sql",
        "-- KEEL: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (id);\n",
    )]);
    assert!(m.get(1).unwrap().up.directives.no_transaction);
    // before the first section it applies to none: an error, not lost
    let p = problems(
        &[(
            "20200101000000_idx.sql",
            "-- keel:no-transaction\n-- migrate:up\nCREATE INDEX CONCURRENTLY i ON t (id);\n",
        )],
        None,
    );
    assert!(
        p.contains("applies to no section") && p.contains("line: Some(1)"),
        "{p}"
    );
    let p = problems(
        &[(
            "00001_idx.sql",
            "-- keel:no-transaction\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (id);\n",
        )],
        None,
    );
    assert!(p.contains("applies to no section"), "{p}");
    // and a typo in a foreign layout is an error too
    let p = problems(
        &[("V1__idx.sql", "-- keel:no-transacton\nSELECT 1;\n")],
        None,
    );
    assert!(p.contains("unknown directive"), "{p}");
}

#[test]
fn flyway_placeholders_are_refused_not_run_as_text() {
    let p = problems(
        &[
            ("V1__t.sql", "CREATE TABLE t (v text);\n"),
            (
                "V2__data.sql",
                "-- seed\nINSERT INTO ${flyway:defaultSchema}.t VALUES ('${who}');\n",
            ),
        ],
        None,
    );
    assert!(
        p.contains("V2__data.sql")
            && p.contains("line: Some(2)")
            && p.contains("${flyway:defaultSchema}"),
        "{p}"
    );
    // a dollar-quoted body or `$1` is no placeholder
    ok(&[(
        "V1__f.sql",
        "CREATE FUNCTION f(int) RETURNS int AS $$ SELECT $1 $$ LANGUAGE sql;\nSELECT '${';\n",
    )]);
    // replacement off: the text is meant literally
    let m = ok(&[
        ("V1__data.sql", "SELECT '${who}';\n"),
        ("flyway.conf", "flyway.placeholderReplacement = false\n"),
    ]);
    assert!(m.get(1).is_some());
}
