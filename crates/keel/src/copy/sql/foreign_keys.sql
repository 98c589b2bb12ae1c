WITH s AS (SELECT oid FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p') AND relname = ANY($1::text[]))
SELECT con.conname::text, quote_ident(cn.nspname) || '.' || quote_ident(c.relname), (cn.nspname || '.' || c.relname)::text,
CASE WHEN c.oid IN (SELECT oid FROM s) THEN c.relname::text END,
CASE WHEN p.oid IN (SELECT oid FROM s) THEN p.relname::text END,
pg_get_constraintdef(con.oid), (pn.nspname || '.' || p.relname)::text
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
JOIN pg_class p ON p.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
WHERE con.contype = 'f' AND con.conparentid = 0 AND (c.oid IN (SELECT oid FROM s) OR p.oid IN (SELECT oid FROM s))
ORDER BY 3, 1
