# snap: shell integration for zsh 5.1+. Load it with:  eval "$(snap init zsh)"
#
# At each command it appends to $SNAP_HOME/shells/<id>/journal (see src/store/journal.rs):
# a start record (the line as typed, time, cwd), an end record (exit status, cwd after
# it; the reader derives the duration from the two times), the exported environment
# when it may have changed, and how the shell ended. The prompt path runs builtins only:
# no $(...), no pipe, no external command, and few function calls (each costs about as
# much as a write). $? is left as it was; nothing is printed. No HUP trap: a hangup
# ends the shell's jobs exactly as without the hook.

typeset -g __snap_bin=@SNAP_BIN@

__snap_setup() {
    emulate -L zsh
    [[ -o interactive ]] || return 0
    [[ -z ${__snap_dir-} ]] || return 0
    local -a v
    v=(${(s:.:)ZSH_VERSION})
    if (( v[1] < 5 || (v[1] == 5 && v[2] < 1) )); then
        print -ru2 -- "snap: zsh $ZSH_VERSION is not supported: snap needs zsh 5.1 or later"
        return 0
    fi
    zmodload zsh/datetime 2>/dev/null && zmodload zsh/parameter 2>/dev/null || return 0
    local id dir now=${EPOCHREALTIME/[.,]/}
    printf -v id '%s-%s-%04x' "${now[1,16]}" "$$" "$RANDOM"
    dir=$("$__snap_bin" shell-start zsh "$id" "$$" --version "$ZSH_VERSION" 2>/dev/null) || dir=
    [[ -n $dir && -d $dir ]] || return 0
    typeset -g __snap_dir=$dir __snap_j=$dir/journal __snap_watch= __snap_pwd= __snap_e=
    typeset -gi __snap_seg=0 __snap_n=0 __snap_running=0 __snap_envdirty=1 __snap_null
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
    { : >>"$__snap_j"; } 2>/dev/null
    umask ${u:-022}
    return 0
}

# Before each command: $1 is the line as typed (history's copy of it).
__snap_preexec() {
    [[ ${SNAP_DISABLE-} == 1 ]] && return 0
    emulate -L zsh
    setopt extended_glob
    # What history keeps to itself stays out of the journal too.
    [[ $1 == ' '* && -o hist_ignore_space ]] && return 0
    # Another hook changed a watched variable since the prompt: record that first.
    if [[ ${PATH-}${VIRTUAL_ENV-}${CONDA_PREFIX-}${DIRENV_DIFF-}${NODE_ENV-} != "$__snap_watch" ]]; then
        __snap_write_env
    fi
    # Might the line change the environment? A word that can; a function or an alias
    # that might.
    if [[ $1 == ${~__snap_pat} ]]; then
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
    (( ++__snap_n < 2000 )) || __snap_rotate
    # The write comes last, once all else is done. (zsh reports a failed redirection
    # itself, on the shell's stderr: only the group's redirection silences it.)
    { print -rn -- $'\036S\t'"$EPOCHREALTIME"$'\t'"$__snap_e"$'\tt\n'"$1"$'\n' >>"$__snap_j"; } 2>&$__snap_null
    return 0
}

# Runs first at every prompt: the end record, and the environment when it may have
# changed (a watched variable moved, or the line could change it).
__snap_precmd() {
    local s=$?
    emulate -L zsh
    if (( __snap_running )); then
        __snap_running=0
        if [[ ${SNAP_DISABLE-} != 1 ]]; then
            [[ $PWD == "$__snap_pwd" ]] || __snap_cwd
            { print -rn -- $'\036E\t'"$EPOCHREALTIME"$'\t'"$s"$'\t-\t'"$__snap_e"$'\n' >>"$__snap_j"; } 2>&$__snap_null
            (( ++__snap_n < 2000 )) || __snap_rotate
        fi
    fi
    [[ -z ${SNAP_RESTORE-} ]] || __snap_restore
    if (( __snap_envdirty )) || [[ ${PATH-}${VIRTUAL_ENV-}${CONDA_PREFIX-}${DIRENV_DIFF-}${NODE_ENV-} != "$__snap_watch" ]]; then
        [[ ${SNAP_DISABLE-} == 1 ]] || __snap_write_env
    fi
    return $s
}

# A restored or started shell: record the baseline, then apply the saved state
# (cwd, variables, history, screen) now that the rc files have run.
__snap_restore() {
    local f=$SNAP_RESTORE
    unset SNAP_RESTORE
    [[ ${SNAP_DISABLE-} == 1 ]] || (( ! __snap_envdirty )) || __snap_write_env
    [[ ! -f $f ]] || builtin source "$f" || :
    __snap_envdirty=1
    return 0
}

# The exported environment, as `export NAME='value'` lines (what `export -p` prints,
# minus its `-T` form for tied variables like PATH, and with bytes kept raw).
__snap_write_env() {
    __snap_envdirty=0
    __snap_watch=${PATH-}${VIRTUAL_ENV-}${CONDA_PREFIX-}${DIRENV_DIFF-}${NODE_ENV-}
    local n out=$'\036V\t'"$EPOCHREALTIME"$'\tzsh\n'
    for n in ${(k)parameters[(R)*export*]}; do
        out+="export $n=${(qq)${(P)n}}"$'\n'
    done
    (( ++__snap_n < 2000 )) || __snap_rotate
    { print -rn -- "$out" >>"$__snap_j"; } 2>&$__snap_null
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
        (( __snap_envdirty )) && __snap_write_env
        { print -rn -- $'\036X\t'"$EPOCHREALTIME"$'\t'"$how"$'\n' >>"$__snap_j"; } 2>&$__snap_null
    fi
    return $s
}

__snap_setup
unfunction __snap_setup
