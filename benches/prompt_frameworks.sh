#!/usr/bin/env bash
# snap's added per-prompt cost inside prompt frameworks against its added cost in the
# plain shell (target: at most 2x): bash with bash-preexec, zsh with oh-my-zsh
# (robbyrussell theme, git plugin), both from ../shared/fixtures (or $SNAP_FIXTURES).
# Each shell runs in a pty (bash-preexec hooks in only when stdout is a terminal), fed
# N commands (nine in ten `:`, one in ten an export), then `exit`; start-up (the same
# shell fed only `exit`) is measured separately and subtracted. Four rc files per
# shell: plain, plain + snap, framework, framework + snap (snap's line last).
#
# Usage: benches/prompt_frameworks.sh [N_COMMANDS] [RUNS]   (builds target/release/snap)
# shellcheck disable=SC2016
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
runs=${2:-5}
bin=$PWD/target/release/snap
fixtures=${SNAP_FIXTURES:-$PWD/../shared/fixtures}
[[ -d $fixtures ]] || fixtures=/work/shared/fixtures
[[ -d $fixtures ]] || { echo "no fixtures (set SNAP_FIXTURES)" >&2; exit 1; }
cargo build --release --quiet # a stale binary would measure an old hook
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home SNAP_HOME=$work/snap HISTFILE=/dev/null
mkdir -p "$HOME"
cp -R "$fixtures/bash-preexec" "$fixtures/ohmyzsh" "$work/"
cd "$work" # not a git repository: oh-my-zsh's git prompt finds none

for ((i = 0; i < n; i++)); do
    if ((i % 10 == 9)); then echo "export V$i=$i"; else echo ":"; fi
done >"$work/cmds"
echo exit >>"$work/cmds"
echo exit >"$work/none"

# Median of RUNS timed runs of CMD… fed INPUT in a pty.
median() {
    local input=$1 i
    shift
    for ((i = 0; i < runs; i++)); do
        python3 "$OLDPWD/benches/drive_pty.py" "$input" "$@"
    done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# The rc of SHELL for SETUP (plain, framework) with or without snap's line.
rc() {
    local sh=$1 setup=$2 snap=$3
    echo 'PS1="$ "'
    case $sh.$setup in
    bash.framework) echo "source '$work/bash-preexec/bash-preexec.sh'" ;;
    zsh.framework)
        echo "export ZSH='$work/ohmyzsh' ZSH_THEME=robbyrussell DISABLE_AUTO_UPDATE=true"
        echo 'plugins=(git)'
        echo 'source $ZSH/oh-my-zsh.sh'
        ;;
    esac
    [[ $snap == no ]] || printf 'eval "$(%q init %s)"\n' "$bin" "$sh"
}

printf '%-5s %-10s %-5s %12s %14s\n' shell setup snap "start-up µs" "per-prompt µs"
for sh in bash zsh; do
    command -v "$sh" >/dev/null || { echo "$sh not installed: skipped"; continue; }
    declare -A per
    for setup in plain framework; do
        for snap in no yes; do
            dir=$work/$sh.$setup.$snap
            mkdir -p "$dir"
            rc "$sh" "$setup" "$snap" >"$dir/rc"
            cp "$dir/rc" "$dir/.zshrc"
            if [[ $sh == bash ]]; then
                cmd=(bash --rcfile "$dir/rc" -i)
            else
                cmd=(env ZDOTDIR="$dir" zsh -i)
            fi
            s=$(median "$work/none" "${cmd[@]}")
            f=$(median "$work/cmds" "${cmd[@]}")
            per[$setup.$snap]=$(awk -v f="$f" -v s="$s" -v n="$n" 'BEGIN {printf "%.2f", (f - s) / n}')
            printf '%-5s %-10s %-5s %12s %14s\n' "$sh" "$setup" "$snap" "$s" "${per[$setup.$snap]}"
        done
    done
    name=$([[ $sh == bash ]] && echo bash-preexec || echo oh-my-zsh)
    awk -v pn="${per[plain.no]}" -v py="${per[plain.yes]}" -v fn="${per[framework.no]}" -v fy="${per[framework.yes]}" \
        -v sh="$sh" -v fw="$name" 'BEGIN {
        plain = py - pn; fw_added = fy - fn
        printf "%s: snap adds %.2f µs per prompt plain, %.2f µs under %s: %.2fx (target <= 2)\n",
            sh, plain, fw_added, fw, (plain > 0 ? fw_added / plain : 0) }'
    unset per
done
