//! Indexes keep their meaning in a copy: a `COLLATE` on an index key
//! (SQLite's index-level collation) compares in PostgreSQL as it did in
//! SQLite, so a case-insensitive UNIQUE still refuses a duplicate that
//! differs in case; expression indexes are translated where the expression
//! translates, else listed as not copied, with the reason.

use crate::copy_postgres::sqlite;
use crate::support::{Engine, TestDb};

const COLLATED: &str = r#"
CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT NOT NULL, nick TEXT);
CREATE UNIQUE INDEX people_email ON people (email COLLATE NOCASE);
CREATE INDEX people_nick ON people (nick COLLATE NOCASE DESC);
CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE, UNIQUE (name COLLATE BINARY));
INSERT INTO people (email, nick) VALUES ('Ann@example.com', 'ann'), ('bob@example.com', 'Bob');
INSERT INTO tags (name) VALUES ('Rust'), ('rust');
"#;

#[test]
fn an_index_level_nocase_still_refuses_a_duplicate_differing_in_case() {
    let db = TestDb::new(Engine::Postgres, "copy_index_nocase");
    let src = sqlite(&db, COLLATED);
    let (code, doc) = db.keel_json(&["copy", &src, &db.url]);
    assert_eq!(code, Some(0), "{doc}");
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("people_email") && notes.contains("ignoring case"),
        "{notes}"
    );
    // SQLite refuses it: so does PostgreSQL after the copy
    let dup = std::panic::catch_unwind(|| {
        db.query("INSERT INTO people (email) VALUES ('ANN@example.COM')")
    });
    assert!(dup.is_err(), "a duplicate differing in case was accepted");
    db.query("INSERT INTO people (email) VALUES ('carol@example.com')");
    // the plain index compares nick ignoring case too
    let def = db.scalar("SELECT indexdef FROM pg_indexes WHERE indexname = 'people_nick'");
    assert!(def.contains("keel_nocase") && def.contains("DESC"), "{def}");
    // BINARY on a NOCASE column: byte-wise there, as in SQLite ('Rust' and
    // 'rust' are both in), and an exact duplicate is still refused
    let def = db.scalar("SELECT indexdef FROM pg_indexes WHERE indexname = 'tags_name_key'");
    assert!(
        def.contains("UNIQUE") && def.contains("COLLATE \"C\""),
        "{def}"
    );
    db.query("INSERT INTO tags (name) VALUES ('RUST')");
    let dup = std::panic::catch_unwind(|| db.query("INSERT INTO tags (name) VALUES ('Rust')"));
    assert!(dup.is_err(), "an exact duplicate was accepted");
    db.query("DELETE FROM people WHERE email = 'carol@example.com'");
    db.query("DELETE FROM tags WHERE name = 'RUST' COLLATE \"C\"");
    let (code, doc) = db.keel_json(&["validate", &src, &db.url]);
    assert_eq!(code, Some(0), "{doc}");
}

const EXPRESSIONS: &str = r#"
CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT NOT NULL, a INTEGER, b INTEGER, doc JSON, raw TEXT, created TEXT);
CREATE UNIQUE INDEX accounts_email_lower ON accounts (lower(email));
CREATE INDEX accounts_sum ON accounts ((a + b) DESC);
CREATE UNIQUE INDEX accounts_doc_k ON accounts (json_extract(doc, '$.k')) WHERE a > 0;
CREATE INDEX accounts_raw_k ON accounts (json_extract(raw, '$.k'));
CREATE INDEX accounts_day ON accounts (date(created));
INSERT INTO accounts (email, a, b, doc, raw, created) VALUES
  ('Ann@example.com', 1, 2, '{"k": "x"}', '{"k": 1}', '2024-01-01 10:00'),
  ('bob@example.com', 2, 3, '{"k": "y"}', '{"k": 2}', '2024-01-02 11:00'),
  ('É@example.com', 0, 0, NULL, NULL, NULL), ('é@example.com', 0, 0, NULL, NULL, NULL);
"#;

#[test]
fn expression_indexes_translate_or_are_listed_with_the_reason() {
    let db = TestDb::new(Engine::Postgres, "copy_index_expr");
    let src = sqlite(&db, EXPRESSIONS);
    let (code, doc) = db.keel_json(&["copy", &src, &db.url]);
    assert_eq!(code, Some(0), "{doc}");
    let def = |name: &str| {
        db.query(&format!(
            "SELECT indexdef FROM pg_indexes WHERE indexname = '{name}'"
        ))
        .first()
        .and_then(|r| r[0].clone())
    };
    // translated: the same meaning in PostgreSQL
    let lower = def("accounts_email_lower").expect("lower(email) index");
    // unique: it folds A-Z only, as SQLite's lower() does, so 'É' and 'é'
    // (apart in SQLite) both arrive
    assert!(
        lower.contains("UNIQUE") && lower.contains("translate(email"),
        "{lower}"
    );
    assert_eq!(db.scalar("SELECT count(*) FROM accounts"), "4");
    let sum = def("accounts_sum").expect("(a + b) index");
    assert!(sum.contains("(a + b)) DESC"), "{sum}");
    let k = def("accounts_doc_k").expect("json_extract on the jsonb column");
    assert!(k.contains("->> 'k'") && k.contains("WHERE (a > 0)"), "{k}");
    let dup = std::panic::catch_unwind(|| {
        db.query("INSERT INTO accounts (email) VALUES ('ANN@EXAMPLE.COM')")
    });
    assert!(dup.is_err(), "lower(email) no longer unique");
    // not translated: listed, each with its reason, never silently
    let notes = doc["notes"].to_string();
    for (name, why) in [
        ("accounts_raw_k", "accounts_raw_k was not created"),
        ("accounts_day", "accounts_day was not created"),
    ] {
        assert!(def(name).is_none(), "{name} was built");
        assert!(
            notes.contains(why) && notes.contains("CREATE INDEX"),
            "{name}: {notes}"
        );
    }
    assert!(notes.contains("json_extract(raw"), "{notes}");
    let out = db
        .keel()
        .args(["copy", &src, &db.url, "--if-exists", "drop"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("accounts_day was not created"), "{text}");
}
