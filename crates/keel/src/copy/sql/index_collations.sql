SELECT il.name, ix.name, ix.coll
FROM sqlite_schema m JOIN pragma_index_list(m.name) il JOIN pragma_index_xinfo(il.name) ix
WHERE m.type = 'table' AND ix.key = 1 AND ix.name IS NOT NULL AND ix.coll IS NOT NULL
