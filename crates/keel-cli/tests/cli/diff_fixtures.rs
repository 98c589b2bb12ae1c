//! Every case under `tests/fixtures/diff/<case>/` on every engine, through
//! the convergence proof: build `from.sql` and `to.sql` (or their
//! `from.<engine>.sql` variants) in two fresh databases, check the
//! differences and the plan against the case's recorded
//! `expected.<engine>.json` (stable ids, JSON, statements and hazards),
//! apply the `--sql --allow-destructive` plan to the TO database as a user
//! would, and diff again: nothing may be left.
//!
//! A case with a `refuses.<engine>` file expects `keel diff --sql` to refuse
//! on that engine with the reason written there.
//!
//! `KEEL_BLESS=1 cargo test -p keel-cli --test cli diff_fixtures` rewrites
//! the recorded `expected.<engine>.json` files (review the change!).

use crate::support::{Engine, TestDb};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diff")
}

fn engine_name(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
        Engine::Mysql => "mysql",
    }
}

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("fixtures/diff")
        .map(|e| e.expect("fixture entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

/// `<side>.<engine>.sql` if the case has one, else `<side>.sql`.
fn side_sql(case: &Path, side: &str, engine: Engine) -> String {
    let specific = case.join(format!("{side}.{}.sql", engine_name(engine)));
    let path = if specific.exists() {
        specific
    } else {
        case.join(format!("{side}.sql"))
    };
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs a script the way the engine's own client would.
fn apply(db: &TestDb, sql: &str) {
    match db.engine {
        Engine::Sqlite => {
            let path = db.url.trim_start_matches("sqlite:");
            let conn = rusqlite::Connection::open(path).expect("open sqlite");
            conn.execute_batch(sql)
                .unwrap_or_else(|e| panic!("{e}\n{sql}"));
        }
        Engine::Postgres => {
            db.query(sql);
        }
        Engine::Mysql => {
            // the mysql client's way: one statement at a time, comments skipped
            for statement in sql.split(";\n") {
                let code: Vec<&str> = statement
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("--") && !l.trim().is_empty())
                    .collect();
                if !code.is_empty() {
                    db.query(code.join("\n").trim_end_matches(';'));
                }
            }
        }
    }
}

/// What the recorded file holds: differences, and the plan's steps and
/// omissions.
fn recorded(diff: &Value, plan: &Value) -> Value {
    json!({
        "differences": diff["differences"],
        "steps": plan["plan"]["steps"],
        "omitted": plan["plan"]["omitted"],
    })
}

fn run_case(case: &Path, engine: Engine) {
    let name = case.file_name().and_then(|n| n.to_str()).unwrap_or("case");
    let from = TestDb::new(engine, &format!("fx_{name}_f"));
    let to = TestDb::new(engine, &format!("fx_{name}_t"));
    apply(&from, &side_sql(case, "from", engine));
    apply(&to, &side_sql(case, "to", engine));
    let (code, diff) = to.keel_json(&["diff", &from.url, &to.url]);
    assert_eq!(code, Some(1), "{name}: the sides differ:\n{diff}");
    let refusal = case.join(format!("refuses.{}", engine_name(engine)));
    if refusal.exists() {
        let reason = std::fs::read_to_string(&refusal).expect("refusal reason");
        let out = to
            .keel()
            .args(["diff", &from.url, &to.url, "--sql"])
            .output()
            .expect("run keel");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: refused:\n{stderr}");
        assert!(
            stderr.contains(reason.trim()),
            "{name}: refusal names its reason `{}`:\n{stderr}",
            reason.trim()
        );
        return;
    }
    let args = ["diff", &from.url, &to.url, "--sql", "--allow-destructive"];
    let (code, plan) = to.keel_json(&args);
    assert_eq!(code, Some(1), "{name}:\n{plan}");
    assert_eq!(plan["plan"]["verified"], true, "{name}:\n{plan}");
    let got = recorded(&diff, &plan);
    let file = case.join(format!("expected.{}.json", engine_name(engine)));
    if std::env::var_os("KEEL_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&got).expect("json") + "\n";
        std::fs::write(&file, text).expect("write expected");
    } else {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{}: {e} (run with KEEL_BLESS=1)", file.display()));
        let want: Value = serde_json::from_str(&text).expect("expected json");
        assert_eq!(
            got,
            want,
            "{name} on {}: differences or plan changed:\n{}",
            engine_name(engine),
            serde_json::to_string_pretty(&got).unwrap_or_default()
        );
    }
    let sql = plan["plan"]["sql"].as_str().unwrap_or_default().to_string();
    apply(&to, &sql);
    let (code, after) = to.keel_json(&["diff", &from.url, &to.url]);
    assert_eq!(
        code,
        Some(0),
        "{name} on {}: the applied plan converges:\n{after}\n{sql}",
        engine_name(engine)
    );
}

fn every_case(engine: Engine) {
    let cases = cases();
    assert!(cases.len() >= 8, "{} cases", cases.len());
    // every case runs, and the failures are reported together
    let failed: Vec<String> = cases
        .iter()
        .filter(|case| std::panic::catch_unwind(|| run_case(case, engine)).is_err())
        .map(|case| case.display().to_string())
        .collect();
    assert!(failed.is_empty(), "failing cases: {failed:?}");
}

#[test]
fn diff_fixtures_converge_on_sqlite() {
    every_case(Engine::Sqlite);
}

#[test]
fn diff_fixtures_converge_on_postgres() {
    every_case(Engine::Postgres);
}

#[test]
fn diff_fixtures_converge_on_mysql() {
    every_case(Engine::Mysql);
}
