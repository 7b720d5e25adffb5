# snap: shell integration for fish 3.2+. Load it with:  snap init fish | source
#
# At each command it appends to $SNAP_HOME/shells/<id>/journal (see src/store/journal.rs):
# a start record (the line as typed, time, cwd), an end record (exit status, duration,
# cwd after it), the exported environment when it may have changed, and how the shell
# ended. Nothing is printed and $status is left alone. fish 3.6 has no builtin clock:
# on Linux the hook reads /proc/uptime (a builtin `read`, no process) against an offset
# measured once at start-up; elsewhere it runs `date` once per command. The end time is
# the start plus $CMD_DURATION. No HUP handler: a hangup ends jobs as before.
# Journal format 2: every record starts with RS and the shell's token (__snap_rs), kept
# unexported, so no typed byte can start one. The restore script calls
# __snap_from_restore for the line `snap restore` puts in the shell: its start record
# says so.

set -g __snap_bin @SNAP_BIN@

function __snap_setup
    status is-interactive; or return 0
    if set -q __snap_dir
        # Sourced again: a newer hook over an older one gets its token, then its handlers.
        set -q __snap_rs; and return 0
        __snap_upgrade
    else
        # Private mode keeps nothing: no history, no journal, no trace of the shell.
        test -n "$fish_private_mode"; and return 0
        set -l v (string split . -- $version)
        if test "$v[1]" -lt 3 2>/dev/null; or begin
                test "$v[1]" -eq 3; and test "$v[2]" -lt 2 2>/dev/null
            end
            printf 'snap: fish %s is not supported: snap needs fish 3.2 or later\n' $version >&2
            return 0
        end

        # The clock, once (start-up may spawn): microseconds since the epoch.
        set -l now (date +%s%6N 2>/dev/null)
        string match -qr '^[0-9]{16,}$' -- "$now"; or set now (date +%s 2>/dev/null)000000
        set -g __snap_t $now
        if test -r /proc/uptime; and read -l up _ </proc/uptime; and string match -qr '^[0-9]+\.[0-9]+$' -- $up
            set -g __snap_off (math -s0 "$now - round($up * 100) * 10000")
        else
            set -g __snap_date (string match -qr '^[0-9]{16,}$' -- (date +%s%6N 2>/dev/null); and echo 6; or echo 0)
        end

        set -l id $now-$fish_pid-(printf '%04x' (random 0 65535))
        # The token on the first line, the directory after it.
        set -l out ($__snap_bin shell-start fish $id $fish_pid --version $version --token 2>/dev/null)
        string match -qr '^[0-9a-f]{32}$' -- "$out[1]"; or return 0
        set -l dir (string join \n -- $out[2..-1])
        test -n "$dir" -a -d "$dir"; or return 0
        set -g __snap_rs \x1e$out[1]
        set -g __snap_origin shell
        set -g __snap_dir $dir
        set -g __snap_j $dir/journal
        set -g __snap_seg 0
        set -g __snap_cnt
        set -g __snap_running 0
        set -g __snap_t0 0
        set -g __snap_envdirty 1
        set -g __snap_watch
        set -g __snap_e
        set -g __snap_pwd
        set -g __snap_ecwd
        set -g __snap_pat '(^|[;&|(]|\b(and|or|not|begin|if|while|command|builtin)\s)\s*(set|source|\.|eval|export|cd|pushd|popd|prevd|nextd|umask)(\s|;|$)'
        set -gx SNAP_SHELL_ID $id
        set -gx SNAP_SHELL_PID $fish_pid
        set -e SNAP_REPLACES
        set -e SNAP_KEEP_ENV
    end

    # Before each command: the line as typed. (The hot paths are inlined: in fish a
    # function call or a command substitution costs as much as a write.)
    function __snap_preexec --on-event fish_preexec
        test "$SNAP_DISABLE" = 1; and return 0
        test -n "$fish_private_mode"; and return 0
        # fish never keeps a line starting with a space in its history: neither does snap.
        string match -q -- ' *' $argv[1]; and return 0
        # Another hook changed a watched variable since the prompt: record that first.
        test "$PATH:$VIRTUAL_ENV:$CONDA_PREFIX:$DIRENV_DIFF:$NODE_ENV" = "$__snap_watch"
        or __snap_write_env
        # Might the line change the environment? A word that can, or a user's function.
        if string match -qr -- $__snap_pat $argv[1]
            set -g __snap_envdirty 1
        else
            __snap_userfn $argv[1]; and set -g __snap_envdirty 1
        end
        if set -q __snap_off
            read -l up _ </proc/uptime
            and set -g __snap_t0 (math -s0 "round($up * 100) * 10000 + $__snap_off")
        else
            __snap_now
            set -g __snap_t0 $__snap_t
        end
        set -g __snap_running 1
        test "$PWD" = "$__snap_pwd"; or __snap_cwd
        set -a __snap_cnt 1
        set -q __snap_cnt[2000]; and __snap_rotate
        # The write comes last: a Ctrl-C typed while a handler runs cancels the handler.
        # (The test is __snap_writable, inlined.)
        test -w $__snap_j; or test -w $__snap_dir -a ! -e $__snap_j; and printf $__snap_rs'S\t%s\t%s\tt\t%s\n%s\n' $__snap_t0 "$__snap_ecwd" $__snap_origin $argv[1] >>$__snap_j 2>/dev/null
    end

    # After each command: the end record (start plus $CMD_DURATION); $status first.
    function __snap_postexec --on-event fish_postexec
        set -l s $status
        test "$__snap_running" = 1; or return 0
        set -g __snap_running 0
        test "$SNAP_DISABLE" = 1; and return 0
        # fish gives a job stopped by Ctrl-Z no status of its own (it keeps the last
        # one): a new stopped job running this line is 128 + SIGTSTP, as in bash and zsh.
        if jobs -q
            set -l row (string split \t -- (jobs --last)[-1])
            if test "$row[4]" = stopped; and test "$row[5]" = "$argv[1]"; and test "$row[2]" != "$__snap_stopped"
                set s 148
                set -g __snap_stopped $row[2]
            end
        end
        set -l d $CMD_DURATION
        test -n "$d"; or set d 0
        set -g __snap_t (math -s0 "$__snap_t0 + $d * 1000")
        test "$PWD" = "$__snap_pwd"; or __snap_cwd
        test -w $__snap_j; or test -w $__snap_dir -a ! -e $__snap_j; and printf $__snap_rs'E\t%s\t%s\t%s\t%s\n' $__snap_t $s $d "$__snap_ecwd" >>$__snap_j 2>/dev/null
        set -a __snap_cnt 1
        set -q __snap_cnt[2000]; and __snap_rotate
    end

    # Before each prompt (the first one included: the baseline): the environment, when
    # it may have changed.
    function __snap_prompt --on-event fish_prompt
        test "$SNAP_DISABLE" = 1; and return 0
        test -n "$fish_private_mode"; and return 0
        if set -q SNAP_RESTORE
            __snap_restore
        else if test "$__snap_envdirty" = 1
            __snap_write_env
        else if test "$PATH:$VIRTUAL_ENV:$CONDA_PREFIX:$DIRENV_DIFF:$NODE_ENV" != "$__snap_watch"
            __snap_write_env
        end
    end

    # The shell is ending: a deliberate exit keeps its terminal, a hangup has lost it.
    # fish runs fish_exit on exit, Ctrl-D and hangup, never on exec.
    function __snap_exit --on-event fish_exit
        test "$SNAP_DISABLE" = 1; and return 0
        test -n "$fish_private_mode"; and return 0
        set -l how hangup
        test -t 0; and set how exit
        test "$__snap_envdirty" = 1; and __snap_write_env
        __snap_now
        __snap_writable; and printf $__snap_rs'X\t%s\t%s\n' $__snap_t $how >>$__snap_j 2>/dev/null
    end
    return 0
end

# A newer hook sourced over an older one (a shell with no token yet): give the shell
# its token and go on in a new segment (the older one stays format 1, see journal.rs).
# Without a token, record nothing rather than what the reader would misread.
function __snap_upgrade
    set -l out ($__snap_bin shell-start fish $SNAP_SHELL_ID $fish_pid --version $version --token 2>/dev/null)
    set -g __snap_origin shell
    if string match -qr '^[0-9a-f]{32}$' -- "$out[1]"; and test (string join \n -- $out[2..-1]) = "$__snap_dir"
        set -g __snap_rs \x1e$out[1]
        __snap_rotate
    else
        set -g __snap_rs \x1e
        set -g __snap_j /dev/null
        set -g __snap_dir /dev/null
    end
end

# The next line is the one `snap restore` puts in the shell (its script calls this): its
# start record says origin restore. Handlers of its own reset it once that line ended
# (armed when it starts), so the hot path pays nothing for it.
function __snap_from_restore
    set -g __snap_origin restore
    function __snap_origin_arm --on-event fish_preexec
        functions -e __snap_origin_arm
        function __snap_origin_reset --on-event fish_postexec
            functions -e __snap_origin_reset
            set -g __snap_origin shell
        end
    end
end

# Now, in microseconds since the epoch, into __snap_t.
function __snap_now
    if set -q __snap_off
        read -l up _ </proc/uptime
        and set -g __snap_t (math -s0 "round($up * 100) * 10000 + $__snap_off")
    else if test "$__snap_date" = 6
        set -g __snap_t (date +%s%6N)
    else
        set -g __snap_t (date +%s)000000
    end
end

# Escape a journal field (\ TAB LF CR) into __snap_e.
function __snap_esc
    set -g __snap_e $argv[1]
    if string match -qr '[\\\\\t\n\r]' -- $argv[1]
        set -l parts (string split \n -- $argv[1])
        set parts (string replace -a -- \\ \\\\ $parts)
        set parts (string replace -a -- \t \\t $parts)
        set parts (string replace -a -- \r \\r $parts)
        set -g __snap_e (string join -- \\n $parts)
    end
end

# The current directory, escaped, into __snap_ecwd (kept until the directory changes).
function __snap_cwd
    set -g __snap_pwd $PWD
    __snap_esc $PWD
    set -g __snap_ecwd $__snap_e
end

# Start a new journal segment every so many records (0600 whatever the umask).
function __snap_rotate
    set -g __snap_cnt
    set -l u $umask
    umask 077
    set -g __snap_seg (math $__snap_seg + 1)
    set -g __snap_j $__snap_dir/journal.$__snap_seg
    __snap_writable; and true >>$__snap_j 2>/dev/null
    umask $u
end

# May the journal be appended to? fish prints a warning of its own when a redirection
# fails (a read-only store, a removed directory), whatever 2> says: look first.
function __snap_writable
    test -w $__snap_j; or test -w $__snap_dir -a ! -e $__snap_j
end

# Is the line's first word a function of the user's? (The functions fish ships cannot
# export anything that the watched variables miss.)
function __snap_userfn
    # fish 3.4+ sets named captures as variables (no command substitution).
    string match -qr -- '^\s*(?<w>[^\s;&|]+)' $argv[1] 2>/dev/null
    set -q w[1]; or set -l w (string split -n -m1 ' ' -- (string trim -l -- $argv[1]))[1]
    functions -q -- $w; or return 1
    not string match -q -- "$__fish_data_dir/*" (functions --details -- $w)
end

# A restored or started shell: record the baseline, then apply the saved state
# (cwd, variables, history, screen) now that the config files have run.
function __snap_restore
    set -l f $SNAP_RESTORE
    set -e SNAP_RESTORE
    test "$__snap_envdirty" = 1; and __snap_write_env
    test -f "$f"; and source $f
    __snap_write_env
end

# The exported environment: NAME TAB escaped value, lists joined as fish joins them
# in quotes (':' for *PATH variables, ' ' otherwise).
function __snap_write_env
    set -g __snap_envdirty 0
    set -g __snap_watch "$PATH:$VIRTUAL_ENV:$CONDA_PREFIX:$DIRENV_DIFF:$NODE_ENV"
    set -q __snap_off; and __snap_now
    set -l out
    for n in (set -nx)
        set -a out $n "$$n"
    end
    # Escape only when some value needs it (rare): one test for the whole list.
    if string match -qr '[\\\\\t\n\r]' -- $out
        for i in (seq 2 2 (count $out))
            __snap_esc $out[$i]
            set out[$i] $__snap_e
        end
    end
    __snap_writable; and begin
        printf $__snap_rs'V\t%s\tfish\n' $__snap_t
        printf '%s\t%s\n' $out
    end >>$__snap_j 2>/dev/null
    set -a __snap_cnt 1
    set -q __snap_cnt[2000]; and __snap_rotate
end

__snap_setup
functions -e __snap_setup
