#!/usr/bin/env bash
# How everyday commands scale with everything ever recorded (issue 14, Benchmark).
#
# Grows a store with real hooked `bash -i` shells, each fed 200 builtin commands
# (`echo scale-N-I >/dev/null`) on stdin, 10 shells at a time, over 20 sessions, with one
# `snap save` per 100 shells, while one live hooked bash waits in tmux (session `live`).
# At each size (shells recorded, the live one apart) it times, median of RUNS runs:
#   start-up   a new hooked `bash -i` on a pty (rc, `snap shell-start`, the notice),
#              one `exit`; the same shell without the hook is printed beside it
#   history    `snap history --all -n 20`
#   search     `snap history --all --search WORD -n 20`
#   sessions   `snap sessions --json --session live`
#   save       `snap save`
#   brief      `snap brief live`
#   list       `snap list`
# and the newest snapshot's size; at the largest size also `snap reindex` from scratch.
# Then each figure as a ratio to the smallest size's (targets: at most 1.5x from 20 to
# 5,000 shells; one live shell's snapshot under 200 KB; history under 20 ms at 5,000).
#
# Usage: benches/scale.sh [SIZE...]     (default: 20 1000 5000; sizes ascending)
#        SCALE_RUNS=7 (runs per figure), BENCH_KEEP=1 (keep the store)
# Needs: bash, tmux, script and setsid (util-linux). Builds the release binary.
set -euo pipefail
[[ -z ${BENCH_TRACE-} ]] || set -x
cd "$(dirname "$0")/.."
sizes=("$@")
((${#sizes[@]})) || sizes=(20 1000 5000)
runs=${SCALE_RUNS:-7}
sessions=20 batch=10 save_every=100 commands=200
cargo build --release --quiet # a stale binary would measure old code
bin=$PWD/target/release/snap
work=$(mktemp -d)
export HOME=$work/home SNAP_HOME=$work/snap TMUX_TMPDIR=$work/tmux HISTFILE=/dev/null
unset SNAP_SHELL_ID SNAP_SESSION TMUX CLAUDECODE
mkdir -p "$HOME" "$TMUX_TMPDIR" "$work/live" "$work/scripts"
trap 'tmux kill-server 2>/dev/null || true; [[ -n ${BENCH_KEEP-} ]] || rm -rf "$work"' EXIT
rc=$HOME/.bashrc plain=$work/plain.bashrc
# shellcheck disable=SC2016 # expanded by the shells that read the rc
printf 'PS1="READY> "\neval "$(%q init bash)"\n' "$bin" >"$rc"
printf 'PS1="READY> "\n' >"$plain"

now() { echo "${EPOCHREALTIME/./}"; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Median time (µs) of running "$@" RUNS times, output discarded; a failure stops the run.
timed() {
    local t=() t0 i
    for ((i = 0; i < runs; i++)); do
        t0=$(now)
        "$@" >/dev/null 2>"$work/err" || { echo "scale.sh: $* failed:" >&2; cat "$work/err" >&2; exit 1; }
        t+=($(($(now) - t0)))
    done
    median "${t[@]}"
}
# A new interactive bash on a pty of its own (so the notice has a terminal), stdin a pipe.
new_shell() { script -qec "echo exit | bash --rcfile $1 -i" /dev/null; }

# The live shell, in tmux, with a few commands of its own.
tmux -f /dev/null new-session -d -s live -x 200 -y 50 -c "$work/live" "bash --rcfile $rc -i"
until tmux capture-pane -p -t live | grep -q 'READY>'; do sleep 0.1; done
tmux send-keys -t live 'echo live-1; echo live-2' Enter

recorded=0
# Shells N..N+count-1, each in session grow-(N mod 20), fed its script on stdin.
grow_batch() {
    local first=$1 count=$2 n pids=()
    for ((n = first; n < first + count; n++)); do
        local script=$work/scripts/$n
        seq -f "echo scale-$n-%g >/dev/null" "$commands" >"$script"
        echo exit >>"$script"
        # No terminal of their own (setsid): the new-shell notice has none to speak on.
        SNAP_SESSION=grow-$((n % sessions)) setsid bash --rcfile "$rc" -i <"$script" >/dev/null 2>&1 &
        pids+=($!)
    done
    wait "${pids[@]}"
    rm -f "$work"/scripts/*
}
grow_to() {
    local target=$1 count
    while ((recorded < target)); do
        count=$((target - recorded < batch ? target - recorded : batch))
        grow_batch "$recorded" "$count"
        recorded=$((recorded + count))
        ((recorded % save_every)) || "$bin" save >/dev/null
    done
}

declare -A fig
names=(startup plain history search sessions save brief list snapshot)
for size in "${sizes[@]}"; do
    echo "growing the store to $size shells..." >&2
    grow_to "$size"
    "$bin" save >/dev/null # the store settled: a previous snapshot of every session
    fig[$size, startup]=$(timed new_shell "$rc")
    fig[$size, plain]=$(timed new_shell "$plain")
    fig[$size, history]=$(timed "$bin" history --all -n 20)
    fig[$size, search]=$(timed "$bin" history --all --search "scale-7-19" -n 20)
    fig[$size, sessions]=$(timed "$bin" sessions --json --session live)
    fig[$size, save]=$(timed "$bin" save)
    fig[$size, brief]=$(timed "$bin" brief live)
    fig[$size, list]=$(timed "$bin" list)
    newest=$(find "$SNAP_HOME/snapshots" -maxdepth 1 -name '*.json' ! -name '.*' | sort | tail -1)
    fig[$size, snapshot]=$(stat -c %s "$newest")
    store=$(du -sh "$SNAP_HOME" | cut -f1)
    commands_in=$("$bin" history --all --json | grep -c '"command": "echo scale-' || true)
    echo "size $size: store $store, $commands_in commands of the grown shells in the history" >&2
done

largest=${sizes[-1]} smallest=${sizes[0]}
mv "$SNAP_HOME/index.db" "$work/index.db.was"
rm -f "$SNAP_HOME/index.db-wal" "$SNAP_HOME/index.db-shm"
t0=$(now)
"$bin" reindex >/dev/null
reindex=$(($(now) - t0))

printf '\n%-10s' "shells"
for n in "${names[@]}"; do printf ' %12s' "$n"; done
printf '\n'
for size in "${sizes[@]}"; do
    printf '%-10s' "$size"
    for n in "${names[@]}"; do
        if [[ $n == snapshot ]]; then
            printf ' %10.1fKB' "$(awk -v b="${fig[$size, $n]}" 'BEGIN {print b/1024}')"
        else
            printf ' %10.1fms' "$(awk -v u="${fig[$size, $n]}" 'BEGIN {print u/1000}')"
        fi
    done
    printf '\n'
done
printf '%-10s' "ratio"
for n in "${names[@]}"; do
    printf ' %11.2fx' "$(awk -v a="${fig[$largest, $n]}" -v b="${fig[$smallest, $n]}" 'BEGIN {print a/b}')"
done
printf '   (%s to %s shells; targets: <= 1.5x, snapshot < 200 KB)\n' "$smallest" "$largest"
printf 'reindex from scratch at %s shells: %.0f ms\n' "$largest" "$(awk -v u="$reindex" 'BEGIN {print u/1000}')"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (measure with nothing else running)"
