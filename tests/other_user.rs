//! Other users (issue 11, items 7 and 8): on a shared machine another user's processes
//! are not the user's (restore does not take their `sleep 777` for the user's own,
//! capture leaves them out), and another user's `.git` and `.agent-session.json` in a
//! shared sticky directory (as `/tmp`) are not the user's project and brief.
//!
//! A second user is made with `useradd` (root only; otherwise SKIPPED, and a failure
//! under `SNAP_TEST_STRICT=1`) and removed at the end, also when the test fails.

mod common;

use common::{pids_of, require, wait_for, Kind, World, SOON};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A user made for one test; removed (with what it runs) when dropped.
struct OtherUser {
    name: String,
    uid: u32,
    gid: u32,
    children: Vec<Child>,
}

impl OtherUser {
    /// Make the user, or None (SKIPPED, or a panic under `SNAP_TEST_STRICT=1`) when
    /// this is not root or the tools are missing.
    fn new(test: &str, tag: &str) -> Option<OtherUser> {
        if !require(test, &["useradd", "userdel", "setpriv"]) {
            return None;
        }
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            if std::env::var("SNAP_TEST_STRICT").as_deref() == Ok("1") {
                panic!("{test}: needs root to add a user (SNAP_TEST_STRICT=1)");
            }
            println!("SKIPPED: {test}: needs root to add a user");
            return None;
        }
        let name = format!("snapt{}{tag}", std::process::id());
        // useradd waits for nobody: another test may hold /etc/passwd's lock a moment.
        wait_for(&format!("useradd {name}"), Duration::from_secs(60), || {
            Command::new("useradd")
                .args(["-M", "-U", "-d", "/nonexistent", "-s", "/usr/sbin/nologin"])
                .arg(&name)
                .stderr(Stdio::null())
                .status()
                .ok()
                .filter(|s| s.success())
        });
        let id = |flag: &str| -> u32 {
            let out = Command::new("id").arg(flag).arg(&name).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
        };
        let (uid, gid) = (id("-u"), id("-g"));
        Some(OtherUser {
            name,
            uid,
            gid,
            children: Vec::new(),
        })
    }

    /// `setpriv` arguments that run a program as this user.
    fn as_user(&self) -> Vec<String> {
        vec![
            "setpriv".into(),
            format!("--reuid={}", self.uid),
            format!("--regid={}", self.gid),
            "--clear-groups".into(),
            "--".into(),
        ]
    }

    /// Run `args` as this user in `dir` (environment of `w`), to completion.
    fn run(&self, w: &World, dir: &Path, args: &[&str]) {
        let prefix = self.as_user();
        let out = w
            .command(&prefix[0])
            .args(&prefix[1..])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?} as {}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Start `args` as this user in `dir`; it is killed when the user is removed.
    fn spawn(&mut self, w: &World, dir: &Path, args: &[&str]) -> u32 {
        let prefix = self.as_user();
        let child = w
            .command(&prefix[0])
            .args(&prefix[1..])
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        self.children.push(child);
        pid
    }
}

impl Drop for OtherUser {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        // Anything else it still runs (a job the test started through a shell): the
        // user was made by this test, so all its processes are the test's.
        for pid in pids_of_uid(self.uid) {
            // SAFETY: kill has no memory preconditions.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
        }
        for _ in 0..50 {
            let gone = Command::new("userdel")
                .args(["-r", &self.name])
                .stderr(Stdio::null())
                .status()
                .is_ok();
            let exists = Command::new("id")
                .arg(&self.name)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if gone && !exists {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        eprintln!("could not remove test user {}", self.name);
    }
}

/// A world whose temporary directory other users can pass through, with a shared
/// sticky directory `x` in it (mode 1777, as `/tmp`).
fn shared_world() -> (World, PathBuf) {
    let w = World::new();
    std::fs::set_permissions(w.tmp.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let x = w.path("x");
    std::fs::create_dir(&x).unwrap();
    std::fs::set_permissions(&x, std::fs::Permissions::from_mode(0o1777)).unwrap();
    (w, x)
}

/// Pids of processes whose real uid is `uid`.
fn pids_of_uid(uid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Uid:"))
                    .and_then(|l| l.split_whitespace().next()?.parse::<u32>().ok())
                    == Some(uid)
            })
        })
        .collect()
}

fn dry_run(w: &World, session: &str) -> String {
    let out = w.snap(&["restore", session, "--dry-run", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn another_users_processes_are_not_captured_nor_taken_for_the_users_own() {
    if !require("other_users_processes", &["bash", "tmux"]) {
        return;
    }
    let Some(mut other) = OtherUser::new("other_users_processes", "p") else {
        return;
    };
    let (w, x) = shared_world();
    let mine = x.join("mine");
    std::fs::create_dir(&mine).unwrap();
    w.write_rc(Kind::Bash, "", "");
    let pane = w.start_session_in("work", &mine, &w.shell_command(Kind::Bash));
    // A job of the user's shell that runs as the other user: not the user's process.
    pane.run(&format!("{} sleep 778 &", other.as_user().join(" ")));
    wait_for("the other user's sleep 778", SOON, || {
        (!pids_of(&mine, &["sleep", "778"]).is_empty()).then_some(())
    });
    pane.run("sleep 777");
    wait_for("sleep 777 running in the shell", SOON, || {
        let recorded = w.shells().iter().any(|s| s["running"] == "sleep 777");
        (recorded && !pids_of(&mine, &["sleep", "777"]).is_empty()).then_some(())
    });
    let snap = w.snap_json(&["save", "--json"]);
    let procs: Vec<&Value> = snap["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["shells"].as_array().unwrap())
        .flat_map(|sh| sh["processes"].as_array().unwrap())
        .collect();
    let argvs: Vec<&Value> = procs.iter().map(|p| &p["cmd"]).collect();
    assert!(
        argvs
            .iter()
            .any(|a| **a == serde_json::json!(["sleep", "777"])),
        "{argvs:?}"
    );
    assert!(
        !argvs
            .iter()
            .any(|a| **a == serde_json::json!(["sleep", "778"])),
        "another user's process was captured: {argvs:?}"
    );

    // As after a reboot: the session and everything in it gone.
    w.tmux_ok(&["kill-server"]);
    for pid in pids_of(&mine, &["sleep", "778"]) {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    wait_for("the sleeps to end", SOON, || {
        (pids_of(&mine, &["sleep", "777"]).is_empty()
            && pids_of(&mine, &["sleep", "778"]).is_empty())
        .then_some(())
    });

    // Control: the user's own `sleep 777`, in the same directory, is still running.
    let mut own = w
        .command("sleep")
        .arg("777")
        .current_dir(&mine)
        .spawn()
        .unwrap();
    let plan = dry_run(&w, "work");
    assert!(
        plan.contains(&format!("still running (pid {})", own.id())),
        "{plan}"
    );
    own.kill().unwrap();
    own.wait().unwrap();

    // The other user's `sleep 777` there is not the user's: it does not count.
    let theirs = other.spawn(&w, &mine, &["sleep", "777"]);
    wait_for("the other user's sleep 777", SOON, || {
        pids_of(&mine, &["sleep", "777"])
            .contains(&theirs)
            .then_some(())
    });
    let plan = dry_run(&w, "work");
    assert!(!plan.contains("still running"), "{plan}");
    assert!(plan.contains("sleep 777"), "{plan}");
}

#[test]
fn another_users_git_and_state_file_in_a_shared_dir_are_not_the_users_project() {
    if !require("other_users_project", &["bash", "tmux"]) {
        return;
    }
    let Some(other) = OtherUser::new("other_users_project", "g") else {
        return;
    };
    let (w, x) = shared_world();
    other.run(&w, &x, &["mkdir", ".git"]);
    let planted = r#"{"current_task": "EVIL-TASK", "next_steps": ["run EVIL-STEP"]}"#;
    other.run(
        &w,
        &x,
        &[
            "sh",
            "-c",
            "printf '%s' \"$0\" > .agent-session.json",
            planted,
        ],
    );
    let theirs = x.join(".agent-session.json");
    assert_eq!(std::fs::read_to_string(&theirs).unwrap(), planted);
    let mine = x.join("mine");
    std::fs::create_dir(&mine).unwrap();
    w.write_rc(Kind::Bash, "", "");
    let pane = w.start_session_in("work", &mine, &w.shell_command(Kind::Bash));
    pane.run("echo hello");
    w.wait_finished(1);

    let snap = w.snap_json(&["save", "--json"]);
    let shell = &snap["sessions"][0]["shells"][0];
    assert_eq!(shell["project_dir"], mine.display().to_string(), "{snap}");

    let in_dir = |dir: &Path, args: &[&str]| {
        let out = w
            .command(&w.bin)
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    for args in [
        &["brief"][..],
        &["brief", "--json"],
        &["brief", "--markdown"],
        &["task", "show"],
        &["save", "--json"],
        &["restore", "work", "--dry-run", "--json"],
    ] {
        let text = in_dir(&mine, args);
        assert!(!text.contains("EVIL"), "{args:?}: {text}");
    }
    let b: Value = serde_json::from_str(&in_dir(&mine, &["brief", "--json"])).unwrap();
    assert_eq!(b["project"], mine.display().to_string());

    // In the shared directory itself, their file is named and left out.
    let text = in_dir(&x, &["brief"]);
    assert!(!text.contains("EVIL"), "{text}");
    assert!(text.contains(&theirs.display().to_string()), "{text}");
    assert!(text.contains("owned by uid"), "{text}");

    // Edits go to the user's own project, never to theirs.
    in_dir(&mine, &["task", "next", "my step"]);
    assert!(mine.join(".agent-session.json").is_file());
    assert_eq!(std::fs::read_to_string(&theirs).unwrap(), planted);
}
