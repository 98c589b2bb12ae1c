//! `keel copy` and `keel validate`, SQLite to PostgreSQL: incident 1
//! reproduced and checked as the application role, awkward values arriving
//! intact or refused before anything is written.

use crate::support::{Engine, PgRole, TestDb};
use rusqlite::Connection;

pub(crate) fn sqlite(db: &TestDb, sql: &str) -> String {
    let path = db.path().join("source.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(sql).unwrap();
    path.display().to_string()
}

/// Incident 1: a Flask app's SQLite file, 16 tables, `user` and `case`
/// among them, foreign keys, id gaps, deleted tail rows, an AUTOINCREMENT
/// table whose rows were all deleted and one never used.
pub(crate) const INCIDENT_1: &str = r#"
CREATE TABLE "user" (id INTEGER PRIMARY KEY AUTOINCREMENT, username VARCHAR(80) NOT NULL UNIQUE, is_active BOOLEAN NOT NULL DEFAULT 1, created_at DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE "case" (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(200) NOT NULL, created_by INTEGER REFERENCES "user"(id), created_at DATETIME);
CREATE TABLE case_file (id INTEGER PRIMARY KEY AUTOINCREMENT, case_id INTEGER NOT NULL REFERENCES "case"(id) ON DELETE CASCADE, size INTEGER, sha BLOB, score REAL);
CREATE TABLE ioc (id INTEGER PRIMARY KEY AUTOINCREMENT, case_id INTEGER NOT NULL REFERENCES "case"(id), value TEXT NOT NULL, confidence REAL);
CREATE TABLE ioc_match (id INTEGER PRIMARY KEY AUTOINCREMENT, ioc_id INTEGER NOT NULL REFERENCES ioc(id), at DATETIME);
CREATE TABLE system (id INTEGER PRIMARY KEY AUTOINCREMENT, case_id INTEGER REFERENCES "case"(id), name VARCHAR(255) NOT NULL);
CREATE TABLE skipped_file (id INTEGER PRIMARY KEY AUTOINCREMENT, case_id INTEGER REFERENCES "case"(id), reason VARCHAR(100));
CREATE TABLE timeline_tag (id INTEGER PRIMARY KEY AUTOINCREMENT, case_id INTEGER REFERENCES "case"(id), user_id INTEGER REFERENCES "user"(id), color VARCHAR(20) DEFAULT 'red');
CREATE TABLE search_history (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER REFERENCES "user"(id), q TEXT);
CREATE TABLE sigma_rule (id INTEGER PRIMARY KEY AUTOINCREMENT, title VARCHAR(500) NOT NULL, tags JSON);
CREATE TABLE sigma_violation (id INTEGER PRIMARY KEY AUTOINCREMENT, rule_id INTEGER NOT NULL REFERENCES sigma_rule(id), case_id INTEGER NOT NULL REFERENCES "case"(id), is_reviewed BOOLEAN);
CREATE TABLE audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER REFERENCES "user"(id), action VARCHAR(100) NOT NULL);
CREATE TABLE ai_report (id INTEGER PRIMARY KEY AUTOINCREMENT, case_id INTEGER NOT NULL REFERENCES "case"(id), pdf BLOB, seconds FLOAT);
CREATE TABLE system_settings (id INTEGER PRIMARY KEY AUTOINCREMENT, setting_key VARCHAR(100) NOT NULL UNIQUE, value TEXT);
CREATE TABLE case_share (id INTEGER PRIMARY KEY AUTOINCREMENT, case_id INTEGER NOT NULL REFERENCES "case"(id), user_id INTEGER NOT NULL REFERENCES "user"(id));
CREATE TABLE export_job (id INTEGER PRIMARY KEY AUTOINCREMENT, case_id INTEGER NOT NULL REFERENCES "case"(id), status VARCHAR(20));
CREATE INDEX ix_case_file_case_id ON case_file (case_id);
CREATE INDEX ix_ioc_match_ioc_id ON ioc_match (ioc_id);
INSERT INTO "user" VALUES (1, 'admin', 1, '2025-11-06 12:34:56'), (4, 'zoë', 0, '2025-11-06 12:34:56.123456');
INSERT INTO "case" VALUES (1, 'Acme', 1, '2025-11-06 12:00:00'), (3, 'Müller, "GmbH"', 4, NULL), (7, 'tail', 1, NULL);
DELETE FROM "case" WHERE id = 7;
INSERT INTO case_file VALUES (1, 1, 3000000000, x'00ff10', 0.1), (5, 3, NULL, NULL, 1.0000000000000002);
INSERT INTO ioc VALUES (2, 1, 'evil.example', 0.3333333333333333);
INSERT INTO ioc_match VALUES (1, 2, '2025-11-06T01:02:03'), (2, 2, 1762432496);
INSERT INTO system VALUES (1, 1, 'DC01');
INSERT INTO skipped_file VALUES (9, 3, 'too big');
INSERT INTO timeline_tag (id, case_id, user_id) VALUES (1, 1, 4);
INSERT INTO search_history VALUES (1, 4, 'line one
line two	tab \N backslash\');
INSERT INTO sigma_rule VALUES (1, 'Mimikatz', '{"b": [1, 2], "a": "x"}');
INSERT INTO sigma_violation VALUES (1, 1, 1, 0), (2, 1, 3, 1), (3, 1, 1, NULL);
INSERT INTO audit_log VALUES (1, 1, 'login'), (2, NULL, '');
INSERT INTO ai_report VALUES (1, 1, zeroblob(3000000), 12.5);
INSERT INTO system_settings VALUES (1, 'k', NULL);
INSERT INTO export_job VALUES (12, 1, 'done');
DELETE FROM export_job;
"#;

#[test]
fn incident_1_copied_database_takes_inserts_from_the_app_role_at_once() {
    let app = PgRole::new("copyapp");
    let db = TestDb::new(Engine::Postgres, "copy_incident_1");
    let src = sqlite(&db, INCIDENT_1);
    let (code, doc) = db.keel_json(&["copy", &src, &db.url, "--grant", &app.name]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["valid"], true, "{doc}");
    assert_eq!(doc["tables"].as_array().map(Vec::len), Some(16), "{doc}");
    assert_eq!(doc["rows"], 21, "{doc}");
    // types are faithful
    let ty = |t: &str, c: &str| {
        db.scalar(&format!(
            "SELECT format_type(atttypid, atttypmod) || ' ' || attnotnull FROM pg_attribute WHERE attrelid = '{t}'::regclass AND attname = '{c}'"
        ))
    };
    assert_eq!(ty("\"user\"", "username"), "character varying(80) true");
    assert_eq!(ty("\"user\"", "is_active"), "boolean true");
    assert_eq!(
        ty("\"user\"", "created_at"),
        "timestamp without time zone false"
    );
    assert_eq!(ty("case_file", "score"), "double precision false");
    assert_eq!(ty("case_file", "size"), "bigint false");
    assert_eq!(ty("case_file", "sha"), "bytea false");
    assert_eq!(ty("sigma_rule", "tags"), "jsonb false");
    assert_eq!(
        db.scalar("SELECT score::text FROM case_file WHERE id = 5"),
        "1.0000000000000002"
    );
    assert_eq!(
        db.scalar("SELECT created_at::text FROM \"user\" WHERE id = 4"),
        "2025-11-06 12:34:56.123456"
    );
    assert_eq!(
        db.scalar("SELECT at::text FROM ioc_match WHERE id = 2"),
        "2025-11-06 12:34:56",
        "epoch seconds"
    );
    assert_eq!(
        db.scalar("SELECT q FROM search_history"),
        "line one\nline two\ttab \\N backslash\\"
    );
    assert_eq!(
        db.scalar("SELECT octet_length(pdf)::text FROM ai_report"),
        "3000000"
    );
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM audit_log WHERE action = ''"),
        "1",
        "'' stays distinct from NULL"
    );
    // keys, indexes and foreign keys arrived; SQLite's internals did not
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_indexes WHERE indexname IN ('ix_case_file_case_id', 'ix_ioc_match_ioc_id', 'user_pkey')"), "3");
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM pg_constraint WHERE contype = 'f'"),
        "16"
    );
    assert_eq!(db.scalar("SELECT count(*)::text FROM pg_constraint WHERE contype = 'u' AND connamespace = 'public'::regnamespace"), "2");
    assert!(!db.has_table("sqlite_sequence"));
    // every table takes a plain INSERT from the app role, above every id
    // SQLite handed out (deleted tail rows included)
    let insert = |sql: &str| {
        app.exec(&db, sql)
            .map(|r| r[0][0].clone().unwrap_or_default())
    };
    assert_eq!(
        insert("INSERT INTO \"case\" (name) VALUES ('new') RETURNING id").unwrap(),
        "8"
    );
    assert_eq!(
        insert("INSERT INTO \"user\" (username) VALUES ('new') RETURNING id").unwrap(),
        "5"
    );
    assert_eq!(
        insert("INSERT INTO export_job (case_id) VALUES (1) RETURNING id").unwrap(),
        "13",
        "all rows deleted: above sqlite_sequence"
    );
    assert_eq!(
        insert("INSERT INTO case_share (case_id, user_id) VALUES (1, 1) RETURNING id").unwrap(),
        "1",
        "never used: starts at 1"
    );
    assert_eq!(
        insert("INSERT INTO \"user\" (username) VALUES ('x') RETURNING is_active::text").unwrap(),
        "true",
        "defaults kept"
    );
    for t in [
        "case_file",
        "ioc",
        "ioc_match",
        "system",
        "skipped_file",
        "timeline_tag",
        "search_history",
        "sigma_rule",
        "sigma_violation",
        "audit_log",
        "ai_report",
        "system_settings",
    ] {
        let cols = match t {
            "case_file" | "ai_report" | "skipped_file" | "system" => "(case_id) VALUES (1)",
            "ioc" => "(case_id, value) VALUES (1, 'x')",
            "ioc_match" => "(ioc_id) VALUES (2)",
            "sigma_rule" => "(title) VALUES ('x')",
            "sigma_violation" => "(rule_id, case_id) VALUES (1, 1)",
            "audit_log" => "(action) VALUES ('x')",
            "system_settings" => "(setting_key) VALUES ('new')",
            _ => "DEFAULT VALUES",
        };
        let sql = if t == "system" {
            "INSERT INTO system (case_id, name) VALUES (1, 'x') RETURNING id".to_string()
        } else {
            format!("INSERT INTO {t} {cols} RETURNING id")
        };
        // what PDO's lastInsertId() and Doctrine do right after the INSERT
        let sql = format!(
            "{sql}; SELECT lastval()::text, currval(pg_get_serial_sequence('{t}', 'id'))::text"
        );
        let rows = app
            .exec(&db, &sql)
            .unwrap_or_else(|e| panic!("INSERT, lastval(), currval() on {t} as the app role: {e}"));
        let got = rows[0][0].clone().unwrap_or_default();
        assert_eq!(rows[1][0].as_deref(), Some(got.as_str()), "{t}: lastval()");
        assert_eq!(rows[1][1].as_deref(), Some(got.as_str()), "{t}: currval()");
        let max = db.scalar(&format!("SELECT (max(id) - 1)::text FROM {t}"));
        assert!(
            got.parse::<i64>().unwrap() > max.parse::<i64>().unwrap_or(0),
            "{t}: got {got}"
        );
    }
    // validate agrees, then notices a change
    let (code, doc) = db.keel_json(&["validate", &src, &db.url]);
    assert_eq!(code, Some(1), "rows were inserted since: {doc}");
    db.query("DELETE FROM \"case\" WHERE id = 8");
}

pub(crate) const VALIDATE: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, r REAL); INSERT INTO t VALUES (1, 'a', 0.5), (2, NULL, 1e300);";

#[test]
fn validate_passes_on_a_faithful_copy_and_fails_on_a_changed_value() {
    let db = TestDb::new(Engine::Postgres, "copy_validate");
    let src = sqlite(&db, VALIDATE);
    let (code, doc) = db.keel_json(&["copy", &src, &db.url]);
    assert_eq!(code, Some(0), "{doc}");
    let (code, doc) = db.keel_json(&["validate", &src, &db.url]);
    assert_eq!(code, Some(0), "{doc}");
    db.query("UPDATE t SET v = 'b' WHERE id = 1");
    let (code, doc) = db.keel_json(&["validate", &src, &db.url]);
    assert_eq!(code, Some(1), "{doc}");
    assert_eq!(doc["tables"][0]["matches"], false, "{doc}");
}

pub(crate) const AWKWARD_VALUES: &str = "CREATE TABLE w (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, anything, d DATETIME, j JSON, \"order\" VARCHAR(5), \"we\"\"ird col\" TEXT);
         INSERT INTO w VALUES (1, 9223372036854775807, 9e999, 'ünï 🦀', x'', 1, 1762432496000, '[1,{\"a\":null}]', 'ab', 'q');
         INSERT INTO w VALUES (2, -9223372036854775808, -9e999, '', randomblob(2000000), 'text', '2025-01-02', 'not json', NULL, NULL);
         INSERT INTO w VALUES (3, 0, 2.2250738585072014e-308, NULL, NULL, 2.5, NULL, NULL, NULL, NULL);";

#[test]
fn awkward_values_arrive_intact() {
    let db = TestDb::new(Engine::Postgres, "copy_awkward");
    let src = sqlite(&db, AWKWARD_VALUES);
    let (code, doc) = db.keel_json(&["copy", &src, &db.url]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(
        db.scalar("SELECT i::text FROM w WHERE id = 2"),
        "-9223372036854775808"
    );
    assert_eq!(db.scalar("SELECT r::text FROM w WHERE id = 1"), "Infinity");
    assert_eq!(
        db.scalar("SELECT r::text FROM w WHERE id = 3"),
        "2.2250738585072014e-308"
    );
    assert_eq!(db.scalar("SELECT t FROM w WHERE id = 1"), "ünï 🦀");
    assert_eq!(
        db.scalar("SELECT octet_length(b)::text FROM w WHERE id = 2"),
        "2000000"
    );
    assert_eq!(
        db.scalar("SELECT d::text FROM w WHERE id = 1"),
        "2025-11-06 12:34:56",
        "epoch milliseconds"
    );
    assert_eq!(db.scalar("SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = 'w'::regclass AND attname = 'anything'"), "text", "mixed storage classes: text");
    assert_eq!(db.scalar("SELECT anything FROM w WHERE id = 3"), "2.5");
    assert_eq!(db.scalar("SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = 'w'::regclass AND attname = 'j'"), "text", "JSON that does not parse stays text");
    assert_eq!(
        db.scalar("SELECT \"we\"\"ird col\" FROM w WHERE id = 1"),
        "q"
    );
    assert!(doc["notes"].to_string().contains("not valid JSON"), "{doc}");
}

/// Databases holding a value that does not fit its column: (case, SQL,
/// column, the `--cast` that makes the copy go through).
pub(crate) const REFUSED: &[(&str, &str, &str, &str)] = &[
    (
        "nul",
        "CREATE TABLE a (id INTEGER PRIMARY KEY); INSERT INTO a VALUES (1); CREATE TABLE z (id INTEGER PRIMARY KEY, t TEXT); INSERT INTO z VALUES (1, 'ok'), (7, 'a' || char(0) || 'b');",
        "z.t",
        "bytea",
    ),
    (
        "utf8",
        "CREATE TABLE a (id INTEGER PRIMARY KEY); INSERT INTO a VALUES (1); CREATE TABLE z (id INTEGER PRIMARY KEY, t TEXT); INSERT INTO z VALUES (7, CAST(x'ff00fe' AS TEXT));",
        "z.t",
        "bytea",
    ),
    (
        "mixed",
        "CREATE TABLE a (id INTEGER PRIMARY KEY); INSERT INTO a VALUES (1); CREATE TABLE z (id INTEGER PRIMARY KEY, n INTEGER); INSERT INTO z VALUES (7, 'seven');",
        "z.n",
        "text",
    ),
    (
        "long",
        "CREATE TABLE a (id INTEGER PRIMARY KEY); INSERT INTO a VALUES (1); CREATE TABLE z (id INTEGER PRIMARY KEY, s VARCHAR(3)); INSERT INTO z VALUES (7, 'toolong');",
        "z.s",
        "text",
    ),
];

#[test]
fn a_value_that_does_not_fit_stops_the_copy_before_anything_is_written() {
    for &(case, sql, column, cast) in REFUSED {
        let db = TestDb::new(Engine::Postgres, &format!("copy_refuse_{case}"));
        let src = sqlite(&db, sql);
        let out = db.keel().args(["copy", &src, &db.url]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{case}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(column) && err.contains("rowid 7"),
            "{case}: {err}"
        );
        assert!(
            err.contains(&format!("--cast {column}={cast}")),
            "{case}: {err}"
        );
        assert!(
            !db.has_table("a") && !db.has_table("z"),
            "{case}: something was written"
        );
        // the suggested override makes the copy go through
        let (code, doc) =
            db.keel_json(&["copy", &src, &db.url, "--cast", &format!("{column}={cast}")]);
        assert_eq!(code, Some(0), "{case}: {doc}");
    }
}

pub(crate) const DATA_ONLY: &str = "CREATE TABLE \"user\" (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT); INSERT INTO \"user\" VALUES (1, 'a'), (40, 'b'); DELETE FROM \"user\" WHERE id = 40; INSERT INTO \"user\" VALUES (3, 'c');";

#[test]
fn non_empty_targets_are_refused_without_if_exists_and_data_only_repairs_sequences() {
    let db = TestDb::new(Engine::Postgres, "copy_data_only");
    let src = sqlite(&db, DATA_ONLY);
    // the application's own migration made the table
    db.query("CREATE TABLE \"user\" (id serial PRIMARY KEY, name varchar(50)); INSERT INTO \"user\" (name) VALUES ('existing');");
    let out = db
        .keel()
        .args(["copy", &src, &db.url, "--data-only"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already hold rows"),
        "{out:?}"
    );
    assert_eq!(
        db.scalar("SELECT name FROM \"user\""),
        "existing",
        "nothing was overwritten"
    );
    let (code, doc) = db.keel_json(&[
        "copy",
        &src,
        &db.url,
        "--data-only",
        "--if-exists",
        "truncate",
    ]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(
        db.scalar("SELECT string_agg(name, ',' ORDER BY id) FROM \"user\""),
        "a,c"
    );
    assert_eq!(
        db.scalar("INSERT INTO \"user\" (name) VALUES ('d') RETURNING id::text"),
        "41",
        "above sqlite_sequence (40), not just MAX(id)"
    );
}

pub(crate) const ORPHANS: &str = "PRAGMA foreign_keys = OFF;
         CREATE TABLE parent (id INTEGER PRIMARY KEY);
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE);
         INSERT INTO parent VALUES (1);
         INSERT INTO child VALUES (1, 1), (2, 99), (3, 98), (4, NULL);";

#[test]
fn orphan_rows_are_counted_and_their_foreign_key_added_not_valid() {
    let db = TestDb::new(Engine::Postgres, "copy_orphans");
    let src = sqlite(&db, ORPHANS);
    let (code, doc) = db.keel_json(&["copy", &src, &db.url]);
    assert_eq!(code, Some(0), "the rows are all there: {doc}");
    assert_eq!(doc["orphans"][0]["table"], "child", "{doc}");
    assert_eq!(doc["orphans"][0]["rows"], 2, "{doc}");
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM child"),
        "4",
        "orphans are kept, not lost"
    );
    assert_eq!(
        db.scalar("SELECT convalidated::text || ' ' || confdeltype::text FROM pg_constraint WHERE conname = 'child_parent_id_fkey'"),
        "false c",
        "added NOT VALID, ON DELETE CASCADE kept"
    );
    let err = db.keel().args(["copy", &src, &db.url]).output().unwrap();
    assert_eq!(err.status.code(), Some(2), "tables exist now");
    assert!(
        String::from_utf8_lossy(&err.stderr).contains("--if-exists"),
        "{err:?}"
    );
}

pub(crate) const SHAPES: &str = "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID;
         INSERT INTO kv VALUES ('a', 1), ('b', 2);
         CREATE TABLE item (id INTEGER PRIMARY KEY, price REAL, qty INTEGER, total REAL GENERATED ALWAYS AS (price * qty) STORED);
         INSERT INTO item (id, price, qty) VALUES (1, 2.5, 4);
         CREATE VIEW cheap AS SELECT * FROM item WHERE price < 10;
         CREATE TRIGGER kv_touch AFTER UPDATE ON kv BEGIN SELECT 1; END;";

#[test]
fn without_rowid_tables_generated_columns_views_and_triggers_are_handled_or_reported() {
    let db = TestDb::new(Engine::Postgres, "copy_shapes");
    let src = sqlite(&db, SHAPES);
    let (code, doc) = db.keel_json(&["copy", &src, &db.url]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(
        db.scalar("SELECT string_agg(k || '=' || v, ',' ORDER BY k) FROM kv"),
        "a=1,b=2"
    );
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM pg_constraint WHERE conname = 'kv_pkey'"),
        "1"
    );
    assert_eq!(
        db.scalar("SELECT total::text FROM item"),
        "10",
        "generated values copied"
    );
    let notes = doc["notes"].to_string();
    for expected in [
        "view cheap",
        "trigger kv_touch",
        "item.total",
        "WITHOUT ROWID",
    ] {
        assert!(
            notes.contains(expected),
            "no note about {expected}: {notes}"
        );
    }
}

pub(crate) const KILLED: &str =
    "CREATE TABLE small (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO small VALUES (1, 'x');
     CREATE TABLE big (id INTEGER PRIMARY KEY, payload BLOB);";
/// 800 MB of rows, enough to kill the copy in the middle.
const KILLED_ROWS: &str =
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400000)
     INSERT INTO big SELECT i, randomblob(2000) FROM n;";

#[test]
fn a_copy_killed_in_the_middle_leaves_no_table_behind() {
    let db = TestDb::new(Engine::Postgres, "copy_killed");
    let src = sqlite(&db, &format!("{KILLED}{KILLED_ROWS}"));
    let mut child = db
        .keel_process(&["--quiet", "copy", &src, &db.url, "--jobs", "2"])
        .spawn()
        .unwrap();
    // wait until rows are streaming into PostgreSQL, then kill keel outright
    let copying = format!(
        "SELECT count(*)::text FROM pg_stat_activity WHERE datname = '{}' AND query LIKE 'COPY \"big\"%'",
        db.name
    );
    let mut seen = false;
    for _ in 0..600 {
        if db.scalar(&copying) != "0" {
            seen = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(seen, "keel finished before it could be killed mid-copy");
    std::thread::sleep(std::time::Duration::from_millis(200));
    child.kill().unwrap();
    child.wait().unwrap();
    // the server rolls back the dropped connections' transactions
    let backends = format!(
        "SELECT count(*)::text FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
        db.name
    );
    for _ in 0..500 {
        if db.scalar(&backends) == "0" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(
        db.scalar("SELECT count(*)::text FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"),
        "0",
        "a killed copy left a table behind"
    );
}
