#!/usr/bin/env bash
# Installs dbmate 2.36.0 (npm, a few seconds) under $BENCH_DATA/tools, where
# the end-to-end tests of `keel adopt` run the real tool. Idempotent; also
# part of bench/setup-peers.sh.
set -euo pipefail
BENCH_DATA="${BENCH_DATA:-/tmp/bench-data}"
TOOLS="$BENCH_DATA/tools"
if [ ! -x "$TOOLS/npm/node_modules/@dbmate/linux-x64/bin/dbmate" ]; then
  mkdir -p "$TOOLS/npm"
  (cd "$TOOLS/npm" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install -q dbmate@2.36.0 >/dev/null)
fi
echo "$TOOLS/npm/node_modules/@dbmate/linux-x64/bin/dbmate"
