//! The typed change a [`Difference`](super::Difference) stands for: which
//! model object is missing, extra or changed, and which of its attributes
//! differs. Renderers match on these exhaustively; ids and report strings
//! are derived from them in [`report`](super::report).
//!
//! The objects are owned clones of the model's (only the differing ones
//! are cloned), so a difference outlives the schemas it came from.

use crate::schema::model::{
    Action, Check, Column, EnumType, Extension, ForeignKey, Function, Index, Key, PrimaryKey,
    Sequence, Table, Trigger, Unique, View,
};

/// An object one side has and the other lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Presence<T> {
    /// In the expected schema (FROM) only: a plan creates it.
    Missing(T),
    /// In the actual schema (TO) only: a plan drops it.
    Extra(T),
}

impl<T> Presence<T> {
    pub fn object(&self) -> &T {
        match self {
            Presence::Missing(x) | Presence::Extra(x) => x,
        }
    }
}

/// The expected (FROM) and actual (TO) version of one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair<T> {
    pub from: T,
    pub to: T,
}

impl<T> Pair<T> {
    pub fn new(from: T, to: T) -> Pair<T> {
        Pair { from, to }
    }
}

/// What differs, pointing at the model objects involved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delta {
    /// A non-default schema (PostgreSQL).
    Schema(Presence<String>),
    Extension(Presence<Extension>),
    Enum(Presence<EnumType>),
    EnumValues(Pair<EnumType>),
    Sequence(Presence<Sequence>),
    SequenceChanged(Pair<Sequence>, SequenceChange),
    Function(Presence<Function>),
    FunctionDefinition(Pair<Function>),
    Table(Presence<Table>),
    View(Presence<View>),
    ViewChanged(Pair<View>, ViewChange),
    Column {
        table: Key,
        column: Presence<Column>,
    },
    ColumnChanged {
        table: Key,
        column: Pair<Column>,
        change: ColumnChange,
    },
    PrimaryKey {
        table: Key,
        key: Presence<PrimaryKey>,
    },
    PrimaryKeyColumns {
        table: Key,
        key: Pair<PrimaryKey>,
    },
    /// Across engines a plain unique index counts as a unique constraint
    /// (its columns then bare and lower-cased).
    Unique {
        table: Key,
        unique: Presence<Unique>,
    },
    Check {
        table: Key,
        check: Presence<Check>,
    },
    CheckExpression {
        table: Key,
        check: Pair<Check>,
    },
    /// Across engines checks are only counted: their expressions are
    /// spelled too differently to compare.
    CheckCount {
        table: Key,
        count: Pair<usize>,
    },
    ForeignKey {
        table: Key,
        key: Presence<ForeignKey>,
    },
    ForeignKeyChanged {
        table: Key,
        key: Pair<ForeignKey>,
        change: ForeignKeyChange,
    },
    Index {
        table: Key,
        index: Presence<Index>,
    },
    IndexChanged {
        table: Key,
        index: Pair<Index>,
        change: IndexChange,
    },
    Trigger {
        table: Key,
        trigger: Presence<Trigger>,
    },
    TriggerChanged {
        table: Key,
        trigger: Pair<Trigger>,
        change: TriggerChange,
    },
}

impl Delta {
    /// The table an object belongs to, if it belongs to one.
    pub fn table(&self) -> Option<&Key> {
        match self {
            Delta::Schema(_)
            | Delta::Extension(_)
            | Delta::Enum(_)
            | Delta::EnumValues(_)
            | Delta::Sequence(_)
            | Delta::SequenceChanged(..)
            | Delta::Function(_)
            | Delta::FunctionDefinition(_)
            | Delta::Table(_)
            | Delta::View(_)
            | Delta::ViewChanged(..) => None,
            Delta::Column { table, .. }
            | Delta::ColumnChanged { table, .. }
            | Delta::PrimaryKey { table, .. }
            | Delta::PrimaryKeyColumns { table, .. }
            | Delta::Unique { table, .. }
            | Delta::Check { table, .. }
            | Delta::CheckExpression { table, .. }
            | Delta::CheckCount { table, .. }
            | Delta::ForeignKey { table, .. }
            | Delta::ForeignKeyChanged { table, .. }
            | Delta::Index { table, .. }
            | Delta::IndexChanged { table, .. }
            | Delta::Trigger { table, .. }
            | Delta::TriggerChanged { table, .. } => Some(table),
        }
    }
}

/// The attribute of a sequence that differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SequenceChange {
    DataType,
    Increment,
    Min,
    Max,
    Start,
    Cycle,
    OwnedBy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewChange {
    Definition,
    Materialized,
}

/// The attribute of a column that differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnChange {
    DataType,
    Nullable,
    Default,
    Generator,
    Generated,
    Collation,
}

/// The attribute of a foreign key that differs, with the values compared
/// (across engines RESTRICT counts as NO ACTION: InnoDB and SQLite make
/// them the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForeignKeyChange {
    OnDelete(Action, Action),
    OnUpdate(Action, Action),
    Deferral,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexChange {
    Definition,
    Valid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerChange {
    Definition,
    Enabled,
}
