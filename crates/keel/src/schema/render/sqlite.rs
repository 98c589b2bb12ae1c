//! SQLite plans. SQLite DDL is transactional, so the plan runs in one
//! transaction. What `ALTER TABLE` can do in place is done in place
//! (`ADD COLUMN` of a column SQLite accepts there, `CREATE INDEX IF NOT
//! EXISTS`, triggers and views dropped and re-created); everything else
//! (a changed type, default, nullability or collation, a key, unique,
//! check or foreign key added to or dropped from an existing table) goes
//! through SQLite's documented table rebuild
//! (<https://sqlite.org/lang_altertable.html#otheralter>): create
//! `<t>_keel_new`, copy the rows with `INSERT … SELECT`, drop the old table,
//! rename the new one, re-create its indexes and triggers, with the views
//! that read it dropped before and re-created after.
//!
//! Phases, in execution order: drops of triggers, views and indexes; new
//! tables; added columns; rebuilds; dropped columns; indexes; views;
//! triggers; destructive drops last.

use super::{Hazard, Omitted, Plan, Step, Steps, order};
use crate::dialect::Dialect;
use crate::schema::diff::{Delta, Difference, Presence, TriggerChange, ViewChange};
use crate::schema::model::*;
use crate::schema::types::{self, Logical};
use std::collections::{BTreeMap, BTreeSet};

const LITE: Dialect = Dialect::Sqlite;

const DROP_TRIGGER: u16 = 50;
const DROP_VIEW: u16 = 51;
const DROP_INDEX: u16 = 53;
const CREATE_TABLE: u16 = 60;
const COLUMN: u16 = 70;
const REBUILD: u16 = 75;
const DROP_COLUMN: u16 = 80;
const ADD_INDEX: u16 = 103;
const CREATE_VIEW: u16 = 110;
const CREATE_TRIGGER: u16 = 120;
const DROP_LAST: u16 = 130;

/// The suffix of the table a rebuild fills before it takes the old name.
pub(crate) const REBUILD_SUFFIX: &str = "_keel_new";

fn q(ident: &str) -> String {
    LITE.quote(ident)
}

/// SQLite has one schema per file: `public` (keel's name for `main`) is
/// left out, any other is kept as the attached database's name.
fn qk(k: &Key) -> String {
    if k.schema == DEFAULT_SCHEMA {
        q(&k.name)
    } else {
        k.quoted(LITE)
    }
}

struct Planner<'a> {
    e: &'a Schema,
    a: &'a Schema,
    out: Steps,
    create_views: BTreeSet<Key>,
    drop_views: BTreeSet<Key>,
    /// Tables rebuilt, with the differences the rebuild resolves.
    rebuilds: BTreeMap<Key, Vec<&'a Difference>>,
}

pub(crate) fn plan<'a>(
    e: &'a Schema,
    a: &'a Schema,
    diffs: &'a [Difference],
    allow_destructive: bool,
) -> Plan {
    let mut p = Planner {
        e,
        a,
        out: Steps::new(allow_destructive),
        create_views: BTreeSet::new(),
        drop_views: BTreeSet::new(),
        rebuilds: BTreeMap::new(),
    };
    // first the tables only a rebuild can change: their other differences
    // are resolved by the rebuild too
    for d in diffs {
        if let Some(t) = p.needs_rebuild(d) {
            p.rebuilds.entry(t).or_default();
        }
    }
    for d in diffs {
        p.difference(d);
    }
    let rebuilds = std::mem::take(&mut p.rebuilds);
    for (k, resolved) in &rebuilds {
        p.rebuild(k, resolved);
    }
    p.views();
    let steps = p.out.ordered();
    let rebuilt = !rebuilds.is_empty();
    Plan {
        dialect: LITE,
        transactional: true,
        preamble: if rebuilt {
            "-- the table rebuilds below drop and re-create tables other tables may\n\
             -- reference: foreign key enforcement is switched off for them, as SQLite's\n\
             -- documented procedure says (PRAGMA foreign_keys is a no-op inside a\n\
             -- transaction, so it comes before BEGIN)\n\
             PRAGMA foreign_keys = OFF;\n"
                .into()
        } else {
            String::new()
        },
        epilogue: if rebuilt {
            "\n-- check the rebuilt tables' foreign keys (must return no rows), then switch\n\
             -- enforcement back on if your connections use it:\n\
             --   PRAGMA foreign_key_check;\n\
             --   PRAGMA foreign_keys = ON;\n"
                .into()
        } else {
            String::new()
        },
        steps,
        omitted: p.out.omitted,
        unplannable: p.out.unplannable,
    }
}

/// Whether SQLite can add `c` with `ALTER TABLE … ADD COLUMN`: no key, no
/// stored generated value, a constant default, and a default when NOT NULL.
fn addable(c: &Column, t: &Table) -> bool {
    let in_key = t
        .primary_key
        .as_ref()
        .is_some_and(|p| p.columns.contains(&c.name))
        || t.uniques.values().any(|u| u.columns.contains(&c.name))
        || t.foreign_keys.values().any(|f| f.columns.contains(&c.name));
    let constant_default = c.default.as_deref().is_none_or(|d| {
        let d = d.trim();
        !d.starts_with('(') && !d.to_ascii_uppercase().starts_with("CURRENT_") && !d.contains('(')
    });
    let null_ok = c.nullable
        || c.default
            .as_deref()
            .is_some_and(|d| !d.eq_ignore_ascii_case("null"));
    !in_key && c.generator.is_none() && c.generated.is_none() && constant_default && null_ok
}

impl<'a> Planner<'a> {
    fn same_dialect(&self) -> bool {
        self.e.dialect == LITE
    }

    /// The table a difference can only be resolved by rebuilding, if any.
    fn needs_rebuild(&self, d: &Difference) -> Option<Key> {
        let key = d.delta.table()?;
        let (e_t, a_t) = (self.e.tables.get(key)?, self.a.tables.get(key)?);
        let rebuild = match &d.delta {
            Delta::Column {
                column: Presence::Missing(c),
                ..
            } => !addable(c, e_t),
            Delta::Column {
                column: Presence::Extra(c),
                ..
            } => {
                // DROP COLUMN refuses a column in a key, index or check
                let name = &c.name;
                self.out.allow_destructive
                    && (a_t
                        .primary_key
                        .as_ref()
                        .is_some_and(|p| p.columns.contains(name))
                        || a_t.uniques.values().any(|u| u.columns.contains(name))
                        || a_t.foreign_keys.values().any(|f| f.columns.contains(name))
                        || a_t
                            .indexes
                            .values()
                            .any(|i| i.columns.iter().any(|c| mentions(c, name)))
                        || a_t.checks.values().any(|c| mentions(&c.expression, name)))
            }
            Delta::ColumnChanged { .. }
            | Delta::Check { .. }
            | Delta::CheckExpression { .. }
            | Delta::PrimaryKey { .. }
            | Delta::PrimaryKeyColumns { .. }
            | Delta::Unique { .. }
            | Delta::ForeignKey { .. }
            | Delta::ForeignKeyChanged { .. } => true,
            Delta::CheckCount { .. }
            | Delta::Index { .. }
            | Delta::IndexChanged { .. }
            | Delta::Trigger { .. }
            | Delta::TriggerChanged { .. }
            | Delta::Schema(_)
            | Delta::Extension(_)
            | Delta::Enum(_)
            | Delta::EnumValues(_)
            | Delta::Sequence(_)
            | Delta::SequenceChanged(..)
            | Delta::Function(_)
            | Delta::FunctionDefinition(_)
            | Delta::Table(_)
            | Delta::View(_)
            | Delta::ViewChanged(..) => false,
        };
        rebuild.then(|| key.clone())
    }

    fn difference(&mut self, d: &'a Difference) {
        let id = d.id.as_str();
        if let Some(tkey) = d.delta.table()
            && let Some(rebuilt) = self.rebuilds.get_mut(tkey)
        {
            let keep_extra = matches!(
                d.delta,
                Delta::Column {
                    column: Presence::Extra(_),
                    ..
                }
            );
            if !keep_extra || self.out.allow_destructive {
                rebuilt.push(d);
                return;
            }
        }
        match &d.delta {
            Delta::Table(Presence::Missing(t)) => self.create_table(t, id),
            Delta::Table(Presence::Extra(t)) => self.out.destructive(
                DROP_LAST + 1,
                id,
                format!("DROP TABLE IF EXISTS {}", qk(&t.key)),
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
                format!("ALTER TABLE {} DROP COLUMN {}", qk(table), q(&c.name)),
                &format!("every value of {table}.{}", c.name),
            ),
            // only a rebuild changes a column (planned with the rebuild)
            Delta::ColumnChanged { .. } => {}
            Delta::Index {
                table,
                index: Presence::Missing(i),
            } => self.add_index(table, i, id),
            Delta::Index {
                index: Presence::Extra(i),
                ..
            } => self.drop_index(&i.name, id),
            Delta::IndexChanged { table, index, .. } => {
                self.drop_index(&index.to.name, id);
                self.add_index(table, &index.from, id);
            }
            Delta::Trigger {
                table,
                trigger: Presence::Missing(tr),
            } => self.create_trigger(tr, table, id, CREATE_TRIGGER),
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
                self.create_trigger(&trigger.from, table, id, CREATE_TRIGGER);
            }
            Delta::CheckCount { .. } => self.out.omitted.push(Omitted {
                id: id.into(),
                reason: "check constraints cannot be compared across engines; compare them by hand"
                    .into(),
                sql: None,
            }),
            Delta::Schema(_)
            | Delta::Extension(_)
            | Delta::Enum(_)
            | Delta::EnumValues(_)
            | Delta::Sequence(_)
            | Delta::SequenceChanged(..)
            | Delta::Function(_)
            | Delta::FunctionDefinition(_)
            | Delta::PrimaryKey { .. }
            | Delta::PrimaryKeyColumns { .. }
            | Delta::Unique { .. }
            | Delta::Check { .. }
            | Delta::CheckExpression { .. }
            | Delta::ForeignKey { .. }
            | Delta::ForeignKeyChanged { .. } => self.out.cannot(
                id,
                format!("keel does not plan {} changes on SQLite", d.kind.words()),
            ),
        }
    }

    fn add_column(&mut self, tkey: &Key, c: &Column, id: &str) {
        let mut hazards = Vec::new();
        if !c.nullable {
            hazards.push(Hazard::ExistingRowsGetDefault {
                table: tkey.clone(),
                column: c.name.clone(),
            });
        }
        let sql = format!(
            "-- SQLite has no ADD COLUMN IF NOT EXISTS: this statement fails if the column exists\n\
             ALTER TABLE {} ADD COLUMN {} {}",
            qk(tkey),
            q(&c.name),
            self.column_definition(c, false)
        );
        self.out.add(COLUMN, id, sql, hazards);
    }

    fn drop_index(&mut self, name: &str, id: &str) {
        self.out.add(
            DROP_INDEX,
            id,
            format!("DROP INDEX IF EXISTS {}", q(name)),
            vec![],
        );
    }

    fn add_index(&mut self, tkey: &Key, i: &Index, id: &str) {
        let sql = self.create_index(i, tkey);
        self.out.add(
            ADD_INDEX,
            id,
            sql,
            vec![Hazard::DatabaseWriteLockWhileIndexing(tkey.clone())],
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

    fn create_trigger(&mut self, tr: &Trigger, table: &Key, id: &str, phase: u16) {
        if !self.same_dialect() {
            self.out.cannot(
                id,
                format!(
                    "trigger {} on {table} is written for {}; write it for SQLite by hand",
                    tr.name, self.e.dialect
                ),
            );
            return;
        }
        let sql = format!(
            "DROP TRIGGER IF EXISTS {};\n{}",
            q(&tr.name),
            tr.definition.trim().trim_end_matches(';')
        );
        self.out.add(phase, id, sql, vec![]);
    }

    fn create_table(&mut self, t: &Table, id: &str) {
        let sql = self.table_sql(t, &t.key.name, &[], true);
        self.out.add(CREATE_TABLE, id, sql, vec![]);
        for i in t.indexes.values() {
            let sql = self.create_index(i, &t.key);
            self.out.add(ADD_INDEX, id, sql, vec![]);
        }
        for tr in t.triggers.values() {
            self.create_trigger(tr, &t.key, id, CREATE_TRIGGER);
        }
    }

    /// `CREATE TABLE` for `t` under the name `name`, with `extra` columns
    /// (kept from the actual table) after its own.
    fn table_sql(&self, t: &Table, name: &str, extra: &[&Column], if_not_exists: bool) -> String {
        let autoincrement = t
            .columns
            .iter()
            .any(|c| c.generator == Some(Generator::AutoIncrement));
        let mut parts: Vec<String> = t
            .columns
            .iter()
            .chain(extra.iter().copied())
            .map(|c| format!("{} {}", q(&c.name), self.column_definition(c, true)))
            .collect();
        if let Some(pk) = &t.primary_key
            && !autoincrement
        {
            parts.push(format!("PRIMARY KEY ({})", idents(&pk.columns)));
        }
        for u in t.uniques.values() {
            parts.push(format!("UNIQUE ({})", idents(&u.columns)));
        }
        for (name, c) in self.checks_in_order(t) {
            match name {
                Some(n) => parts.push(format!("CONSTRAINT {} CHECK ({})", q(&n), c.expression)),
                None => parts.push(format!("CHECK ({})", c.expression)),
            }
        }
        for f in t.foreign_keys.values() {
            parts.push(format!(
                "FOREIGN KEY ({}) REFERENCES {} ({}) ON UPDATE {} ON DELETE {}",
                idents(&f.columns),
                q(&f.references.name),
                idents(&f.referenced_columns),
                f.on_update.sql(),
                f.on_delete.sql()
            ));
        }
        let key = Key::new(t.key.schema.clone(), name);
        format!(
            "CREATE TABLE {}{} (\n  {}\n)",
            if if_not_exists { "IF NOT EXISTS " } else { "" },
            qk(&key),
            parts.join(",\n  ")
        )
    }

    /// Checks in the order that makes SQLite's introspection give the
    /// unnamed ones back their `<table>_check<n>` names: (name to write,
    /// check), `None` for an unnamed one.
    fn checks_in_order<'t>(&self, t: &'t Table) -> Vec<(Option<String>, &'t Check)> {
        let n = t.checks.len();
        let mut slots: Vec<Option<(Option<String>, &Check)>> = vec![None; n];
        let mut named = Vec::new();
        for c in t.checks.values() {
            let auto = c
                .name
                .strip_prefix(&format!("{}_check", t.key.name))
                .and_then(|i| i.parse::<usize>().ok())
                .filter(|i| (1..=n).contains(i) && self.same_dialect());
            match auto
                .and_then(|i| slots.get_mut(i - 1))
                .filter(|s| s.is_none())
            {
                Some(slot) => *slot = Some((None, c)),
                None => named.push((Some(c.name.clone()), c)),
            }
        }
        let mut named = named.into_iter();
        slots
            .into_iter()
            .filter_map(|s| s.or_else(|| named.next()))
            .collect()
    }

    /// `type [COLLATE …] [PRIMARY KEY AUTOINCREMENT] [GENERATED …]
    /// [DEFAULT …] [NOT NULL]`.
    fn column_definition(&self, c: &Column, in_create: bool) -> String {
        let mut s = self.lite_type(c);
        if let Some(coll) = &c.collation {
            s.push_str(&format!(" COLLATE {coll}"));
        }
        if in_create && c.generator == Some(Generator::AutoIncrement) {
            s.push_str(" PRIMARY KEY AUTOINCREMENT");
        }
        if let Some(g) = &c.generated {
            s.push_str(&format!(" GENERATED ALWAYS AS ({g})"));
        }
        if let Some(d) = &c.default {
            s.push_str(&format!(" DEFAULT {}", self.default_expr(c, d)));
        }
        if !c.nullable {
            s.push_str(" NOT NULL");
        }
        s
    }

    fn lite_type(&self, c: &Column) -> String {
        if self.same_dialect() {
            return c.data_type.clone();
        }
        if matches!(
            c.generator,
            Some(Generator::Rowid | Generator::AutoIncrement | Generator::Identity { .. })
        ) {
            return "integer".into();
        }
        types::spell(self.e.dialect, &c.data_type, Dialect::Sqlite)
    }

    /// A default in SQLite spelling (other engines' casts and `now()` left
    /// behind).
    fn default_expr(&self, c: &Column, d: &str) -> String {
        if self.same_dialect() {
            return d.to_string();
        }
        if let Some(clock) = types::defaults::clock_of(d) {
            return clock.standard().into();
        }
        let n = types::neutral_default(d);
        if types::logical(self.e.dialect, &c.data_type) == Logical::Bool {
            return n;
        }
        if n.eq_ignore_ascii_case("current_timestamp") || n.eq_ignore_ascii_case("null") {
            return n.to_ascii_uppercase();
        }
        if n.parse::<f64>().is_ok() || n.starts_with('\'') {
            n
        } else {
            format!("({n})")
        }
    }

    fn create_index(&self, i: &Index, t: &Key) -> String {
        let mut s = format!(
            "CREATE {}INDEX IF NOT EXISTS {} ON {} ({})",
            if i.unique { "UNIQUE " } else { "" },
            q(&i.name),
            qk(t),
            i.columns.join(", ")
        );
        if let Some(p) = &i.predicate {
            s.push_str(&format!(" WHERE {p}"));
        }
        s
    }

    /// SQLite's documented 12-step rebuild of `key` into its expected shape.
    fn rebuild(&mut self, key: &Key, resolved: &[&Difference]) {
        let (Some(t), Some(old)) = (self.e.tables.get(key), self.a.tables.get(key)) else {
            return;
        };
        let ids: Vec<String> = resolved.iter().map(|d| d.id.clone()).collect();
        let id = ids
            .first()
            .cloned()
            .unwrap_or_else(|| format!("table/{key}"));
        if !self.same_dialect() && !t.triggers.is_empty() {
            for tr in t.triggers.values() {
                self.create_trigger(tr, key, &id, REBUILD);
            }
            return;
        }
        // extra columns stay unless dropping them is allowed
        let extra: Vec<&Column> = if self.out.allow_destructive {
            Vec::new()
        } else {
            old.columns
                .iter()
                .filter(|c| t.column(&c.name).is_none())
                .collect()
        };
        let stored = |c: &Column| c.generated.is_none();
        let copied: Vec<&Column> = t
            .columns
            .iter()
            .chain(extra.iter().copied())
            .filter(|c| stored(c))
            .filter(|c| old.column(&c.name).is_some_and(stored))
            .collect();
        let new_name = format!("{}{REBUILD_SUFFIX}", key.name);
        let new_key = Key::new(key.schema.clone(), new_name.clone());
        let cols = copied
            .iter()
            .map(|c| q(&c.name))
            .collect::<Vec<_>>()
            .join(", ");
        let mut sql = vec![
            format!("DROP TABLE IF EXISTS {}", qk(&new_key)),
            self.table_sql(t, &new_name, &extra, false),
            format!(
                "INSERT INTO {} ({cols}) SELECT {cols} FROM {}",
                qk(&new_key),
                qk(key)
            ),
            format!("DROP TABLE {}", qk(key)),
            format!("ALTER TABLE {} RENAME TO {}", qk(&new_key), q(&key.name)),
        ];
        for i in t.indexes.values() {
            sql.push(self.create_index(i, &t.key));
        }
        for tr in t.triggers.values() {
            sql.push(tr.definition.trim().trim_end_matches(';').to_string());
        }
        let mut hazards = vec![Hazard::Rebuilds(key.clone())];
        // what the new definition changes (not its indexes and triggers,
        // which are re-created as they were)
        let changed: Vec<String> = resolved
            .iter()
            .filter(|d| changes_definition(&d.delta))
            .map(|d| d.id.clone())
            .collect();
        if !changed.is_empty() {
            hazards.push(Hazard::RebuildCanFail(changed));
        }
        if !extra.is_empty() {
            hazards.push(Hazard::RebuildKeepsColumns(
                extra.iter().map(|c| c.name.clone()).collect(),
            ));
        }
        let step_sql = format!(
            "-- SQLite's ALTER TABLE cannot make these changes: 12-step rebuild of {key}\n{}",
            sql.join(";\n")
        );
        self.out.push(
            REBUILD,
            Step {
                sql: step_sql,
                hazards,
                resolves: if ids.is_empty() {
                    vec![id.clone()]
                } else {
                    ids
                },
            },
        );
        // views that read the table stop the rename: drop them first,
        // re-create them after (a view FROM does not have, and that no
        // difference drops, is re-created as it was)
        let readers: Vec<&View> = self
            .a
            .views
            .values()
            .filter(|v| v.depends_on.contains(key))
            .collect();
        for v in readers {
            if self.e.views.contains_key(&v.key) {
                self.create_views.insert(v.key.clone());
            } else if !self.drop_views.contains(&v.key) {
                let sql = format!(
                    "DROP VIEW IF EXISTS {};\n{}",
                    qk(&v.key),
                    v.definition.trim().trim_end_matches(';')
                );
                self.out.add(CREATE_VIEW, &id, sql, vec![]);
            }
            self.drop_views.insert(v.key.clone());
        }
        for v in self.e.views.values().filter(|v| v.depends_on.contains(key)) {
            if self.a.views.contains_key(&v.key) {
                self.create_views.insert(v.key.clone());
            }
        }
    }

    fn views(&mut self) {
        for k in self.drop_views.clone() {
            let id = format!("view/{}/{}", k.schema, k.name);
            self.out.add(
                DROP_VIEW,
                &id,
                format!("DROP VIEW IF EXISTS {}", qk(&k)),
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
            if !self.same_dialect() {
                self.out.cannot(
                    &id,
                    format!(
                        "view {k} is written for {}; write it for SQLite by hand",
                        self.e.dialect
                    ),
                );
                continue;
            }
            let sql = format!(
                "DROP VIEW IF EXISTS {};\n{}",
                qk(&k),
                v.definition.trim().trim_end_matches(';')
            );
            self.out.add(CREATE_VIEW, &id, sql, vec![]);
        }
    }
}

/// Whether a difference a rebuild resolves changes the table's definition
/// (columns and constraints) rather than its indexes or triggers.
fn changes_definition(delta: &Delta) -> bool {
    match delta {
        Delta::Column { .. }
        | Delta::ColumnChanged { .. }
        | Delta::PrimaryKey { .. }
        | Delta::PrimaryKeyColumns { .. }
        | Delta::Unique { .. }
        | Delta::Check { .. }
        | Delta::CheckExpression { .. }
        | Delta::CheckCount { .. }
        | Delta::ForeignKey { .. }
        | Delta::ForeignKeyChanged { .. } => true,
        Delta::Index { .. }
        | Delta::IndexChanged { .. }
        | Delta::Trigger { .. }
        | Delta::TriggerChanged { .. }
        | Delta::Schema(_)
        | Delta::Extension(_)
        | Delta::Enum(_)
        | Delta::EnumValues(_)
        | Delta::Sequence(_)
        | Delta::SequenceChanged(..)
        | Delta::Function(_)
        | Delta::FunctionDefinition(_)
        | Delta::Table(_)
        | Delta::View(_)
        | Delta::ViewChanged(..) => false,
    }
}

fn idents(cols: &[String]) -> String {
    cols.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ")
}

/// Whether `text` names `ident` as a whole word (case-insensitive; quotes
/// around it allowed). Errs on the side of yes.
pub(crate) fn mentions(text: &str, ident: &str) -> bool {
    let (text, ident) = (text.to_ascii_lowercase(), ident.to_ascii_lowercase());
    if ident.is_empty() {
        return false;
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let mut from = 0;
    while let Some(pos) = text[from..].find(&ident) {
        let at = from + pos;
        let end = at + ident.len();
        if !word(text[..at].chars().next_back()) && !word(text[end..].chars().next()) {
            return true;
        }
        from = at + ident.len().max(1);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unnamed_checks_keep_their_slot_so_sqlite_numbers_them_back() {
        let schema = Schema::empty(LITE);
        let p = Planner {
            e: &schema,
            a: &schema,
            out: Steps::new(false),
            create_views: BTreeSet::new(),
            drop_views: BTreeSet::new(),
            rebuilds: BTreeMap::new(),
        };
        let mut t = Table::new(Key::new(DEFAULT_SCHEMA, "t"));
        for name in ["t_check2", "positive", "t_check9"] {
            t.checks.insert(
                name.into(),
                Check {
                    name: name.into(),
                    expression: format!("{name} > 0"),
                },
            );
        }
        let order: Vec<(Option<String>, &str)> = p
            .checks_in_order(&t)
            .into_iter()
            .map(|(n, c)| (n, c.name.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                (Some("positive".to_string()), "positive"),
                (None, "t_check2"),
                (Some("t_check9".to_string()), "t_check9"),
            ]
        );
    }

    #[test]
    fn mentions_finds_whole_words_only() {
        assert!(mentions("SELECT * FROM \"order\" o", "order"));
        assert!(!mentions("SELECT * FROM orders", "order"));
        assert!(mentions("lower(email)", "email"));
    }
}
