-- Primary keys, unique, check, foreign-key and exclusion constraints, with
-- their columns in key order and the referenced table and columns; the
-- definition only for checks and exclusions (the only ones that use it).
-- Column names are one index lookup per key column (a join there hashed
-- every attribute of the table, system columns included, per constraint).
SELECT c.conrelid::int8, c.conname::text, c.contype::text,
       CASE WHEN c.contype IN ('c', 'x') THEN pg_get_constraintdef(c.oid, true) END,
       ARRAY(SELECT (SELECT a.attname::text FROM pg_attribute a
                     WHERE a.attrelid = c.conrelid AND a.attnum = k.n)
             FROM unnest(c.conkey) WITH ORDINALITY k(n, i) ORDER BY k.i),
       fn.nspname::text, fc.relname::text,
       ARRAY(SELECT (SELECT a.attname::text FROM pg_attribute a
                     WHERE a.attrelid = c.confrelid AND a.attnum = k.n)
             FROM unnest(c.confkey) WITH ORDINALITY k(n, i) ORDER BY k.i),
       c.confupdtype::text, c.confdeltype::text, c.condeferrable, c.condeferred, c.conindid::int8
FROM pg_constraint c JOIN rel r ON r.oid = c.conrelid
LEFT JOIN pg_class fc ON fc.oid = c.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE c.contype IN ('p', 'u', 'c', 'f', 'x')
