//! Is the hook loaded in this shell, and do the rc files load it from this binary?

use super::env::Context;
use super::Check;
use crate::model::ShellKind;
use crate::store::paths::Paths;
use std::path::{Path, PathBuf};

/// What install.sh appends to each rc line, so it can find and replace it.
pub const MARKER: &str = "# snap hook (added by install.sh";

/// The hook is loaded here: `SNAP_SHELL_ID` is set and its directory is in the store.
pub fn hook_loaded(ctx: &Context, paths: &Paths) -> Check {
    const NAME: &str = "hook";
    let shell = ctx
        .var("SHELL")
        .map(PathBuf::from)
        .and_then(|s| s.file_name().map(|n| ShellKind::of(&n.to_string_lossy())))
        .unwrap_or_default();
    let load = load_command(&ctx.name, shell);
    if ctx.var("SNAP_DISABLE").is_some_and(|v| v == "1") {
        return Check::warn(
            NAME,
            "SNAP_DISABLE=1 is set: this shell records nothing",
            "unset SNAP_DISABLE",
        );
    }
    let Some(id) = ctx.var("SNAP_SHELL_ID") else {
        return Check::fail(
            NAME,
            "not loaded in this shell (SNAP_SHELL_ID is not set)",
            format!("open a new terminal (the rc line loads it), or run: {load}"),
        );
    };
    let id = id.to_string_lossy();
    let dir = paths.shell_dir(&id);
    if !dir.is_dir() {
        return Check::fail(
            NAME,
            format!(
                "SNAP_SHELL_ID={id} but {} is missing (SNAP_HOME changed, or the store was removed)",
                dir.display()
            ),
            format!("open a new terminal, or run: {load}"),
        );
    }
    Check::ok(NAME, format!("loaded in this shell ({id})"))
}

/// How to load the hook by hand in `shell`.
fn load_command(name: &str, shell: ShellKind) -> String {
    match shell {
        ShellKind::Fish => format!("{name} init fish | source"),
        sh => format!("eval \"$({name} init {sh})\""),
    }
}

/// Each installed shell's rc file has the line, and it calls this binary.
pub fn rc_lines(ctx: &Context) -> Check {
    const NAME: &str = "rc";
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for shell in ShellKind::ALL {
        if ctx.which(shell.as_str()).is_none() {
            continue;
        }
        let rc = rc_file(ctx, shell);
        match rc_state(&rc, shell, &ctx.exe) {
            RcState::Ours => good.push(format!("{shell} ({})", rc.display())),
            RcState::ByHand => good.push(format!("{shell} ({}, set up by hand)", rc.display())),
            RcState::Missing if !rc.exists() => bad.push((shell, rc, "does not exist".into())),
            RcState::Missing => bad.push((shell, rc, "has no snap line".into())),
            RcState::Elsewhere(p) => {
                bad.push((shell, rc, format!("calls {}, not this binary", p.display())))
            }
        }
    }
    if bad.is_empty() {
        return Check::ok(NAME, format!("hook line in: {}", good.join(", ")));
    }
    let detail = bad
        .iter()
        .map(|(_, rc, what)| format!("{} {what}", rc.display()))
        .collect::<Vec<_>>()
        .join("; ");
    let exe = ctx.exe.display();
    let lines = bad
        .iter()
        .map(|(shell, rc, _)| {
            let load = match *shell {
                ShellKind::Fish => format!("'{exe}' init fish | source"),
                sh => format!("eval \"$('{exe}' init {sh})\""),
            };
            format!("add to {}: {load}", rc.display())
        })
        .collect::<Vec<_>>()
        .join("; ");
    Check::fail(
        NAME,
        detail,
        format!("run ./install.sh again (it fixes the line in place), or {lines}"),
    )
}

/// The rc file install.sh writes for `shell`.
pub fn rc_file(ctx: &Context, shell: ShellKind) -> PathBuf {
    match shell {
        ShellKind::Zsh => ctx.zdotdir().join(".zshrc"),
        ShellKind::Fish => ctx
            .xdg("XDG_CONFIG_HOME", ".config")
            .join("fish/config.fish"),
        ShellKind::Bash => ctx.home.join(".bashrc"),
    }
}

/// What an rc file says about snap.
#[derive(Debug, PartialEq, Eq)]
enum RcState {
    /// install.sh's line, calling this binary.
    Ours,
    /// install.sh's line, calling another path.
    Elsewhere(PathBuf),
    /// No marked line, but one that runs `init SHELL`.
    ByHand,
    /// Nothing.
    Missing,
}

fn rc_state(rc: &Path, shell: ShellKind, exe: &Path) -> RcState {
    let Ok(bytes) = std::fs::read(rc) else {
        return RcState::Missing;
    };
    let text = String::from_utf8_lossy(&bytes);
    if let Some(line) = text.lines().find(|l| l.contains(MARKER)) {
        let called = if shell == ShellKind::Fish {
            fish_unquote_first(line)
        } else {
            posix_unquote_first(line)
        };
        return match called.map(PathBuf::from) {
            Some(p) if same_file(&p, exe) => RcState::Ours,
            Some(p) => RcState::Elsewhere(p),
            None => RcState::Elsewhere(PathBuf::from("?")),
        };
    }
    let by_hand = text.lines().any(|l| {
        let l = l.trim_start();
        !l.starts_with('#') && l.contains(&format!("init {shell}"))
    });
    if by_hand {
        RcState::ByHand
    } else {
        RcState::Missing
    }
}

/// The same file, comparing canonical paths where they exist.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The first single-quoted word of a bash/zsh line ('it'\''s' form).
fn posix_unquote_first(line: &str) -> Option<String> {
    let start = line.find('\'')?;
    let mut rest = &line[start + 1..];
    let mut out = String::new();
    loop {
        let end = rest.find('\'')?;
        out.push_str(&rest[..end]);
        rest = &rest[end + 1..];
        match rest.strip_prefix("\\''") {
            Some(r) => {
                out.push('\'');
                rest = r;
            }
            None => return Some(out),
        }
    }
}

/// The first single-quoted word of a fish line (`\\` and `\'` escaped inside).
fn fish_unquote_first(line: &str) -> Option<String> {
    let start = line.find('\'')?;
    let mut chars = line[start + 1..].chars();
    let mut out = String::new();
    loop {
        match chars.next()? {
            '\\' => match chars.next()? {
                c @ ('\\' | '\'') => out.push(c),
                c => {
                    out.push('\\');
                    out.push(c);
                }
            },
            '\'' => return Some(out),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquotes_the_called_path() {
        let bash = r#"if [[ $- == *i* && -x '/h/it'\''s/snap' ]]; then eval "$('/h/it'\''s/snap' init bash)"; fi # snap hook (added by install.sh; …)"#;
        assert_eq!(posix_unquote_first(bash).as_deref(), Some("/h/it's/snap"));
        let fish = r"if status is-interactive; and test -x '/h/a\\b\'c/snap'; '/h/a\\b\'c/snap' init fish | source; end";
        assert_eq!(fish_unquote_first(fish).as_deref(), Some(r"/h/a\b'c/snap"));
        assert_eq!(posix_unquote_first("no quotes"), None);
        assert_eq!(fish_unquote_first("'unterminated"), None);
    }

    #[test]
    fn rc_state_tells_ours_elsewhere_by_hand_and_missing() {
        let tmp = tempfile::tempdir().unwrap();
        let exe = tmp.path().join("snap");
        std::fs::write(&exe, "").unwrap();
        let rc = tmp.path().join("rc");
        assert_eq!(rc_state(&rc, ShellKind::Bash, &exe), RcState::Missing);
        let line = format!("eval \"$('{}' init bash)\" {MARKER}; x)\n", exe.display());
        std::fs::write(&rc, &line).unwrap();
        assert_eq!(rc_state(&rc, ShellKind::Bash, &exe), RcState::Ours);
        std::fs::write(&rc, line.replace("/snap'", "/old'")).unwrap();
        assert!(matches!(
            rc_state(&rc, ShellKind::Bash, &exe),
            RcState::Elsewhere(_)
        ));
        std::fs::write(&rc, "eval \"$(snap init bash)\"\n").unwrap();
        assert_eq!(rc_state(&rc, ShellKind::Bash, &exe), RcState::ByHand);
        std::fs::write(&rc, "# eval \"$(snap init bash)\"\n").unwrap();
        assert_eq!(rc_state(&rc, ShellKind::Bash, &exe), RcState::Missing);
    }
}
