#!/usr/bin/env bash
# Run snap's whole test suite. Installs what the tests need (zsh, fish, tmux, python3
# with venv, shellcheck, and the `mcp` Python SDK in a venv) when it can (as root, or
# with passwordless sudo); otherwise says what to install. SNAP_TEST_STRICT=1 makes a test fail, not skip, when a shell is missing.
set -euo pipefail
cd "$(dirname "$0")"

need=()
for p in zsh fish tmux python3 shellcheck git; do
    command -v "$p" >/dev/null 2>&1 || need+=("$p")
done
# Debian's python3 makes venvs only with python3-venv.
if [[ -z ${SNAP_TEST_MCP_PYTHON-} ]] && ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    need+=(python3-venv)
fi
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

# The MCP client tests/mcp.rs drives: the `mcp` Python SDK, pinned, in a venv of its own
# under the build directory (PyPI is reached once; later runs reuse it).
MCP_SDK=mcp==2.3.0
if [[ -z ${SNAP_TEST_MCP_PYTHON-} ]] && command -v python3 >/dev/null 2>&1; then
    venv="${CARGO_TARGET_DIR:-target}/mcp-venv/${MCP_SDK/==/-}"
    if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import mcp' 2>/dev/null; then
        echo "test.sh: installing $MCP_SDK into $venv" >&2
        rm -rf "$venv"
        if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check "$MCP_SDK"; } >&2; then
            echo "test.sh: could not install $MCP_SDK (python3-venv and PyPI needed): the MCP client test is skipped" >&2
            rm -rf "$venv"
        fi
    fi
    if [[ -x $venv/bin/python ]]; then
        SNAP_TEST_MCP_PYTHON="$(cd "$(dirname "$venv/bin/python")" && pwd)/python"
        export SNAP_TEST_MCP_PYTHON
    fi
fi

cargo test --locked --all-targets "$@"
