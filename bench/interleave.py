#!/usr/bin/env python3
"""Times several commands side by side, interleaved: every round runs each
command once, in a shuffled order, each after its own untimed prepare step.
On a shared machine, background load then falls on every tool alike instead
of on whichever one happened to run during it (as it does when one tool's
runs all come before the next tool's).

Usage: interleave.py --runs N [--warmup W] [--json OUT] \\
           NAME 'PREPARE' 'COMMAND'  [NAME 'PREPARE' 'COMMAND' ...]
PREPARE may be '' for none. Commands run through `sh -c`; a command that
fails stops the benchmark with its output. Prints one line per command:
NAME median_ms min_ms max_ms; --json writes every time.
"""
import argparse
import json
import random
import statistics
import subprocess
import sys
import time


def run(cmd, timed):
    start = time.perf_counter()
    done = subprocess.run(["sh", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(f"error: `{cmd}` exited {done.returncode}:\n{done.stdout.decode(errors='replace')}\n")
        sys.exit(1)
    return elapsed if timed else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--json")
    parser.add_argument("triples", nargs="+")
    args = parser.parse_args()
    if len(args.triples) % 3:
        parser.error("give NAME PREPARE COMMAND triples")
    tools = [tuple(args.triples[i:i + 3]) for i in range(0, len(args.triples), 3)]
    times = {name: [] for name, _, _ in tools}
    rng = random.Random(7)
    for round_no in range(args.warmup + args.runs):
        order = tools[:]
        rng.shuffle(order)
        for name, prepare, command in order:
            if prepare:
                run(prepare, False)
            elapsed = run(command, True)
            if round_no >= args.warmup:
                times[name].append(elapsed)
    for name, _, _ in tools:
        t = times[name]
        print(f"{name} {statistics.median(t) * 1000:.2f} {min(t) * 1000:.2f} {max(t) * 1000:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(times, f)


if __name__ == "__main__":
    main()
