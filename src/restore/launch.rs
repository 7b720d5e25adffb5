//! How a restored (or started) shell gets its state: a script in the shell's own syntax,
//! named by `SNAP_RESTORE`, that the hook sources at the shell's first prompt, after the
//! user's rc files ran (login shells reset `PATH`). It loads the history into the shell's
//! native history, puts a held command in the edit buffer (or readies the key that does),
//! prints the saved screen, removes its own files, changes directory and exports the
//! variables. Nothing in it runs a command from the snapshot: a command runs only when
//! Enter is pressed, by the user or by restore for an `auto` one.

use crate::model::ShellKind;
use crate::store::atomic::write_atomic;
use crate::store::paths::{ensure_private_dir, Paths};
use crate::store::restore_files;
use crate::text::{fish_quote, posix_quote, quote};
use anyhow::Result;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// What a new shell is given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShellSetup {
    pub kind: ShellKind,
    pub cwd: String,
    pub env: BTreeMap<String, String>,
    /// Commands, oldest first, for the shell's native history.
    pub history: Vec<(i64, String)>,
    /// Text shown above the first prompt (saved screen, brief).
    pub banner: String,
    /// Commands for the edit buffer, in order, each at its own prompt (jobs that gave the
    /// prompt back, then the pane's own line): each runs only on Enter. zsh gets the first
    /// at once; bash and fish each when [`HELD_KEY`] is typed at their prompt, and zsh the
    /// ones after its first.
    pub held: Vec<Held>,
    /// The shell this one replaces (`SNAP_REPLACES`).
    pub replaces: Option<String>,
    /// The session name, for shells outside tmux (`SNAP_SESSION`).
    pub session: Option<String>,
    /// Variables that always count as changed (`SNAP_KEEP_ENV`).
    pub keep_env: Vec<String>,
}

/// One command for the edit buffer, one line or many.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    pub text: String,
    /// Restore enters it itself (`auto`, or `--yes`): its start record says origin
    /// `restore` (the hook's `__snap_from_restore`).
    pub entered: bool,
}

/// The key sequence (Ctrl-X Ctrl-], as hex bytes for `tmux send-keys -H`) that a bash or
/// fish restore script binds, once, to put the held command in the edit buffer. zsh
/// needs none (`print -z`).
pub const HELD_KEY: [&str; 2] = ["18", "1d"];

/// Does a shell of `kind` need [`HELD_KEY`] typed to receive the `index`th line for its
/// edit buffer (zsh has its first at once)?
pub fn needs_held_key(kind: ShellKind, index: usize) -> bool {
    kind != ShellKind::Zsh || index > 0
}

/// The files one new shell reads, removed by its script once read.
struct Files<'a> {
    script: &'a Path,
    /// The history file (fish's: the user's own, kept).
    history: &'a Path,
}

/// The script the hook sources at the first prompt (pure). The files go before the
/// variables are exported, so that a restored `PATH` cannot hide `rm`.
fn script(setup: &ShellSetup, files: &Files) -> String {
    let q = |s: &str| quote(setup.kind, s);
    let mut out = String::new();
    let fish = setup.kind == ShellKind::Fish;
    let or_true = if fish { "" } else { " || :" };
    let history = q(&files.history.to_string_lossy());
    let scratch = q(&format!("{}.add", files.history.to_string_lossy()));
    if !setup.history.is_empty() {
        match setup.kind {
            ShellKind::Bash => out.push_str(&bash_history_merge(&history, &scratch)),
            ShellKind::Zsh => out.push_str(&zsh_history_merge(&history, &scratch)),
            ShellKind::Fish => {}
        }
    }
    if let Some(first) = setup.held.first() {
        out.push_str(&held_setup(setup.kind, &setup.held));
        if first.entered {
            out.push_str(match setup.kind {
                ShellKind::Fish => "functions -q __snap_from_restore; and __snap_from_restore\n",
                ShellKind::Zsh => "(( $+functions[__snap_from_restore] )) && __snap_from_restore\n",
                ShellKind::Bash => {
                    "builtin declare -F __snap_from_restore >/dev/null && __snap_from_restore\n"
                }
            });
        }
    }
    if !setup.banner.is_empty() {
        out.push_str(&format!("builtin printf '%s\\n' {}\n", q(&setup.banner)));
    }
    let mut remove = q(&files.script.to_string_lossy());
    if !fish {
        remove = format!("{remove} {history} {scratch}");
    }
    out.push_str(&format!("command rm -f -- {remove} 2>/dev/null{or_true}\n"));
    out.push_str(&format!(
        "builtin cd -- {} 2>/dev/null{or_true}\n",
        q(&setup.cwd)
    ));
    if setup.kind == ShellKind::Bash {
        // direnv loads the directory before the saved variables go on, as zsh's chpwd
        // and fish's PWD handler have it do: its bookkeeping then unloads them on leaving.
        out.push_str("builtin declare -F _direnv_hook >/dev/null && _direnv_hook\n");
    }
    let venv = setup.env.get(VENV).filter(|v| !v.is_empty());
    for (k, v) in &setup.env {
        if !crate::shellenv::is_var_name(k) || (venv.is_some() && VENV_SET.contains(&k.as_str())) {
            continue;
        }
        match venv {
            Some(venv) if k == "PATH" => out.push_str(&export(fish, k, &without_venv(v, venv))),
            _ => out.push_str(&export(fish, k, v)),
        }
    }
    if let Some(venv) = venv {
        out.push_str(&venv_activation(setup, venv));
    }
    out
}

/// The variable a Python virtualenv's activation sets to its directory.
const VENV: &str = "VIRTUAL_ENV";

/// What the activation script sets itself (its `PATH` entry too, see [`without_venv`]).
const VENV_SET: [&str; 2] = [VENV, "VIRTUAL_ENV_PROMPT"];

/// One variable exported, in the shell's syntax (fish: a `PATH`-like one as a list).
fn export(fish: bool, k: &str, v: &str) -> String {
    if !fish {
        return format!("export {k}={}\n", posix_quote(v));
    }
    if k.ends_with("PATH") {
        let parts: Vec<String> = v.split(':').map(fish_quote).collect();
        format!("set -gx --path {k} {}\n", parts.join(" "))
    } else {
        format!("set -gx {k} {}\n", fish_quote(v))
    }
}

/// `path` without the virtualenv's `bin` entry, which its activation puts back.
fn without_venv(path: &str, venv: &str) -> String {
    let bin = format!("{}/bin", venv.trim_end_matches('/'));
    path.split(':')
        .filter(|p| *p != bin)
        .collect::<Vec<_>>()
        .join(":")
}

/// The virtualenv `venv` active again by its own activation script (its prompt marker
/// and `deactivate` come back with it); when the script is gone, its variables only,
/// and a line that says so.
fn venv_activation(setup: &ShellSetup, venv: &str) -> String {
    let fish = setup.kind == ShellKind::Fish;
    let script = format!(
        "{}/bin/activate{}",
        venv.trim_end_matches('/'),
        if fish { ".fish" } else { "" }
    );
    let q = |s: &str| quote(setup.kind, s);
    let mut fallback = String::new();
    for k in VENV_SET {
        if let Some(v) = setup.env.get(k) {
            fallback.push_str(&export(fish, k, v));
        }
    }
    if let Some(path) = setup.env.get("PATH") {
        fallback.push_str(&export(fish, "PATH", path));
    }
    let note = q(&format!(
        "snap: {script} is gone: only the variables of the virtualenv came back (no prompt marker, no deactivate)"
    ));
    if fish {
        format!(
            "if test -f {s}\n    source {s}\nelse\n{fallback}    builtin printf '%s\\n' {note}\nend\n",
            s = q(&script)
        )
    } else {
        format!(
            "if [ -f {s} ]; then\n    builtin . {s}\nelse\n{fallback}    builtin printf '%s\\n' {note}\nfi\n",
            s = q(&script)
        )
    }
}

/// bash: load the lineage's commands (`file`, as [`history_text`] writes it) that the
/// shell's history lacks (it may have read them from its `HISTFILE` already), through
/// `scratch`: one-line ones with `history -r` (their times kept), a multi-line one (a
/// heredoc, a `lithist` entry) as one entry with `history -s`, since `history -r` would
/// split it into lines.
fn bash_history_merge(file: &str, scratch: &str) -> String {
    format!(
        r#"builtin declare -A __snap_seen
__snap_re='^ *[0-9]+[ *] (.+)$'
HISTTIMEFORMAT= builtin history >|{scratch}
while IFS= read -r __snap_l; do
    [[ $__snap_l =~ $__snap_re ]] && __snap_seen[${{BASH_REMATCH[1]}}]=1
done <{scratch}
: >|{scratch}
while IFS= read -r __snap_t && IFS= read -r __snap_l; do
    if [[ $__snap_t == *' {MULTI_LINE}' ]]; then
        builtin printf -v __snap_l '%b' "$__snap_l"
        [[ -n ${{__snap_seen[${{__snap_l%%$'
'*}}]-}} ]] && continue
        builtin history -r {scratch} || :
        : >|{scratch}
        builtin history -s -- "$__snap_l"
    elif [[ -z ${{__snap_seen[$__snap_l]-}} ]]; then
        builtin printf '%s
%s
' "$__snap_t" "$__snap_l" >>{scratch}
    fi
done <{file}
builtin history -r {scratch} || :
builtin unset __snap_seen __snap_re __snap_l __snap_t
"#
    )
}

/// The mark after a bash history time that says the next line is a multi-line command,
/// its backslashes doubled and its newlines written `\n` (what `printf %b` undoes).
const MULTI_LINE: &str = "%b";

/// zsh: load the lineage's commands (`file`, in `fc -R` format) that the shell's history
/// lacks (it may have read them from its `HISTFILE` already), through `scratch`.
fn zsh_history_merge(file: &str, scratch: &str) -> String {
    format!(
        r#"() {{
    emulate -L zsh
    local -A seen
    local v entry= nl=$'\n' cont=$'\\\n'
    for v in "${{(@v)history}}"; do seen[$v]=1; done
    while IFS= read -r v; do
        if [[ $v == *\\ ]]; then
            entry+=${{v%\\}}$nl
            continue
        fi
        entry+=$v
        (( ${{+seen[${{entry#*;}}]}} )) || print -r -- "${{entry//$nl/$cont}}"
        entry=
    done <{file} >|{scratch}
    builtin fc -R {scratch}
}} || :
"#
    )
}

/// The lines that put commands in the edit buffer, one at each [`HELD_KEY`] typed at a
/// prompt: a binding that sets the buffer from inside the line editor, marks each one
/// restore enters as from restore (the script marks the first), and removes itself after
/// the last (bash: `bind`, not `builtin bind`, which ble.sh wraps: it reads the keys
/// itself). zsh takes its first from its buffer stack (`print -z`, popped by the next
/// prompt), and needs the binding only for more. (pure)
fn held_setup(kind: ShellKind, lines: &[Held]) -> String {
    // The flags, the first's left to the script.
    let flags: Vec<&str> = lines
        .iter()
        .enumerate()
        .map(|(k, h)| if k > 0 && h.entered { "1" } else { "0" })
        .collect();
    let from = flags.join(" ");
    // The marking line, only where a line after the first is restore's.
    let marks = flags[1..].contains(&"1");
    let mark = |line: &str| {
        if marks {
            line.to_string()
        } else {
            String::new()
        }
    };
    match kind {
        ShellKind::Zsh if lines.len() == 1 => {
            format!("builtin print -rz -- {}\n", posix_quote(&lines[0].text))
        }
        ShellKind::Zsh => {
            let rest: Vec<String> = lines[1..].iter().map(|h| posix_quote(&h.text)).collect();
            let from = flags[1..].join(" ");
            format!(
                "builtin print -rz -- {first}
typeset -ga __snap_held=({rest}) __snap_held_from=({from})
__snap_held_put() {{
    BUFFER=$__snap_held[1]
    CURSOR=$#BUFFER
{mark}    shift __snap_held
    shift __snap_held_from
    (( $#__snap_held )) && return 0
    builtin bindkey -M emacs -r '^X^]'
    builtin bindkey -M viins -r '^X^]'
    builtin unset __snap_held __snap_held_from
}}
builtin zle -N __snap_held_put
builtin bindkey -M emacs '^X^]' __snap_held_put
builtin bindkey -M viins '^X^]' __snap_held_put
",
                first = posix_quote(&lines[0].text),
                rest = rest.join(" "),
                mark = mark(
                    "    (( __snap_held_from[1] && $+functions[__snap_from_restore] )) && __snap_from_restore\n"
                ),
            )
        }
        ShellKind::Fish => {
            let all: Vec<String> = lines.iter().map(|h| fish_quote(&h.text)).collect();
            format!(
                "set -g __snap_held {all}
set -g __snap_held_from {from}
function __snap_held_put
    commandline -r -- $__snap_held[1]
{mark}    set -e __snap_held[1]
    set -e __snap_held_from[1]
    test (count $__snap_held) -gt 0; and return
    set -e __snap_held
    set -e __snap_held_from
    bind -e \\x18\\x1d
    bind -M insert -e \\x18\\x1d
    functions -e __snap_held_put
end
bind \\x18\\x1d __snap_held_put
bind -M insert \\x18\\x1d __snap_held_put
",
                all = all.join(" "),
                mark = mark(
                    "    if test $__snap_held_from[1] = 1; and functions -q __snap_from_restore\n        __snap_from_restore\n    end\n"
                ),
            )
        }
        ShellKind::Bash => {
            let all: Vec<String> = lines.iter().map(|h| posix_quote(&h.text)).collect();
            format!(
                "__snap_held=({all}) __snap_held_from=({from})
__snap_held_put() {{
    READLINE_LINE=${{__snap_held[0]}}
    READLINE_POINT=${{#READLINE_LINE}}
{mark}    __snap_held=(\"${{__snap_held[@]:1}}\") __snap_held_from=(\"${{__snap_held_from[@]:1}}\")
    ((${{#__snap_held[@]}} == 0)) || return 0
    bind -m emacs -r '\\C-x\\C-]' 2>/dev/null
    bind -m vi-insert -r '\\C-x\\C-]' 2>/dev/null
    builtin unset -f __snap_held_put
    builtin unset __snap_held __snap_held_from
}}
bind -m emacs -x '\"\\C-x\\C-]\": __snap_held_put' 2>/dev/null || :
bind -m vi-insert -x '\"\\C-x\\C-]\": __snap_held_put' 2>/dev/null || :
",
                all = all.join(" "),
                mark = mark(
                    "    [[ ${__snap_held_from[0]} != 1 ]] || ! builtin declare -F __snap_from_restore >/dev/null || __snap_from_restore\n"
                ),
            )
        }
    }
}

/// The history file in the native format of `kind` (pure); for fish, entries of its
/// history file.
pub fn history_text(kind: ShellKind, history: &[(i64, String)]) -> String {
    let mut out = String::new();
    for (when_us, cmd) in history {
        match kind {
            ShellKind::Fish => {
                let escaped = cmd.replace('\\', "\\\\").replace('\n', "\\n");
                out.push_str(&format!(
                    "- cmd: {escaped}\n  when: {}\n",
                    when_us / 1_000_000
                ));
            }
            ShellKind::Zsh => {
                let escaped = cmd.replace('\n', "\\\n");
                out.push_str(&format!(": {}:0;{escaped}\n", when_us / 1_000_000));
            }
            ShellKind::Bash if cmd.contains('\n') => {
                out.push_str(&format!(
                    "#{} {MULTI_LINE}\n{}\n",
                    when_us / 1_000_000,
                    cmd.replace('\\', "\\\\").replace('\n', "\\n")
                ));
            }
            ShellKind::Bash => out.push_str(&format!("#{}\n{cmd}\n", when_us / 1_000_000)),
        }
    }
    out
}

/// A unique, file-name-safe token for one new shell.
pub fn token(session: &str, slot: &str) -> String {
    format!(
        "{session}-{slot}-{}-{}",
        std::process::id(),
        crate::timefmt::now_us()
    )
    .chars()
    .map(|c| {
        if c.is_ascii_alphanumeric() || c == '-' {
            c
        } else {
            '_'
        }
    })
    .collect()
}

/// Write the script and history for one new shell; returns the environment the shell
/// must be started with (`SNAP_RESTORE`, `SNAP_REPLACES`, …) and the script's path (gone
/// once the shell has read it). Leftovers of earlier shells are removed first.
pub fn prepare(
    paths: &Paths,
    setup: &ShellSetup,
    token: &str,
) -> Result<(Vec<(String, String)>, PathBuf)> {
    ensure_private_dir(&paths.state)?;
    let dir = restore_files::dir(paths);
    ensure_private_dir(&dir)?;
    restore_files::remove_stale(paths);
    let mut env = Vec::new();
    let history_file = if setup.kind == ShellKind::Fish {
        let fish_dir = fish_data_dir();
        let file = fish_dir.join(format!("{}_history", fish_session(&setup.env)));
        if !setup.history.is_empty() && !fish_session(&setup.env).is_empty() {
            ensure_private_dir(&fish_dir)?;
            add_to_fish_history(&file, &setup.history)?;
        }
        file
    } else {
        let file = dir.join(format!("{token}.history"));
        write_atomic(&file, history_text(setup.kind, &setup.history).as_bytes())?;
        file
    };
    let script_file = dir.join(format!("{token}.{}", setup.kind));
    let files = Files {
        script: &script_file,
        history: &history_file,
    };
    write_atomic(&script_file, script(setup, &files).as_bytes())?;
    env.push((
        "SNAP_RESTORE".into(),
        script_file.to_string_lossy().into_owned(),
    ));
    if let Some(r) = &setup.replaces {
        env.push(("SNAP_REPLACES".into(), r.clone()));
    }
    if let Some(s) = &setup.session {
        env.push(("SNAP_SESSION".into(), s.clone()));
    }
    if !setup.keep_env.is_empty() {
        env.push(("SNAP_KEEP_ENV".into(), setup.keep_env.join(",")));
    }
    Ok((env, script_file))
}

/// `env K=V … COMMAND`, quoted for `sh -c` (how tmux runs a pane's command).
pub fn with_env(vars: &[(String, String)], command: &str) -> String {
    let mut s = String::from("env");
    for (k, v) in vars {
        s.push(' ');
        s.push_str(&posix_quote(&format!("{k}={v}")));
    }
    s.push(' ');
    s.push_str(command);
    s
}

/// The fish history session a restored fish writes to: the user's own (`fish_history`
/// as exported, `fish` by default; empty: none). The plan never carries a private one
/// of older restores (`shellenv::is_restore_history`).
fn fish_session(env: &BTreeMap<String, String>) -> &str {
    env.get("fish_history").map_or("fish", String::as_str)
}

/// Append to fish's history `file` the commands it lacks (by text), so the restored
/// fish and every other fish see the lineage once. fish reads the file at start.
fn add_to_fish_history(file: &Path, history: &[(i64, String)]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let have: HashSet<String> = match std::fs::read(file) {
        Ok(bytes) => String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|l| l.strip_prefix("- cmd: "))
            .map(fish_unescape)
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashSet::new(),
        Err(e) => anyhow::bail!("cannot read fish's history {}: {e}", file.display()),
    };
    let lacking: Vec<(i64, String)> = history
        .iter()
        .filter(|(_, cmd)| !have.contains(cmd))
        .cloned()
        .collect();
    if lacking.is_empty() {
        return Ok(());
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(file)
        .map_err(|e| anyhow::anyhow!("cannot write fish's history {}: {e}", file.display()))?;
    f.write_all(history_text(ShellKind::Fish, &lacking).as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write fish's history {}: {e}", file.display()))?;
    Ok(())
}

/// A `- cmd:` value of fish's history file, unescaped (`\\` and `\n`).
fn fish_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some('n')) => {
                out.push('\n');
                chars.next();
            }
            ('\\', Some('\\')) => {
                out.push('\\');
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// fish's data directory, where its history files live.
fn fish_data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".local/share")
        });
    base.join("fish")
}

/// The command that starts an interactive shell of `kind` with the hook active, even
/// when the user's rc does not load it (loading twice is harmless). For bash and zsh it
/// writes a small wrapper rc under the state dir that reads the user's own rc first.
pub fn shell_command(paths: &Paths, kind: ShellKind, snap_bin: &Path) -> Result<String> {
    let bin = posix_quote(&snap_bin.to_string_lossy());
    let dir = restore_files::dir(paths);
    ensure_private_dir(&paths.state)?;
    ensure_private_dir(&dir)?;
    Ok(match kind {
        ShellKind::Zsh => {
            let zdot = dir.join("zdotdir");
            ensure_private_dir(&zdot)?;
            let user = "${SNAP_USER_ZDOTDIR:-$HOME}";
            write_atomic(
                &zdot.join(".zshenv"),
                format!("[[ -f \"{user}/.zshenv\" ]] && builtin source \"{user}/.zshenv\"\n")
                    .as_bytes(),
            )?;
            let rc_dir = "${ZDOTDIR:-$HOME}";
            write_atomic(
                &zdot.join(".zshrc"),
                format!(
                    // The user's ZDOTDIR back, or none (as they had it): no variable of
                    // snap's making is left in the restored shell's environment.
                    "if [[ -n ${{SNAP_USER_ZDOTDIR-}} ]]; then ZDOTDIR=$SNAP_USER_ZDOTDIR; else unset ZDOTDIR; fi\nunset SNAP_USER_ZDOTDIR\n[[ -f \"{rc_dir}/.zshrc\" ]] && builtin source \"{rc_dir}/.zshrc\"\neval \"$({bin} init zsh)\"\n"
                )
                .as_bytes(),
            )?;
            let user_zdot = std::env::var("ZDOTDIR").unwrap_or_default();
            let keep = if user_zdot.is_empty() {
                String::new()
            } else {
                format!("SNAP_USER_ZDOTDIR={} ", posix_quote(&user_zdot))
            };
            format!(
                "env {keep}ZDOTDIR={} zsh -i",
                posix_quote(&zdot.to_string_lossy())
            )
        }
        ShellKind::Fish => format!(
            "fish -i -C {}",
            posix_quote(&format!(
                "{} init fish | source",
                fish_quote(&snap_bin.to_string_lossy())
            ))
        ),
        ShellKind::Bash => {
            let rc = dir.join(restore_files::WRAPPER_BASHRC);
            write_atomic(
                &rc,
                format!("[ -f ~/.bashrc ] && . ~/.bashrc\neval \"$({bin} init bash)\"\n")
                    .as_bytes(),
            )?;
            format!("bash --rcfile {} -i", posix_quote(&rc.to_string_lossy()))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_before_a_held_command_reach_the_edit_buffer_one_per_key_each_marked_from_restore() {
        for kind in [ShellKind::Bash, ShellKind::Zsh, ShellKind::Fish] {
            let mut s = setup(kind);
            let held = |text: &str, entered| Held {
                text: text.into(),
                entered,
            };
            s.held = vec![
                held("(cd sub && srv 1 &)", true),
                held("(srv 2 &)", true),
                held("npm run dev", false),
            ];
            let text = script(&s, &files());
            // Each line once, in order; the first marked by the script itself, the
            // second by the key's function (the third waits for Enter: not marked).
            let at: Vec<usize> = ["srv 1", "srv 2", "npm run dev"]
                .iter()
                .map(|l| {
                    text.find(l)
                        .unwrap_or_else(|| panic!("{kind}: {l}\n{text}"))
                })
                .collect();
            assert!(at.windows(2).all(|w| w[0] < w[1]), "{kind}\n{text}");
            for l in ["srv 1", "srv 2", "npm run dev"] {
                assert_eq!(text.matches(l).count(), 1, "{kind}: {l}\n{text}");
            }
            let flags = match kind {
                ShellKind::Zsh => "__snap_held_from=(1 0)",
                ShellKind::Fish => "set -g __snap_held_from 0 1 0\n",
                ShellKind::Bash => "__snap_held_from=(0 1 0)",
            };
            assert!(text.contains(flags), "{kind}\n{text}");
            assert!(text.contains("__snap_from_restore\n"), "{kind}\n{text}");
            assert!(needs_held_key(kind, 1));
        }
    }

    fn setup(kind: ShellKind) -> ShellSetup {
        ShellSetup {
            kind,
            cwd: "/tmp/it's here".into(),
            env: [
                ("PORT".to_string(), "3001".to_string()),
                ("Q".to_string(), "a'b\nc".to_string()),
            ]
            .into_iter()
            .collect(),
            history: vec![(1_764_000_000_000_000, "echo \"hi\"".into())],
            banner: "screen $(not run)".into(),
            ..Default::default()
        }
    }

    fn files() -> Files<'static> {
        Files {
            script: Path::new("/s/x.bash"),
            history: Path::new("/s/h"),
        }
    }

    #[test]
    fn a_virtualenv_comes_back_by_its_activation_or_says_only_its_variables_did() {
        for (kind, activate) in [
            (ShellKind::Bash, "builtin . '/v/env/bin/activate'"),
            (ShellKind::Fish, "source '/v/env/bin/activate.fish'"),
        ] {
            let mut s = setup(kind);
            s.env.insert("VIRTUAL_ENV".into(), "/v/env".into());
            s.env
                .insert("PATH".into(), "/v/env/bin:/usr/bin:/bin".into());
            let text = script(&s, &files());
            assert!(text.contains(activate), "{text}");
            // Before the activation: PATH without the virtualenv, no VIRTUAL_ENV.
            let before = &text[..text.find(activate).unwrap()];
            let path_line = before
                .lines()
                .find(|l| l.contains(" PATH ") || l.starts_with("export PATH="))
                .unwrap();
            assert!(!path_line.contains("/v/env/bin"), "{path_line}");
            assert!(
                !before.lines().any(|l| l.contains("VIRTUAL_ENV")),
                "{before}"
            );
            // The fallback puts the variables back and says so.
            let after = &text[text.find(activate).unwrap()..];
            assert!(after.contains("VIRTUAL_ENV"), "{after}");
            assert!(
                after.contains("only the variables of the virtualenv came back"),
                "{after}"
            );
        }
    }

    #[test]
    fn bash_script_quotes_everything_and_runs_nothing() {
        let s = script(&setup(ShellKind::Bash), &files());
        assert!(s.contains(r"builtin cd -- '/tmp/it'\''s here' 2>/dev/null || :"));
        assert!(s.contains("export PORT='3001'\n"));
        assert!(s.contains("export Q='a'\\''b\nc'\n"));
        assert!(s.contains("done <'/s/h'\n"));
        assert!(s.contains("builtin history -r '/s/h.add'"));
        assert!(s.contains("'screen $(not run)'"));
    }

    #[test]
    fn a_multi_line_bash_command_is_one_entry_marked_and_escaped() {
        let h = history_text(
            ShellKind::Bash,
            &[
                (1_000_000, "cat <<EOF\na\\nb\nEOF\n".into()),
                (2_000_000, "echo x".into()),
            ],
        );
        assert_eq!(h, "#1 %b\ncat <<EOF\\na\\\\nb\\nEOF\\n\n#2\necho x\n");
    }

    #[test]
    fn the_script_removes_its_files_before_exporting_a_path() {
        let s = script(&setup(ShellKind::Bash), &files());
        let rm = s
            .find("command rm -f -- '/s/x.bash' '/s/h' '/s/h.add'")
            .unwrap();
        assert!(rm > s.find("history -r").unwrap());
        assert!(rm < s.find("export ").unwrap());
        let fish = script(&setup(ShellKind::Fish), &files());
        assert!(fish.contains("command rm -f -- '/s/x.bash' 2>/dev/null\n"));
    }

    #[test]
    fn a_command_restore_enters_itself_is_marked_as_from_restore_and_a_held_one_is_not() {
        for kind in ShellKind::ALL {
            let mut s = setup(kind);
            s.held = vec![Held {
                text: "npm run dev".into(),
                entered: false,
            }];
            assert!(
                !script(&s, &files()).contains("__snap_from_restore"),
                "{kind}"
            );
            s.held[0].entered = true;
            assert!(
                script(&s, &files()).contains("__snap_from_restore\n"),
                "{kind}"
            );
        }
    }

    #[test]
    fn a_held_command_goes_to_the_edit_buffer_never_to_the_prompt_as_keys() {
        let held = "sleep 300\necho 'ran' > F";
        let mut zsh = setup(ShellKind::Zsh);
        zsh.held = vec![Held {
            text: held.into(),
            entered: false,
        }];
        let s = script(&zsh, &files());
        assert!(s.contains("builtin print -rz -- 'sleep 300\necho '\\''ran'\\'' > F'\n"));
        let mut bash = setup(ShellKind::Bash);
        bash.held = vec![Held {
            text: held.into(),
            entered: false,
        }];
        let s = script(&bash, &files());
        assert!(s.contains("__snap_held=('sleep 300\necho '\\''ran'\\'' > F')"));
        assert!(s.contains(r#"bind -m emacs -x '"\C-x\C-]": __snap_held_put'"#));
        assert!(s.contains(r"bind -m emacs -r '\C-x\C-]'"));
        let mut fish = setup(ShellKind::Fish);
        fish.held = vec![Held {
            text: held.into(),
            entered: false,
        }];
        let s = script(&fish, &files());
        assert!(s.contains("set -g __snap_held 'sleep 300\necho \\'ran\\' > F'\n"));
        assert!(s.contains("bind \\x18\\x1d __snap_held_put\n"));
        assert_eq!(HELD_KEY, ["18", "1d"]);
    }

    #[test]
    fn fish_script_and_history_format() {
        let s = script(&setup(ShellKind::Fish), &files());
        assert!(s.contains(r"builtin cd -- '/tmp/it\'s here'"));
        assert!(s.contains("set -gx PORT '3001'"));
        let h = history_text(ShellKind::Fish, &[(1_764_000_000_000_000, "a\nb".into())]);
        assert_eq!(h, "- cmd: a\\nb\n  when: 1764000000\n");
    }

    #[test]
    fn fish_gets_the_users_history_session() {
        let env = |v: &str| BTreeMap::from([("fish_history".to_string(), v.to_string())]);
        assert_eq!(fish_session(&BTreeMap::new()), "fish");
        assert_eq!(fish_session(&env("work")), "work");
        assert_eq!(fish_session(&env("")), "");
        assert_eq!(fish_unescape(r"a\nb\\c"), "a\nb\\c");
    }

    #[test]
    fn fish_history_gets_only_the_commands_it_lacks() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("fish_history");
        std::fs::write(
            &file,
            "- cmd: echo one\n  when: 1\n- cmd: a\\nb\n  when: 2\n",
        )
        .unwrap();
        let h = vec![
            (1_000_000, "echo one".to_string()),
            (2_000_000, "a\nb".into()),
            (3_000_000, "new".into()),
        ];
        add_to_fish_history(&file, &h).unwrap();
        add_to_fish_history(&file, &h).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text.matches("- cmd: ").count(), 3, "{text}");
        assert!(text.ends_with("- cmd: new\n  when: 3\n"));
    }
}
