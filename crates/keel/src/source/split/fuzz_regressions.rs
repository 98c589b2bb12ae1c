//! Inputs `cargo fuzz` (fuzz/, target `split`) found, each with the
//! property it broke. `keel::fuzzing::split` checks all of them.

use super::*;
use crate::fuzzing;

fn texts(sql: &str, d: Dialect) -> Vec<String> {
    split(sql, d).into_iter().map(|s| s.text).collect()
}

#[test]
fn a_multibyte_character_after_begin_in_a_trigger_body() {
    // panicked: `BEGIN` looked for `ATOMIC` by slicing 6 bytes into `IN€€`
    let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN IN€€ x; END;\nSELECT 1;";
    for d in [Dialect::Sqlite, Dialect::Mysql] {
        assert_eq!(
            texts(sql, d),
            [
                "CREATE TRIGGER t AFTER INSERT ON a BEGIN IN€€ x; END",
                "SELECT 1"
            ]
        );
        assert_eq!(fuzzing::split(sql, d), Ok(()));
    }
    // PostgreSQL: only `BEGIN ATOMIC` opens a body
    assert_eq!(
        texts(sql, Dialect::Postgres),
        [
            "CREATE TRIGGER t AFTER INSERT ON a BEGIN IN€€ x",
            "END",
            "SELECT 1"
        ]
    );
    assert_eq!(fuzzing::split(sql, Dialect::Postgres), Ok(()));
    let atomic = "CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT '€€'; END;\nSELECT 1;";
    assert_eq!(texts(atomic, Dialect::Postgres).len(), 2);
}

#[test]
fn unicode_and_vertical_tab_blanks_are_no_statement() {
    // split returned an empty statement (`str::trim` removes these), and
    // has_statement said there was one
    for sql in [
        "\u{b};SELECT 1;",
        "\u{a0};SELECT 1;",
        "SELECT 1;\u{2028}\u{3000}",
    ] {
        for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
            assert_eq!(texts(sql, d), ["SELECT 1"], "{sql:?}");
            assert_eq!(fuzzing::split(sql, d), Ok(()));
        }
    }
    assert!(!has_statement("\u{a0}\u{b}\n", Dialect::Postgres));
    // inside a statement such characters are code as before
    assert_eq!(
        texts("SELECT\u{a0}1;", Dialect::Postgres),
        ["SELECT\u{a0}1"]
    );
}

#[test]
fn an_unterminated_quoted_name_ending_in_a_multibyte_character() {
    // panicked: the name's closing quote was cut off as its last byte,
    // inside `€` (the tracking row's catalog check reads this name)
    for sql in [
        "CREATE TABLE \"x€",
        "CREATE INDEX i ON `t€",
        "CREATE TABLE [a€",
    ] {
        for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
            let _ = created_object(sql, d);
            assert_eq!(fuzzing::split(sql, d), Ok(()));
        }
    }
    let made = created_object("CREATE TABLE \"x€", Dialect::Postgres).map(|o| o.name);
    assert_eq!(made.as_deref(), Some("x€"));
    let made = created_object("CREATE TABLE \"a\"\"b\" (id int)", Dialect::Postgres);
    assert_eq!(made.map(|o| o.name).as_deref(), Some("a\"b"));
}

#[test]
fn a_delimiter_made_of_letters_inside_a_goose_block_ends() {
    // hung (fuzz/split, 2026-12-02): a word stopped before a delimiter
    // that starts with a letter, but inside a goose block the delimiter
    // ends nothing, so the splitter never moved on
    let sql = "DELIMITER ab\n-- +goose StatementBegin\nSELECT ab;\nab\n-- +goose StatementEnd\nSELECT 2ab\n";
    let got: Vec<String> = split(sql, Dialect::Mysql)
        .into_iter()
        .map(|s| s.text)
        .collect();
    assert_eq!(got, ["SELECT ab;\nab", "SELECT 2"]);
    assert_eq!(fuzzing::split(sql, Dialect::Mysql), Ok(()));
}

#[test]
fn a_psql_command_after_a_statement_on_its_line() {
    // split again differently (fuzz/split, 2026-12-02): `\\x` after `;` on
    // the same line was code in the file but a psql command in its
    // statement's text; psql reads it as a command wherever it stands
    let sql = "SELECT 1; \\x on\nSELECT 2;\n";
    let got: Vec<String> = split(sql, Dialect::Postgres)
        .into_iter()
        .map(|s| s.text)
        .collect();
    assert_eq!(got, ["SELECT 1", "\\x on", "SELECT 2"]);
    assert_eq!(fuzzing::split(sql, Dialect::Postgres), Ok(()));
}
