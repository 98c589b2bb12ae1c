//! Pure comparison of two [`Schema`]s: `expected` (the FROM side of
//! `keel diff`, e.g. what the migrations produce) against `actual` (the TO
//! side, e.g. production). No I/O; unit-tested below.
//!
//! Every [`Difference`] has a stable id, `kind/schema/table/name` (or
//! `kind/schema/name` for objects outside tables) plus `/attribute` for a
//! changed attribute, so CI can track or allow-list it.
//!
//! Objects are paired by what they are, not by what they are called, where
//! the name is an accident: foreign keys by their columns and target,
//! unique constraints by their columns, indexes by name and then by what
//! they index. Renames are never guessed: a renamed column is one missing
//! and one extra.

use crate::dialect::Dialect;
use crate::schema::model::*;
use crate::schema::types;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Schema,
    Extension,
    Enum,
    Sequence,
    Function,
    Table,
    Column,
    PrimaryKey,
    Unique,
    Check,
    ForeignKey,
    Index,
    Trigger,
    View,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Schema => "schema",
            Kind::Extension => "extension",
            Kind::Enum => "enum",
            Kind::Sequence => "sequence",
            Kind::Function => "function",
            Kind::Table => "table",
            Kind::Column => "column",
            Kind::PrimaryKey => "primary_key",
            Kind::Unique => "unique",
            Kind::Check => "check",
            Kind::ForeignKey => "foreign_key",
            Kind::Index => "index",
            Kind::Trigger => "trigger",
            Kind::View => "view",
        }
    }

    /// Human wording, e.g. `foreign key`.
    pub fn words(self) -> &'static str {
        match self {
            Kind::PrimaryKey => "primary key",
            Kind::ForeignKey => "foreign key",
            Kind::Unique => "unique constraint",
            Kind::Check => "check constraint",
            Kind::Enum => "enum type",
            other => other.as_str(),
        }
    }
}

/// What differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// In the expected schema, absent from the actual one.
    Missing,
    /// In the actual schema only.
    Extra,
    /// In both, with an attribute that differs.
    Changed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// `kind/schema/table/name[/attribute]`.
    pub id: String,
    pub kind: Kind,
    pub change: Change,
    pub schema: String,
    /// The table an object belongs to (columns, keys, indexes, triggers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// The expected (FROM) value or definition; `None` when extra.
    pub expected: Option<String>,
    /// The actual (TO) value or definition; `None` when missing.
    pub actual: Option<String>,
}

impl Difference {
    fn new(
        kind: Kind,
        change: Change,
        schema: &str,
        table: Option<&str>,
        name: &str,
    ) -> Difference {
        let mut d = Difference {
            id: String::new(),
            kind,
            change,
            schema: schema.to_string(),
            table: table.map(str::to_string),
            name: name.to_string(),
            attribute: None,
            expected: None,
            actual: None,
        };
        d.id = d.make_id();
        d
    }

    fn values(mut self, expected: Option<String>, actual: Option<String>) -> Difference {
        self.expected = expected;
        self.actual = actual;
        self
    }

    fn attribute(mut self, attribute: &str) -> Difference {
        self.attribute = Some(attribute.to_string());
        self.id = self.make_id();
        self
    }

    fn make_id(&self) -> String {
        let mut id = format!("{}/{}", self.kind.as_str(), self.schema);
        if let Some(t) = &self.table {
            id.push('/');
            id.push_str(t);
        }
        id.push('/');
        id.push_str(&self.name);
        if let Some(a) = &self.attribute {
            id.push('/');
            id.push_str(a);
        }
        id
    }

    /// `schema.table` for objects in a table, else `schema.name`.
    pub fn group(&self) -> String {
        format!(
            "{}.{}",
            self.schema,
            self.table.as_deref().unwrap_or(&self.name)
        )
    }
}

/// Compares `expected` with `actual`; differences in a stable order.
pub fn diff(expected: &Schema, actual: &Schema) -> Vec<Difference> {
    let mut d = Differ {
        e: expected.dialect,
        a: actual.dialect,
        out: Vec::new(),
    };
    d.schema(expected, actual);
    d.out.sort_by(|x, y| {
        (x.group(), x.table.is_some(), x.kind, &x.name, &x.attribute).cmp(&(
            y.group(),
            y.table.is_some(),
            y.kind,
            &y.name,
            &y.attribute,
        ))
    });
    d.out
}

struct Differ {
    e: Dialect,
    a: Dialect,
    out: Vec<Difference>,
}

/// Pairs two maps by key: (key, expected, actual).
fn pair<'a, K: Ord + Clone, V>(
    e: &'a BTreeMap<K, V>,
    a: &'a BTreeMap<K, V>,
) -> Vec<(K, Option<&'a V>, Option<&'a V>)> {
    let mut keys: Vec<&K> = e.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| (k.clone(), e.get(k), a.get(k)))
        .collect()
}

impl Differ {
    fn same_engine(&self) -> bool {
        self.e == self.a
    }

    fn push(&mut self, d: Difference) {
        self.out.push(d);
    }

    fn presence<T>(
        &mut self,
        kind: Kind,
        key: &Key,
        table: Option<&str>,
        e: Option<T>,
        a: Option<T>,
        show: impl Fn(T) -> String,
    ) -> bool {
        match (e, a) {
            (Some(x), None) => {
                self.push(
                    Difference::new(kind, Change::Missing, &key.schema, table, &key.name)
                        .values(Some(show(x)), None),
                );
                true
            }
            (None, Some(y)) => {
                self.push(
                    Difference::new(kind, Change::Extra, &key.schema, table, &key.name)
                        .values(None, Some(show(y))),
                );
                true
            }
            _ => false,
        }
    }

    // one call per attribute reads best with every field spelled out
    #[allow(clippy::too_many_arguments)]
    fn changed(
        &mut self,
        kind: Kind,
        schema: &str,
        table: Option<&str>,
        name: &str,
        attribute: &str,
        e: String,
        a: String,
    ) {
        self.push(
            Difference::new(kind, Change::Changed, schema, table, name)
                .attribute(attribute)
                .values(Some(e), Some(a)),
        );
    }

    fn schema(&mut self, e: &Schema, a: &Schema) {
        if self.same_engine() {
            let es: BTreeMap<_, _> = e.schemas.iter().map(|s| (s.clone(), ())).collect();
            let as_: BTreeMap<_, _> = a.schemas.iter().map(|s| (s.clone(), ())).collect();
            for (s, x, y) in pair(&es, &as_) {
                self.presence(
                    Kind::Schema,
                    &Key::new(s.clone(), s.clone()),
                    None,
                    x,
                    y,
                    |_| s.clone(),
                );
            }
            for (name, x, y) in pair(&e.extensions, &a.extensions) {
                let key = Key::new(DEFAULT_SCHEMA, name);
                self.presence(Kind::Extension, &key, None, x, y, |x| {
                    format!("extension {} in schema {}", x.name, x.schema)
                });
            }
            for (key, x, y) in pair(&e.enums, &a.enums) {
                if !self.presence(Kind::Enum, &key, None, x, y, |x| x.values.join(", "))
                    && let (Some(x), Some(y)) = (x, y)
                    && x.values != y.values
                {
                    self.changed(
                        Kind::Enum,
                        &key.schema,
                        None,
                        &key.name,
                        "values",
                        x.values.join(", "),
                        y.values.join(", "),
                    );
                }
            }
            for (key, x, y) in pair(&e.sequences, &a.sequences) {
                if !self.presence(Kind::Sequence, &key, None, x, y, describe_sequence)
                    && let (Some(x), Some(y)) = (x, y)
                {
                    self.sequence(x, y);
                }
            }
            for (key, x, y) in pair(&e.functions, &a.functions) {
                if !self.presence(Kind::Function, &key, None, x, y, |f| f.definition.clone())
                    && let (Some(x), Some(y)) = (x, y)
                    && x.definition != y.definition
                {
                    self.changed(
                        Kind::Function,
                        &key.schema,
                        None,
                        &key.name,
                        "definition",
                        x.definition.clone(),
                        y.definition.clone(),
                    );
                }
            }
        }
        for (key, x, y) in pair(&e.tables, &a.tables) {
            if !self.presence(Kind::Table, &key, None, x, y, describe_table)
                && let (Some(x), Some(y)) = (x, y)
            {
                self.table(x, y);
            }
        }
        for (key, x, y) in pair(&e.views, &a.views) {
            if !self.presence(Kind::View, &key, None, x, y, |v| v.definition.clone())
                && let (Some(x), Some(y)) = (x, y)
                && self.same_engine()
            {
                if x.definition != y.definition {
                    self.changed(
                        Kind::View,
                        &key.schema,
                        None,
                        &key.name,
                        "definition",
                        x.definition.clone(),
                        y.definition.clone(),
                    );
                }
                if x.materialized != y.materialized {
                    self.changed(
                        Kind::View,
                        &key.schema,
                        None,
                        &key.name,
                        "materialized",
                        x.materialized.to_string(),
                        y.materialized.to_string(),
                    );
                }
            }
        }
    }

    fn sequence(&mut self, x: &Sequence, y: &Sequence) {
        let k = &x.key;
        let owned = |s: &Sequence| match &s.owned_by {
            Some((t, c)) => format!("{t}.{c}"),
            None => "none".into(),
        };
        let attrs = [
            ("type", x.data_type.clone(), y.data_type.clone()),
            (
                "increment",
                x.increment.to_string(),
                y.increment.to_string(),
            ),
            ("min", x.min.to_string(), y.min.to_string()),
            ("max", x.max.to_string(), y.max.to_string()),
            ("start", x.start.to_string(), y.start.to_string()),
            ("cycle", x.cycle.to_string(), y.cycle.to_string()),
            ("owned_by", owned(x), owned(y)),
        ];
        for (attr, e, a) in attrs {
            if e != a {
                self.changed(Kind::Sequence, &k.schema, None, &k.name, attr, e, a);
            }
        }
    }

    fn table(&mut self, x: &Table, y: &Table) {
        // Identical tables of one engine differ in nothing: one comparison
        // without allocating, for the thousands of tables two databases
        // usually share.
        if self.same_engine() && x == y {
            return;
        }
        let (schema, table) = (x.key.schema.as_str(), Some(x.key.name.as_str()));
        // columns
        for c in &x.columns {
            match y.column(&c.name) {
                None => self.push(
                    Difference::new(Kind::Column, Change::Missing, schema, table, &c.name)
                        .values(Some(describe_column(c)), None),
                ),
                Some(d) => self.column(schema, table, c, d),
            }
        }
        for d in &y.columns {
            if x.column(&d.name).is_none() {
                self.push(
                    Difference::new(Kind::Column, Change::Extra, schema, table, &d.name)
                        .values(None, Some(describe_column(d))),
                );
            }
        }
        // primary key
        match (&x.primary_key, &y.primary_key) {
            (Some(p), None) => self.push(
                Difference::new(
                    Kind::PrimaryKey,
                    Change::Missing,
                    schema,
                    table,
                    &pk_name(p, x),
                )
                .values(Some(p.columns.join(", ")), None),
            ),
            (None, Some(q)) => self.push(
                Difference::new(
                    Kind::PrimaryKey,
                    Change::Extra,
                    schema,
                    table,
                    &pk_name(q, y),
                )
                .values(None, Some(q.columns.join(", "))),
            ),
            (Some(p), Some(q)) if p.columns != q.columns => self.changed(
                Kind::PrimaryKey,
                schema,
                table,
                &pk_name(p, x),
                "columns",
                p.columns.join(", "),
                q.columns.join(", "),
            ),
            _ => {}
        }
        // unique constraints, by columns (across engines a plain unique
        // index counts as a unique constraint)
        let cross = !self.same_engine();
        let uniques = |t: &Table| -> BTreeMap<Vec<String>, String> {
            let mut m: BTreeMap<Vec<String>, String> = t
                .uniques
                .values()
                .map(|u| (u.columns.clone(), u.name.clone()))
                .collect();
            if cross {
                for i in t.indexes.values() {
                    if i.unique && i.predicate.is_none() && i.include.is_empty() {
                        m.insert(i.columns.iter().map(|c| bare(c)).collect(), i.name.clone());
                    }
                }
            }
            m
        };
        let (ux, uy) = (uniques(x), uniques(y));
        for (cols, e, a) in pair(&ux, &uy) {
            let name = e.or(a).cloned().unwrap_or_default();
            self.presence(
                Kind::Unique,
                &Key::new(schema, name),
                table,
                e.map(|_| &cols),
                a.map(|_| &cols),
                |c| c.join(", "),
            );
        }
        // checks
        if self.same_engine() {
            for (name, e, a) in pair(&x.checks, &y.checks) {
                let key = Key::new(schema, name.clone());
                if !self.presence(Kind::Check, &key, table, e, a, |c| c.expression.clone())
                    && let (Some(e), Some(a)) = (e, a)
                    && e.expression != a.expression
                {
                    self.changed(
                        Kind::Check,
                        schema,
                        table,
                        &name,
                        "expression",
                        e.expression.clone(),
                        a.expression.clone(),
                    );
                }
            }
        } else if x.checks.len() != y.checks.len() {
            // Engines spell check expressions too differently to compare
            // them; their number still tells a missing one.
            self.changed(
                Kind::Check,
                schema,
                table,
                "*",
                "count",
                x.checks.len().to_string(),
                y.checks.len().to_string(),
            );
        }
        // foreign keys, by columns and target
        let (fx, fy) = (fk_map(x), fk_map(y));
        for (_, e, a) in pair(&fx, &fy) {
            let name = e.or(a).map(|f| f.name.clone()).unwrap_or_default();
            let key = Key::new(schema, name.clone());
            if !self.presence(
                Kind::ForeignKey,
                &key,
                table,
                e.copied(),
                a.copied(),
                describe_fk,
            ) && let (Some(e), Some(a)) = (e, a)
            {
                // InnoDB and SQLite make RESTRICT and NO ACTION the same
                let action = |x: Action| match x {
                    Action::Restrict if cross => Action::NoAction.sql(),
                    other => other.sql(),
                };
                let attrs = [
                    ("on_delete", action(e.on_delete), action(a.on_delete)),
                    ("on_update", action(e.on_update), action(a.on_update)),
                    ("deferrable", deferral(e), deferral(a)),
                ];
                for (attr, ev, av) in attrs {
                    if ev != av {
                        self.changed(
                            Kind::ForeignKey,
                            schema,
                            table,
                            &name,
                            attr,
                            ev.into(),
                            av.into(),
                        );
                    }
                }
            }
        }
        self.indexes(schema, table, x, y);
        // triggers
        for (name, e, a) in pair(&x.triggers, &y.triggers) {
            let key = Key::new(schema, name.clone());
            if !self.presence(Kind::Trigger, &key, table, e, a, |t| t.definition.clone())
                && let (Some(e), Some(a)) = (e, a)
                && self.same_engine()
            {
                if e.definition != a.definition {
                    self.changed(
                        Kind::Trigger,
                        schema,
                        table,
                        &name,
                        "definition",
                        e.definition.clone(),
                        a.definition.clone(),
                    );
                }
                if e.enabled != a.enabled {
                    self.changed(
                        Kind::Trigger,
                        schema,
                        table,
                        &name,
                        "enabled",
                        e.enabled.to_string(),
                        a.enabled.to_string(),
                    );
                }
            }
        }
    }

    fn column(&mut self, schema: &str, table: Option<&str>, c: &Column, d: &Column) {
        let (e, a) = (self.e, self.a);
        let name = c.name.as_str();
        if !types::same_type(e, &c.data_type, a, &d.data_type) {
            self.changed(
                Kind::Column,
                schema,
                table,
                name,
                "type",
                c.data_type.clone(),
                d.data_type.clone(),
            );
        }
        if c.nullable != d.nullable {
            let show = |n: bool| if n { "NULL" } else { "NOT NULL" }.to_string();
            self.changed(
                Kind::Column,
                schema,
                table,
                name,
                "nullable",
                show(c.nullable),
                show(d.nullable),
            );
        }
        if !types::same_column_default(e, c, a, d) {
            let show = |x: &Option<String>| x.clone().unwrap_or_else(|| "none".into());
            self.changed(
                Kind::Column,
                schema,
                table,
                name,
                "default",
                show(&c.default),
                show(&d.default),
            );
        }
        let generators_differ = if self.same_engine() {
            c.generator != d.generator
        } else {
            c.generator.is_some() != d.generator.is_some()
        };
        if generators_differ {
            let show = |g: &Option<Generator>| {
                g.as_ref()
                    .map(Generator::describe)
                    .unwrap_or_else(|| "none".into())
            };
            self.changed(
                Kind::Column,
                schema,
                table,
                name,
                "generator",
                show(&c.generator),
                show(&d.generator),
            );
        }
        let generated_differ = if self.same_engine() {
            c.generated != d.generated
        } else {
            c.generated.is_some() != d.generated.is_some()
        };
        if generated_differ {
            let show = |g: &Option<String>| g.clone().unwrap_or_else(|| "none".into());
            self.changed(
                Kind::Column,
                schema,
                table,
                name,
                "generated",
                show(&c.generated),
                show(&d.generated),
            );
        }
        if self.same_engine() && c.collation != d.collation {
            let show = |g: &Option<String>| g.clone().unwrap_or_else(|| "default".into());
            self.changed(
                Kind::Column,
                schema,
                table,
                name,
                "collation",
                show(&c.collation),
                show(&d.collation),
            );
        }
    }

    fn indexes(&mut self, schema: &str, table: Option<&str>, x: &Table, y: &Table) {
        let cross = !self.same_engine();
        let sig = |i: &Index| {
            if cross {
                // quoting and method names differ between engines
                let cols: Vec<String> = i.columns.iter().map(|c| bare(c)).collect();
                format!(
                    "{}({}) {:?}",
                    i.unique,
                    cols.join(","),
                    i.predicate.as_deref().map(bare)
                )
            } else {
                i.signature()
            }
        };
        // across engines plain unique indexes were compared as uniques
        let keep =
            |i: &&Index| !(cross && i.unique && i.predicate.is_none() && i.include.is_empty());
        let xs: Vec<&Index> = x.indexes.values().filter(keep).collect();
        let ys: Vec<&Index> = y.indexes.values().filter(keep).collect();
        let mut unmatched_y: Vec<&Index> = Vec::new();
        let mut matched_x: Vec<&str> = Vec::new();
        for j in &ys {
            if let Some(i) = xs.iter().find(|i| i.name == j.name) {
                matched_x.push(&i.name);
                if sig(i) != sig(j) {
                    self.changed(
                        Kind::Index,
                        schema,
                        table,
                        &i.name,
                        "definition",
                        i.signature(),
                        j.signature(),
                    );
                } else if i.valid != j.valid {
                    self.changed(
                        Kind::Index,
                        schema,
                        table,
                        &i.name,
                        "valid",
                        i.valid.to_string(),
                        j.valid.to_string(),
                    );
                }
            } else {
                unmatched_y.push(j);
            }
        }
        for i in xs.iter().filter(|i| !matched_x.contains(&i.name.as_str())) {
            match unmatched_y.iter().position(|j| sig(j) == sig(i)) {
                // the same index under another name: not a difference
                Some(p) => {
                    unmatched_y.remove(p);
                }
                None => self.push(
                    Difference::new(Kind::Index, Change::Missing, schema, table, &i.name)
                        .values(Some(i.signature()), None),
                ),
            }
        }
        for j in unmatched_y {
            self.push(
                Difference::new(Kind::Index, Change::Extra, schema, table, &j.name)
                    .values(None, Some(j.signature())),
            );
        }
    }
}

/// Foreign keys by what they link: columns, target table, target columns.
type FkSignature = (Vec<String>, Key, Vec<String>);

fn fk_map(t: &Table) -> BTreeMap<FkSignature, &ForeignKey> {
    t.foreign_keys
        .values()
        .map(|f| {
            (
                (
                    f.columns.clone(),
                    f.references.clone(),
                    f.referenced_columns.clone(),
                ),
                f,
            )
        })
        .collect()
}

fn pk_name(p: &PrimaryKey, t: &Table) -> String {
    if p.name.is_empty() {
        format!("{}_pkey", t.key.name)
    } else {
        p.name.clone()
    }
}

fn deferral(f: &ForeignKey) -> &'static str {
    match (f.deferrable, f.initially_deferred) {
        (false, _) => "NOT DEFERRABLE",
        (true, false) => "DEFERRABLE INITIALLY IMMEDIATE",
        (true, true) => "DEFERRABLE INITIALLY DEFERRED",
    }
}

/// An identifier or expression without quotes, lower-cased: how names
/// compare across engines.
fn bare(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '"' && *c != '`')
        .collect::<String>()
        .to_ascii_lowercase()
}

/// `type [NOT NULL] [DEFAULT …] [generator]`, for reports.
pub fn describe_column(c: &Column) -> String {
    let mut s = c.data_type.clone();
    if let Some(g) = &c.generated {
        s.push_str(&format!(" GENERATED ALWAYS AS ({g}) STORED"));
    }
    if !c.nullable {
        s.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        s.push_str(&format!(" DEFAULT {d}"));
    }
    if let Some(g) = &c.generator {
        s.push(' ');
        s.push_str(&g.describe());
    }
    s
}

fn describe_table(t: &Table) -> String {
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("{} {}", c.name, describe_column(c)))
        .collect();
    format!("({})", cols.join(", "))
}

fn describe_fk(f: &ForeignKey) -> String {
    format!(
        "({}) REFERENCES {}({}) ON UPDATE {} ON DELETE {}",
        f.columns.join(", "),
        f.references,
        f.referenced_columns.join(", "),
        f.on_update.sql(),
        f.on_delete.sql()
    )
}

fn describe_sequence(s: &Sequence) -> String {
    format!(
        "{} START {} INCREMENT {} MINVALUE {} MAXVALUE {}{}",
        s.data_type,
        s.start,
        s.increment,
        s.min,
        s.max,
        if s.cycle { " CYCLE" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, ty: &str, nullable: bool, default: Option<&str>) -> Column {
        Column {
            name: name.into(),
            data_type: ty.into(),
            nullable,
            default: default.map(str::to_string),
            generator: None,
            generated: None,
            collation: None,
        }
    }

    fn schema(dialect: Dialect, tables: Vec<Table>) -> Schema {
        let mut s = Schema::empty(dialect);
        for t in tables {
            s.tables.insert(t.key.clone(), t);
        }
        s
    }

    fn users(id_type: &str, extra: &[Column]) -> Table {
        let mut t = Table::new(Key::new("public", "user"));
        t.columns.push(col("id", id_type, false, None));
        t.columns.push(col("email", "text", true, None));
        t.columns.extend(extra.iter().cloned());
        t.primary_key = Some(PrimaryKey {
            name: "user_pkey".into(),
            columns: vec!["id".into()],
        });
        t
    }

    #[test]
    fn identical_schemas_have_no_difference() {
        let a = schema(Dialect::Postgres, vec![users("uuid", &[])]);
        assert!(diff(&a, &a.clone()).is_empty());
    }

    #[test]
    fn incident_4_missing_columns_and_a_retyped_id_are_found_with_stable_ids() {
        let status = col(
            "status",
            "character varying(20)",
            false,
            Some("'new'::character varying"),
        );
        let expected = schema(
            Dialect::Postgres,
            vec![users("character varying(255)", &[status])],
        );
        let actual = schema(Dialect::Postgres, vec![users("uuid", &[])]);
        let d = diff(&expected, &actual);
        let ids: Vec<&str> = d.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            ids,
            ["column/public/user/id/type", "column/public/user/status"]
        );
        assert_eq!(d[0].expected.as_deref(), Some("character varying(255)"));
        assert_eq!(d[0].actual.as_deref(), Some("uuid"));
        assert_eq!(d[1].change, Change::Missing);
        assert_eq!(
            d[1].expected.as_deref(),
            Some("character varying(20) NOT NULL DEFAULT 'new'::character varying")
        );
    }

    #[test]
    fn foreign_keys_pair_by_columns_not_by_name() {
        let fk = |name: &str, on_delete| ForeignKey {
            name: name.into(),
            columns: vec!["user_id".into()],
            references: Key::new("public", "user"),
            referenced_columns: vec!["id".into()],
            on_update: Action::NoAction,
            on_delete,
            deferrable: false,
            initially_deferred: false,
        };
        let order = |f: Option<ForeignKey>| {
            let mut t = Table::new(Key::new("public", "order"));
            t.columns.push(col("user_id", "bigint", true, None));
            if let Some(f) = f {
                t.foreign_keys.insert(f.name.clone(), f);
            }
            t
        };
        let e = schema(
            Dialect::Postgres,
            vec![order(Some(fk("a", Action::Cascade)))],
        );
        let renamed = schema(
            Dialect::Postgres,
            vec![order(Some(fk("b", Action::Cascade)))],
        );
        assert!(diff(&e, &renamed).is_empty(), "a renamed FK is the same FK");
        let other_action = schema(
            Dialect::Postgres,
            vec![order(Some(fk("a", Action::Restrict)))],
        );
        let d = diff(&e, &other_action);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].id, "foreign_key/public/order/a/on_delete");
        let none = schema(Dialect::Postgres, vec![order(None)]);
        let d = diff(&e, &none);
        assert_eq!(d[0].change, Change::Missing);
        assert_eq!(d[0].kind, Kind::ForeignKey);
    }

    #[test]
    fn a_renamed_column_is_one_missing_and_one_extra() {
        let e = schema(
            Dialect::Postgres,
            vec![users("uuid", &[col("name", "text", true, None)])],
        );
        let a = schema(
            Dialect::Postgres,
            vec![users("uuid", &[col("full_name", "text", true, None)])],
        );
        let changes: Vec<(Change, String)> = diff(&e, &a)
            .into_iter()
            .map(|d| (d.change, d.name))
            .collect();
        assert_eq!(
            changes,
            [
                (Change::Extra, "full_name".into()),
                (Change::Missing, "name".into())
            ]
        );
    }

    #[test]
    fn sqlite_and_postgres_compare_by_logical_type_and_generator() {
        let mut s = Table::new(Key::new("public", "t"));
        s.columns.push(Column {
            generator: Some(Generator::Rowid),
            ..col("id", "integer", false, None)
        });
        s.columns
            .push(col("name", "varchar(100)", false, Some("'x'")));
        let mut p = Table::new(Key::new("public", "t"));
        p.columns.push(Column {
            generator: Some(Generator::Identity { always: false }),
            ..col("id", "bigint", false, None)
        });
        p.columns.push(col(
            "name",
            "character varying(100)",
            false,
            Some("'x'::character varying"),
        ));
        let d = diff(
            &schema(Dialect::Sqlite, vec![s.clone()]),
            &schema(Dialect::Postgres, vec![p.clone()]),
        );
        assert!(d.is_empty(), "{d:?}");
        p.columns[0].generator = None;
        let d = diff(
            &schema(Dialect::Sqlite, vec![s]),
            &schema(Dialect::Postgres, vec![p]),
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].id, "column/public/t/id/generator");
    }

    #[test]
    fn indexes_pair_by_name_then_by_definition() {
        let idx = |name: &str, cols: &[&str]| Index {
            name: name.into(),
            unique: false,
            method: "btree".into(),
            columns: cols.iter().map(|c| c.to_string()).collect(),
            include: vec![],
            predicate: None,
            valid: true,
        };
        let with = |i: Vec<Index>| {
            let mut t = users("uuid", &[]);
            for i in i {
                t.indexes.insert(i.name.clone(), i);
            }
            schema(Dialect::Postgres, vec![t])
        };
        assert!(
            diff(
                &with(vec![idx("a", &["email"])]),
                &with(vec![idx("b", &["email"])])
            )
            .is_empty()
        );
        let d = diff(
            &with(vec![idx("a", &["email"])]),
            &with(vec![idx("a", &["id"])]),
        );
        assert_eq!(d[0].id, "index/public/user/a/definition");
    }
}
