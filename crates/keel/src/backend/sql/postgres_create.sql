CREATE TABLE IF NOT EXISTS {table} (
    version bigint PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    checksum_algorithm text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    duration_ms bigint NOT NULL,
    success boolean NOT NULL,
    error text,
    failed_statement_index bigint,
    failed_statement text,
    statements_total bigint NOT NULL,
    statements_applied bigint NOT NULL,
    applied_by text NOT NULL,
    keel_version text NOT NULL,
    method text NOT NULL,
    applied_sql text NOT NULL
)
