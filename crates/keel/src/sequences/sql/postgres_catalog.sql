WITH tbl AS (
  SELECT c.oid, n.nspname, c.relname, c.relowner, c.relacl, c.relnamespace,
         ARRAY(SELECT DISTINCT r.rolname::text FROM aclexplode(c.relacl) x JOIN pg_roles r ON r.oid = x.grantee
               WHERE x.privilege_type = 'INSERT' AND x.grantee <> c.relowner ORDER BY 1) AS inserters
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> $3
    AND (CASE WHEN cardinality($1::text[]) = 0
              THEN n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
              ELSE n.nspname = ANY($1::text[]) END)
), fed AS (
  SELECT d.objid AS seq, d.refobjid AS rel, d.refobjsubid AS att
  FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
  WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
    AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
  UNION
  SELECT d.refobjid, ad.adrelid, ad.adnum
  FROM pg_depend d JOIN pg_attrdef ad ON ad.oid = d.objid
  JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
  WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'n'
), cols AS (
  SELECT f.seq, f.rel, f.att AS attnum FROM fed f
  UNION ALL
  SELECT NULL, t.oid, a.attnum
  FROM tbl t JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype = 'p' AND cardinality(con.conkey) = 1
  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = con.conkey[1]
  WHERE a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
    AND a.attidentity = '' AND a.attgenerated = '' AND NOT a.atthasdef
    -- a key that is also a foreign key takes its values from its parent (a 1:1 table)
    AND NOT EXISTS (SELECT FROM pg_constraint fk
                    WHERE fk.conrelid = t.oid AND fk.contype = 'f' AND a.attnum = ANY (fk.conkey))
)
SELECT t.nspname::text, t.relname::text, a.attname::text, format_type(a.atttypid, NULL),
       pg_get_userbyid(t.relowner)::text, t.inserters,
       c.seq::int8, sn.nspname::text, s.relname::text, pg_get_userbyid(s.relowner)::text,
       coalesce(o.deptype::text || CASE WHEN o.refobjid = c.rel AND o.refobjsubid = c.attnum THEN '' ELSE '+' END, ''),
       ps.seqstart, ps.seqincrement, ps.seqmin, ps.seqmax,
       CASE WHEN c.seq IS NULL THEN true ELSE has_sequence_privilege(c.seq, 'SELECT') END,
       CASE WHEN c.seq IS NULL THEN true ELSE has_sequence_privilege(c.seq, 'UPDATE') END,
       CASE WHEN c.seq IS NULL THEN ARRAY[]::text[] ELSE
         ARRAY(SELECT DISTINCT r FROM unnest(t.inserters || $2::text[]) r
               WHERE NOT has_sequence_privilege(r, c.seq, 'USAGE') ORDER BY r) END,
       CASE WHEN c.seq IS NULL THEN
         (SELECT cand FROM generate_series(0, 99) g,
            LATERAL (SELECT left(t.relname || '_' || a.attname, 55) || '_seq' || CASE WHEN g = 0 THEN '' ELSE g::text END AS cand) x
          WHERE NOT EXISTS (SELECT FROM pg_class c2 WHERE c2.relnamespace = t.relnamespace AND c2.relname = x.cand)
          ORDER BY g LIMIT 1)
       END
FROM cols c JOIN tbl t ON t.oid = c.rel
JOIN pg_attribute a ON a.attrelid = c.rel AND a.attnum = c.attnum AND NOT a.attisdropped
LEFT JOIN pg_class s ON s.oid = c.seq
LEFT JOIN pg_namespace sn ON sn.oid = s.relnamespace
LEFT JOIN pg_sequence ps ON ps.seqrelid = c.seq
LEFT JOIN LATERAL (
  SELECT d.refobjid, d.refobjsubid, d.deptype FROM pg_depend d
  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.seq AND d.objsubid = 0
    AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
  LIMIT 1) o ON true
ORDER BY 1, 2, 3
