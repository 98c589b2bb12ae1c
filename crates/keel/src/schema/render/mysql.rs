//! MySQL/MariaDB plans. MySQL DDL is not transactional: every statement
//! commits on its own, so the plan is not wrapped in a transaction and a
//! statement that fails leaves the ones before it applied (the plan is
//! ordered so it can be re-run from the failed statement after a fix).
//! `ALTER TABLE … MODIFY COLUMN` changes a type, default or nullability in
//! place; keys, checks and foreign keys are added and dropped with
//! `ALTER TABLE`.
//!
//! Phases, in execution order: drops of triggers, foreign keys,
//! constraints and indexes; new tables; columns; keys, indexes and foreign
//! keys; triggers; destructive drops last.

use super::{Hazard, Omitted, Plan, Steps};
use crate::dialect::Dialect;
use crate::schema::diff::{ColumnChange, Delta, Difference, Pair, Presence, TriggerChange};
use crate::schema::model::*;
use crate::schema::types;

const MY: Dialect = Dialect::Mysql;

const DROP_TRIGGER: u16 = 50;
const DROP_FK: u16 = 52;
const DROP_CONSTRAINT: u16 = 53;
const CREATE_TABLE: u16 = 60;
const COLUMN: u16 = 70;
const DROP_COLUMN: u16 = 80;
const ADD_PK: u16 = 100;
const ADD_CONSTRAINT: u16 = 101;
const ADD_INDEX: u16 = 103;
const ADD_FK: u16 = 104;
const CREATE_TRIGGER: u16 = 120;
const DROP_LAST: u16 = 130;

fn q(ident: &str) -> String {
    MY.quote(ident)
}

/// The current database is keel's `public`: names are left unqualified.
fn qk(k: &Key) -> String {
    if k.schema == DEFAULT_SCHEMA {
        q(&k.name)
    } else {
        k.quoted(MY)
    }
}

struct Planner<'a> {
    e: &'a Schema,
    a: &'a Schema,
    out: Steps,
}

pub(crate) fn plan(e: &Schema, a: &Schema, diffs: &[Difference], allow_destructive: bool) -> Plan {
    let mut p = Planner {
        e,
        a,
        out: Steps::new(allow_destructive),
    };
    for d in diffs {
        p.difference(d);
    }
    let steps = p.out.ordered();
    Plan {
        dialect: MY,
        transactional: false,
        preamble: "-- MySQL DDL is not transactional: each statement commits on its own, and a\n\
                   -- failing statement leaves the ones before it applied (fix it and run the rest)\n"
            .into(),
        epilogue: String::new(),
        steps,
        omitted: p.out.omitted,
        unplannable: p.out.unplannable,
    }
}

impl<'a> Planner<'a> {
    fn same_dialect(&self) -> bool {
        self.e.dialect == MY
    }

    fn difference(&mut self, d: &Difference) {
        let id = d.id.as_str();
        match &d.delta {
            Delta::Table(Presence::Missing(t)) => self.create_table(t, id),
            Delta::Table(Presence::Extra(t)) => self.out.destructive(
                DROP_LAST + 1,
                id,
                format!("DROP TABLE IF EXISTS {}", qk(&t.key)),
                "every row of the table",
            ),
            Delta::View(Presence::Missing(v) | Presence::Extra(v))
            | Delta::ViewChanged(Pair { from: v, .. }, _) => self.out.cannot(
                id,
                format!(
                    "MySQL stores views with their database's name in them; write view {} by hand",
                    v.key
                ),
            ),
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
                format!("ALTER TABLE {} DROP COLUMN {}", qk(table), q(&c.name)),
                &format!("every value of {table}.{}", c.name),
            ),
            Delta::ColumnChanged {
                table,
                column,
                change,
            } => self.modify_column(table, &column.from, *change, id),
            Delta::PrimaryKey {
                table,
                key: Presence::Missing(pk),
            } => self.add_primary_key(table, pk, id),
            Delta::PrimaryKey {
                table,
                key: Presence::Extra(_),
            } => self.drop_primary_key(table, id),
            Delta::PrimaryKeyColumns { table, key } => {
                self.drop_primary_key(table, id);
                self.add_primary_key(table, &key.from, id);
            }
            Delta::Unique {
                table,
                unique: Presence::Missing(u),
            } => {
                let cname = if u.name.is_empty() {
                    format!("{}_{}_key", table.name, u.columns.join("_"))
                } else {
                    u.name.clone()
                };
                self.out.add(
                    ADD_CONSTRAINT,
                    id,
                    format!(
                        "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({})",
                        qk(table),
                        q(&cname),
                        idents(&u.columns)
                    ),
                    vec![Hazard::BuildsUniqueIndex(table.clone())],
                );
            }
            Delta::Unique {
                table,
                unique: Presence::Extra(u),
            } => self.out.add(
                DROP_CONSTRAINT,
                id,
                format!("ALTER TABLE {} DROP INDEX {}", qk(table), q(&u.name)),
                vec![],
            ),
            Delta::Check {
                table,
                check: Presence::Missing(c),
            } => self.add_check(table, c, id),
            Delta::Check {
                table,
                check: Presence::Extra(c),
            } => self.drop_check(table, &c.name, id),
            Delta::CheckExpression { table, check } => {
                self.drop_check(table, &check.from.name, id);
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
            } => {
                self.drop_fk(table, f, id);
                if let Some(t) = self.a.tables.get(table)
                    && made_its_own_index(f, t)
                {
                    self.out.add(
                        DROP_FK + 1,
                        id,
                        format!("DROP INDEX {} ON {}", q(&f.name), qk(table)),
                        vec![],
                    );
                }
            }
            Delta::ForeignKeyChanged { table, key, .. } => {
                self.drop_fk(table, &key.to, id);
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
            } => self.drop_index(table, &i.name, id),
            Delta::IndexChanged { table, index, .. } => {
                self.drop_index(table, &index.to.name, id);
                self.add_index(table, &index.from, id);
            }
            Delta::Trigger {
                table,
                trigger: Presence::Missing(tr),
            } => self.create_trigger(tr, table, id),
            Delta::Trigger {
                trigger: Presence::Extra(tr),
                ..
            } => self.drop_trigger(&tr.name, id),
            Delta::TriggerChanged {
                table,
                trigger,
                change: TriggerChange::Definition | TriggerChange::Enabled,
            } => {
                self.drop_trigger(&trigger.to.name, id);
                self.create_trigger(&trigger.from, table, id);
            }
            Delta::Schema(_)
            | Delta::Extension(_)
            | Delta::Enum(_)
            | Delta::EnumValues(_)
            | Delta::Sequence(_)
            | Delta::SequenceChanged(..)
            | Delta::Function(_)
            | Delta::FunctionDefinition(_) => self.out.cannot(
                id,
                format!("keel does not plan {} changes on MySQL", d.kind.words()),
            ),
        }
    }

    fn add_primary_key(&mut self, table: &Key, pk: &PrimaryKey, id: &str) {
        self.out.add(
            ADD_PK,
            id,
            format!(
                "ALTER TABLE {} ADD PRIMARY KEY ({})",
                qk(table),
                idents(&pk.columns)
            ),
            vec![Hazard::RebuildsForPrimaryKey(table.clone())],
        );
    }

    fn drop_primary_key(&mut self, table: &Key, id: &str) {
        self.out.add(
            DROP_CONSTRAINT,
            id,
            format!("ALTER TABLE {} DROP PRIMARY KEY", qk(table)),
            vec![],
        );
    }

    fn add_check(&mut self, table: &Key, c: &Check, id: &str) {
        self.out.add(
            ADD_CONSTRAINT,
            id,
            format!(
                "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({})",
                qk(table),
                q(&c.name),
                c.expression
            ),
            vec![Hazard::ChecksEveryRow(table.clone())],
        );
    }

    fn drop_check(&mut self, table: &Key, name: &str, id: &str) {
        self.out.add(
            DROP_CONSTRAINT,
            id,
            format!("ALTER TABLE {} DROP CONSTRAINT {}", qk(table), q(name)),
            vec![],
        );
    }

    fn drop_fk(&mut self, table: &Key, f: &ForeignKey, id: &str) {
        self.out.add(
            DROP_FK,
            id,
            format!("ALTER TABLE {} DROP FOREIGN KEY {}", qk(table), q(&f.name)),
            vec![],
        );
    }

    fn add_index(&mut self, table: &Key, i: &Index, id: &str) {
        self.out.add(
            ADD_INDEX,
            id,
            self.create_index(i, table),
            vec![Hazard::BuildsIndexWithoutGuard(table.clone())],
        );
    }

    fn drop_index(&mut self, table: &Key, name: &str, id: &str) {
        self.out.add(
            DROP_CONSTRAINT,
            id,
            format!("DROP INDEX {} ON {}", q(name), qk(table)),
            vec![],
        );
    }

    fn drop_trigger(&mut self, name: &str, id: &str) {
        self.out.add(
            DROP_TRIGGER,
            id,
            format!("DROP TRIGGER IF EXISTS {}", q(name)),
            vec![],
        );
    }

    fn add_column(&mut self, tkey: &Key, c: &Column, id: &str) {
        let mut hazards = vec![Hazard::NoAddColumnIfNotExists];
        if !c.nullable && c.default.is_none() && c.generator.is_none() {
            hazards.push(Hazard::ImplicitDefault(tkey.clone()));
        }
        let sql = format!(
            "ALTER TABLE {} ADD COLUMN {} {}",
            qk(tkey),
            q(&c.name),
            self.column_definition(c)
        );
        self.out.add(COLUMN, id, sql, hazards);
    }

    /// `MODIFY COLUMN` to the expected definition `c`, whatever differs.
    fn modify_column(&mut self, tkey: &Key, c: &Column, change: ColumnChange, id: &str) {
        let mut hazards = vec![Hazard::MayCopyTable(tkey.clone())];
        match change {
            ColumnChange::DataType => hazards.push(Hazard::MustConvert {
                table: tkey.clone(),
                column: c.name.clone(),
                to: c.data_type.clone(),
            }),
            ColumnChange::Nullable if !c.nullable => {
                hazards.push(Hazard::FailsOnNull(c.name.clone()))
            }
            ColumnChange::Nullable
            | ColumnChange::Default
            | ColumnChange::Generator
            | ColumnChange::Generated
            | ColumnChange::Collation => {}
        }
        let sql = format!(
            "ALTER TABLE {} MODIFY COLUMN {} {}",
            qk(tkey),
            q(&c.name),
            self.column_definition(c)
        );
        self.out.add(COLUMN + 1, id, sql, hazards);
    }
    fn create_table(&mut self, t: &Table, id: &str) {
        let mut parts: Vec<String> = t
            .columns
            .iter()
            .map(|c| format!("{} {}", q(&c.name), self.column_definition(c)))
            .collect();
        if let Some(pk) = &t.primary_key {
            parts.push(format!("PRIMARY KEY ({})", idents(&pk.columns)));
        }
        for u in t.uniques.values() {
            let name = if u.name.is_empty() {
                format!("{}_{}_key", t.key.name, u.columns.join("_"))
            } else {
                u.name.clone()
            };
            parts.push(format!(
                "CONSTRAINT {} UNIQUE ({})",
                q(&name),
                idents(&u.columns)
            ));
        }
        if self.same_dialect() {
            for c in t.checks.values() {
                parts.push(format!(
                    "CONSTRAINT {} CHECK ({})",
                    q(&c.name),
                    c.expression
                ));
            }
        }
        for i in t.indexes.values() {
            parts.push(format!(
                "{}INDEX {} ({})",
                if i.unique { "UNIQUE " } else { "" },
                q(&i.name),
                self.index_columns(i)
            ));
        }
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {} (\n  {}\n)",
            qk(&t.key),
            parts.join(",\n  ")
        );
        self.out.add(CREATE_TABLE, id, sql, vec![]);
        // foreign keys after every table exists
        for f in t.foreign_keys.values() {
            self.out.add(ADD_FK, id, add_fk(f, &t.key), vec![]);
        }
        for tr in t.triggers.values() {
            self.create_trigger(tr, &t.key, id);
        }
    }

    fn create_trigger(&mut self, tr: &Trigger, table: &Key, id: &str) {
        if !self.same_dialect() {
            self.out.cannot(
                id,
                format!(
                    "trigger {} on {table} is written for {}; write it for MySQL by hand",
                    tr.name, self.e.dialect
                ),
            );
            return;
        }
        self.out.add(
            CREATE_TRIGGER,
            id,
            format!("DROP TRIGGER IF EXISTS {};\n{}", q(&tr.name), tr.definition),
            vec![Hazard::TriggerNeedsDelimiter],
        );
    }

    /// `type [GENERATED …] [NOT NULL] [DEFAULT …] [AUTO_INCREMENT]`.
    fn column_definition(&self, c: &Column) -> String {
        let mut s = self.my_type(c);
        if let Some(coll) = c.collation.as_ref().filter(|_| self.same_dialect()) {
            s.push_str(&format!(" COLLATE {coll}"));
        }
        if let Some(g) = &c.generated {
            s.push_str(&format!(" GENERATED ALWAYS AS ({g})"));
        }
        s.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
        if let Some(d) = &c.default {
            s.push_str(&format!(" DEFAULT {}", self.default_expr(c, d)));
        }
        if c.generator.is_some() {
            s.push_str(" AUTO_INCREMENT");
        }
        s
    }

    fn my_type(&self, c: &Column) -> String {
        if self.same_dialect() {
            return c.data_type.clone();
        }
        types::spell(self.e.dialect, &c.data_type, Dialect::Mysql)
    }

    fn default_expr(&self, c: &Column, d: &str) -> String {
        let d = if self.same_dialect() {
            d.trim().to_string()
        } else {
            types::neutral_default(d)
        };
        let upper = d.to_ascii_uppercase();
        let plain = d.starts_with('\'')
            || d.parse::<f64>().is_ok()
            || upper == "NULL"
            || upper.starts_with("CURRENT_TIMESTAMP")
            || upper == "NOW()"
            || (d.starts_with('(') && d.ends_with(')'));
        let _ = c;
        if plain { d } else { format!("({d})") }
    }

    /// Index key parts: bare column names (with an optional prefix
    /// length and `DESC`) quoted, anything else as an expression.
    fn index_columns(&self, i: &Index) -> String {
        i.columns
            .iter()
            .map(|c| {
                let (body, desc) = match c.strip_suffix(" DESC") {
                    Some(b) => (b, " DESC"),
                    None => (c.as_str(), ""),
                };
                let (name, len) = match body.find('(') {
                    Some(p) if body[p + 1..].trim_end_matches(')').parse::<u32>().is_ok() => {
                        (&body[..p], &body[p..])
                    }
                    _ => (body, ""),
                };
                if name
                    .chars()
                    .all(|ch| ch.is_alphanumeric() || ch == '_' || ch == '$')
                {
                    format!("{}{len}{desc}", q(name))
                } else {
                    format!("({body}){desc}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn create_index(&self, i: &Index, t: &Key) -> String {
        format!(
            "CREATE {}INDEX {} ON {} ({})",
            if i.unique { "UNIQUE " } else { "" },
            q(&i.name),
            qk(t),
            self.index_columns(i)
        )
    }
}

fn idents(cols: &[String]) -> String {
    cols.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ")
}

fn add_fk(f: &ForeignKey, t: &Key) -> String {
    let name = if f.name.is_empty() {
        format!("{}_{}_fkey", t.name, f.columns.join("_"))
    } else {
        f.name.clone()
    };
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON UPDATE {} ON DELETE {}",
        qk(t),
        q(&name),
        idents(&f.columns),
        qk(&f.references),
        idents(&f.referenced_columns),
        f.on_update.sql(),
        f.on_delete.sql()
    )
}

/// Whether InnoDB made an index for `f` (named after it, and hidden from
/// the model): it does when no other index starts with its columns. Such
/// an index outlives the foreign key, so dropping the key drops it too.
fn made_its_own_index(f: &ForeignKey, t: &Table) -> bool {
    let starts_with = |cols: &[String]| cols.starts_with(&f.columns);
    let pk = t.primary_key.iter().any(|p| starts_with(&p.columns));
    let unique = t.uniques.values().any(|u| starts_with(&u.columns));
    let index = t.indexes.values().any(|i| {
        let bare: Vec<String> = i.columns.iter().map(|c| c.replace('`', "")).collect();
        starts_with(&bare)
    });
    !f.name.is_empty() && !pk && !unique && !index
}

fn fk_hazards(f: &ForeignKey, t: &Key) -> Vec<Hazard> {
    vec![Hazard::ForeignKeyChecksEveryRow {
        table: t.clone(),
        references: f.references.clone(),
    }]
}
