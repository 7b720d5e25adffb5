# The floor of a builtins-only zsh hook, for benches/prompt.sh: a start record (time,
# cwd, the line) before each command and an end record (time, status) at the prompt,
# appended to $FLOOR_JOURNAL, and nothing else.
PS1='$ '
zmodload zsh/datetime
_fs() { print -rn -- $'\036S\t'"$EPOCHREALTIME"$'\t'"$PWD"$'\n'"$1"$'\n' >>$FLOOR_JOURNAL; }
_fe() { print -rn -- $'\036E\t'"$EPOCHREALTIME"$'\t'"$?"$'\n' >>$FLOOR_JOURNAL; }
preexec_functions=(_fs)
precmd_functions=(_fe)
