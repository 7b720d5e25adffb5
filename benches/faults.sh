#!/usr/bin/env bash
# The fault suite's long runs (issue 7): the same tests CI runs, with the long counts
# (SNAP_FAULTS_LONG=1: 200 shells x 500 commands under the daemon, 300 kill -9 of
# `snap save`, 50 kill -9 of the daemon, a 30 s SIGSTOP), in release mode, then the
# fuzzers with PROPTEST_CASES cases each (default 100000). Prints the FIGURE lines that
# RELIABILITY.md quotes (a test's figures may share a line with its name). Any count can be set alone: SNAP_FAULTS_SAVE_KILLS=1000 ...
# Replay a random run with the SNAP_FAULTS_SEED it printed.
#
#   benches/faults.sh            # everything (about 10 minutes on 2 cores)
#   benches/faults.sh fuzz       # the fuzzers only
set -euo pipefail
cd "$(dirname "$0")/.."
export SNAP_FAULTS_LONG=1 SNAP_TEST_STRICT=1
export PROPTEST_CASES=${PROPTEST_CASES:-100000}
log=$(mktemp -t snap-faults.XXXXXX)
trap 'rm -f "$log"' EXIT
start=$SECONDS
if [[ ${1-} != fuzz ]]; then
    cargo test --release --test faults --test fault_mounts --test fault_hostile \
        -- --nocapture --test-threads=1 2>&1 | tee "$log"
fi
cargo test --release --bin snap fuzz_tests -- --nocapture 2>&1 | tee -a "$log"
fuzzers=$(grep -c '^test fuzz_tests::.* ok$' "$log" || true)
echo
echo "== figures ($((SECONDS - start)) s, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
{ grep -o 'FIGURE .*' "$log" || true; } | sort -u
echo "FIGURE fuzz: $fuzzers properties x $PROPTEST_CASES cases each, no panic, no failure"
if grep -q '^test result: FAILED' "$log"; then
    echo "faults.sh: FAILED" >&2
    exit 1
fi
