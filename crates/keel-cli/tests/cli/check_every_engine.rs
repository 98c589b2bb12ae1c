//! `keel check` on every engine: clean after `keel up`; drift made by hand
//! is found and named; pending migrations fail the gate; JSON for CI.

use crate::on_every_engine;
use crate::support::TestDb;
use serde_json::Value;

fn drift_ids(doc: &Value) -> Vec<String> {
    crate::support::difference_ids(&doc["drift"]["differences"])
}

fn setup(db: &TestDb) {
    db.write(
        "0001_user.sql",
        format!(
            "CREATE TABLE {} (code varchar(20) PRIMARY KEY, email varchar(200) NOT NULL);",
            db.q("user")
        ),
    );
    db.write(
        "0002_order.sql",
        format!(
            "CREATE TABLE {o} (code varchar(20) PRIMARY KEY, {u} varchar(20) REFERENCES {u} (code));\n\
             CREATE INDEX order_user ON {o} ({u});\n\
             CREATE VIEW user_orders AS SELECT x.email, y.code FROM {u} x JOIN {o} y ON y.{u} = x.code;",
            o = db.q("order"),
            u = db.q("user")
        ),
    );
    let (code, doc) = db.keel_json(&["up"]);
    assert_eq!(code, Some(0), "{doc}");
}

on_every_engine!(check_passes_on_a_database_its_migrations_built, |db| {
    setup(&db);
    let (code, doc) = db.keel_json(&["check"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["passed"], true);
    assert_eq!(doc["drift"]["state"], "checked");
    assert_eq!(doc["drift"]["up_to"], 2);
    let out = db.keel().arg("check").output().expect("run keel");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("drift: none") && text.contains("check passed"),
        "{text}"
    );
});

on_every_engine!(
    check_finds_drift_made_by_hand_and_pending_migrations,
    |db| {
        setup(&db);
        db.query(&format!(
            "ALTER TABLE {} ADD COLUMN sneaky integer",
            db.q("user")
        ));
        if db.engine == crate::support::Engine::Mysql {
            // MySQL refuses to drop the index a foreign key uses: retype instead
            db.query(&format!(
                "ALTER TABLE {} MODIFY email varchar(100) NOT NULL",
                db.q("user")
            ));
        } else {
            db.query("DROP INDEX order_user");
        }
        db.write("0003_later.sql", "CREATE TABLE later (x integer);");
        let (code, doc) = db.keel_json(&["check"]);
        assert_eq!(code, Some(1), "{doc}");
        assert_eq!(doc["passed"], false);
        let expected = if db.engine == crate::support::Engine::Mysql {
            ["column/public/user/email/type", "column/public/user/sneaky"]
        } else {
            ["column/public/user/sneaky", "index/public/order/order_user"]
        };
        assert_eq!(drift_ids(&doc), expected, "{doc}");
        let pending: Vec<&Value> = doc["migrations"]
            .as_array()
            .map(|a| a.iter().filter(|m| m["state"] == "pending").collect())
            .unwrap_or_default();
        assert_eq!(pending.len(), 1, "{doc}");
        let out = db.keel().arg("check").output().expect("run keel");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("pending       0003_later.sql"), "{text}");
        assert!(text.contains("extra    column sneaky"), "{text}");
        assert!(text.contains("check failed"), "{text}");
    }
);
