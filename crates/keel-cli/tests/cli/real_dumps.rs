//! Real dump files as baseline migrations: what the installed `pg_dump`
//! and `mysqldump` write (psql's `\restrict` lines and `COPY … FROM stdin`
//! blocks, MySQL's executable `/*!…*/` comments, `LOCK TABLES`, `DELIMITER
//! ;;` triggers and routines) applied by `keel up` to an empty database,
//! which must then dump exactly as the source did.

use crate::support::{Engine, TestDb};
use std::process::Command;

fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {tool} (scripts/test.sh checks it is installed): {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 dump")
}

fn pg_dump(db: &TestDb, extra: &[&str]) -> String {
    let mut args = vec!["-h", "127.0.0.1", "-U", "postgres", "--no-owner"];
    args.extend(extra);
    args.extend(["-T", "keel_migrations*", &db.name]);
    run("pg_dump", &args)
        .lines()
        // `\restrict` carries a random key per run
        .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What `mysqldump` writes, as it writes it.
fn mysqldump_file(db: &TestDb) -> String {
    let ignore = format!("--ignore-table={}.keel_migrations", db.name);
    run(
        "mysqldump",
        &[
            "-h",
            "127.0.0.1",
            "-u",
            "root",
            "--routines",
            "--triggers",
            "--events",
            "--skip-dump-date",
            &ignore,
            &db.name,
        ],
    )
}

/// The same, comparable between two databases: the header and comments
/// name the database.
fn mysqldump(db: &TestDb) -> String {
    mysqldump_file(db)
        .lines()
        .filter(|l| !l.starts_with("-- Host:"))
        .map(|l| l.replace(&db.name, "DATABASE"))
        .collect::<Vec<_>>()
        .join("\n")
}

const PG_SOURCE: &str = r#"
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE app.person (
    id serial PRIMARY KEY,
    name text NOT NULL,
    mood app.mood,
    born date DEFAULT '2000-01-01'
);
CREATE TABLE app.pet (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner int REFERENCES app.person (id) ON DELETE CASCADE,
    name text,
    tags text[]
);
CREATE INDEX pet_lower_name ON app.pet (lower(name));
CREATE VIEW app.owners AS
    SELECT p.name, count(x.*) AS pets FROM app.person p LEFT JOIN app.pet x ON x.owner = p.id GROUP BY 1;
CREATE FUNCTION app.shout() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.name := upper(NEW.name); -- a semicolon; in a comment
    RETURN NEW;
END $$;
CREATE TRIGGER shout BEFORE INSERT ON app.pet FOR EACH ROW EXECUTE FUNCTION app.shout();
INSERT INTO app.person (name, mood) VALUES
    ('plain', 'ok'), ('semi;colon', 'sad'), (E'tab\there', 'happy'),
    (E'new\nline and back\\slash', NULL), ('\.', 'ok');
INSERT INTO app.pet (owner, name, tags) VALUES (1, 'rex', '{a,b}'), (2, NULL, NULL);
COMMENT ON TABLE app.person IS 'people; with ''quotes''';
CREATE MATERIALIZED VIEW app.snapshot AS SELECT id, name FROM app.person;
"#;

#[test]
fn pg_dump_files_are_baseline_migrations() {
    let source = TestDb::new(Engine::Postgres, "dump_src");
    source.query(PG_SOURCE);
    // data as COPY blocks, as INSERTs, and the schema alone
    for (label, extra) in [
        ("copy", &[][..]),
        ("inserts", &["--inserts"][..]),
        ("schema", &["--schema-only"][..]),
    ] {
        let target = TestDb::new(Engine::Postgres, &format!("dump_{label}"));
        let dump = run(
            "pg_dump",
            &[
                &["-h", "127.0.0.1", "-U", "postgres", "--no-owner"][..],
                extra,
                &[&source.name[..]],
            ]
            .concat(),
        );
        target.write("V1__baseline.sql", &dump);
        let (code, doc) = target.keel_json(&["up"]);
        assert_eq!(code, Some(0), "{label}: {doc}");
        assert_eq!(
            pg_dump(&target, extra),
            pg_dump(&source, extra),
            "{label}: the database keel built dumps differently from its source"
        );
        let row = target.query(
            "SELECT success::text, statements_applied::text, statements_total::text FROM keel_migrations",
        );
        assert_eq!(row.len(), 1, "{label}");
        assert_eq!(row[0][0].as_deref(), Some("true"), "{label}");
        assert_eq!(row[0][1], row[0][2], "{label}: every statement recorded");
        if label != "schema" {
            assert_eq!(
                target.scalar(
                    "SELECT count(*) FROM app.person WHERE name = E'new\\nline and back\\\\slash'"
                ),
                "1"
            );
            // the sequence was set by the dump, so the next id follows on
            assert_eq!(target.scalar("SELECT nextval('app.person_id_seq')"), "6");
        }
    }
}

#[test]
fn a_copy_block_that_fails_is_recorded_and_retried() {
    let db = TestDb::new(Engine::Postgres, "copy_fail");
    db.write(
        "1_load.sql",
        "-- keel:no-transaction\nCREATE TABLE c (id int, t text);\nCOPY c (id, t) FROM stdin;\n1\tx\n2\ty\n\\.\nCOPY c FROM stdin;\n3\tz\nbad\tq\n\\.\n",
    );
    let (code, doc) = db.keel_json(&["up"]);
    assert_eq!(code, Some(2), "{doc}");
    assert_eq!(doc["error"]["kind"], "migration_failed", "{doc}");
    // the table and the first block stayed; the failed block left nothing
    assert_eq!(db.scalar("SELECT count(*) FROM c"), "2");
    assert_eq!(
        db.query(
            "SELECT statements_applied::text, failed_statement_index::text FROM keel_migrations"
        )[0],
        vec![Some("2".to_string()), Some("3".to_string())]
    );
    db.write(
        "1_load.sql",
        "-- keel:no-transaction\nCREATE TABLE c (id int, t text);\nCOPY c (id, t) FROM stdin;\n1\tx\n2\ty\n\\.\nCOPY c FROM stdin;\n3\tz\n4\tq\n\\.\n",
    );
    let (code, doc) = db.keel_json(&["repair", "--retry", "1"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(
        db.scalar("SELECT string_agg(t, '' ORDER BY id) FROM c"),
        "xyzq"
    );
}

#[test]
fn psql_commands_are_refused_before_anything_runs() {
    let db = TestDb::new(Engine::Postgres, "psql_cmds");
    db.write("1_a.sql", "CREATE TABLE a (id int);\n");
    db.write(
        "2_b.sql",
        "CREATE TABLE b (id int);\n\\connect other\nCREATE TABLE c (id int);\n\\i more.sql\n",
    );
    let (code, doc) = db.keel_json(&["up"]);
    assert_eq!(code, Some(2), "{doc}");
    assert_eq!(doc["error"]["kind"], "refused", "{doc}");
    let problems = doc["error"]["problems"].to_string();
    assert!(
        problems.contains("2_b.sql:2") && problems.contains("\\\\connect"),
        "{doc}"
    );
    assert!(problems.contains("2_b.sql:4"), "{doc}");
    // not even the migration before it ran
    assert!(!db.has_table("a") && !db.has_table("b"));
}

#[test]
fn mysqldump_files_are_baseline_migrations() {
    let source = TestDb::new(Engine::Mysql, "mydump_src");
    // the child table sorts first: the dump turns foreign key checks off
    // in an executable comment, which must run
    for sql in [
        "CREATE TABLE zparent (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(50))",
        "CREATE TABLE achild (id INT PRIMARY KEY AUTO_INCREMENT, p INT, note TEXT, FOREIGN KEY (p) REFERENCES zparent (id))",
        "INSERT INTO zparent (name) VALUES ('x'), ('y;z'), ('it''s'), ('back\\\\slash')",
        "INSERT INTO achild (p, note) VALUES (1, 'a'), (2, 'b\\nc')",
        "CREATE VIEW v AS SELECT * FROM achild",
        "CREATE TRIGGER trg BEFORE INSERT ON achild FOR EACH ROW BEGIN SET NEW.note = CONCAT(NEW.note, '!'); END",
        "CREATE PROCEDURE pr(IN x INT) BEGIN SELECT x; SELECT x + 1; END",
        "CREATE EVENT ev ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM achild WHERE id < 0",
    ] {
        source.query(sql);
    }
    let file = mysqldump_file(&source);
    assert!(file.contains("LOCK TABLES") && file.contains("/*!40014 SET"));
    let target = TestDb::new(Engine::Mysql, "mydump_dst");
    target.write("V1__baseline.sql", &file);
    let (code, doc) = target.keel_json(&["up"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(
        mysqldump(&target),
        mysqldump(&source),
        "the database keel built dumps differently from its source"
    );
    let row =
        target.query("SELECT success, statements_applied, statements_total FROM keel_migrations");
    assert_eq!(row[0][0].as_deref(), Some("1"));
    assert_eq!(row[0][1], row[0][2]);
    // the dump's LOCK TABLES did not outlive its migration, and its
    // `SET FOREIGN_KEY_CHECKS=0` did not either
    target.write(
        "V2__after.sql",
        "INSERT INTO zparent (name) VALUES ('after');\n",
    );
    let (code, doc) = target.keel_json(&["up"]);
    assert_eq!(code, Some(0), "{doc}");
    target.write(
        "V3__orphan.sql",
        "INSERT INTO achild (p, note) VALUES (999, 'orphan');\n",
    );
    let (code, doc) = target.keel_json(&["up"]);
    assert_eq!(
        code,
        Some(2),
        "a dangling reference is refused again: {doc}"
    );
    assert_eq!(doc["error"]["kind"], "migration_failed", "{doc}");
}

#[test]
fn keel_directives_hold_in_a_flyway_folder() {
    let db = TestDb::new(Engine::Postgres, "flyway_directive");
    db.write("V1__t.sql", "CREATE TABLE t (id int);\n");
    // refused by PostgreSQL inside a transaction
    db.write(
        "V2__index.sql",
        "-- keel:no-transaction\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n",
    );
    let (code, doc) = db.keel_json(&["up"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_indexes WHERE indexname = 't_id'"),
        "1"
    );
    // and a typo is an error there too, not a file run in a transaction
    db.write(
        "V3__typo.sql",
        "-- keel:no-transacton\nCREATE TABLE u (id int);\n",
    );
    let (code, doc) = db.keel_json(&["up"]);
    assert_eq!(code, Some(2), "{doc}");
    assert!(!db.has_table("u"));
}

crate::on_every_engine!(a_carriage_return_in_a_string_reaches_the_database, |db| {
    // a CRLF file (a Windows checkout) whose literal holds a lone CR: the
    // line endings are a checkout artifact, the CR is data
    db.write(
        "1_cr.sql",
        "CREATE TABLE t (s VARCHAR(10));\r\nINSERT INTO t VALUES ('a\rb');\r\n",
    );
    let (code, doc) = db.keel_json(&["up"]);
    assert_eq!(code, Some(0), "{doc}");
    let length = match db.engine {
        Engine::Mysql => "SELECT CHAR_LENGTH(s) FROM t",
        _ => "SELECT length(s) FROM t",
    };
    assert_eq!(db.scalar(length), "3");
    let cr = match db.engine {
        Engine::Postgres => "SELECT count(*) FROM t WHERE s = E'a\\rb'",
        Engine::Mysql => "SELECT COUNT(*) FROM t WHERE s = CONCAT('a', CHAR(13), 'b')",
        Engine::Sqlite => "SELECT count(*) FROM t WHERE s = 'a' || char(13) || 'b'",
    };
    assert_eq!(db.scalar(cr), "1", "the CR was changed on its way");
    // the same file with LF endings is the same migration
    db.write(
        "1_cr.sql",
        "CREATE TABLE t (s VARCHAR(10));\nINSERT INTO t VALUES ('a\rb');\n",
    );
    let (code, doc) = db.keel_json(&["status"]);
    assert_eq!(code, Some(0), "{doc}");
});
