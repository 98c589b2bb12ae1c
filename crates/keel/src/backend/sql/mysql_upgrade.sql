ALTER TABLE {table} ADD COLUMN reverted_at DATETIME(3);
ALTER TABLE {table} ADD COLUMN reverted_by VARCHAR(255);
ALTER TABLE {table} ADD COLUMN revert_duration_ms BIGINT;
ALTER TABLE {table} ADD COLUMN revert_error TEXT;
ALTER TABLE {table} ADD COLUMN revert_statements_applied BIGINT;
ALTER TABLE {table} ADD COLUMN revert_statements_total BIGINT
