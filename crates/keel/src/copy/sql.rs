//! The catalog queries of `keel copy` (PostgreSQL), one file each.

pub(crate) const BUILT_OBJECTS: &str = include_str!("sql/built_objects.sql");
pub(crate) const DEPENDENT_VIEWS: &str = include_str!("sql/dependent_views.sql");
pub(crate) const EXISTING_TABLES: &str = include_str!("sql/existing_tables.sql");
pub(crate) const FOREIGN_KEYS: &str = include_str!("sql/foreign_keys.sql");
pub(crate) const OWNED_SEQUENCES: &str = include_str!("sql/owned_sequences.sql");
pub(crate) const TABLE_COLUMNS: &str = include_str!("sql/table_columns.sql");
pub(crate) const TABLE_PAGES: &str = include_str!("sql/table_pages.sql");

/// Every query, named: for the test that each prepares.
pub(crate) fn queries() -> Vec<(&'static str, String)> {
    vec![
        ("copy: built objects", BUILT_OBJECTS.to_string()),
        ("copy: dependent views", DEPENDENT_VIEWS.to_string()),
        ("copy: existing tables", EXISTING_TABLES.to_string()),
        ("copy: foreign keys", FOREIGN_KEYS.to_string()),
        ("copy: owned sequences", OWNED_SEQUENCES.to_string()),
        ("copy: table columns", TABLE_COLUMNS.to_string()),
        ("copy: table pages", TABLE_PAGES.to_string()),
    ]
}
