//! install.sh in a fresh HOME: idempotent rc lines, a moved install, uninstall, another
//! `snap` on PATH, the daemon fallback, and new interactive shells picking up the hook.

mod common;
mod installer;

use common::{require, wait_for, Kind, World, SOON};
use installer::*;
use std::path::Path;

const SHELLS: [Kind; 3] = [Kind::Bash, Kind::Zsh, Kind::Fish];

/// The shells installed here: install.sh writes an rc line for each.
fn installed_shells() -> Vec<Kind> {
    SHELLS
        .into_iter()
        .filter(|k| common::installed(k.name()))
        .collect()
}

#[test]
fn running_install_twice_leaves_one_line_per_rc_file() {
    let w = World::new();
    for kind in installed_shells() {
        write_user_rc(&w, kind);
    }
    let first = install_ok(&w, &["--no-daemon"]);
    let second = install_ok(&w, &["--no-daemon"]);
    assert!(second.contains("already up to date"), "{second}");
    let bin = installed_bin(&w);
    assert!(bin.is_file(), "{first}");
    for kind in installed_shells() {
        let lines = marked_lines(&w, kind);
        assert_eq!(lines.len(), 1, "{:?}: {lines:?}", kind);
        assert!(
            lines[0].contains(&format!("'{}' init {}", bin.display(), kind.name())),
            "{}",
            lines[0]
        );
        let rc = std::fs::read_to_string(rc_path(&w, kind)).unwrap();
        assert!(rc.starts_with("# my "), "the user's lines stay first: {rc}");
    }
}

#[test]
fn install_puts_binary_completions_and_man_page_in_place() {
    let w = World::new();
    let out = install_ok(&w, &["--no-daemon", "--no-rc"]);
    let data = w.home.join(".local/share");
    let bash = std::fs::read_to_string(data.join("bash-completion/completions/snap")).unwrap();
    assert!(bash.contains("complete -F _snap"), "{bash}");
    if common::installed("zsh") {
        let zsh = std::fs::read_to_string(data.join("zsh/site-functions/_snap")).unwrap();
        assert!(zsh.starts_with("#compdef snap"));
        assert!(out.contains("fpath"), "the zsh fpath step is named: {out}");
    }
    if common::installed("fish") {
        let fish =
            std::fs::read_to_string(w.home.join(".config/fish/completions/snap.fish")).unwrap();
        assert!(fish.contains("complete -c snap"));
    }
    let man = std::fs::read_to_string(data.join("man/man1/snap.1")).unwrap();
    assert!(
        man.starts_with(".TH SNAP 1") || man.contains("\n.TH SNAP 1"),
        "{man}"
    );
    assert!(
        !rc_path(&w, Kind::Bash).exists(),
        "--no-rc touches no rc file"
    );
    assert!(out.contains("Next:"), "{out}");
}

#[test]
fn installing_elsewhere_updates_the_rc_line_in_place() {
    let w = World::new();
    write_user_rc(&w, Kind::Bash);
    install_ok(&w, &["--no-daemon"]);
    let prefix = w.path("other place/it's");
    let out = install_ok(&w, &["--no-daemon", "--prefix", prefix.to_str().unwrap()]);
    assert!(out.contains("updated the bash hook line"), "{out}");
    let lines = marked_lines(&w, Kind::Bash);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains(r"/other place/it'\''s/bin/snap' init bash"),
        "{}",
        lines[0]
    );
    assert!(prefix.join("bin/snap").is_file());
    // The quoted path still parses and runs.
    let check = w
        .command("bash")
        .arg("-n")
        .arg(rc_path(&w, Kind::Bash))
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", text(&check));
}

#[test]
fn a_symlinked_rc_file_is_edited_at_its_target() {
    let w = World::new();
    let dotfiles = w.path("dotfiles");
    std::fs::create_dir_all(&dotfiles).unwrap();
    std::fs::write(dotfiles.join("bashrc"), "# mine\n").unwrap();
    std::os::unix::fs::symlink(dotfiles.join("bashrc"), w.home.join(".bashrc")).unwrap();
    install_ok(&w, &["--no-daemon"]);
    assert!(std::fs::symlink_metadata(w.home.join(".bashrc"))
        .unwrap()
        .file_type()
        .is_symlink());
    let target = std::fs::read_to_string(dotfiles.join("bashrc")).unwrap();
    assert_eq!(target.matches(MARKER).count(), 1, "{target}");
}

#[test]
fn uninstall_removes_everything_it_installed_and_keeps_the_data() {
    let w = World::new();
    for kind in installed_shells() {
        write_user_rc(&w, kind);
    }
    install_ok(&w, &["--no-daemon"]);
    let journal = w.snap_home.join("shells/x/journal");
    std::fs::create_dir_all(journal.parent().unwrap()).unwrap();
    std::fs::write(&journal, "kept").unwrap();
    let index: Vec<_> = ["index.db", "index.db-wal", "index.db-shm"]
        .iter()
        .map(|f| w.snap_home.join(f))
        .collect();
    for f in &index {
        std::fs::write(f, "kept").unwrap();
    }

    let out = install(&w, &["--uninstall"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!installed_bin(&w).exists());
    for kind in installed_shells() {
        assert!(marked_lines(&w, kind).is_empty(), "{kind:?}");
        let rc = std::fs::read_to_string(rc_path(&w, kind)).unwrap();
        assert!(rc.starts_with("# my "), "the user's own lines stay: {rc}");
    }
    let data = w.home.join(".local/share");
    for f in [
        data.join("bash-completion/completions/snap"),
        data.join("zsh/site-functions/_snap"),
        w.home.join(".config/fish/completions/snap.fish"),
        data.join("man/man1/snap.1"),
    ] {
        assert!(!f.exists(), "{} is left", f.display());
    }
    assert_eq!(std::fs::read_to_string(&journal).unwrap(), "kept");
    assert!(text(&out).contains("--purge"), "{}", text(&out));

    let out = install(&w, &["--uninstall", "--purge"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!journal.exists(), "--purge removes the data");
    for f in &index {
        assert!(!f.exists(), "--purge removes {}", f.display());
    }
}

#[test]
fn another_snap_on_path_stops_the_install_until_name_or_force() {
    let w = World::new();
    let snapd = fake_program(&w, "snap", "echo 'snap    2.61'; echo 'snapd   2.61'");
    let out = install_with(
        &w,
        &["--no-daemon"],
        &[("SNAP_INSTALL_BINARY", env!("CARGO_BIN_EXE_snap"))],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains(&snapd.display().to_string()), "{said}");
    assert!(
        said.contains("--name") && said.contains("--force"),
        "{said}"
    );
    assert!(!installed_bin(&w).exists(), "nothing installed");
    assert!(!rc_path(&w, Kind::Bash).exists(), "no rc touched");

    let out = install_with(
        &w,
        &["--no-daemon", "--name", "snapsh"],
        &[("SNAP_INSTALL_BINARY", env!("CARGO_BIN_EXE_snap"))],
    );
    assert!(out.status.success(), "{}", text(&out));
    let bin = w.home.join(".local/bin/snapsh");
    assert!(bin.is_file());
    assert!(marked_lines(&w, Kind::Bash)[0].contains("/snapsh' init bash"));
    let data = w.home.join(".local/share");
    let comp = std::fs::read_to_string(data.join("bash-completion/completions/snapsh")).unwrap();
    assert!(comp.contains("complete -F _snapsh"));
    assert!(!data.join("bash-completion/completions/snap").exists());
    assert!(std::fs::read_to_string(data.join("man/man1/snapsh.1"))
        .unwrap()
        .contains("SNAPSH"));

    let out = install_with(
        &w,
        &["--no-daemon", "--force"],
        &[("SNAP_INSTALL_BINARY", env!("CARGO_BIN_EXE_snap"))],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("--force"), "{}", text(&out));
    assert!(installed_bin(&w).is_file());
}

#[test]
fn a_foreign_file_at_the_target_is_never_overwritten() {
    let w = World::new();
    let bin = installed_bin(&w);
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::write(&bin, "#!/bin/sh\necho snapd\n").unwrap();
    let out = install(&w, &["--no-daemon", "--force"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(&bin).unwrap(),
        "#!/bin/sh\necho snapd\n"
    );
}

#[test]
fn the_daemon_is_installed_else_started_and_a_failure_only_warns() {
    let w = World::new();
    let log = w.path("calls");
    // A stand-in binary that records how install.sh calls it; its daemon always fails.
    let stub = fake_program(
        &w,
        "stub-snap",
        &format!(
            r##"case "$1" in
--help) echo "Keep a coding session alive across disconnects" ;;
daemon) echo "$*" >> '{log}'; echo "no daemon here" >&2; exit 1 ;;
completions) echo "# completions for $2" ;;
man) echo ".TH X 1" ;;
esac"##,
            log = log.display()
        ),
    );
    let stub = stub.to_str().unwrap();
    let out = install_with(&w, &["--no-rc"], &[("SNAP_INSTALL_BINARY", stub)]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("could not start the snapshot daemon"),
        "{said}"
    );
    assert!(said.contains("no daemon here"), "{said}");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "daemon install\ndaemon start\n"
    );
    std::fs::remove_file(&log).unwrap();

    // A new build replaces the old binary: its daemon is stopped, then started anew.
    let mut changed = std::fs::read_to_string(stub).unwrap();
    changed.push_str("# a new build\n");
    std::fs::write(stub, changed).unwrap();
    let out = install_with(&w, &["--no-rc"], &[("SNAP_INSTALL_BINARY", stub)]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "daemon stop\ndaemon install\ndaemon start\n"
    );
    std::fs::remove_file(&log).unwrap();

    let out = install_with(&w, &["--uninstall"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "daemon install --uninstall\ndaemon stop\n"
    );
}

#[test]
fn missing_cargo_is_told_plainly() {
    let w = World::new();
    // A PATH with the tools install.sh uses, and no cargo.
    let tools = w.path("tools");
    std::fs::create_dir_all(&tools).unwrap();
    for t in [
        "bash", "cat", "mktemp", "dirname", "chmod", "mv", "cp", "awk", "cmp", "grep", "readlink",
        "rm", "mkdir", "head", "uname",
    ] {
        if let Some(p) = which(t) {
            std::os::unix::fs::symlink(p, tools.join(t)).unwrap();
        }
    }
    let out = w
        .command(tools.join("bash"))
        .arg(script())
        .arg("--no-daemon")
        .env("PATH", &tools)
        .output()
        .unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("cargo not found"), "{said}");
    assert!(said.contains("rustup"), "{said}");
}

#[test]
fn help_and_usage_errors() {
    let w = World::new();
    let out = install(&w, &["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for opt in [
        "--prefix",
        "--name",
        "--force",
        "--no-rc",
        "--no-daemon",
        "--uninstall",
        "--purge",
        "SNAP_INSTALL_BINARY",
    ] {
        assert!(help.contains(opt), "{opt} missing from --help");
    }
    let out = install(&w, &["--frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("--frobnicate"));
}

#[test]
fn warns_when_the_bin_dir_is_not_on_path() {
    let w = World::new();
    let out = install_ok(&w, &["--no-daemon", "--no-rc"]);
    assert!(out.contains("is not on your PATH"), "{out}");
}

#[test]
fn install_sh_is_shellcheck_clean() {
    if !require("install_sh_is_shellcheck_clean", &["shellcheck"]) {
        return;
    }
    let out = std::process::Command::new("shellcheck")
        .arg(script())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

/// Install with the user's rc, start a new interactive `kind` under tmux, and see the
/// hook recording a command.
fn a_new_interactive_shell_picks_up_the_hook(kind: Kind) {
    let test = "a_new_interactive_shell_picks_up_the_hook";
    if !require(test, &[kind.name(), "tmux"]) {
        return;
    }
    let w = World::new();
    if w.snap(&["init", kind.name()]).stdout.is_empty() {
        println!(
            "SKIPPED: {test}: this build has no {} hook yet",
            kind.name()
        );
        return;
    }
    write_user_rc(&w, kind);
    install_ok(&w, &["--no-daemon"]);
    let pane = w.start_session("t", kind);
    pane.run("echo hook-id=$SNAP_SHELL_ID");
    let screen = pane.wait_text("hook-id=1");
    assert!(!screen.contains("hook-id=\n"), "{screen}");
    let h = wait_for("the command in snap history", SOON, || {
        let h = w.history();
        h.iter()
            .any(|r| r["command"] == "echo hook-id=$SNAP_SHELL_ID")
            .then_some(h)
    });
    let shell_id = h.last().unwrap()["shell_id"].as_str().unwrap().to_string();
    assert!(screen.contains(&format!("hook-id={shell_id}")), "{screen}");
    // The hook came from the installed binary, by its absolute path.
    let meta = w.snap_home.join("shells").join(&shell_id);
    assert!(meta.is_dir());
    assert!(Path::new(&installed_bin(&w)).is_file());
}

#[test]
fn bash_picks_up_the_hook_after_install() {
    a_new_interactive_shell_picks_up_the_hook(Kind::Bash);
}

#[test]
fn zsh_picks_up_the_hook_after_install() {
    a_new_interactive_shell_picks_up_the_hook(Kind::Zsh);
}

#[test]
fn fish_picks_up_the_hook_after_install() {
    a_new_interactive_shell_picks_up_the_hook(Kind::Fish);
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}
