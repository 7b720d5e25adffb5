//! How a restored (or started) shell gets its state: a script in the shell's own syntax,
//! named by `SNAP_RESTORE`, that the hook sources at the shell's first prompt, after the
//! user's rc files ran (login shells reset `PATH`). It changes directory, exports the
//! variables, loads the history into the shell's native history and prints the saved
//! screen. Nothing in it runs a command from the snapshot: relaunching is done by typing
//! at the prompt, by policy.

use crate::store::atomic::write_atomic;
use crate::store::paths::{ensure_private_dir, Paths};
use crate::text::{fish_quote, posix_quote, quote};
use anyhow::Result;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a new shell is given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShellSetup {
    /// `bash`, `zsh` or `fish`.
    pub kind: String,
    pub cwd: String,
    pub env: BTreeMap<String, String>,
    /// Commands, oldest first, for the shell's native history.
    pub history: Vec<(i64, String)>,
    /// Text shown above the first prompt (saved screen, brief).
    pub banner: String,
    /// The shell this one replaces (`SNAP_REPLACES`).
    pub replaces: Option<String>,
    /// The session name, for shells outside tmux (`SNAP_SESSION`).
    pub session: Option<String>,
    /// Variables that always count as changed (`SNAP_KEEP_ENV`).
    pub keep_env: Vec<String>,
}

/// The script the hook sources at the first prompt (pure).
pub fn script(setup: &ShellSetup, history_file: &Path) -> String {
    let q = |s: &str| quote(&setup.kind, s);
    let mut out = String::new();
    let fish = setup.kind == "fish";
    let or_true = if fish { "" } else { " || :" };
    out.push_str(&format!(
        "builtin cd -- {} 2>/dev/null{or_true}\n",
        q(&setup.cwd)
    ));
    for (k, v) in &setup.env {
        if !crate::shellenv::is_var_name(k) {
            continue;
        }
        if fish {
            let list = if k.ends_with("PATH") { " --path" } else { "" };
            if k.ends_with("PATH") {
                let parts: Vec<String> = v.split(':').map(fish_quote).collect();
                out.push_str(&format!("set -gx{list} {k} {}\n", parts.join(" ")));
            } else {
                out.push_str(&format!("set -gx {k} {}\n", fish_quote(v)));
            }
        } else {
            out.push_str(&format!("export {k}={}\n", posix_quote(v)));
        }
    }
    if !setup.history.is_empty() {
        match setup.kind.as_str() {
            "bash" => out.push_str(&format!(
                "builtin history -r {} || :\n",
                q(&history_file.to_string_lossy())
            )),
            "zsh" => out.push_str(&format!(
                "builtin fc -R {} || :\n",
                q(&history_file.to_string_lossy())
            )),
            _ => {}
        }
    }
    if !setup.banner.is_empty() {
        out.push_str(&format!("builtin printf '%s\\n' {}\n", q(&setup.banner)));
    }
    out
}

/// The history file in the native format of `kind` (pure). fish's is a history
/// session of its own (`fish_history`), in fish's format.
pub fn history_text(kind: &str, history: &[(i64, String)]) -> String {
    let mut out = String::new();
    for (when_us, cmd) in history {
        match kind {
            "fish" => {
                let escaped = cmd.replace('\\', "\\\\").replace('\n', "\\n");
                out.push_str(&format!(
                    "- cmd: {escaped}\n  when: {}\n",
                    when_us / 1_000_000
                ));
            }
            "zsh" => {
                let escaped = cmd.replace('\n', "\\\n");
                out.push_str(&format!(": {}:0;{escaped}\n", when_us / 1_000_000));
            }
            _ => {
                out.push_str(&format!(
                    "#{}\n{}\n",
                    when_us / 1_000_000,
                    cmd.replace('\n', "; ")
                ));
            }
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

/// Where restore scripts live.
fn restore_dir(paths: &Paths) -> PathBuf {
    paths.state.join("restore")
}

/// Write the script and history for one new shell; returns the environment the shell
/// must be started with (`SNAP_RESTORE`, `SNAP_REPLACES`, …).
pub fn prepare(paths: &Paths, setup: &ShellSetup, token: &str) -> Result<Vec<(String, String)>> {
    ensure_private_dir(&paths.state)?;
    let dir = restore_dir(paths);
    ensure_private_dir(&dir)?;
    let mut env = Vec::new();
    let history_file = if setup.kind == "fish" {
        let name = format!(
            "snap_{}",
            token.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        let fish_dir = fish_data_dir();
        ensure_private_dir(&fish_dir)?;
        let file = fish_dir.join(format!("{name}_history"));
        env.push(("fish_history".to_string(), name));
        file
    } else {
        dir.join(format!("{token}.history"))
    };
    write_atomic(
        &history_file,
        history_text(&setup.kind, &setup.history).as_bytes(),
    )?;
    let script_file = dir.join(format!("{token}.{}", setup.kind));
    write_atomic(&script_file, script(setup, &history_file).as_bytes())?;
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
    Ok(env)
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
pub fn shell_command(paths: &Paths, kind: &str, snap_bin: &Path) -> Result<String> {
    let bin = posix_quote(&snap_bin.to_string_lossy());
    let dir = restore_dir(paths);
    ensure_private_dir(&paths.state)?;
    ensure_private_dir(&dir)?;
    Ok(match kind {
        "zsh" => {
            let zdot = dir.join("zdotdir");
            ensure_private_dir(&zdot)?;
            let user = "${SNAP_USER_ZDOTDIR:-$HOME}";
            write_atomic(
                &zdot.join(".zshenv"),
                format!("[[ -f \"{user}/.zshenv\" ]] && builtin source \"{user}/.zshenv\"\n")
                    .as_bytes(),
            )?;
            write_atomic(
                &zdot.join(".zshrc"),
                format!(
                    "ZDOTDIR=\"{user}\"\nunset SNAP_USER_ZDOTDIR\n[[ -f \"$ZDOTDIR/.zshrc\" ]] && builtin source \"$ZDOTDIR/.zshrc\"\neval \"$({bin} init zsh)\"\n"
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
        "fish" => format!(
            "fish -i -C {}",
            posix_quote(&format!(
                "{} init fish | source",
                fish_quote(&snap_bin.to_string_lossy())
            ))
        ),
        _ => {
            let rc = dir.join("bashrc");
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

    fn setup(kind: &str) -> ShellSetup {
        ShellSetup {
            kind: kind.into(),
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

    #[test]
    fn bash_script_quotes_everything_and_runs_nothing() {
        let s = script(&setup("bash"), Path::new("/s/h"));
        assert!(s.contains(r"builtin cd -- '/tmp/it'\''s here' 2>/dev/null || :"));
        assert!(s.contains("export PORT='3001'\n"));
        assert!(s.contains("export Q='a'\\''b\nc'\n"));
        assert!(s.contains("builtin history -r '/s/h'"));
        assert!(s.contains("'screen $(not run)'"));
    }

    #[test]
    fn fish_script_and_history_format() {
        let s = script(&setup("fish"), Path::new("/s/h"));
        assert!(s.contains(r"builtin cd -- '/tmp/it\'s here'"));
        assert!(s.contains("set -gx PORT '3001'"));
        let h = history_text("fish", &[(1_764_000_000_000_000, "a\nb".into())]);
        assert_eq!(h, "- cmd: a\\nb\n  when: 1764000000\n");
    }
}
