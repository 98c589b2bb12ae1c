-- Every column of every user table: type, nullability, default (with the
-- sequence a nextval default draws from), identity, generated, collation.
-- The sequence is looked up per nextval default through pg_depend's depender
-- index (LATERAL … LIMIT 1 keeps it a parameterized index scan): as a join
-- the planner, misled by the stale catalog statistics of a freshly built
-- database (pg_depend estimated at one row), picked a nested loop over the
-- whole default × sequence product, 8 s at 3,000 tables.
-- A default is deparsed without its table (relid 0: no relation opened and
-- locked per table; defaults cannot name columns), a generated column's
-- expression with it.
SELECT a.attrelid::int8, a.attnum::int4, a.attname::text, format_type(a.atttypid, a.atttypmod),
       a.attnotnull, e.def, a.attidentity::text, a.attgenerated::text,
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname::text END,
       sd.seq_schema, sd.seq_name
FROM pg_attribute a JOIN rel r ON r.oid = a.attrelid
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN LATERAL (
  SELECT pg_get_expr(d.adbin, CASE WHEN a.attgenerated = '' THEN 0 ELSE d.adrelid END) AS def
  OFFSET 0) e ON true
LEFT JOIN LATERAL (
  SELECT sn.nspname::text AS seq_schema, s.relname::text AS seq_name
  FROM pg_depend dd JOIN pg_class s ON s.oid = dd.refobjid AND s.relkind = 'S'
  JOIN pg_namespace sn ON sn.oid = s.relnamespace
  WHERE e.def LIKE 'nextval(%'
    AND dd.classid = 'pg_attrdef'::regclass AND dd.objid = d.oid AND dd.objsubid = 0
    AND dd.refclassid = 'pg_class'::regclass
  LIMIT 1) sd ON true
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE a.attnum > 0 AND NOT a.attisdropped
