#!/usr/bin/env bash
# Capture cost and daemon footprint.
#
# 1. With N processes (default 1,000) under one tracked bash shell in tmux, in the same
#    run (hyperfine when installed, else a timed loop), each as a program of its own:
#    `ps -eo pid,ppid,lstart,args`; the /proc pass of a save alone (benches/proc_pass.rs:
#    the stat of every process, then status, argv, cwd and the environment of the
#    shell's tree, through the module `snap save` uses); and the whole `snap save`. snap
#    reads more than ps (cwd, environment of job leaders, the journal, tmux) and writes
#    the snapshot atomically; the figures are ratios to ps.
# 2. The daemon idle for SECONDS (default 60) on a schedule that does not fire: its
#    resident memory and the CPU time it used.
#
# Usage: benches/capture.sh [N_PROCESSES] [IDLE_SECONDS]   (builds release binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
idle=${2:-60}
bin=$PWD/target/release/snap
cargo build --release --quiet # a stale binary would measure old code
pass=$(cargo bench --bench proc_pass --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    j = json.loads(line)
    if j.get("reason") == "compiler-artifact" and j["target"]["name"] == "proc_pass" and j.get("executable"):
        print(j["executable"])')
work=$(mktemp -d)
export HOME=$work/home SNAP_HOME=$work/snap TMUX_TMPDIR=$work/tmux
mkdir -p "$HOME" "$TMUX_TMPDIR"
cleanup() {
    # The jobs first: they can outlive their shell when the tmux server goes.
    [[ -n ${shell_pid-} ]] && pkill -P "$shell_pid" 2>/dev/null || true
    tmux kill-server 2>/dev/null || true
    # The daemon takes a snapshot as it stops: let it finish before the store goes.
    if [[ -n ${daemon_pid-} ]] && kill "$daemon_pid" 2>/dev/null; then
        wait "$daemon_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
printf 'PS1="READY> "\neval "$(%q init bash)"\n' "$bin" >"$HOME/.bashrc"
# A file of N jobs (sleep processes) started from the tracked shell.
for ((i = 0; i < n; i++)); do echo "sleep 900 &"; done >"$work/jobs"

tmux -f /dev/null new-session -d -s bench -x 200 -y 50 "bash --rcfile $HOME/.bashrc -i"
until tmux capture-pane -p -t bench | grep -q 'READY>'; do sleep 0.1; done
tmux send-keys -t bench "source $work/jobs >/dev/null 2>&1; clear" Enter
shell_pid=$(tmux display-message -p -t bench '#{pane_pid}')
until (($(pgrep -c -P "$shell_pid" sleep || true) >= n)); do sleep 0.2; done
echo "processes under the tracked shell: $(pgrep -c -P "$shell_pid")"
"$bin" save >/dev/null # warm up, and check it works
"$pass" "$shell_pid"

runs=15
if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/h.json" \
        "ps -eo pid,ppid,lstart,args" "$pass $shell_pid" "$bin save" >&2
    python3 - "$work/h.json" <<'EOF'
import json, sys
ps, scan, save = (x["median"] for x in json.load(open(sys.argv[1]))["results"])
print(f"ps median {ps*1000:.1f} ms; /proc pass median {scan*1000:.1f} ms, {scan/ps:.2f}x; "
      f"snap save median {save*1000:.1f} ms, {save/ps:.2f}x")
EOF
else
    t() {
        local t0=${EPOCHREALTIME/./}
        for ((i = 0; i < runs; i++)); do "$@" >/dev/null; done
        echo $(((${EPOCHREALTIME/./} - t0) / runs))
    }
    ps_us=$(t ps -eo pid,ppid,lstart,args)
    scan_us=$(t "$pass" "$shell_pid")
    snap_us=$(t "$bin" save)
    ratio() { python3 -c "print(f'{$1/$ps_us:.2f}')"; }
    echo "ps mean $((ps_us / 1000)) ms; /proc pass mean $((scan_us / 1000)) ms, $(ratio "$scan_us")x;" \
        "snap save mean $((snap_us / 1000)) ms, $(ratio "$snap_us")x"
fi
snapshot=$(ls -t "$SNAP_HOME"/snapshots/*.json | head -1)
echo "snapshot size: $(wc -c <"$snapshot") bytes, processes in it: $(python3 -c "
import json,sys; s=json.load(open('$snapshot')); print(sum(len(sh['processes']) for se in s['sessions'] for sh in se['shells']))")"

pkill -P "$shell_pid" 2>/dev/null || true
tmux kill-server
"$bin" daemon run --schedule "0 0 0 1 1 *" 2>/dev/null &
daemon_pid=$!
until "$bin" daemon status --json | grep -q '"running": true'; do sleep 0.1; done
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$daemon_pid/stat"; }
c0=$(cpu)
sleep "$idle"
c1=$(cpu)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$daemon_pid/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$daemon_pid/status")
echo "daemon idle ${idle} s: RSS ${rss} kB (peak ${hwm} kB), CPU $(((c1 - c0) * 1000 / ticks)) ms"
