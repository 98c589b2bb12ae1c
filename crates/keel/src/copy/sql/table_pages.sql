SELECT relname::text, (pg_relation_size(oid) / 8192)::int8 FROM pg_class WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace AND relname = ANY($1::text[])
