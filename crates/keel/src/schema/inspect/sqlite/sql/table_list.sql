SELECT name, type FROM pragma_table_list
WHERE schema = 'main' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> ?1
