//! The index (issue 14): every command recorded stays in `snap history`, whatever
//! retention, kills and damage do; the query flags against real hooked shells.

mod common;
mod fault_util;

use common::{require, wait_for, Kind, World, SOON};
use fault_util::{bash_from_file, count, stderr, Rng};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Output};
use std::time::Duration;

/// Feed each script to its own hooked `bash -i` (stdin a file); wait for all to end.
fn run_shells(w: &World, scripts: &[String]) {
    let children: Vec<(PathBuf, Child)> = scripts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let path = w.path(&format!("script-{i}"));
            std::fs::write(&path, text).unwrap();
            let child = bash_from_file(w, &path, &[]);
            (path, child)
        })
        .collect();
    for (path, child) in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}: {out:?}", path.display());
    }
}

/// The commands of `snap history --all --json` that start with `prefix`.
fn commands_with(history: &[Value], prefix: &str) -> Vec<String> {
    history
        .iter()
        .filter_map(|r| r["command"].as_str())
        .filter(|c| c.starts_with(prefix))
        .map(String::from)
        .collect()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "snap failed: {}", stderr(out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn integrity(w: &World) -> String {
    let conn = rusqlite::Connection::open(w.snap_home.join("index.db")).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn twenty_shells_of_fifty_commands_are_all_in_the_history_while_saves_run_in_a_loop() {
    if !require("index load", &["bash"]) {
        return;
    }
    let (shells, cmds) = (
        count("INDEX_SHELLS", 20, 100),
        count("INDEX_COMMANDS", 50, 200),
    );
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let saver = {
        let (stop, bin, envs, home) = (stop.clone(), w.bin.clone(), w.envs(), w.home.clone());
        std::thread::spawn(move || {
            let mut saves = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let out = std::process::Command::new(&bin)
                    .arg("save")
                    .env_clear()
                    .envs(envs.clone())
                    .current_dir(&home)
                    .output()
                    .unwrap();
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(!err.contains("locked"), "{err}");
                saves += 1;
            }
            saves
        })
    };
    let scripts: Vec<String> = (0..shells)
        .map(|s| {
            let mut text: String = (0..cmds).map(|n| format!(": ix-{s}-{n}\n")).collect();
            text.push_str("exit\n");
            text
        })
        .collect();
    run_shells(&w, &scripts);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let saves = saver.join().unwrap();
    assert!(saves >= 1);
    let history = w.history();
    let got = commands_with(&history, ": ix-");
    let mut per_shell: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in history
        .iter()
        .filter(|r| r["command"].as_str().unwrap().starts_with(": ix-"))
    {
        per_shell
            .entry(r["shell_id"].as_str().unwrap().into())
            .or_default()
            .push(r["command"].as_str().unwrap().into());
    }
    assert_eq!(got.len(), shells * cmds, "every command, once");
    for recs in per_shell.values() {
        let s = recs[0]
            .trim_start_matches(": ix-")
            .split('-')
            .next()
            .unwrap()
            .to_string();
        let want: Vec<String> = (0..cmds).map(|n| format!(": ix-{s}-{n}")).collect();
        assert_eq!(recs, &want, "in order");
    }
    assert_eq!(integrity(&w), "ok");
}

#[test]
fn exited_shells_keep_every_command_after_prune_keep_1_and_retention() {
    if !require("index retention", &["bash"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    for round in 0..3 {
        run_shells(&w, &[format!(": kept-{round}-a\n: kept-{round}-b\nexit\n")]);
        ok(&w.snap(&["save"]));
    }
    ok(&w.snap(&["prune", "--keep", "1"]));
    ok(&w.snap(&["save"]));
    let mut want = Vec::new();
    for round in 0..3 {
        want.push(format!(": kept-{round}-a"));
        want.push(format!(": kept-{round}-b"));
    }
    assert_eq!(commands_with(&w.history(), ": kept-"), want);
    // The index is only a cache: rebuilt from the journals kept, the same answer.
    let out = ok(&w.snap(&["reindex"]));
    assert!(out.contains("reindexed"), "{out}");
    assert_eq!(commands_with(&w.history(), ": kept-"), want);
    // History pruning by age is the way out.
    ok(&w.snap(&["prune", "--history-older-than", "0s"]));
    assert_eq!(commands_with(&w.history(), ": kept-"), Vec::<String>::new());
    // The snapshots still hold them: a rebuild does not bring them back.
    ok(&w.snap(&["reindex"]));
    assert_eq!(commands_with(&w.history(), ": kept-"), Vec::<String>::new());
    assert_eq!(
        std::fs::read_dir(w.snap_home.join("shells"))
            .unwrap()
            .count(),
        0,
        "ended shells' journals go with their history"
    );
}

/// The journal files of each recorded shell, by shell directory.
fn journal_files(w: &World) -> BTreeMap<PathBuf, Vec<String>> {
    std::fs::read_dir(w.snap_home.join("shells"))
        .unwrap()
        .flatten()
        .map(|d| {
            let mut names: Vec<String> = std::fs::read_dir(d.path())
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("journal"))
                .collect();
            names.sort();
            (d.path(), names)
        })
        .collect()
}

#[test]
fn ended_shells_journals_are_compressed_and_reindex_rebuilds_every_command() {
    if !require("index compression", &["bash"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let scripts: Vec<String> = (0..3)
        .map(|s| {
            (0..5)
                .map(|n| format!(": gz-{s}-{n}\n"))
                .collect::<String>()
                + "exit\n"
        })
        .collect();
    run_shells(&w, &scripts);
    let want: Vec<String> = (0..3)
        .flat_map(|s| (0..5).map(move |n| format!(": gz-{s}-{n}")))
        .collect();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(sorted(commands_with(&w.history(), ": gz-")), want);
    ok(&w.snap(&["save"]));
    let files = journal_files(&w);
    assert_eq!(files.len(), 3);
    for (dir, names) in &files {
        assert_eq!(names, &["journal.gz"], "{}", dir.display());
    }
    assert_eq!(sorted(commands_with(&w.history(), ": gz-")), want);
    ok(&w.snap(&["reindex"]));
    assert_eq!(sorted(commands_with(&w.history(), ": gz-")), want);
    // One turns bad: named, left as it is, the others still read.
    let (bad_dir, _) = files.iter().next().unwrap();
    let bad = bad_dir.join("journal.gz");
    let mut bytes = std::fs::read(&bad).unwrap();
    let n = bytes.len();
    bytes[n - 6] ^= 0xff;
    std::fs::write(&bad, &bytes).unwrap();
    let out = w.snap(&["reindex"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&bad.display().to_string()),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&bad).unwrap(), bytes, "left as it is");
    let got = commands_with(&w.history(), ": gz-");
    assert_eq!(got.len(), 10, "{got:?}");
}

#[test]
fn a_corrupt_index_is_set_aside_and_a_deleted_one_rebuilt_with_every_command() {
    if !require("index corruption", &["bash"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    run_shells(
        &w,
        &[": one\n: two\nexit\n".into(), ": three\nexit\n".into()],
    );
    let want = [": one", ": two", ": three"];
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let mut want_sorted: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    want_sorted.sort();
    assert_eq!(sorted(commands_with(&w.history(), ": ")), want_sorted);
    let db = w.snap_home.join("index.db");
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    std::fs::write(
        &db,
        b"this is not a database, it is garbage of some length\n".repeat(100),
    )
    .unwrap();
    let out = w.snap(&["history", "--all", "--json"]);
    let err = stderr(&out);
    assert!(
        err.contains(&db.display().to_string()) && err.contains("damaged"),
        "{err}"
    );
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sorted(commands_with(&v, ": ")), want_sorted);
    let aside: Vec<String> = std::fs::read_dir(&w.snap_home)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("index.db.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert!(std::fs::read(w.snap_home.join(&aside[0]))
        .unwrap()
        .starts_with(b"this is not a database"));
    // Deleted: rebuilt on the next read, silently.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let out = w.snap(&["history", "--all", "--json"]);
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sorted(commands_with(&v, ": ")), want_sorted);
    use std::os::unix::fs::PermissionsExt;
    for suffix in ["", "-wal", "-shm"] {
        let f = format!("{}{suffix}", db.display());
        if let Ok(m) = std::fs::metadata(&f) {
            assert_eq!(m.permissions().mode() & 0o777, 0o600, "{f}");
        }
    }
    // Other checks (the hook in the user's rc) may fail here: only this one counts.
    let doctor: Value = serde_json::from_slice(&w.snap(&["doctor", "--json"]).stdout).unwrap();
    let check = doctor
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "index")
        .cloned()
        .unwrap();
    assert_eq!(check["status"], "ok", "{check}");
}

/// Hand-made shells (today's journal format): `cmds` commands each.
fn hand_made_shells(w: &World, shells: usize, cmds: usize) -> Vec<PathBuf> {
    (0..shells)
        .map(|s| {
            let id = format!("1764000000{s:06}-{}-abcd", 1000 + s);
            let dir = w.snap_home.join("shells").join(&id);
            std::fs::create_dir_all(&dir).unwrap();
            let meta = serde_json::json!({
                "schema": 1, "id": id, "kind": "bash", "pid": 999_999_999u32, "tty": null,
                "started_at": "2026-11-25T00:00:00Z", "session": format!("s{}", s % 3),
                "start_dir": "/p", "project_dir": "/p", "host": "h", "tmux": null
            });
            std::fs::write(dir.join("meta"), serde_json::to_vec(&meta).unwrap()).unwrap();
            let journal = dir.join("journal");
            append_commands(&journal, s, 0..cmds);
            journal
        })
        .collect()
}

fn append_commands(journal: &Path, shell: usize, n: std::ops::Range<usize>) {
    use std::io::Write;
    let text: String = n
        .map(|i| {
            let t = 1_764_000_000 + i;
            format!("\x1eS\t{t}.25\t/p\tt\n: k-{shell}-{i}\n\x1eE\t{t}.5\t0\t-\t/p\n")
        })
        .collect();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(journal)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

#[test]
fn ingestion_killed_9_at_random_points_in_reindex_save_or_history_loses_and_doubles_nothing() {
    let rounds = count("INDEX_KILLS", 30, 100);
    let (shells, cmds) = (60, 200);
    let w = World::new();
    let mut journals = hand_made_shells(&w, shells, cmds);
    let mut have = vec![cmds; shells];
    // Shells start new segments and end, so that saves compress what the index read.
    let mut segment = vec![0; shells];
    let mut ended = vec![false; shells];
    let mut rng = Rng::new("ingestion_killed_9");
    // Kill points spread over a whole rebuild's length, however fast this machine is.
    let timed = std::time::Instant::now();
    ok(&w.snap(&["reindex"]));
    let span = timed.elapsed().as_micros() as u64 + 1;
    let mut killed = 0;
    for round in 0..rounds {
        // New commands in some shells, then a reader killed somewhere in its work.
        for _ in 0..5 {
            let s = rng.below(shells as u64) as usize;
            if ended[s] {
                continue;
            }
            append_commands(&journals[s], s, have[s]..have[s] + 3);
            have[s] += 3;
            if rng.below(3) == 0 {
                segment[s] += 1;
                journals[s].set_file_name(format!("journal.{}", segment[s]));
            } else if rng.below(8) == 0 {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(&journals[s])
                    .unwrap();
                let t = 1_764_000_000 + have[s];
                writeln!(f, "\x1eX\t{t}\texit").unwrap();
                ended[s] = true;
            }
        }
        let args: &[&str] = match round % 3 {
            0 => &["reindex"],
            1 => &["save"],
            _ => &["history", "--all", "-n", "1"],
        };
        let mut child = w.command(&w.bin).args(args).spawn().unwrap();
        std::thread::sleep(Duration::from_micros(rng.below(span)));
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        use std::os::unix::process::ExitStatusExt;
        killed += usize::from(child.wait().unwrap().signal() == Some(libc::SIGKILL));
    }
    fault_util::figure(
        "index kill -9",
        format!("{killed} of {rounds} readers killed within a {span} µs rebuild"),
    );
    assert!(killed > 0, "no reader was killed: the test tested nothing");
    let every_command_once = |when: &str| {
        let mut per_shell: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for c in commands_with(&w.history(), ": k-") {
            let mut parts = c.trim_start_matches(": k-").split('-');
            let s: usize = parts.next().unwrap().parse().unwrap();
            let i: usize = parts.next().unwrap().parse().unwrap();
            per_shell.entry(s).or_default().push(i);
        }
        for (s, &n) in have.iter().enumerate() {
            let got = per_shell.remove(&s).unwrap_or_default();
            assert_eq!(
                got,
                (0..n).collect::<Vec<_>>(),
                "{when}: shell {s}: every command once"
            );
        }
    };
    every_command_once("after the kills");
    assert_eq!(integrity(&w), "ok");
    // A save that finishes compresses the rest; a rebuild reads it all back.
    ok(&w.snap(&["save"]));
    let compressed = journal_files(&w)
        .values()
        .flatten()
        .filter(|n| n.ends_with(".gz"))
        .count();
    assert!(
        compressed > 0,
        "nothing was compressed: the test tested less"
    );
    every_command_once("compressed");
    ok(&w.snap(&["reindex"]));
    every_command_once("rebuilt");
}

#[test]
fn history_query_flags_narrow_real_shells_commands() {
    if !require("index queries", &["bash"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let proj = w.path("proj");
    std::fs::create_dir_all(proj.join("sub")).unwrap();
    let p = proj.display();
    run_shells(
        &w,
        &[format!(
            "cd '{p}'\necho 'Alpha Beta'\nfalse\ncd sub\necho gamma OR delta\n(exit 3)\ncd /\necho -n x\nexit\n"
        )],
    );
    let q = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["history", "--all", "--json"];
        args.extend_from_slice(extra);
        w.snap_json(&args)
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["command"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(q(&["--search", "beta ALPHA"]), ["echo 'Alpha Beta'"]);
    assert_eq!(q(&["--search", "OR"]), ["echo gamma OR delta"]);
    assert_eq!(q(&["--search", "-n"]), ["echo -n x"]);
    assert_eq!(q(&["--search", "\"alpha"]), Vec::<String>::new());
    assert_eq!(q(&["--failed"]), ["false", "(exit 3)"]);
    assert_eq!(q(&["--exit", "3"]), ["(exit 3)"]);
    let sub = proj.join("sub").display().to_string();
    assert_eq!(
        q(&["--cwd", &sub]),
        ["echo gamma OR delta", "(exit 3)", "cd /"]
    );
    let here = w
        .command(&w.bin)
        .args(["history", "--all", "--here", "--json"])
        .current_dir(proj.join("sub"))
        .output()
        .unwrap();
    let here: Vec<Value> = serde_json::from_slice(&here.stdout).unwrap();
    assert_eq!(here.len(), 3);
    assert_eq!(q(&["--since", "1h"]).len(), 9);
    assert_eq!(
        q(&["--since", "2999-01-01T00:00:00Z"]),
        Vec::<String>::new()
    );
    let all = w.history();
    let id = all[0]["shell_id"].as_str().unwrap().to_string();
    assert_eq!(q(&["--shell", &id]).len(), 9);
    assert_eq!(q(&["--shell", "nobody"]), Vec::<String>::new());
    assert_eq!(q(&["--search", "echo", "-n", "1"]), ["echo -n x"]);
    // Agent commands carry their agent; a bad --since says what it wants.
    let session = all[0]["session"].as_str().unwrap().to_string();
    let dir = w.snap_home.join("agents").join(&session);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("journal.jsonl"),
        "{\"schema\":1,\"agent\":\"claude\",\"agent_session\":\"c1\",\"command\":\"cargo test\",\"cwd\":\"/p\",\"time_us\":1764000000000000,\"exit\":101}\n",
    )
    .unwrap();
    let agent = w.snap_json(&["history", "--all", "--json", "--source", "agent"]);
    assert_eq!(agent[0]["agent"], "claude");
    assert_eq!(agent[0]["source"], "agent");
    assert_eq!(agent.as_array().unwrap().len(), 1);
    let shell = w.snap_json(&["history", "--all", "--json", "--source", "shell"]);
    assert!(shell[0]["agent"].is_null());
    assert_eq!(shell.as_array().unwrap().len(), 9);
    let bad = w.snap(&["history", "--since", "yesterday-ish"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("--since"), "{}", stderr(&bad));
}

#[test]
fn history_only_old_snapshots_hold_is_indexed_when_its_journals_are_gone() {
    if !require("index migration", &["bash"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let pane = w.start_session("old", Kind::Bash);
    pane.run(": from-before-1");
    pane.run(": from-before-2");
    wait_for("the commands", SOON, || {
        (commands_with(&w.history(), ": from-before").len() == 2).then_some(())
    });
    ok(&w.snap(&["save"]));
    w.tmux_ok(&["kill-server"]);
    // Once the shell wrote its last record (else it may write into the directory
    // while it goes).
    wait_for("the shell to end", SOON, || {
        w.shells()
            .iter()
            .all(|s| !s["ended"].is_null())
            .then_some(())
    });
    // What an older snap left: the shell's directory removed by retention, no index.
    std::fs::remove_dir_all(w.snap_home.join("shells")).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!(
            "{}{suffix}",
            w.snap_home.join("index.db").display()
        ));
    }
    assert_eq!(
        commands_with(&w.history(), ": from-before"),
        [": from-before-1", ": from-before-2"]
    );
    // And a reindex keeps them.
    ok(&w.snap(&["reindex"]));
    assert_eq!(commands_with(&w.history(), ": from-before").len(), 2);
}

#[test]
fn forget_keeps_the_sessions_history_unless_purge() {
    if !require("index forget", &["bash"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    run_shells(&w, &[": forget-me\nexit\n".into()]);
    ok(&w.snap(&["save"]));
    let session = w.history()[0]["session"].as_str().unwrap().to_string();
    ok(&w.snap(&["forget", &session]));
    assert_eq!(commands_with(&w.history(), ": forget-me").len(), 1);
    ok(&w.snap(&["forget", &session, "--purge"]));
    assert_eq!(commands_with(&w.history(), ": forget-me").len(), 0);
    ok(&w.snap(&["reindex"]));
    assert_eq!(commands_with(&w.history(), ": forget-me").len(), 0);
}

#[test]
fn here_is_the_directory_as_the_shell_names_it_through_a_symlink() {
    if !require("index here", &["bash"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let real = w.path("real/sub");
    std::fs::create_dir_all(&real).unwrap();
    let link = w.path("link");
    std::os::unix::fs::symlink(w.path("real"), &link).unwrap();
    let via = link.join("sub");
    run_shells(&w, &[format!("cd '{}'\n: via-link\nexit\n", via.display())]);
    let out = w
        .command(&w.bin)
        .args(["history", "--all", "--here", "--json"])
        .current_dir(&via)
        .env("PWD", &via)
        .output()
        .unwrap();
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(commands_with(&v, ": via"), [": via-link"], "{v:?}");
}

#[test]
fn an_index_that_fails_its_integrity_check_is_set_aside_by_doctor_and_rebuilt() {
    let w = World::new();
    hand_made_shells(&w, 4, 300);
    ok(&w.snap(&["reindex"]));
    let db = w.snap_home.join("index.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    // Damage pages in the middle of the file: the schema (page 1) still reads.
    let mut bytes = std::fs::read(&db).unwrap();
    let (from, to) = (bytes.len() / 3, bytes.len() / 2);
    bytes[from..to].iter_mut().for_each(|b| *b = 0x5a);
    std::fs::write(&db, &bytes).unwrap();
    let out = w.snap(&["doctor", "--json"]);
    let doctor: Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = doctor
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "index")
        .cloned()
        .unwrap();
    assert_eq!(check["status"], "warn", "{check}");
    assert!(
        check["detail"].as_str().unwrap().contains("rebuilt"),
        "{check}"
    );
    assert!(
        stderr(&out).contains("index.db.corrupt-"),
        "{}",
        stderr(&out)
    );
    assert_eq!(commands_with(&w.history(), ": k-").len(), 4 * 300);
    assert_eq!(integrity(&w), "ok");
}

#[test]
fn history_outside_a_hooked_shell_shows_the_current_directorys_project_session() {
    if !require("history default session", &["bash", "tmux"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let (pa, pb) = (w.path("alpha"), w.path("beta"));
    for (dir, name) in [(&pa, "alpha"), (&pb, "beta")] {
        std::fs::create_dir_all(dir).unwrap();
        let pane = w.start_session_in(name, dir, &w.shell_command(Kind::Bash));
        pane.run(&format!("echo in-{name}"));
    }
    wait_for("both commands recorded", SOON, || {
        (commands_with(&w.history(), "echo in-").len() == 2).then_some(())
    });
    let in_dir = |dir: &Path| -> Vec<String> {
        let out = w
            .command(&w.bin)
            .args(["history", "--json"])
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        commands_with(v.as_array().unwrap(), "echo in-")
    };
    assert_eq!(in_dir(&pa), ["echo in-alpha"]);
    assert_eq!(in_dir(&pb), ["echo in-beta"]);
}

/// Hand-made shells of `session` that ended long ago (today's journal format): `cmds`
/// commands each, `: <tag>-<shell>-<n>`.
fn ended_shells(w: &World, session: &str, tag: &str, shells: usize, cmds: usize) {
    for s in 0..shells {
        let id = format!("1700000000{s:06}-{}-{:04x}", 1000 + s, tag.len() * 7919 + s);
        let id = format!("{id}{tag}");
        let dir = w.snap_home.join("shells").join(&id);
        std::fs::create_dir_all(&dir).unwrap();
        let meta = serde_json::json!({
            "schema": 1, "id": id, "kind": "bash", "pid": 999_999_999u32, "tty": null,
            "started_at": "2023-11-14T22:13:20Z", "session": session,
            "start_dir": "/p", "project_dir": "/p", "host": "h", "tmux": null
        });
        std::fs::write(dir.join("meta"), serde_json::to_vec(&meta).unwrap()).unwrap();
        let mut text: String = (0..cmds)
            .map(|i| {
                let t = 1_700_000_001 + i;
                format!("\x1eS\t{t}.25\t/p\tt\n: {tag}-{s}-{i}\n\x1eE\t{t}.5\t0\t-\t/p\n")
            })
            .collect();
        text.push_str(&format!("\x1eX\t{}\texit\n", 1_700_000_001 + cmds));
        std::fs::write(dir.join("journal"), text).unwrap();
    }
}

/// Run snap with `args` while two other snap processes read the store (and so ingest
/// it) over and over.
fn while_others_read(w: &World, args: &[&str]) -> Output {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (stop, bin, envs, home) = (stop.clone(), w.bin.clone(), w.envs(), w.home.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    std::process::Command::new(&bin)
                        .args(["history", "--all", "-n", "1"])
                        .env_clear()
                        .envs(envs.clone())
                        .current_dir(&home)
                        .output()
                        .unwrap();
                }
            })
        })
        .collect();
    let out = w.snap(args);
    stop.store(true, Ordering::SeqCst);
    for r in readers {
        r.join().unwrap();
    }
    out
}

#[test]
fn forget_purge_leaves_none_of_its_shells_commands_while_other_snaps_read_the_store() {
    let w = World::new();
    for round in 0..count("INDEX_PURGE_ROUNDS", 4, 20) {
        let session = format!("purged{round}");
        ended_shells(&w, &session, &format!("purge{round}"), 150, 5);
        ok(&w.snap(&["history", "--all", "-n", "1"]));
        ok(&while_others_read(&w, &["forget", &session, "--purge"]));
        let back = commands_with(&w.history(), &format!(": purge{round}-"));
        assert!(back.is_empty(), "round {round}: {} came back", back.len());
    }
}

#[test]
fn history_pruning_leaves_none_of_the_shells_it_removes_while_other_snaps_read_the_store() {
    let w = World::new();
    for round in 0..count("INDEX_PRUNE_ROUNDS", 4, 20) {
        ended_shells(&w, "old", &format!("prune{round}"), 150, 5);
        ok(&w.snap(&["history", "--all", "-n", "1"]));
        ok(&while_others_read(
            &w,
            &["prune", "--history-older-than", "1d"],
        ));
        let back = commands_with(&w.history(), &format!(": prune{round}-"));
        assert!(back.is_empty(), "round {round}: {} came back", back.len());
        let shells = w.snap_json(&["sessions", "--all", "--json"]);
        assert!(
            !shells.to_string().contains(&format!("prune{round}")),
            "round {round}: {shells}"
        );
    }
}

#[test]
fn forget_purge_keeps_a_live_shells_commands_and_where_it_read_up_to() {
    if !require("index purge live", &["bash"]) {
        return;
    }
    use std::io::Write;
    let w = World::new();
    let rc = w.write_rc(Kind::Bash, "", "");
    let script = w.path("ended");
    std::fs::write(&script, ": gone-1\n: gone-2\nexit\n").unwrap();
    let ended = bash_from_file(&w, &script, &[("SNAP_SESSION", "work")]);
    assert!(ended.wait_with_output().unwrap().status.success());
    let mut live = w
        .command("bash")
        .args(["--rcfile", &rc.display().to_string(), "-i"])
        .env("SNAP_SESSION", "work")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = live.stdin.take().unwrap();
    stdin.write_all(b": live-1\n: live-2\n").unwrap();
    stdin.flush().unwrap();
    wait_for("the live shell's commands", SOON, || {
        (commands_with(&w.history(), ": live-").len() == 2).then_some(())
    });
    ok(&w.snap(&["forget", "work", "--purge"]));
    // Right after, before anything reads the journals again, the index still holds
    // them: the live shell's rows were never dropped.
    let conn = rusqlite::Connection::open(w.snap_home.join("index.db")).unwrap();
    let held: i64 = conn
        .query_row(
            "SELECT count(*) FROM commands WHERE text LIKE ': live-%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    drop(conn);
    assert_eq!(held, 2);
    assert_eq!(commands_with(&w.history(), ": gone-"), Vec::<String>::new());
    stdin.write_all(b": live-3\nexit\n").unwrap();
    drop(stdin);
    assert!(live.wait().unwrap().success());
    let want = [": live-1", ": live-2", ": live-3"];
    wait_for("the last command", SOON, || {
        (commands_with(&w.history(), ": live-") == want).then_some(())
    });
    ok(&w.snap(&["reindex"]));
    assert_eq!(commands_with(&w.history(), ": live-"), want);
    assert_eq!(commands_with(&w.history(), ": gone-"), Vec::<String>::new());
}
