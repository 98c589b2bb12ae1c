#!/usr/bin/env bash
# Builds sqlx-cli 0.9.0 from crates.io (about 10 minutes on 2 cores, once)
# under $BENCH_DATA/tools/cargo, where the end-to-end tests of `keel adopt`
# run the real tool and bench/migrations.sh times it. Idempotent: prints the
# binary's path. Its build log is kept beside it for a failed build.
set -euo pipefail
BENCH_DATA="${BENCH_DATA:-/tmp/bench-data}"
TOOLS="$BENCH_DATA/tools"
BIN="$TOOLS/cargo/bin/sqlx"
if [ ! -x "$BIN" ]; then
  mkdir -p "$TOOLS" "$BENCH_DATA/logs"
  echo "building sqlx-cli 0.9.0 (about 10 minutes on 2 cores, once)..." >&2
  nice -n 10 cargo install sqlx-cli --version 0.9.0 --locked --no-default-features \
    --features postgres,mysql,sqlite,rustls --root "$TOOLS/cargo" \
    > "$BENCH_DATA/logs/sqlx-install.log" 2>&1 \
    || { tail -20 "$BENCH_DATA/logs/sqlx-install.log" >&2; exit 1; }
fi
echo "$BIN"
