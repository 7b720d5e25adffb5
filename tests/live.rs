//! Snapshots of live state (issue 14, item 4): a snapshot holds the shells alive at
//! capture and those ended since their session's previous snapshot, whatever the store
//! holds; ended shells' history stays in the index, for `snap history` and for the
//! lineage history restore gives a restored shell.

mod common;
mod fault_util;

use common::{require, wait_for, Kind, World, SOON};
use fault_util::bash_from_file;
use serde_json::Value;
use std::path::PathBuf;

/// Feed each script to its own hooked `bash -i` of session `session`; wait for all.
fn ended_shells(w: &World, session: &str, scripts: &[String]) {
    let children: Vec<(PathBuf, std::process::Child)> = scripts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let path = w.path(&format!("script-{session}-{i}"));
            std::fs::write(&path, text).unwrap();
            let child = bash_from_file(w, &path, &[("SNAP_SESSION", session)]);
            (path, child)
        })
        .collect();
    for (path, child) in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}: {out:?}", path.display());
    }
}

/// A script of `n` commands `: <tag>-<i>`, then `exit`.
fn script(tag: &str, n: usize) -> String {
    let mut text: String = (0..n).map(|i| format!(": {tag}-{i}\n")).collect();
    text.push_str("exit\n");
    text
}

/// The snapshot `snap save` took.
fn save(w: &World) -> Value {
    w.snap_json(&["save", "--json"])
}

/// The shells of `session` in a snapshot.
fn shells_of<'a>(snap: &'a Value, session: &str) -> Vec<&'a Value> {
    snap["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == session)
        .flat_map(|s| s["shells"].as_array().unwrap())
        .collect()
}

fn all_shells(snap: &Value) -> Vec<&Value> {
    snap["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["shells"].as_array().unwrap())
        .collect()
}

#[test]
fn a_snapshot_holds_the_live_shells_and_those_ended_since_the_previous_one_not_every_ended_shell() {
    if !require("snapshot of live state", &["bash", "tmux"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let live = w.start_session("live", Kind::Bash);
    live.run(": live-0");
    let scripts: Vec<String> = (0..12).map(|s| script(&format!("old{s}"), 5)).collect();
    ended_shells(&w, "grow", &scripts);

    // The first snapshot of the session: every shell it has, once.
    let first = save(&w);
    assert_eq!(shells_of(&first, "grow").len(), 12);
    // Nothing ended since: the live shell alone, however many ended shells the store holds.
    let second = save(&w);
    let held = all_shells(&second);
    assert_eq!(held.len(), 1, "{second:#}");
    assert_eq!(held[0]["alive"], true);
    assert_eq!(shells_of(&second, "live").len(), 1);

    // One more ends: the next snapshot holds it (not alive, how it ended, its history)
    // beside the live one, and none of the twelve.
    ended_shells(&w, "grow", &[script("new", 60)]);
    let third = save(&w);
    let grow = shells_of(&third, "grow");
    assert_eq!(grow.len(), 1, "{third:#}");
    assert_eq!(grow[0]["alive"], false);
    assert!(grow[0]["ended"].is_string(), "{:#}", grow[0]);
    let tail: Vec<&str> = grow[0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["command"].as_str())
        .collect();
    let mut want: Vec<String> = (11..60).map(|i| format!(": new-{i}")).collect();
    want.push("exit".into());
    assert_eq!(tail, want, "the last 50 commands");
    assert_eq!(all_shells(&third).len(), 2);

    // Every command stays in the history.
    let history = w.history();
    for (tag, n) in (0..12)
        .map(|s| (format!("old{s}"), 5))
        .chain([("new".into(), 60)])
    {
        for i in 0..n {
            let c = format!(": {tag}-{i}");
            assert_eq!(
                history
                    .iter()
                    .filter(|r| r["command"] == c.as_str())
                    .count(),
                1,
                "{c}"
            );
        }
    }
    // And the brief and sessions of the live session know its shell.
    let sessions = w.snap_json(&["sessions", "--json", "--session", "live"]);
    assert_eq!(sessions.as_array().unwrap().len(), 1, "{sessions:#}");
    assert_eq!(sessions[0]["shells"][0]["alive"], true);
}

/// Restore `work`, wait for its shell's prompt, and return its pane.
fn restore(w: &World) -> common::Pane<'_> {
    w.snap_ok(&["restore", "work", "--no-attach"]);
    let id = w.pane_ids("work").remove(0);
    let pane = w.pane(&id);
    wait_for("a prompt in the restored pane", SOON, || {
        let s = pane.screen();
        let last = s.lines().rev().find(|l| !l.trim().is_empty())?;
        last.starts_with(common::PROMPT.trim_end()).then_some(())
    });
    pane
}

#[test]
fn a_restored_shell_gets_every_generations_history_once_no_snapshot_holds_the_first_one() {
    if !require("lineage from the index", &["bash", "tmux"]) {
        return;
    }
    let w = World::new();
    // No history file: what a restored shell holds is what snap gave it.
    w.write_rc(Kind::Bash, "HISTFILE=/dev/null", "");
    let first = w.start_session("work", Kind::Bash);
    // More than a snapshot's tail of history.
    for i in 0..60 {
        first.run(&format!(": gen0-{i}"));
    }
    w.wait_finished(60);
    let gen0 = w.snap_json(&["save", "--json"]);
    let gen0 = all_shells(&gen0)[0]["id"].as_str().unwrap().to_string();
    w.crash("work");
    let second = restore(&w);
    second.run(": gen1-0");
    w.wait_finished(61);
    // Snapshots from now on hold the second generation only; the older ones go.
    w.snap_ok(&["save"]);
    let newest = w.snap_json(&["save", "--json"]);
    w.snap_ok(&["prune", "--keep", "1"]);
    let held = all_shells(&newest);
    assert_eq!(held.len(), 1, "{newest:#}");
    assert_eq!(held[0]["replaces"], gen0.as_str());
    for file in fault_util::snapshot_files(&w.snap_home) {
        let snap: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert!(
            all_shells(&snap).iter().all(|s| s["id"] != gen0.as_str()),
            "{} holds the first generation",
            file.display()
        );
    }

    w.crash("work");
    let third = restore(&w);
    third.run("echo \"N=$(history | grep -c ': gen[0]-') M=$(history | grep -c ': gen[1]-0')\"");
    let line = wait_for("the count of each generation's commands", SOON, || {
        third
            .screen()
            .lines()
            .find(|l| l.starts_with("N=") && l[2..].starts_with(|c: char| c.is_ascii_digit()))
            .map(|l| l.trim().to_string())
    });
    assert_eq!(line, "N=60 M=1");
}
