-- Which relations each view reads, for ordering CREATE VIEW statements.
SELECT DISTINCT rw.ev_class::int8, rn.nspname::text, rc.relname::text
FROM pg_depend d JOIN pg_rewrite rw ON rw.oid = d.objid
JOIN pg_class rc ON rc.oid = d.refobjid
JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
  AND d.refobjid <> rw.ev_class AND rn.nspname NOT IN ('pg_catalog', 'information_schema')
