//! `keel diff` on PostgreSQL: incident 4 (production lacks four columns,
//! has a `uuid` id where the code sends strings, misses a foreign key and
//! runs a different trigger) found exactly, fixed by the plan, clean after;
//! and every object kind round-trips through introspect → plan → re-create.

use crate::support::{Engine, TestDb};
use serde_json::Value;

fn ids(doc: &Value) -> Vec<String> {
    crate::support::difference_ids(&doc["differences"])
}

/// Runs `keel diff` with `args`; exit code, stdout, stderr.
fn diff(db: &TestDb, args: &[&str]) -> (Option<i32>, String, String) {
    let (code, out, err, _) = diff_pid(db, args);
    (code, out, err)
}

/// Also the keel process's id (scratch databases carry it in their name).
fn diff_pid(db: &TestDb, args: &[&str]) -> (Option<i32>, String, String, u32) {
    let mut all = vec!["diff"];
    all.extend_from_slice(args);
    let child = db
        .keel_process(&all)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run keel");
    let pid = child.id();
    let out = child.wait_with_output().expect("run keel");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        pid,
    )
}

const TRIGGER_FUNCTION: &str =
    "CREATE FUNCTION audit_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_log (what) VALUES (TG_OP || ' ' || OLD.id);
  RETURN OLD;
END $$;";

#[test]
fn incident_4_drift_is_found_exactly_fixed_by_the_plan_and_clean_afterwards() {
    let db = TestDb::new(Engine::Postgres, "diff_incident_4");
    db.write(
        "0001_schema.sql",
        format!(
            "CREATE TABLE \"user\" (id varchar(255) PRIMARY KEY, email text NOT NULL,
               status varchar(20) NOT NULL DEFAULT 'active',
               login_count integer NOT NULL DEFAULT 0,
               is_admin boolean NOT NULL DEFAULT false,
               created_at timestamptz NOT NULL DEFAULT now());
             CREATE TABLE \"order\" (id bigserial PRIMARY KEY,
               user_id varchar(255) NOT NULL REFERENCES \"user\" (id) ON DELETE CASCADE, total numeric(10,2));
             CREATE TABLE audit_log (id bigserial PRIMARY KEY, what text);
             {TRIGGER_FUNCTION}
             CREATE TRIGGER order_audit BEFORE DELETE ON \"order\" FOR EACH ROW EXECUTE FUNCTION audit_order();"
        ),
    );
    // production: built by hand long ago, and drifted
    db.query(&format!(
        "CREATE TABLE \"user\" (id uuid PRIMARY KEY, email text NOT NULL);
         CREATE TABLE \"order\" (id bigserial PRIMARY KEY, user_id varchar(255) NOT NULL, total numeric(10,2));
         CREATE TABLE audit_log (id bigserial PRIMARY KEY, what text);
         {TRIGGER_FUNCTION}
         CREATE TRIGGER order_audit AFTER DELETE ON \"order\" FOR EACH ROW EXECUTE FUNCTION audit_order();
         INSERT INTO \"user\" (id, email) VALUES ('8d1e7c52-4a4b-4bd4-9d43-2b3f0a8c2f11', 'a@example.com');
         INSERT INTO \"order\" (user_id, total) VALUES ('8d1e7c52-4a4b-4bd4-9d43-2b3f0a8c2f11', 9.5);"
    ));

    let (code, doc) = db.keel_json(&["diff", "migrations", &db.url]);
    assert_eq!(code, Some(1), "drift found: exit 1\n{doc}");
    assert_eq!(
        ids(&doc),
        [
            "column/public/user/created_at",
            "column/public/user/id/type",
            "column/public/user/is_admin",
            "column/public/user/login_count",
            "column/public/user/status",
            "foreign_key/public/order/order_user_id_fkey",
            "trigger/public/order/order_audit/definition",
        ],
        "{doc}"
    );
    let retyped = doc["differences"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["id"] == "column/public/user/id/type"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(retyped["expected"], "character varying(255)");
    assert_eq!(retyped["actual"], "uuid");
    assert_eq!(doc["plan"], Value::Null, "no plan without --sql");

    let (code, text, _) = diff(&db, &["migrations", &db.url]);
    assert_eq!(code, Some(1));
    assert!(text.contains("public.user\n"), "grouped by table:\n{text}");
    assert!(
        text.contains("changed  column id type: expected character varying(255), actual uuid"),
        "{text}"
    );

    let (code, plan, stderr, pid) = diff_pid(&db, &["migrations", &db.url, "--sql"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        plan.starts_with("-- keel plan") && plan.contains("BEGIN;") && plan.contains("COMMIT;"),
        "{plan}"
    );
    assert!(
        plan.contains("ADD COLUMN IF NOT EXISTS \"status\""),
        "{plan}"
    );
    assert!(
        plan.contains(
            "-- hazard: takes SHARE ROW EXCLUSIVE locks on both public.order and public.user"
        ),
        "the foreign key's locking is commented:\n{plan}"
    );
    assert!(plan.contains("-- hazard: rewrites public.user"), "{plan}");
    assert!(stderr.contains("checked on a scratch copy"), "{stderr}");
    assert_eq!(
        db.scalar(&format!(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'keel\\_scratch\\_{pid}\\_%'"
        )),
        "0",
        "scratch databases are dropped"
    );

    db.query(&plan);
    // the plan is idempotent: running it twice changes nothing and fails nothing
    db.query(&plan);
    let (code, text, _) = diff(&db, &["migrations", &db.url]);
    assert_eq!(code, Some(0), "clean after the plan:\n{text}");
    assert!(text.contains("no differences"));
    assert_eq!(
        db.scalar("SELECT status || login_count || is_admin FROM \"user\""),
        "active0false",
        "existing rows got the defaults"
    );
}

#[test]
fn destructive_changes_are_left_out_unless_allowed() {
    let from = TestDb::new(Engine::Postgres, "diff_destr_from");
    let to = TestDb::new(Engine::Postgres, "diff_destr_to");
    from.query("CREATE TABLE t (id int PRIMARY KEY)");
    to.query("CREATE TABLE t (id int PRIMARY KEY, legacy text); CREATE TABLE old_stuff (x int)");
    let (code, plan, _) = diff(&to, &[&from.url, &to.url, "--sql"]);
    assert_eq!(code, Some(1));
    assert!(
        !plan.contains("\nALTER TABLE \"public\".\"t\" DROP COLUMN"),
        "{plan}"
    );
    assert!(plan.contains("-- omitted column/public/t/legacy"), "{plan}");
    assert!(plan.contains("-- omitted table/public/old_stuff"), "{plan}");
    let (code, plan, _) = diff(&to, &[&from.url, &to.url, "--sql", "--allow-destructive"]);
    assert_eq!(code, Some(1));
    assert!(
        plan.contains("DROP TABLE IF EXISTS \"public\".\"old_stuff\""),
        "{plan}"
    );
    to.query(&plan);
    let (code, _, _) = diff(&to, &[&from.url, &to.url]);
    assert_eq!(code, Some(0));
}

#[test]
fn every_object_kind_round_trips_through_a_plan_into_an_empty_database() {
    let src = TestDb::new(Engine::Postgres, "diff_roundtrip_src");
    let dst = TestDb::new(Engine::Postgres, "diff_roundtrip_dst");
    src.query(
        r#"CREATE SCHEMA audit;
        CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
        CREATE SEQUENCE invoice_no START 1000 INCREMENT 5;
        CREATE TABLE "user" (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          email varchar(200) NOT NULL UNIQUE,
          name text COLLATE "C",
          mood mood NOT NULL DEFAULT 'ok',
          score numeric(8,2) CHECK (score >= 0),
          email_lower text GENERATED ALWAYS AS (lower(email)) STORED,
          created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE "order" (
          id serial PRIMARY KEY,
          "user" bigint REFERENCES "user" (id) ON DELETE SET NULL ON UPDATE CASCADE DEFERRABLE INITIALLY DEFERRED,
          invoice integer NOT NULL DEFAULT nextval('invoice_no'),
          "we""ird name" text,
          placed date NOT NULL,
          CONSTRAINT order_invoice_uq UNIQUE (invoice, placed));
        CREATE INDEX order_recent ON "order" (placed DESC) WHERE "user" IS NOT NULL;
        CREATE INDEX user_lower_email ON "user" (lower(email)) INCLUDE (name);
        CREATE TABLE audit.entries (id bigserial PRIMARY KEY, at timestamptz DEFAULT now(), what text);
        CREATE FUNCTION audit.log_order() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO audit.entries (what) VALUES (TG_OP); RETURN NEW; END $$;
        CREATE TRIGGER order_log AFTER INSERT OR UPDATE ON "order" FOR EACH ROW EXECUTE FUNCTION audit.log_order();
        CREATE VIEW big_orders AS SELECT o.id, u.email FROM "order" o JOIN "user" u ON u.id = o."user";
        CREATE VIEW big_order_emails AS SELECT email FROM big_orders;
        CREATE MATERIALIZED VIEW order_counts AS SELECT "user", count(*) AS n FROM "order" GROUP BY "user";"#,
    );
    let (code, doc) = dst.keel_json(&["diff", &src.url, &dst.url, "--sql"]);
    assert_eq!(code, Some(1), "{doc}");
    assert_eq!(doc["plan"]["verified"], true);
    let plan = doc["plan"]["sql"].as_str().unwrap_or_default().to_string();
    dst.query(&plan);
    let (code, doc) = dst.keel_json(&["diff", &src.url, &dst.url]);
    assert_eq!(code, Some(0), "everything re-created:\n{doc}\n{plan}");
    assert_eq!(doc["same"], true);
    // and the copy works: the identity, the serial, the sequence default
    dst.query("INSERT INTO \"user\" (email) VALUES ('x@example.com'); INSERT INTO \"order\" (\"user\", placed) SELECT id, current_date FROM \"user\"");
    assert_eq!(dst.scalar("SELECT invoice FROM \"order\""), "1000");
    assert_eq!(
        dst.scalar("SELECT count(*) FROM audit.entries"),
        "1",
        "the trigger fires"
    );
}

#[test]
fn json_reports_every_difference_with_expected_and_actual() {
    let a = TestDb::new(Engine::Postgres, "diff_json_a");
    let b = TestDb::new(Engine::Postgres, "diff_json_b");
    a.query(
        "CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL DEFAULT 1); CREATE INDEX t_n ON t (n)",
    );
    b.query("CREATE TABLE t (id int PRIMARY KEY, n bigint); CREATE TABLE extra (x int)");
    let (code, doc) = a.keel_json(&["diff", &a.url, &b.url]);
    assert_eq!(code, Some(1));
    assert_eq!(
        ids(&doc),
        [
            "column/public/t/n/default",
            "column/public/t/n/nullable",
            "column/public/t/n/type",
            "index/public/t/t_n",
            "table/public/extra",
        ]
    );
    let d = &doc["differences"];
    let find = |id: &str| {
        d.as_array()
            .and_then(|a| a.iter().find(|x| x["id"] == id))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(find("column/public/t/n/type")["expected"], "integer");
    assert_eq!(find("column/public/t/n/type")["actual"], "bigint");
    assert_eq!(find("table/public/extra")["change"], "extra");
    assert_eq!(find("index/public/t/t_n")["change"], "missing");
    // identical databases: exit 0
    let (code, doc) = a.keel_json(&["diff", &a.url, &a.url]);
    assert_eq!((code, doc["same"].clone()), (Some(0), Value::Bool(true)));
}

#[test]
fn a_bad_url_is_an_error_with_exit_2_and_no_password() {
    let db = TestDb::new(Engine::Postgres, "diff_bad_url");
    let (code, _, stderr) = diff(
        &db,
        &["postgres://postgres:s3cret@127.0.0.1:1/nope", &db.url],
    );
    assert_eq!(code, Some(2));
    assert!(stderr.contains("error:"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}
