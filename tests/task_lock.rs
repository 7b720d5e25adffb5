//! Edits of `.agent-session.json` never lose each other (issue 11, item 10): every
//! read-modify-write holds a lock kept in the state directory, not beside the file.

mod common;

use common::{require, World};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

/// A world with a git repository holding a state file with an unknown field.
fn repo_world(test: &str) -> Option<(World, PathBuf)> {
    if !require(test, &["git"]) {
        return None;
    }
    let w = World::new();
    let repo = w.path("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let git = w
        .command("git")
        .args(["init", "-q"])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(git.status.success());
    std::fs::write(
        repo.join(".agent-session.json"),
        r#"{"current_task": "t", "owner": {"name": "kept"}, "next_steps": []}"#,
    )
    .unwrap();
    Some((w, repo))
}

fn spawn(w: &World, dir: &Path, args: &[&str]) -> Child {
    w.command(&w.bin)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(children: Vec<Child>) {
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn state(repo: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(repo.join(".agent-session.json")).unwrap()).unwrap()
}

fn steps(repo: &Path) -> Vec<String> {
    state(repo)["next_steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn twenty_parallel_task_next_keep_twenty_steps_and_unknown_fields() {
    let Some((w, repo)) = repo_world("parallel_task_next") else {
        return;
    };
    let children = (0..20)
        .map(|i| spawn(&w, &repo, &["task", "next", &format!("step {i}")]))
        .collect();
    finish(children);
    let mut got = steps(&repo);
    got.sort();
    let mut want: Vec<String> = (0..20).map(|i| format!("step {i}")).collect();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(state(&repo)["owner"]["name"], "kept");
    // The lock is in the state directory, not beside the file where git would see it.
    let beside: Vec<_> = std::fs::read_dir(&repo)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n != ".git")
        .collect();
    assert_eq!(beside, [".agent-session.json"]);
    assert!(w.snap_home.join("state/locks").is_dir());
}

#[test]
fn a_checkpoint_beside_task_done_keeps_both() {
    let Some((w, repo)) = repo_world("checkpoint_beside_done") else {
        return;
    };
    let rounds = 8;
    let all: Vec<String> = (0..rounds).map(|i| format!("step {i}")).collect();
    let old = "2000-01-01T00:00:00Z";
    for round in 0..rounds {
        // Each round starts from an old checkpoint: a lost one would leave it there.
        let mut doc = state(&repo);
        doc["next_steps"] = serde_json::json!(all[round..]);
        doc["last_checkpoint"] = Value::String(old.into());
        std::fs::write(repo.join(".agent-session.json"), doc.to_string()).unwrap();
        let children = vec![
            spawn(&w, &repo, &["checkpoint", "-m", "round"]),
            spawn(&w, &repo, &["task", "done", &format!("step {round}")]),
        ];
        finish(children);
        let s = state(&repo);
        assert_eq!(steps(&repo), all[round + 1..], "round {round}: {s}");
        assert_ne!(s["last_checkpoint"], old, "round {round}: {s}");
        assert_eq!(s["owner"]["name"], "kept", "round {round}: {s}");
    }
}
