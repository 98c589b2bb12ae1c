#!/usr/bin/env bash
# SQLite -> PostgreSQL copy, keel against its peers in one run, interleaved:
#   keel       keel copy FILE postgres://…   (schema, data, keys, indexes,
#              foreign keys, identity values, ANALYZE, and validation of
#              every table by checksum: all of it is timed)
#   pgloader   pgloader sqlite://FILE postgresql://…  (Debian package; at
#              scale 10 its default 1 GiB heap crashes, so it runs with
#              --dynamic-space-size 4096 as ../shared/bench/copy_pgloader.sh)
#   pipeline   the hand-built pipeline of ../shared/bench/copy_baseline.sh:
#              pre-typed tables, `sqlite3 -csv | psql \copy` per table, then
#              keys, unique, indexes, foreign keys and setval
# on the incident database of ../shared/bench/gen_sqlite.py at each SCALE
# (default: 1 = 439,709 rows, and 10 = 4.39M rows). Prints medians, rows/s,
# peak memory (max RSS) of keel and pgloader, and keel's ratios; then checks
# keel's copy with ../shared/bench/check_pg_copy.py --data (cell by cell).
# Usage: bench/copy.sh [SCALE...]    RUNS=3 by default. Needs pgloader,
# sqlite3 and psycopg2 (bench/setup-peers.sh installs them).
# Uses only databases kb_copy_*, dropped at the end; data under $BENCH_DATA.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${SHARED_BENCH:-$ROOT/../shared/bench}"
RUNS="${RUNS:-3}"
BENCH_DATA="${BENCH_DATA:-/tmp/bench-data}"
RESULTS="$BENCH_DATA/results"
if [ $# -gt 0 ]; then SCALES=("$@"); else SCALES=(1 10); fi
for s in "${SCALES[@]}"; do
  [[ "$s" =~ ^[1-9][0-9]?$ ]] || { echo "error: SCALE must be 1 to 99, got '$s'" >&2; exit 2; }
done
[ -f "$SHARED/gen_sqlite.py" ] || { echo "error: $SHARED/gen_sqlite.py not found; set SHARED_BENCH" >&2; exit 2; }
for tool in pgloader sqlite3; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found: run bench/setup-peers.sh" >&2; exit 2; }
done
mkdir -p "$RESULTS"
CHECK_PY="$BENCH_DATA/tools/migra-venv/bin/python"   # has psycopg2 (bench/setup-peers.sh)
[ -x "$CHECK_PY" ] || CHECK_PY=python3
. "$ROOT/bench/common.sh"
export PGGSSENCMODE=disable
DBS=()
cleanup() { for db in "${DBS[@]}"; do $PSQL -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM
recreate="$PSQL -d postgres -c 'SET client_min_messages = warning' -c"

for S in "${SCALES[@]}"; do
  SRC="$BENCH_DATA/s$S/incident.sqlite"
  if [ ! -f "$SRC" ]; then
    mkdir -p "$BENCH_DATA/s$S"
    echo "generating scale $S…" >&2
    python3 "$SHARED/gen_sqlite.py" "$SRC" --scale "$S" >&2
  fi
  ROWS=$(sqlite3 "$SRC" "SELECT 'SELECT ' || group_concat('(SELECT count(*) FROM \"' || name || '\")', ' + ') || ';'
    FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'" | sqlite3 "$SRC")
  W="$BENCH_DATA/keel-copy-s$S"; mkdir -p "$W"
  OUT="$RESULTS/keel-copy-s$S"
  # the hand-built pipeline, generated as copy_baseline.sh does
  python3 "$SHARED/gen_sqlite.py" --pg-schema "$W/ddl" >/dev/null
  : > "$W/pipe.sh"
  while IFS=$'\t' read -r t cols; do
    printf 'sqlite3 -csv %q %q | psql -X -q -v ON_ERROR_STOP=1 -d kb_copy_pipe_s%s -c %q\n' "$SRC" \
      "SELECT $cols FROM \"$t\"" "$S" "\\copy \"$t\" FROM STDIN WITH (FORMAT csv)" >> "$W/pipe.sh"
  done < "$W/ddl/export_columns.tsv"
  cp "$W/ddl/pg_finish.sql" "$W/finish.sql"
  sqlite3 "$SRC" "SELECT m.name, COALESCE((SELECT seq FROM sqlite_sequence s WHERE s.name = m.name), 0)
    FROM sqlite_master m WHERE m.type='table' AND m.name NOT LIKE 'sqlite_%'" |
  while IFS='|' read -r t seq; do
    echo "SELECT setval(pg_get_serial_sequence('\"$t\"', 'id'), GREATEST($seq, (SELECT COALESCE(max(id), 0) FROM \"$t\"), 1), GREATEST($seq, (SELECT COALESCE(max(id), 0) FROM \"$t\")) > 0);" >> "$W/finish.sql"
  done
  PGL_OPTS=""; [ "$S" -ge 10 ] && PGL_OPTS="--dynamic-space-size 4096"
  for t in keel pgl pipe; do DBS+=("kb_copy_${t}_s$S"); done
  MEM="/usr/bin/time -a -f %M -o"
  rm -f "$OUT"-*.mem
  echo "scale $S: $ROWS rows; timing keel, pgloader and the pipeline, $RUNS interleaved rounds…" >&2
  python3 "$ROOT/bench/interleave.py" --runs "$RUNS" --json "$OUT.json" \
    keel "$recreate 'DROP DATABASE IF EXISTS kb_copy_keel_s$S WITH (FORCE)' -c 'CREATE DATABASE kb_copy_keel_s$S'" \
      "$MEM $OUT-keel.mem '$KEEL' --quiet copy '$SRC' '$U/kb_copy_keel_s$S?sslmode=disable'" \
    pgloader "$recreate 'DROP DATABASE IF EXISTS kb_copy_pgl_s$S WITH (FORCE)' -c 'CREATE DATABASE kb_copy_pgl_s$S'" \
      "$MEM $OUT-pgloader.mem pgloader $PGL_OPTS sqlite://$SRC $U/kb_copy_pgl_s$S > $W/pgloader.log 2>&1" \
    pipeline "$recreate 'DROP DATABASE IF EXISTS kb_copy_pipe_s$S WITH (FORCE)' -c 'CREATE DATABASE kb_copy_pipe_s$S'" \
      "$PSQL -d kb_copy_pipe_s$S -f $W/ddl/pg_tables.sql && bash -o pipefail -e $W/pipe.sh && $PSQL -d kb_copy_pipe_s$S -f $W/finish.sql" \
    > "$OUT.txt"
  echo "checking keel's copy cell by cell (check_pg_copy.py --data)…" >&2
  "$CHECK_PY" "$SHARED/check_pg_copy.py" "$SRC" "host=$PGHOST port=$PGPORT user=$PGUSER dbname=kb_copy_keel_s$S sslmode=disable" \
    --data --json "$OUT-check.json" > "$OUT-check.txt" 2>&1 || true
  "$CHECK_PY" "$SHARED/check_pg_copy.py" "$SRC" "host=$PGHOST port=$PGPORT user=$PGUSER dbname=kb_copy_pgl_s$S sslmode=disable" \
    --json "$OUT-pgloader-check.json" > "$OUT-pgloader-check.txt" 2>&1 || true
  python3 - "$OUT" "$S" "$ROWS" "$RUNS" <<'PY'
import json, sys
out, scale, rows, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
m = {l.split()[0]: float(l.split()[1]) / 1000 for l in open(out + ".txt") if l.strip()}
def mem(name):
    try:
        return max(int(x) for x in open(f"{out}-{name}.mem").read().split()) / 1024
    except (OSError, ValueError):
        return float("nan")
print(f"\ncopy SQLite -> PostgreSQL, scale {scale}: {rows:,} rows (medians of {runs} interleaved runs)")
for name, label in (("keel", "keel copy (incl. validation)"), ("pgloader", "pgloader"), ("pipeline", "hand-built pipeline")):
    extra = f"  peak {mem(name):6.0f} MB" if name != "pipeline" else ""
    print(f"  {label:<30} {m[name]:8.2f} s  {rows / m[name]:>10,.0f} rows/s{extra}")
print(f"  keel throughput / pgloader's      {m['pgloader'] / m['keel']:6.2f}x  goal >= 3")
print(f"  keel time / pipeline's            {m['keel'] / m['pipeline']:6.2f}x  goal < 1")
print(f"  keel peak memory                  {mem('keel'):6.0f} MB  goal < 200 MB")
for who, path in (("keel", out + "-check.json"), ("pgloader", out + "-pgloader-check.json")):
    try:
        c = json.load(open(path))
        tables = c["tables"]
        lost_nn = sum(len(t.get("not_null_lost", [])) for t in tables.values())
        lossy = {k: v for k, v in c["type_map"].items() if k.split(" -> ")[1] in ("real", "timestamp with time zone")}
        print(f"  defects in {who}'s copy: {json.dumps(c['totals'])}, NOT NULL lost: {lost_nn}, "
              f"extra tables: {c['extra_pg_tables']}, lossy types: {lossy or 'none'}")
    except (OSError, KeyError, ValueError) as e:
        print(f"  defects in {who}'s copy: check did not run ({e})")
PY
done
