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

use super::{Hazard, Omitted, Plan, Steps, literal, order};
use crate::dialect::Dialect;
use crate::schema::diff::{
    ColumnChange, Delta, Difference, Pair, Presence, SequenceChange, TriggerChange, ViewChange,
    pk_name,
};
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
    fn difference(&mut self, d: &Difference) {
        let id = d.id.as_str();
        match &d.delta {
            Delta::Schema(Presence::Missing(s)) => self.out.add(
                SCHEMA,
                id,
                format!("CREATE SCHEMA IF NOT EXISTS {}", q(s)),
                vec![],
            ),
            Delta::Schema(Presence::Extra(s)) => self.out.add(
                DROP_LAST + 9,
                id,
                format!("DROP SCHEMA IF EXISTS {}", q(s)),
                vec![],
            ),
            Delta::Extension(Presence::Missing(x)) => {
                let sql = format!(
                    "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}",
                    q(&x.name),
                    q(&x.schema)
                );
                self.out.add(EXTENSION, id, sql, vec![]);
            }
            Delta::Extension(Presence::Extra(x)) => self.out.omitted.push(Omitted {
                id: id.into(),
                reason: "extensions are installed by an administrator; keel does not remove them"
                    .into(),
                sql: Some(format!("DROP EXTENSION IF EXISTS {}", q(&x.name))),
            }),
            Delta::Enum(Presence::Missing(en)) => {
                let key = &en.key;
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
            Delta::EnumValues(pair) => self.enum_values(&pair.from, &pair.to, id),
            Delta::Enum(Presence::Extra(en)) => self.out.add(
                DROP_LAST + 3,
                id,
                format!("DROP TYPE IF EXISTS {}", en.key.quoted(PG)),
                vec![],
            ),
            Delta::Sequence(Presence::Missing(s)) => {
                self.out.add(SEQUENCE, id, create_sequence(s), vec![]);
                if let Some((t, c)) = &s.owned_by {
                    let sql = format!(
                        "ALTER SEQUENCE {} OWNED BY {}.{}",
                        s.key.quoted(PG),
                        t.quoted(PG),
                        q(c)
                    );
                    self.out.add(OWNED_BY, id, sql, vec![]);
                }
            }
            Delta::SequenceChanged(pair, change) => {
                let s = &pair.from;
                match change {
                    SequenceChange::OwnedBy => {
                        let owner = match &s.owned_by {
                            Some((t, c)) => format!("{}.{}", t.quoted(PG), q(c)),
                            None => "NONE".into(),
                        };
                        self.out.add(
                            OWNED_BY,
                            id,
                            format!("ALTER SEQUENCE {} OWNED BY {owner}", s.key.quoted(PG)),
                            vec![],
                        );
                    }
                    SequenceChange::DataType
                    | SequenceChange::Increment
                    | SequenceChange::Min
                    | SequenceChange::Max
                    | SequenceChange::Start
                    | SequenceChange::Cycle => {
                        let sql = format!(
                            "ALTER SEQUENCE {} AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} {}",
                            s.key.quoted(PG),
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
            Delta::Sequence(Presence::Extra(s)) => self.out.destructive(
                DROP_LAST + 2,
                id,
                format!("DROP SEQUENCE IF EXISTS {}", s.key.quoted(PG)),
                "the sequence and its position",
            ),
            Delta::Function(Presence::Missing(f))
            | Delta::FunctionDefinition(Pair { from: f, .. }) => {
                self.out.add(FUNCTION, id, f.definition.clone(), vec![]);
            }
            Delta::Function(Presence::Extra(f)) => {
                let key = &f.key;
                let name = key.name.split('(').next().unwrap_or(&key.name);
                let sql = format!(
                    "DROP FUNCTION IF EXISTS {}.{}({})",
                    q(&key.schema),
                    q(name),
                    f.identity_arguments
                );
                self.out.add(DROP_LAST, id, sql, vec![]);
            }
            Delta::Table(Presence::Missing(t)) => self.create_table(t, id),
            Delta::Table(Presence::Extra(t)) => self.out.destructive(
                DROP_LAST + 1,
                id,
                format!("DROP TABLE IF EXISTS {}", t.key.quoted(PG)),
                "every row of the table",
            ),
            Delta::View(Presence::Missing(v)) => {
                self.create_views.insert(v.key.clone());
            }
            Delta::View(Presence::Extra(v)) => {
                self.drop_views.insert(v.key.clone());
            }
            Delta::ViewChanged(pair, ViewChange::Definition | ViewChange::Materialized) => {
                self.drop_views.insert(pair.from.key.clone());
                self.create_views.insert(pair.from.key.clone());
            }
            Delta::Column {
                table,
                column: Presence::Missing(c),
            } => self.add_column(table, c, id),
            Delta::Column {
                table,
                column: Presence::Extra(c),
            } => self.out.destructive(
                DROP_COLUMN,
                id,
                format!(
                    "ALTER TABLE {} DROP COLUMN IF EXISTS {}",
                    table.quoted(PG),
                    q(&c.name)
                ),
                &format!("every value of {table}.{}", c.name),
            ),
            Delta::ColumnChanged {
                table,
                column,
                change,
            } => self.column_change(id, table, &column.from, &column.to, *change),
            Delta::PrimaryKey {
                table,
                key: Presence::Missing(pk),
            } => self.add_primary_key(table, pk, id),
            Delta::PrimaryKey {
                table,
                key: Presence::Extra(pk),
            } => self.out.add(
                DROP_CONSTRAINT,
                id,
                drop_constraint(table, &pk_name(pk, table)),
                vec![],
            ),
            Delta::PrimaryKeyColumns { table, key } => {
                self.out.add(
                    DROP_CONSTRAINT,
                    id,
                    drop_constraint(table, &pk_name(&key.to, table)),
                    vec![],
                );
                self.add_primary_key(table, &key.from, id);
            }
            Delta::Unique {
                table,
                unique: Presence::Missing(u),
            } => {
                let cname = constraint_name(&u.name, table, &u.columns, "key");
                let stmt = format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({})",
                    table.quoted(PG),
                    q(&cname),
                    idents(&u.columns)
                );
                self.out.add(
                    ADD_CONSTRAINT,
                    id,
                    guard(&constraint_exists(table, &cname), &stmt),
                    vec![Hazard::UniqueIndexUnderLock {
                        table: table.clone(),
                        nulls: false,
                    }],
                );
            }
            Delta::Unique {
                table,
                unique: Presence::Extra(u),
            } => {
                self.out
                    .add(DROP_CONSTRAINT, id, drop_constraint(table, &u.name), vec![]);
                if self.e.dialect != PG {
                    self.out.add(
                        DROP_CONSTRAINT,
                        id,
                        format!("DROP INDEX IF EXISTS {}.{}", q(&table.schema), q(&u.name)),
                        vec![],
                    );
                }
            }
            Delta::Check {
                table,
                check: Presence::Missing(c),
            } => self.add_check(table, c, id),
            Delta::Check {
                table,
                check: Presence::Extra(c),
            } => self
                .out
                .add(DROP_CONSTRAINT, id, drop_constraint(table, &c.name), vec![]),
            Delta::CheckExpression { table, check } => {
                self.out.add(
                    DROP_CONSTRAINT,
                    id,
                    drop_constraint(table, &check.from.name),
                    vec![],
                );
                self.add_check(table, &check.from, id);
            }
            Delta::CheckCount { .. } => self.out.omitted.push(Omitted {
                id: id.into(),
                reason: "check constraints cannot be compared across engines; compare them by hand"
                    .into(),
                sql: None,
            }),
            Delta::ForeignKey {
                table,
                key: Presence::Missing(f),
            } => self
                .out
                .add(ADD_FK, id, add_fk(f, table), fk_hazards(f, table)),
            Delta::ForeignKey {
                table,
                key: Presence::Extra(f),
            } => self
                .out
                .add(DROP_FK, id, drop_constraint(table, &f.name), vec![]),
            Delta::ForeignKeyChanged { table, key, .. } => {
                self.out
                    .add(DROP_FK, id, drop_constraint(table, &key.to.name), vec![]);
                self.out.add(
                    ADD_FK,
                    id,
                    add_fk(&key.from, table),
                    fk_hazards(&key.from, table),
                );
            }
            Delta::Index {
                table,
                index: Presence::Missing(i),
            } => self.add_index(table, i, id),
            Delta::Index {
                table,
                index: Presence::Extra(i),
            } => self
                .out
                .add(DROP_CONSTRAINT, id, drop_index(table, &i.name), vec![]),
            Delta::IndexChanged { table, index, .. } => {
                self.out.add(
                    DROP_CONSTRAINT,
                    id,
                    drop_index(table, &index.to.name),
                    vec![],
                );
                self.add_index(table, &index.from, id);
            }
            Delta::Trigger {
                table,
                trigger: Presence::Missing(tr),
            } => self.create_trigger(tr, table, id),
            Delta::Trigger {
                table,
                trigger: Presence::Extra(tr),
            } => self
                .out
                .add(DROP_TRIGGER, id, drop_trigger(table, &tr.name), vec![]),
            Delta::TriggerChanged {
                table,
                trigger,
                change: TriggerChange::Definition,
            } => {
                self.out.add(
                    DROP_TRIGGER,
                    id,
                    drop_trigger(table, &trigger.to.name),
                    vec![],
                );
                self.create_trigger(&trigger.from, table, id);
            }
            Delta::TriggerChanged {
                table,
                trigger,
                change: TriggerChange::Enabled,
            } => {
                let tr = &trigger.from;
                let verb = if tr.enabled { "ENABLE" } else { "DISABLE" };
                self.out.add(
                    CREATE_TRIGGER + 1,
                    id,
                    format!(
                        "ALTER TABLE {} {verb} TRIGGER {}",
                        table.quoted(PG),
                        q(&tr.name)
                    ),
                    vec![],
                );
            }
        }
    }

    fn add_primary_key(&mut self, table: &Key, pk: &PrimaryKey, id: &str) {
        let stmt = format!(
            "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({})",
            table.quoted(PG),
            q(&pk_name(pk, table)),
            idents(&pk.columns)
        );
        let cond = format!(
            "SELECT FROM pg_constraint WHERE conrelid = {}::regclass AND contype = 'p'",
            literal(&table.quoted(PG))
        );
        self.out.add(
            ADD_PK,
            id,
            guard(&cond, &stmt),
            vec![Hazard::UniqueIndexUnderLock {
                table: table.clone(),
                nulls: true,
            }],
        );
    }

    fn add_check(&mut self, table: &Key, c: &Check, id: &str) {
        let stmt = format!(
            "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({})",
            table.quoted(PG),
            q(&c.name),
            c.expression
        );
        self.out.add(
            ADD_CONSTRAINT,
            id,
            guard(&constraint_exists(table, &c.name), &stmt),
            vec![Hazard::CheckScansUnderLock(table.clone())],
        );
    }

    fn add_index(&mut self, table: &Key, i: &Index, id: &str) {
        self.out.add(
            ADD_INDEX,
            id,
            create_index(i, table),
            vec![Hazard::IndexBlocksWrites(table.clone())],
        );
    }

    fn enum_values(&mut self, x: &EnumType, y: &EnumType, id: &str) {
        let key = &x.key;
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
            self.out
                .add(ENUM, id, sql, vec![Hazard::EnumValueUnusableInTransaction]);
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
                q(&pk_name(pk, &t.key)),
                idents(&pk.columns)
            ));
        }
        for u in t.uniques.values() {
            parts.push(format!(
                "CONSTRAINT {} UNIQUE ({})",
                q(&constraint_name(&u.name, &t.key, &u.columns, "key")),
                idents(&u.columns)
            ));
        }
        for c in t.checks.values() {
            let name = constraint_name(&c.name, &t.key, &[], "check");
            parts.push(format!("CONSTRAINT {} CHECK ({})", q(&name), c.expression));
        }
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {} (\n  {}\n)",
            t.key.quoted(PG),
            parts.join(",\n  ")
        );
        self.out.add(CREATE_TABLE, id, sql, vec![]);
        for i in t.indexes.values() {
            self.out.add(ADD_INDEX, id, create_index(i, &t.key), vec![]);
        }
        for f in t.foreign_keys.values() {
            self.out.add(ADD_FK, id, add_fk(f, &t.key), vec![]);
        }
        for tr in t.triggers.values() {
            self.create_trigger(tr, &t.key, id);
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

    fn add_column(&mut self, tkey: &Key, c: &Column, id: &str) {
        let mut hazards = Vec::new();
        let def = self.column_definition(c, tkey);
        if !c.nullable && c.default.is_none() && c.generator.is_none() && c.generated.is_none() {
            hazards.push(Hazard::NotNullWithoutDefault(tkey.clone()));
        }
        if c.generator.is_some()
            || c.generated.is_some()
            || c.default.as_deref().is_some_and(volatile)
        {
            hazards.push(Hazard::RewritesForComputedValue(tkey.clone()));
        }
        self.out.add(
            COLUMN,
            id,
            format!(
                "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {def}",
                tkey.quoted(PG),
                q(&c.name)
            ),
            hazards,
        );
    }

    fn column_change(
        &mut self,
        id: &str,
        tkey: &Key,
        c: &Column,
        old: &Column,
        change: ColumnChange,
    ) {
        let (qt, qc) = (tkey.quoted(PG), q(&c.name));
        match change {
            ColumnChange::DataType | ColumnChange::Collation => {
                let retype = change == ColumnChange::DataType;
                let ty = pg_type(self.e.dialect, &c.data_type);
                let mut hazards = Vec::new();
                if !binary_coercible(&old.data_type, &ty) {
                    hazards.push(Hazard::RewritesTableAndIndexes(tkey.clone()));
                }
                let (from_l, to_l) = (types::logical(PG, &old.data_type), types::logical(PG, &ty));
                if from_l != to_l {
                    hazards.push(Hazard::CastCanFail {
                        table: tkey.clone(),
                        column: c.name.clone(),
                        from: old.data_type.clone(),
                        to: ty.clone(),
                    });
                }
                let collate = c.collation.as_ref().map(|x| format!(" COLLATE {}", q(x))).unwrap_or_default();
                // a default of the old type may not cast: take it off and
                // put the expected one back afterwards
                let mut sql = String::new();
                if old.default.is_some() && retype {
                    sql.push_str(&format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP DEFAULT;\n"));
                }
                sql.push_str(&format!(
                    "ALTER TABLE {qt} ALTER COLUMN {qc} TYPE {ty}{collate} USING {qc}::{ty}"
                ));
                if let (Some(def), true) = (&c.default, retype)
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
            ColumnChange::Nullable => {
                if c.nullable {
                    self.out.add(COLUMN + 1, id, format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP NOT NULL"), vec![]);
                } else {
                    self.out.add(
                        COLUMN + 1,
                        id,
                        format!("ALTER TABLE {qt} ALTER COLUMN {qc} SET NOT NULL"),
                        vec![Hazard::SetNotNullScans {
                            table: tkey.clone(),
                            column: c.name.clone(),
                        }],
                    );
                }
            }
            ColumnChange::Default => {
                let sql = match &c.default {
                    Some(def) => format!("ALTER TABLE {qt} ALTER COLUMN {qc} SET DEFAULT {}", self.default_expr(c, def)),
                    None => format!("ALTER TABLE {qt} ALTER COLUMN {qc} DROP DEFAULT"),
                };
                self.out.add(COLUMN + 1, id, sql, vec![]);
            }
            ColumnChange::Generator => {
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
                    vec![Hazard::GeneratorStartsAtOne(tkey.clone())]
                } else {
                    vec![]
                };
                self.out.add(COLUMN + 2, id, sql.join(";\n"), hazards);
            }
            ColumnChange::Generated => self.out.cannot(
                id,
                format!(
                    "the generated expression of {tkey}.{} differs; PostgreSQL cannot change it in place (drop and re-add the column)",
                    c.name
                ),
            ),
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
                        self.out
                            .add(ADD_FK, id, add_fk(f, &t.key), fk_hazards(f, &t.key));
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

    fn create_trigger(&mut self, tr: &Trigger, table: &Key, id: &str) {
        if self.e.dialect != PG {
            self.out.cannot(
                id,
                format!(
                    "trigger {} on {table} is written for {}; write it for PostgreSQL by hand",
                    tr.name, self.e.dialect
                ),
            );
            return;
        }
        let sql = format!("{};\n{}", drop_trigger(table, &tr.name), tr.definition);
        self.out.add(
            CREATE_TRIGGER,
            id,
            sql,
            vec![Hazard::TriggerLock(table.clone())],
        );
        if !tr.enabled {
            self.out.add(
                CREATE_TRIGGER + 1,
                id,
                format!(
                    "ALTER TABLE {} DISABLE TRIGGER {}",
                    table.quoted(PG),
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

/// The name a constraint gets when its source engine left it unnamed.
fn constraint_name(name: &str, t: &Key, columns: &[String], suffix: &str) -> String {
    if !name.is_empty() {
        return name.to_string();
    }
    let mut parts = vec![t.name.clone()];
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

fn drop_index(t: &Key, name: &str) -> String {
    format!("DROP INDEX IF EXISTS {}.{}", q(&t.schema), q(name))
}

fn drop_trigger(t: &Key, name: &str) -> String {
    format!("DROP TRIGGER IF EXISTS {} ON {}", q(name), t.quoted(PG))
}

fn add_fk(f: &ForeignKey, t: &Key) -> String {
    let name = constraint_name(&f.name, t, &f.columns, "fkey");
    let mut stmt = format!(
        "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON UPDATE {} ON DELETE {}",
        t.quoted(PG),
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
    guard(&constraint_exists(t, &name), &stmt)
}

fn fk_hazards(f: &ForeignKey, t: &Key) -> Vec<Hazard> {
    vec![Hazard::ForeignKeyLocksBoth {
        table: t.clone(),
        references: f.references.clone(),
    }]
}

fn create_index(i: &Index, t: &Key) -> String {
    let mut s = format!(
        "CREATE {}INDEX IF NOT EXISTS {} ON {} USING {} ({})",
        if i.unique { "UNIQUE " } else { "" },
        q(&i.name),
        t.quoted(PG),
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
