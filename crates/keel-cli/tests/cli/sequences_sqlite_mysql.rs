//! `keel sequences [--fix]` on SQLite (`sqlite_sequence` behind the data of
//! AUTOINCREMENT tables) and MySQL/MariaDB (`AUTO_INCREMENT` behind the
//! data, columns near the end of their type), run as the real binary
//! against real databases.
//!
//! MariaDB 10.11 clamps every way to lower `AUTO_INCREMENT` below
//! `MAX + 1` for a column that leads an index (ALTER on InnoDB, MyISAM,
//! Aria and MEMORY, UPDATE of the id, EXCHANGE PARTITION, adding
//! AUTO_INCREMENT to a filled column), so a MySQL table that is truly
//! behind cannot be built here: the arithmetic of that case is unit-tested
//! in `keel::sequences::mysql`, and these tests cover everything else.

use crate::support::{Engine, TestDb};
use serde_json::Value;

/// (problem, table, column) of every finding or change.
fn named(list: &Value) -> Vec<(String, String, String)> {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| (s(&f["problem"]), s(&f["table"]), s(&f["column"])))
        .collect()
}

fn behind(table: &str, column: &str) -> (String, String, String) {
    ("behind".into(), table.into(), column.into())
}

/// A SQLite identifier, embedded quotes doubled.
fn sq(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

const WEIRD: &str = "we\"ird name";

/// AUTOINCREMENT tables `user`, `case`, `order` and `we"ird name`, filled
/// with explicit ids as an import does, then with `sqlite_sequence` lowered
/// (user, weird) or deleted (case, order) behind the data.
fn sqlite_behind() -> TestDb {
    let db = TestDb::new(Engine::Sqlite, "sqlite_behind");
    for t in ["user", "case", "order", WEIRD] {
        db.query(&format!(
            "CREATE TABLE {} ({} INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)",
            sq(t),
            sq(if t == WEIRD { "the id" } else { "id" })
        ));
        db.query(&format!(
            "INSERT INTO {} VALUES (1, 'a'), (100, 'b')",
            sq(t)
        ));
    }
    db.query("UPDATE sqlite_sequence SET seq = 5 WHERE name IN ('user', 'we\"ird name')");
    db.query("DELETE FROM sqlite_sequence WHERE name IN ('case', 'order')");
    db
}

#[test]
fn sqlite_counters_behind_the_data_are_named_with_exit_1() {
    let db = sqlite_behind();
    let (code, doc) = db.keel_json(&["sequences"]);
    assert_eq!(code, Some(1), "{doc}");
    assert_eq!(doc["sound"], false);
    assert_eq!(doc["columns_checked"], 4);
    assert_eq!(
        named(&doc["findings"]),
        [
            behind("case", "id"),
            behind("order", "id"),
            behind("user", "id"),
            behind(WEIRD, "the id")
        ]
    );
    let user = &doc["findings"][2];
    assert_eq!(user["sequence"], "sqlite_sequence");
    assert_eq!(user["fixable"], true);
    assert_eq!(
        user["detail"],
        "sqlite_sequence is 5 but MAX(id) is 100: ids SQLite promised never to reuse would be reused after deletes"
    );
    assert!(doc["changes"].as_array().unwrap().is_empty());
    // checking changed nothing
    assert_eq!(
        db.scalar("SELECT seq FROM sqlite_sequence WHERE name = 'user'"),
        "5"
    );

    let out = db.keel().arg("sequences").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("user.id (sqlite_sequence)"), "{text}");
    assert!(text.contains("keel sequences --fix"), "{text}");
}

#[test]
fn sqlite_fix_raises_every_counter_once_and_ids_are_not_reused_afterwards() {
    let db = sqlite_behind();
    let (code, doc) = db.keel_json(&["sequences", "--fix"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["sound"], true);
    assert_eq!(named(&doc["findings"]).len(), 4);
    assert!(doc["remaining"].as_array().unwrap().is_empty());
    let changes = &doc["changes"];
    assert_eq!(
        named(changes),
        [
            behind("case", "id"),
            behind("order", "id"),
            behind("user", "id"),
            behind(WEIRD, "the id")
        ]
    );
    let before_after = |i: usize| {
        (
            changes[i]["before"].as_str().unwrap().to_string(),
            changes[i]["after"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(before_after(0), ("no row".into(), "seq 100".into()));
    assert_eq!(before_after(2), ("seq 5".into(), "seq 100".into()));
    assert!(
        changes[2]["sql"][0]
            .as_str()
            .unwrap()
            .contains("sqlite_sequence")
    );
    for t in ["user", "case", "order", WEIRD] {
        assert_eq!(
            db.scalar(&format!(
                "SELECT seq FROM sqlite_sequence WHERE name = '{t}'"
            )),
            "100",
            "{t}"
        );
    }

    // a second run finds nothing and changes nothing
    let (code, again) = db.keel_json(&["sequences", "--fix"]);
    assert_eq!(code, Some(0), "{again}");
    assert!(again["findings"].as_array().unwrap().is_empty());
    assert!(again["changes"].as_array().unwrap().is_empty());
    let out = db.keel().args(["sequences", "--fix"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to change"));

    // the next id follows the data, and a deleted top id is never handed out again
    for t in ["user", WEIRD] {
        let (t, id) = (sq(t), sq(if t == WEIRD { "the id" } else { "id" }));
        db.query(&format!("INSERT INTO {t} (v) VALUES ('new')"));
        assert_eq!(db.scalar(&format!("SELECT MAX({id}) FROM {t}")), "101");
        db.query(&format!("DELETE FROM {t} WHERE {id} = 101"));
        db.query(&format!("INSERT INTO {t} (v) VALUES ('newer')"));
        assert_eq!(
            db.scalar(&format!("SELECT {id} FROM {t} WHERE v = 'newer'")),
            "102"
        );
    }
}

#[test]
fn sqlite_a_deleted_top_id_is_handed_out_again_until_fix_raises_the_counter() {
    // What the finding warns about, so the check is about something real.
    let db = TestDb::new(Engine::Sqlite, "sqlite_reuse");
    db.query("CREATE TABLE \"case\" (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)");
    for v in ["a", "b", "c"] {
        db.query(&format!("INSERT INTO \"case\" (v) VALUES ('{v}')"));
    }
    db.query("UPDATE sqlite_sequence SET seq = 1 WHERE name = 'case'");
    db.query("DELETE FROM \"case\" WHERE id = 3");
    db.query("INSERT INTO \"case\" (v) VALUES ('reused')");
    assert_eq!(db.scalar("SELECT id FROM \"case\" WHERE v = 'reused'"), "3");

    db.query("UPDATE sqlite_sequence SET seq = 1 WHERE name = 'case'");
    let (code, doc) = db.keel_json(&["sequences", "--fix"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["changes"][0]["before"], "seq 1");
    assert_eq!(doc["changes"][0]["after"], "seq 3");
    db.query("DELETE FROM \"case\" WHERE id = 3");
    db.query("INSERT INTO \"case\" (v) VALUES ('fresh')");
    assert_eq!(db.scalar("SELECT id FROM \"case\" WHERE v = 'fresh'"), "4");
}

#[test]
fn sqlite_sound_and_plain_rowid_tables_report_nothing_and_fix_changes_nothing() {
    let db = TestDb::new(Engine::Sqlite, "sqlite_sound");
    db.write(
        "0001_tables.sql",
        "CREATE TABLE \"user\" (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);\n\
         -- no AUTOINCREMENT keyword, only mentions of it\n\
         CREATE TABLE plain (id INTEGER PRIMARY KEY, \"AUTOINCREMENT\" TEXT DEFAULT 'AUTOINCREMENT' /* AUTOINCREMENT */);\n\
         INSERT INTO \"user\" VALUES (100, 'imported');\n\
         INSERT INTO plain (id) VALUES (500);\n",
    );
    db.keel().arg("up").assert().success();
    let (code, doc) = db.keel_json(&["sequences"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["sound"], true);
    assert_eq!(doc["columns_checked"], 1);
    assert!(doc["findings"].as_array().unwrap().is_empty());
    let (code, doc) = db.keel_json(&["sequences", "--fix"]);
    assert_eq!(code, Some(0), "{doc}");
    assert!(doc["changes"].as_array().unwrap().is_empty());
    let out = db.keel().arg("sequences").output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("every sequence is sound (1 column(s)"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn sqlite_the_tracking_table_is_never_touched() {
    let db = sqlite_behind();
    // `order` plays the tracking table: skipped, left behind as it was
    let (code, doc) = db.keel_json(&["sequences", "--table", "order", "--fix"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["columns_checked"], 3);
    assert!(!named(&doc["changes"]).iter().any(|c| c.1 == "order"));
    assert_eq!(
        db.scalar("SELECT count(*) FROM sqlite_sequence WHERE name = 'order'"),
        "0"
    );
}

/// `user`, `case` and `we"ird name` (with an `order` column) on InnoDB,
/// MyISAM and Aria, filled with explicit ids as an import does.
fn mysql_tables(db: &TestDb) {
    for (t, engine) in [("user", "InnoDB"), ("case", "MyISAM"), (WEIRD, "Aria")] {
        db.query(&format!(
            "CREATE TABLE `{t}` (id INT AUTO_INCREMENT PRIMARY KEY, `order` INT) ENGINE={engine}"
        ));
        db.query(&format!(
            "INSERT INTO `{t}` (id, `order`) VALUES (1, 1), (100, 2)"
        ));
    }
}

#[test]
fn mysql_sound_tables_with_reserved_and_quoted_names_report_nothing() {
    let db = TestDb::new(Engine::Mysql, "mysql_sound");
    db.write("0001_t.sql", "CREATE TABLE t (id INT PRIMARY KEY);\n");
    db.keel().arg("up").assert().success();
    mysql_tables(&db);
    let (code, doc) = db.keel_json(&["sequences"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["sound"], true);
    assert_eq!(doc["columns_checked"], 3);
    assert!(doc["findings"].as_array().unwrap().is_empty());
    let (code, doc) = db.keel_json(&["sequences", "--fix"]);
    assert_eq!(code, Some(0), "{doc}");
    assert!(doc["changes"].as_array().unwrap().is_empty());
    // the next plain INSERT follows the data
    db.query("INSERT INTO `we\"ird name` (`order`) VALUES (3)");
    assert_eq!(db.scalar("SELECT MAX(id) FROM `we\"ird name`"), "101");
}

#[test]
fn mysql_near_exhaustion_is_reported_and_left_to_a_person_by_fix() {
    let db = TestDb::new(Engine::Mysql, "mysql_exhaustion");
    mysql_tables(&db);
    db.query("CREATE TABLE `order` (id TINYINT AUTO_INCREMENT PRIMARY KEY)");
    db.query("INSERT INTO `order` VALUES (120)");
    db.query("CREATE TABLE `full` (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY)");
    db.query("INSERT INTO `full` VALUES (18446744073709551615)");
    let exhausted = |t: &str| {
        (
            "near-exhaustion".to_string(),
            t.to_string(),
            "id".to_string(),
        )
    };

    let (code, doc) = db.keel_json(&["sequences"]);
    assert_eq!(code, Some(1), "{doc}");
    assert_eq!(doc["columns_checked"], 5);
    assert_eq!(
        named(&doc["findings"]),
        [exhausted("full"), exhausted("order")]
    );
    let order = &doc["findings"][1];
    assert_eq!(order["fixable"], false);
    assert_eq!(order["sequence"], "AUTO_INCREMENT");
    let detail = order["detail"].as_str().unwrap();
    assert!(detail.starts_with("94.4% of the tinyint"), "{detail}");
    assert!(detail.contains("MAX(id) is 120"), "{detail}");
    let out = db.keel().arg("sequences").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("[needs a person]"));

    let (code, doc) = db.keel_json(&["sequences", "--fix"]);
    assert_eq!(code, Some(1), "{doc}");
    assert!(doc["changes"].as_array().unwrap().is_empty());
    assert_eq!(
        named(&doc["remaining"]),
        [exhausted("full"), exhausted("order")]
    );
}

#[test]
fn mysql_a_grouped_myisam_counter_below_the_maximum_is_not_behind() {
    // Per-group numbering ignores the table's counter, which MariaDB then
    // lets sit below MAX(id): no INSERT collides, so nothing is reported.
    let db = TestDb::new(Engine::Mysql, "mysql_grouped");
    db.query(
        "CREATE TABLE `case` (grp INT, id INT AUTO_INCREMENT, PRIMARY KEY (grp, id)) ENGINE=MyISAM",
    );
    db.query("INSERT INTO `case` VALUES (1, 100)");
    db.query("ALTER TABLE `case` AUTO_INCREMENT = 5");
    assert_eq!(
        db.scalar("SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'case'"),
        "5"
    );
    let (code, doc) = db.keel_json(&["sequences", "--fix"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["columns_checked"], 1);
    assert!(doc["findings"].as_array().unwrap().is_empty());
    assert!(doc["changes"].as_array().unwrap().is_empty());
    db.query("INSERT INTO `case` (grp) VALUES (1)");
    assert_eq!(db.scalar("SELECT MAX(id) FROM `case`"), "101");
}

#[test]
fn mysql_hundreds_of_tables_are_checked_with_findings_named_right() {
    // 501 tables: the maxima take two UNION ALL statements; the finding in
    // each must land on its own table.
    let db = TestDb::new(Engine::Mysql, "mysql_many");
    let create: Vec<String> = (0..501)
        .map(|i| {
            format!("CREATE TABLE `t {i:03}` (id INT AUTO_INCREMENT PRIMARY KEY) ENGINE=MEMORY")
        })
        .collect();
    db.query(&create.join(";"));
    db.query("ALTER TABLE `t 007` MODIFY id BIGINT UNSIGNED AUTO_INCREMENT");
    db.query("INSERT INTO `t 007` VALUES (18000000000000000000)");
    db.query("ALTER TABLE `t 500` MODIFY id SMALLINT AUTO_INCREMENT");
    db.query("INSERT INTO `t 500` VALUES (30000)");
    db.query("INSERT INTO `t 250` VALUES (42)");
    let (code, doc) = db.keel_json(&["sequences"]);
    assert_eq!(code, Some(1), "{doc}");
    assert_eq!(doc["columns_checked"], 501);
    let tables: Vec<String> = named(&doc["findings"]).into_iter().map(|f| f.1).collect();
    assert_eq!(tables, ["t 007", "t 500"]);
}
