# snap: shell integration for bash 4.4+. Load it with:  eval "$(snap init bash)"
#
# At each command it appends to $SNAP_HOME/shells/<id>/journal (see src/store/journal.rs):
# a start record (the command line as history keeps it, time, cwd), an end record
# (exit status, duration, cwd after it), the exported environment when it may have
# changed, and how the shell ended. The prompt path runs builtins only: no $(...), no
# pipe, no external command. $? is left as it was; nothing is printed.
# Journal format 2: every record starts with RS and the shell's token (__snap_rs), kept
# unexported, so no typed byte can start one. The restore script calls
# __snap_from_restore for the line `snap restore` puts in the shell: its start record
# says so.
# shellcheck shell=bash disable=SC2034,SC2016,SC2064,SC1007

__snap_bin=@SNAP_BIN@

__snap_setup() {
    [[ $- == *i* ]] || return 0
    if [[ -n ${__snap_dir-} ]]; then
        [[ -n ${__snap_rs-} ]] || __snap_upgrade
        return 0
    fi
    if ((BASH_VERSINFO[0] < 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] < 4))); then
        printf 'snap: bash %s is not supported: snap needs bash 4.4 or later\n' "${BASH_VERSION-}" >&2
        return 0
    fi
    local id dir
    __snap_now
    printf -v id '%s-%s-%04x' "${__snap_t/[.,]/}" "$$" "$RANDOM"
    # The token on the first line, the directory after it.
    dir=$("$__snap_bin" shell-start bash "$id" "$$" --version "${BASH_VERSION-}" --token 2>/dev/null) || dir=
    [[ ${dir%%$'\n'*} =~ ^[0-9a-f]{32}$ ]] || return 0
    __snap_rs=$'\036'${dir%%$'\n'*}
    dir=${dir#*$'\n'}
    [[ -n $dir && -d $dir ]] || return 0
    __snap_dir=$dir
    __snap_j=$dir/journal
    __snap_seg=0
    __snap_n=0
    __snap_go=0
    __snap_t0=
    __snap_tE=$__snap_t
    __snap_running=0
    __snap_pwd=
    __snap_e=
    __snap_hc=
    __snap_first=1
    __snap_bcs=('')
    __snap_form=h
    __snap_origin=shell
    __snap_envdirty=1
    __snap_envnames=
    __snap_watch=
    export SNAP_SHELL_ID=$id SNAP_SHELL_PID=$$
    unset SNAP_REPLACES SNAP_KEEP_ENV
    # Write errors (store read-only or full) go here: opened once, so no write opens it.
    exec {__snap_null}>/dev/null

    __snap_new=1
    # How the shell ends: a hangup leaves no terminal on stdin. Never trap HUP.
    local prev
    __snap_trap EXIT
    __snap_chain EXIT __snap_exit "$prev"
    return 0
}

# A newer hook sourced over an older one (a shell with no token yet): give the shell
# its token, go on in a new segment (the older one stays format 1, see journal.rs) and
# mark history's last line. Without a token, record nothing rather than what the
# reader would misread.
__snap_upgrade() {
    local out
    out=$("$__snap_bin" shell-start bash "${SNAP_SHELL_ID-}" "$$" --version "${BASH_VERSION-}" --token 2>/dev/null) || out=
    if [[ ${out%%$'\n'*} =~ ^[0-9a-f]{32}$ && ${out#*$'\n'} == "$__snap_dir" ]]; then
        __snap_rs=$'\036'${out%%$'\n'*}
        __snap_form=h __snap_origin=shell __snap_bcs=('')
        __snap_rotate
        __snap_mark_history
    else
        __snap_rs=$'\036' __snap_j=/dev/null __snap_dir=/dev/null
    fi
    return 0
}

# The next line is the one `snap restore` puts in the shell (its script calls this): its
# start record says origin restore.
__snap_from_restore() {
    __snap_origin=restore
}

# Start records come from the DEBUG trap; keep the trap the user already set ($1, as
# `trap -p DEBUG` printed it at the top level: inside a function bash shows none).
__snap_hooks() {
    # A line was read: PS0 is expanded for every command line (never for an empty one).
    # The arithmetic subscript assigns and expands to nothing, without a fork. bash 5
    # also notes the second the line started, for a line that fires no DEBUG trap in
    # the shell itself (a subshell, `(exit 3)`): whole seconds, since getting
    # microseconds into arithmetic costs a pattern substitution at every line.
    local __snap_ps0='${__snap_x[__snap_go=1]-}'
    [[ -z ${EPOCHSECONDS-} ]] || __snap_ps0='${__snap_x[__snap_go=1,__snap_t0=EPOCHSECONDS]-}'
    if [[ -n ${bash_preexec_imported-}${__bp_imported-} ]]; then
        PS0=${PS0-}$__snap_ps0
        preexec_functions+=(__snap_preexec_bp)
        # bash-preexec runs its precmd functions in order, then the rest of
        # PROMPT_COMMAND: settle after them only when there are other hooks (it forks at
        # every command, so each entry costs; see BENCHMARKS.md).
        if ((${#precmd_functions[@]})) || __snap_other_prompt_hooks; then
            __snap_settle_last
        fi
        precmd_functions=(__snap_precmd "${precmd_functions[@]}")
    elif [[ -n ${BLE_VERSION-} ]] && declare -F blehook >/dev/null; then
        # No PS0: ble.sh calls PREEXEC for each line it runs, and expands PS0 after
        # it: a __snap_go set there would take the next empty line for an unseen one.
        blehook PREEXEC!=__snap_preexec_ble
        blehook PRECMD!=__snap_precmd
        # ble.sh runs PROMPT_COMMAND after PRECMD.
        __snap_settle_last
        # ble-attach ran before this line and drew the first prompt without us.
        [[ -z ${BLE_ATTACHED-} ]] || __snap_ble_late
    else
        PS0=${PS0-}$__snap_ps0
        __snap_chain DEBUG __snap_debug "$1"
        # The hooks already there (direnv) may export after __snap_precmd.
        __snap_settle_last
        # Run first at the prompt, so $? is the command's; hand $? on unchanged.
        if [[ -v PROMPT_COMMAND && ${PROMPT_COMMAND@a} == *a* ]]; then
            PROMPT_COMMAND=(__snap_precmd "${PROMPT_COMMAND[@]}")
        elif [[ -n ${PROMPT_COMMAND-} ]]; then
            PROMPT_COMMAND=__snap_precmd$'\n'$PROMPT_COMMAND
        else
            PROMPT_COMMAND=__snap_precmd
        fi
    fi
    return 0
}

# A PROMPT_COMMAND that runs after __snap_precmd (direnv's hook may be in it) ends with
# __snap_settle.
__snap_settle_last() {
    if [[ -v PROMPT_COMMAND && ${PROMPT_COMMAND@a} == *a* ]]; then
        PROMPT_COMMAND+=(__snap_settle)
    elif [[ -n ${PROMPT_COMMAND-} ]]; then
        PROMPT_COMMAND+=$'\n'__snap_settle
    fi
}

# Does PROMPT_COMMAND hold a hook besides bash-preexec's own entries (direnv's)?
__snap_other_prompt_hooks() {
    local -a cmds
    local c
    IFS=$'\n;' read -r -d '' -a cmds <<<"${PROMPT_COMMAND[*]-}"
    for c in "${cmds[@]}"; do
        c=${c#"${c%%[![:space:]]*}"}
        case $c in
        '' | __bp_* | 'trap - DEBUG'*) ;;
        *) return 0 ;;
        esac
    done
    return 1
}

# The first prompt's turn (baseline, restore, history mark), taken at load when ble.sh
# drew that prompt before the hook was there. A restore's screen is printed over that
# prompt (from its top left, as ble.sh does for a PRECMD that prints), then ble.sh is
# told to draw it again.
__snap_ble_late() {
    local -a DRAW_BUFF=()
    if [[ -n ${SNAP_RESTORE-} ]] && declare -F ble/canvas/panel#goto.draw ble/canvas/bflush.draw ble/util/buffer.flush ble/textarea#invalidate >/dev/null; then
        ble/canvas/panel#goto.draw 0 0 0 sgr0
        ble/canvas/bflush.draw
        ble/util/buffer.flush
        builtin printf '\e[J'
        __snap_idle_prompt 0
        ble/textarea#invalidate
    else
        __snap_idle_prompt 0
    fi
}

# Set trap $1 to run $2 first, then the command `trap -p` printed for it before ($3).
__snap_chain() {
    local prev=${3%$'\n'}
    prev=${prev#trap -- }
    prev=${prev% "$1"}
    if [[ -n $prev ]]; then
        eval "prev=$prev"
        trap "$2; $prev" "$1"
    else
        trap "$2" "$1"
    fi
}

# The trap the user set on $1, as `trap -p` prints it, into the caller's prev: read back
# from the hook's scratch file, since $(trap -p) would fork (start-up time). Read with
# the `trap` that sets it: ble.sh wraps it, and its own handler, which `builtin trap`
# shows, would run itself again and again at exit.
__snap_trap() {
    prev=
    { trap -p "$1" >|"$__snap_dir/.umask" && IFS= read -r -d '' prev <"$__snap_dir/.umask"; } 2>/dev/null || :
    prev=${prev%$'\n'}
}

# Now, as seconds since the epoch (bash 4.4 has no $EPOCHREALTIME), into __snap_t.
__snap_now() {
    __snap_t=${EPOCHREALTIME-}
    [[ -n $__snap_t ]] || printf -v __snap_t '%(%s)T' -1
}

# The current directory, escaped for a journal field (\ TAB LF CR), into __snap_e.
__snap_cwd() {
    __snap_pwd=$PWD
    __snap_e=$PWD
    if [[ $__snap_e == *[$'\\\t\n\r']* ]]; then
        __snap_e=${__snap_e//\\/\\\\}
        __snap_e=${__snap_e//$'\t'/\\t}
        __snap_e=${__snap_e//$'\n'/\\n}
        __snap_e=${__snap_e//$'\r'/\\r}
    fi
}

# Start a new journal segment every so many commands (0600 whatever the umask).
__snap_rotate() {
    __snap_n=0
    local u
    { builtin umask -p >|"$__snap_dir/.umask" && read -r u <"$__snap_dir/.umask"; } 2>/dev/null || return 0
    builtin umask 077
    __snap_seg=$((__snap_seg + 1))
    __snap_j=$__snap_dir/journal.$__snap_seg
    __snap_envdirty=1
    { : >>"$__snap_j"; } 2>/dev/null
    # shellcheck disable=SC2086
    builtin ${u:-:}
    return 0
}

# The DEBUG trap: fires before each simple command, the hook's own included. A simple
# command may change the environment (see __snap_env_named). The first simple command of
# a line (PS0 set __snap_go) starts it, as __snap_line_form says. This runs before
# every command: each statement here is paid at every prompt.
__snap_debug() {
    case $BASH_COMMAND in
    *=* | [edtsur.]*) __snap_env_named "$BASH_COMMAND" ;;
    esac
    [[ $__snap_go == 1 && $BASH_COMMAND != __snap_precmd* ]] || return 0
    __snap_go=0
    # (__snap_line_form's common case, inlined: HISTCMD moved, history on. With history
    # off, HISTCMD moves once more.)
    if [[ $HISTCMD != "$__snap_hc" && :$SHELLOPTS: == *:history:* ]]; then
        __snap_form=h __snap_bcs=("$BASH_COMMAND")
    else
        __snap_line_form "$HISTCMD" "$BASH_COMMAND" || return 0
    fi
    __snap_hc=$HISTCMD
    [[ ${SNAP_DISABLE-} == 1 ]] || __snap_write_start "${EPOCHREALTIME-}"
}

# Is the line bash just read (PS0 set __snap_go: a hook firing without it replays an
# old line) an execution, and in which form is its start written (into __snap_form)?
# Status 1: record nothing. $1 is the line's history number (HISTCMD while it runs), $2
# its first simple command (BASH_COMMAND; none for a line run only in a subshell).
# The one place that tells a repeated command from a private line:
# - history is off (set +o history): private.
# - HISTCMD moved: history kept a new line (h).
# - HISTCMD did not move: history moved an older copy of the line to its end
#   (erasedups), folded a repeat of its last line into it (ignoredups), or kept the
#   line private (leading space, HISTIGNORE); `history 1` is the line, or still the line
#   before. Only the earlier lines' text tells which: the journal has it, the hook does
#   not (without a fork). So the start is written as m, with the numbers of the lines
#   since the last h line (0; __snap_bcs holds their first simple commands, 32 at most)
#   that ran the same first simple command, and the reader decides
#   (journal::HistoryLines). Line 0 may be history's last line at the first prompt
#   (from HISTFILE or a restore: no first simple command known): it counts as the same
#   when that line starts with this one's. Nothing private is written either way.
__snap_line_form() {
    [[ :$SHELLOPTS: == *:history:* ]] || return 1
    if [[ $1 != "$__snap_hc" ]]; then
        __snap_form=h __snap_bcs=("$2")
        return 0
    fi
    local i
    __snap_form=m
    if [[ -n $2 && -z ${__snap_bcs[0]} ]] && __snap_last_starts "$2"; then
        __snap_form+=0,
    fi
    for i in "${!__snap_bcs[@]}"; do
        [[ -z $2 || $2 != "${__snap_bcs[i]}" ]] || __snap_form+=$i,
    done
    __snap_form=${__snap_form%,}
    ((${#__snap_bcs[@]} >= 32)) || __snap_bcs+=("$2")
    return 0
}

# Which variables a simple command ($1) may change: `export NAME[=value]` and `NAME=value`
# name theirs; `export` of several, `unset`, `declare`, `source`, `eval` and the like
# may change any.
__snap_env_named() {
    case $1 in
    export\ *\ * | unset* | declare* | typeset* | source* | .\ * | eval* | readonly* | [A-Za-z_]*=*\ *)
        __snap_envdirty=1
        ;;
    export\ [A-Za-z_]* | [A-Za-z_]*=*)
        __snap_envname=${1#export }
        __snap_envname=${__snap_envname%%=*}
        # Only a name is one: `echo a=b` assigns nothing (a word before the `=`);
        # `a+=x`, `a[1]=x` or `export "A=b"` may change any.
        if [[ $__snap_envname != *[!A-Za-z0-9_]* ]]; then
            __snap_envnames+=" $__snap_envname"
        elif [[ $__snap_envname != *[[:space:]]* || $1 == export\ * ]]; then
            __snap_envdirty=1
        fi
        ;;
    esac
}

# Does history's last line start with $1? Read back from the scratch file: no fork.
__snap_last_starts() {
    local line=
    { HISTTIMEFORMAT= builtin history 1 >|"$__snap_dir/.umask" && IFS= read -r -d '' line <"$__snap_dir/.umask"; } 2>/dev/null || :
    line=${line#*[0-9][ *] }
    [[ -n $line && $line == "$1"* ]]
}

# bash-preexec and ble.sh call this with the line as typed. bash-preexec calls it for
# the exit trap too (Ctrl-D), with history's last line: no line was read (PS0 set no
# __snap_go), so it is no command. The environment
# is written whole after a line that may change any of it (as __snap_env_named says of
# a simple command), else only the variables it names.
__snap_preexec_bp() {
    local read=$__snap_go
    __snap_go=0 __snap_hc=$HISTCMD __snap_form=h
    [[ $read != 1 || ${1-} == ' '* || ${SNAP_DISABLE-} == 1 ]] && return 0
    case ${1-} in
    *[\;\&\|\(\`]* | *$'\n'*) __snap_envdirty=1 ;;
    *=* | [edtsur.]*) __snap_env_named "${1-}" ;;
    esac
    __snap_write_start "${EPOCHREALTIME-}"
}

# ble.sh calls its PREEXEC only for a line it read.
__snap_preexec_ble() {
    __snap_go=1
    __snap_preexec_bp "$@"
}

# The start record: its time ($1), the directory, the form (__snap_form) and origin,
# then on the same line either the first word, when `declare -F` finds it is a function
# (which may export anything), or the line as history keeps it. One write, and no
# redirection of its own for the check.
__snap_write_start() {
    __snap_running=1
    [[ -n $1 ]] || __snap_now
    [[ $PWD == "$__snap_pwd" ]] || __snap_cwd
    {
        printf "${__snap_rs}S\t%s\t%s\t%s\t%s\t" "${1:-$__snap_t}" "$__snap_e" "$__snap_form" "$__snap_origin"
        declare -F -- "${BASH_COMMAND%% *}" && __snap_envdirty=1
        # A user's HISTTIMEFORMAT would prefix a date: keep it out (only when set,
        # since the temporary assignment has a cost).
        if [[ -z ${HISTTIMEFORMAT-} ]]; then
            builtin history 1
        else
            HISTTIMEFORMAT= builtin history 1
        fi
    } 2>&"$__snap_null" >>"$__snap_j" || :
    __snap_origin=shell
}

# Runs first at every prompt: the end record (the duration is end minus start) and, in
# the same write, the environment when it may have changed.
__snap_precmd() {
    local s=$?
    if [[ $__snap_running == 1 ]]; then
        __snap_running=0
        [[ -n ${EPOCHREALTIME-} ]] || __snap_now
        __snap_tE=${EPOCHREALTIME:-$__snap_t}
        [[ $PWD == "$__snap_pwd" ]] || __snap_cwd
        {
            printf "${__snap_rs}E\t%s\t%s\t-\t%s\n" "$__snap_tE" "$s" "$__snap_e"
            [[ $__snap_envdirty$__snap_envnames == 0 && ${PATH-}${VIRTUAL_ENV-}${CONDA_PREFIX-}${DIRENV_DIFF-} == "$__snap_watch" ]] || __snap_env_record
        } 2>&"$__snap_null" >>"$__snap_j" || __snap_envdirty=1
        ((++__snap_n < 1000)) || __snap_rotate
    else
        __snap_idle_prompt "$s"
    fi
    return $s
}

# Last at the prompt, after the user's own prompt hooks: a watched variable one of them
# changed (direnv exports there) is recorded now, not after the next command.
__snap_settle() {
    local s=$?
    [[ ${PATH-}${VIRTUAL_ENV-}${CONDA_PREFIX-}${DIRENV_DIFF-} == "$__snap_watch" ]] || __snap_write_env
    return $s
}

# A prompt with no start record before it: the first prompt (of the shell, or of a
# restored one), an empty line, a private line, or a line that ran only in a subshell.
# The environment too may have changed (another hook, a restore).
__snap_idle_prompt() {
    [[ $__snap_go != 1 ]] || __snap_unseen_line "$1"
    if [[ $__snap_envdirty$__snap_envnames != 0 || ${PATH-}${VIRTUAL_ENV-}${CONDA_PREFIX-}${DIRENV_DIFF-} != "$__snap_watch" ]]; then
        __snap_write_env
    fi
    [[ -z ${SNAP_RESTORE-}$__snap_first ]] || __snap_first_prompt
}

# A line whose commands all ran in a subshell, so no DEBUG trap fired here: record it
# now, as __snap_line_form says (no first simple command to compare: a repeat is
# written as m). It started at the second PS0 noted, or at the last prompt if that was
# later; its duration is written out.
__snap_unseen_line() {
    __snap_go=0
    [[ ${SNAP_DISABLE-} != 1 ]] || return 0
    __snap_line_form $((HISTCMD - 1)) '' || return 0
    __snap_hc=$((HISTCMD - 1))
    local t=$__snap_tE us now
    [[ -z ${__snap_t0-} || $__snap_t0 -le ${t%%[.,]*} ]] || t=$__snap_t0
    __snap_write_start "$t"
    __snap_running=0
    __snap_now
    us=${t/[.,]/} now=${__snap_t/[.,]/}
    [[ $t == *[.,]* ]] || us=${t}000000
    [[ $__snap_t == *[.,]* ]] || now=${__snap_t}000000
    printf "${__snap_rs}E\t%s\t%s\t%s\t%s\n" "$__snap_t" "$1" "$(((now - us) / 1000))" "$__snap_e" 2>&"$__snap_null" >>"$__snap_j"
    return 0
}

# The first prompt (of this shell, or after `snap restore` set SNAP_RESTORE, which may
# load history): note where history stands, so a private first line stays private.
__snap_first_prompt() {
    __snap_first=
    [[ -z ${SNAP_RESTORE-} ]] || __snap_restore
    __snap_hc=$((HISTCMD - 1)) __snap_bcs=('')
    [[ ${SNAP_DISABLE-} == 1 ]] || __snap_mark_history
    return 0
}

# The H record: history's last line now (see __snap_line_form).
__snap_mark_history() {
    __snap_now
    {
        printf "${__snap_rs}H\t%s\n" "$__snap_t"
        HISTTIMEFORMAT= builtin history 1
    } 2>&"$__snap_null" >>"$__snap_j" || :
}

# A restored or started shell: record the baseline, then apply the saved state
# (cwd, variables, history, screen) now that the rc files have run.
__snap_restore() {
    local f=$SNAP_RESTORE
    unset SNAP_RESTORE
    [[ ${SNAP_DISABLE-} == 1 || $__snap_envdirty != 1 ]] || __snap_write_env
    [[ ! -f $f ]] || builtin source "$f" || :
    __snap_envdirty=1
    __snap_cwd
    __snap_write_env
    return 0
}

# The exported environment, whole (`export -p`), or only the variables commands named
# since the last one (`declare -p`, form `bash+`: `export -p` writes each variable with
# a system call of its own). Whole at the first prompt, in every new segment and after
# a failed write, so that every segment starts from a whole one. Printed to the
# caller's redirection; the status is the last write's.
__snap_env_record() {
    local watch=${PATH-}${VIRTUAL_ENV-}${CONDA_PREFIX-}${DIRENV_DIFF-} n
    # A named variable no longer set (`declare -p` would print nothing for it, and an
    # empty record is a damaged one): write the whole environment.
    for n in $__snap_envnames; do
        [[ -v $n ]] || __snap_envdirty=1
    done
    if [[ $__snap_envdirty == 1 || $watch != "$__snap_watch" ]]; then
        __snap_watch=$watch __snap_envdirty=0 __snap_envnames=
        printf "${__snap_rs}V\t%s\tbash\n" "${EPOCHREALTIME:-$__snap_t}"
        builtin export -p
    else
        local names=$__snap_envnames
        __snap_envnames=
        printf "${__snap_rs}V\t%s\tbash+\n" "${EPOCHREALTIME:-$__snap_t}"
        # shellcheck disable=SC2086
        builtin declare -p $names
    fi
}

# The environment on its own (no command ended: the first prompt, a restore, the exit).
__snap_write_env() {
    [[ ${SNAP_DISABLE-} != 1 ]] || return 0
    __snap_now
    __snap_env_record 2>&"$__snap_null" >>"$__snap_j" || __snap_envdirty=1
    ((++__snap_n < 1000)) || __snap_rotate
    return 0
}

# The shell is ending: a deliberate exit keeps its terminal, a hangup has lost it.
__snap_exit() {
    local s=$? how='hangup'
    [[ -t 0 ]] && how='exit'
    if [[ ${SNAP_DISABLE-} != 1 && -n ${__snap_j-} ]]; then
        [[ $__snap_envdirty$__snap_envnames == 0 ]] || __snap_write_env
        __snap_now
        printf "${__snap_rs}X\t%s\t%s\n" "$__snap_t" "$how" 2>&"$__snap_null" >>"$__snap_j" || :
    fi
    return $s
}

__snap_setup
# Read at the top level, where the user's DEBUG trap is visible (into the scratch file
# and back, since $(trap -p) would fork).
if [[ ${__snap_new-} == 1 ]]; then
    __snap_new=
    { trap -p DEBUG >|"$__snap_dir/.umask" && IFS= read -r -d '' __snap_new <"$__snap_dir/.umask"; } 2>/dev/null || :
    __snap_hooks "$__snap_new"
fi
unset __snap_new
# The set-up functions stay defined: freeing them would leave holes all over bash's
# heap, and under a framework that forks at every command (bash-preexec) each hole's
# page is copied again after every fork (BENCHMARKS.md).
