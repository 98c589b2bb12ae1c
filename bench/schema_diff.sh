#!/usr/bin/env bash
# Schema diff, keel against migra in the same run (../shared/bench/
# bench_schema_diff.sh's inputs): two PostgreSQL databases of N tables
# (default 300 and 3000) that differ in 4 added columns and 1 type change
# (gen_schema_diff.py). Timed, interleaved (bench/interleave.py):
#   keel-diff      keel diff B A          (differences only; exits 1)
#   keel-plan      keel diff B A --sql    (plan, proven on a scratch copy)
#   migra          migra --unsafe A B     (its SQL plan)
# Then checks both found the same differences: keel's JSON ids against
# expected.txt, and migra's statements against the same list.
# migra baseline on this machine: 1.46 s at 300 tables (BASELINES.md).
# Usage: bench/schema_diff.sh [N...]   (RUNS=5 by default)
# Uses only databases kb_sd_<N>_a / _b, dropped at the end; generated files
# go under $BENCH_DATA (default /tmp/bench-data); migra is installed by
# bench/setup-peers.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUNS="${RUNS:-5}"
BENCH_DATA="${BENCH_DATA:-/tmp/bench-data}"
SHARED="${SHARED_BENCH:-$ROOT/../shared/bench}"
[ -f "$SHARED/gen_schema_diff.py" ] || SHARED=/work/shared/bench
WORK="$BENCH_DATA/keel-schema-diff"
if [ $# -gt 0 ]; then NS=("$@"); else NS=(300 3000); fi
mkdir -p "$WORK"
. "$ROOT/bench/common.sh"
export PGGSSENCMODE=disable
MIGRA="$BENCH_DATA/tools/migra-venv/bin/migra"
[ -x "$MIGRA" ] || "$ROOT/bench/setup-peers.sh"
drop_db() { PGOPTIONS="-c client_min_messages=warning" $PSQL -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)"; }
cleanup() { for n in "${NS[@]}"; do drop_db "kb_sd_${n}_a" >/dev/null 2>&1 || true; drop_db "kb_sd_${n}_b" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

for n in "${NS[@]}"; do
  D="$WORK/$n"
  python3 "$SHARED/gen_schema_diff.py" "$D" --tables "$n"
  for x in a b; do drop_db "kb_sd_${n}_$x"; $PSQL -d postgres -c "CREATE DATABASE kb_sd_${n}_$x"; $PSQL -d "kb_sd_${n}_$x" -f "$D/$x.sql"; done
  A="postgresql://$PGUSER@$PGHOST:$PGPORT/kb_sd_${n}_a"; B="postgresql://$PGUSER@$PGHOST:$PGPORT/kb_sd_${n}_b"
  MA="postgresql+psycopg2://$PGUSER@$PGHOST:$PGPORT/kb_sd_${n}_a"; MB="postgresql+psycopg2://$PGUSER@$PGHOST:$PGPORT/kb_sd_${n}_b"
  echo "== $n tables"
  # keel and migra exit non-zero when they find differences: `|| true`
  python3 "$ROOT/bench/interleave.py" --runs "$RUNS" --warmup 1 --json "$WORK/times-$n.json" \
    keel-diff '' "$KEEL diff $B $A -q >/dev/null || true" \
    keel-plan '' "$KEEL diff $B $A --sql -q >/dev/null || true" \
    migra '' "$MIGRA --unsafe $MA $MB >/dev/null || true" | tee "$WORK/medians-$n.txt"
  awk '{t[$1]=$2} END {printf "ratio migra/keel-diff: %.1fx   migra/keel-plan: %.1fx\n", t["migra"]/t["keel-diff"], t["migra"]/t["keel-plan"]}' "$WORK/medians-$n.txt"
  # the same differences?
  "$KEEL" diff "$B" "$A" --format json > "$WORK/keel-$n.json" || true
  python3 - "$WORK/keel-$n.json" "$D/expected.txt" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
got = sorted(d["id"] for d in doc["differences"])
want = []
for line in open(sys.argv[2]):
    w = line.split()
    if w[:2] == ["add", "column"]:
        t, c = w[2].split(".")
        want.append(f"column/public/{t}/{c}")
    elif w[:2] == ["alter", "column"]:
        t, c = w[2].split(".")
        want.append(f"column/public/{t}/{c}/type")
want.sort()
print("keel found exactly the expected differences:" if got == want else "keel MISMATCH:", got if got != want else len(got))
sys.exit(0 if got == want else 1)
PY
  "$MIGRA" --unsafe "$MA" "$MB" > "$WORK/migra-$n.sql" || true
  found=0
  while read -r kind _ target rest; do
    t="${target%%.*}"; c="${target#*.}"
    if grep -q "alter table \"public\".\"$t\" \(add\|alter\) column \"$c\"" "$WORK/migra-$n.sql"; then found=$((found+1)); else echo "migra missed: $kind $target"; fi
  done < "$D/expected.txt"
  echo "migra found $found of $(wc -l < "$D/expected.txt") expected differences"
  # query count does not grow with the schema: one pipelined batch per side
  echo "keel sends the same 10 catalog queries per side at any N (crates/keel/src/schema/inspect/postgres.rs, QUERY_COUNT)"
done
