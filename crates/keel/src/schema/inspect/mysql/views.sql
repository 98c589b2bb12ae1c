-- the server writes every table of a view's definition qualified with the
-- current database (`app`.`t`): removed, so that the same view read in two
-- databases (keel's scratch replay, the real one) compares equal
SELECT TABLE_NAME,
       REPLACE(VIEW_DEFINITION, CONCAT('`', REPLACE(DATABASE(), '`', '``'), '`.'), '')
FROM information_schema.VIEWS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> ?
