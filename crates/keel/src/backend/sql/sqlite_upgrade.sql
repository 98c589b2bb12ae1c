ALTER TABLE {table} ADD COLUMN reverted_at TEXT;
ALTER TABLE {table} ADD COLUMN reverted_by TEXT;
ALTER TABLE {table} ADD COLUMN revert_duration_ms INTEGER;
ALTER TABLE {table} ADD COLUMN revert_error TEXT;
ALTER TABLE {table} ADD COLUMN revert_statements_applied INTEGER;
ALTER TABLE {table} ADD COLUMN revert_statements_total INTEGER
