//! PostgreSQL plans. Statements are collected per difference into phases
//! that respect dependencies (the order migra and pg-schema-diff use):
//! schemas, extensions, enums, sequences and functions first; then drops of
//! what depends on tables (triggers, views, foreign keys, constraints,
//! indexes); then tables and columns; then keys, indexes and foreign keys;
//! then views and triggers; destructive drops last.
//!
//! Every statement is idempotent: `IF [NOT] EXISTS` where PostgreSQL has
//! it, a `DO` block that looks in `pg_constraint` where it does not. No
//! statement uses `CASCADE`: an unexpected dependent makes the plan fail
//! rather than silently drop something.

use super::{Omitted, Plan, Steps, fk_pair, literal, order};
use crate::dialect::Dialect;
use crate::schema::diff::{Change, Difference, Kind};
use crate::schema::model::*;
use crate::schema::types::{self, Logical};
use std::collections::BTreeSet;

const PG: Dialect = Dialect::Postgres;

// Phases, in execution order.
const SCHEMA: u16 = 0;
const EXTENSION: u16 = 10;
const ENUM: u16 = 20;
const SEQUENCE: u16 = 30;
const FUNCTION: u16 = 40;
const DROP_TRIGGER: u16 = 50;
const DROP_VIEW: u16 = 51;
const DROP_FK: u16 = 52;
const DROP_CONSTRAINT: u16 = 53;
const CREATE_TABLE: u16 = 60;
const COLUMN: u16 = 70;
const DROP_COLUMN: u16 = 80;
const OWNED_BY: u16 = 90;
const ADD_PK: u16 = 100;
const ADD_CONSTRAINT: u16 = 101;
const ADD_INDEX: u16 = 103;
const ADD_FK: u16 = 104;
const CREATE_VIEW: u16 = 110;
const CREATE_TRIGGER: u16 = 120;
const DROP_LAST: u16 = 130;

fn q(ident: &str) -> String {
    PG.quote(ident)
}

struct Planner<'a> {
    e: &'a Schema,
    a: &'a Schema,
    out: Steps,
    /// Views to (re)create and to drop, by key.
    create_views: BTreeSet<Key>,
    drop_views: BTreeSet<Key>,
}

pub(crate) fn plan(e: &Schema, a: &Schema, diffs: &[Difference], allow_destructive: bool) -> Plan {
    let mut p = Planner {
        e,
        a,
        out: Steps::new(allow_destructive),
        create_views: BTreeSet::new(),
        drop_views: BTreeSet::new(),
    };
    for d in diffs {
        p.difference(d);
    }
    p.views();
    let steps = p.out.ordered();
    Plan {
        dialect: PG,
        transactional: true,
        steps,
        omitted: p.out.omitted,
        unplannable: p.out.unplannable,
        preamble: String::new(),
        epilogue: String::new(),
    }
}

impl<'a> Planner<'a> {
    fn table_e(&self, d: &Difference) -> Option<&'a Table> {
        let t = d.table.as_deref().unwrap_or(&d.name);
        self.e.tables.get(&Key::new(d.schema.clone(), t))
    }

    fn table_a(&self, d: &Difference) -> Option<&'a Table> {
        let t = d.table.as_deref().unwrap_or(&d.name);
        self.a.tables.get(&Key::new(d.schema.clone(), t))
    }

    fn difference(&mut self, d: &Difference) {
        let key = Key::new(d.schema.clone(), d.name.clone());
        let id = d.id.as_str();
        match (d.kind, d.change) {
            (Kind::Schema, Change::Missing) => self.out.add(
                SCHEMA,
                id,
                format!("CREATE SCHEMA IF NOT EXISTS {}", q(&d.name)),
                vec![],
            ),
            (Kind::Schema, Change::Extra) => self.out.add(
                DROP_LAST + 9,
                id,
                format!("DROP SCHEMA IF EXISTS {}", q(&d.name)),
                vec![],
            ),
            (Kind::Extension, Change::Missing) => {
                let schema = self.e.extensions.get(&d.name).map(|x| x.schema.clone());
                let sql = format!(
                    "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}",
                    q(&d.name),
                    q(schema.as_deref().unwrap_or(DEFAULT_SCHEMA))
                );
                self.out.add(EXTENSION, id, sql, vec![]);
            }
            (Kind::Extension, _) => self.out.omitted.push(Omitted {
                id: id.into(),
                reason: "extensions are installed by an administrator; keel does not remove them"
                    .into(),
                sql: Some(format!("DROP EXTENSION IF EXISTS {}", q(&d.name))),
            }),
            (Kind::Enum, Change::Missing) => {
                if let Some(en) = self.e.enums.get(&key) {
                    let values: Vec<String> = en.values.iter().map(|v| literal(v)).collect();
                    let sql = guard(
                        &format!(
                            "SELECT FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = {} AND t.typname = {}",
                            literal(&key.schema),
                            literal(&key.name)
                        ),
                        &format!(
                            "CREATE TYPE {} AS ENUM ({})",
                            key.quoted(PG),
                            values.join(", ")
                        ),
                    );
                    self.out.add(ENUM, id, sql, vec![]);
                }
            }
            (Kind::Enum, Change::Changed) => self.enum_values(&key, id),
            (Kind::Enum, Change::Extra) => self.out.add(
                DROP_LAST + 3,
                id,
                format!("DROP TYPE IF EXISTS {}", key.quoted(PG)),
                vec![],
            ),
            (Kind::Sequence, Change::Missing) => {
                if let Some(s) = self.e.sequences.get(&key) {
                    self.out.add(SEQUENCE, id, create_sequence(s), vec![]);
                    if let Some((t, c)) = &s.owned_by {
                        let sql = format!(
                            "ALTER SEQUENCE {} OWNED BY {}.{}",
                            key.quoted(PG),
                            t.quoted(PG),
                            q(c)
                        );
                        self.out.add(OWNED_BY, id, sql, vec![]);
                    }
                }
            }
            (Kind::Sequence, Change::Changed) => {
                if let Some(s) = self.e.sequences.get(&key) {
                    if d.attribute.as_deref() == Some("owned_by") {
                        let owner = match &s.owned_by {
                            Some((t, c)) => format!("{}.{}", t.quoted(PG), q(c)),
                            None => "NONE".into(),
                        };
                        self.out.add(
                            OWNED_BY,
                            id,
                            format!("ALTER SEQUENCE {} OWNED BY {owner}", key.quoted(PG)),
                            vec![],
                        );
                    } else {
                        let sql = format!(
                            "ALTER SEQUENCE {} AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} {}",
                            key.quoted(PG),
                            s.data_type,
                            s.increment,
                            s.min,
                            s.max,
                            s.start,
                            if s.cycle { "CYCLE" } else { "NO CYCLE" }
                        );
                        self.out.add(SEQUENCE, id, sql, vec![]);
                    }
                }
            }
            (Kind::Sequence, Change::Extra) => self.out.destructive(
                DROP_LAST + 2,
                id,
                format!("DROP SEQUENCE IF EXISTS {}", key.quoted(PG)),
                "the sequence and its position",
            ),
            (Kind::Function, Change::Missing | Change::Changed) => {
                if let Some(f) = self.e.functions.get(&key) {
                    self.out.add(FUNCTION, id, f.definition.clone(), vec![]);
                }
            }
            (Kind::Function, Change::Extra) => {
                if let Some(f) = self.a.functions.get(&key) {
                    let name = key.name.split('(').next().unwrap_or(&key.name);
                    let sql = format!(
                        "DROP FUNCTION IF EXISTS {}.{}({})",
                        q(&key.schema),
                        q(name),
                        f.identity_arguments
                    );
                    self.out.add(DROP_LAST, id, sql, vec![]);
                }
            }
            (Kind::Table, Change::Missing) => {
                if let Some(t) = self.table_e(d) {
                    self.create_table(t, id);
                }
            }
            (Kind::Table, Change::Extra) => self.out.destructive(
                DROP_LAST + 1,
                id,
                format!("DROP TABLE IF EXISTS {}", key.quoted(PG)),
                "every row of the table",
            ),
            (Kind::View, Change::Missing) => {
                self.create_views.insert(key);
            }
            (Kind::View, Change::Extra) => {
                self.drop_views.insert(key);
            }
            (Kind::View, Change::Changed) => {
                self.drop_views.insert(key.clone());
                self.create_views.insert(key);
            }
            (Kind::Column, _) => self.column(d),
            _ => self.table_object(d),
        }
    }

    fn enum_values(&mut self, key: &Key, id: &str) {
        let (Some(x), Some(y)) = (self.e.enums.get(key), self.a.enums.get(key)) else {
            return;
        };
        // only additions keep the existing values in order
        let kept: Vec<&String> = x.values.iter().filter(|v| y.values.contains(v)).collect();
        if kept.len() != y.values.len() || kept.iter().zip(&y.values).any(|(a, b)| *a != b) {
            self.out.cannot(
                id,
                format!(
                    "enum {key} loses or reorders values ({} → {}); PostgreSQL cannot remove enum values in place",
                    y.values.join(", "),
                    x.values.join(", ")
                ),
            );
            return;
        }
        for (i, v) in x.values.iter().enumerate() {
            if y.values.contains(v) {
                continue;
            }
            let position = match x.values.get(i + 1).filter(|n| y.values.contains(n)) {
                Some(next) => format!(" BEFORE {}", literal(next)),
                None => match i.checked_sub(1).and_then(|p| x.values.get(p)) {
                    Some(prev) => format!(" AFTER {}", literal(prev)),
                    None => String::new(),
                },
            };
            let sql = format!(
                "ALTER TYPE {} ADD VALUE IF NOT EXISTS {}{position}",
                key.quoted(PG),
                literal(v)
            );
            self.out.add(
                ENUM,
                id,
                sql,
                vec!["a new enum value cannot be used in the transaction that adds it".into()],
            );
        }
    }

    fn create_table(&mut self, t: &Table, id: &str) {
        let mut parts: Vec<String> = t
            .columns
            .iter()
            .map(|c| format!("{} {}", q(&c.name), self.column_definition(c, &t.key)))
            .collect();
        if let Some(pk) = &t.primary_key {
            parts.push(format!(
                "CONSTRAINT {} PRIMARY KEY ({})",
                q(&pk_name(pk, t)),
                idents(&pk.columns)
            ));
        }
        for u in t.uniques.values() {
            parts.push(format!(
                "CONSTRAINT {} UNIQUE ({})",
                q(&constraint_name(&u.name, t, &u.columns, "key")),
                idents(&u.columns)
            ));
        }
        for c in t.checks.values() {
            let name = constraint_name(&c.name, t, &[], "check");
            parts.push(format!("CONSTRAINT {} CHECK ({})", q(&name), c.expression));
        }
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {} (\n  {}\n)",
            t.key.quoted(PG),
            parts.join(",\n  ")
        );
        self.out.add(CREATE_TABLE, id, sql, vec![]);
        for i in t.indexes.values() {
            self.out.add(ADD_INDEX, id, create_index(i, t), vec![]);
        }
        for f in t.foreign_keys.values() {
            self.out.add(ADD_FK, id, add_fk(f, t), vec![]);
        }
        for tr in t.triggers.values() {
            self.create_trigger(tr, t, id);
        }
    }

    /// `type [COLLATE …] [GENERATED …] [DEFAULT …] [NOT NULL]`.
    fn column_definition(&self, c: &Column, table: &Key) -> String {
        let mut s = pg_type(self.e.dialect, &c.data_type);
        if let Some(coll) = &c.collation {
            s.push_str(&format!(" COLLATE {}", q(coll)));
        }
        if let Some(g) = &c.generated {
            s.push_str(&format!(" GENERATED ALWAYS AS ({g}) STORED"));
        }
        if let Some(d) = &c.default {
            s.push_str(&format!(" DEFAULT {}", self.default_expr(c, d)));
        }
        match &c.generator {
            Some(Generator::Identity { always: true }) => {
                s.push_str(" GENERATED ALWAYS AS IDENTITY")
            }
            Some(Generator::Sequence { sequence }) => s.push_str(&format!(
                " DEFAULT nextval({}::regclass)",
                literal(&sequence.quoted(PG))
            )),
            Some(_) => s.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
            None => {}
        }
        let _ = table;
        if !c.nullable {
            s.push_str(" NOT NULL");
        }
        s
    }

    /// A default in PostgreSQL spelling (SQLite/MySQL booleans become
    /// `true`/`false`).
    fn default_expr(&self, c: &Column, d: &str) -> String {
        // a SQLite default as keel copy writes it
        if self.e.dialect == Dialect::Sqlite
            && let Some(ty) = types::PgType::parse(&pg_type(self.e.dialect, &c.data_type))
            && let Some(sql) = types::defaults::to_postgres(d, ty)
        {
            return sql;
        }
        if self.e.dialect != PG && types::logical(self.e.dialect, &c.data_type) == Logical::Bool {
            match types::neutral_default(d).as_str() {
                "1" => return "true".into(),
                "0" => return "false".into(),
                _ => {}
            }
        }
        d.to_string()
    }

    fn column(&mut self, d: &Difference) {
        let id = d.id.as_str();
        let Some(table) = d.table.clone() else { return };
        let tkey = Key::new(d.schema.clone(), table);
        let qt = tkey.quoted(PG);
        let qc = q(&d.name);
        let e_col = self.table_e(d).and_then(|t| t.column(&d.name));
        let a_col = self.table_a(d).and_then(|t| t.column(&d.name));
        match (d.change, e_col, a_col) {
            (Change::Missing, Some(c), _) => {
                let mut hazards = Vec::new();
                let def = self.column_definition(c, &tkey);
                if !c.nullable
                    && c.default.is_none()
                    && c.generator.is_none()
                    && c.generated.is_none()
                {
                    hazards.push(format!(
                        "NOT NULL without a default fails if {tkey} has rows: backfill first or give it a default"
                    ));
                }
                if c.generator.is_some()
                    || c.generated.is_some()
                    || c.default.as_deref().is_some_and(volatile)
                {
                    hazards.push(format!(
                        "rewrites {tkey} under an ACCESS EXCLUSIVE lock (every row gets a computed value)"
                    ));
                }
                self.out.add(
                    COLUMN,
                    id,
                    format!("ALTER TABLE {qt} ADD COLUMN IF NOT EXISTS {qc} {def}"),
                    hazards,
                );
            }
            (Change::Extra, _, Some(_)) => self.out.destructive(
                DROP_COLUMN,
                id,
                format!("ALTER TABLE {qt} DROP COLUMN IF EXISTS {qc}"),
                &format!("every value of {tkey}.{}", d.name),
            ),
            (Change::Changed, Some(c), Some(old)) => self.column_change(d, &tkey, c, old),
            _ => {}
        }
    }

    fn column_change(&mut self, d: &Difference, tkey: &Key, c: &Column, old: &Column) {
        let id = d.id.as_str();
        let (qt, qc) = (tkey.quoted(PG), q(&c.name));
        match d.attribute.as_deref() {
            Some("type") | Some("collation") => {
                let ty = pg_type(self.e.dialect, &c.data_type);
                let mut hazards = Vec::new();
                if !binary_coercible(&old.data_type, &ty) {
                    hazards.push(format!(
                        "rewrites {tkey} and its indexes under an ACCESS EXCLUSIVE lock"
                    ));
                }
                let (from_l, to_l) = (types::logical(PG, &old.data_type), types::logical(PG, &ty));
                if from_l != to_l {
                    hazards.push(format!(
                        "the cast {} → {ty} can fail: every existing value of {}.{} must convert (USING {}::{ty})",
                        old.data_type, tkey, c.name, c.name
                    ));
                }
                let collate = c.collation.as_ref().map(|x| format!(" COLLATE {}", q(x))).unwrap_or_default();
                // a default of the old type may not cast: take it off and
                // put the expected one back afterwards
                let mut sql = String::new();
                if old.default.is_some() && d.attribute.as_deref() == Some("type") {
                    sql.push_str(&format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP DEFAULT;\n"));
                }
                sql.push_str(&format!(
                    "ALTER TABLE {qt} ALTER COLUMN {qc} TYPE {ty}{collate} USING {qc}::{ty}"
                ));
                if let (Some(def), Some("type")) = (&c.default, d.attribute.as_deref())
                    && old.default.is_some()
                {
                    sql.push_str(&format!(
                        ";\nALTER TABLE {qt} ALTER COLUMN {qc} SET DEFAULT {}",
                        self.default_expr(c, def)
                    ));
                }
                self.out.add(COLUMN, id, sql, hazards);
                self.type_dependents(tkey, &c.name, id);
            }
            Some("nullable") => {
                if c.nullable {
                    self.out.add(COLUMN + 1, id, format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP NOT NULL"), vec![]);
                } else {
                    self.out.add(
                        COLUMN + 1,
                        id,
                        format!("ALTER TABLE {qt} ALTER COLUMN {qc} SET NOT NULL"),
                        vec![format!(
                            "scans all of {tkey} under an ACCESS EXCLUSIVE lock, and fails if a row holds NULL in {}",
                            c.name
                        )],
                    );
                }
            }
            Some("default") => {
                let sql = match &c.default {
                    Some(def) => format!("ALTER TABLE {qt} ALTER COLUMN {qc} SET DEFAULT {}", self.default_expr(c, def)),
                    None => format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP DEFAULT"),
                };
                self.out.add(COLUMN + 1, id, sql, vec![]);
            }
            Some("generator") => {
                let mut sql = Vec::new();
                match &old.generator {
                    Some(Generator::Identity { .. }) => {
                        sql.push(format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP IDENTITY IF EXISTS"))
                    }
                    Some(_) => sql.push(format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP DEFAULT")),
                    None => {}
                }
                match &c.generator {
                    Some(Generator::Sequence { sequence }) => sql.push(format!(
                        "ALTER TABLE {qt} ALTER COLUMN {qc} SET DEFAULT nextval({}::regclass)",
                        literal(&sequence.quoted(PG))
                    )),
                    Some(g) => {
                        if old.default.is_some() && !sql.iter().any(|s| s.ends_with("DROP DEFAULT")) {
                            sql.push(format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP DEFAULT"));
                        }
                        let kind = if matches!(g, Generator::Identity { always: true }) { "ALWAYS" } else { "BY DEFAULT" };
                        sql.push(format!("ALTER TABLE {qt} ALTER COLUMN {qc} SET NOT NULL"));
                        sql.push(format!("ALTER TABLE {qt} ALTER COLUMN {qc} ADD GENERATED {kind} AS IDENTITY"));
                    }
                    None => {}
                }
                let hazards = if c.generator.is_some() {
                    vec![format!(
                        "a new generator starts at 1: run `keel sequences --fix` afterwards if {tkey} has rows"
                    )]
                } else {
                    vec![]
                };
                self.out.add(COLUMN + 2, id, sql.join(";\n"), hazards);
            }
            Some("generated") => self.out.cannot(
                id,
                format!(
                    "the generated expression of {tkey}.{} differs; PostgreSQL cannot change it in place (drop and re-add the column)",
                    c.name
                ),
            ),
            _ => {}
        }
    }

    /// A column changing type takes its foreign keys and the views reading
    /// its table down with it: drop them first, re-create them after.
    fn type_dependents(&mut self, tkey: &Key, column: &str, id: &str) {
        for side in [self.a, self.e] {
            for t in side.tables.values() {
                for f in t.foreign_keys.values() {
                    let touches = (t.key == *tkey && f.columns.iter().any(|c| c == column))
                        || (f.references == *tkey
                            && f.referenced_columns.iter().any(|c| c == column));
                    if !touches {
                        continue;
                    }
                    if std::ptr::eq(side, self.a) {
                        self.out
                            .add(DROP_FK, id, drop_constraint(&t.key, &f.name), vec![]);
                    } else {
                        self.out.add(ADD_FK, id, add_fk(f, t), fk_hazards(f, t));
                    }
                }
            }
        }
        let readers: Vec<Key> = self
            .a
            .views
            .values()
            .filter(|v| v.depends_on.contains(tkey))
            .map(|v| v.key.clone())
            .collect();
        for k in readers {
            self.drop_views.insert(k.clone());
            if self.e.views.contains_key(&k) {
                self.create_views.insert(k);
            }
        }
    }

    /// Keys, constraints, indexes and triggers.
    fn table_object(&mut self, d: &Difference) {
        let id = d.id.as_str();
        let (Some(tname), e_t, a_t) = (d.table.clone(), self.table_e(d), self.table_a(d)) else {
            return;
        };
        let tkey = Key::new(d.schema.clone(), tname);
        let name = d.name.as_str();
        let drop_old = d.change != Change::Missing;
        let add_new = d.change != Change::Extra;
        match d.kind {
            Kind::PrimaryKey => {
                if let (true, Some(pk)) = (
                    drop_old,
                    a_t.and_then(|t| t.primary_key.as_ref().map(|p| (p, t))),
                ) {
                    self.out.add(
                        DROP_CONSTRAINT,
                        id,
                        drop_constraint(&tkey, &pk_name(pk.0, pk.1)),
                        vec![],
                    );
                }
                if let (true, Some(t)) = (add_new, e_t)
                    && let Some(pk) = &t.primary_key
                {
                    let stmt = format!(
                        "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({})",
                        tkey.quoted(PG),
                        q(&pk_name(pk, t)),
                        idents(&pk.columns)
                    );
                    let cond = format!(
                        "SELECT FROM pg_constraint WHERE conrelid = {}::regclass AND contype = 'p'",
                        literal(&tkey.quoted(PG))
                    );
                    self.out.add(
                        ADD_PK,
                        id,
                        guard(&cond, &stmt),
                        vec![format!("builds a unique index on {tkey} under an ACCESS EXCLUSIVE lock; fails on duplicates or NULLs")],
                    );
                }
            }
            Kind::Unique => {
                if drop_old {
                    self.out
                        .add(DROP_CONSTRAINT, id, drop_constraint(&tkey, name), vec![]);
                    if self.e.dialect != PG {
                        self.out.add(
                            DROP_CONSTRAINT,
                            id,
                            format!("DROP INDEX IF EXISTS {}.{}", q(&tkey.schema), q(name)),
                            vec![],
                        );
                    }
                }
                if let (true, Some(t)) = (add_new, e_t) {
                    let cols = d.expected.clone().unwrap_or_default();
                    let columns: Vec<String> = cols.split(", ").map(str::to_string).collect();
                    let cname = constraint_name(name, t, &columns, "key");
                    let stmt = format!(
                        "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({})",
                        tkey.quoted(PG),
                        q(&cname),
                        idents(&columns)
                    );
                    self.out.add(
                        ADD_CONSTRAINT,
                        id,
                        guard(&constraint_exists(&tkey, &cname), &stmt),
                        vec![format!("builds a unique index on {tkey} under an ACCESS EXCLUSIVE lock; fails on duplicates")],
                    );
                }
            }
            Kind::Check => {
                if d.attribute.as_deref() == Some("count") {
                    self.out.omitted.push(Omitted {
                        id: id.into(),
                        reason: "check constraints cannot be compared across engines; compare them by hand".into(),
                        sql: None,
                    });
                    return;
                }
                if drop_old {
                    self.out
                        .add(DROP_CONSTRAINT, id, drop_constraint(&tkey, name), vec![]);
                }
                if let (true, Some(c)) = (add_new, e_t.and_then(|t| t.checks.get(name))) {
                    let stmt = format!(
                        "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({})",
                        tkey.quoted(PG),
                        q(name),
                        c.expression
                    );
                    self.out.add(
                        ADD_CONSTRAINT,
                        id,
                        guard(&constraint_exists(&tkey, name), &stmt),
                        vec![format!("scans all of {tkey} under an ACCESS EXCLUSIVE lock; fails if a row violates it")],
                    );
                }
            }
            Kind::ForeignKey => {
                let (ef, af) = fk_pair(e_t, a_t, name);
                if let (true, Some(f)) = (drop_old, af) {
                    self.out
                        .add(DROP_FK, id, drop_constraint(&tkey, &f.name), vec![]);
                }
                if let (true, Some(f), Some(t)) = (add_new, ef, e_t) {
                    self.out.add(ADD_FK, id, add_fk(f, t), fk_hazards(f, t));
                }
            }
            Kind::Index => {
                if drop_old {
                    self.out.add(
                        DROP_CONSTRAINT,
                        id,
                        format!("DROP INDEX IF EXISTS {}.{}", q(&tkey.schema), q(name)),
                        vec![],
                    );
                }
                if let (true, Some(t)) = (add_new, e_t)
                    && let Some(i) = t.indexes.get(name)
                {
                    self.out.add(
                        ADD_INDEX,
                        id,
                        create_index(i, t),
                        vec![format!("blocks writes to {tkey} while it builds; on a busy table run it as CREATE INDEX CONCURRENTLY outside a transaction")],
                    );
                }
            }
            Kind::Trigger => {
                if d.attribute.as_deref() == Some("enabled") {
                    if let Some(tr) = e_t.and_then(|t| t.triggers.get(name)) {
                        let verb = if tr.enabled { "ENABLE" } else { "DISABLE" };
                        self.out.add(
                            CREATE_TRIGGER + 1,
                            id,
                            format!("ALTER TABLE {} {verb} TRIGGER {}", tkey.quoted(PG), q(name)),
                            vec![],
                        );
                    }
                    return;
                }
                if drop_old {
                    self.out.add(
                        DROP_TRIGGER,
                        id,
                        format!("DROP TRIGGER IF EXISTS {} ON {}", q(name), tkey.quoted(PG)),
                        vec![],
                    );
                }
                if let (true, Some(t)) = (add_new, e_t)
                    && let Some(tr) = t.triggers.get(name)
                {
                    self.create_trigger(tr, t, id);
                }
            }
            _ => {}
        }
    }

    fn create_trigger(&mut self, tr: &Trigger, t: &Table, id: &str) {
        if self.e.dialect != PG {
            self.out.cannot(
                id,
                format!(
                    "trigger {} on {} is written for {}; write it for PostgreSQL by hand",
                    tr.name, t.key, self.e.dialect
                ),
            );
            return;
        }
        let sql = format!(
            "DROP TRIGGER IF EXISTS {} ON {};\n{}",
            q(&tr.name),
            t.key.quoted(PG),
            tr.definition
        );
        self.out.add(
            CREATE_TRIGGER,
            id,
            sql,
            vec![format!("takes a SHARE ROW EXCLUSIVE lock on {}", t.key)],
        );
        if !tr.enabled {
            self.out.add(
                CREATE_TRIGGER + 1,
                id,
                format!(
                    "ALTER TABLE {} DISABLE TRIGGER {}",
                    t.key.quoted(PG),
                    q(&tr.name)
                ),
                vec![],
            );
        }
    }

    /// Drops views (dependents first) and creates them (dependencies
    /// first).
    fn views(&mut self) {
        let drops = order(&self.drop_views, |k| {
            self.a.views.get(k).map(|v| v.depends_on.clone())
        });
        for k in drops.into_iter().rev() {
            let Some(v) = self.a.views.get(&k) else {
                continue;
            };
            let kind = if v.materialized {
                "MATERIALIZED VIEW"
            } else {
                "VIEW"
            };
            let id = format!("view/{}/{}", k.schema, k.name);
            self.out.add(
                DROP_VIEW,
                &id,
                format!("DROP {kind} IF EXISTS {}", k.quoted(PG)),
                vec![],
            );
        }
        let creates = order(&self.create_views, |k| {
            self.e.views.get(k).map(|v| v.depends_on.clone())
        });
        for k in creates {
            let Some(v) = self.e.views.get(&k) else {
                continue;
            };
            let id = format!("view/{}/{}", k.schema, k.name);
            if self.e.dialect != PG {
                self.out.cannot(
                    &id,
                    format!(
                        "view {k} is written for {}; write it for PostgreSQL by hand",
                        self.e.dialect
                    ),
                );
                continue;
            }
            let body = v.definition.trim_end_matches(';');
            let sql = if v.materialized {
                format!(
                    "CREATE MATERIALIZED VIEW IF NOT EXISTS {} AS\n{body}",
                    k.quoted(PG)
                )
            } else {
                format!("CREATE OR REPLACE VIEW {} AS\n{body}", k.quoted(PG))
            };
            self.out.add(CREATE_VIEW, &id, sql, vec![]);
        }
    }
}

fn idents(cols: &[String]) -> String {
    cols.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ")
}

fn pk_name(pk: &PrimaryKey, t: &Table) -> String {
    if pk.name.is_empty() {
        format!("{}_pkey", t.key.name)
    } else {
        pk.name.clone()
    }
}

/// The name a constraint gets when its source engine left it unnamed.
fn constraint_name(name: &str, t: &Table, columns: &[String], suffix: &str) -> String {
    if !name.is_empty() {
        return name.to_string();
    }
    let mut parts = vec![t.key.name.clone()];
    parts.extend(columns.iter().cloned());
    parts.push(suffix.to_string());
    parts.join("_")
}

fn constraint_exists(t: &Key, name: &str) -> String {
    format!(
        "SELECT FROM pg_constraint WHERE conrelid = {}::regclass AND conname = {}",
        literal(&t.quoted(PG)),
        literal(name)
    )
}

fn drop_constraint(t: &Key, name: &str) -> String {
    format!(
        "ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}",
        t.quoted(PG),
        q(name)
    )
}

fn add_fk(f: &ForeignKey, t: &Table) -> String {
    let name = constraint_name(&f.name, t, &f.columns, "fkey");
    let mut stmt = format!(
        "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON UPDATE {} ON DELETE {}",
        t.key.quoted(PG),
        q(&name),
        idents(&f.columns),
        f.references.quoted(PG),
        idents(&f.referenced_columns),
        f.on_update.sql(),
        f.on_delete.sql()
    );
    if f.deferrable {
        stmt.push_str(" DEFERRABLE");
        if f.initially_deferred {
            stmt.push_str(" INITIALLY DEFERRED");
        }
    }
    guard(&constraint_exists(&t.key, &name), &stmt)
}

fn fk_hazards(f: &ForeignKey, t: &Table) -> Vec<String> {
    vec![format!(
        "takes SHARE ROW EXCLUSIVE locks on both {} and {} (writes to both wait) while every row is checked; on busy tables add it NOT VALID, then VALIDATE CONSTRAINT",
        t.key, f.references
    )]
}

fn create_index(i: &Index, t: &Table) -> String {
    let mut s = format!(
        "CREATE {}INDEX IF NOT EXISTS {} ON {} USING {} ({})",
        if i.unique { "UNIQUE " } else { "" },
        q(&i.name),
        t.key.quoted(PG),
        if i.method.is_empty() {
            "btree"
        } else {
            &i.method
        },
        i.columns.join(", ")
    );
    if !i.include.is_empty() {
        s.push_str(&format!(" INCLUDE ({})", i.include.join(", ")));
    }
    if let Some(p) = &i.predicate {
        s.push_str(&format!(" WHERE {p}"));
    }
    s
}

fn create_sequence(s: &Sequence) -> String {
    format!(
        "CREATE SEQUENCE IF NOT EXISTS {} AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} {}",
        s.key.quoted(PG),
        s.data_type,
        s.increment,
        s.min,
        s.max,
        s.start,
        if s.cycle { "CYCLE" } else { "NO CYCLE" }
    )
}

/// `DO` block running `statement` unless `condition` returns a row.
fn guard(condition: &str, statement: &str) -> String {
    let mut tag = "$keel$".to_string();
    let mut n = 0;
    while statement.contains(&tag) || condition.contains(&tag) {
        n += 1;
        tag = format!("$keel{n}$");
    }
    format!(
        "DO {tag} BEGIN\n  IF NOT EXISTS ({condition}) THEN\n    {statement};\n  END IF;\nEND {tag}"
    )
}

/// Whether a default calls a function that gives every row a new value.
fn volatile(default: &str) -> bool {
    let d = default.to_ascii_lowercase();
    [
        "random(",
        "gen_random_uuid(",
        "uuid_generate",
        "clock_timestamp(",
        "nextval(",
    ]
    .iter()
    .any(|f| d.contains(f))
}

/// Type changes PostgreSQL makes without rewriting the table.
fn binary_coercible(from: &str, to: &str) -> bool {
    let len = |t: &str| -> Option<u32> {
        t.strip_prefix("character varying(")?
            .strip_suffix(')')?
            .parse()
            .ok()
    };
    match (from, to) {
        (f, "text") => f == "text" || f.starts_with("character varying"),
        (f, "character varying") => f.starts_with("character varying"),
        (f, t) => matches!((len(f), len(t)), (Some(a), Some(b)) if b >= a),
    }
}

/// A column type in PostgreSQL spelling (the one table in [`types::spell`]).
pub(crate) fn pg_type(dialect: Dialect, t: &str) -> String {
    types::spell(dialect, t, PG)
}
