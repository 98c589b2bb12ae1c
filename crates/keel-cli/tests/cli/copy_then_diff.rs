//! `keel copy` and `keel diff` agree: every SQLite database the copy tests
//! use compares clean against its fresh copy in PostgreSQL, in both
//! directions — or differs in exactly what copy said it could not carry
//! over. Both commands read the one type-and-default table, so a default
//! copy translated is one diff recognises.

use crate::copy_postgres::{
    AWKWARD_VALUES, DATA_ONLY, INCIDENT_1, KILLED, ORPHANS, REFUSED, SHAPES, VALIDATE, sqlite,
};
use crate::support::{Engine, TestDb, difference_ids};

/// Defaults and declared types that each engine spells its own way.
const AWKWARD_DEFAULTS: &str = "CREATE TABLE setting (
  id INTEGER PRIMARY KEY,
  created DATETIME DEFAULT CURRENT_TIMESTAMP,
  created_text TEXT DEFAULT CURRENT_TIMESTAMP,
  day DATE DEFAULT CURRENT_DATE,
  stamp TIMESTAMP DEFAULT (datetime('now')),
  word TEXT DEFAULT 'now',
  label VARCHAR(20) DEFAULT 'it''s',
  amount NUMERIC DEFAULT 0,
  price DECIMAL(10,2) DEFAULT 9.99,
  ratio REAL DEFAULT -1.5,
  delta INTEGER DEFAULT -1,
  sum3 INTEGER DEFAULT (1 + 2),
  enabled BOOLEAN DEFAULT TRUE,
  hidden BOOLEAN DEFAULT FALSE,
  flag BOOLEAN NOT NULL DEFAULT 0,
  zero_text TEXT DEFAULT 0,
  untyped DEFAULT 'x',
  note TEXT DEFAULT NULL,
  autoincrement_note TEXT DEFAULT 'AUTOINCREMENT' CHECK (autoincrement_note <> 'no AUTOINCREMENT here'),
  lucky INTEGER DEFAULT (abs(random()) % 10)
);
INSERT INTO setting (id, untyped) VALUES (1, 'y');";

/// Copies `sql` as a SQLite file into a fresh database (with `casts`) and
/// returns the difference ids of `keel diff` in both directions.
fn copy_and_diff(test: &str, sql: &str, casts: &[String]) -> (Vec<String>, Vec<String>) {
    let db = TestDb::new(Engine::Postgres, &format!("copydiff_{test}"));
    let src = sqlite(&db, sql);
    let mut args = vec!["copy", src.as_str(), db.url.as_str()];
    for c in casts {
        args.extend(["--cast", c.as_str()]);
    }
    let (code, doc) = db.keel_json(&args);
    assert_eq!(code, Some(0), "{test}: {doc}");
    let from = format!("sqlite:{src}");
    let mut ids = Vec::new();
    for (a, b) in [(&from, &db.url), (&db.url, &from)] {
        let (code, doc) = db.keel_json(&["diff", a, b]);
        let found = difference_ids(&doc["differences"]);
        let expected_code = if found.is_empty() { 0 } else { 1 };
        assert_eq!(code, Some(expected_code), "{test}: {doc}");
        ids.push(found);
    }
    let back = ids.pop().unwrap_or_default();
    (ids.pop().unwrap_or_default(), back)
}

#[test]
fn every_copy_test_database_compares_clean_against_its_copy() {
    for (test, sql) in [
        ("incident_1", INCIDENT_1),
        ("validate", VALIDATE),
        ("awkward_values", AWKWARD_VALUES),
        ("data_only", DATA_ONLY),
        ("orphans", ORPHANS),
        ("killed", KILLED),
    ] {
        let (there, back) = copy_and_diff(test, sql, &[]);
        assert!(there.is_empty(), "{test}: {there:?}");
        assert!(back.is_empty(), "{test}, diffed the other way: {back:?}");
    }
}

#[test]
fn a_copy_differs_in_exactly_what_copy_reported_it_left_out() {
    // view, trigger and a generated expression are SQLite SQL: copy notes
    // them, diff names them, nothing else
    let (there, back) = copy_and_diff("shapes", SHAPES, &[]);
    let expected = [
        "column/public/item/total/generated",
        "trigger/public/kv/kv_touch",
        "view/public/cheap",
    ];
    assert_eq!(there, expected);
    assert_eq!(back, expected);
    // a --cast is the user's own type: the one difference, where the
    // engines' types differ at all (varchar(3) and text do not)
    for &(case, sql, column, cast) in REFUSED {
        let (there, _) = copy_and_diff(
            &format!("refused_{case}"),
            sql,
            &[format!("{column}={cast}")],
        );
        let expected: Vec<String> = match case {
            "long" => Vec::new(),
            _ => vec![format!("column/public/{}/type", column.replace('.', "/"))],
        };
        assert_eq!(there, expected, "{case}");
    }
}

#[test]
fn awkward_defaults_and_affinities_copy_faithfully_and_diff_agrees() {
    let db = TestDb::new(Engine::Postgres, "copy_defaults");
    let src = sqlite(&db, AWKWARD_DEFAULTS);
    let (code, doc) = db.keel_json(&["copy", &src, &db.url]);
    assert_eq!(code, Some(0), "{doc}");
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("setting.lucky: default `abs(random()) % 10` not translated"),
        "{notes}"
    );
    assert!(!notes.contains("CHECK"), "the CHECK translates: {notes}");
    // the CHECK arrived
    assert_eq!(
        db.scalar("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'setting'::regclass AND contype = 'c'"),
        "CHECK ((autoincrement_note <> 'no AUTOINCREMENT here'::text))"
    );
    // the defaults work in PostgreSQL as they did in SQLite
    let row = db.query(
        "INSERT INTO setting DEFAULT VALUES RETURNING id::text, (created IS NOT NULL)::text, created_text, \
         (day = (now() AT TIME ZONE 'UTC')::date)::text, (abs(extract(epoch FROM stamp - (now() AT TIME ZONE 'UTC'))) < 60)::text, \
         word, label, amount::text, price::text, ratio::text, delta::text, sum3::text, enabled::text, \
         hidden::text, flag::text, zero_text, untyped, coalesce(note, 'null'), autoincrement_note",
    );
    let got: Vec<String> = row[0]
        .iter()
        .map(|v| v.clone().unwrap_or_default())
        .collect();
    assert_eq!(got[0], "2", "rowid alias got an identity");
    assert_eq!(got[1], "true");
    assert_eq!(got[2].len(), 19, "SQLite's text timestamp: {}", got[2]);
    assert_eq!(
        got[3..],
        [
            "true",
            "true",
            "now",
            "it's",
            "0",
            "9.99",
            "-1.5",
            "-1",
            "3",
            "true",
            "false",
            "false",
            "0",
            "x",
            "null",
            "AUTOINCREMENT"
        ]
    );
    let ty = |c: &str| {
        db.scalar(&format!(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'setting'::regclass AND attname = '{c}'"
        ))
    };
    assert_eq!(ty("label"), "character varying(20)");
    assert_eq!(ty("amount"), "numeric");
    assert_eq!(ty("enabled"), "boolean");
    assert_eq!(ty("created"), "timestamp without time zone");
    assert_eq!(ty("untyped"), "text");
    // diff agrees with copy: what copy could not carry over, nothing else
    let from = format!("sqlite:{src}");
    for (a, b) in [(&from, &db.url), (&db.url, &from)] {
        let (code, doc) = db.keel_json(&["diff", a, b]);
        assert_eq!(code, Some(1), "{doc}");
        // the translated CHECK compares equal: only the default SQLite's
        // own SQL wrote is left
        assert_eq!(
            difference_ids(&doc["differences"]),
            ["column/public/setting/lucky/default"],
            "{doc}"
        );
    }
}

#[test]
fn copy_diff_and_sequences_agree_on_which_column_is_the_rowid() {
    let db = TestDb::new(Engine::Postgres, "copy_rowid");
    let src = sqlite(
        &db,
        "CREATE TABLE quirk_desc (id INTEGER PRIMARY KEY DESC, v TEXT);
         CREATE TABLE quirk_word (id INTEGER PRIMARY KEY, autoincrement_note TEXT DEFAULT 'AUTOINCREMENT' /* AUTOINCREMENT */);
         CREATE TABLE quirk_table_key (id INTEGER, v TEXT, PRIMARY KEY (id DESC));
         INSERT INTO quirk_desc VALUES (50, 'a');
         INSERT INTO quirk_word (id) VALUES (7);
         INSERT INTO quirk_table_key VALUES (9, 'b');",
    );
    let (code, doc) = db.keel_json(&["copy", &src, &db.url]);
    // `INTEGER PRIMARY KEY DESC` is no rowid alias (SQLite's documented
    // quirk): no identity is invented, and the sequence check says so
    assert_eq!(code, Some(1), "{doc}");
    assert_eq!(doc["valid"], true, "{doc}");
    let findings: Vec<String> = doc["sequences"]["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|x| x["table"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(findings, ["public.quirk_desc"], "{doc}");
    let identity = |t: &str| {
        db.scalar(&format!(
            "SELECT attidentity::text FROM pg_attribute WHERE attrelid = '{t}'::regclass AND attname = 'id'"
        ))
    };
    assert_eq!(identity("quirk_desc"), "");
    assert_eq!(identity("quirk_word"), "d");
    assert_eq!(identity("quirk_table_key"), "d");
    assert_eq!(
        db.scalar(
            "INSERT INTO quirk_word DEFAULT VALUES RETURNING id::text || ' ' || autoincrement_note"
        ),
        "8 AUTOINCREMENT"
    );
    let from = format!("sqlite:{src}");
    let (code, doc) = db.keel_json(&["diff", &from, &db.url]);
    assert_eq!(code, Some(0), "{doc}");
}
