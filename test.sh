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

# The real coding-agent CLIs, pinned, into a temporary prefix (tests/agent_cli.rs drives
# them offline against a loopback fake of their APIs). Set SNAP_TEST_CLAUDE and
# SNAP_TEST_CODEX yourself to use other binaries.
CLAUDE_CODE_VERSION=2.1.332
CODEX_VERSION=0.171.0
if [[ -z ${SNAP_TEST_CLAUDE-} || -z ${SNAP_TEST_CODEX-} ]]; then
    if command -v npm >/dev/null 2>&1; then
        npm_prefix=$(mktemp -d "${TMPDIR:-/tmp}/snap-test-npm.XXXXXX")
        trap 'rm -rf "$npm_prefix"' EXIT
        echo "test.sh: installing Claude Code $CLAUDE_CODE_VERSION and Codex $CODEX_VERSION from npm into $npm_prefix" >&2
        if npm install --silent --no-fund --no-audit --prefix "$npm_prefix" \
            "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" "@openai/codex@$CODEX_VERSION" >&2; then
            export SNAP_TEST_CLAUDE=${SNAP_TEST_CLAUDE:-$npm_prefix/node_modules/.bin/claude}
            export SNAP_TEST_CODEX=${SNAP_TEST_CODEX:-$npm_prefix/node_modules/.bin/codex}
        else
            echo "test.sh: npm install failed: the real agent CLI tests are skipped" >&2
        fi
    else
        echo "test.sh: npm missing (install nodejs and npm): the real agent CLI tests are skipped" >&2
    fi
fi

cargo test --locked --all-targets "$@"
