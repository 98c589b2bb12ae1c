-- User schemas and installed extensions (one query: kind, name, schema).
SELECT 'schema', n.nspname::text, NULL::text FROM pg_namespace n
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'public') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                  AND d.objid = n.oid AND d.deptype = 'e')
UNION ALL
SELECT 'extension', e.extname::text, n.nspname::text FROM pg_extension e
JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql'
