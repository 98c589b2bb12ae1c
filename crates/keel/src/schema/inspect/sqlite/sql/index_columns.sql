SELECT m.name, il.name, il."unique", il.origin, ix.seqno, ix.name, ix."desc", il.partial
FROM sqlite_schema m JOIN pragma_index_list(m.name) il JOIN pragma_index_xinfo(il.name) ix
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\' AND m.name <> ?1 AND ix.key = 1
