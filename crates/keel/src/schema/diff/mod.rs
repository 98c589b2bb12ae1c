//! Pure comparison of two [`Schema`]s: `expected` (the FROM side of
//! `keel diff`, e.g. what the migrations produce) against `actual` (the TO
//! side, e.g. production). No I/O; unit-tested below.
//!
//! The comparison yields typed changes ([`Delta`], in [`change`]) that
//! point at the model objects involved; each becomes a [`Difference`]
//! whose stable id, `kind/schema/table/name` (or `kind/schema/name` for
//! objects outside tables) plus `/attribute` for a changed attribute, and
//! reported values are derived from it ([`report`]), so CI can track or
//! allow-list it.
//!
//! Objects are paired by what they are, not by what they are called, where
//! the name is an accident: foreign keys by their columns and target,
//! unique constraints by their columns, indexes by name and then by what
//! they index. Renames are never guessed: a renamed column is one missing
//! and one extra.

pub mod change;
pub mod report;

pub use change::*;
pub use report::{Change, Difference, Kind, describe_column, pk_name};

use crate::dialect::Dialect;
use crate::schema::model::*;
use crate::schema::types;
use std::collections::BTreeMap;

/// Compares `expected` with `actual`; differences in a stable order.
pub fn diff(expected: &Schema, actual: &Schema) -> Vec<Difference> {
    let mut d = Differ {
        e: expected.dialect,
        a: actual.dialect,
        out: Vec::new(),
    };
    d.schema(expected, actual);
    let mut out: Vec<Difference> = d.out.into_iter().map(Difference::new).collect();
    out.sort_by(|x, y| {
        (x.group(), x.table.is_some(), x.kind, &x.name, &x.attribute).cmp(&(
            y.group(),
            y.table.is_some(),
            y.kind,
            &y.name,
            &y.attribute,
        ))
    });
    out
}

struct Differ {
    e: Dialect,
    a: Dialect,
    out: Vec<Delta>,
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

/// What one side has and the other lacks; `Err` with both when both have it.
fn presence<'a, T: Clone>(
    e: Option<&'a T>,
    a: Option<&'a T>,
) -> Option<Result<Presence<T>, (&'a T, &'a T)>> {
    match (e, a) {
        (Some(x), None) => Some(Ok(Presence::Missing(x.clone()))),
        (None, Some(y)) => Some(Ok(Presence::Extra(y.clone()))),
        (Some(x), Some(y)) => Some(Err((x, y))),
        (None, None) => None,
    }
}

/// An attribute and how to read its value from an object.
type Attribute<C, T> = (C, fn(&T) -> String);

/// The attributes (of `changes`) whose values differ between `x` and `y`.
fn changed<T, C: Copy>(x: &T, y: &T, changes: &[Attribute<C, T>]) -> Vec<C> {
    changes
        .iter()
        .filter(|(_, value)| value(x) != value(y))
        .map(|(c, _)| *c)
        .collect()
}

impl Differ {
    fn same_engine(&self) -> bool {
        self.e == self.a
    }

    fn push(&mut self, d: Delta) {
        self.out.push(d);
    }

    fn schema(&mut self, e: &Schema, a: &Schema) {
        if self.same_engine() {
            let es: BTreeMap<_, _> = e.schemas.iter().map(|s| (s.clone(), s.clone())).collect();
            let as_: BTreeMap<_, _> = a.schemas.iter().map(|s| (s.clone(), s.clone())).collect();
            for (_, x, y) in pair(&es, &as_) {
                if let Some(Ok(p)) = presence(x, y) {
                    self.push(Delta::Schema(p));
                }
            }
            for (_, x, y) in pair(&e.extensions, &a.extensions) {
                if let Some(Ok(p)) = presence(x, y) {
                    self.push(Delta::Extension(p));
                }
            }
            for (_, x, y) in pair(&e.enums, &a.enums) {
                match presence(x, y) {
                    Some(Ok(p)) => self.push(Delta::Enum(p)),
                    Some(Err((x, y))) if x.values != y.values => {
                        self.push(Delta::EnumValues(Pair::new(x.clone(), y.clone())))
                    }
                    _ => {}
                }
            }
            for (_, x, y) in pair(&e.sequences, &a.sequences) {
                match presence(x, y) {
                    Some(Ok(p)) => self.push(Delta::Sequence(p)),
                    Some(Err((x, y))) => self.sequence(x, y),
                    None => {}
                }
            }
            for (_, x, y) in pair(&e.functions, &a.functions) {
                match presence(x, y) {
                    Some(Ok(p)) => self.push(Delta::Function(p)),
                    Some(Err((x, y))) if x.definition != y.definition => {
                        self.push(Delta::FunctionDefinition(Pair::new(x.clone(), y.clone())))
                    }
                    _ => {}
                }
            }
        }
        for (_, x, y) in pair(&e.tables, &a.tables) {
            match presence(x, y) {
                Some(Ok(p)) => self.push(Delta::Table(p)),
                Some(Err((x, y))) => self.table(x, y),
                None => {}
            }
        }
        for (_, x, y) in pair(&e.views, &a.views) {
            match presence(x, y) {
                Some(Ok(p)) => self.push(Delta::View(p)),
                Some(Err((x, y))) if self.same_engine() => {
                    let changes: [Attribute<ViewChange, View>; 2] = [
                        (ViewChange::Definition, |v| v.definition.clone()),
                        (ViewChange::Materialized, |v| v.materialized.to_string()),
                    ];
                    for c in changed(x, y, &changes) {
                        self.push(Delta::ViewChanged(Pair::new(x.clone(), y.clone()), c));
                    }
                }
                _ => {}
            }
        }
    }

    fn sequence(&mut self, x: &Sequence, y: &Sequence) {
        let changes: [Attribute<SequenceChange, Sequence>; 7] = [
            (SequenceChange::DataType, |s| s.data_type.clone()),
            (SequenceChange::Increment, |s| s.increment.to_string()),
            (SequenceChange::Min, |s| s.min.to_string()),
            (SequenceChange::Max, |s| s.max.to_string()),
            (SequenceChange::Start, |s| s.start.to_string()),
            (SequenceChange::Cycle, |s| s.cycle.to_string()),
            (SequenceChange::OwnedBy, |s| format!("{:?}", s.owned_by)),
        ];
        for c in changed(x, y, &changes) {
            self.push(Delta::SequenceChanged(Pair::new(x.clone(), y.clone()), c));
        }
    }

    fn table(&mut self, x: &Table, y: &Table) {
        // Identical tables of one engine differ in nothing: one comparison
        // without allocating, for the thousands of tables two databases
        // usually share.
        if self.same_engine() && x == y {
            return;
        }
        let table = &x.key;
        // columns
        for c in &x.columns {
            match y.column(&c.name) {
                None => self.push(Delta::Column {
                    table: table.clone(),
                    column: Presence::Missing(c.clone()),
                }),
                Some(d) => self.column(table, c, d),
            }
        }
        for d in &y.columns {
            if x.column(&d.name).is_none() {
                self.push(Delta::Column {
                    table: table.clone(),
                    column: Presence::Extra(d.clone()),
                });
            }
        }
        // primary key
        match presence(x.primary_key.as_ref(), y.primary_key.as_ref()) {
            Some(Ok(key)) => self.push(Delta::PrimaryKey {
                table: table.clone(),
                key,
            }),
            Some(Err((p, q))) if p.columns != q.columns => self.push(Delta::PrimaryKeyColumns {
                table: table.clone(),
                key: Pair::new(p.clone(), q.clone()),
            }),
            _ => {}
        }
        // unique constraints, by columns (across engines a plain unique
        // index counts as a unique constraint)
        let cross = !self.same_engine();
        let uniques = |t: &Table| -> BTreeMap<Vec<String>, Unique> {
            let mut m: BTreeMap<Vec<String>, Unique> = t
                .uniques
                .values()
                .map(|u| (u.columns.clone(), u.clone()))
                .collect();
            if cross {
                for i in t.indexes.values() {
                    if i.unique && i.predicate.is_none() && i.include.is_empty() {
                        let columns: Vec<String> = i.columns.iter().map(|c| bare(c)).collect();
                        let u = Unique {
                            name: i.name.clone(),
                            columns: columns.clone(),
                        };
                        m.insert(columns, u);
                    }
                }
            }
            m
        };
        let (ux, uy) = (uniques(x), uniques(y));
        for (_, e, a) in pair(&ux, &uy) {
            if let Some(Ok(unique)) = presence(e, a) {
                self.push(Delta::Unique {
                    table: table.clone(),
                    unique,
                });
            }
        }
        // checks
        if self.same_engine() {
            for (_, e, a) in pair(&x.checks, &y.checks) {
                match presence(e, a) {
                    Some(Ok(check)) => self.push(Delta::Check {
                        table: table.clone(),
                        check,
                    }),
                    Some(Err((e, a))) if e.expression != a.expression => {
                        self.push(Delta::CheckExpression {
                            table: table.clone(),
                            check: Pair::new(e.clone(), a.clone()),
                        })
                    }
                    _ => {}
                }
            }
        } else if x.checks.len() != y.checks.len() {
            // Engines spell check expressions too differently to compare
            // them; their number still tells a missing one.
            self.push(Delta::CheckCount {
                table: table.clone(),
                count: Pair::new(x.checks.len(), y.checks.len()),
            });
        }
        // foreign keys, by columns and target
        let (fx, fy) = (fk_map(x), fk_map(y));
        for (_, e, a) in pair(&fx, &fy) {
            match presence(e.copied(), a.copied()) {
                Some(Ok(key)) => self.push(Delta::ForeignKey {
                    table: table.clone(),
                    key,
                }),
                Some(Err((e, a))) => self.foreign_key(table, e, a),
                None => {}
            }
        }
        self.indexes(table, x, y);
        // triggers
        for (_, e, a) in pair(&x.triggers, &y.triggers) {
            match presence(e, a) {
                Some(Ok(trigger)) => self.push(Delta::Trigger {
                    table: table.clone(),
                    trigger,
                }),
                Some(Err((e, a))) if self.same_engine() => {
                    let changes: [Attribute<TriggerChange, Trigger>; 2] = [
                        (TriggerChange::Definition, |t| t.definition.clone()),
                        (TriggerChange::Enabled, |t| t.enabled.to_string()),
                    ];
                    for change in changed(e, a, &changes) {
                        self.push(Delta::TriggerChanged {
                            table: table.clone(),
                            trigger: Pair::new(e.clone(), a.clone()),
                            change,
                        });
                    }
                }
                _ => {}
            }
        }
    }

    fn foreign_key(&mut self, table: &Key, e: &ForeignKey, a: &ForeignKey) {
        // InnoDB and SQLite make RESTRICT and NO ACTION the same
        let cross = !self.same_engine();
        let action = |x: Action| match x {
            Action::Restrict if cross => Action::NoAction,
            other => other,
        };
        let mut changes = Vec::new();
        let (ed, ad) = (action(e.on_delete), action(a.on_delete));
        if ed != ad {
            changes.push(ForeignKeyChange::OnDelete(ed, ad));
        }
        let (eu, au) = (action(e.on_update), action(a.on_update));
        if eu != au {
            changes.push(ForeignKeyChange::OnUpdate(eu, au));
        }
        if report::deferral(e) != report::deferral(a) {
            changes.push(ForeignKeyChange::Deferral);
        }
        for change in changes {
            self.push(Delta::ForeignKeyChanged {
                table: table.clone(),
                key: Pair::new(e.clone(), a.clone()),
                change,
            });
        }
    }

    fn column(&mut self, table: &Key, c: &Column, d: &Column) {
        let (e, a) = (self.e, self.a);
        let same = self.same_engine();
        let mut changes = Vec::new();
        if !types::same_type(e, &c.data_type, a, &d.data_type) {
            changes.push(ColumnChange::DataType);
        }
        if c.nullable != d.nullable {
            changes.push(ColumnChange::Nullable);
        }
        if !types::same_column_default(e, c, a, d) {
            changes.push(ColumnChange::Default);
        }
        let generators_differ = if same {
            c.generator != d.generator
        } else {
            c.generator.is_some() != d.generator.is_some()
        };
        if generators_differ {
            changes.push(ColumnChange::Generator);
        }
        let generated_differ = if same {
            c.generated != d.generated
        } else {
            c.generated.is_some() != d.generated.is_some()
        };
        if generated_differ {
            changes.push(ColumnChange::Generated);
        }
        if same && c.collation != d.collation {
            changes.push(ColumnChange::Collation);
        }
        for change in changes {
            self.push(Delta::ColumnChanged {
                table: table.clone(),
                column: Pair::new(c.clone(), d.clone()),
                change,
            });
        }
    }

    fn indexes(&mut self, table: &Key, x: &Table, y: &Table) {
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
                let change = if sig(i) != sig(j) {
                    Some(IndexChange::Definition)
                } else if i.valid != j.valid {
                    Some(IndexChange::Valid)
                } else {
                    None
                };
                if let Some(change) = change {
                    self.push(Delta::IndexChanged {
                        table: table.clone(),
                        index: Pair::new((*i).clone(), (*j).clone()),
                        change,
                    });
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
                None => self.push(Delta::Index {
                    table: table.clone(),
                    index: Presence::Missing((*i).clone()),
                }),
            }
        }
        for j in unmatched_y {
            self.push(Delta::Index {
                table: table.clone(),
                index: Presence::Extra(j.clone()),
            });
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

/// An identifier or expression without quotes, lower-cased: how names
/// compare across engines.
fn bare(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '"' && *c != '`')
        .collect::<String>()
        .to_ascii_lowercase()
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

    #[test]
    fn a_type_change_points_at_both_columns() {
        let expected = schema(
            Dialect::Postgres,
            vec![users("character varying(255)", &[])],
        );
        let actual = schema(Dialect::Postgres, vec![users("uuid", &[])]);
        let d = diff(&expected, &actual);
        assert_eq!(d.len(), 1);
        match &d[0].delta {
            Delta::ColumnChanged {
                table,
                column,
                change: ColumnChange::DataType,
            } => {
                assert_eq!(table, &Key::new("public", "user"));
                assert_eq!(column.from.data_type, "character varying(255)");
                assert_eq!(column.to.data_type, "uuid");
            }
            other => panic!("not a type change: {other:?}"),
        }
    }

    #[test]
    fn across_engines_restrict_is_compared_and_reported_as_no_action() {
        let order = |on_delete| {
            let mut t = Table::new(Key::new("public", "order"));
            t.columns.push(col("user_id", "integer", true, None));
            let f = ForeignKey {
                name: "order_user".into(),
                columns: vec!["user_id".into()],
                references: Key::new("public", "user"),
                referenced_columns: vec!["id".into()],
                on_update: Action::NoAction,
                on_delete,
                deferrable: false,
                initially_deferred: false,
            };
            t.foreign_keys.insert(f.name.clone(), f);
            t
        };
        let lite = schema(Dialect::Sqlite, vec![order(Action::Restrict)]);
        let pg = schema(Dialect::Postgres, vec![order(Action::SetNull)]);
        let d = diff(&lite, &pg);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].id, "foreign_key/public/order/order_user/on_delete");
        assert_eq!(d[0].expected.as_deref(), Some("NO ACTION"));
        assert!(matches!(
            &d[0].delta,
            Delta::ForeignKeyChanged {
                change: ForeignKeyChange::OnDelete(Action::NoAction, Action::SetNull),
                key,
                ..
            } if key.from.on_delete == Action::Restrict
        ));
        let pg_restrict = schema(Dialect::Postgres, vec![order(Action::NoAction)]);
        assert!(diff(&lite, &pg_restrict).is_empty());
    }

    #[test]
    fn ids_and_values_are_derived_from_the_typed_change() {
        let t = Key::new("public", "t");
        let d = Difference::new(Delta::CheckCount {
            table: t.clone(),
            count: Pair::new(2, 1),
        });
        assert_eq!(d.id, "check/public/t/*/count");
        assert_eq!((d.kind, d.change), (Kind::Check, Change::Changed));
        assert_eq!(
            (d.expected.as_deref(), d.actual.as_deref()),
            (Some("2"), Some("1"))
        );
        let unnamed = PrimaryKey {
            name: String::new(),
            columns: vec!["id".into(), "at".into()],
        };
        let d = Difference::new(Delta::PrimaryKey {
            table: t,
            key: Presence::Extra(unnamed),
        });
        assert_eq!(d.id, "primary_key/public/t/t_pkey");
        assert_eq!(d.change, Change::Extra);
        assert_eq!((d.expected, d.actual.as_deref()), (None, Some("id, at")));
        let d = Difference::new(Delta::Schema(Presence::Missing("app".into())));
        assert_eq!(
            (d.id.as_str(), d.table.as_deref()),
            ("schema/app/app", None)
        );
        let json = serde_json::to_value(&d).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"id": "schema/app/app", "kind": "schema", "change": "missing",
                "schema": "app", "name": "app", "expected": "app", "actual": null}),
            "the typed change itself is not part of the JSON"
        );
    }
}
