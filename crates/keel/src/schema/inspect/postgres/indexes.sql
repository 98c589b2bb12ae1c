-- Indexes that back no constraint: key columns or expressions with their
-- sort options, INCLUDE columns, partial predicate, method and validity.
-- A plain column is its quoted name (what pg_get_indexdef(oid, k, true)
-- prints for it); pg_get_indexdef, which decodes the whole index each
-- call, only runs for expressions. Primary-key and exclusion indexes always
-- back a constraint; pg_constraint is only searched for other unique ones.
SELECT i.indrelid::int8, ic.relname::text, i.indisunique, am.amname::text, i.indisvalid,
       i.indnkeyatts::int4,
       ARRAY(SELECT CASE WHEN k.n = 0 THEN pg_get_indexdef(i.indexrelid, k.i::int4, true)
                         ELSE (SELECT quote_ident(a.attname) FROM pg_attribute a
                               WHERE a.attrelid = i.indrelid AND a.attnum = k.n) END
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, i) ORDER BY k.i),
       i.indoption::int2[], pg_get_expr(i.indpred, i.indrelid, true)
FROM pg_index i JOIN rel r ON r.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
WHERE NOT i.indisprimary AND NOT i.indisexclusion
  AND (NOT i.indisunique OR NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid
                                        AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x')))
