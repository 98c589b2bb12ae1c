#!/usr/bin/env bash
# Builds keel (release) and runs its main job on the embedded SQLite default,
# in a fresh temporary folder: init, two migrations (tables named `user` and
# `case`), up, status, history. (Commands that only read never create the
# database file, so `status` comes after the first `up`.)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p keel-cli
KEEL="$PWD/target/release/keel"
DIR="$(mktemp -d)"
cd "$DIR"
run() { echo; echo "\$ keel $*"; "$KEEL" "$@"; }
run init
run new create users --reversible
cat >> migrations/*_create_users.up.sql <<'SQL'
CREATE TABLE "user" (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
SQL
cat >> migrations/*_create_users.down.sql <<'SQL'
DROP TABLE "user";
SQL
run new open cases
cat >> migrations/*_open_cases.sql <<'SQL'
CREATE TABLE "case" (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES "user" (id), title TEXT NOT NULL);
CREATE INDEX case_user_idx ON "case" (user_id);
SQL
run up
run status
run history
echo
echo "keel is at $KEEL; the demo database is $DIR/keel.db"
