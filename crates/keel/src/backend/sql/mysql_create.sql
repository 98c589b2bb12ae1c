CREATE TABLE IF NOT EXISTS {table} (
    version BIGINT NOT NULL PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    checksum VARCHAR(128) NOT NULL,
    checksum_algorithm VARCHAR(64) NOT NULL,
    applied_at DATETIME(3) NOT NULL,
    duration_ms BIGINT NOT NULL,
    success BOOLEAN NOT NULL,
    error TEXT,
    failed_statement_index BIGINT,
    failed_statement LONGTEXT,
    statements_total BIGINT NOT NULL,
    statements_applied BIGINT NOT NULL,
    applied_by VARCHAR(255) NOT NULL,
    keel_version VARCHAR(64) NOT NULL,
    method VARCHAR(16) NOT NULL,
    applied_sql LONGTEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
