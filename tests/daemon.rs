//! The snapshot daemon, run for real: its schedule, its lock, its signals, start/stop/status.

mod common;

use common::{require, wait_for, Kind, World, SOON};
use serde_json::Value;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const EVERY_SECOND: &str = "* * * * * *";

fn snapshot_count(w: &World) -> usize {
    std::fs::read_dir(w.snap_home.join("snapshots"))
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    n.ends_with(".json") && !n.starts_with('.')
                })
                .count()
        })
        .unwrap_or(0)
}

fn spawn_daemon(w: &World, schedule: &str) -> Child {
    w.command(&w.bin)
        .args(["daemon", "run", "--schedule", schedule])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill has no memory preconditions.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, sig) };
    assert_eq!(rc, 0);
}

/// Wait for the child to exit, within `limit`.
fn exit_within(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    wait_for("the daemon to exit", limit, || child.try_wait().unwrap())
}

fn daemon_holds_lock(w: &World) -> bool {
    w.snap_json(&["daemon", "status", "--json"])["running"] == true
}

#[test]
fn daemon_keeps_a_one_second_schedule_and_exits_0_on_sigterm_after_a_last_snapshot() {
    if !require("daemon_schedule", &["tmux", "bash"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let pane = w.start_session("busy", Kind::Bash);
    pane.run("while :; do echo tick; sleep 0.2; done");
    let mut daemon = spawn_daemon(&w, EVERY_SECOND);
    wait_for("the daemon's lock", SOON, || {
        daemon_holds_lock(&w).then_some(())
    });
    let started = Instant::now();
    // At least two snapshots while the shell works (a generous bound on a loaded machine).
    wait_for("two scheduled snapshots", SOON, || {
        (snapshot_count(&w) >= 2).then_some(())
    });
    eprintln!("two snapshots after {:?}", started.elapsed());
    let status = w.snap_json(&["daemon", "status", "--json"]);
    assert_eq!(status["running"], true);
    assert_eq!(status["pid"], daemon.id());
    assert_eq!(status["schedule"], EVERY_SECOND);
    assert!(status["next_run"].is_string());
    assert!(status["last_snapshot"]["id"].is_string());
    assert!(status["last_snapshot"]["age_seconds"].as_i64().unwrap() < 60);

    signal(&daemon, libc::SIGTERM);
    let exit = exit_within(&mut daemon, Duration::from_secs(10));
    assert!(exit.success(), "exit status {exit:?}");
    let latest = w.snap_json(&["show", "latest", "--json"]);
    assert_eq!(latest["label"], "shutdown");
    assert_eq!(latest["sessions"][0]["name"], "busy");
    assert!(!daemon_holds_lock(&w));
    pane.keys(&["C-c"]);
}

#[test]
fn sigint_stops_the_daemon_cleanly_too() {
    let w = World::new();
    let mut daemon = spawn_daemon(&w, "0 0 0 1 1 *");
    wait_for("the daemon's lock", SOON, || {
        daemon_holds_lock(&w).then_some(())
    });
    signal(&daemon, libc::SIGINT);
    let exit = exit_within(&mut daemon, Duration::from_secs(10));
    assert!(exit.success(), "exit status {exit:?}");
    assert_eq!(
        snapshot_count(&w),
        1,
        "the last snapshot is taken on the way out"
    );
}

#[test]
fn one_daemon_per_snap_home_and_its_lock_survives_a_kill_9() {
    let w = World::new();
    let mut first = spawn_daemon(&w, "0 0 0 1 1 *");
    wait_for("the daemon's lock", SOON, || {
        daemon_holds_lock(&w).then_some(())
    });
    let second = w
        .command(&w.bin)
        .args(["daemon", "run", "--schedule", "0 0 0 1 1 *"])
        .output()
        .unwrap();
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("already runs") && err.contains(&first.id().to_string()),
        "{err}"
    );

    first.kill().unwrap();
    first.wait().unwrap();
    let mut again = spawn_daemon(&w, "0 0 0 1 1 *");
    wait_for("the lock of the new daemon", SOON, || {
        (w.snap_json(&["daemon", "status", "--json"])["pid"] == again.id()).then_some(())
    });
    signal(&again, libc::SIGTERM);
    assert!(exit_within(&mut again, Duration::from_secs(10)).success());
}

#[test]
fn daemon_start_detaches_logs_under_the_state_dir_and_stop_ends_it() {
    let w = World::new();
    let t = Instant::now();
    let out = w.snap(&["daemon", "start", "--schedule", EVERY_SECOND]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "start must return at once"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("started"), "{text}");
    let status: Value = w.snap_json(&["daemon", "status", "--json"]);
    assert_eq!(status["running"], true);
    let pid = status["pid"].as_u64().unwrap() as u32;
    // Its own session: not a child of anything that will hang up.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    assert_eq!(
        fields[3],
        pid.to_string(),
        "session id is its own pid (setsid)"
    );
    let again = w.snap(&["daemon", "start"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("already running"));
    wait_for("a scheduled snapshot", SOON, || {
        (snapshot_count(&w) >= 1).then_some(())
    });
    let log = w.snap_home.join("state/daemon.log");
    assert!(std::fs::read_to_string(&log).unwrap().contains("started"));

    let stop = w.snap(&["daemon", "stop"]);
    assert!(
        stop.status.success(),
        "{}",
        String::from_utf8_lossy(&stop.stderr)
    );
    assert!(String::from_utf8_lossy(&stop.stdout).contains("stopped"));
    assert!(!common::pid_alive(pid));
    assert_eq!(
        w.snap_json(&["daemon", "status", "--json"])["running"],
        false
    );
    let idle = w.snap(&["daemon", "stop"]);
    assert!(idle.status.success());
    assert!(String::from_utf8_lossy(&idle.stdout).contains("no snap daemon"));
}

#[test]
fn a_bad_schedule_is_refused_before_anything_starts() {
    let w = World::new();
    for bad in ["*/5 * * * *", "every minute", "61 * * * * *"] {
        let out = w.snap(&["daemon", "run", "--schedule", bad]);
        assert!(!out.status.success(), "{bad} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("schedule"), "{err}");
    }
    let out = w.snap(&["daemon", "start", "--schedule", "*/5 * * * *"]);
    assert!(!out.status.success());
    assert_eq!(
        w.snap_json(&["daemon", "status", "--json"])["running"],
        false
    );
}

#[test]
fn install_without_systemd_user_says_to_use_daemon_start() {
    let w = World::new();
    let systemd = w
        .command("systemctl")
        .args(["--user", "show-environment"])
        .output()
        .is_ok_and(|o| o.status.success());
    if systemd {
        println!("SKIPPED: install_without_systemd_user: systemd --user is available here");
        return;
    }
    let out = w.snap(&["daemon", "install"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("systemd --user is not available") && err.contains("snap daemon start"),
        "{err}"
    );
    let un = w.snap(&["daemon", "install", "--uninstall"]);
    assert!(un.status.success());
}

#[test]
fn a_daemon_whose_log_reader_went_away_keeps_snapshotting_and_stops_cleanly() {
    if !require("daemon_log_reader_gone", &["tmux", "bash"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    w.start_session("quiet", Kind::Bash).wait_prompt();
    let mut daemon = spawn_daemon(&w, EVERY_SECOND);
    // The reader of its stderr goes away: every later log line meets a closed pipe.
    drop(daemon.stderr.take());
    wait_for("three scheduled snapshots", SOON, || {
        (snapshot_count(&w) >= 3).then_some(())
    });
    signal(&daemon, libc::SIGTERM);
    let exit = exit_within(&mut daemon, Duration::from_secs(10));
    assert!(exit.success(), "exit status {exit:?}");
}
