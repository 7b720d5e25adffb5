#!/usr/bin/env bash
# Run snap's whole test suite. Installs what the tests need (zsh, fish, tmux, python3,
# shellcheck) when it can (as root, or with passwordless sudo); otherwise says what to
# install. SNAP_TEST_STRICT=1 makes a test fail, not skip, when a shell is missing.
set -euo pipefail
cd "$(dirname "$0")"

need=()
for p in zsh fish tmux python3 shellcheck git; do
    command -v "$p" >/dev/null 2>&1 || need+=("$p")
done
if ((${#need[@]})); then
    pkgs=()
    for p in "${need[@]}"; do
        case $p in python3) pkgs+=(python3) ;; *) pkgs+=("$p") ;; esac
    done
    if command -v apt-get >/dev/null 2>&1 && { [[ $(id -u) == 0 ]] || sudo -n true 2>/dev/null; }; then
        sudo=()
        [[ $(id -u) == 0 ]] || sudo=(sudo -n)
        echo "test.sh: installing ${pkgs[*]}" >&2
        "${sudo[@]}" apt-get update -qq >&2 || true
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${pkgs[@]}" >&2
    else
        echo "test.sh: missing ${need[*]}: install them (e.g. sudo apt-get install ${pkgs[*]}); tests that need them are skipped" >&2
    fi
fi

cargo test --locked --all-targets "$@"
