//! The part of a schema a plan can touch, so verifying a plan rebuilds a
//! handful of tables, not all 3,000: the tables and views named by the
//! differences, the tables their foreign keys reference (and those that
//! reference them), the views that read any of these, and the sequences
//! their columns draw from. Everything outside had no difference and is
//! left alone by the plan, so comparing only the subset proves as much.

use super::diff::{Delta, Difference};
use super::model::{Generator, Key, Schema};
use std::collections::BTreeSet;

/// The tables and views a plan for `diffs` may read or change.
pub(crate) struct Subset {
    tables: BTreeSet<Key>,
    /// Tables needed only as targets: columns and keys, nothing else.
    stubs: BTreeSet<Key>,
    views: BTreeSet<Key>,
}

impl Subset {
    pub fn of(diffs: &[Difference], sides: [&Schema; 2]) -> Subset {
        let mut tables = BTreeSet::new();
        let mut views = BTreeSet::new();
        for d in diffs {
            match &d.delta {
                Delta::View(v) => {
                    views.insert(v.object().key.clone());
                }
                Delta::ViewChanged(v, _) => {
                    views.insert(v.from.key.clone());
                }
                Delta::Table(t) => {
                    tables.insert(t.object().key.clone());
                }
                Delta::Sequence(s) => {
                    tables.extend(s.object().owned_by.iter().map(|(t, _)| t.clone()))
                }
                Delta::SequenceChanged(s, _) => {
                    for q in [&s.from, &s.to] {
                        tables.extend(q.owned_by.iter().map(|(t, _)| t.clone()));
                    }
                }
                // outside tables and views: kept whole by `restrict`
                Delta::Schema(_)
                | Delta::Extension(_)
                | Delta::Enum(_)
                | Delta::EnumValues(_)
                | Delta::Function(_)
                | Delta::FunctionDefinition(_) => {}
                Delta::Column { .. }
                | Delta::ColumnChanged { .. }
                | Delta::PrimaryKey { .. }
                | Delta::PrimaryKeyColumns { .. }
                | Delta::Unique { .. }
                | Delta::Check { .. }
                | Delta::CheckExpression { .. }
                | Delta::CheckCount { .. }
                | Delta::ForeignKey { .. }
                | Delta::ForeignKeyChanged { .. }
                | Delta::Index { .. }
                | Delta::IndexChanged { .. }
                | Delta::Trigger { .. }
                | Delta::TriggerChanged { .. } => {
                    tables.extend(d.delta.table().cloned());
                }
            }
        }
        // tables referencing the changed ones (their foreign keys may be
        // dropped and re-added around a type change)
        let changed = tables.clone();
        for s in sides {
            for t in s.tables.values() {
                if t.foreign_keys
                    .values()
                    .any(|f| changed.contains(&f.references))
                {
                    tables.insert(t.key.clone());
                }
            }
        }
        // views reading any of them, and the views those read
        loop {
            let before = views.len();
            for s in sides {
                for v in s.views.values() {
                    let reads_subset = v
                        .depends_on
                        .iter()
                        .any(|k| tables.contains(k) || views.contains(k));
                    if reads_subset || views.contains(&v.key) {
                        views.insert(v.key.clone());
                        views.extend(
                            v.depends_on
                                .iter()
                                .filter(|k| s.views.contains_key(*k))
                                .cloned(),
                        );
                    }
                }
            }
            if views.len() == before {
                break;
            }
        }
        // what the subset's foreign keys and views need to exist: kept as
        // stubs (columns and keys only), so a chain of foreign keys does
        // not pull in the whole database
        let mut stubs = BTreeSet::new();
        for s in sides {
            for t in s.tables.values().filter(|t| tables.contains(&t.key)) {
                stubs.extend(t.foreign_keys.values().map(|f| f.references.clone()));
            }
            for v in s.views.values().filter(|v| views.contains(&v.key)) {
                stubs.extend(
                    v.depends_on
                        .iter()
                        .filter(|k| s.tables.contains_key(*k))
                        .cloned(),
                );
            }
        }
        stubs.retain(|k| !tables.contains(k));
        Subset {
            tables,
            stubs,
            views,
        }
    }

    /// `schema` cut down to the subset. Functions, enums, schemas and
    /// extensions are kept whole (they are few and columns may use them).
    pub fn restrict(&self, schema: &Schema) -> Schema {
        let mut out = schema.clone();
        out.tables
            .retain(|k, _| self.tables.contains(k) || self.stubs.contains(k));
        for t in out
            .tables
            .values_mut()
            .filter(|t| self.stubs.contains(&t.key))
        {
            t.foreign_keys.clear();
            t.triggers.clear();
            t.indexes.retain(|_, i| i.unique);
        }
        out.views.retain(|k, _| self.views.contains(k));
        let used: BTreeSet<Key> = out
            .tables
            .values()
            .flat_map(|t| &t.columns)
            .filter_map(|c| match &c.generator {
                Some(Generator::Sequence { sequence }) => Some(sequence.clone()),
                _ => None,
            })
            .collect();
        let out_tables: BTreeSet<Key> = out.tables.keys().cloned().collect();
        out.sequences.retain(|k, s| match &s.owned_by {
            Some((t, _)) => out_tables.contains(t) || used.contains(k),
            None => true,
        });
        out
    }
}
