# snap: shell integration for zsh 5.1+. Load it with:  eval "$(snap init zsh)"
#
# At each command it appends to $SNAP_HOME/shells/<id>/journal (see src/store/journal.rs):
# a start record (the line as typed, time, cwd), an end record (exit status, cwd after
# it; the reader derives the duration from the two times), the exported environment
# when it may have changed, and how the shell ended. The prompt path runs builtins only:
# no $(...), no pipe, no external command, and few function calls (each costs about as
# much as a write). $? is left as it was; nothing is printed. No HUP trap: a hangup
# ends the shell's jobs exactly as without the hook.
# Journal format 2: every record starts with RS and the shell's token (__snap_rs), kept
# unexported, so no typed byte can start one. The restore script calls
# __snap_from_restore for the line `snap restore` puts in the shell: its start record
# says so.

typeset -g __snap_bin=@SNAP_BIN@

__snap_setup() {
    emulate -L zsh
    [[ -o interactive ]] || return 0
    if [[ -n ${__snap_dir-} ]]; then
        [[ -n ${__snap_rs-} ]] || __snap_upgrade
        return 0
    fi
    local -a v
    v=(${(s:.:)ZSH_VERSION})
    if (( v[1] < 5 || (v[1] == 5 && v[2] < 1) )); then
        print -ru2 -- "snap: zsh $ZSH_VERSION is not supported: snap needs zsh 5.1 or later"
        return 0
    fi
    zmodload zsh/datetime 2>/dev/null && zmodload zsh/parameter 2>/dev/null || return 0
    local id dir now=${EPOCHREALTIME/[.,]/}
    printf -v id '%s-%s-%04x' "${now[1,16]}" "$$" "$RANDOM"
    # The token on the first line, the directory after it.
    dir=$("$__snap_bin" shell-start zsh "$id" "$$" --version "$ZSH_VERSION" --token 2>/dev/null) || dir=
    local tok=${dir%%$'\n'*}
    [[ ${#tok} == 32 && $tok != *[^0-9a-f]* ]] || return 0
    dir=${dir#*$'\n'}
    [[ -n $dir && -d $dir ]] || return 0
    typeset -g __snap_rs=$'\036'$tok __snap_origin=shell
    typeset -g __snap_dir=$dir __snap_j=$dir/journal __snap_watch= __snap_pwd= __snap_e=
    typeset -gi __snap_seg=0 __snap_n=0 __snap_running=0 __snap_envdirty=1 __snap_null
    typeset -ga __snap_envnames
    # Words that can change the environment, at the start of a command; an assignment.
    typeset -g __snap_pat='(|*[[:space:]\;\&\|\(\{])(export|unset|typeset|declare|local|readonly|integer|float|source|.|eval|cd|pushd|popd|set|emulate|[[:IDENT:]]##=*)([[:space:]\;\&\|\)]*|)'
    export SNAP_SHELL_ID=$id SNAP_SHELL_PID=$$
    unset SNAP_REPLACES SNAP_KEEP_ENV
    # Write errors (store read-only or full) go here: opened once, so no write opens it.
    exec {__snap_null}>/dev/null

    # Run first at the prompt (the command's own end), last before a command (its start).
    typeset -ga precmd_functions preexec_functions zshexit_functions
    precmd_functions=(__snap_precmd ${precmd_functions:#__snap_precmd})
    preexec_functions=(${preexec_functions:#__snap_preexec} __snap_preexec)
    # How the shell ends: zsh runs zshexit on exit, Ctrl-D and hangup (after it has sent
    # SIGHUP to its jobs), never on exec. Never trap HUP.
    zshexit_functions=(__snap_exit ${zshexit_functions:#__snap_exit})
    return 0
}

# A newer hook sourced over an older one (a shell with no token yet): give the shell
# its token and go on in a new segment (the older one stays format 1, see journal.rs).
# Without a token, record nothing rather than what the reader would misread.
__snap_upgrade() {
    emulate -L zsh
    local out tok
    out=$("$__snap_bin" shell-start zsh "${SNAP_SHELL_ID-}" "$$" --version "$ZSH_VERSION" --token 2>/dev/null) || out=
    tok=${out%%$'\n'*}
    typeset -g __snap_origin=shell
    if [[ ${#tok} == 32 && $tok != *[^0-9a-f]* && ${out#*$'\n'} == "$__snap_dir" ]]; then
        typeset -g __snap_rs=$'\036'$tok
        __snap_rotate
    else
        typeset -g __snap_rs=$'\036' __snap_j=/dev/null __snap_dir=/dev/null
    fi
    return 0
}

# The next line is the one `snap restore` puts in the shell (its script calls this): its
# start record says origin restore.
__snap_from_restore() {
    typeset -g __snap_origin=restore
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

# Start a new journal segment every so many records (0600 whatever the umask).
__snap_rotate() {
    emulate -L zsh
    __snap_n=0
    local u
    { umask >|"$__snap_dir/.umask" && read -r u <"$__snap_dir/.umask"; } 2>/dev/null || return 0
    umask 077
    __snap_seg+=1
    __snap_j=$__snap_dir/journal.$__snap_seg
    __snap_envdirty=1
    { : >>"$__snap_j"; } 2>/dev/null
    umask ${u:-022}
    return 0
}

# Before each command: $1 is the line as typed (history's copy of it).
__snap_preexec() {
    [[ ${SNAP_DISABLE-} == 1 ]] && return 0
    emulate -L zsh -o extended_glob
    # What history keeps to itself stays out of the journal too.
    [[ $1 == ' '* && -o hist_ignore_space ]] && return 0
    # Another hook changed a watched variable since the prompt: record that first.
    if [[ ${PATH-}${VIRTUAL_ENV-}${CONDA_PREFIX-}${DIRENV_DIFF-}${NODE_ENV-} != "$__snap_watch" ]]; then
        __snap_write_env
    fi
    # Might the line change the environment? `export NAME[=value]` and `NAME=value`
    # name the one variable they change; a word that can change any, a function or an
    # alias that might, make the next environment record whole.
    if [[ $1 == (#b)(export[[:blank:]]##|)([[:IDENT:]]##)(=[^[:space:]\;\&\|\`]#|) && -n $match[1]$match[3] ]]; then
        __snap_envnames+=($match[2])
    elif [[ $1 == ${~__snap_pat} ]]; then
        __snap_envdirty=1
    else
        local w=${1%%[[:space:]\;\&\|]*}
        if (( $+functions[$w] )); then
            __snap_envdirty=1
        elif (( $+aliases[$w] )); then
            [[ $aliases[$w] == ${~__snap_pat} || $+functions[${aliases[$w]%%[[:space:]]*}] == 1 ]] &&
                __snap_envdirty=1
        fi
    fi
    __snap_running=1
    [[ $PWD == "$__snap_pwd" ]] || __snap_cwd
    # (zsh reports a failed redirection itself, on the shell's stderr: only the group's
    # redirection silences it.)
    { print -rn -- "$__snap_rs"$'S\t'"$EPOCHREALTIME"$'\t'"$__snap_e"$'\tt\t'"$__snap_origin"$'\n'"$1"$'\n' >>"$__snap_j"; } 2>&$__snap_null
    __snap_origin=shell
    return 0
}

# Runs first at every prompt: the end record and, in the same write, the environment
# when it may have changed (a watched variable moved, or the line could change it).
__snap_precmd() {
    local s=$? t=$EPOCHREALTIME
    emulate -L zsh
    local REPLY=
    if (( __snap_envdirty || $#__snap_envnames )) || [[ ${PATH-}${VIRTUAL_ENV-}${CONDA_PREFIX-}${DIRENV_DIFF-}${NODE_ENV-} != "$__snap_watch" ]]; then
        [[ ${SNAP_DISABLE-} == 1 ]] || __snap_env_record $t
    fi
    if (( __snap_running )); then
        __snap_running=0
        [[ $PWD == "$__snap_pwd" ]] || __snap_cwd
        REPLY="$__snap_rs"$'E\t'"$t"$'\t'"$s"$'\t-\t'"$__snap_e"$'\n'$REPLY
        __snap_n+=1
    fi
    if [[ -n $REPLY ]]; then
        { print -rn -- "$REPLY" >>"$__snap_j"; } 2>&$__snap_null || __snap_envdirty=1
    fi
    (( __snap_n < 1000 )) || __snap_rotate
    [[ -z ${SNAP_RESTORE-} ]] || __snap_restore
    return $s
}

# A restored or started shell: record the baseline, then apply the saved state
# (cwd, variables, history, screen) now that the rc files have run.
__snap_restore() {
    local f=$SNAP_RESTORE
    unset SNAP_RESTORE
    [[ ! -f $f ]] || builtin source "$f" || :
    __snap_envdirty=1
    __snap_write_env
    return 0
}

# The environment record at time $1, into REPLY: whole, as `export NAME='value'` lines (what
# `export -p` prints, minus its `-T` form for tied variables like PATH, and with bytes
# kept raw), or only the variables lines named since the last one (form `zsh+`; a
# variable no longer exported is written as `typeset NAME`). Whole at the first
# prompt, in every new segment and after a failed write.
__snap_env_record() {
    local n watch=${PATH-}${VIRTUAL_ENV-}${CONDA_PREFIX-}${DIRENV_DIFF-}${NODE_ENV-}
    if (( __snap_envdirty )) || [[ $watch != "$__snap_watch" ]]; then
        __snap_watch=$watch
        REPLY+="$__snap_rs"$'V\t'"$1"$'\tzsh\n'
        for n in ${(k)parameters[(R)*export*]}; do
            REPLY+="export $n=${(qq)${(P)n}}"$'\n'
        done
    else
        REPLY+="$__snap_rs"$'V\t'"$1"$'\tzsh+\n'
        for n in ${(u)__snap_envnames}; do
            if [[ ${parameters[$n]-} == *export* ]]; then
                REPLY+="export $n=${(qq)${(P)n}}"$'\n'
            else
                REPLY+="typeset $n"$'\n'
            fi
        done
    fi
    __snap_envdirty=0 __snap_envnames=()
}

# The environment on its own (no command ended: a restore, the exit, another hook).
__snap_write_env() {
    [[ ${SNAP_DISABLE-} == 1 ]] && return 0
    local REPLY=
    __snap_env_record $EPOCHREALTIME
    { print -rn -- "$REPLY" >>"$__snap_j"; } 2>&$__snap_null || __snap_envdirty=1
    (( ++__snap_n < 1000 )) || __snap_rotate
    return 0
}

# The shell is ending: a deliberate exit keeps its terminal, a hangup has lost it.
__snap_exit() {
    local s=$? how=hangup
    emulate -L zsh
    # A subshell running `exit` runs zshexit too: only the shell itself counts.
    (( ${ZSH_SUBSHELL:-0} == 0 )) || return $s
    [[ -t 0 ]] && how=exit
    if [[ ${SNAP_DISABLE-} != 1 && -n ${__snap_j-} ]]; then
        (( __snap_envdirty || $#__snap_envnames )) && __snap_write_env
        { print -rn -- "$__snap_rs"$'X\t'"$EPOCHREALTIME"$'\t'"$how"$'\n' >>"$__snap_j"; } 2>&$__snap_null
    fi
    return $s
}

__snap_setup
unfunction __snap_setup
