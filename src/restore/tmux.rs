//! The tmux commands restore and start issue (the only part that touches tmux).

use anyhow::{bail, Context, Result};
use std::io::IsTerminal;
use std::process::{Command, Stdio};

/// Is tmux installed?
pub fn available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Run tmux with these arguments; its stdout, or an error with its stderr.
pub fn run(args: &[&str]) -> Result<String> {
    let out = Command::new("tmux")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("cannot run tmux: is it installed? (apt-get install tmux)")?;
    if !out.status.success() {
        bail!(
            "tmux {} failed: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Does tmux session `name` exist on the default server?
pub fn has_session(name: &str) -> bool {
    Command::new("tmux")
        .args(["has-session", "-t", &format!("={name}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Attach to (or, from inside tmux, switch to) session `name`; with `no_attach` or
/// without a terminal, print the command instead.
pub fn attach_or_print(name: &str, no_attach: bool) -> Result<()> {
    let target = format!("={name}");
    let inside = std::env::var_os("TMUX").is_some_and(|t| !t.is_empty());
    let verb = if inside {
        "switch-client"
    } else {
        "attach-session"
    };
    if no_attach || !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        println!("tmux {verb} -t {}", crate::text::posix_word(name));
        return Ok(());
    }
    let status = Command::new("tmux")
        .args([verb, "-t", &target])
        .status()
        .context("cannot run tmux")?;
    if !status.success() {
        bail!("tmux {verb} -t {name} failed");
    }
    Ok(())
}
