//! Checks of outside tools: tmux's version, and lingering for a systemd user unit.

use super::env::Context;
use super::Check;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The oldest tmux snap works with (`new-window -e` came in 3.0).
const TMUX_MIN: (u32, u32) = (3, 0);

/// tmux is on PATH and recent enough.
pub fn tmux(ctx: &Context) -> Check {
    const NAME: &str = "tmux";
    let install = "install tmux 3.0 or later (Debian/Ubuntu: sudo apt install tmux; macOS: brew install tmux)";
    let Some(tmux) = ctx.which("tmux") else {
        return Check::fail(
            NAME,
            "tmux is not on PATH (snap start and snap restore use it)",
            install,
        );
    };
    let out = Command::new(&tmux)
        .arg("-V")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    let text = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => return Check::fail(NAME, format!("`{} -V` failed", tmux.display()), install),
    };
    match parse_tmux_version(&text) {
        Some(v) if v >= TMUX_MIN => Check::ok(NAME, text),
        Some(_) => Check::fail(
            NAME,
            format!("{text} is too old: snap needs 3.0 or later (for new-window -e)"),
            install,
        ),
        // Development builds say `tmux master` or `tmux next-3.5`: trust them.
        None if text.contains("master") => Check::ok(NAME, text),
        None => Check::warn(
            NAME,
            format!("cannot read the version in {text:?}"),
            "make sure tmux is 3.0 or later: tmux -V",
        ),
    }
}

/// `tmux 3.3a` → (3, 3); `tmux next-3.5` → (3, 5); `tmux openbsd-7.4` → None.
fn parse_tmux_version(text: &str) -> Option<(u32, u32)> {
    let word = text.split_whitespace().nth(1)?;
    let word = word.strip_prefix("next-").unwrap_or(word);
    let mut parts = word.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()
        .unwrap_or("0")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().unwrap_or(0)))
}

/// Where the daemon is a systemd user unit, lingering keeps it running after logout.
pub fn lingering(ctx: &Context) -> Check {
    const NAME: &str = "lingering";
    let Some(unit) = systemd_unit(ctx) else {
        return Check::skip(
            NAME,
            "no systemd user unit for snap's daemon: nothing to keep alive",
        );
    };
    let fix = format!(
        "loginctl enable-linger {} (may need sudo): the daemon then outlives your last login",
        ctx.user
    );
    let Some(loginctl) = ctx.which("loginctl") else {
        return Check::warn(
            NAME,
            format!(
                "{} is installed but loginctl is not on PATH",
                unit.display()
            ),
            fix,
        );
    };
    let out = Command::new(loginctl)
        .args(["show-user", &ctx.user, "-p", "Linger"])
        .stdin(Stdio::null())
        .output();
    let text = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr).trim().to_string();
            return Check::warn(NAME, format!("loginctl cannot tell: {err}"), fix);
        }
        Err(e) => return Check::warn(NAME, format!("cannot run loginctl: {e}"), fix),
    };
    match text.as_str() {
        "Linger=yes" => Check::ok(NAME, format!("on for {}", ctx.user)),
        "Linger=no" => Check::fail(
            NAME,
            format!(
                "off for {}: {} stops when your last login ends",
                ctx.user,
                unit.file_name().unwrap_or_default().to_string_lossy()
            ),
            fix,
        ),
        other => Check::warn(NAME, format!("loginctl said {other:?}"), fix),
    }
}

/// A systemd user unit that runs this binary's daemon (or is named after it).
fn systemd_unit(ctx: &Context) -> Option<PathBuf> {
    let dir = ctx.xdg("XDG_CONFIG_HOME", ".config").join("systemd/user");
    let exe = ctx.exe.to_string_lossy().into_owned();
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "service"))
        .find(|p| {
            let named = p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&ctx.name));
            let text = std::fs::read_to_string(p).unwrap_or_default();
            text.lines().any(|l| {
                l.trim_start().starts_with("ExecStart=")
                    && l.contains("daemon")
                    && (l.contains(&exe) || named)
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmux_versions_parse() {
        assert_eq!(parse_tmux_version("tmux 3.3a"), Some((3, 3)));
        assert_eq!(parse_tmux_version("tmux 2.9"), Some((2, 9)));
        assert_eq!(parse_tmux_version("tmux next-3.5"), Some((3, 5)));
        assert_eq!(parse_tmux_version("tmux 3"), Some((3, 0)));
        assert_eq!(parse_tmux_version("tmux master"), None);
        assert_eq!(parse_tmux_version(""), None);
        assert!(parse_tmux_version("tmux 2.9a").unwrap() < TMUX_MIN);
    }
}
