SELECT version, name, checksum, checksum_algorithm,
       DATE_FORMAT(applied_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS applied_at,
       duration_ms, success, error, failed_statement_index, failed_statement, statements_total,
       statements_applied, applied_by, keel_version, method
FROM {table}
ORDER BY version
