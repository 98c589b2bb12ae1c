#!/usr/bin/env bash
# Fuzzes keel's parsers with cargo-fuzz (libFuzzer): the statement
# splitter, migration folder/file-name parsing, `-- keel:` directives and
# database URLs / settings. The targets live in fuzz/ (a workspace of their
# own, so the main workspace never builds them) and call keel::fuzzing.
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]     default: all, 600 s each
#
# Installs cargo-fuzz (crates.io) if missing, seeds fuzz/corpus/ from the
# repository's SQL files, and runs one target at a time at low priority
# (nice 10, one libFuzzer process: the machine's CPUs are shared). Prints each target's executions and
# wall time; a crash leaves its input in fuzz/artifacts/TARGET/ and makes
# the script exit 1 (turn the input into a unit test next to the parser).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-all}"
seconds="${2:-600}"
all=(split files directives url)

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

max_len() {
    case "$1" in
        split | files) echo 8192 ;;
        directives) echo 4096 ;;
        *) echo 1024 ;;
    esac
}

if [[ "$target" == all ]]; then
    targets=("${all[@]}")
else
    targets=("$target")
fi

# KEEL_FUZZ_SEEDS: more folders of .sql files to seed from (space-separated)
# shellcheck disable=SC2086
python3 fuzz/seed.py ${KEEL_FUZZ_SEEDS:-}
build=()
[[ "$target" != all ]] && build=("$target")
(cd fuzz && nice -n 10 cargo +nightly fuzz build -s none -a "${build[@]}")
failed=0
summary=()
for t in "${targets[@]}"; do
    log="fuzz/$t.log"
    start=$(date +%s)
    set +e
    (cd fuzz && nice -n 10 cargo +nightly fuzz run -s none -a "$t" -- \
        -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1) >"$log" 2>&1
    rc=$?
    set -e
    end=$(date +%s)
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
    cov=$(grep -oE '#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)
    line="$t: ${runs:-?} executions in $((end - start)) s wall ($cov), exit $rc"
    if [[ $rc -ne 0 ]]; then
        failed=1
        line="$line: FAILED, see $log and fuzz/artifacts/$t/"
    fi
    echo "$line"
    summary+=("$line")
done
printf '%s\n' "${summary[@]}" >fuzz/last-run.txt
exit "$failed"
