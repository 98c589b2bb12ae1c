-- User triggers (not the internal ones behind foreign keys).
SELECT t.tgrelid::int8, t.tgname::text, pg_get_triggerdef(t.oid, true), t.tgenabled::text,
       pn.nspname::text, p.proname::text
FROM pg_trigger t JOIN rel r ON r.oid = t.tgrelid
JOIN pg_proc p ON p.oid = t.tgfoid
JOIN pg_namespace pn ON pn.oid = p.pronamespace
WHERE NOT t.tgisinternal
