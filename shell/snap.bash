# snap: shell integration for bash 4.4+. Load it with:  eval "$(snap init bash)"
#
# At each command it appends to $SNAP_HOME/shells/<id>/journal (see src/store/journal.rs):
# a start record (the command line as history keeps it, time, cwd), an end record
# (exit status, duration, cwd after it), the exported environment when it may have
# changed, and how the shell ended. The prompt path runs builtins only: no $(...), no
# pipe, no external command. $? is left as it was; nothing is printed.
# shellcheck shell=bash disable=SC2034

__snap_bin=@SNAP_BIN@

__snap_setup() {
    [[ $- == *i* ]] || return 0
    [[ -z ${__snap_dir-} ]] || return 0
    if ((BASH_VERSINFO[0] < 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] < 4))); then
        printf 'snap: bash %s is not supported: snap needs bash 4.4 or later\n' "${BASH_VERSION-}" >&2
        return 0
    fi
    local now id dir
    __snap_now
    now=$__snap_t
    printf -v id '%s-%s-%04x' "$now" "$$" "$RANDOM"
    dir=$("$__snap_bin" shell-start bash "$id" "$$" --version "${BASH_VERSION-}" 2>/dev/null) || dir=
    [[ -n $dir && -d $dir ]] || return 0
    __snap_dir=$dir
    __snap_j=$dir/journal
    __snap_seg=0
    __snap_n=0
    __snap_go=0
    __snap_running=0
    __snap_t0=0
    __snap_hc=
    __snap_bc=
    __snap_envdirty=1
    __snap_watch=
    export SNAP_SHELL_ID=$id SNAP_SHELL_PID=$$

    # A line was read: PS0 is expanded for every command line (never for an empty one).
    # The arithmetic subscript assigns and expands to nothing, without a fork.
    PS0=${PS0-}'${__snap_x[__snap_go=1]-}'

    # Start records come from the DEBUG trap; keep a trap the user already set.
    local prev
    prev=$(trap -p DEBUG)
    if [[ -n ${bash_preexec_imported-}${__bp_imported-} ]]; then
        preexec_functions+=(__snap_preexec_bp)
        precmd_functions=(__snap_precmd "${precmd_functions[@]}")
    elif [[ -n ${BLE_VERSION-} ]] && declare -F blehook >/dev/null; then
        blehook PREEXEC!=__snap_preexec_bp
        blehook PRECMD!=__snap_precmd
    else
        prev=${prev#trap -- }
        prev=${prev% DEBUG}
        if [[ -n $prev ]]; then
            eval "prev=$prev"
            trap "__snap_debug; $prev" DEBUG
        else
            trap __snap_debug DEBUG
        fi
        # Run first at the prompt, so $? is the command's; hand $? on unchanged.
        if [[ -v PROMPT_COMMAND && ${PROMPT_COMMAND@a} == *a* ]]; then
            PROMPT_COMMAND=(__snap_precmd "${PROMPT_COMMAND[@]}")
        elif [[ -n ${PROMPT_COMMAND-} ]]; then
            PROMPT_COMMAND=__snap_precmd$'\n'$PROMPT_COMMAND
        else
            PROMPT_COMMAND=__snap_precmd
        fi
    fi

    # How the shell ends: a hangup leaves no terminal on stdin. Never trap HUP.
    prev=$(trap -p EXIT)
    prev=${prev#trap -- }
    prev=${prev% EXIT}
    if [[ -n $prev ]]; then
        eval "prev=$prev"
        trap "__snap_exit; $prev" EXIT
    else
        trap __snap_exit EXIT
    fi
    return 0
}

# Now, in microseconds since the epoch, into __snap_t.
__snap_now() {
    if [[ -n ${EPOCHREALTIME-} ]]; then
        __snap_t=${EPOCHREALTIME/[.,]/}
    else
        printf -v __snap_t '%(%s)T000000' -1
    fi
}

# Escape a journal field (\ TAB LF CR) into __snap_e.
__snap_esc() {
    __snap_e=$1
    if [[ $__snap_e == *[$'\\\t\n\r']* ]]; then
        __snap_e=${__snap_e//\\/\\\\}
        __snap_e=${__snap_e//$'\t'/\\t}
        __snap_e=${__snap_e//$'\n'/\\n}
        __snap_e=${__snap_e//$'\r'/\\r}
    fi
}

# Start a new journal segment every so many records (0600 whatever the umask).
__snap_count() {
    ((++__snap_n < 2000)) && return 0
    __snap_n=0
    local u
    { builtin umask -p >|"$__snap_dir/.umask" && read -r u <"$__snap_dir/.umask"; } 2>/dev/null || return 0
    builtin umask 077
    __snap_seg=$((__snap_seg + 1))
    __snap_j=$__snap_dir/journal.$__snap_seg
    { : >>"$__snap_j"; } 2>/dev/null
    # shellcheck disable=SC2086
    builtin ${u:-:}
    return 0
}

# Might this simple command change the exported environment?
__snap_envcheck() {
    case $1 in
    export* | unset* | declare* | typeset* | source* | .\ * | eval* | readonly* | local* | [A-Za-z_]*=* | cd* | pushd* | popd* | set\ *)
        __snap_envdirty=1
        ;;
    esac
}

# The DEBUG trap: fires before each simple command; the first one of a line starts it.
__snap_debug() {
    if [[ $__snap_go == 1 ]]; then
        __snap_go=0
        [[ $BASH_COMMAND == __snap_precmd* ]] || __snap_begin
    fi
    [[ $__snap_envdirty == 1 ]] || __snap_envcheck "$BASH_COMMAND"
    return 0
}

# bash-preexec and ble.sh call this with the line as typed.
__snap_preexec_bp() {
    [[ ${1-} == ' '* ]] && return 0
    __snap_write_start
    __snap_envdirty=1
    return 0
}

# Record the start of the line that is about to run, unless history kept it private.
__snap_begin() {
    local hc=${HISTCMD-}
    # HISTCMD did not move: a repeat (ignoredups) runs the same first command;
    # anything else was kept out of history (leading space, HISTIGNORE, set +o history).
    if [[ $hc == "$__snap_hc" && $BASH_COMMAND != "$__snap_bc" ]]; then
        return 0
    fi
    __snap_hc=$hc
    __snap_bc=$BASH_COMMAND
    declare -F -- "${BASH_COMMAND%%[[:space:]]*}" >/dev/null && __snap_envdirty=1
    __snap_write_start
    return 0
}

__snap_write_start() {
    [[ ${SNAP_DISABLE-} == 1 ]] && return 0
    __snap_now
    __snap_t0=$__snap_t
    __snap_running=1
    __snap_esc "$PWD"
    {
        printf '\036S\t%s\t%s\th\n' "$__snap_t" "$__snap_e" >>"$__snap_j" &&
            HISTTIMEFORMAT= builtin history 1 >>"$__snap_j"
    } 2>/dev/null
    __snap_count
    return 0
}

# Runs first at every prompt: end record, environment when it may have changed.
__snap_precmd() {
    local s=$? d
    __snap_go=0
    if [[ -z $__snap_hc ]]; then
        __snap_hc=$((HISTCMD - 1))
    fi
    if [[ $__snap_running == 1 ]]; then
        __snap_running=0
        if [[ ${SNAP_DISABLE-} != 1 ]]; then
            __snap_now
            d=-
            [[ -n ${EPOCHREALTIME-} ]] && d=$(((__snap_t - __snap_t0) / 1000))
            __snap_esc "$PWD"
            { printf '\036E\t%s\t%s\t%s\t%s\n' "$__snap_t" "$s" "$d" "$__snap_e" >>"$__snap_j"; } 2>/dev/null
            __snap_count
        fi
    fi
    d=${PATH-}:${VIRTUAL_ENV-}:${CONDA_PREFIX-}:${DIRENV_DIFF-}:${NODE_ENV-}
    [[ $d == "$__snap_watch" ]] || __snap_envdirty=1
    if [[ $__snap_envdirty == 1 && ${SNAP_DISABLE-} != 1 ]]; then
        __snap_watch=$d
        __snap_write_env
    fi
    return $s
}

__snap_write_env() {
    __snap_envdirty=0
    __snap_now
    {
        printf '\036V\t%s\tbash\n' "$__snap_t" >>"$__snap_j" &&
            builtin export -p >>"$__snap_j"
    } 2>/dev/null
    __snap_count
    return 0
}

# The shell is ending: a deliberate exit keeps its terminal, a hangup has lost it.
__snap_exit() {
    local s=$? how=hangup
    [[ -t 0 ]] && how=exit
    if [[ ${SNAP_DISABLE-} != 1 && -n ${__snap_j-} ]]; then
        [[ $__snap_envdirty == 1 ]] && __snap_write_env
        __snap_now
        { printf '\036X\t%s\t%s\n' "$__snap_t" "$how" >>"$__snap_j"; } 2>/dev/null
    fi
    return $s
}

__snap_setup
unset -f __snap_setup
