//! No control character from a recording or a project file reaches a terminal: typed
//! commands, labels, window names and `.agent-session.json` fields holding OSC 0 (title),
//! OSC 52 (clipboard), `ESC [2J` (clear), OSC 8 (hidden link) and C1 controls come out
//! escaped in every output, and a saved screen is replayed as text and colours only.

mod common;

use common::{require, wait_for, Kind, World, SOON};
use serde_json::Value;
use std::process::Output;

/// The hostile sequences, each with a visible marker.
const TITLE: &str = "\x1b]0;pwned\x07";
const CLIPBOARD: &str = "\x1b]52;c;cHduZWQ=\x07";
const CLEAR: &str = "\x1b[2J";
const LINK: &str = "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\";
const C1_CLEAR: &str = "\u{9b}2J";

fn hostile(marker: &str) -> String {
    format!("{marker}{TITLE}{CLIPBOARD}{CLEAR}{LINK}{C1_CLEAR}\x7f-end")
}

/// An `.agent-session.json` whose every seed field holds the hostile sequences.
fn hostile_state() -> Value {
    serde_json::json!({
        "current_task": hostile("task"),
        "next_steps": [hostile("step")],
        "files_in_progress": [hostile("file")],
        "environment": hostile("env"),
        "last_checkpoint": hostile("checkpoint"),
    })
}

/// No ESC, BEL, DEL or C1 CSI byte in an output, nor any other C1 character.
fn assert_inert(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad: Vec<(usize, u8)> = out
        .stdout
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, b)| matches!(b, 0x1b | 0x07 | 0x9b | 0x7f))
        .collect();
    assert!(
        bad.is_empty(),
        "{what} prints raw control bytes {bad:?}:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let c1: Vec<char> = text
        .chars()
        .filter(|c| ('\u{80}'..='\u{9f}').contains(c))
        .collect();
    assert!(c1.is_empty(), "{what} prints C1 controls {c1:?}:\n{text}");
    assert!(!out.stdout.is_empty(), "{what} printed nothing");
}

/// A hooked bash in session `work` (in `~/proj`, with a hostile `.agent-session.json`)
/// that ran a pasted command holding raw escape sequences; a snapshot labelled with
/// them. Checks the recording really holds the ESC byte.
fn record_hostile_text(w: &World) -> std::path::PathBuf {
    let proj = w.home.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    let mut state = hostile_state();
    state["notes"] = hostile("extra").into();
    std::fs::write(proj.join(".agent-session.json"), state.to_string()).unwrap();
    let pane = w.start_session_in("work", &proj, &w.shell_command(Kind::Bash));
    w.tmux_ok(&["rename-window", "-t", &pane.id, &hostile("win")]);
    let line = format!("echo '{}' > /dev/null", hostile("typed"));
    w.tmux_ok(&["set-buffer", "-b", "hostile", &line]);
    w.tmux_ok(&["paste-buffer", "-p", "-d", "-b", "hostile", "-t", &pane.id]);
    pane.keys(&["Enter"]);
    let history = w.wait_finished(1);
    let typed = history[0]["command"].as_str().unwrap();
    assert!(
        typed.contains('\x1b'),
        "the recording lost the ESC: {typed:?}"
    );
    pane.wait_prompt();
    pane.run("false");
    w.wait_finished(2);
    let out = w.snap(&["save", "--label", &hostile("label")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    proj
}

#[test]
fn escape_sequences_never_reach_the_terminal_from_any_output() {
    if !require(
        "escape_sequences_never_reach_the_terminal",
        &["bash", "tmux"],
    ) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    record_hostile_text(&w);
    let outputs: &[&[&str]] = &[
        &["history", "--all"],
        &["history", "--all", "--json"],
        &["sessions"],
        &["sessions", "--json"],
        &["brief", "work"],
        &["brief", "work", "--markdown"],
        &["brief", "work", "--json"],
        &["show", "latest"],
        &["show", "latest", "--json"],
        &["list"],
        &["list", "--json"],
    ];
    for args in outputs {
        assert_inert(&format!("snap {args:?}"), &w.snap(args));
    }
    // JSON still carries the text, escaped.
    let brief = w.snap_json(&["brief", "work", "--json"]);
    assert_eq!(brief["current_task"].as_str().unwrap(), hostile("task"));
    let text = String::from_utf8(w.snap(&["brief", "work"]).stdout).unwrap();
    assert!(text.contains(r"task\e]0;pwned\x07"), "{text}");

    w.tmux_ok(&["kill-server"]);
    assert_inert(
        "restore --dry-run",
        &w.snap(&["restore", "work", "--dry-run"]),
    );
    assert_inert(
        "restore --dry-run --json",
        &w.snap(&["restore", "work", "--dry-run", "--json"]),
    );
}

#[test]
fn the_restored_first_window_shows_the_brief_and_screen_without_their_escapes() {
    if !require("restored_first_window_is_inert", &["bash", "tmux"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    record_hostile_text(&w);
    // A saved screen holding escapes (as a hand-edited or older snapshot could).
    let latest = std::fs::read_dir(w.snap_home.join("snapshots"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .max()
        .unwrap();
    let mut snap: Value = serde_json::from_slice(&std::fs::read(&latest).unwrap()).unwrap();
    snap["sessions"][0]["shells"][0]["screen"] = Value::String(format!(
        "screen-top\n{}\x1b[31mred\x1b[0m\n",
        hostile("screen")
    ));
    std::fs::write(&latest, serde_json::to_vec(&snap).unwrap()).unwrap();

    w.tmux_ok(&["kill-server"]);
    let out = w.snap(&["restore", "work", "--no-attach"]);
    assert_inert("restore's report", &out);
    let first = w.pane("=work:0.0");
    first.wait_text("Session work");
    let screen = first.wait_text(common::PROMPT.trim_end());
    // Nothing was cleared: the replayed screen's first line and the brief both show.
    assert!(
        screen.contains("screen-top") && screen.contains("Session work"),
        "{screen}"
    );
    assert!(screen.contains(r"task\e]0;pwned\x07"), "{screen}");
    let title = wait_for("the pane title", SOON, || {
        Some(w.tmux_ok(&["display-message", "-p", "-t", "=work:0.0", "#{pane_title}"]))
    });
    assert!(!title.contains("pwned"), "the pane was retitled: {title}");
    let buffers = w.tmux(&["list-buffers"]);
    assert!(
        !String::from_utf8_lossy(&buffers.stdout).contains("pwned"),
        "the clipboard was written"
    );
}

#[test]
fn task_show_and_checkpoint_print_a_hostile_state_file_escaped() {
    let w = World::new();
    let proj = w.home.join("cloned");
    std::fs::create_dir_all(&proj).unwrap();
    let state = hostile_state();
    std::fs::write(proj.join(".agent-session.json"), state.to_string()).unwrap();
    let in_proj = |args: &[&str]| {
        w.command(&w.bin)
            .args(args)
            .current_dir(&proj)
            .output()
            .unwrap()
    };
    assert_inert("task show", &in_proj(&["task", "show"]));
    assert_inert("task show --json", &in_proj(&["task", "show", "--json"]));
    assert_inert("task next", &in_proj(&["task", "next", "more"]));
}
