-- Every column of every user table: type, nullability, default (with the
-- sequence a nextval default draws from), identity, generated, collation.
, seqdef AS (
  SELECT dd.objid AS adoid, sn.nspname::text AS seq_schema, s.relname::text AS seq_name
  FROM pg_depend dd JOIN pg_class s ON s.oid = dd.refobjid AND s.relkind = 'S'
  JOIN pg_namespace sn ON sn.oid = s.relnamespace
  WHERE dd.classid = 'pg_attrdef'::regclass AND dd.refclassid = 'pg_class'::regclass
)
SELECT a.attrelid::int8, a.attnum::int4, a.attname::text, format_type(a.atttypid, a.atttypmod),
       a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname::text END,
       sd.seq_schema, sd.seq_name
FROM pg_attribute a JOIN rel r ON r.oid = a.attrelid
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN seqdef sd ON sd.adoid = d.oid
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE a.attnum > 0 AND NOT a.attisdropped
