-- Sequences, with the column that owns them; identity sequences are left
-- out (they belong to their identity column). The owner is looked up per
-- sequence through pg_depend's depender index (LATERAL … LIMIT 1), a plan
-- that does not depend on the catalog statistics.
SELECT n.nspname::text, c.relname::text, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
       s.seqmin, s.seqmax, s.seqcycle, o.nspname, o.relname, o.attname
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (
  SELECT d.deptype, tn.nspname::text, tc.relname::text, ta.attname::text
  FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid
  JOIN pg_namespace tn ON tn.oid = tc.relnamespace
  JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
  WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.objsubid = 0
    AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
  LIMIT 1) o ON true
WHERE (o.deptype IS NULL OR o.deptype = 'a')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT FROM pg_depend e WHERE e.classid = 'pg_class'::regclass
                  AND e.objid = c.oid AND e.deptype = 'e')
