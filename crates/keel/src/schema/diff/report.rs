//! How a [`Delta`] is reported: its [`Kind`], [`Change`], stable id
//! (`kind/schema/table/name[/attribute]`) and the expected and actual
//! values as words. All of it is computed from the typed change, in one
//! place, when the [`Difference`] is made.

use super::change::*;
use crate::schema::model::*;
use serde::Serialize;

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

/// One difference as reports and CI see it; every field is derived from
/// the typed [`delta`](Difference::delta).
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
    /// What differs, typed: the objects and the attribute.
    #[serde(skip)]
    pub delta: Delta,
}

/// The reported values: (expected, actual).
type Values = (Option<String>, Option<String>);

fn presence<T>(p: &Presence<T>, show: impl Fn(&T) -> String) -> (Change, Values) {
    match p {
        Presence::Missing(x) => (Change::Missing, (Some(show(x)), None)),
        Presence::Extra(x) => (Change::Extra, (None, Some(show(x)))),
    }
}

fn pair<T>(p: &Pair<T>, show: impl Fn(&T) -> String) -> Values {
    (Some(show(&p.from)), Some(show(&p.to)))
}

impl Difference {
    pub fn new(delta: Delta) -> Difference {
        let (kind, schema, name) = identity(&delta);
        let (change, attribute, (expected, actual)) = values(&delta);
        let table = delta.table().map(|t| t.name.clone());
        let mut id = format!("{}/{schema}", kind.as_str());
        let parts = table.iter().map(String::as_str);
        for part in parts.chain([name.as_str()]).chain(attribute) {
            id.push('/');
            id.push_str(part);
        }
        Difference {
            id,
            kind,
            change,
            schema,
            table,
            name,
            attribute: attribute.map(str::to_string),
            expected,
            actual,
            delta,
        }
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

/// Kind, schema and name.
fn identity(delta: &Delta) -> (Kind, String, String) {
    let key = |kind, k: &Key| (kind, k.schema.clone(), k.name.clone());
    let local = |kind, table: &Key, name: &str| (kind, table.schema.clone(), name.to_string());
    match delta {
        Delta::Schema(s) => {
            let s = s.object();
            (Kind::Schema, s.clone(), s.clone())
        }
        Delta::Extension(x) => (
            Kind::Extension,
            DEFAULT_SCHEMA.to_string(),
            x.object().name.clone(),
        ),
        Delta::Enum(x) => key(Kind::Enum, &x.object().key),
        Delta::EnumValues(x) => key(Kind::Enum, &x.from.key),
        Delta::Sequence(x) => key(Kind::Sequence, &x.object().key),
        Delta::SequenceChanged(x, _) => key(Kind::Sequence, &x.from.key),
        Delta::Function(x) => key(Kind::Function, &x.object().key),
        Delta::FunctionDefinition(x) => key(Kind::Function, &x.from.key),
        Delta::Table(x) => key(Kind::Table, &x.object().key),
        Delta::View(x) => key(Kind::View, &x.object().key),
        Delta::ViewChanged(x, _) => key(Kind::View, &x.from.key),
        Delta::Column { table, column } => local(Kind::Column, table, &column.object().name),
        Delta::ColumnChanged { table, column, .. } => local(Kind::Column, table, &column.from.name),
        Delta::PrimaryKey { table, key } => {
            local(Kind::PrimaryKey, table, &pk_name(key.object(), table))
        }
        Delta::PrimaryKeyColumns { table, key } => {
            local(Kind::PrimaryKey, table, &pk_name(&key.from, table))
        }
        Delta::Unique { table, unique } => local(Kind::Unique, table, &unique.object().name),
        Delta::Check { table, check } => local(Kind::Check, table, &check.object().name),
        Delta::CheckExpression { table, check } => local(Kind::Check, table, &check.from.name),
        Delta::CheckCount { table, .. } => local(Kind::Check, table, "*"),
        Delta::ForeignKey { table, key } => local(Kind::ForeignKey, table, &key.object().name),
        Delta::ForeignKeyChanged { table, key, .. } => {
            local(Kind::ForeignKey, table, &key.from.name)
        }
        Delta::Index { table, index } => local(Kind::Index, table, &index.object().name),
        Delta::IndexChanged { table, index, .. } => local(Kind::Index, table, &index.from.name),
        Delta::Trigger { table, trigger } => local(Kind::Trigger, table, &trigger.object().name),
        Delta::TriggerChanged { table, trigger, .. } => {
            local(Kind::Trigger, table, &trigger.from.name)
        }
    }
}

/// Change, attribute and the reported values.
fn values(delta: &Delta) -> (Change, Option<&'static str>, Values) {
    let changed = |attribute, v: Values| (Change::Changed, Some(attribute), v);
    let missing_or_extra = |(change, v): (Change, Values)| (change, None, v);
    match delta {
        Delta::Schema(s) => missing_or_extra(presence(s, String::clone)),
        Delta::Extension(x) => missing_or_extra(presence(x, |x| {
            format!("extension {} in schema {}", x.name, x.schema)
        })),
        Delta::Enum(x) => missing_or_extra(presence(x, |x| x.values.join(", "))),
        Delta::EnumValues(x) => changed("values", pair(x, |x| x.values.join(", "))),
        Delta::Sequence(x) => missing_or_extra(presence(x, describe_sequence)),
        Delta::SequenceChanged(x, change) => {
            let (attribute, show): (&str, fn(&Sequence) -> String) = match change {
                SequenceChange::DataType => ("type", |s| s.data_type.clone()),
                SequenceChange::Increment => ("increment", |s| s.increment.to_string()),
                SequenceChange::Min => ("min", |s| s.min.to_string()),
                SequenceChange::Max => ("max", |s| s.max.to_string()),
                SequenceChange::Start => ("start", |s| s.start.to_string()),
                SequenceChange::Cycle => ("cycle", |s| s.cycle.to_string()),
                SequenceChange::OwnedBy => ("owned_by", |s| match &s.owned_by {
                    Some((t, c)) => format!("{t}.{c}"),
                    None => "none".into(),
                }),
            };
            changed(attribute, pair(x, show))
        }
        Delta::Function(x) => missing_or_extra(presence(x, |f| f.definition.clone())),
        Delta::FunctionDefinition(x) => changed("definition", pair(x, |f| f.definition.clone())),
        Delta::Table(x) => missing_or_extra(presence(x, describe_table)),
        Delta::View(x) => missing_or_extra(presence(x, |v| v.definition.clone())),
        Delta::ViewChanged(x, ViewChange::Definition) => {
            changed("definition", pair(x, |v| v.definition.clone()))
        }
        Delta::ViewChanged(x, ViewChange::Materialized) => {
            changed("materialized", pair(x, |v| v.materialized.to_string()))
        }
        Delta::Column { column, .. } => missing_or_extra(presence(column, describe_column)),
        Delta::ColumnChanged { column, change, .. } => {
            let (attribute, show): (&str, fn(&Column) -> String) = match change {
                ColumnChange::DataType => ("type", |c| c.data_type.clone()),
                ColumnChange::Nullable => ("nullable", |c| {
                    if c.nullable { "NULL" } else { "NOT NULL" }.to_string()
                }),
                ColumnChange::Default => ("default", |c| {
                    c.default.clone().unwrap_or_else(|| "none".into())
                }),
                ColumnChange::Generator => ("generator", |c| {
                    c.generator
                        .as_ref()
                        .map(Generator::describe)
                        .unwrap_or_else(|| "none".into())
                }),
                ColumnChange::Generated => ("generated", |c| {
                    c.generated.clone().unwrap_or_else(|| "none".into())
                }),
                ColumnChange::Collation => ("collation", |c| {
                    c.collation.clone().unwrap_or_else(|| "default".into())
                }),
            };
            changed(attribute, pair(column, show))
        }
        Delta::PrimaryKey { key, .. } => missing_or_extra(presence(key, |p| p.columns.join(", "))),
        Delta::PrimaryKeyColumns { key, .. } => {
            changed("columns", pair(key, |p| p.columns.join(", ")))
        }
        Delta::Unique { unique, .. } => {
            missing_or_extra(presence(unique, |u| u.columns.join(", ")))
        }
        Delta::Check { check, .. } => missing_or_extra(presence(check, |c| c.expression.clone())),
        Delta::CheckExpression { check, .. } => {
            changed("expression", pair(check, |c| c.expression.clone()))
        }
        Delta::CheckCount { count, .. } => changed("count", pair(count, usize::to_string)),
        Delta::ForeignKey { key, .. } => missing_or_extra(presence(key, describe_fk)),
        Delta::ForeignKeyChanged { key, change, .. } => match change {
            ForeignKeyChange::OnDelete(e, a) => changed(
                "on_delete",
                (Some(e.sql().to_string()), Some(a.sql().to_string())),
            ),
            ForeignKeyChange::OnUpdate(e, a) => changed(
                "on_update",
                (Some(e.sql().to_string()), Some(a.sql().to_string())),
            ),
            ForeignKeyChange::Deferral => {
                changed("deferrable", pair(key, |f| deferral(f).to_string()))
            }
        },
        Delta::Index { index, .. } => missing_or_extra(presence(index, Index::signature)),
        Delta::IndexChanged { index, change, .. } => match change {
            IndexChange::Definition => changed("definition", pair(index, Index::signature)),
            IndexChange::Valid => changed("valid", pair(index, |i| i.valid.to_string())),
        },
        Delta::Trigger { trigger, .. } => {
            missing_or_extra(presence(trigger, |t| t.definition.clone()))
        }
        Delta::TriggerChanged {
            trigger, change, ..
        } => match change {
            TriggerChange::Definition => {
                changed("definition", pair(trigger, |t| t.definition.clone()))
            }
            TriggerChange::Enabled => changed("enabled", pair(trigger, |t| t.enabled.to_string())),
        },
    }
}

/// A primary key's name, `<table>_pkey` where the engine leaves it unnamed.
pub fn pk_name(p: &PrimaryKey, table: &Key) -> String {
    if p.name.is_empty() {
        format!("{}_pkey", table.name)
    } else {
        p.name.clone()
    }
}

pub(super) fn deferral(f: &ForeignKey) -> &'static str {
    match (f.deferrable, f.initially_deferred) {
        (false, _) => "NOT DEFERRABLE",
        (true, false) => "DEFERRABLE INITIALLY IMMEDIATE",
        (true, true) => "DEFERRABLE INITIALLY DEFERRED",
    }
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
