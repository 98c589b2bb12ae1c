SELECT version, name, checksum, checksum_algorithm, applied_at, duration_ms, success, error,
       failed_statement_index, failed_statement, statements_total, statements_applied, applied_by,
       keel_version, method,
       reverted_at, reverted_by, revert_duration_ms, revert_error,
       revert_statements_applied, revert_statements_total
FROM {table}
ORDER BY version
