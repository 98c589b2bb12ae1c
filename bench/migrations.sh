#!/usr/bin/env bash
# Migration-runner overhead, keel against its peers in one run (issue 2):
#   apply N small migrations (default 500, ../shared/bench/gen_migrations.py) to an
#   empty PostgreSQL database with keel, sqlx-cli and dbmate, and the floor
#   `psql -1 -f all.sql` of the same SQL; then a no-op run with all N applied,
#   against the floor of a bare connect + `SELECT 1`.
# Prints each median and keel's ratio to each peer, all measured in the same
# interleaved run. Peers: ./bench/setup-peers.sh.
# Usage: bench/migrations.sh [N]        (RUNS=5 by default)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${SHARED_BENCH:-$ROOT/../shared/bench}"
N="${1:-500}"
RUNS="${RUNS:-5}"
BENCH_DATA="${BENCH_DATA:-/tmp/bench-data}"
TOOLS="$BENCH_DATA/tools"
OUT="$BENCH_DATA/results/keel-migrations-$N"
mkdir -p "$BENCH_DATA/results"
. "$ROOT/bench/common.sh"
"$ROOT/bench/setup-peers.sh" >&2
SQLX="$TOOLS/cargo/bin/sqlx"
DBMATE="$TOOLS/npm/node_modules/@dbmate/linux-x64/bin/dbmate"

MIG="$BENCH_DATA/keel-mig$N"
python3 "$SHARED/gen_migrations.py" "$MIG" --count "$N"
# a fresh database and a CHECKPOINT before every run, so no run pays for the previous one's writes
mk() { echo "psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS $1 WITH (FORCE)' -c 'CREATE DATABASE $1' -c CHECKPOINT"; }
KEEL_UP="$KEEL --quiet --database-url $U/kb_keel?sslmode=disable --migrations $MIG/sqlx up"
SQLX_UP="$SQLX migrate run --source $MIG/sqlx --database-url $U/kb_sqlx?sslmode=disable"
DBMATE_UP="env -u PGGSSENCMODE $DBMATE --url $U/kb_dbmate?sslmode=disable --migrations-dir $MIG/dbmate --no-dump-schema migrate"
FLOOR="psql -X -q -1 -v ON_ERROR_STOP=1 -d kb_floor -f $MIG/all.sql"

# Runs are interleaved (bench/interleave.py): each round times every tool once,
# in shuffled order, so background load on this shared machine hits all alike.
sync   # the release build's dirty pages must not be written back during the runs
IL="python3 $ROOT/bench/interleave.py"
$IL --runs "$RUNS" --json "$OUT-apply.json" \
  floor "$(mk kb_floor)" "$FLOOR" \
  keel "$(mk kb_keel)" "$KEEL_UP" \
  sqlx "$(mk kb_sqlx)" "$SQLX_UP" \
  dbmate "$(mk kb_dbmate)" "$DBMATE_UP" > "$OUT-apply.txt"
for d in kb_floor kb_keel kb_sqlx kb_dbmate; do
  n=$(psql -X -tAq -d $d -c "select count(*) from pg_tables where schemaname='public' and tablename like 'm\_%'")
  [ "$n" = "$((N / 2 + N % 2))" ] || { echo "error: $d has $n tables, expected $((N / 2 + N % 2))" >&2; exit 1; }
done
$IL --warmup 2 --runs "$((RUNS * 4))" --json "$OUT-noop.json" \
  floor "" "psql -X -q -d kb_floor -c 'select 1' >/dev/null" \
  keel "" "$KEEL_UP" \
  sqlx "" "$SQLX_UP" \
  dbmate "" "$DBMATE_UP" > "$OUT-noop.txt"

python3 - "$OUT-apply.txt" "$OUT-noop.txt" "$N" <<'PY'
import sys
def medians(path):
    return {l.split()[0]: float(l.split()[1]) / 1000 for l in open(path) if l.strip()}
apply, noop, n = medians(sys.argv[1]), medians(sys.argv[2]), sys.argv[3]
for title, m, floor in ((f"apply {n} migrations to an empty database", apply, "psql -1 -f (floor)"),
                        ("no-op run, everything applied", noop, "connect + SELECT 1 (floor)")):
    print(f"\n{title} (medians)")
    for name in ("floor", "keel", "sqlx", "dbmate"):
        label = floor if name == "floor" else name
        print(f"  {label:<28} {m[name] * 1000:8.1f} ms   keel = {m['keel'] / m[name]:.2f}x")
    print(f"  goal: keel faster than sqlx and dbmate; " +
          ("<= 1.15x the floor" if m is apply else "<= 1.3x the floor"))
PY
for d in kb_floor kb_keel kb_sqlx kb_dbmate; do psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)"; done
