#!/usr/bin/env bash
# Page faults per prompt under bash-preexec, with and without snap's line: the figure
# that explains snap's cost there (bash-preexec forks at every command, so every heap
# page bash writes afterwards faults once), and one that repeats within 1 to 2 at any
# load, unlike times. Each rc runs in a pty fed N commands (nine in ten `:`, one in ten
# an export), start-up (the shell fed only `exit`) subtracted, whole process tree,
# under four environments of different sizes (0, 7, 23, 51 extra variables): the heap's
# layout, and so the count, moves with them by up to 10.
#
# Usage: benches/prompt_faults.sh [N_COMMANDS]   (needs perf; builds target/release/snap)
# shellcheck disable=SC2016
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
bin=$PWD/target/release/snap
driver=$PWD/benches/drive_pty.py
fixtures=${SNAP_FIXTURES:-$PWD/../shared/fixtures}
[[ -d $fixtures ]] || fixtures=/work/shared/fixtures
[[ -d $fixtures ]] || { echo "no fixtures (set SNAP_FIXTURES)" >&2; exit 1; }
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home SNAP_HOME=$work/snap HISTFILE=/dev/null
mkdir -p "$HOME"
cp -R "$fixtures/bash-preexec" "$work/"
cd "$work"
for ((i = 0; i < n; i++)); do
    if ((i % 10 == 9)); then echo "export V$i=$i"; else echo ":"; fi
done >cmds
echo exit >>cmds
echo exit >none
printf 'PS1="$ "\nsource %q\n' "$work/bash-preexec/bash-preexec.sh" >rc.bp
{ cat rc.bp; printf 'eval "$(%q init bash)"\n' "$bin"; } >rc.snap

# Page faults of one run of bash with RC fed INPUT, in the environment given as args.
faults() {
    local rc=$1 input=$2
    shift 2
    env "$@" perf stat -x, -e page-faults -o "$work/stat" python3 "$driver" "$input" bash --rcfile "$rc" -i >/dev/null
    grep page-faults "$work/stat" | cut -d, -f1
}

printf '%-22s %8s %8s %8s %8s %8s\n' rc "+0 vars" "+7" "+23" "+51" mean
for rc in bp snap; do
    line='' sum=0
    for k in 0 7 23 51; do
        vars=()
        for ((i = 0; i < k; i++)); do vars+=("BENCH_PAD_$i=$(printf '%*s' $((i * 3 + 1)) '' | tr ' ' x)"); done
        s=$(faults "rc.$rc" none "${vars[@]}")
        f=$(faults "rc.$rc" cmds "${vars[@]}")
        v=$(awk -v f="$f" -v s="$s" -v n="$n" 'BEGIN {printf "%.1f", (f - s) / n}')
        line+=$(printf ' %8s' "$v")
        sum=$(awk -v a="$sum" -v b="$v" 'BEGIN {print a + b}')
    done
    printf '%-22s%s %8.1f\n' "bash-preexec$([[ $rc == snap ]] && echo ' + snap')" "$line" "$(awk -v s="$sum" 'BEGIN {print s / 4}')"
done
