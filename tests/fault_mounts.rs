//! Faults of the store's file system, made real with mounts in a private mount namespace
//! (CI runs as root, for whom `chmod` proves nothing): a small tmpfs as `$SNAP_HOME`,
//! remounted read-only, or filled up. Issue 7, items 3 and 4.

mod common;
mod fault_util;

use common::{require, wait_for, Kind, Pane, World, PROMPT, SOON};
use fault_util::{figure, json, snapshot_files, stderr, temp_files, Ns};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Mount a tmpfs of `size` over the world's `SNAP_HOME`, inside the namespace.
fn mount_store(ns: &Ns, w: &World, size: &str) {
    std::fs::create_dir_all(&w.snap_home).unwrap();
    ns.sh_ok(
        w,
        &format!(
            "mount -t tmpfs -o size={size},mode=0700 tmpfs '{}'",
            w.snap_home.display()
        ),
    );
}

/// A hooked bash, run inside the namespace over `lines`, so the store holds a session.
fn shell_once(ns: &Ns, w: &World, lines: &str) {
    w.write_rc(Kind::Bash, "", "");
    let script = w.path("lines");
    std::fs::write(&script, lines).unwrap();
    let out = ns
        .command(w, "bash")
        .args([
            "--rcfile",
            &w.home.join(".bashrc").display().to_string(),
            "-i",
        ])
        .stdin(std::fs::File::open(&script).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

fn remount(ns: &Ns, w: &World, how: &str) {
    ns.sh_ok(
        w,
        &format!("mount -o remount,{how} '{}'", w.snap_home.display()),
    );
}

/// Fill the store's file system up (dd stops at ENOSPC).
fn fill(ns: &Ns, w: &World) {
    let _ = ns.sh(
        w,
        &format!(
            "dd if=/dev/zero of='{}/fill' bs=4k 2>/dev/null",
            w.snap_home.display()
        ),
    );
    let df = ns.sh(
        w,
        &format!("df -k --output=avail '{}'", w.snap_home.display()),
    );
    let avail = String::from_utf8_lossy(&df.stdout);
    assert!(
        avail.contains("\n0") || avail.trim().ends_with(" 0"),
        "{avail}"
    );
}

fn unfill(ns: &Ns, w: &World) {
    ns.sh_ok(w, &format!("rm -f '{}/fill'", w.snap_home.display()));
}

/// Type `cmd` (which echoes `marker`) and wait until its output and the next prompt
/// show; returns how long the prompt took to come back.
fn run_and_time(pane: &Pane, cmd: &str, marker: &str) -> Duration {
    let t = Instant::now();
    pane.run(cmd);
    wait_for(&format!("{marker} and a prompt"), SOON, || {
        let s = pane.screen();
        let mut lines = s.lines().map(str::trim_end).filter(|l| !l.is_empty());
        let seen = s.lines().any(|l| l.trim_end() == marker);
        (seen && lines.next_back() == Some(PROMPT.trim_end())).then_some(())
    });
    t.elapsed()
}

/// Words that would mean the hook spoke: an error, a warning, snap's name.
fn noise(screen: &str) -> Option<&str> {
    screen.lines().find(|l| {
        let l = l.to_lowercase();
        [
            "snap",
            "read-only",
            "no space",
            "warning",
            "error",
            "denied",
            "__",
        ]
        .iter()
        .any(|w| l.contains(w))
    })
}

#[test]
fn hooks_stay_silent_and_prompt_at_once_on_a_read_only_or_full_store_then_record_again() {
    let test = "hooks_on_read_only_or_full_store";
    if !require(test, &["tmux", "bash", "zsh", "fish", "unshare", "nsenter"]) {
        return;
    }
    let w = World::new();
    let Some(ns) = Ns::new(test, &w) else {
        return;
    };
    mount_store(&ns, &w, "1m");
    for k in [Kind::Bash, Kind::Zsh, Kind::Fish] {
        w.write_rc(k, "", "");
    }
    // The tmux server starts inside the namespace: its shells see the tmpfs.
    let first = ns
        .command(&w, "tmux")
        .args(["new-session", "-d", "-s", "store", "-x", "150", "-y", "50"])
        .args([
            "-c",
            &w.home.display().to_string(),
            "-P",
            "-F",
            "#{pane_id}",
        ])
        .arg(w.shell_command(Kind::Bash))
        .output()
        .unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    let mut panes = vec![("bash", w.pane(&String::from_utf8_lossy(&first.stdout)))];
    for k in [Kind::Zsh, Kind::Fish] {
        let id = w.tmux_ok(&[
            "new-window",
            "-t",
            "store",
            "-c",
            &w.home.display().to_string(),
            "-P",
            "-F",
            "#{pane_id}",
            &w.shell_command(k),
        ]);
        panes.push((k.name(), w.pane(&id)));
    }
    for (_, p) in &panes {
        p.wait_prompt();
    }
    let step = |what: &str, env: Option<&str>| -> Duration {
        let mut slowest = Duration::ZERO;
        for (name, p) in &panes {
            p.run("clear");
            p.wait_prompt();
            let marker = format!("{what}-{name}");
            let cmd = match env {
                Some(var) => format!("export {var}_{}=1; echo {marker}", name.to_uppercase()),
                None => format!("echo {marker}"),
            };
            slowest = slowest.max(run_and_time(p, &cmd, &marker));
            let mut screen = p.screen();
            if *name == "fish" && what.starts_with("full") {
                // fish 3.6 reports a builtin's failed write on its own stderr whatever
                // the redirections (`printf x >>/dev/full 2>/dev/null` prints it): on a
                // full store its hook is silent only while records fit in the slack of
                // the journal's last page.
                screen = screen.replace("write: No space left on device\n", "");
            }
            if let Some(line) = noise(&screen) {
                panic!("{name} printed {line:?} at step {what}:\n{}", p.screen());
            }
        }
        slowest
    };
    step("before", None);

    remount(&ns, &w, "ro");
    let ro = step("ro", Some("RO")).max(step("ro2", None));
    remount(&ns, &w, "rw");
    step("afterro", Some("AFTER_RO"));

    fill(&ns, &w);
    let full = step("full", Some("FULL"))
        .max(step("full2", None))
        .max(step("full3", Some("FULL3")));
    unfill(&ns, &w);
    step("afterfull", Some("AFTER_FULL"));
    figure(
        "hook_prompt_read_only",
        format!("slowest prompt {ro:?} (bash, zsh, fish; bound {SOON:?})"),
    );
    figure(
        "hook_prompt_full",
        format!("slowest prompt {full:?} (bash, zsh, fish; bound {SOON:?})"),
    );

    // Recording resumed: what ran once the store was writable again is in the journals.
    let history = ns.snap(&w, &["history", "--all", "--json"]);
    let history = json(&history);
    let commands: Vec<(String, String)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["command"].as_str().unwrap_or_default().to_string(),
                r["exit"].to_string(),
            )
        })
        .collect();
    for (name, _) in &panes {
        let up = name.to_uppercase();
        for cmd in [
            format!("echo before-{name}"),
            format!("export AFTER_RO_{up}=1; echo afterro-{name}"),
            format!("export AFTER_FULL_{up}=1; echo afterfull-{name}"),
        ] {
            assert!(
                commands.iter().any(|(c, e)| c == &cmd && e == "0"),
                "{cmd:?} not recorded with exit 0: {commands:?}"
            );
        }
        assert!(
            !commands
                .iter()
                .any(|(c, _)| c.contains(&format!("ro-{name}")) && !c.contains("afterro")),
            "a command run while the store was read-only was recorded: {commands:?}"
        );
    }
    let sessions = json(&ns.snap(&w, &["sessions", "--json"]));
    let shells: Vec<&serde_json::Value> = sessions
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["shells"].as_array().unwrap())
        .collect();
    for (name, _) in &panes {
        let up = name.to_uppercase();
        let shell = shells
            .iter()
            .find(|s| s["kind"] == *name)
            .unwrap_or_else(|| panic!("no {name} shell in {sessions:#}"));
        assert_eq!(
            shell["env"][format!("AFTER_FULL_{up}")],
            "1",
            "{name}: the environment is recorded again: {shell:#}"
        );
    }
}

#[test]
fn save_on_a_full_or_read_only_store_fails_clearly_and_keeps_earlier_snapshots() {
    let test = "save_on_full_store";
    if !require(test, &["unshare", "nsenter"]) {
        return;
    }
    let w = World::new();
    let Some(ns) = Ns::new(test, &w) else {
        return;
    };
    mount_store(&ns, &w, "1m");
    shell_once(&ns, &w, "echo one\n");
    for _ in 0..2 {
        json(&ns.snap(&w, &["save", "--json"]));
    }
    // (Retention keeps only the newest snapshot of a session without live shells.)
    let files = snapshot_files(&ns.view(&w.snap_home));
    assert!(!files.is_empty());
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();

    fill(&ns, &w);
    let out = ns.snap(&w, &["save"]);
    assert!(!out.status.success(), "save on a full disk succeeded");
    let err = stderr(&out);
    assert!(
        err.contains("disk full") || err.contains("No space left"),
        "not a clear error: {err}"
    );
    assert!(err.contains("earlier snapshots are intact"), "{err}");
    figure("save_full_disk_error", err.trim().replace('\n', " / "));

    unfill(&ns, &w);
    remount(&ns, &w, "ro");
    let out = ns.snap(&w, &["save"]);
    assert!(!out.status.success(), "save on a read-only store succeeded");
    let err = stderr(&out);
    assert!(err.contains("Read-only file system"), "{err}");
    figure("save_read_only_error", err.trim().replace('\n', " / "));
    remount(&ns, &w, "rw");

    let view = ns.view(&w.snap_home);
    let after = snapshot_files(&view);
    assert_eq!(
        after, files,
        "the earlier snapshots are all there, and no other"
    );
    for (f, b) in files.iter().zip(&before) {
        assert_eq!(&std::fs::read(f).unwrap(), b, "{} changed", f.display());
    }
    assert_eq!(temp_files(&view), 0, "a failed save left a temp file");
    let list = ns.snap(&w, &["list", "--json"]);
    assert_eq!(json(&list).as_array().unwrap().len(), files.len());
    assert!(list.stderr.is_empty(), "{}", stderr(&list));
}

#[test]
fn the_daemon_survives_a_full_disk_and_snapshots_again_once_there_is_room() {
    let test = "daemon_on_full_store";
    if !require(test, &["unshare", "nsenter"]) {
        return;
    }
    let w = World::new();
    let Some(ns) = Ns::new(test, &w) else {
        return;
    };
    mount_store(&ns, &w, "1m");
    shell_once(&ns, &w, "echo one\n");
    json(&ns.snap(&w, &["save", "--json"]));
    fill(&ns, &w);
    let log = w.path("daemon.err");
    let mut daemon = ns
        .command(&w, &w.bin)
        .args(["daemon", "run", "--schedule", "* * * * * *"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_for("a failed tick in the daemon's log", SOON, || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        text.contains("snapshot failed").then_some(())
    });
    wait_for("a second failed tick", SOON, || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        (text.matches("snapshot failed").count() >= 2).then_some(())
    });
    assert!(daemon.try_wait().unwrap().is_none(), "the daemon died");
    let view = ns.view(&w.snap_home);
    let before = snapshot_files(&view);
    assert_eq!(before.len(), 1);
    unfill(&ns, &w);
    wait_for("a snapshot once there is room", SOON, || {
        (snapshot_files(&view).last() != before.last()).then_some(())
    });
    // SAFETY: kill has no memory preconditions.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    let status = wait_for("the daemon to stop", SOON, || daemon.try_wait().unwrap());
    assert!(status.success(), "{status:?}");
    let list = ns.snap(&w, &["list", "--json"]);
    assert!(list.stderr.is_empty(), "{}", stderr(&list));
    assert_eq!(temp_files(&view), 0);
}

/// The commands `snap history --all --json` prints, in order.
fn commands(out: &std::process::Output) -> Vec<String> {
    json(out)
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["command"].as_str().map(str::to_string))
        .collect()
}

/// A store on a small tmpfs with one shell's two commands (`echo WORD-one`, `-two`),
/// indexed: the world, its namespace and the commands `snap history` printed.
fn store_with_history(test: &str, word: &str) -> Option<(World, Ns, Vec<String>)> {
    if !require(test, &["unshare", "nsenter"]) {
        return None;
    }
    let w = World::new();
    let ns = Ns::new(test, &w)?;
    mount_store(&ns, &w, "2m");
    shell_once(&ns, &w, &format!("echo {word}-one\necho {word}-two\n"));
    let first = ns.snap(&w, &["history", "--all", "--json"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let held = commands(&first);
    assert!(held.contains(&format!("echo {word}-two")), "{held:?}");
    Some((w, ns, held))
}

/// Issue 14 item 6: a disk that fills during ingestion leaves the index as it was,
/// which answers, and says so once; once there is room, every command is there once.
#[test]
fn ingestion_on_a_full_disk_keeps_the_index_and_says_so_once() {
    let Some((w, ns, held)) = store_with_history("ingest_on_full_store", "ingest") else {
        return;
    };
    // Another shell's commands reach its journal; then the disk fills before the index
    // reads them (enough of them that the index needs room for them).
    let many: String = (0..300)
        .map(|i| format!("echo ingest-later-{i}-{}\n", "x".repeat(200)))
        .collect();
    shell_once(&ns, &w, &many);
    fill(&ns, &w);
    let out = ns.snap(&w, &["history", "--all", "--json"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(
        err.matches("cannot bring the index").count(),
        1,
        "said once: {err}"
    );
    assert!(err.contains("index.db"), "names the file: {err}");
    figure("ingest_full_disk_note", err.trim().replace('\n', " / "));
    // It answers with what it held: nothing lost, nothing doubled.
    let during = commands(&out);
    for c in &held {
        assert_eq!(
            during.iter().filter(|d| *d == c).count(),
            1,
            "{c}: {during:?}"
        );
    }
    unfill(&ns, &w);
    let after = ns.snap(&w, &["history", "--all", "--json"]);
    assert!(after.stderr.is_empty(), "{}", stderr(&after));
    let all = commands(&after);
    for i in [0, 150, 299] {
        let c = format!("echo ingest-later-{i}-{}", "x".repeat(200));
        assert_eq!(all.iter().filter(|d| **d == c).count(), 1, "{i}: {all:?}");
    }
    for c in &held {
        assert_eq!(all.iter().filter(|d| *d == c).count(), 1, "{c}");
    }
    let doctor = ns.snap(&w, &["doctor", "--json"]);
    let report = String::from_utf8_lossy(&doctor.stdout);
    assert!(!report.contains("corrupt"), "{report}");
}

/// A store remounted read-only: `snap history` answers from the index as it is and
/// says once why it is not brought up to date.
#[test]
fn history_on_a_read_only_store_answers_from_the_index_as_it_is() {
    let Some((w, ns, held)) = store_with_history("history_on_read_only_store", "ro") else {
        return;
    };
    remount(&ns, &w, "ro");
    let out = ns.snap(&w, &["history", "--all", "--json"]);
    let err = stderr(&out);
    remount(&ns, &w, "rw");
    assert!(out.status.success(), "{err}");
    assert_eq!(err.matches("cannot bring the index").count(), 1, "{err}");
    figure("history_read_only_note", err.trim().replace('\n', " / "));
    assert_eq!(commands(&out), held);
}
