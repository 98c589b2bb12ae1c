#!/usr/bin/env bash
# Sequence check and repair, keel against the floors in one run:
#   N tables (default 1,000 and 10,000), each `(id serial PRIMARY KEY, v integer)`
#   with 100 rows inserted with explicit ids, so every sequence lags behind
#   max(id) (the generator of ../shared/bench/seq_repair.sh). Timed, interleaved:
#     keel-check     keel sequences          (finds every lagging sequence, exits 1)
#     keel-fix       keel sequences --fix    (repairs all of them, exits 0)
#     do-block       one server-side DO block that setval's every owned
#                    sequence to max(id) + 1: one round trip (the floor)
#     per-table-1tx  one `SELECT setval(...)` per table from psql -f, in one
#                    transaction
# Both floors are seq_repair.sh's, except that past 1,000 tables they commit
# every 1,000 (BATCH): each table costs three locks (table, index, sequence)
# held to commit, and stock PostgreSQL (max_locks_per_transaction = 64) runs
# out of lock table ("out of shared memory") near 4,000 tables in one
# transaction. At N <= 1,000 they are exactly one transaction, as in the
# baselines.
# Before every timed run (untimed) every sequence is put back to lagging
# (setval(seq, 1, false)) and a CHECKPOINT taken, so each run has the same work.
# Afterwards keel's repair is verified: every sequence must hand out max(id) + 1,
# a second `keel sequences` must exit 0, and an INSERT without an id must get
# max(id) + 1. Prints each median, keel's ratio to the floors, and how each
# grows from the smallest N to the largest (linear = the ratio of the Ns).
# Peer baselines, 1,000 tables: DO block 211 ms, per-table in one tx 272 ms
# (../shared/bench/BASELINES.md).
# Usage: bench/sequences.sh [N...]     (default: 1000 10000; RUNS=5 by default)
# Creating 10,000 tables takes about a minute. Uses only databases kb_seq_<N>,
# dropped at the end; generated files go under $BENCH_DATA (default /tmp/bench-data).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUNS="${RUNS:-5}"
BENCH_DATA="${BENCH_DATA:-/tmp/bench-data}"
WORK="$BENCH_DATA/keel-seq"
RESULTS="$BENCH_DATA/results"
R=100        # rows per table
BATCH=1000   # tables per transaction in the floors, the reset and the checks
if [ $# -gt 0 ]; then NS=("$@"); else NS=(1000 10000); fi
for n in "${NS[@]}"; do
  [[ "$n" =~ ^[1-9][0-9]{0,4}$ ]] || { echo "error: N must be a table count from 1 to 99999, got '$n'" >&2; exit 2; }
done
mkdir -p "$WORK" "$RESULTS"
# Loopback without TLS/GSS negotiation, like the sslmode=disable URL keel gets.
. "$ROOT/bench/common.sh"
export PGGSSENCMODE=disable

drop_db() { PGOPTIONS="-c client_min_messages=warning" $PSQL -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)"; }
cleanup() {
  for n in "${NS[@]}"; do drop_db "kb_seq_$n" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every (table, column, sequence) where the sequence is owned by the column
# (serial) or is its identity: the same discovery as seq_repair.sh.
DISCOVER="SELECT format('%I.%I', n.nspname, c.relname) AS tbl, a.attname AS col, s.oid::regclass AS seq
  FROM pg_depend d
  JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
  JOIN pg_class c ON c.oid = d.refobjid AND c.relkind IN ('r', 'p')
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
   AND d.deptype IN ('a', 'i') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"

# Put every sequence back to lagging (setval holds a lock on its sequence
# until commit, so this commits every BATCH too).
RESET_SQL="$WORK/seq_reset.sql"
cat > "$RESET_SQL" <<SQL
DO \$\$
DECLARE r record; k int := 0;
BEGIN
  FOR r IN $DISCOVER LOOP
    PERFORM setval(r.seq, 1, false);
    k := k + 1;
    IF k % $BATCH = 0 THEN COMMIT; END IF;
  END LOOP;
END \$\$;
SQL

# verify DB N: fails unless all N sequences hand out max(id) + 1 next
# (commits every BATCH tables, like the floors).
verify() {
  $PSQL -d "$1" <<SQL
DO \$\$
DECLARE r record; bad int := 0; total int := 0; lv bigint; called boolean; mx bigint; next bigint;
        examples text[] := '{}';
BEGIN
  FOR r IN $DISCOVER LOOP
    EXECUTE format('SELECT last_value, is_called FROM %s', r.seq) INTO lv, called;
    EXECUTE format('SELECT COALESCE(max(%I), 0) FROM %s', r.col, r.tbl) INTO mx;
    next := CASE WHEN called THEN lv + 1 ELSE lv END;
    total := total + 1;
    IF next <> mx + 1 THEN
      bad := bad + 1;
      IF bad <= 5 THEN
        examples := examples || format('%s next %s, max(%s.%I) %s', r.seq, next, r.tbl, r.col, mx);
      END IF;
    END IF;
    IF total % $BATCH = 0 THEN COMMIT; END IF;
  END LOOP;
  IF bad > 0 OR total <> $2 THEN
    RAISE EXCEPTION '% of % sequences (expected %) would not hand out max(id) + 1 next; e.g. %',
      bad, total, $2, array_to_string(examples, '; ');
  END IF;
END \$\$;
SQL
}

for N in "${NS[@]}"; do
  DB="kb_seq_$N"
  OUT="$RESULTS/keel-sequences-$N"
  echo "creating $DB: $N tables, $R rows each, every sequence behind..." >&2
  drop_db "$DB"
  $PSQL -d postgres -c "CREATE DATABASE $DB"
  # The generator of seq_repair.sh, committing every BATCH tables (one
  # transaction creating 10,000 tables runs out of lock table).
  $PSQL -d "$DB" <<SQL
SET synchronous_commit = off;
DO \$\$
BEGIN
  FOR i IN 1..$N LOOP
    EXECUTE format('CREATE TABLE %I (id serial PRIMARY KEY, v integer)', 't' || lpad(i::text, 5, '0'));
    -- explicit ids with a gap: max(id) = $R + i, sequence still at 1
    EXECUTE format('INSERT INTO %I (id, v) SELECT g + CASE WHEN g > $R / 2 THEN %s ELSE 0 END, g FROM generate_series(1, $R) g',
                   't' || lpad(i::text, 5, '0'), i);
    IF i % $BATCH = 0 THEN COMMIT; END IF;
  END LOOP;
END \$\$;
ANALYZE;
CHECKPOINT;
SQL
  # The floors, generated as seq_repair.sh does (not timed), plus a COMMIT
  # every BATCH tables when there are more.
  cat > "$WORK/seq_do_$N.sql" <<SQL
DO \$\$
DECLARE r record; k int := 0;
BEGIN
  FOR r IN $DISCOVER LOOP
    EXECUTE format('SELECT setval(%L, COALESCE((SELECT max(%I) FROM %s), 0) + 1, false)', r.seq, r.col, r.tbl);
    k := k + 1;
    IF k % $BATCH = 0 AND k < $N THEN COMMIT; END IF;
  END LOOP;
END \$\$;
SQL
  $PSQL -d "$DB" -tA -c "SELECT format('SELECT setval(%L, COALESCE((SELECT max(%I) FROM %s), 0) + 1, false);', seq, col, tbl) FROM ($DISCOVER) x" \
    | awk -v b="$BATCH" -v n="$N" 'NR == 1 { print "BEGIN;" } { print } NR % b == 0 && NR < n { print "COMMIT;"; print "BEGIN;" } END { print "COMMIT;" }' \
    > "$WORK/seq_each_$N.sql"
  n=$(grep -c setval "$WORK/seq_each_$N.sql")
  [ "$n" = "$N" ] || { echo "error: $DB has $n owned sequences, expected $N" >&2; exit 1; }

  RESET="$PSQL -d $DB -f '$RESET_SQL' -c CHECKPOINT"
  KEEL_SEQ="'$KEEL' --quiet --database-url '$U/$DB?sslmode=disable' sequences"
  # keel must see the problem before it is timed finding it
  $PSQL -d "$DB" -f "$RESET_SQL"
  rc=0; sh -c "$KEEL_SEQ" > "$OUT-check.log" 2>&1 || rc=$?
  if [ "$rc" != 1 ]; then
    echo "error: \`keel sequences\` exited $rc on $N lagging sequences, expected 1 (output: $OUT-check.log):" >&2
    tail -20 "$OUT-check.log" >&2
    exit 1
  fi

  # Runs are interleaved (bench/interleave.py): each round times every tool once,
  # in shuffled order, so background load on this shared machine hits all alike.
  sync
  python3 "$ROOT/bench/interleave.py" --warmup 1 --runs "$RUNS" --json "$OUT.json" \
    keel-check "$RESET" "$KEEL_SEQ; test \$? -eq 1" \
    keel-fix "$RESET" "$KEEL_SEQ --fix" \
    do-block "$RESET" "$PSQL -d $DB -f '$WORK/seq_do_$N.sql'" \
    per-table-1tx "$RESET" "$PSQL -d $DB -f '$WORK/seq_each_$N.sql'" > "$OUT.txt"

  # keel's repair, verified: lagging again, fixed by keel, then checked by SQL,
  # by keel itself, and by an INSERT that takes its id from the sequence.
  $PSQL -d "$DB" -f "$RESET_SQL"
  rc=0; sh -c "$KEEL_SEQ --fix" > "$OUT-fix.log" 2>&1 || rc=$?
  [ "$rc" = 0 ] || { echo "error: \`keel sequences --fix\` exited $rc (output: $OUT-fix.log):" >&2; tail -20 "$OUT-fix.log" >&2; exit 1; }
  verify "$DB" "$N" || { echo "error: after \`keel sequences --fix\`, not every sequence of $DB hands out max(id) + 1" >&2; exit 1; }
  rc=0; sh -c "$KEEL_SEQ" > "$OUT-recheck.log" 2>&1 || rc=$?
  [ "$rc" = 0 ] || { echo "error: \`keel sequences\` after --fix exited $rc, expected 0 (output: $OUT-recheck.log):" >&2; tail -20 "$OUT-recheck.log" >&2; exit 1; }
  want=$($PSQL -d "$DB" -tA -c "SELECT max(id) + 1 FROM t00001")
  got=$($PSQL -d "$DB" -tA -c "INSERT INTO t00001 (v) VALUES (0) RETURNING id")
  [ "$got" = "$want" ] || { echo "error: after \`keel sequences --fix\`, INSERT INTO t00001 without an id got id $got, expected $want" >&2; exit 1; }
  echo "verified: keel sequences --fix left all $N sequences handing out max(id) + 1; a recheck exits 0; INSERT got id $got" >&2
  drop_db "$DB"

  python3 - "$OUT.txt" "$N" "$RUNS" "$BATCH" <<'PY'
import sys
m = {l.split()[0]: float(l.split()[1]) for l in open(sys.argv[1]) if l.strip()}
n, runs, batch = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
print(f"\nsequences: {n:,} tables, every sequence behind (medians of {runs} interleaved runs)")
for name, label in (("keel-check", "keel sequences"), ("keel-fix", "keel sequences --fix"),
                    ("do-block", "DO block (floor)"), ("per-table-1tx", "per-table setval, 1 tx" + (f" per {batch:,}" if n > batch else ""))):
    print(f"  {label:<34} {m[name]:9.1f} ms")
for a, b, goal in (("keel-fix", "do-block", "goal <= 1.3"), ("keel-check", "do-block", "goal <= 1.0"),
                   ("keel-fix", "per-table-1tx", "")):
    r = m[a] / m[b]
    print(f"  {a + ' / ' + b:<34} {r:9.2f}x  {goal}")
PY
done

# growth from the smallest N to the largest: linear is the ratio of the Ns
python3 - "$RESULTS" "${NS[@]}" <<'PY'
import sys
results, ns = sys.argv[1], sorted({int(n) for n in sys.argv[2:]})
if len(ns) < 2:
    sys.exit(0)
lo, hi = ns[0], ns[-1]
def medians(n):
    return {l.split()[0]: float(l.split()[1]) for l in open(f"{results}/keel-sequences-{n}.txt") if l.strip()}
a, b = medians(lo), medians(hi)
print(f"\ngrowth from {lo:,} to {hi:,} tables (ratio of medians; linear = {hi / lo:.1f}x)")
for name in ("keel-fix", "keel-check", "do-block"):
    print(f"  {name:<14} {a[name]:9.1f} ms -> {b[name]:9.1f} ms   {b[name] / a[name]:6.1f}x")
print("  goal: keel grows no worse than linearly; the DO block shows how much the server alone adds")
PY
