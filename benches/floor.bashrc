# The floor of a builtins-only bash hook, for benches/prompt.sh: a start record (time,
# cwd, the line from `history 1`) before the first command of a line and an end record
# (time, status) at the prompt, appended to $FLOOR_JOURNAL, and nothing else.
# shellcheck shell=bash disable=SC2034,SC2016
PS1='$ '
PS0='${_f[_go=1]-}'
_fs() {
    [[ ${_go-} == 1 ]] || return 0
    _go=0
    { printf '\036S\t%s\t%s\n' "$EPOCHREALTIME" "$PWD"; builtin history 1; } >>"$FLOOR_JOURNAL"
}
_fe() { printf '\036E\t%s\t%s\n' "$EPOCHREALTIME" "$?" >>"$FLOOR_JOURNAL"; }
trap _fs DEBUG
PROMPT_COMMAND=_fe
