//! `snap doctor`: each check passing in a real install, and each with its failure provoked.

mod common;
mod installer;

use common::{require, wait_for, Kind, World, SOON};
use installer::*;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Every check doctor makes, in order.
const CHECKS: [&str; 9] = [
    "hook",
    "rc",
    "daemon",
    "lingering",
    "tmux",
    "store-permissions",
    "store-fs",
    "index",
    "config",
];

/// Run `bin doctor --json` in the world with extra environment; (exit code, checks).
fn doctor_with(w: &World, bin: &Path, env: &[(&str, &str)]) -> (i32, Vec<Value>) {
    let mut c = w.command(bin);
    c.args(["doctor", "--json"]);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let checks: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out)));
    (
        out.status.code().unwrap_or(-1),
        checks.as_array().cloned().unwrap(),
    )
}

fn doctor(w: &World, env: &[(&str, &str)]) -> (i32, Vec<Value>) {
    doctor_with(w, Path::new(env!("CARGO_BIN_EXE_snap")), env)
}

/// The entry for one check.
fn check<'a>(checks: &'a [Value], name: &str) -> &'a Value {
    checks
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {checks:?}"))
}

fn status(checks: &[Value], name: &str) -> String {
    check(checks, name)["status"].as_str().unwrap().to_string()
}

fn fix(checks: &[Value], name: &str) -> String {
    check(checks, name)["fix"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn detail(checks: &[Value], name: &str) -> String {
    check(checks, name)["detail"].as_str().unwrap().to_string()
}

#[test]
fn json_has_every_check_with_ok_detail_and_fix() {
    let w = World::new();
    let (code, checks) = doctor(&w, &[]);
    let names: Vec<&str> = checks
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(names, CHECKS);
    for c in &checks {
        assert!(c["ok"].is_boolean(), "{c}");
        assert!(c["detail"].is_string(), "{c}");
        assert!(c.get("fix").is_some(), "{c}");
        if c["status"] == "fail" {
            assert!(c["fix"].as_str().is_some_and(|f| !f.is_empty()), "{c}");
        }
    }
    // No hook in this process: something is wrong, so exit 1.
    assert_eq!(code, 1);
}

#[test]
fn hook_not_loaded_fails_and_says_how_to_load_it() {
    let w = World::new();
    let (_, checks) = doctor(&w, &[("SHELL", "/usr/bin/zsh")]);
    assert_eq!(status(&checks, "hook"), "fail");
    assert!(fix(&checks, "hook").contains("init zsh"), "{checks:?}");
    let (_, checks) = doctor(&w, &[("SHELL", "/usr/bin/fish")]);
    assert!(fix(&checks, "hook").contains("init fish | source"));
}

#[test]
fn hook_with_a_shell_id_missing_from_the_store_fails() {
    let w = World::new();
    let (_, checks) = doctor(&w, &[("SNAP_SHELL_ID", "1-2-3")]);
    assert_eq!(status(&checks, "hook"), "fail");
    assert!(detail(&checks, "hook").contains("missing"), "{checks:?}");
}

#[test]
fn hook_disabled_by_snap_disable_warns() {
    let w = World::new();
    let (_, checks) = doctor(&w, &[("SNAP_DISABLE", "1")]);
    assert_eq!(status(&checks, "hook"), "warn");
    assert!(fix(&checks, "hook").contains("unset SNAP_DISABLE"));
}

#[test]
fn rc_lines_missing_then_present_then_pointing_elsewhere() {
    let w = World::new();
    let (_, checks) = doctor(&w, &[]);
    assert_eq!(status(&checks, "rc"), "fail");
    assert!(detail(&checks, "rc").contains(".bashrc"), "{checks:?}");
    assert!(fix(&checks, "rc").contains("install.sh"));

    install_ok(&w, &["--no-daemon"]);
    let (_, checks) = doctor_with(&w, &installed_bin(&w), &[]);
    assert_eq!(status(&checks, "rc"), "ok", "{checks:?}");

    // Another copy of snap (here the test binary) is not the one the rc lines call.
    let (_, checks) = doctor(&w, &[]);
    assert_eq!(status(&checks, "rc"), "fail");
    assert!(
        detail(&checks, "rc").contains("not this binary"),
        "{checks:?}"
    );
}

#[test]
fn rc_line_written_by_hand_counts() {
    let w = World::new();
    std::fs::write(w.home.join(".bashrc"), "eval \"$(snap init bash)\"\n").unwrap();
    // Only bash on PATH, so only ~/.bashrc is checked.
    let tools = w.path("only-bash");
    std::fs::create_dir_all(&tools).unwrap();
    std::os::unix::fs::symlink("/bin/bash", tools.join("bash")).unwrap();
    let (_, checks) = doctor(&w, &[("PATH", tools.to_str().unwrap())]);
    assert_eq!(status(&checks, "rc"), "ok", "{checks:?}");
    assert!(detail(&checks, "rc").contains("by hand"));
}

#[test]
fn daemon_not_running_fails_or_cannot_be_checked_yet() {
    let w = World::new();
    let (_, checks) = doctor(&w, &[]);
    match status(&checks, "daemon").as_str() {
        "skip" => assert!(detail(&checks, "daemon").contains("cannot check yet")),
        "fail" => assert!(
            fix(&checks, "daemon").contains("daemon start"),
            "{checks:?}"
        ),
        other => panic!("no daemon runs in a fresh world, yet doctor says {other}: {checks:?}"),
    }
}

#[test]
fn lingering_off_for_a_systemd_unit_fails() {
    let w = World::new();
    let (_, checks) = doctor(&w, &[]);
    assert_eq!(
        status(&checks, "lingering"),
        "skip",
        "no unit, nothing to check"
    );

    let units = w.home.join(".config/systemd/user");
    std::fs::create_dir_all(&units).unwrap();
    std::fs::write(
        units.join("snap.service"),
        format!(
            "[Service]\nExecStart={} daemon run\n",
            env!("CARGO_BIN_EXE_snap")
        ),
    )
    .unwrap();
    fake_program(&w, "loginctl", "echo Linger=no");
    let path = path_with_fakes(&w);
    let (code, checks) = doctor(&w, &[("PATH", &path)]);
    assert_eq!(status(&checks, "lingering"), "fail", "{checks:?}");
    assert!(fix(&checks, "lingering").contains("loginctl enable-linger"));
    assert_eq!(code, 1);

    fake_program(&w, "loginctl", "echo Linger=yes");
    let (_, checks) = doctor(&w, &[("PATH", &path)]);
    assert_eq!(status(&checks, "lingering"), "ok", "{checks:?}");
}

#[test]
fn tmux_missing_or_too_old_fails() {
    let w = World::new();
    let empty = w.path("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let (_, checks) = doctor(&w, &[("PATH", empty.to_str().unwrap())]);
    assert_eq!(status(&checks, "tmux"), "fail");
    assert!(detail(&checks, "tmux").contains("not on PATH"));
    assert!(fix(&checks, "tmux").contains("install tmux"));

    fake_program(&w, "tmux", "echo 'tmux 2.9a'");
    let (_, checks) = doctor(&w, &[("PATH", &path_with_fakes(&w))]);
    assert_eq!(status(&checks, "tmux"), "fail");
    assert!(detail(&checks, "tmux").contains("too old"), "{checks:?}");

    fake_program(&w, "tmux", "echo 'tmux 3.4'");
    let (_, checks) = doctor(&w, &[("PATH", &path_with_fakes(&w))]);
    assert_eq!(status(&checks, "tmux"), "ok");
}

#[test]
fn store_entries_readable_by_others_fail_and_are_named() {
    let w = World::new();
    let dir = w.snap_home.join("shells/abc");
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("journal");
    std::fs::write(&journal, "x").unwrap();
    for (p, mode) in [
        (&w.snap_home, 0o700),
        (&w.snap_home.join("shells"), 0o700),
        (&dir, 0o755),
        (&journal, 0o644),
    ] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let (_, checks) = doctor(&w, &[]);
    assert_eq!(status(&checks, "store-permissions"), "fail");
    let d = detail(&checks, "store-permissions");
    assert!(d.contains(&format!("{} (0644)", journal.display())), "{d}");
    assert!(d.contains(&format!("{} (0755)", dir.display())), "{d}");
    assert!(fix(&checks, "store-permissions").contains("chmod -R go-rwx"));

    let chmod = std::process::Command::new("chmod")
        .args(["-R", "go-rwx"])
        .arg(&w.snap_home)
        .status()
        .unwrap();
    assert!(chmod.success());
    let (_, checks) = doctor(&w, &[]);
    assert_eq!(status(&checks, "store-permissions"), "ok", "{checks:?}");
}

#[test]
fn store_on_a_local_disk_is_not_flagged() {
    // A network mount cannot be made here; the classification is unit-tested.
    let w = World::new();
    std::fs::create_dir_all(&w.snap_home).unwrap();
    let (_, checks) = doctor(&w, &[]);
    assert_ne!(status(&checks, "store-fs"), "fail", "{checks:?}");
}

#[test]
fn an_invalid_config_fails_or_cannot_be_checked_yet() {
    let w = World::new();
    std::fs::create_dir_all(&w.snap_home).unwrap();
    std::fs::write(w.snap_home.join("config.toml"), "schedule = [unclosed\n").unwrap();
    let (_, checks) = doctor(&w, &[]);
    match status(&checks, "config").as_str() {
        "skip" => assert!(detail(&checks, "config").contains("cannot check yet")),
        "fail" => assert!(fix(&checks, "config").contains("config.toml"), "{checks:?}"),
        other => panic!("a broken config.toml, yet doctor says {other}: {checks:?}"),
    }
}

/// Start a hooked bash (installed by install.sh) under tmux.
fn installed_bash(w: &World) -> common::Pane<'_> {
    for kind in [Kind::Bash, Kind::Zsh, Kind::Fish] {
        write_user_rc(w, kind);
    }
    install_ok(w, &["--no-daemon"]);
    w.start_session("t", Kind::Bash)
}

#[test]
fn a_complete_install_passes_in_a_new_shell() {
    if !require(
        "a_complete_install_passes_in_a_new_shell",
        &["bash", "tmux"],
    ) {
        return;
    }
    let w = World::new();
    let pane = installed_bash(&w);
    let out = w.path("doctor.json");
    pane.run(&format!(
        "'{}' doctor --json > '{}'; echo doctor''-exit=$?",
        installed_bin(&w).display(),
        out.display()
    ));
    let screen = pane.wait_text("doctor-exit=");
    let checks: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    for name in ["hook", "rc", "tmux", "store-permissions"] {
        assert_eq!(status(&checks, name), "ok", "{name}: {checks:?}");
    }
    // A daemon is not started by the tests; everything else must not fail.
    let failed: Vec<&Value> = checks
        .iter()
        .filter(|c| c["status"] == "fail" && c["check"] != "daemon")
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    let daemon_failed = status(&checks, "daemon") == "fail";
    let code = if daemon_failed { "1" } else { "0" };
    assert!(screen.contains(&format!("doctor-exit={code}")), "{screen}");
}

#[test]
fn colour_on_a_terminal_and_never_under_no_color() {
    if !require(
        "colour_on_a_terminal_and_never_under_no_color",
        &["bash", "tmux"],
    ) {
        return;
    }
    let w = World::new();
    let pane = installed_bash(&w);
    let bin = installed_bin(&w);
    // Each run ends with its own marker, so a screen not yet cleared is never taken
    // for the next run's output.
    let coloured = |cmd: &str, marker: &str| -> String {
        pane.run(&format!("clear; {cmd}; echo {marker}''-end"));
        let end = format!("{marker}-end");
        wait_for("doctor's output", SOON, || {
            let s = w.tmux_ok(&["capture-pane", "-e", "-p", "-t", &pane.id]);
            let out = s.split(&format!("echo {marker}''-end")).last()?.to_string();
            out.contains(&end).then_some(out)
        })
    };
    let on_tty = coloured(&format!("'{}' doctor", bin.display()), "first");
    assert!(on_tty.contains("\x1b["), "{on_tty:?}");
    let plain = coloured(&format!("NO_COLOR=1 '{}' doctor", bin.display()), "second");
    assert!(plain.contains("tmux"), "{plain}");
    assert!(!plain.contains("\x1b["), "{plain:?}");
    let piped = w.command(&bin).arg("doctor").output().unwrap();
    assert!(!String::from_utf8_lossy(&piped.stdout).contains('\x1b'));
}

#[test]
fn rc_check_reads_the_lines_install_writes_for_an_awkward_path() {
    let w = World::new();
    let prefix = w.path(r"a dir/with 'quotes' and \back");
    install_ok(&w, &["--no-daemon", "--prefix", prefix.to_str().unwrap()]);
    let (_, checks) = doctor_with(&w, &prefix.join("bin/snap"), &[]);
    assert_eq!(status(&checks, "rc"), "ok", "{checks:?}");
}
