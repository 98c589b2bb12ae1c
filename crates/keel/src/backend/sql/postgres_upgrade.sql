ALTER TABLE {table} ADD COLUMN reverted_at timestamptz;
ALTER TABLE {table} ADD COLUMN reverted_by text;
ALTER TABLE {table} ADD COLUMN revert_duration_ms bigint;
ALTER TABLE {table} ADD COLUMN revert_error text;
ALTER TABLE {table} ADD COLUMN revert_statements_applied bigint;
ALTER TABLE {table} ADD COLUMN revert_statements_total bigint
