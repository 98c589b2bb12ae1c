//! The splitter and the statement kinds, on hand-written SQL of each dialect.

use super::kinds::implicit_commit;
use super::*;

fn texts(sql: &str, d: Dialect) -> Vec<String> {
    split(sql, d).into_iter().map(|s| s.text).collect()
}

#[test]
fn splits_plain_statements_and_drops_comment_only_tail() {
    let sql = "-- header\nCREATE TABLE a (id int);\n\nINSERT INTO a VALUES (1);\n-- trailing\n";
    let st = split(sql, Dialect::Postgres);
    assert_eq!(st.len(), 2);
    assert_eq!(st[0].text, "-- header\nCREATE TABLE a (id int)");
    assert_eq!(
        st[1],
        Statement {
            text: "INSERT INTO a VALUES (1)".into(),
            line: 4
        }
    );
}

#[test]
fn semicolons_in_strings_comments_and_identifiers_do_not_split() {
    let sql = "INSERT INTO \"we;ird\" VALUES ('a;b', 'it''s;'); /* x; y */ SELECT 1 -- ;\n;";
    assert_eq!(texts(sql, Dialect::Postgres).len(), 2);
    let my = "INSERT INTO `t;` VALUES ('a\\';b', \"c;d\"); # ;\nSELECT 2;";
    assert_eq!(texts(my, Dialect::Mysql).len(), 2);
}

#[test]
fn postgres_dollar_quotes_and_escape_strings() {
    let sql = "CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN NEW.a := 1; RETURN NEW; END; $body$ LANGUAGE plpgsql;\n\
               SELECT E'a\\';b', $$x;y$$, $1;";
    let st = texts(sql, Dialect::Postgres);
    assert_eq!(st.len(), 2, "{st:#?}");
    assert!(st[0].ends_with("LANGUAGE plpgsql"));
}

#[test]
fn postgres_begin_atomic_body() {
    let sql = "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END; SELECT 2; END;\nSELECT 3;";
    assert_eq!(texts(sql, Dialect::Postgres).len(), 2);
}

#[test]
fn sqlite_trigger_body_stays_whole() {
    let sql = "CREATE TRIGGER t AFTER DELETE ON a BEGIN\n  INSERT INTO log VALUES (CASE WHEN old.id > 0 THEN 1 END);\n  DELETE FROM b WHERE a_id = old.id;\nEND;\nCREATE TABLE c (id int);";
    let st = texts(sql, Dialect::Sqlite);
    assert_eq!(st.len(), 2, "{st:#?}");
    assert!(st[0].ends_with("END"));
}

#[test]
fn mysql_routine_with_nested_blocks() {
    let sql = "CREATE PROCEDURE p() BEGIN\n DECLARE i INT DEFAULT 0;\n l1: LOOP\n  SET i = i + 1;\n  IF i > 3 THEN LEAVE l1; END IF;\n  SET @x = IF(i > 1, 1, 2);\n END LOOP l1;\n WHILE i > 0 DO SET i = i - 1; END WHILE;\nEND;\nSELECT 1;";
    let st = texts(sql, Dialect::Mysql);
    assert_eq!(st.len(), 2, "{st:#?}");
}

#[test]
fn blocks_a_file_opens_and_ends() {
    let effects = |sql: &str, d: Dialect| -> Vec<Option<bool>> {
        split(sql, d)
            .iter()
            .map(|s| block_effect(&s.text, d))
            .collect()
    };
    let sql = "BEGIN; INSERT INTO t VALUES (1); SAVEPOINT s; ROLLBACK TO s; ROLLBACK; START TRANSACTION; COMMIT; end;";
    assert_eq!(
        effects(sql, Dialect::Postgres),
        [
            Some(true),
            None,
            None,
            None,
            Some(false),
            Some(true),
            Some(false),
            Some(false)
        ]
    );
    let my = "START TRANSACTION; CREATE TEMPORARY TABLE x (id int); CREATE TABLE y (id int); INSERT INTO y VALUES (1);";
    assert_eq!(
        effects(my, Dialect::Mysql),
        [Some(true), None, Some(false), None]
    );
}

#[test]
fn transaction_control_is_found_only_at_the_top_level() {
    let control = |sql: &str, d: Dialect| -> Vec<&'static str> {
        split(sql, d)
            .iter()
            .filter_map(|s| transaction_control(&s.text, d))
            .collect()
    };
    let sql = "-- x\nBEGIN;\nCREATE TABLE a (id int);\n/* c */ COMMIT;\nSAVEPOINT s; ROLLBACK TO s; RELEASE s; END; start transaction;";
    assert_eq!(
        control(sql, Dialect::Postgres),
        [
            "BEGIN",
            "COMMIT",
            "SAVEPOINT",
            "ROLLBACK",
            "RELEASE",
            "END",
            "START TRANSACTION"
        ]
    );
    let pg = "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql;\n\
              DO $$ BEGIN PERFORM 1; END $$;\nCREATE TABLE calendar (id INT, event TEXT, begin TEXT);\n\
              CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;";
    assert!(control(pg, Dialect::Postgres).is_empty());
    let lite = "CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b; END;\n\
                CREATE TABLE calendar (id INT, event TEXT, begin TEXT);";
    assert!(control(lite, Dialect::Sqlite).is_empty());
    assert!(control("BEGIN NOT ATOMIC SELECT 1; END;", Dialect::Mysql).is_empty());
    assert_eq!(
        control("BEGIN WORK; COMMIT WORK;", Dialect::Mysql),
        ["BEGIN", "COMMIT"]
    );
}

#[test]
fn session_statements_are_recognised() {
    let pg = Dialect::Postgres;
    assert!(is_session_statement("SET search_path TO app", pg));
    assert!(is_session_statement(
        "SELECT pg_catalog.set_config('search_path', '', false)",
        pg
    ));
    assert!(is_session_statement(
        "-- x\nSELECT set_config('a.b', '1', false)",
        pg
    ));
    assert!(!is_session_statement(
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        pg
    ));
    assert!(!is_session_statement("SELECT 1", pg));
    assert!(is_session_statement("USE other", Dialect::Mysql));
    assert!(is_session_statement("SET NAMES utf8mb4", Dialect::Mysql));
    assert!(!is_session_statement("UPDATE t SET a = 1", Dialect::Mysql));
}

#[test]
fn created_objects_are_named() {
    let o = created_object(
        "-- c\nCREATE TABLE IF NOT EXISTS \"my \"\"t\"\"\" (id int)",
        Dialect::Postgres,
    );
    assert_eq!(
        o,
        Some(CreatedObject {
            index: false,
            schema: None,
            name: "my \"t\"".into()
        })
    );
    let o = created_object(
        "CREATE UNIQUE INDEX CONCURRENTLY i_a ON s.t (a)",
        Dialect::Postgres,
    );
    assert_eq!(
        o,
        Some(CreatedObject {
            index: true,
            schema: None,
            name: "i_a".into()
        })
    );
    let o = created_object(
        "create table `db`.`slow` AS SELECT SLEEP(2)",
        Dialect::Mysql,
    );
    assert_eq!(
        o,
        Some(CreatedObject {
            index: false,
            schema: Some("db".into()),
            name: "slow".into()
        })
    );
    assert_eq!(
        created_object("CREATE VIEW v AS SELECT 1", Dialect::Sqlite),
        None
    );
    assert_eq!(
        created_object("INSERT INTO t VALUES (1)", Dialect::Sqlite),
        None
    );
}

#[test]
fn event_begin_and_trigger_are_identifiers_in_a_table() {
    let sql = "CREATE TABLE calendar (id INT PRIMARY KEY, event VARCHAR(20), begin DATETIME);\n\
               CREATE TABLE trigger (id INT);\nINSERT INTO calendar VALUES (1, 'a', NULL);\nSELECT 1;";
    for d in [Dialect::Mysql, Dialect::Sqlite, Dialect::Postgres] {
        assert_eq!(texts(sql, d).len(), 4, "{d:?}: {:#?}", texts(sql, d));
    }
    // mysqldump's DEFINER forms still open a routine body
    let my = "CREATE DEFINER=`root`@`localhost` PROCEDURE p() BEGIN SELECT 1; SELECT 2; END;\n\
              CREATE DEFINER = CURRENT_USER() EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; DELETE FROM u; END;\nSELECT 3;";
    assert_eq!(
        texts(my, Dialect::Mysql).len(),
        3,
        "{:#?}",
        texts(my, Dialect::Mysql)
    );
}

#[test]
fn postgres_rules_nested_comments_and_e_strings() {
    let sql = "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO log VALUES (1); INSERT INTO log VALUES (2));\n\
               /* outer /* inner; */ still comment; */ SELECT E'it\\'s; fine';\nSELECT $tag$ a; $$ b; $tag$;";
    let st = texts(sql, Dialect::Postgres);
    assert_eq!(st.len(), 3, "{st:#?}");
    assert!(st[0].ends_with("VALUES (2))"));
}

#[test]
fn mysql_delimiter_blocks_as_the_mysql_client_reads_them() {
    let sql = "CREATE TABLE a (id INT);\nDELIMITER //\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND //\n\
               CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET NEW.id = 1//\nDELIMITER ;\nSELECT 3;\n";
    let st = split(sql, Dialect::Mysql);
    let t: Vec<&str> = st.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(t.len(), 4, "{t:#?}");
    assert!(
        t[1].starts_with("CREATE PROCEDURE p()") && t[1].ends_with("END"),
        "{t:#?}"
    );
    assert_eq!(st[1].line, 3);
    assert_eq!(
        t[2],
        "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET NEW.id = 1"
    );
    assert_eq!((t[3], st[3].line), ("SELECT 3", 10));
}

#[test]
fn statements_that_cannot_run_in_a_transaction() {
    let pg = |t| outside_transaction_only(t, Dialect::Postgres);
    assert_eq!(
        pg("-- why\ncreate unique index concurrently i on t (a)"),
        Some("CREATE INDEX CONCURRENTLY")
    );
    assert_eq!(
        pg("REINDEX (VERBOSE, CONCURRENTLY) TABLE t"),
        Some("REINDEX CONCURRENTLY")
    );
    assert_eq!(pg("VACUUM ANALYZE t"), Some("VACUUM"));
    assert_eq!(pg("CREATE INDEX i ON t (a)"), None);
    assert_eq!(pg("REINDEX TABLE t"), None);
    assert_eq!(pg("SELECT 'VACUUM'"), None);
    assert_eq!(
        outside_transaction_only("VACUUM", Dialect::Sqlite),
        Some("VACUUM")
    );
    assert_eq!(outside_transaction_only("VACUUM", Dialect::Mysql), None);
}

#[test]
fn psql_commands_and_copy_blocks_as_psql_reads_them() {
    let sql = "--\n-- PostgreSQL database dump\n--\n\n\\restrict AbC123\n\nSET x = 1;\n\
               COPY app.t (id, note) FROM stdin;\n1\ta;b\n2\t\\N\n3\t\\\\.\n\\.\n\
               SELECT 2;\n\\connect other\nCOPY u FROM STDIN WITH (DELIMITER ';');\n4;x\n\\.\n\
               \\unrestrict AbC123\n";
    let got = split(sql, Dialect::Postgres);
    let texts: Vec<&str> = got.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(texts.len(), 5, "{texts:#?}");
    assert!(texts[0].ends_with("SET x = 1") && !texts[0].contains("restrict"));
    assert!(texts[1].starts_with("COPY app.t") && texts[1].ends_with("\\."));
    assert_eq!(got[1].line, 8);
    assert_eq!(texts[2], "SELECT 2");
    assert_eq!(texts[3], "\\connect other");
    assert_eq!(got[3].line, 14);
    let (command, data) = copy_from_stdin(texts[1]).expect("a COPY");
    assert_eq!(command, "COPY app.t (id, note) FROM stdin");
    // a row holding `\\.` (an escaped backslash) is data, not the end
    assert_eq!(data, "1\ta;b\n2\t\\N\n3\t\\\\.\n");
    let (command, data) = copy_from_stdin(texts[4]).expect("a COPY");
    assert_eq!(command, "COPY u FROM STDIN WITH (DELIMITER ';')");
    assert_eq!(data, "4;x\n");
    assert_eq!(
        psql_command(texts[3]).map(|c| (c.name, c.inert)),
        Some(("connect", false))
    );
    assert!(psql_command("\\restrict k").is_some_and(|c| c.inert));
    assert!(psql_command("\\set ON_ERROR_STOP on").is_some_and(|c| c.inert));
    assert!(psql_command("\\set x 1").is_some_and(|c| !c.inert));
    assert_eq!(copy_from_stdin("COPY t TO STDOUT"), None);
    // data to the end of the file when `\\.` is missing
    let open = split("COPY t FROM stdin;\n1\n2", Dialect::Postgres);
    assert_eq!(open.len(), 1);
    assert_eq!(
        copy_from_stdin(&open[0].text)
            .map(|(_, d)| d.into_owned())
            .as_deref(),
        Some("1\n2\n")
    );
    // elsewhere a backslash is no psql command and COPY has no data
    assert_eq!(split("SELECT 1;\n\\x\n", Dialect::Mysql).len(), 2);
    assert_eq!(
        split("COPY t FROM stdin;\nSELECT 1;", Dialect::Sqlite).len(),
        2
    );
}

#[test]
fn mysql_executable_comments_are_code() {
    let sql = "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n\
               /* a comment; only */\n\
               /*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;\n\
               CREATE TABLE t (id INT);\n\
               DELIMITER ;;\n\
               /*!50003 CREATE*/ /*!50017 DEFINER=`root`@`%`*/ /*!50003 TRIGGER trg BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.id = 1; END */;;\n\
               DELIMITER ;\n";
    let got = split(sql, Dialect::Mysql);
    assert_eq!(got.len(), 4, "{got:#?}");
    assert!(got[0].text.starts_with("/*!40101 SET"));
    assert_eq!(got[1].line, 2); // with the comment before it
    assert!(got[3].text.ends_with("END */"));
    assert!(is_session_statement(&got[0].text, Dialect::Mysql));
    assert!(is_session_statement(&got[1].text, Dialect::Mysql));
    assert!(implicit_commit("/*!40000 ALTER TABLE `t` DISABLE KEYS */"));
    // elsewhere `/*!` is an ordinary comment
    assert!(split("/*! not code */;", Dialect::Postgres).is_empty());
    assert!(split("/*! not code */;", Dialect::Sqlite).is_empty());
}

#[test]
fn goose_statement_blocks_keep_their_semicolons() {
    let sql = "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS 'SELECT 1; SELECT 2' LANGUAGE sql;\nDO 'x; y';\n-- +goose StatementEnd\nSELECT 1;";
    let t = texts(sql, Dialect::Postgres);
    assert_eq!(t.len(), 3, "{t:#?}");
    assert!(
        t[1].starts_with("CREATE FUNCTION") && t[1].ends_with("DO 'x; y'"),
        "{t:#?}"
    );
}

#[test]
fn splits_forty_thousand_statements_with_their_lines() {
    let sql: String = (0..40_000)
        .map(|i| format!("INSERT INTO t (id, name) VALUES ({i}, 'name; {i}');\n"))
        .collect();
    for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
        let st = split(&sql, d);
        assert_eq!(st.len(), 40_000);
        assert_eq!(st[39_999].line, 40_000);
    }
}

mod properties {
    use super::super::*;
    use proptest::prelude::*;

    /// A statement with no `;` outside quotes and comments, made of
    /// the pieces that fool splitters.
    fn statement() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[a-z_][a-z0-9_]{0,8}",
            "[0-9]{1,4}",
            Just("'a;b'".to_string()),
            Just("'it''s; x'".to_string()),
            Just("\"we;ird\"".to_string()),
            Just("/* c; */".to_string()),
            Just("-- c;\n".to_string()),
            Just("(1, 2)".to_string()),
            Just("event".to_string()),
            Just("begin".to_string()),
            Just("end".to_string()),
            Just("trigger".to_string()),
        ];
        (
            prop_oneof![
                Just("SELECT"),
                Just("INSERT INTO t VALUES"),
                Just("CREATE TABLE x")
            ],
            proptest::collection::vec(piece, 0..8),
        )
            .prop_map(|(head, pieces)| format!("{head} {}", pieces.join(" ")))
    }

    proptest! {
        #[test]
        fn joined_statements_split_back(statements in proptest::collection::vec(statement(), 1..12)) {
            for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
                let sql = statements.join(";\n");
                let got: Vec<String> = split(&sql, d).into_iter().map(|s| s.text).collect();
                let want: Vec<String> = statements.iter().map(|s| s.trim().to_string()).collect();
                prop_assert_eq!(got, want, "{:?}", d);
            }
        }

        #[test]
        fn postgres_dollar_bodies_split_back(bodies in proptest::collection::vec("[a-z; ]{0,20}", 1..8)) {
            let statements: Vec<String> = bodies
                .iter()
                .enumerate()
                .map(|(i, b)| format!("DO $t{i}$ {b} $t{i}$"))
                .collect();
            let sql = statements.join(";\n");
            let got: Vec<String> = split(&sql, Dialect::Postgres).into_iter().map(|s| s.text).collect();
            prop_assert_eq!(got, statements);
        }
    }
}

#[test]
fn begin_transaction_outside_compound_statements_is_a_statement() {
    assert_eq!(texts("BEGIN; SELECT 1; COMMIT;", Dialect::Sqlite).len(), 3);
}

#[test]
fn a_dollar_delimiter_right_after_a_word_ends_the_statement() {
    // as phpMyAdmin exports and most tutorials write it
    let sql = "DELIMITER $$\nCREATE PROCEDURE p1() BEGIN SELECT 1; END$$\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET @a=1$$\nDELIMITER ;\nselect 2;\n";
    let got = texts(sql, Dialect::Mysql);
    assert_eq!(
        got,
        [
            "CREATE PROCEDURE p1() BEGIN SELECT 1; END",
            "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET @a=1",
            "select 2"
        ]
    );
    let single = texts(
        "DELIMITER $\nCREATE PROCEDURE p() BEGIN SELECT 1; END$\nDELIMITER ;\n",
        Dialect::Mysql,
    );
    assert_eq!(single, ["CREATE PROCEDURE p() BEGIN SELECT 1; END"]);
}

#[test]
fn autocommit_off_opens_a_transaction_each_write_joins() {
    let run = |sql: &str| {
        let mut open = OpenTransaction::default();
        for (i, s) in split(sql, Dialect::Mysql).iter().enumerate() {
            open.step(i, &s.text, Dialect::Mysql);
        }
        open
    };
    assert_eq!(
        run("SET autocommit=0; INSERT INTO t VALUES (1)").since(),
        Some(0)
    );
    assert_eq!(
        run("SET autocommit=0; INSERT INTO t VALUES (1); COMMIT").since(),
        None
    );
    // after a COMMIT the next write opens another; settings do not
    let after =
        run("SET @@session.autocommit := OFF; COMMIT; SET NAMES utf8mb4; UPDATE t SET a = 1");
    assert_eq!(after.since(), Some(3));
    assert!(after.autocommit_off());
    // DDL commits; turning autocommit on commits
    assert_eq!(
        run("SET autocommit=0; INSERT INTO t VALUES (1); CREATE TABLE u (id INT)").since(),
        None
    );
    assert_eq!(
        run("/*!40101 SET autocommit=0 */; INSERT INTO t VALUES (1); SET autocommit = 1").since(),
        None
    );
    // mysqldump --no-autocommit leaves nothing open
    let dump = "LOCK TABLES `t` WRITE;\n/*!40000 ALTER TABLE `t` DISABLE KEYS */;\nset autocommit=0;\nINSERT INTO `t` VALUES (1);\n/*!40000 ALTER TABLE `t` ENABLE KEYS */;\nUNLOCK TABLES;\ncommit;\n/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n";
    assert_eq!(run(dump).since(), None);
    // elsewhere autocommit is no SQL setting
    let mut pg = OpenTransaction::default();
    pg.step(0, "SET autocommit = 0", Dialect::Postgres);
    assert!(!pg.autocommit_off());
}
