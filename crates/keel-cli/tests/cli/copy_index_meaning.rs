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
    db.query("INSERT INTO tags (name) VALUES ('RUST')");
    let dup = std::panic::catch_unwind(|| db.query("INSERT INTO tags (name) VALUES ('Rust')"));
    assert!(dup.is_err(), "an exact duplicate was accepted");
    db.query("DELETE FROM people WHERE email = 'carol@example.com'");
    db.query("DELETE FROM tags WHERE name = 'RUST' COLLATE \"C\"");
    let (code, doc) = db.keel_json(&["validate", &src, &db.url]);
    assert_eq!(code, Some(0), "{doc}");
}
