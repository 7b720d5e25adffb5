#!/usr/bin/env bash
# `snap mcp` start-up to its first answer (issue 13: within 50 ms).
#
# Starts `snap mcp` RUNS times in a fresh project directory, writes one `initialize`
# request (protocol 2025-11-25) and times until the answer's line is read; the baseline,
# in the same run, is `cat` answering the same line (a process spawn and one pipe round
# trip). Prints the medians and their ratio.
#
# Usage: benches/mcp_start.sh [RUNS]     (default 50; release build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
cargo build --release --quiet
snap=$PWD/target/release/snap
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/project" "$work/home"
export SNAP_HOME=$work/snap HOME=$work/home
cd "$work/project"
python3 - "$snap" "$runs" <<'PY'
import json, statistics, subprocess, sys, time
snap, runs = sys.argv[1], int(sys.argv[2])
init = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {},
    "clientInfo": {"name": "bench", "version": "0"}}}) + "\n"
def first_answer(argv):
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    p.stdin.write(init.encode()); p.stdin.flush()
    line = p.stdout.readline()
    took = time.perf_counter() - t
    p.stdin.close(); p.wait()
    assert line.strip(), f"{argv[0]} gave no answer"
    return took * 1000
for argv in ([snap, "mcp"], ["cat"]):
    first_answer(argv)  # warm-up
snap_ms = statistics.median(first_answer([snap, "mcp"]) for _ in range(runs))
cat_ms = statistics.median(first_answer(["cat"]) for _ in range(runs))
print(f"snap mcp first answer: median {snap_ms:.2f} ms over {runs} runs (target <= 50 ms)")
print(f"baseline (cat echoes the line): median {cat_ms:.2f} ms")
print(f"ratio: {snap_ms / cat_ms:.2f}x")
PY
