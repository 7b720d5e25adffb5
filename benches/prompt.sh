#!/usr/bin/env bash
# Per-prompt cost of snap's hook in bash and zsh, against the bare shell, against a
# hook that spawns /bin/true once per prompt (the floor of any hook that runs a binary)
# and against the floor of a builtins-only hook (benches/floor.*rc: a start and an end
# record per command, and nothing else), all measured in the same run. Commands are piped into `SHELL -i`: nine in ten are `:`,
# one in ten exports a variable. Start-up (the same shells fed no command) is measured
# separately and subtracted from the per-prompt figure.
#
# Usage: benches/prompt.sh [N_COMMANDS] [RUNS]     (builds target/release/snap first)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
runs=${2:-7}
bin=$PWD/target/release/snap
cargo build --release --quiet # a stale binary would measure an old hook
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home SNAP_HOME=$work/snap HISTFILE=/dev/null
mkdir -p "$HOME"

for ((i = 0; i < n; i++)); do
    if ((i % 10 == 9)); then echo "export V$i=$i"; else echo ":"; fi
done >"$work/cmds"
: >"$work/none"

# rc files: bare, spawn (/bin/true per prompt), floor (two records, nothing else), snap
export FLOOR_JOURNAL=$work/floor.journal
for sh in bash zsh; do
    printf 'PS1="$ "\n' >"$work/$sh.bare"
    cp "$work/$sh.bare" "$work/$sh.spawn"
    cp "$work/$sh.bare" "$work/$sh.snap"
    cp "benches/floor.${sh}rc" "$work/$sh.floor"
    printf 'eval "$(%q init %s)"\n' "$bin" "$sh" >>"$work/$sh.snap"
done
printf 'PROMPT_COMMAND=/bin/true\n' >>"$work/bash.spawn"
printf 'precmd() { /bin/true; }\n' >>"$work/zsh.spawn"

# One timed run: microseconds for SHELL with RC fed INPUT.
run() {
    local sh=$1 rc=$2 input=$3 t0 t1
    t0=${EPOCHREALTIME/./}
    case $sh in
    bash) bash --rcfile "$rc" -i <"$input" >/dev/null 2>&1 ;;
    zsh) ZDOTDIR=$work/zdot.$(basename "$rc") zsh -i <"$input" >/dev/null 2>&1 ;;
    esac
    t1=${EPOCHREALTIME/./}
    echo $((t1 - t0))
}

# Median of RUNS timed runs.
median() {
    local sh=$1 rc=$2 input=$3 i
    for ((i = 0; i < runs; i++)); do run "$sh" "$rc" "$input"; done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

printf '%-5s %-6s %12s %12s %14s\n' shell hook "start-up µs" "per-prompt µs" "added µs"
for sh in bash zsh; do
    command -v "$sh" >/dev/null || { echo "$sh not installed: skipped"; continue; }
    declare -A per start
    for hook in bare spawn floor snap; do
        rc=$work/$sh.$hook
        if [[ $sh == zsh ]]; then
            mkdir -p "$work/zdot.$sh.$hook"
            cp "$rc" "$work/zdot.$sh.$hook/.zshrc"
        fi
        s=$(median "$sh" "$rc" "$work/none")
        f=$(median "$sh" "$rc" "$work/cmds")
        start[$hook]=$s
        per[$hook]=$(awk -v f="$f" -v s="$s" -v n="$n" 'BEGIN {printf "%.2f", (f - s) / n}')
        added=$(awk -v a="${per[$hook]}" -v b="${per[bare]}" 'BEGIN {printf "%.2f", a - b}')
        printf '%-5s %-6s %12s %12s %14s\n' "$sh" "$hook" "$s" "${per[$hook]}" "$added"
    done
    awk -v snap="${per[snap]}" -v spawn="${per[spawn]}" -v bare="${per[bare]}" -v floor="${per[floor]}" -v ss="${start[snap]}" -v sb="${start[bare]}" -v sh="$sh" 'BEGIN {
        printf "%s: snap adds %.3f of one process spawn per prompt (target <= 0.1); start-up +%.1f ms (target <= 10)\n",
            sh, (snap - bare) / (spawn - bare), (ss - sb) / 1000
        printf "%s: the two-record floor adds %.3f of one process spawn per prompt\n", sh, (floor - bare) / (spawn - bare) }'
    unset per start
done
