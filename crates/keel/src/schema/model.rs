//! The neutral schema model every introspector fills and the differ and
//! renderers read: tables with their columns, keys, checks, foreign keys,
//! indexes and triggers, plus views, sequences, enum types, functions,
//! schemas and extensions.
//!
//! Collections are ordered maps keyed by name, so JSON output and reports
//! are deterministic. Every engine calls the connection's default schema
//! `public` (PostgreSQL's `public`, SQLite's `main`, MySQL's current
//! database), so schemas of different engines line up.

use crate::dialect::Dialect;
use serde::Serialize;
use std::collections::BTreeMap;

/// The name the default schema has on every engine.
pub const DEFAULT_SCHEMA: &str = "public";

/// A whole database schema, as one engine reports it.
#[derive(Clone, Debug, Serialize)]
pub struct Schema {
    /// The engine it was read from; types and expressions are in its dialect.
    pub dialect: Dialect,
    /// Non-default schemas (PostgreSQL).
    pub schemas: Vec<String>,
    /// Installed extensions (PostgreSQL), `plpgsql` left out.
    pub extensions: BTreeMap<String, Extension>,
    pub tables: BTreeMap<Key, Table>,
    pub views: BTreeMap<Key, View>,
    pub sequences: BTreeMap<Key, Sequence>,
    pub enums: BTreeMap<Key, EnumType>,
    /// Keyed by schema and `name(identity arguments)`.
    pub functions: BTreeMap<Key, Function>,
}

impl Schema {
    pub fn empty(dialect: Dialect) -> Schema {
        Schema {
            dialect,
            schemas: Vec::new(),
            extensions: BTreeMap::new(),
            tables: BTreeMap::new(),
            views: BTreeMap::new(),
            sequences: BTreeMap::new(),
            enums: BTreeMap::new(),
            functions: BTreeMap::new(),
        }
    }

    /// Number of objects, for summaries.
    pub fn object_count(&self) -> usize {
        self.tables.len()
            + self.views.len()
            + self.sequences.len()
            + self.enums.len()
            + self.functions.len()
    }
}

/// A schema-qualified object name. Serialised as `schema.name`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub schema: String,
    pub name: String,
}

impl Key {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Key {
        Key {
            schema: schema.into(),
            name: name.into(),
        }
    }

    /// `schema.name`, quoted for `dialect`.
    pub fn quoted(&self, dialect: Dialect) -> String {
        format!(
            "{}.{}",
            dialect.quote(&self.schema),
            dialect.quote(&self.name)
        )
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

impl Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Extension {
    pub name: String,
    pub schema: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Table {
    pub key: Key,
    /// In table order.
    pub columns: Vec<Column>,
    pub primary_key: Option<PrimaryKey>,
    pub uniques: BTreeMap<String, Unique>,
    pub checks: BTreeMap<String, Check>,
    pub foreign_keys: BTreeMap<String, ForeignKey>,
    /// Indexes that back no constraint.
    pub indexes: BTreeMap<String, Index>,
    pub triggers: BTreeMap<String, Trigger>,
    /// What only SQLite knows, read by `keel copy` (`None` elsewhere).
    #[serde(skip)]
    pub sqlite: Option<SqliteTable>,
}

/// SQLite facts about a table that the neutral model does not hold, from
/// the same inspection: what `keel copy` needs to copy it faithfully.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SqliteTable {
    /// `pragma_table_list`'s type: `table`, `virtual` or `shadow`.
    pub kind: String,
    pub without_rowid: bool,
    /// The column aliasing the rowid (read from the `CREATE TABLE` text
    /// by `schema::inspect::sqlite::ddl::rowid_facts`).
    pub rowid_alias: Option<String>,
    pub autoincrement: bool,
    /// In table order, hidden virtual-table columns included.
    pub columns: Vec<SqliteColumn>,
    /// Every index, with its origin, by name.
    pub indexes: Vec<SqliteIndex>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SqliteColumn {
    pub name: String,
    /// The declared type as written (`VARCHAR(80)`, empty when untyped).
    pub declared: String,
    /// `pragma_table_xinfo.hidden`: 1 a virtual table's hidden column, 2
    /// and 3 a generated column.
    pub hidden: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SqliteIndex {
    pub name: String,
    pub unique: bool,
    /// `c` CREATE INDEX, `u` UNIQUE constraint, `pk` primary key.
    pub origin: String,
    pub partial: bool,
    /// Key columns with `DESC`; `None` for an expression.
    pub columns: Vec<Option<(String, bool)>>,
    /// The `CREATE INDEX` statement (none for constraint indexes).
    pub sql: Option<String>,
}

impl Table {
    pub fn new(key: Key) -> Table {
        Table {
            key,
            columns: Vec::new(),
            primary_key: None,
            uniques: BTreeMap::new(),
            checks: BTreeMap::new(),
            foreign_keys: BTreeMap::new(),
            indexes: BTreeMap::new(),
            triggers: BTreeMap::new(),
            sqlite: None,
        }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: String,
    /// The type as the engine spells it: `format_type` on PostgreSQL, the
    /// declared type on SQLite (lower-cased), `COLUMN_TYPE` on MySQL.
    pub data_type: String,
    pub nullable: bool,
    /// The default expression, as the engine stores it; `None` when the
    /// column has none or its default is its [`Generator`].
    pub default: Option<String>,
    /// How the column gets a value when an INSERT omits it.
    pub generator: Option<Generator>,
    /// The expression of a generated (computed) column.
    pub generated: Option<String>,
    /// A collation other than the type's default.
    pub collation: Option<String>,
}

/// Where an id column's values come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Generator {
    /// `GENERATED ALWAYS|BY DEFAULT AS IDENTITY` (PostgreSQL).
    Identity { always: bool },
    /// A `nextval('sequence')` default (PostgreSQL `serial`).
    Sequence { sequence: Key },
    /// `AUTO_INCREMENT` (MySQL) or `AUTOINCREMENT` (SQLite).
    AutoIncrement,
    /// SQLite's `INTEGER PRIMARY KEY`, an alias of the rowid.
    Rowid,
}

impl Generator {
    pub fn describe(&self) -> String {
        match self {
            Generator::Identity { always: true } => "GENERATED ALWAYS AS IDENTITY".into(),
            Generator::Identity { always: false } => "GENERATED BY DEFAULT AS IDENTITY".into(),
            Generator::Sequence { sequence } => format!("nextval('{sequence}')"),
            Generator::AutoIncrement => "AUTO_INCREMENT".into(),
            Generator::Rowid => "INTEGER PRIMARY KEY (rowid)".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PrimaryKey {
    /// Empty where the engine does not name it (SQLite, MySQL's `PRIMARY`).
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unique {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: String,
    /// The boolean expression, without `CHECK (` … `)`.
    pub expression: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub references: Key,
    pub referenced_columns: Vec<String>,
    pub on_update: Action,
    pub on_delete: Action,
    pub deferrable: bool,
    pub initially_deferred: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl Action {
    pub fn sql(self) -> &'static str {
        match self {
            Action::NoAction => "NO ACTION",
            Action::Restrict => "RESTRICT",
            Action::Cascade => "CASCADE",
            Action::SetNull => "SET NULL",
            Action::SetDefault => "SET DEFAULT",
        }
    }

    /// From PostgreSQL's one-letter codes.
    pub fn from_pg(code: &str) -> Action {
        match code {
            "r" => Action::Restrict,
            "c" => Action::Cascade,
            "n" => Action::SetNull,
            "d" => Action::SetDefault,
            _ => Action::NoAction,
        }
    }

    /// From the words SQLite and MySQL report.
    pub fn from_words(words: &str) -> Action {
        match words.to_ascii_uppercase().as_str() {
            "RESTRICT" => Action::Restrict,
            "CASCADE" => Action::Cascade,
            "SET NULL" => Action::SetNull,
            "SET DEFAULT" => Action::SetDefault,
            _ => Action::NoAction,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Index {
    pub name: String,
    pub unique: bool,
    /// Access method (`btree`, `gin`, …); `btree` where the engine has one.
    pub method: String,
    /// Key columns or expressions, each with ` DESC`/` NULLS …` as needed.
    pub columns: Vec<String>,
    /// `INCLUDE` columns.
    pub include: Vec<String>,
    /// The `WHERE` predicate of a partial index.
    pub predicate: Option<String>,
    /// `false` for an index a failed `CREATE INDEX CONCURRENTLY` left.
    pub valid: bool,
}

impl Index {
    /// What the index does, without its name: two indexes with the same
    /// signature are interchangeable.
    pub fn signature(&self) -> String {
        let mut s = format!(
            "{}{} ({})",
            if self.unique { "UNIQUE " } else { "" },
            self.method,
            self.columns.join(", ")
        );
        if !self.include.is_empty() {
            s.push_str(&format!(" INCLUDE ({})", self.include.join(", ")));
        }
        if let Some(p) = &self.predicate {
            s.push_str(&format!(" WHERE {p}"));
        }
        s
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Trigger {
    pub name: String,
    /// The full `CREATE TRIGGER` statement as the engine prints it.
    pub definition: String,
    /// The function it runs (PostgreSQL).
    pub function: Option<Key>,
    /// `false` when disabled (PostgreSQL `tgenabled = 'D'`).
    pub enabled: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct View {
    pub key: Key,
    pub materialized: bool,
    /// The query, as the engine normalised it.
    pub definition: String,
    /// Relations the query reads (for ordering).
    pub depends_on: Vec<Key>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sequence {
    pub key: Key,
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cycle: bool,
    /// `OWNED BY` table and column.
    pub owned_by: Option<(Key, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EnumType {
    pub key: Key,
    /// In sort order.
    pub values: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Function {
    pub key: Key,
    pub identity_arguments: String,
    /// `CREATE OR REPLACE FUNCTION …` as `pg_get_functiondef` prints it.
    pub definition: String,
}
