#!/usr/bin/env bash
# Per-prompt cost of snap's hook in fish (driven through a pty: fish fires its events
# only with a terminal) and the floor of any zsh hook (commands piped into `zsh -i`),
# against the bare shell and against a hook that spawns /bin/true once per command, all
# measured in the same run. Nine commands in ten are `:` (fish: `true`), one in ten
# exports a variable. Start-up (the same shells fed only `exit`) is measured separately
# and subtracted. benches/prompt.sh has bash and zsh with snap's hook.
#
# Usage: benches/prompt_zsh_fish.sh [N_COMMANDS] [RUNS]   (builds target/release/snap)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
runs=${2:-5}
bin=$PWD/target/release/snap
cargo build --release --quiet # a stale binary would measure an old hook
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home SNAP_HOME=$work/snap HISTFILE=/dev/null
mkdir -p "$HOME/.local/share/fish/generated_completions"

# Median of RUNS timed runs of: python3 pty.py INPUT CMD…  (or CMD < INPUT with --pipe)
median() {
    local mode=$1 input=$2 i
    shift 2
    for ((i = 0; i < runs; i++)); do
        if [[ $mode == pty ]]; then
            python3 benches/drive_pty.py "$input" "$@"
        else
            local t0=${EPOCHREALTIME/./}
            "$@" <"$input" >/dev/null 2>&1
            echo $((${EPOCHREALTIME/./} - t0))
        fi
    done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

report() { # shell hook start full
    local per
    per=$(awk -v f="$4" -v s="$3" -v n="$n" 'BEGIN {printf "%.2f", (f - s) / n}')
    printf '%-5s %-7s %12s %14s\n' "$1" "$2" "$3" "$per" >&2
    echo "$per"
}

printf '%-5s %-7s %12s %14s\n' shell hook "start-up µs" "per-prompt µs" >&2

if command -v fish >/dev/null; then
    cfg=$HOME/.config/fish
    mkdir -p "$cfg"
    for ((i = 0; i < n; i++)); do
        if ((i % 10 == 9)); then echo "set -gx V$i $i"; else echo "true"; fi
    done >"$work/fish.cmds"
    echo exit >>"$work/fish.cmds"
    echo exit >"$work/fish.none"
    declare -A fper fstart
    for hook in bare spawn snap; do
        {
            echo 'set -g fish_greeting'
            echo "function fish_prompt; printf '> '; end"
            case $hook in
            spawn) echo 'function __t --on-event fish_postexec; /bin/true; end' ;;
            snap) echo "'$bin' init fish | source" ;;
            esac
        } >"$cfg/config.fish"
        fstart[$hook]=$(median pty "$work/fish.none" fish -i)
        full=$(median pty "$work/fish.cmds" fish -i)
        fper[$hook]=$(report fish "$hook" "${fstart[$hook]}" "$full")
    done
    awk -v snap="${fper[snap]}" -v spawn="${fper[spawn]}" -v bare="${fper[bare]}" \
        -v ss="${fstart[snap]}" -v sb="${fstart[bare]}" 'BEGIN {
        printf "fish: snap adds %.3f of one process spawn per command (fish may spawn one); start-up +%.1f ms (target <= 10)\n",
            (snap - bare) / (spawn - bare), (ss - sb) / 1000 }'
fi

if command -v zsh >/dev/null; then
    for ((i = 0; i < n; i++)); do
        if ((i % 10 == 9)); then echo "export V$i=$i"; else echo ":"; fi
    done >"$work/zsh.cmds"
    : >"$work/zsh.none"
    declare -A zper zstart
    for hook in bare empty spawn snap; do
        mkdir -p "$work/zdot.$hook"
        {
            echo 'PS1="$ "'
            case $hook in
            empty) echo 'e1() { : }; e2() { : }; preexec_functions=(e1); precmd_functions=(e2)' ;;
            spawn) echo 'precmd() { /bin/true; }' ;;
            snap) echo "eval \"\$('$bin' init zsh)\"" ;;
            esac
        } >"$work/zdot.$hook/.zshrc"
        zstart[$hook]=$(ZDOTDIR=$work/zdot.$hook median pipe "$work/zsh.none" zsh -i)
        full=$(ZDOTDIR=$work/zdot.$hook median pipe "$work/zsh.cmds" zsh -i)
        zper[$hook]=$(report zsh "$hook" "${zstart[$hook]}" "$full")
    done
    awk -v snap="${zper[snap]}" -v empty="${zper[empty]}" -v spawn="${zper[spawn]}" -v bare="${zper[bare]}" \
        -v ss="${zstart[snap]}" -v sb="${zstart[bare]}" 'BEGIN {
        printf "zsh: snap adds %.3f of one process spawn per prompt (target <= 0.1); an empty preexec+precmd pair alone adds %.3f; start-up +%.1f ms (target <= 10)\n",
            (snap - bare) / (spawn - bare), (empty - bare) / (spawn - bare), (ss - sb) / 1000 }'
fi
