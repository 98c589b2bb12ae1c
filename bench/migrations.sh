#!/usr/bin/env bash
# Migration-runner overhead, keel against its peers in one run (issue 2):
#   apply N small migrations (default 500, ../shared/bench/gen_migrations.py) to an
#   empty PostgreSQL database with keel, sqlx-cli and dbmate, and the floor
#   `psql -1 -f all.sql` of the same SQL; then a no-op run with all N applied,
#   against the floor of a bare connect + `SELECT 1`.
# Prints each median and keel's ratio to each peer. Peers: ./bench/setup-peers.sh.
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
. "$ROOT/scripts/services.sh"
ensure_postgres
"$ROOT/bench/setup-peers.sh" >&2
export PGHOST=127.0.0.1 PGPORT=5432 PGUSER="${PGUSER:-postgres}" PGSSLMODE=disable
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -n "$PG_BIN" ] && export PATH="$PG_BIN:$PATH"   # skip Debian's slow psql wrapper
SQLX="$TOOLS/cargo/bin/sqlx"
DBMATE="$TOOLS/npm/node_modules/@dbmate/linux-x64/bin/dbmate"
(cd "$ROOT" && cargo build --release --locked -q -p keel-cli)
KEEL="$ROOT/target/release/keel"

MIG="$BENCH_DATA/keel-mig$N"
python3 "$SHARED/gen_migrations.py" "$MIG" --count "$N"
U="postgresql://$PGUSER@$PGHOST:$PGPORT"
# a fresh database and a CHECKPOINT before every run, so no run pays for the previous one's writes
mk() { echo "psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS $1 WITH (FORCE)' -c 'CREATE DATABASE $1' -c CHECKPOINT"; }
KEEL_UP="$KEEL --quiet --database-url $U/kb_keel?sslmode=disable --migrations $MIG/sqlx up"
SQLX_UP="$SQLX migrate run --source $MIG/sqlx --database-url $U/kb_sqlx?sslmode=disable"
DBMATE_UP="env -u PGGSSENCMODE $DBMATE --url $U/kb_dbmate?sslmode=disable --migrations-dir $MIG/dbmate --no-dump-schema migrate"
FLOOR="psql -X -q -1 -v ON_ERROR_STOP=1 -d kb_floor -f $MIG/all.sql"

hyperfine -N --runs "$RUNS" --export-json "$OUT-apply.json" \
  -n floor --prepare "$(mk kb_floor)" "$FLOOR" \
  -n keel --prepare "$(mk kb_keel)" "$KEEL_UP" \
  -n sqlx --prepare "$(mk kb_sqlx)" "$SQLX_UP" \
  -n dbmate --prepare "$(mk kb_dbmate)" "$DBMATE_UP" > "$OUT-apply.log" 2>&1 \
  || { tail -20 "$OUT-apply.log"; exit 1; }
for d in kb_floor kb_keel kb_sqlx kb_dbmate; do
  n=$(psql -X -tAq -d $d -c "select count(*) from pg_tables where schemaname='public' and tablename like 'm\_%'")
  [ "$n" = "$((N / 2 + N % 2))" ] || { echo "error: $d has $n tables, expected $((N / 2 + N % 2))" >&2; exit 1; }
done
hyperfine -N --warmup 2 --runs "$((RUNS * 4))" --export-json "$OUT-noop.json" \
  -n floor "psql -X -q -d kb_floor -c 'select 1'" \
  -n keel "$KEEL_UP" \
  -n sqlx "$SQLX_UP" \
  -n dbmate "$DBMATE_UP" > "$OUT-noop.log" 2>&1 || { tail -20 "$OUT-noop.log"; exit 1; }

python3 - "$OUT-apply.json" "$OUT-noop.json" "$N" <<'PY'
import json, statistics, sys
def medians(path):
    return {r["command"]: statistics.median(r["times"]) for r in json.load(open(path))["results"]}
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
