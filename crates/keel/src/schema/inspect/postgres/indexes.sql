-- Indexes that back no constraint: key columns or expressions with their
-- sort options, INCLUDE columns, partial predicate, method and validity.
SELECT i.indrelid::int8, ic.relname::text, i.indisunique, am.amname::text, i.indisvalid,
       i.indnkeyatts::int4,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnatts) k ORDER BY k),
       i.indoption::int2[], pg_get_expr(i.indpred, i.indrelid, true)
FROM pg_index i JOIN rel r ON r.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
WHERE NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid
                  AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
