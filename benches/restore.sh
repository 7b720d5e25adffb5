#!/usr/bin/env bash
# Restore speed: from `snap restore NAME --yes --no-attach` until every window exists
# and every relaunched command has started (three dev servers answering on their ports),
# for 3 shells and 3 processes, against a script issuing the same tmux commands
# directly (the floor), measured in the same run.
#
# Usage: benches/restore.sh [RUNS]        (needs: tmux, python3; builds a release binary)
set -euo pipefail
[[ -z ${BENCH_TRACE-} ]] || set -x
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release --quiet # a stale binary would measure old code
bin=$PWD/target/release/snap
work=$(mktemp -d)
export HOME=$work/home SNAP_HOME=$work/snap TMUX_TMPDIR=$work/tmux HISTFILE=/dev/null
mkdir -p "$HOME" "$TMUX_TMPDIR"
trap 'tmux kill-server 2>/dev/null || true; [[ -n ${BENCH_KEEP-} ]] || rm -rf "$work"' EXIT
printf 'PS1="$ "\neval "$(%q init bash)"\n' "$bin" >"$HOME/.bashrc"
ports=()
for _ in 1 2 3; do ports+=("$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"); done

now() { echo "${EPOCHREALTIME/./}"; }
answering() { for p in "${ports[@]}"; do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || return 1; done; }
wait_answering() {
    local deadline=$(($(now) + 30000000))
    until answering; do
        (($(now) < deadline)) || { echo "restore.sh: servers did not answer within 30 s; see $work/restore.log" >&2; cat "$work/restore.log" >&2; exit 1; }
        sleep 0.005
    done
}
any_answering() { for p in "${ports[@]}"; do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0; done; return 1; }
wait_dead() { while any_answering; do sleep 0.01; done; sleep 0.5; }
server() { echo "python3 -m http.server $1 --bind 127.0.0.1"; }

# The session to restore: three windows, each a hooked bash running a dev server.
tmux new-session -d -s bench -n w0 -x 200 -y 50 "bash -i"
tmux new-window -t bench: -n w1 "bash -i"
tmux new-window -t bench: -n w2 "bash -i"
sleep 1
for i in 0 1 2; do tmux send-keys -t "bench:w$i" "$(server "${ports[$i]}")" Enter; done
wait_answering
sleep 0.5
"$bin" save >/dev/null

snap_times=() floor_times=()
for ((r = 0; r < runs; r++)); do
    tmux kill-server; wait_dead
    t0=$(now)
    "$bin" restore bench --yes --no-attach >"$work/restore.log" 2>&1
    wait_answering
    t1=$(now)
    snap_times+=($((t1 - t0)))

    tmux kill-server; wait_dead
    t0=$(now)
    tmux new-session -d -s floor -n w0 -x 200 -y 50 "bash -i"
    tmux new-window -t floor: -n w1 "bash -i"
    tmux new-window -t floor: -n w2 "bash -i"
    for i in 0 1 2; do tmux send-keys -t "floor:w$i" "$(server "${ports[$i]}")" Enter; done
    wait_answering
    t1=$(now)
    floor_times+=($((t1 - t0)))
    tmux kill-session -t floor; wait_dead
    # Back to the session snap restores from.
    "$bin" restore bench --yes --no-attach >"$work/restore.log" 2>&1
    wait_answering
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
s=$(median "${snap_times[@]}")
f=$(median "${floor_times[@]}")
awk -v s="$s" -v f="$f" -v n="$runs" 'BEGIN {
    printf "restore to 3 servers answering, median of %d: snap %.0f ms, direct tmux script %.0f ms, ratio %.2f (target <= 3)\n", n, s/1000, f/1000, s/f }'
