# snap: shell integration for zsh 5.1+. Load it with:  eval "$(snap init zsh)"
#
# At each command it appends to $SNAP_HOME/shells/<id>/journal (see src/store/journal.rs):
# a start record (the line as typed, time, cwd), an end record (exit status, duration,
# cwd after it), the exported environment when it may have changed, and how the shell
# ended. The prompt path runs builtins only: no $(...), no pipe, no external command.
# $? is left as it was; nothing is printed. No HUP trap: a hangup ends jobs as before.

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
    local id dir
    typeset -gi __snap_t=0
    __snap_now
    printf -v id '%s-%s-%04x' "$__snap_t" "$$" "$RANDOM"
    dir=$("$__snap_bin" shell-start zsh "$id" "$$" --version "$ZSH_VERSION" 2>/dev/null) || dir=
    [[ -n $dir && -d $dir ]] || return 0
    typeset -g __snap_dir=$dir __snap_j=$dir/journal __snap_watch= __snap_e=
    typeset -gi __snap_seg=0 __snap_n=0 __snap_running=0 __snap_t0=0 __snap_envdirty=1
    export SNAP_SHELL_ID=$id SNAP_SHELL_PID=$$

    # Run first at the prompt (the command's own end), last before a command (its start).
    typeset -ga precmd_functions preexec_functions zshexit_functions
    precmd_functions=(__snap_precmd ${precmd_functions:#__snap_precmd})
    preexec_functions=(${preexec_functions:#__snap_preexec} __snap_preexec)
    # How the shell ends: zsh runs zshexit on exit, Ctrl-D and hangup (after it has sent
    # SIGHUP to its jobs), never on exec. Never trap HUP.
    zshexit_functions=(__snap_exit ${zshexit_functions:#__snap_exit})
    return 0
}

# Now, in microseconds since the epoch, into __snap_t (one clock read).
__snap_now() {
    local -a e
    e=($epochtime)
    (( __snap_t = e[1] * 1000000 + e[2] / 1000 ))
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
    (( ++__snap_n < 2000 )) && return 0
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

# Might this line change the exported environment? A word that can (export, source,
# an assignment…) at the start of a command, or a function or alias that might.
__snap_envcheck() {
    local pat='(|*[[:space:]\;\&\|\(\{])(export|unset|typeset|declare|local|readonly|integer|float|source|.|eval|cd|pushd|popd|set|emulate|[[:IDENT:]]##=*)([[:space:]\;\&\|\)]*|)'
    if [[ $1 == ${~pat} ]]; then
        __snap_envdirty=1
        return 0
    fi
    local w=${1##[[:space:]]#}
    w=${w%%[[:space:]\;\&\|]*}
    if (( $+functions[$w] )); then
        __snap_envdirty=1
    elif (( $+aliases[$w] )) && [[ $aliases[$w] == ${~pat} || $+functions[${aliases[$w]%%[[:space:]]*}] == 1 ]]; then
        __snap_envdirty=1
    fi
    return 0
}

# Write the environment when it may have changed, or another hook changed a watched one.
__snap_envwatch() {
    local d=${PATH-}:${VIRTUAL_ENV-}:${CONDA_PREFIX-}:${DIRENV_DIFF-}:${NODE_ENV-}
    [[ $d == "$__snap_watch" ]] || __snap_envdirty=1
    if (( __snap_envdirty )); then
        __snap_watch=$d
        __snap_write_env
    fi
}

# Before each command: $1 is the line as typed (history's copy of it).
__snap_preexec() {
    emulate -L zsh
    setopt extended_glob
    [[ ${SNAP_DISABLE-} == 1 ]] && return 0
    local line=${1-}
    # The line history keeps to itself stays out of the journal too.
    [[ -o hist_ignore_space && $line == ' '* ]] && return 0
    # Another hook may have changed the environment since the prompt: note it first.
    __snap_envwatch
    __snap_envcheck "$line"
    __snap_now
    __snap_t0=$__snap_t
    __snap_running=1
    __snap_esc "$PWD"
    __snap_count
    { print -rn -- $'\036S\t'"$__snap_t"$'\t'"$__snap_e"$'\tt\n'"$line"$'\n' >>"$__snap_j"; } 2>/dev/null
    return 0
}

# Runs first at every prompt: end record, environment when it may have changed.
__snap_precmd() {
    local s=$?
    emulate -L zsh
    if (( __snap_running )); then
        __snap_running=0
        if [[ ${SNAP_DISABLE-} != 1 ]]; then
            __snap_now
            __snap_esc "$PWD"
            { print -rn -- $'\036E\t'"$__snap_t"$'\t'"$s"$'\t'"$(( (__snap_t - __snap_t0) / 1000 ))"$'\t'"$__snap_e"$'\n' >>"$__snap_j"; } 2>/dev/null
            __snap_count
        fi
    fi
    [[ ${SNAP_DISABLE-} == 1 ]] || __snap_envwatch
    return $s
}

# The exported environment, as `export NAME='value'` lines (the `export -p` form).
__snap_write_env() {
    __snap_envdirty=0
    __snap_now
    local n out=$'\036V\t'"$__snap_t"$'\tzsh\n'
    for n in ${(ko)parameters[(R)*export*]}; do
        out+="export $n=${(qq)${(P)n}}"$'\n'
    done
    { print -rn -- "$out" >>"$__snap_j"; } 2>/dev/null
    __snap_count
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
        __snap_now
        { print -rn -- $'\036X\t'"$__snap_t"$'\t'"$how"$'\n' >>"$__snap_j"; } 2>/dev/null
    fi
    return $s
}

__snap_setup
unfunction __snap_setup
