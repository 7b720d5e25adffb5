//! Helpers to run install.sh in a test World: stdin closed, a prebuilt binary
//! (SNAP_INSTALL_BINARY), a PATH of our choosing.
#![allow(dead_code)]

use crate::common::{Kind, World, PROMPT};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The marker install.sh puts on its rc lines.
pub const MARKER: &str = "# snap hook (added by install.sh";

/// install.sh in this checkout.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh")
}

/// A directory of fake programs, put first on PATH by `path_with`.
pub fn fake_dir(w: &World) -> PathBuf {
    let dir = w.path("fake-bin");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Write an executable script `name` into the fake dir.
pub fn fake_program(w: &World, name: &str, body: &str) -> PathBuf {
    let p = fake_dir(w).join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// PATH: the fake dir first, then the test's own PATH.
pub fn path_with_fakes(w: &World) -> String {
    let real = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
    format!("{}:{real}", fake_dir(w).display())
}

/// Run install.sh with `args`, stdin closed, the test binary prebuilt, fakes on PATH.
/// On a machine where another `snap` exists (Ubuntu's snapd), `--force` is added, since
/// install.sh would rightly stop there (tested on its own with a fake `snap`).
pub fn install(w: &World, args: &[&str]) -> Output {
    let mut args = args.to_vec();
    if machine_has_another_snap() && !args.contains(&"--uninstall") {
        args.push("--force");
    }
    install_with(
        w,
        &args,
        &[("SNAP_INSTALL_BINARY", env!("CARGO_BIN_EXE_snap"))],
    )
}

/// Is there a `snap` on this machine that install.sh would refuse to shadow?
fn machine_has_another_snap() -> bool {
    Path::new("/usr/bin/snap").exists() || crate::common::installed("snap")
}

/// Run install.sh with extra environment, stdin closed, fakes first on PATH.
pub fn install_with(w: &World, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = w.command("bash");
    c.arg("-c")
        .arg(r#"exec <&-; exec bash "$0" "$@""#)
        .arg(script())
        .args(args)
        .env("PATH", path_with_fakes(w));
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// Like `install`, panicking with its output unless it succeeded.
pub fn install_ok(w: &World, args: &[&str]) -> String {
    let out = install(w, args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "install.sh {args:?} failed:\n{text}");
    text
}

/// The rc file install.sh writes for `kind` (no ZDOTDIR or XDG_CONFIG_HOME in a World).
pub fn rc_path(w: &World, kind: Kind) -> PathBuf {
    match kind {
        Kind::Bash => w.home.join(".bashrc"),
        Kind::Zsh => w.home.join(".zshrc"),
        Kind::Fish => w.home.join(".config/fish/config.fish"),
    }
}

/// The lines of `kind`'s rc that carry install.sh's marker.
pub fn marked_lines(w: &World, kind: Kind) -> Vec<String> {
    std::fs::read_to_string(rc_path(w, kind))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(MARKER))
        .map(String::from)
        .collect()
}

/// A user's own rc, before install.sh adds its line: the test prompt, a line of theirs.
pub fn write_user_rc(w: &World, kind: Kind) {
    let rc = rc_path(w, kind);
    std::fs::create_dir_all(rc.parent().unwrap()).unwrap();
    let text = match kind {
        Kind::Bash => format!("# my bashrc\nHISTCONTROL=ignoreboth\nPS1='{PROMPT}'\n"),
        Kind::Zsh => format!("# my zshrc\nHISTFILE=~/.zsh_history\nPS1='{PROMPT}'\n"),
        Kind::Fish => format!(
            "# my config.fish\nset -g fish_greeting\nfunction fish_prompt; printf '%s' '{PROMPT}'; end\n"
        ),
    };
    std::fs::write(rc, text).unwrap();
}

/// Where install.sh puts the binary by default.
pub fn installed_bin(w: &World) -> PathBuf {
    w.home.join(".local/bin/snap")
}

/// stdout and stderr of an Output as one string.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
