//! The library's start-up call: embedded migrations applied once, and an
//! error (so the application refuses to start) when one fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

static GOOD: &[keel::EmbeddedFile] = keel::embed_migrations!("tests/fixtures/good");
static FAILING: &[keel::EmbeddedFile] = keel::embed_migrations!("tests/fixtures/failing");

fn url(dir: &tempfile::TempDir) -> String {
    format!("sqlite:{}", dir.path().join("app.db").display())
}

#[tokio::test(flavor = "current_thread")]
async fn migrate_applies_embedded_migrations_once() {
    let dir = tempfile::tempdir().unwrap();
    let report = keel::migrate(&url(&dir), GOOD).await.unwrap();
    assert_eq!(
        report.steps.iter().map(|s| s.version).collect::<Vec<_>>(),
        [1, 2]
    );
    let again = keel::migrate(&url(&dir), GOOD).await.unwrap();
    assert!(again.up_to_date());
}

#[tokio::test(flavor = "current_thread")]
async fn migrate_fails_so_the_app_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let err = keel::migrate(&url(&dir), FAILING).await.unwrap_err();
    assert_eq!(err.kind(), keel::ErrorKind::MigrationFailed);
    let keel::Error::MigrationFailed(f) = &err else {
        unreachable!()
    };
    assert_eq!(
        (f.version, f.statement_index, f.file.as_str()),
        (2, 2, "0002_broken.sql")
    );
    assert!(f.rolled_back);
    // and it stays refused until someone repairs it
    let again = keel::migrate(&url(&dir), FAILING).await.unwrap_err();
    assert_eq!(again.kind(), keel::ErrorKind::Refused);
}
