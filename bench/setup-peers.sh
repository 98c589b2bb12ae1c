#!/usr/bin/env bash
# Install the peers keel's benchmarks measure against, under $BENCH_DATA/tools
# (default /tmp/bench-data/tools), never in the repository. Idempotent.
#   sqlx-cli 0.9.0 (crates.io, ~10 min on 2 cores; postgres, mysql, sqlite), dbmate 2.36.0 (npm),
#   migra and psycopg2 (PyPI, in a venv; bench/copy.sh's checker uses it),
#   pgloader and sqlite3 (Debian packages, when missing).
set -euo pipefail
BENCH_DATA="${BENCH_DATA:-/tmp/bench-data}"
TOOLS="$BENCH_DATA/tools"
mkdir -p "$TOOLS/npm" "$BENCH_DATA/logs"
# dbmate and sqlx-cli: the same installs the tests use
"$(dirname "$0")/../scripts/install-dbmate.sh" >/dev/null
"$(dirname "$0")/../scripts/install-sqlx.sh" >/dev/null
if [ ! -x "$TOOLS/migra-venv/bin/migra" ]; then
  python3 -m venv "$TOOLS/migra-venv"
  "$TOOLS/migra-venv/bin/pip" install -q migra psycopg2-binary > "$BENCH_DATA/logs/migra-install.log" 2>&1 \
    || { tail -20 "$BENCH_DATA/logs/migra-install.log"; exit 1; }
fi
if ! command -v pgloader >/dev/null || ! command -v sqlite3 >/dev/null; then
  echo "installing pgloader and sqlite3 (Debian packages)..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q pgloader sqlite3 > "$BENCH_DATA/logs/apt-install.log" 2>&1 \
    || { tail -20 "$BENCH_DATA/logs/apt-install.log"; exit 1; }
fi
echo "peers ready under $TOOLS"
