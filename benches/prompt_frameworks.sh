#!/usr/bin/env bash
# snap's added per-prompt cost inside prompt frameworks against its added cost in the
# plain shell (target: at most 2x): bash with bash-preexec, zsh with oh-my-zsh
# (robbyrussell theme, git plugin), both from ../shared/fixtures (or $SNAP_FIXTURES).
# Each shell runs in a pty (bash-preexec hooks in only when stdout is a terminal), fed
# N commands (nine in ten `:`, one in ten an export), then `exit`; start-up (the same
# shell fed only `exit`) is measured separately and subtracted. Four rc files per
# shell: plain, plain + snap, framework, framework + snap (snap's line last), run in
# turn in each of RUNS rounds (every other one in reverse); medians, and the mean of
# what snap adds within each round with its standard error (the figure to quote: use
# 30 rounds or more). Two clocks: wall time, and CPU time (user +
# system of the shell and all it waited for, which a busy second core or a slow wake-up
# after each fork sways far less).
#
# Usage: [BENCH_SHELLS="bash zsh"] benches/prompt_frameworks.sh [N_COMMANDS] [RUNS]
# (builds target/release/snap)
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

# One run of CMD… fed INPUT in a pty: "wall cpu" in µs.
run() {
    python3 "$OLDPWD/benches/drive_pty.py" "$@"
}

# The median of the numbers on stdin.
median() {
    sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

printf '%-5s %-10s %-5s %14s %14s %14s\n' shell setup snap "start-up µs" "wall µs/prompt" "CPU µs/prompt"
for sh in ${BENCH_SHELLS:-bash zsh}; do
    command -v "$sh" >/dev/null || { echo "$sh not installed: skipped"; continue; }
    configs=(plain.no plain.yes framework.no framework.yes)
    declare -A cmd
    for c in "${configs[@]}"; do
        dir=$work/$sh.$c
        mkdir -p "$dir"
        rc "$sh" "${c%.*}" "${c#*.}" >"$dir/rc"
        cp "$dir/rc" "$dir/.zshrc"
        if [[ $sh == bash ]]; then
            cmd[$c]="bash --rcfile $dir/rc -i"
        else
            cmd[$c]="env ZDOTDIR=$dir zsh -i"
        fi
        : >"$dir/start"
        : >"$dir/wall"
        : >"$dir/cpu"
    done
    # Rounds, each running every configuration once (start-up, then N commands), so
    # that the machine's drift reaches all four alike; every other round in reverse
    # order, so that a drift within a round favours neither side of a pair.
    for ((r = 0; r < runs; r++)); do
        order=("${configs[@]}")
        if ((r % 2)); then
            order=()
            for ((i = ${#configs[@]} - 1; i >= 0; i--)); do order+=("${configs[i]}"); done
        fi
        for c in "${order[@]}"; do
            dir=$work/$sh.$c
            # shellcheck disable=SC2086
            read -r sw sc < <(run "$work/none" ${cmd[$c]})
            # shellcheck disable=SC2086
            read -r fw fc < <(run "$work/cmds" ${cmd[$c]})
            echo "$sw" >>"$dir/start"
            awk -v f="$fw" -v s="$sw" -v n="$n" 'BEGIN {printf "%.2f\n", (f - s) / n}' >>"$dir/wall"
            awk -v f="$fc" -v s="$sc" -v n="$n" 'BEGIN {printf "%.2f\n", (f - s) / n}' >>"$dir/cpu"
        done
    done
    declare -A wall cpu
    for c in "${configs[@]}"; do
        dir=$work/$sh.$c
        wall[$c]=$(median <"$dir/wall")
        cpu[$c]=$(median <"$dir/cpu")
        printf '%-5s %-10s %-5s %14s %14s %14s\n' "$sh" "${c%.*}" "${c#*.}" "$(median <"$dir/start")" "${wall[$c]}" "${cpu[$c]}"
    done
    name=$([[ $sh == bash ]] && echo bash-preexec || echo oh-my-zsh)
    for clock in wall cpu; do
        declare -n per=$clock
        awk -v pn="${per[plain.no]}" -v py="${per[plain.yes]}" -v fn="${per[framework.no]}" -v fy="${per[framework.yes]}" \
            -v sh="$sh" -v fw="$name" -v clock="$clock" 'BEGIN {
            plain = py - pn; fw_added = fy - fn
            printf "%s (%s): snap adds %.2f µs per prompt plain, %.2f µs under %s: %.2fx (target <= 2)\n",
                sh, clock, plain, fw_added, fw, (plain > 0 ? fw_added / plain : 0) }'
        # Each round's four figures on a line; first the same ratio round by round: how
        # far the machine moved it.
        d=$work/$sh
        paste "$d.plain.no/$clock" "$d.plain.yes/$clock" "$d.framework.no/$clock" "$d.framework.yes/$clock" >"$d.$clock"
        awk '$2 > $1 {print ($4 - $3) / ($2 - $1)}' "$d.$clock" | sort -n |
            awk -v clock="$clock" '{a[NR]=$1} END {if (NR) printf "  (%s) round by round: %.2fx to %.2fx, median %.2fx\n", clock, a[1], a[NR], a[int((NR+1)/2)]}'
        # Paired: what snap adds within each round (both runs of a pair a few seconds
        # apart), as a mean with its standard error; the ratio of the two means with an
        # approximate 95% interval (the errors combined to first order).
        awk -v clock="$clock" -v fw="$name" '
            # The standard error of a mean, from the sum and the sum of squares.
            function se(s, ss) { return sqrt((ss - s * s / n) / (n - 1) / n) }
            {p = $2 - $1; f = $4 - $3; sp += p; spp += p * p; sf += f; sff += f * f; n++}
            END {
                if (n < 2) exit
                mp = sp / n; mf = sf / n; ep = se(sp, spp); ef = se(sf, sff)
                if (mp <= 0) { printf "  (%s) paired, %d rounds: plain %.1f ± %.1f µs: no ratio\n", clock, n, mp, ep; exit }
                r = mf / mp; er = (mf > 0 ? r * sqrt((ef / mf) ^ 2 + (ep / mp) ^ 2) : ef / mp)
                printf "  (%s) paired, %d rounds: snap adds %.1f ± %.1f µs plain, %.1f ± %.1f µs under %s: %.2fx (95%%: %.2fx to %.2fx)\n",
                    clock, n, mp, ep, mf, ef, fw, r, r - 1.96 * er, r + 1.96 * er
            }' "$d.$clock"
        unset -n per
    done
    unset cmd wall cpu
done
