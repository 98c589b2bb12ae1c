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

use super::{Omitted, Plan, Steps, fk_pair};
use crate::dialect::Dialect;
use crate::schema::diff::{Change, Difference, Kind};
use crate::schema::model::*;
use crate::schema::types::{self, Logical};

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
        let key = Key::new(d.schema.clone(), d.name.clone());
        let tkey = Key::new(
            d.schema.clone(),
            d.table.clone().unwrap_or_else(|| d.name.clone()),
        );
        let e_t = self.e.tables.get(&tkey);
        let a_t = self.a.tables.get(&tkey);
        let name = d.name.as_str();
        let drop_old = d.change != Change::Missing;
        let add_new = d.change != Change::Extra;
        match d.kind {
            Kind::Table => match (d.change, e_t) {
                (Change::Missing, Some(t)) => self.create_table(t, id),
                (Change::Extra, _) => self.out.destructive(
                    DROP_LAST + 1,
                    id,
                    format!("DROP TABLE IF EXISTS {}", qk(&key)),
                    "every row of the table",
                ),
                _ => {}
            },
            Kind::View => self.out.cannot(
                id,
                format!(
                    "MySQL stores views with their database's name in them; write view {key} by hand"
                ),
            ),
            Kind::Column => self.column(d, &tkey, e_t, a_t),
            Kind::PrimaryKey => {
                if drop_old && a_t.is_some_and(|t| t.primary_key.is_some()) {
                    self.out.add(
                        DROP_CONSTRAINT,
                        id,
                        format!("ALTER TABLE {} DROP PRIMARY KEY", qk(&tkey)),
                        vec![],
                    );
                }
                if let (true, Some(pk)) = (add_new, e_t.and_then(|t| t.primary_key.as_ref())) {
                    self.out.add(
                        ADD_PK,
                        id,
                        format!(
                            "ALTER TABLE {} ADD PRIMARY KEY ({})",
                            qk(&tkey),
                            idents(&pk.columns)
                        ),
                        vec![format!(
                            "rebuilds {tkey}; fails on duplicates or NULLs"
                        )],
                    );
                }
            }
            Kind::Unique => {
                if drop_old {
                    self.out.add(
                        DROP_CONSTRAINT,
                        id,
                        format!("ALTER TABLE {} DROP INDEX {}", qk(&tkey), q(name)),
                        vec![],
                    );
                }
                if add_new {
                    let cols: Vec<String> = d
                        .expected
                        .clone()
                        .unwrap_or_default()
                        .split(", ")
                        .map(str::to_string)
                        .collect();
                    let cname = if name.is_empty() {
                        format!("{}_{}_key", tkey.name, cols.join("_"))
                    } else {
                        name.to_string()
                    };
                    self.out.add(
                        ADD_CONSTRAINT,
                        id,
                        format!(
                            "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({})",
                            qk(&tkey),
                            q(&cname),
                            idents(&cols)
                        ),
                        vec![format!("builds a unique index on {tkey}; fails on duplicates")],
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
                    self.out.add(
                        DROP_CONSTRAINT,
                        id,
                        format!("ALTER TABLE {} DROP CONSTRAINT {}", qk(&tkey), q(name)),
                        vec![],
                    );
                }
                if let (true, Some(c)) = (add_new, e_t.and_then(|t| t.checks.get(name))) {
                    self.out.add(
                        ADD_CONSTRAINT,
                        id,
                        format!(
                            "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({})",
                            qk(&tkey),
                            q(name),
                            c.expression
                        ),
                        vec![format!("checks every row of {tkey}; fails if one violates it")],
                    );
                }
            }
            Kind::ForeignKey => {
                let (ef, af) = fk_pair(e_t, a_t, name);
                if let (true, Some(f)) = (drop_old, af) {
                    self.out.add(
                        DROP_FK,
                        id,
                        format!("ALTER TABLE {} DROP FOREIGN KEY {}", qk(&tkey), q(&f.name)),
                        vec![],
                    );
                    if let (false, Some(t)) = (add_new, a_t)
                        && made_its_own_index(f, t)
                    {
                        self.out.add(
                            DROP_FK + 1,
                            id,
                            format!("DROP INDEX {} ON {}", q(&f.name), qk(&tkey)),
                            vec![],
                        );
                    }
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
                        format!("DROP INDEX {} ON {}", q(name), qk(&tkey)),
                        vec![],
                    );
                }
                if let (true, Some(t)) = (add_new, e_t)
                    && let Some(i) = t.indexes.get(name)
                {
                    self.out.add(
                        ADD_INDEX,
                        id,
                        self.create_index(i, t),
                        vec![format!("builds an index on {tkey} (MySQL has no CREATE INDEX IF NOT EXISTS: fails if it exists)")],
                    );
                }
            }
            Kind::Trigger => {
                if drop_old {
                    self.out.add(
                        DROP_TRIGGER,
                        id,
                        format!("DROP TRIGGER IF EXISTS {}", q(name)),
                        vec![],
                    );
                }
                if let (true, Some(tr)) = (add_new, e_t.and_then(|t| t.triggers.get(name))) {
                    self.create_trigger(tr, &tkey, id);
                }
            }
            _ => self.out.cannot(
                id,
                format!("keel does not plan {} changes on MySQL", d.kind.words()),
            ),
        }
    }

    fn column(&mut self, d: &Difference, tkey: &Key, e_t: Option<&Table>, a_t: Option<&Table>) {
        let id = d.id.as_str();
        let e_col = e_t.and_then(|t| t.column(&d.name));
        let a_col = a_t.and_then(|t| t.column(&d.name));
        match (d.change, e_col) {
            (Change::Missing, Some(c)) => {
                let mut hazards = vec![
                    "MySQL has no ADD COLUMN IF NOT EXISTS (MariaDB does): fails if the column exists"
                        .to_string(),
                ];
                if !c.nullable && c.default.is_none() && c.generator.is_none() {
                    hazards.push(format!(
                        "existing rows of {tkey} get the type's implicit default (0, '') or, in strict mode, the statement fails"
                    ));
                }
                let sql = format!(
                    "ALTER TABLE {} ADD COLUMN {} {}",
                    qk(tkey),
                    q(&c.name),
                    self.column_definition(c)
                );
                self.out.add(COLUMN, id, sql, hazards);
            }
            (Change::Extra, _) if a_col.is_some() => self.out.destructive(
                DROP_COLUMN,
                id,
                format!("ALTER TABLE {} DROP COLUMN {}", qk(tkey), q(&d.name)),
                &format!("every value of {tkey}.{}", d.name),
            ),
            (Change::Changed, Some(c)) => {
                let mut hazards = vec![format!("may rebuild {tkey} (a table copy) while it runs")];
                if d.attribute.as_deref() == Some("type") {
                    hazards.push(format!(
                        "every existing value of {tkey}.{} must convert to {} (strict mode fails, otherwise values are truncated)",
                        c.name, c.data_type
                    ));
                }
                if d.attribute.as_deref() == Some("nullable") && !c.nullable {
                    hazards.push(format!("fails if a row holds NULL in {}", c.name));
                }
                let sql = format!(
                    "ALTER TABLE {} MODIFY COLUMN {} {}",
                    qk(tkey),
                    q(&c.name),
                    self.column_definition(c)
                );
                self.out.add(COLUMN + 1, id, sql, hazards);
            }
            _ => {}
        }
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
            self.out.add(ADD_FK, id, add_fk(f, t), vec![]);
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
            vec!["a trigger body with `;` needs a DELIMITER change in the mysql client".into()],
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
        let lower = c.data_type.trim().to_ascii_lowercase();
        let params = lower.find('(').map(|i| &lower[i..]).unwrap_or("");
        match types::logical(self.e.dialect, &lower) {
            Logical::Bool => "tinyint(1)".into(),
            Logical::Integer(2) => "smallint".into(),
            Logical::Integer(4) if self.e.dialect != Dialect::Sqlite => "int".into(),
            Logical::Integer(_) => "bigint".into(),
            Logical::Decimal => format!("decimal{params}"),
            Logical::Float => "double".into(),
            Logical::Text if !params.is_empty() => format!("varchar{params}"),
            Logical::Text => "text".into(),
            Logical::Uuid => "char(36)".into(),
            Logical::Timestamp => "datetime".into(),
            Logical::Date => "date".into(),
            Logical::Time => "time".into(),
            Logical::Json => "json".into(),
            Logical::Bytes => "blob".into(),
            Logical::Other(o) => o,
        }
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

    fn create_index(&self, i: &Index, t: &Table) -> String {
        format!(
            "CREATE {}INDEX {} ON {} ({})",
            if i.unique { "UNIQUE " } else { "" },
            q(&i.name),
            qk(&t.key),
            self.index_columns(i)
        )
    }
}

fn idents(cols: &[String]) -> String {
    cols.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ")
}

fn add_fk(f: &ForeignKey, t: &Table) -> String {
    let name = if f.name.is_empty() {
        format!("{}_{}_fkey", t.key.name, f.columns.join("_"))
    } else {
        f.name.clone()
    };
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON UPDATE {} ON DELETE {}",
        qk(&t.key),
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

fn fk_hazards(f: &ForeignKey, t: &Table) -> Vec<String> {
    vec![format!(
        "checks every row of {} against {} (with foreign_key_checks on); fails on an orphan",
        t.key, f.references
    )]
}
