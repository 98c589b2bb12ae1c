#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the repository's real SQL files and
migration folders, plus hand-written inputs for the constructs each parser
must get right. Run by scripts/fuzz.sh; safe to run again (files are named
by content hash)."""
import hashlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
EXTRA = [p for p in sys.argv[1:] if os.path.isdir(p)]
MAX = 8192


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    data = data[:MAX]
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def sql_files():
    for base in [ROOT] + EXTRA:
        for dirpath, dirnames, files in os.walk(base):
            dirnames[:] = [d for d in dirnames if d not in ("target", ".git", "fuzz", "node_modules")]
            for f in files:
                if f.endswith(".sql"):
                    p = os.path.join(dirpath, f)
                    with open(p, "rb") as fh:
                        yield os.path.relpath(p, base), fh.read()


TRICKY = [
    "CREATE TABLE calendar (id INT PRIMARY KEY, event VARCHAR(20), begin DATETIME);\nINSERT INTO calendar VALUES (1, 'a', NULL);",
    "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\nSELECT 1;",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\nSELECT 3;",
    "CREATE FUNCTION g() RETURNS trigger AS $body$ BEGIN RETURN NEW; END; $body$ LANGUAGE plpgsql;\nDO $$ BEGIN PERFORM 1; END $$;",
    "/* outer /* nested; */ still; */ SELECT E'it\\'s; fine';\nSELECT 'x''y;';",
    "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END //\nDELIMITER ;\nSELECT 3;",
    "DELIMITER $$\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN IF NEW.a > 1 THEN SET NEW.a = 1; END IF; END$$\nDELIMITER ;",
    "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- +goose StatementEnd\nSELECT 1;\n-- +goose Down\nDROP FUNCTION f;",
    "CREATE TRIGGER tr AFTER INSERT ON a BEGIN INSERT INTO b VALUES (CASE WHEN 1 THEN 2 END); END;\nSELECT 1;",
    "CREATE PROCEDURE p() BEGIN l1: LOOP LEAVE l1; END LOOP l1; WHILE 1 DO SELECT IF(1,2,3); END WHILE; REPEAT SELECT 1; UNTIL 1 END REPEAT; END;\nSELECT 2;",
    "# mysql comment; here\nSELECT `a;b` FROM t; SELECT \"x\\\";y\";",
    "SELECT [a;b] FROM t; -- c;\nSELECT 1",
    "BEGIN; SELECT 1; COMMIT; START TRANSACTION; SAVEPOINT a; RELEASE a; ROLLBACK;",
    "SET search_path = ''; SELECT pg_catalog.set_config('search_path', '', false); USE db;",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"i\"\"x\" ON s.t (a);",
]
for i, t in enumerate(TRICKY):
    for d in range(3):
        put("split", bytes([d]) + t.encode())
    put("split", bytes([0xc0 | (i % 3)]) + t.encode())
    put("directives", t)

DIRECTIVES = [
    "-- keel:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);",
    "/* licence\n   header */\n-- KEEL: No-Transaction\nVACUUM;",
    "-- keel:no-transacton\nSELECT 1;",
    "-- keel no-transaction\nSELECT 1;",
    "-- keel:\nSELECT 1;",
    "SELECT 1;\n-- keel:no-transaction\n",
    "\ufeff-- keel:no-transaction\r\nSELECT 1;",
    "/* a */ /* b */ -- keel:no-transaction\nSELECT 1;",
]
for t in DIRECTIVES:
    put("directives", t)

# real files
folders = {}
for rel, data in sql_files():
    for d in range(3):
        put("split", bytes([d]) + data)
    put("directives", data)
    folder, _, name = rel.rpartition("/")
    folders.setdefault(folder, []).append((name, data))


def folder_input(mode, entries):
    return bytes([mode]) + b"\0".join(p.encode() + b"\n" + c for p, c in entries)


for folder, entries in folders.items():
    put("files", folder_input(8, entries[:16]))

LAYOUTS = {
    0: [("1_init.sql", "CREATE TABLE a (id int);"), ("2_b.up.sql", "SELECT 1;"), ("2_b.down.sql", ""), ("R__view.sql", "CREATE VIEW v AS SELECT 1;")],
    1: [("20230101000000_init.up.sql", "-- no-transaction\nSELECT 1;"), ("20230101000000_init.down.sql", "SELECT 2;")],
    2: [("00000000000000_diesel_initial_setup/up.sql", "SELECT 1;"), ("00000000000000_diesel_initial_setup/down.sql", "SELECT 1;"), ("2023-01-02-030405_create_posts/up.sql", "CREATE TABLE p (id int);"), ("2023-01-02-030405_create_posts/down.sql", "DROP TABLE p;"), ("2023-01-02-030405_create_posts/metadata.toml", "run_in_transaction = false\n")],
    3: [("000001_init.up.sql", "SELECT 1;"), ("000001_init.down.sql", "SELECT 2;"), ("000002_more.up.sql", "SELECT 3;")],
    4: [("20230101000000_init.sql", "-- migrate:up transaction:false\nSELECT 1;\n-- migrate:down\nSELECT 2;\n")],
    5: [("00001_init.sql", "-- +goose Up\n-- +goose NO TRANSACTION\n-- +goose StatementBegin\nSELECT 1;\n-- +goose StatementEnd\n-- +goose Down\nSELECT 2;\n")],
    6: [("V1__init.sql", "SELECT 1;"), ("V1.1__more.sql", "SELECT 2;"), ("U1.1__more.sql", "SELECT 3;"), ("R__view.sql", "SELECT 4;")],
    7: [("20230101000000_init/migration.sql", "CREATE TABLE a (id int);"), ("migration_lock.toml", 'provider = "postgresql"\n')],
}
for layout, entries in LAYOUTS.items():
    enc = [(p, c.encode()) for p, c in entries]
    put("files", folder_input(8, enc))
    put("files", folder_input(layout, enc))
put("files", folder_input(8, [("alembic/env.py", b"x"), ("1_x.rb", b"x"), ("00001_x.go", b"x"), ("sub/1_a.sql", b"SELECT 1;")]))

URLS = [
    "postgres://app:s3cret@db:5432/prod?sslmode=require&password=s3cret",
    "postgresql://u@h/d?connect_timeout=3&options=-csearch_path%3Dx",
    "mysql://root:hunter2@127.0.0.1:3306/db?ssl-mode=REQUIRED",
    "mariadb://u:p%40ss@[::1]:3306/db",
    "sqlite:keel.db", "sqlite::memory:", "sqlite://a/b.db?mode=ro", "SQLITE:x.db",
    "postgres://u:p@ss:w@rd@[bad/x", "postgres://u:1/x@h/db", "postgres://user:pass@host",
    "postgres://%zz:%zz@h/d", "oracle://u@h/d", "", " ", "postgres:///db",
]
for u in URLS:
    put("url", b"\0" + u.encode())
for pw in ["s3cret", "p@ss/word", "1/x", "a#b?c", "ä€😀", "%41%42", "x'y\"z", "$HOME", "a b", "@@", "::", "\\n"]:
    put("url", b"\1" + b"app\0db\0prod\0" + pw.encode() + b"\0OTHER=1")
    put("url", b"\4" + b"app\0db\0prod\0" + pw.encode() + b"\0# comment")
for env in ["DATABASE_URL=postgres://u:pw@h/d\n", "DATABASE_URL=\n", "export DATABASE_URL=\"sqlite:x.db\"\n", "A=${B}\nDATABASE_URL='mysql://r@h/d'", "DATABASE_URL=\"unterminated\n", "=x\n"]:
    put("url", b"\2" + env.encode())
    put("url", b"\2" + env.encode() + b"\0postgres://u:p@h/d")
