#!/usr/bin/env bash
# install.sh: build snap and set it up for this user (binary, shell hook, completions,
# man page, snapshot daemon). Run it again at any time: it changes only what differs.
# ./install.sh --help tells everything.
set -euo pipefail

# Written for bash 3.2 too (macOS): no mapfile, no empty "${a[@]}" under set -u.

# Nothing here reads standard input; give children a harmless one even when it is closed.
exec </dev/null

readonly MARKER='# snap hook (added by install.sh; remove with: install.sh --uninstall)'
readonly ABOUT='coding session alive across disconnects'

usage() {
    cat <<'EOF'
Usage: ./install.sh [OPTIONS]

Builds snap (cargo build --locked --release) and installs it for this user:
  PREFIX/bin/NAME                                  the binary (default ~/.local/bin/snap)
  one line in ~/.bashrc, ${ZDOTDIR:-~}/.zshrc, ~/.config/fish/config.fish
                                                   (each shell that is installed) that loads
                                                   the hook in interactive shells
  completions for bash, zsh and fish, and the man page NAME(1)
  the snapshot daemon: `NAME daemon install` (systemd user unit or LaunchAgent),
                                                   else `NAME daemon start`
Running it again changes only what differs; the rc line is never duplicated.

Options:
  --prefix DIR   install the binary as DIR/bin/NAME (default: ~/.local)
  --name NAME    install under another name, e.g. when Ubuntu's snapd owns `snap`
  --force        install as `snap` even though another `snap` (snapd) is on PATH
  --no-rc        do not touch shell rc files
  --no-daemon    do not install or start the snapshot daemon
  --uninstall    remove the binary, the rc lines, the daemon's service, the
                 completions and the man page; keeps recorded data
  --purge        with --uninstall: also remove recorded data, state and config
  -h, --help     print this help

Environment:
  CARGO_TARGET_DIR      where cargo builds (default: ./target)
  SNAP_INSTALL_BINARY   testing aid: install this prebuilt binary instead of building

Exit codes: 0 ok, 1 failure, 2 usage error.
EOF
}

say() { printf '%s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }
die() {
    printf 'install.sh: %s\n' "$*" >&2
    exit 1
}
usage_error() {
    printf 'install.sh: %s\nTry: ./install.sh --help\n' "$*" >&2
    exit 2
}

# What was done, printed at the end.
done_list=()
did() { done_list+=("$*"); }

# ---------------------------------------------------------------------- options
name=snap
prefix=${HOME:?HOME is not set}/.local
force=0
no_rc=0
no_daemon=0
uninstall=0
purge=0

while (($# > 0)); do
    case $1 in
    --name | --prefix)
        (($# >= 2)) || usage_error "$1 needs a value"
        if [[ $1 == --name ]]; then name=$2; else prefix=$2; fi
        shift 2
        ;;
    --name=*) name=${1#*=} && shift ;;
    --prefix=*) prefix=${1#*=} && shift ;;
    --force) force=1 && shift ;;
    --no-rc) no_rc=1 && shift ;;
    --no-daemon) no_daemon=1 && shift ;;
    --uninstall) uninstall=1 && shift ;;
    --purge) purge=1 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) usage_error "unknown option: $1" ;;
    esac
done

[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] ||
    usage_error "--name $name: use letters, digits, '.', '_', '+' or '-' (no '/')"
[[ -n $prefix ]] || usage_error "--prefix needs a directory"
((purge == 0 || uninstall == 1)) || usage_error "--purge goes with --uninstall"
[[ $prefix == /* ]] || prefix=$PWD/$prefix

bindir=${prefix%/}/bin
target=$bindir/$name
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
config_home=${XDG_CONFIG_HOME:-$HOME/.config}
bash_rc=$HOME/.bashrc
zsh_rc=${ZDOTDIR:-$HOME}/.zshrc
fish_rc=$config_home/fish/config.fish
bash_comp=${BASH_COMPLETION_USER_DIR:-$data_home/bash-completion}/completions/$name
zsh_comp_dir=$data_home/zsh/site-functions
zsh_comp=$zsh_comp_dir/_$name
fish_comp=$config_home/fish/completions/$name.fish
man_page=$data_home/man/man1/$name.1

# ---------------------------------------------------------------------- helpers
# Is this file a snap binary (ours), rather than snapd or anything else?
is_ours() {
    [[ -f $1 && -x $1 ]] || return 1
    local out
    out=$("$1" --help 2>/dev/null) || return 1
    [[ $out == *"$ABOUT"* ]]
}

# Quote for bash and zsh: 'it'\''s'.
sh_quote() {
    local q=\'\\\'\'
    printf "'%s'" "${1//\'/$q}"
}

# Quote for fish: backslash and quote escaped inside single quotes.
fish_quote() {
    local s=${1//\\/\\\\}
    printf "'%s'" "${s//\'/\\\'}"
}

# The one rc line for a shell, calling the installed binary by its absolute path.
# shellcheck disable=SC2016 # the $(...) is for the rc file, not for us
rc_line() {
    local q
    case $1 in
    bash)
        q=$(sh_quote "$target")
        printf 'if [[ $- == *i* && -x %s ]]; then eval "$(%s init bash)"; fi %s' "$q" "$q" "$MARKER"
        ;;
    zsh)
        q=$(sh_quote "$target")
        printf 'if [[ -o interactive && -x %s ]]; then eval "$(%s init zsh)"; fi %s' "$q" "$q" "$MARKER"
        ;;
    fish)
        q=$(fish_quote "$target")
        printf 'if status is-interactive; and test -x %s; %s init fish | source; end %s' "$q" "$q" "$MARKER"
        ;;
    esac
}

# Write stdin to FILE atomically (temp file beside it, then rename), creating its dir.
write_file() {
    local file=$1 mode=$2 tmp
    mkdir -p -- "$(dirname -- "$file")"
    tmp=$(mktemp "$(dirname -- "$file")/.${file##*/}.XXXXXX")
    if ! cat >"$tmp"; then
        rm -f -- "$tmp"
        return 1
    fi
    chmod "$mode" "$tmp"
    mv -f -- "$tmp" "$file"
}

# Put LINE in RC in place of the marked line (or append it); remove it when LINE is empty.
# A symlinked rc (dotfile managers) is edited at its target; its mode is kept.
# Returns 1 when nothing changed; else says in $rc_change what it did (added, updated).
edit_rc() {
    local rc=$1 line=$2 file tmp
    rc_change=added
    file=$rc
    [[ -L $rc ]] && file=$(readlink -f -- "$rc")
    if [[ ! -e $file ]]; then
        [[ -n $line ]] || return 1
        mkdir -p -- "$(dirname -- "$file")"
        printf '%s\n' "$line" >"$file"
        return 0
    fi
    tmp=$(mktemp "$(dirname -- "$file")/.${file##*/}.snap.XXXXXX")
    cp -p -- "$file" "$tmp"
    LINE=$line MARK=$MARKER awk '
        index($0, ENVIRON["MARK"]) {
            if (!done && ENVIRON["LINE"] != "") print ENVIRON["LINE"]
            done = 1
            next
        }
        { print }
        END { if (!done && ENVIRON["LINE"] != "") print ENVIRON["LINE"] }
    ' "$file" >"$tmp"
    grep -qF -- "$MARKER" "$file" && rc_change=updated
    if cmp -s -- "$file" "$tmp"; then
        rm -f -- "$tmp"
        return 1
    fi
    mv -f -- "$tmp" "$file"
}

# Run the installed binary quietly; its output goes to a file, never a pipe (a daemon
# that keeps a pipe open would hang us). Sets $out to what it printed.
run_quiet() {
    local log rc=0
    log=$(mktemp)
    "$@" >"$log" 2>&1 || rc=$?
    out=$(head -c 2000 -- "$log")
    rm -f -- "$log"
    return "$rc"
}

on_path() { [[ ":$PATH:" == *":$1:"* ]]; }

# ---------------------------------------------------------------------- uninstall
do_uninstall() {
    local out
    if [[ -e $target ]]; then
        is_ours "$target" || die "$target is not snap's binary: leaving it alone (wrong --name or --prefix?)"
        if run_quiet "$target" daemon install --uninstall; then
            did "removed the daemon's service"
        fi
        if run_quiet "$target" daemon stop; then
            did "stopped the daemon"
        fi
    else
        warn "no binary at $target (already removed, or installed with another --prefix/--name?)"
    fi
    local rc
    for rc in "$bash_rc" "$zsh_rc" "$fish_rc"; do
        if [[ -e $rc ]] && edit_rc "$rc" ""; then
            did "removed the hook line from $rc"
        fi
    done
    local f
    for f in "$bash_comp" "$zsh_comp" "$fish_comp" "$man_page"; do
        if [[ -e $f ]]; then
            rm -f -- "$f"
            did "removed $f"
        fi
    done
    if [[ -e $target ]]; then
        rm -f -- "$target"
        did "removed $target"
    fi
    ((purge)) && purge_data
    return 0
}

# Remove what snap recorded. Under SNAP_HOME only snap's own entries go, never the rest.
purge_data() {
    local d e
    if [[ -n ${SNAP_HOME-} ]]; then
        for e in shells snapshots state config.toml "$SNAP_HOME"/index.db*; do
            e=${e#"$SNAP_HOME"/}
            if [[ -e $SNAP_HOME/$e ]]; then
                rm -rf -- "${SNAP_HOME:?}/$e"
                did "removed $SNAP_HOME/$e"
            fi
        done
        rmdir -- "$SNAP_HOME" 2>/dev/null && did "removed $SNAP_HOME"
        return 0
    fi
    local dirs=("$data_home/snap" "${XDG_STATE_HOME:-$HOME/.local/state}/snap" "$config_home/snap")
    [[ $(uname -s) == Darwin ]] && dirs=("$HOME/Library/Application Support/snap")
    for d in "${dirs[@]}"; do
        if [[ -e $d ]]; then
            rm -rf -- "$d"
            did "removed $d"
        fi
    done
}

# ---------------------------------------------------------------------- install
# Stop when another program owns NAME (Ubuntu's snapd owns `snap`), unless told.
check_conflicts() {
    if [[ -e $target ]] && ! is_ours "$target"; then
        die "$target exists and is not snap's binary: refusing to overwrite it.
Choose another name or place:  ./install.sh --name snapsh   or   ./install.sh --prefix DIR"
    fi
    local others=() c
    while IFS= read -r c; do
        others+=("$c")
    done < <(type -aP -- "$name" || true)
    [[ $name == snap ]] && others+=(/usr/bin/snap)
    local seen=" "
    for c in ${others[@]+"${others[@]}"}; do
        [[ -e $c && $seen != *" $c "* ]] || continue
        seen+="$c "
        [[ $c -ef $target ]] && continue
        if is_ours "$c"; then
            warn "another copy of snap is at $c; remove it, or make sure $bindir comes first on PATH"
            continue
        fi
        ((force)) && {
            warn "$c is another program named $name; installing anyway (--force): whichever comes first on PATH wins"
            continue
        }
        local what="another program"
        [[ $c == /usr/bin/snap || $c == /snap/bin/* ]] && what="Ubuntu's snap package manager (snapd)"
        die "$c is already called \`$name\`: $what.
Installing snap under the same name would hide one of them. Either:
  ./install.sh --name snapsh     install under another name (any free name; the hook,
                                 completions and man page follow it)
  ./install.sh --force           install as \`$name\` anyway, knowingly shadowing $c"
    done
}

# The binary to install: prebuilt (testing aid) or built here.
build() {
    if [[ -n ${SNAP_INSTALL_BINARY-} ]]; then
        [[ -f $SNAP_INSTALL_BINARY && -x $SNAP_INSTALL_BINARY ]] ||
            die "SNAP_INSTALL_BINARY=$SNAP_INSTALL_BINARY is not an executable file"
        built=$SNAP_INSTALL_BINARY
        return 0
    fi
    local cargo src
    cargo=$(command -v cargo || true)
    [[ -z $cargo && -x $HOME/.cargo/bin/cargo ]] && cargo=$HOME/.cargo/bin/cargo
    [[ -n $cargo ]] || die "cargo not found: snap is built from source with Rust.
Install Rust from https://rustup.rs (or: sudo apt install cargo), open a new terminal,
then run ./install.sh again."
    src=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
    [[ -f $src/Cargo.toml ]] || die "no Cargo.toml beside install.sh in $src: run install.sh from a snap checkout"
    say "Building snap (cargo build --locked --release)..."
    "$cargo" build --locked --release --manifest-path "$src/Cargo.toml" >&2 ||
        die "the build failed (see above). With an old Rust, run: rustup update"
    built=${CARGO_TARGET_DIR:-$src/target}/release/snap
    [[ $built == /* ]] || built=$src/$built
    [[ -x $built ]] || die "the build finished but $built is missing"
}

# Set when an older binary was replaced: its daemon is restarted to run the new one.
replaced=0

install_binary() {
    mkdir -p -- "$bindir"
    if [[ -e $target ]] && cmp -s -- "$built" "$target"; then
        say "$target is already this build."
        return 0
    fi
    [[ -e $target ]] && replaced=1
    write_file "$target" 755 <"$built"
    did "installed $target"
}

install_rc_lines() {
    local sh rc
    for sh in bash zsh fish; do
        command -v "$sh" >/dev/null || continue
        case $sh in
        bash) rc=$bash_rc ;;
        zsh) rc=$zsh_rc ;;
        fish) rc=$fish_rc ;;
        esac
        if edit_rc "$rc" "$(rc_line "$sh")"; then
            did "$rc_change the $sh hook line in $rc"
        else
            say "The $sh hook line in $rc is already up to date."
        fi
    done
}

# Generate FILE from `NAME ARGS...`; the name is the one installed (never snapd's files).
generate() {
    local file=$1 tmp
    shift
    tmp=$(mktemp)
    if "$target" "$@" >"$tmp" 2>/dev/null && [[ -s $tmp ]]; then
        write_file "$file" 644 <"$tmp"
        rm -f -- "$tmp"
        return 0
    fi
    rm -f -- "$tmp"
    warn "\`$name $*\` failed: no $file"
    return 1
}

install_extras() {
    if generate "$bash_comp" completions bash --name "$name"; then
        did "installed bash completions: $bash_comp"
    fi
    if command -v zsh >/dev/null && generate "$zsh_comp" completions zsh --name "$name"; then
        did "installed zsh completions: $zsh_comp (zsh loads them once $zsh_comp_dir is in fpath: see the README)"
    fi
    if command -v fish >/dev/null && generate "$fish_comp" completions fish --name "$name"; then
        did "installed fish completions: $fish_comp"
    fi
    if generate "$man_page" man; then
        did "installed the man page: $man_page (man $name)"
    fi
}

start_daemon() {
    local out
    if ((replaced)) && run_quiet "$target" daemon stop; then
        did "stopped the daemon of the previous build"
    fi
    if run_quiet "$target" daemon install; then
        did "installed and started the snapshot daemon ($name daemon install)"
    elif run_quiet "$target" daemon start; then
        did "started the snapshot daemon ($name daemon start; run \`$name daemon install\` to start it at login)"
    else
        warn "could not start the snapshot daemon: ${out:-no message}
  Start it later with: $name daemon install   (or: $name daemon start)"
    fi
}

do_install() {
    check_conflicts
    build
    install_binary
    ((no_rc)) || install_rc_lines
    install_extras
    ((no_daemon)) || start_daemon
}

# ---------------------------------------------------------------------- main
if ((uninstall)); then
    do_uninstall
    say "Done."
    for line in ${done_list[@]+"${done_list[@]}"}; do say "  - $line"; done
    ((purge)) || say "Recorded data is kept; ./install.sh --uninstall --purge removes it too."
    exit 0
fi

do_install
say "Done."
for line in ${done_list[@]+"${done_list[@]}"}; do say "  - $line"; done

cmd=$name
if ! on_path "$bindir"; then
    cmd=$target
    warn "$bindir is not on your PATH, so typing \`$name\` will not find it (the hook works anyway).
  bash/zsh: add  export PATH=\"$bindir:\$PATH\"  to ~/.profile (or ~/.zshrc)
  fish:     run  fish_add_path $bindir"
elif [[ $(type -P -- "$name") != "$target" ]]; then
    cmd=$target
    warn "\`$name\` on your PATH is $(type -P -- "$name"), not $target: put $bindir first on PATH, or call it by its full path"
fi
if ((no_rc)); then
    say "Next: add the hook to your shell's rc file, e.g. eval \"\$($cmd init bash)\", then open a new terminal and run: $cmd doctor"
else
    say "Next: open a new terminal (the hook loads there), then run: $cmd doctor"
fi
