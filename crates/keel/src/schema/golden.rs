//! Recorded output of the pure pipeline (diff → plan) for a schema pair
//! with a difference of every kind, on each engine and across engines: the
//! stable ids and JSON of the differences, and each dialect's plan (its
//! statements, hazards, omissions and refusals), must not move.
//!
//! `KEEL_BLESS=1 cargo test -p keel --lib schema::golden` rewrites
//! `golden/*.json` (review the change!).

use super::diff::diff;
use super::model::*;
use super::render;
use crate::dialect::Dialect;
use serde_json::{Value, json};

fn col(name: &str, ty: &str) -> Column {
    Column {
        name: name.into(),
        data_type: ty.into(),
        nullable: true,
        default: None,
        generator: None,
        generated: None,
        collation: None,
    }
}

fn index(name: &str, cols: &[&str]) -> Index {
    Index {
        name: name.into(),
        unique: false,
        method: "btree".into(),
        columns: cols.iter().map(|c| c.to_string()).collect(),
        include: vec![],
        predicate: None,
        valid: true,
    }
}

fn fk(name: &str, cols: &[&str], to: &str, on_delete: Action) -> ForeignKey {
    ForeignKey {
        name: name.into(),
        columns: cols.iter().map(|c| c.to_string()).collect(),
        references: Key::new(DEFAULT_SCHEMA, to),
        referenced_columns: vec!["id".into()],
        on_update: Action::NoAction,
        on_delete,
        deferrable: false,
        initially_deferred: false,
    }
}

fn trigger(name: &str, body: &str, enabled: bool) -> Trigger {
    Trigger {
        name: name.into(),
        definition: format!(
            "CREATE TRIGGER {name} BEFORE UPDATE ON \"user\" FOR EACH ROW EXECUTE FUNCTION {body}()"
        ),
        function: None,
        enabled,
    }
}

fn view(name: &str, definition: &str, materialized: bool) -> View {
    View {
        key: Key::new(DEFAULT_SCHEMA, name),
        materialized,
        definition: definition.into(),
        depends_on: vec![Key::new(DEFAULT_SCHEMA, "user")],
    }
}

fn sequence(name: &str, increment: i64, owned: bool) -> Sequence {
    Sequence {
        key: Key::new(DEFAULT_SCHEMA, name),
        data_type: "bigint".into(),
        start: 1,
        increment,
        min: 1,
        max: i64::MAX,
        cycle: false,
        owned_by: owned.then(|| (Key::new(DEFAULT_SCHEMA, "user"), "id".into())),
    }
}

fn function(name: &str, body: &str) -> Function {
    Function {
        key: Key::new(DEFAULT_SCHEMA, format!("{name}()")),
        identity_arguments: String::new(),
        definition: format!(
            "CREATE OR REPLACE FUNCTION public.{name}() RETURNS integer LANGUAGE sql AS $$ SELECT {body} $$"
        ),
    }
}

fn simple_table(name: &str) -> Table {
    let mut t = Table::new(Key::new(DEFAULT_SCHEMA, name));
    t.columns.push(Column {
        nullable: false,
        ..col("id", "integer")
    });
    t.primary_key = Some(PrimaryKey {
        name: String::new(),
        columns: vec!["id".into()],
    });
    t
}

/// The `user` table, in its expected (`true`) or actual shape.
fn user(expected: bool) -> Table {
    let mut t = Table::new(Key::new(DEFAULT_SCHEMA, "user"));
    let pick = |e: &str, a: &str| if expected { e } else { a }.to_string();
    t.columns.push(Column {
        nullable: false,
        ..col("id", &pick("bigint", "integer"))
    });
    t.columns.push(Column {
        nullable: !expected,
        ..col("email", "text")
    });
    t.columns.push(Column {
        default: Some(pick("'new'", "'old'")),
        ..col("status", "text")
    });
    t.columns.push(Column {
        generator: expected.then_some(Generator::Identity { always: false }),
        nullable: false,
        ..col("serial_no", "bigint")
    });
    t.columns.push(Column {
        generated: expected.then(|| "lower(email)".to_string()),
        ..col("email_lower", "text")
    });
    t.columns.push(Column {
        collation: (!expected).then(|| "C".to_string()),
        ..col("name", "text")
    });
    t.columns.push(col("org_id", "integer"));
    t.columns.push(col("team_id", "integer"));
    t.columns.push(col("x", "integer"));
    t.columns.push(col(&pick("nickname", "legacy"), "text"));
    t.primary_key = Some(PrimaryKey {
        name: "user_pkey".into(),
        columns: if expected {
            vec!["id".into()]
        } else {
            vec!["id".into(), "email".into()]
        },
    });
    let u = pick("user_email_key", "user_name_key");
    let u_cols = vec![pick("email", "name")];
    t.uniques.insert(
        u.clone(),
        Unique {
            name: u,
            columns: u_cols,
        },
    );
    for (name, expr) in [
        ("x_positive", pick("x > 0", "x >= 0")),
        (&pick("x_small", "x_even"), pick("x < 10", "x % 2 = 0")),
    ] {
        t.checks.insert(
            name.to_string(),
            Check {
                name: name.to_string(),
                expression: expr,
            },
        );
    }
    let mut org = fk(
        "user_org_fk",
        &["org_id"],
        "org",
        if expected {
            Action::Cascade
        } else {
            Action::Restrict
        },
    );
    if !expected {
        org.name = "user_org_id_fkey".into();
        org.on_update = Action::SetNull;
        org.deferrable = true;
    }
    t.foreign_keys.insert(org.name.clone(), org);
    let team = fk(
        &pick("user_team_fk", "user_team_old_fk"),
        &[if expected { "team_id" } else { "x" }],
        "team",
        Action::NoAction,
    );
    t.foreign_keys.insert(team.name.clone(), team);
    let mut invalid = index("user_x", &["x"]);
    invalid.valid = expected;
    let mut partial = index("user_status", &["status"]);
    partial.predicate = expected.then(|| "status <> 'old'".to_string());
    for i in [
        index(
            "user_name",
            &[if expected { "name" } else { "lower(name)" }],
        ),
        invalid,
        partial,
        index(
            &pick("user_nickname", "user_legacy"),
            &[&pick("nickname", "legacy")],
        ),
        Index {
            unique: true,
            ..index("user_email_uq", &["email"])
        },
    ] {
        t.indexes.insert(i.name.clone(), i);
    }
    for tr in [
        trigger("user_touch", &pick("touch", "touch_old"), true),
        trigger("user_audit", "audit", expected),
        trigger(&pick("user_new", "user_gone"), "audit", true),
    ] {
        t.triggers.insert(tr.name.clone(), tr);
    }
    t
}

/// A pair of schemas with a difference of every kind.
fn rich(dialect: Dialect, expected: bool) -> Schema {
    let mut s = Schema::empty(dialect);
    let pick = |e: &str, a: &str| if expected { e } else { a }.to_string();
    s.schemas.push(pick("app", "old_app"));
    let ext = pick("citext", "hstore");
    s.extensions.insert(
        ext.clone(),
        Extension {
            name: ext,
            schema: DEFAULT_SCHEMA.into(),
        },
    );
    let values: &[&str] = if expected {
        &["happy", "meh", "sad"]
    } else {
        &["happy", "sad"]
    };
    for (name, values) in [
        ("mood".to_string(), values),
        (pick("color", "size"), &["a", "b"][..]),
    ] {
        let key = Key::new(DEFAULT_SCHEMA, name);
        s.enums.insert(
            key.clone(),
            EnumType {
                key,
                values: values.iter().map(|v| v.to_string()).collect(),
            },
        );
    }
    for q in [
        sequence("counter", if expected { 1 } else { 2 }, !expected),
        sequence(&pick("seq_new", "seq_old"), 1, false),
    ] {
        s.sequences.insert(q.key.clone(), q);
    }
    for f in [
        function("answer", &pick("42", "41")),
        function(&pick("fresh", "stale"), "1"),
    ] {
        s.functions.insert(f.key.clone(), f);
    }
    // a column SQLite adds in place, and one it cannot (NOT NULL, no default)
    let mut org = simple_table("org");
    let mut team = simple_table("team");
    if expected {
        org.columns.push(Column {
            nullable: false,
            default: Some("0".into()),
            ..col("rank", "integer")
        });
        team.columns.push(Column {
            nullable: false,
            ..col("required", "text")
        });
    }
    for t in [
        user(expected),
        org,
        team,
        simple_table(&pick("order", "legacy_table")),
    ] {
        s.tables.insert(t.key.clone(), t);
    }
    let mut pk_less = simple_table("pk_less");
    if !expected {
        pk_less.primary_key = None;
    }
    s.tables.insert(pk_less.key.clone(), pk_less);
    for v in [
        view(
            "active",
            &pick(
                "SELECT id FROM \"user\" WHERE x > 0",
                "SELECT id FROM \"user\"",
            ),
            false,
        ),
        view("totals", "SELECT count(*) FROM \"user\"", expected),
        view(&pick("fresh_view", "stale_view"), "SELECT 1", false),
    ] {
        s.views.insert(v.key.clone(), v);
    }
    s
}

/// SQLite (development) against PostgreSQL (production): what only a
/// cross-engine comparison reports.
fn cross() -> (Schema, Schema) {
    let mut lite = simple_table("t");
    lite.columns[0].generator = Some(Generator::Rowid);
    lite.columns.push(col("code", "varchar(10)"));
    lite.columns.push(col("parent_id", "integer"));
    lite.indexes.insert(
        "t_code".into(),
        Index {
            unique: true,
            ..index("t_code", &["\"code\""])
        },
    );
    lite.checks.insert(
        "t_check1".into(),
        Check {
            name: "t_check1".into(),
            expression: "code <> ''".into(),
        },
    );
    lite.foreign_keys.insert(
        "t_parent".into(),
        fk("t_parent", &["parent_id"], "t", Action::Restrict),
    );
    let mut pg = simple_table("t");
    pg.columns.push(col("code", "character varying(10)"));
    pg.columns.push(col("parent_id", "integer"));
    pg.foreign_keys.insert(
        "t_parent".into(),
        fk("t_parent", &["parent_id"], "t", Action::SetNull),
    );
    let mut e = Schema::empty(Dialect::Sqlite);
    e.tables.insert(lite.key.clone(), lite);
    let mut a = Schema::empty(Dialect::Postgres);
    a.tables.insert(pg.key.clone(), pg);
    (e, a)
}

fn record(e: &Schema, a: &Schema) -> Value {
    let differences = diff(e, a);
    let plan = |destructive: bool| {
        render::plan(e, a, &differences, destructive)
            .map(|p| json!({"plan": p, "sql": p.to_sql()}))
            .unwrap_or_else(|err| json!({"error": err.to_string()}))
    };
    json!({
        "differences": differences,
        "plan": plan(false),
        "plan_allowing_destructive": plan(true),
    })
}

fn check(file: &str, got: Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/schema/golden")
        .join(file);
    if std::env::var_os("KEEL_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&got).unwrap_or_default() + "\n";
        std::fs::create_dir_all(path.parent().unwrap_or(&path)).expect("golden dir");
        std::fs::write(&path, text).expect("write golden");
        return;
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with KEEL_BLESS=1)", path.display()));
    let want: Value = serde_json::from_str(&text).expect("golden json");
    assert!(
        got == want,
        "{file} moved; now:\n{}",
        serde_json::to_string_pretty(&got).unwrap_or_default()
    );
}

#[test]
fn every_kind_of_difference_keeps_its_ids_json_and_plan_on_postgres() {
    let d = Dialect::Postgres;
    check("postgres.json", record(&rich(d, true), &rich(d, false)));
}

#[test]
fn every_kind_of_difference_keeps_its_ids_json_and_plan_on_sqlite() {
    let d = Dialect::Sqlite;
    check("sqlite.json", record(&rich(d, true), &rich(d, false)));
}

#[test]
fn every_kind_of_difference_keeps_its_ids_json_and_plan_on_mysql() {
    let d = Dialect::Mysql;
    check("mysql.json", record(&rich(d, true), &rich(d, false)));
}

#[test]
fn cross_engine_differences_keep_their_ids_json_and_plan() {
    let (e, a) = cross();
    check("cross.json", record(&e, &a));
    check("cross_reversed.json", record(&a, &e));
}

#[test]
fn the_rich_pair_reports_every_kind() {
    let d = Dialect::Postgres;
    let kinds: std::collections::BTreeSet<&str> = diff(&rich(d, true), &rich(d, false))
        .iter()
        .map(|x| x.kind.as_str())
        .collect();
    assert_eq!(kinds.len(), 14, "{kinds:?}");
}
