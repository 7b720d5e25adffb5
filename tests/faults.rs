//! The fault suite (issue 7): load, crashes, suspend and corruption, with real shells,
//! a real daemon and real signals. Counts are scaled for CI; `benches/faults.sh` runs
//! the same tests with the long counts (`SNAP_FAULTS_LONG=1`) and collects the figures.
//! Read-only and full stores: tests/fault_mounts.rs; hostile input and secrets:
//! tests/fault_hostile.rs.

mod common;
mod fault_util;

use common::{require, wait_for, Kind, World, SOON};
use fault_util::{
    bash_from_file, count, figure, files_under, snapshot_files, stderr, temp_files, Rng,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const EVERY_SECOND: &str = "* * * * * *";

/// `snap daemon run` on a one-second schedule; its stderr appended to `daemon.err`.
fn spawn_daemon(w: &World) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(w.path("daemon.err"))
        .unwrap();
    w.command(&w.bin)
        .args(["daemon", "run", "--schedule", EVERY_SECOND])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill has no memory preconditions.
    let rc = unsafe { libc::kill(pid as libc::pid_t, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig})");
}

fn daemon_pid(w: &World) -> Option<u64> {
    let st = w.snap_json(&["daemon", "status", "--json"]);
    (st["running"] == true).then(|| st["pid"].as_u64().unwrap_or(0))
}

fn wait_daemon(w: &World, child: &mut Child) {
    let deadline = Instant::now() + SOON;
    while daemon_pid(w) != Some(u64::from(child.id())) {
        let exited = child.try_wait().unwrap();
        if exited.is_some() || Instant::now() > deadline {
            let log = std::fs::read_to_string(w.path("daemon.err")).unwrap_or_default();
            let status = w.snap(&["daemon", "status", "--json"]);
            let wchan = std::fs::read_to_string(format!("/proc/{}/wchan", child.id()));
            panic!(
                "daemon {} did not take its lock within {SOON:?} (exit {exited:?}, wchan {wchan:?}); status {}; its log:\n{log}",
                child.id(),
                String::from_utf8_lossy(&status.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The newest snapshot file's id, if any.
fn newest_id(w: &World) -> Option<String> {
    snapshot_files(&w.snap_home)
        .last()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
}

/// Every snapshot file parses whole, with a schema; `snap list` names nothing bad.
fn assert_store_whole(w: &World) {
    for f in snapshot_files(&w.snap_home) {
        let v: Value = serde_json::from_slice(&std::fs::read(&f).unwrap())
            .unwrap_or_else(|e| panic!("{} is not whole: {e}", f.display()));
        assert_eq!(v["schema"], 1, "{}", f.display());
    }
    let out = w.snap(&["list", "--json"]);
    assert!(out.status.success());
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

// ---- 1. Load --------------------------------------------------------------------------

#[test]
fn fifty_shells_of_a_hundred_commands_lose_no_record_while_the_daemon_captures() {
    if !require("load", &["bash"]) {
        return;
    }
    let shells = count("SHELLS", 50, 200);
    let cmds = count("COMMANDS", 100, 500);
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let mut daemon = spawn_daemon(&w);
    wait_daemon(&w, &mut daemon);

    let started = Instant::now();
    let mut children: Vec<Child> = (0..shells)
        .map(|s| {
            let script = w.path(&format!("load-{s}"));
            // A pause every 25 commands keeps the shells at work over several ticks.
            let mut text: String = (0..cmds)
                .map(|n| match n % 25 {
                    24 => format!(": load-{s}-{n}\nsleep 0.5\n"),
                    _ => format!(": load-{s}-{n}\n"),
                })
                .collect();
            // Then stay alive: retention removes the journals of shells that ended
            // before their session's oldest kept snapshot.
            text.push_str(&format!(": done-{s}\nsleep 1000\n"));
            std::fs::write(&script, text).unwrap();
            bash_from_file(&w, &script, &[])
        })
        .collect();
    let before: BTreeSet<PathBuf> = snapshot_files(&w.snap_home).into_iter().collect();
    wait_for("every shell to finish", Duration::from_secs(600), || {
        let done = w
            .history()
            .iter()
            .filter(|r| {
                r["command"]
                    .as_str()
                    .is_some_and(|c| c.starts_with(": done-"))
            })
            .count();
        (done == shells).then_some(())
    });
    let elapsed = started.elapsed();
    // The snapshots the daemon took while the shells worked (all kept: one session).
    let during = snapshot_files(&w.snap_home)
        .into_iter()
        .filter(|f| !before.contains(f))
        .count();
    assert!(during >= 1, "the daemon took no snapshot during the load");
    signal(daemon.id(), libc::SIGTERM);
    let status = wait_for("the daemon to stop", SOON, || daemon.try_wait().unwrap());
    assert!(status.success(), "{status:?}");

    let history = w.history();
    let mut per_shell: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
    for r in &history {
        let Some(rest) = r["command"]
            .as_str()
            .and_then(|c| c.strip_prefix(": load-"))
        else {
            continue;
        };
        let (s, n) = rest.split_once('-').unwrap();
        assert_eq!(r["exit"], 0, "{r}");
        per_shell
            .entry(r["shell_id"].as_str().unwrap().to_string())
            .or_default()
            .push((s.parse().unwrap(), n.parse().unwrap()));
    }
    let total: usize = per_shell.values().map(Vec::len).sum();
    assert_eq!(per_shell.len(), shells, "one journal per shell");
    for (id, recs) in &per_shell {
        let s = recs[0].0;
        let want: Vec<(usize, usize)> = (0..cmds).map(|n| (s, n)).collect();
        assert_eq!(recs, &want, "shell {id}: every command, once, in order");
    }
    assert_eq!(total, shells * cmds);
    assert_store_whole(&w);
    // The shutdown snapshot holds every shell, each with its last commands.
    let last = w.snap_json(&["show", "latest", "--json"]);
    let snapped: Vec<&Value> = last["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["shells"].as_array().unwrap())
        .collect();
    assert_eq!(snapped.len(), shells);
    for sh in &snapped {
        let h = sh["history"].as_array().unwrap();
        let last_cmd = h
            .iter()
            .rev()
            .filter_map(|r| r["command"].as_str())
            .find(|c| c.starts_with(": load-"))
            .unwrap();
        assert!(
            last_cmd.ends_with(&format!("-{}", cmds - 1)),
            "{last_cmd} is not the shell's last command"
        );
    }
    for c in &mut children {
        // SAFETY: kill has no memory preconditions; each shell leads its own group.
        unsafe { libc::kill(-(c.id() as libc::pid_t), libc::SIGKILL) };
        let _ = c.wait();
    }
    figure(
        "load",
        format!(
            "{total} of {} records from {shells} shells x {cmds} commands in {elapsed:.1?}; {} snapshots taken meanwhile, all readable",
            shells * cmds,
            during
        ),
    );
}

// ---- 2. Crashes -----------------------------------------------------------------------

#[test]
fn save_killed_9_at_random_moments_leaves_every_snapshot_readable_and_the_newest_found() {
    if !require("save_kill_9", &["tmux", "bash"]) {
        return;
    }
    let runs = count("SAVE_KILLS", 30, 300);
    let mut rng = Rng::new("save_kill_9");
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let pane = w.start_session("crash", Kind::Bash);
    pane.run("sleep 1000 &");
    pane.wait_prompt();
    pane.run("for i in 1 2 3; do echo line $i; done");
    let t = Instant::now();
    w.snap_json(&["save", "--json"]);
    let one_save = t.elapsed();
    let (mut completed, mut killed) = (0, 0);
    for _ in 0..runs {
        let before = newest_id(&w);
        let mut child = w
            .command(&w.bin)
            .arg("save")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let delay = rng.below(one_save.as_micros() as u64 * 13 / 10);
        std::thread::sleep(Duration::from_micros(delay));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        if status.success() {
            completed += 1;
        } else {
            killed += 1;
        }
        // The newest file is whole, and it is what `show latest` finds.
        let newest = newest_id(&w).expect("a snapshot");
        let shown = w.snap_json(&["show", "latest", "--json"]);
        assert_eq!(shown["id"], newest.as_str(), "after a kill at {delay} µs");
        if status.success() {
            assert_ne!(Some(newest), before);
        }
    }
    assert_store_whole(&w);
    figure(
        "save_kill_9",
        format!(
            "{runs} runs of `snap save` killed -9 at random within {:.0?} (one save: {one_save:.0?}): {killed} killed, {completed} finished first; every snapshot file readable, newest always found; {} temp files left",
            one_save * 13 / 10,
            temp_files(&w.snap_home)
        ),
    );
}

#[test]
fn the_daemon_killed_9_mid_capture_is_restarted_and_its_lock_recovered_every_time() {
    if !require("daemon_kill_9", &["tmux", "bash"]) {
        return;
    }
    let runs = count("DAEMON_KILLS", 4, 50);
    let mut rng = Rng::new("daemon_kill_9");
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let pane = w.start_session("dk", Kind::Bash);
    pane.run("sleep 1000 &");
    pane.wait_prompt();
    for _ in 0..runs {
        let mut d = spawn_daemon(&w);
        wait_daemon(&w, &mut d);
        std::thread::sleep(Duration::from_millis(rng.below(2000)));
        d.kill().unwrap();
        d.wait().unwrap();
        assert_eq!(daemon_pid(&w), None, "the lock went with its holder");
    }
    let before = newest_id(&w);
    let mut d = spawn_daemon(&w);
    wait_daemon(&w, &mut d);
    wait_for("a snapshot from the restarted daemon", SOON, || {
        (newest_id(&w) != before).then_some(())
    });
    signal(d.id(), libc::SIGTERM);
    let status = wait_for("the daemon to stop", SOON, || d.try_wait().unwrap());
    assert!(status.success());
    assert_store_whole(&w);
    figure(
        "daemon_kill_9",
        format!("{runs} kill -9 of a daemon on a one-second schedule, each restarted: lock recovered every time, store whole"),
    );
}

// ---- 3. Suspend -----------------------------------------------------------------------

#[test]
fn a_daemon_stopped_longer_than_its_interval_keeps_its_schedule_once_continued() {
    let pause = Duration::from_secs(count("SUSPEND_SECS", 3, 30) as u64);
    let w = World::new();
    let mut d = spawn_daemon(&w);
    wait_daemon(&w, &mut d);
    let mut ids: BTreeSet<String> = BTreeSet::new();
    wait_for("two snapshots", SOON, || {
        ids.extend(newest_id(&w));
        (ids.len() >= 2).then_some(())
    });
    signal(d.id(), libc::SIGSTOP);
    std::thread::sleep(pause);
    let at_stop = newest_id(&w);
    signal(d.id(), libc::SIGCONT);
    let t = Instant::now();
    let mut after: BTreeSet<String> = BTreeSet::new();
    wait_for("three snapshots after SIGCONT", SOON, || {
        after.extend(newest_id(&w).filter(|id| Some(id) != at_stop.as_ref()));
        (after.len() >= 3).then_some(())
    });
    let took = t.elapsed();
    let st = w.snap_json(&["daemon", "status", "--json"]);
    assert_eq!(st["running"], true);
    assert!(st["next_run"].is_string(), "{st}");
    signal(d.id(), libc::SIGTERM);
    let status = wait_for("the daemon to stop", SOON, || d.try_wait().unwrap());
    assert!(status.success());
    figure(
        "daemon_suspend",
        format!("stopped {pause:?} on a one-second schedule, then continued: 3 snapshots within {took:.1?}"),
    );
}

// ---- 5. Corruption --------------------------------------------------------------------

/// A shell directory copied from `from` under a new id, with its meta's id changed.
fn copy_shell(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
    let meta = to.join("meta");
    let mut m: Value = serde_json::from_slice(&std::fs::read(&meta).unwrap()).unwrap();
    m["id"] = to
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
        .into();
    std::fs::write(&meta, serde_json::to_vec(&m).unwrap()).unwrap();
}

/// About half way through, inside a line: a file cut right after a line's end can be a
/// whole shorter journal (or an environment whose missing lines nothing shows), and
/// then there is nothing to name.
fn mid_line(journal: &[u8]) -> usize {
    let mut cut = journal.len() / 2;
    while journal[cut - 1] == b'\n' || journal[cut] == b'\n' {
        cut += 1;
    }
    cut
}

#[test]
fn damaged_journals_and_metas_are_named_skipped_and_left_as_they_are() {
    if !require("damaged_journals", &["bash"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let script = w.path("lines");
    std::fs::write(&script, "echo one\nexport KEEP=1\necho two\nexit\n").unwrap();
    let mut sh = bash_from_file(&w, &script, &[]);
    assert!(sh.wait().unwrap().success());
    let shells_dir = w.snap_home.join("shells");
    let good = std::fs::read_dir(&shells_dir)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let journal = std::fs::read(good.join("journal")).unwrap();
    let mut garbage = vec![0u8; 3000];
    let mut rng = Rng::new("damaged_journals");
    for b in garbage.iter_mut() {
        *b = rng.below(256) as u8;
    }
    let mut in_garbage = garbage.clone();
    // Records in the shell's journal format (2: RS and its token from the meta).
    let meta: Value = serde_json::from_slice(&std::fs::read(good.join("meta")).unwrap()).unwrap();
    let rs = format!("\x1e{}", meta["token"].as_str().unwrap_or_default());
    in_garbage.extend(
        format!("\n{rs}S\t1764000000.5\t/\tt\tshell\necho found\n{rs}E\t1764000001.5\t0\t-\t/\n")
            .as_bytes(),
    );
    in_garbage.extend(&garbage);
    let damaged: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "1-truncated",
            "journal",
            journal[..mid_line(&journal)].to_vec(),
        ),
        ("2-empty", "journal", Vec::new()),
        ("3-zeros", "journal", vec![0; 4096]),
        ("4-garbage", "journal", garbage.clone()),
        ("5-in-garbage", "journal", in_garbage),
        ("6-meta-garbage", "meta", garbage.clone()),
        ("7-meta-empty", "meta", Vec::new()),
        ("8-segment", "journal.1", garbage.clone()),
        (
            "9-meta-schema",
            "meta",
            br#"{"schema":99,"id":"9-meta-schema"}"#.to_vec(),
        ),
    ];
    for (id, file, bytes) in &damaged {
        let dir = shells_dir.join(id);
        copy_shell(&good, &dir);
        std::fs::write(dir.join(file), bytes).unwrap();
    }
    let all_before: Vec<(PathBuf, Vec<u8>)> = files_under(&shells_dir)
        .into_iter()
        .map(|f| {
            let b = std::fs::read(&f).unwrap();
            (f, b)
        })
        .collect();

    let mut said = String::new();
    for args in [
        &["history", "--all", "--json"][..],
        &["sessions", "--json"],
        &["save", "--json"],
        &["list", "--json"],
        &["show", "latest", "--json"],
    ] {
        let out = w.snap(args);
        assert!(out.status.success(), "snap {args:?}: {}", stderr(&out));
        serde_json::from_slice::<Value>(&out.stdout).unwrap();
        said.push_str(&stderr(&out));
    }
    for (id, file, bytes) in &damaged {
        if bytes.is_empty() && *file == "journal" {
            continue; // an empty journal is a shell that recorded nothing yet
        }
        assert!(
            said.contains(&format!("{id}/{file}")),
            "{id}/{file} not named on stderr: {said}"
        );
    }
    let history = w.history();
    let count_of = |c: &str| history.iter().filter(|r| r["command"] == c).count();
    // The good shell and every copy with a good journal still say what they ran.
    assert!(count_of("echo two") >= 2, "{history:#?}");
    assert_eq!(
        count_of("echo found"),
        1,
        "a record between garbage is read"
    );
    let sessions = w.snap_json(&["sessions", "--json"]);
    assert!(
        sessions.to_string().contains("\"KEEP\":\"1\""),
        "{sessions}"
    );
    // Every byte stays: a damaged file where it was, a good segment of an ended shell
    // perhaps compressed (the save compresses what the index holds).
    for (f, b) in &all_before {
        let gz = PathBuf::from(format!("{}.gz", f.display()));
        let now = match std::fs::read(f) {
            Ok(now) => now,
            Err(_) => {
                let damaged = damaged
                    .iter()
                    .any(|(id, file, _)| f.ends_with(format!("{id}/{file}")));
                assert!(!damaged, "{} was compressed", f.display());
                let mut now = Vec::new();
                std::io::Read::read_to_end(
                    &mut flate2::read::GzDecoder::new(std::fs::File::open(&gz).unwrap()),
                    &mut now,
                )
                .unwrap();
                now
            }
        };
        assert_eq!(&now, b, "{} was changed", f.display());
    }
}

#[test]
fn damaged_snapshots_are_named_skipped_kept_and_restore_falls_back_to_the_newest_good_one() {
    if !require("damaged_snapshots", &["tmux", "bash"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let pane = w.start_session("fb", Kind::Bash);
    pane.run("echo restore-me");
    pane.wait_prompt();
    let good = w.snap_json(&["save", "--json"]);
    let good_id = good["id"].as_str().unwrap().to_string();
    let dir = w.snap_home.join("snapshots");
    let good_bytes = std::fs::read(dir.join(format!("{good_id}.json"))).unwrap();
    let mut old_schema: Value = serde_json::from_slice(&good_bytes).unwrap();
    old_schema["schema"] = 0.into();
    let mut wrong_types: Value = serde_json::from_slice(&good_bytes).unwrap();
    wrong_types["sessions"] = "not a list".into();
    let mut bad_id: Value = serde_json::from_slice(&good_bytes).unwrap();
    bad_id["id"] = "../../escape".into();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("1", good_bytes[..good_bytes.len() / 2].to_vec(), "not JSON"),
        ("2", Vec::new(), "empty"),
        ("3", vec![0; 512], "zero-filled"),
        (
            "4",
            b"{\"schema\":99,\"id\":\"x\"}".to_vec(),
            "upgrade snap",
        ),
        ("5", b"\xff\xfe\x00garbage{[".to_vec(), "not JSON"),
        (
            "6",
            serde_json::to_vec(&old_schema).unwrap(),
            "no migration",
        ),
        (
            "7",
            serde_json::to_vec(&wrong_types).unwrap(),
            "not a snapshot",
        ),
        ("8", serde_json::to_vec(&bad_id).unwrap(), "bad snapshot id"),
        ("9", b"[1,2,3]".to_vec(), "not a snapshot"),
    ];
    let name = |n: &str| format!("29990101T000000-00000{n}-1.json");
    for (n, bytes, _) in &cases {
        std::fs::write(dir.join(name(n)), bytes).unwrap();
    }
    let out = w.snap(&["restore", "fb", "--dry-run", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        plan.to_string().contains(&good_id),
        "restore did not fall back to {good_id}: {plan:#}"
    );
    let err = stderr(&out);
    for (n, _, why) in &cases {
        let line = err
            .lines()
            .find(|l| l.contains(&name(n)))
            .unwrap_or_else(|| panic!("{} not named: {err}", name(n)));
        assert!(line.contains(why), "{line:?} does not say {why:?}");
    }
    assert!(
        err.contains("schema 0 is older"),
        "the old schema is refused saying so: {err}"
    );
    // Named by id: refused, with the reason.
    let shown = w.snap(&["show", "29990101T000000-000006-1"]);
    assert!(!shown.status.success());
    assert!(
        stderr(&shown).contains("no migration"),
        "{}",
        stderr(&shown)
    );
    // Retention never deletes what it cannot read.
    let pruned = w.snap(&["prune", "--keep", "1"]);
    assert!(pruned.status.success(), "{}", stderr(&pruned));
    for (n, bytes, _) in &cases {
        assert_eq!(
            &std::fs::read(dir.join(name(n))).unwrap(),
            bytes,
            "{} was changed or removed",
            name(n)
        );
    }
    assert_eq!(w.snap_json(&["show", "latest", "--json"])["id"], good_id);
}
