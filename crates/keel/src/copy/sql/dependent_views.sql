WITH RECURSIVE dep(root, obj) AS (
SELECT t.relname::text, v.oid
FROM pg_class t JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = t.oid AND d.classid = 'pg_rewrite'::regclass
JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
WHERE t.relnamespace = current_schema()::regnamespace AND t.relkind IN ('r', 'p') AND t.relname = ANY($1::text[]) AND v.oid <> t.oid
UNION
SELECT dep.root, v.oid
FROM dep JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = dep.obj AND d.classid = 'pg_rewrite'::regclass
JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
WHERE v.oid <> dep.obj)
SELECT DISTINCT root, obj::regclass::text FROM dep ORDER BY 1, 2
