#!/usr/bin/env bash
# The whole test suite: unit tests, and end-to-end tests of the real `keel`
# binary against SQLite, PostgreSQL (127.0.0.1:5432, user postgres) and
# MariaDB/MySQL (127.0.0.1:3306, user root). Starts the servers where they
# are installed but stopped; fails with a clear message where they cannot
# be reached. It never skips their tests. The TLS tests start throwaway
# servers of their own (scripts/mariadb-tls.sh, scripts/postgres-tls.sh),
# removed when the test run ends.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/services.sh
ensure_postgres
ensure_mariadb
ensure_tls_tools
# `keel adopt` is tested against the real dbmate (npm, a few seconds)
KEEL_DBMATE="$(scripts/install-dbmate.sh)"
export KEEL_DBMATE
# ... and the real sqlx-cli (crates.io: about 10 minutes to build, once)
KEEL_SQLX="$(scripts/install-sqlx.sh)"
export KEEL_SQLX
cargo test --workspace --locked "$@"
