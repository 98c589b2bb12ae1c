WITH t AS (SELECT oid, relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p') AND relname = ANY($1::text[]))
SELECT t.relname::text, 'i'::text, i.indisunique, i.indisvalid AND i.indisready, i.indisprimary,
ARRAY(SELECT coalesce(a.attname::text, '') FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o) LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o),
NULL::text, i.indpred IS NULL AND i.indexprs IS NULL, i.indpred IS NOT NULL AND i.indexprs IS NULL
FROM pg_index i JOIN t ON t.oid = i.indrelid
UNION ALL
SELECT t.relname::text, con.contype::text, false, con.convalidated, false,
ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o),
p.relname::text, true, false
FROM pg_constraint con JOIN t ON t.oid = con.conrelid LEFT JOIN pg_class p ON p.oid = con.confrelid
WHERE con.contype IN ('f', 'c')
