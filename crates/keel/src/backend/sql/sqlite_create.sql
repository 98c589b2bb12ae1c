CREATE TABLE IF NOT EXISTS {table} (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    checksum_algorithm TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    success INTEGER NOT NULL,
    error TEXT,
    failed_statement_index INTEGER,
    failed_statement TEXT,
    statements_total INTEGER NOT NULL,
    statements_applied INTEGER NOT NULL,
    applied_by TEXT NOT NULL,
    keel_version TEXT NOT NULL,
    method TEXT NOT NULL,
    applied_sql TEXT NOT NULL
)
