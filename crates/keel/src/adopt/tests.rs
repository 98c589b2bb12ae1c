//! The pure part of adopt: which rows, verified how, refused when.

use super::tools::{Entry, History, Key, Recorded, Tool};
use super::{Verified, plan};
use crate::Dialect;
use crate::error::Error;
use crate::source::{Layout, Migration, Migrations};

fn folder(files: &[(&str, &str)], layout: Layout) -> Migrations {
    let files = files
        .iter()
        .map(|(n, b)| (n.to_string(), b.as_bytes().to_vec()))
        .collect();
    Migrations::from_files_as("t".into(), files, Some(layout)).unwrap()
}

fn entry(key: Key, original: &str) -> Entry {
    Entry {
        key,
        original: original.into(),
        up_to: false,
        applied_at: Some("2024-05-01T00:00:00.000Z".into()),
        duration_ms: None,
        user: None,
        success: true,
        failure: None,
        checksum: None,
    }
}

fn history(tool: Tool, entries: Vec<Entry>) -> History {
    History {
        tool,
        table: tool.table().into(),
        entries,
        notes: Vec::new(),
    }
}

fn bytes_of(
    files: &'static [(&'static str, &'static str)],
) -> impl Fn(&Migration) -> Option<Vec<u8>> {
    move |m: &Migration| {
        files
            .iter()
            .find(|(n, _)| *n == m.up.file)
            .map(|(_, b)| b.as_bytes().to_vec())
    }
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    super::read::hex(&Sha256::digest(b))
}

#[test]
fn prisma_checksums_and_an_unfinished_migration() {
    // https://www.prisma.io/docs/orm/prisma-migrate/understanding-prisma-migrate/migration-histories
    static FILES: &[(&str, &str)] = &[
        (
            "20240101000000_init/migration.sql",
            "CREATE TABLE a (id int);\n",
        ),
        (
            "20240102000000_more/migration.sql",
            "CREATE TABLE b (id int);\n",
        ),
        ("migration_lock.toml", "provider = \"postgresql\"\n"),
    ];
    let m = folder(FILES, Layout::Prisma);
    let mut init = entry(
        Key::Folder("20240101000000_init".into()),
        "20240101000000_init",
    );
    init.checksum = Some(Recorded::Prisma(sha256_hex(FILES[0].1.as_bytes())));
    let mut more = entry(
        Key::Folder("20240102000000_more".into()),
        "20240102000000_more",
    );
    more.success = false;
    more.failure = Some("Prisma never finished it".into());
    let h = history(Tool::Prisma, vec![init.clone(), more]);
    let p = plan(&m, &h, &[], &bytes_of(FILES), Dialect::Postgres).unwrap();
    assert_eq!(p.imported[0].verified, Verified::Checksum);
    assert!(p.records[0].success);
    assert!(
        !p.records[1].success,
        "an unfinished one is a failure, never applied"
    );
    // in doubt: the tool says it did not finish, not how far it got
    assert_eq!(p.records[1].error, None);
    assert_eq!(p.records[1].failed_statement_index, Some(1));
    assert!(
        p.imported[1]
            .error
            .as_deref()
            .unwrap()
            .contains("keel repair")
    );

    // edited since: refused, naming the file
    init.checksum = Some(Recorded::Prisma(sha256_hex(
        b"CREATE TABLE a (id bigint);\n",
    )));
    match plan(
        &m,
        &history(Tool::Prisma, vec![init]),
        &[],
        &bytes_of(FILES),
        Dialect::Postgres,
    ) {
        Err(Error::Refused { problems, .. }) => {
            assert!(
                problems[0].contains("20240101000000_init/migration.sql was edited"),
                "{problems:?}"
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn alembic_revision_maps_like_stamp_without_verifying() {
    static FILES: &[(&str, &str)] = &[
        ("0001_1a2b3c_create.sql", "CREATE TABLE a (id int);"),
        ("0002_4d5e6f_more.sql", "CREATE TABLE b (id int);"),
        ("0003_7a8b9c_later.sql", "CREATE TABLE c (id int);"),
    ];
    let m = folder(FILES, Layout::Keel);
    let mut head = entry(Key::Revision("4d5e6f".into()), "4d5e6f");
    head.up_to = true;
    let p = plan(
        &m,
        &history(Tool::Alembic, vec![head]),
        &[],
        &bytes_of(FILES),
        Dialect::Postgres,
    )
    .unwrap();
    let versions: Vec<i64> = p.records.iter().map(|r| r.version).collect();
    assert_eq!(versions, [1, 2]);
    assert!(
        p.imported
            .iter()
            .all(|i| i.verified == Verified::VersionOnly)
    );
    assert!(p.notes.iter().any(|n| n.contains("could not verify")));

    let mut unknown = entry(Key::Revision("ffffff".into()), "ffffff");
    unknown.up_to = true;
    let err = plan(
        &m,
        &history(Tool::Alembic, vec![unknown]),
        &[],
        &bytes_of(FILES),
        Dialect::Postgres,
    )
    .unwrap_err();
    assert!(err.to_string().contains("ffffff"), "{err}");
}

#[test]
fn an_entry_without_its_file_refuses_and_tracked_versions_are_left_alone() {
    static FILES: &[(&str, &str)] = &[("1_a.sql", "CREATE TABLE a (id int);")];
    let m = folder(FILES, Layout::Keel);
    let h = history(
        Tool::Dbmate,
        vec![entry(Key::Version(1), "1"), entry(Key::Version(9), "9")],
    );
    let err = plan(&m, &h, &[], &bytes_of(FILES), Dialect::Postgres).unwrap_err();
    assert!(err.to_string().contains("recorded 9"), "{err}");

    let h = history(Tool::Dbmate, vec![entry(Key::Version(1), "1")]);
    let first = plan(&m, &h, &[], &bytes_of(FILES), Dialect::Postgres).unwrap();
    assert_eq!(first.records.len(), 1);
    assert_eq!(
        first.records[0].applied_at.as_deref(),
        Some("2024-05-01T00:00:00.000Z")
    );
    assert_eq!(first.records[0].method, crate::tracking::Method::Adopt);
    assert!(first.records[0].applied_by.contains("dbmate"));
    let applied = vec![crate::tracking::AppliedMigration {
        version: 1,
        name: "a".into(),
        checksum: m.get(1).unwrap().up.checksum.clone(),
        checksum_algorithm: crate::source::checksum::ALGORITHM.into(),
        applied_at: "x".into(),
        duration_ms: 0,
        success: true,
        error: None,
        failed_statement_index: None,
        failed_statement: None,
        statements_total: 1,
        statements_applied: 1,
        applied_by: "x".into(),
        keel_version: "x".into(),
        method: crate::tracking::Method::Run,
        revert: None,
    }];
    let second = plan(&m, &h, &applied, &bytes_of(FILES), Dialect::Postgres).unwrap();
    assert!(second.records.is_empty());
    assert_eq!(second.already_tracked, [1]);
}

#[test]
fn a_dirty_golang_migrate_version_and_a_flyway_baseline() {
    static FILES: &[(&str, &str)] = &[
        ("1_a.up.sql", "CREATE TABLE a (id int);"),
        ("2_b.up.sql", "CREATE TABLE b (id int);"),
        ("3_c.up.sql", "CREATE TABLE c (id int);"),
    ];
    let m = folder(FILES, Layout::GolangMigrate);
    let mut dirty = entry(Key::Version(2), "2");
    dirty.up_to = true;
    dirty.success = false;
    dirty.failure = Some("dirty".into());
    let p = plan(
        &m,
        &history(Tool::GolangMigrate, vec![dirty]),
        &[],
        &bytes_of(FILES),
        Dialect::Postgres,
    )
    .unwrap();
    let got: Vec<(i64, bool)> = p.records.iter().map(|r| (r.version, r.success)).collect();
    assert_eq!(
        got,
        [(1, true), (2, false)],
        "below the dirty version applied, it failed"
    );

    static FLYWAY: &[(&str, &str)] = &[
        ("V1__a.sql", "CREATE TABLE a (id int);"),
        ("V1.1__b.sql", "CREATE TABLE b (id int);"),
        ("V2__c.sql", "CREATE TABLE c (id int);"),
    ];
    let m = folder(FLYWAY, Layout::Flyway);
    let mut baseline = entry(Key::FlywayVersion("1.1".into()), "1.1");
    baseline.up_to = true;
    let p = plan(
        &m,
        &history(Tool::Flyway, vec![baseline]),
        &[],
        &bytes_of(FLYWAY),
        Dialect::Postgres,
    )
    .unwrap();
    let got: Vec<i64> = p.records.iter().map(|r| r.version).collect();
    assert_eq!(
        got,
        [1_000_000_000, 1_001_000_000],
        "a baseline marks what is below it"
    );
    assert!(
        p.records
            .iter()
            .all(|r| r.success && r.applied_at.is_none())
    );
}
