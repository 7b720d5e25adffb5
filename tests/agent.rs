//! Coding-agent state in a temporary git repo: `.agent-session.json` through `snap task`
//! and `snap checkpoint`, agent hooks (Claude Code, Codex), and the resume brief from a
//! real shell's history and from an agent's hooks alike.

mod common;

use common::{require, wait_for, Kind, World, SOON};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

/// The seed's example state file, with fields snap does not know around it.
const SEED: &str = r#"{
  "current_task": "refactor user authentication",
  "owner": {"name": "agent-7", "tags": ["a", "b"]},
  "files_in_progress": ["auth.js", "user.model.js"],
  "next_steps": ["update tests", "check error handling"],
  "environment": "development",
  "last_checkpoint": "2024-01-15T14:30:00Z",
  "zz_notes": "kept"
}
"#;

/// A world with a git repository `repo` holding one committed file.
fn repo_world() -> (World, PathBuf) {
    let w = World::new();
    let repo = w.path("repo");
    std::fs::create_dir_all(repo.join("src")).unwrap();
    git(&w, &repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("auth.js"), "// auth\n").unwrap();
    std::fs::write(repo.join("user.model.js"), "// user\n").unwrap();
    git(&w, &repo, &["add", "."]);
    git(&w, &repo, &["commit", "-q", "-m", "init"]);
    (w, repo)
}

fn git(w: &World, dir: &Path, args: &[&str]) {
    let out = w
        .command("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run snap in `dir`, with `input` on stdin when given.
fn snap_in(w: &World, dir: &Path, args: &[&str], input: Option<&str>) -> Output {
    let mut c = w.command(&w.bin);
    c.args(args).current_dir(dir);
    if input.is_some() {
        c.stdin(Stdio::piped());
    }
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(text) = input {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

/// Run snap in `dir` and insist it succeeds; returns stdout.
fn ok(w: &World, dir: &Path, args: &[&str]) -> String {
    let out = snap_in(w, dir, args, None);
    assert!(
        out.status.success(),
        "snap {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The JSON file at `path`, parsed.
fn json_file(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn state(repo: &Path) -> Value {
    json_file(&repo.join(".agent-session.json"))
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// A Claude Code hook payload for a Bash call, in its documented shape.
fn claude_bash(event: &str, sid: &str, cwd: &Path, command: &str) -> String {
    let mut v = serde_json::json!({
        "session_id": sid,
        "transcript_path": "/home/u/.claude/projects/x/t.jsonl",
        "cwd": cwd,
        "permission_mode": "default",
        "hook_event_name": event,
        "tool_name": "Bash",
        "tool_input": {"command": command, "description": "run it"},
        "tool_use_id": "toolu_01",
    });
    if event == "PostToolUse" {
        v["tool_response"] = serde_json::json!({"stdout": "ok\n", "stderr": "", "interrupted": false, "isImage": false});
    } else {
        v["error"] = Value::String(
            "Exit code 2\nls: cannot access 'nope': No such file or directory".into(),
        );
        v["is_interrupt"] = Value::Bool(false);
    }
    v.to_string()
}

fn claude_event(event: &str, sid: &str, cwd: &Path, extra: Value) -> String {
    let mut v = serde_json::json!({
        "session_id": sid,
        "transcript_path": "/home/u/.claude/projects/x/t.jsonl",
        "cwd": cwd,
        "hook_event_name": event,
    });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v.to_string()
}

#[test]
fn seed_file_is_read_and_unknown_fields_survive_every_command() {
    let (w, repo) = repo_world();
    std::fs::write(repo.join(".agent-session.json"), SEED).unwrap();
    let order = keys(&state(&repo));
    let check = |what: &str| {
        let s = state(&repo);
        assert_eq!(keys(&s)[..order.len()], order[..], "order after {what}");
        assert_eq!(s["owner"]["name"], "agent-7", "after {what}");
        assert_eq!(s["owner"]["tags"][1], "b", "after {what}");
        assert_eq!(s["zz_notes"], "kept", "after {what}");
        assert!(s["current_task"].is_string(), "after {what}");
        assert!(s["files_in_progress"].is_array(), "after {what}");
        assert!(s["next_steps"].is_array(), "after {what}");
        assert!(s["environment"].is_string(), "after {what}");
        s
    };

    let shown = serde_json::from_str::<Value>(&ok(&w, &repo, &["task", "show", "--json"])).unwrap();
    assert_eq!(shown["current_task"], "refactor user authentication");
    assert_eq!(keys(&shown), order);
    let text = ok(&w, &repo, &["task", "show"]);
    assert!(
        text.contains("  1. update tests\n  2. check error handling"),
        "{text}"
    );

    ok(&w, &repo, &["task", "set", "split the auth module"]);
    assert_eq!(check("set")["current_task"], "split the auth module");

    ok(&w, &repo, &["task", "next", "write docs", "ship it"]);
    assert_eq!(
        strings(&check("next")["next_steps"]),
        [
            "update tests",
            "check error handling",
            "write docs",
            "ship it"
        ]
    );
    ok(&w, &repo, &["task", "done", "2"]);
    ok(&w, &repo, &["task", "done", "write docs"]);
    assert_eq!(
        strings(&check("done")["next_steps"]),
        ["update tests", "ship it"]
    );
    let bad = snap_in(&w, &repo, &["task", "done", "9"], None);
    assert!(!bad.status.success());

    // Paths are stored relative to the project root, wherever the command runs.
    ok(
        &w,
        &repo.join("src"),
        &["task", "files", "add", "session.rs", "../auth.js"],
    );
    let s = check("files add");
    assert_eq!(
        strings(&s["files_in_progress"]),
        ["auth.js", "user.model.js", "src/session.rs"]
    );
    ok(&w, &repo, &["task", "files", "rm", "user.model.js"]);
    assert_eq!(
        strings(&check("files rm")["files_in_progress"]),
        ["auth.js", "src/session.rs"]
    );

    ok(&w, &repo, &["checkpoint", "-m", "step done"]);
    let s = check("checkpoint");
    assert_eq!(s["environment"], "development");
    let at = s["last_checkpoint"].as_str().unwrap();
    assert_ne!(at, "2024-01-15T14:30:00Z");
    assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
    assert!(at.ends_with('Z'));

    ok(&w, &repo, &["task", "clear"]);
    let s = check("clear");
    assert_eq!(s["current_task"], "");
    assert_eq!(s["next_steps"], serde_json::json!([]));
    assert_eq!(s["files_in_progress"], serde_json::json!([]));
    assert_eq!(s["last_checkpoint"], at);
}

#[test]
fn a_new_state_file_has_the_seed_format_and_file_override_works() {
    let (w, repo) = repo_world();
    ok(&w, &repo.join("src"), &["task", "set", "first task"]);
    let s = state(&repo);
    assert_eq!(
        keys(&s),
        [
            "current_task",
            "files_in_progress",
            "next_steps",
            "environment"
        ]
    );
    assert_eq!(s["environment"], "development");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(repo.join(".agent-session.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let other = w.path("elsewhere.json");
    ok(
        &w,
        &repo,
        &["task", "set", "other", "--file", other.to_str().unwrap()],
    );
    ok(
        &w,
        &repo,
        &["checkpoint", "--file", other.to_str().unwrap()],
    );
    let o = json_file(&other);
    assert_eq!(o["current_task"], "other");
    assert!(o["last_checkpoint"].is_string());
    assert_eq!(state(&repo)["current_task"], "first task");
}

#[test]
fn checkpoint_lists_git_changes_and_drops_them_once_committed() {
    let (w, repo) = repo_world();
    ok(&w, &repo, &["task", "set", "t"]);
    std::fs::create_dir_all(repo.join("notes")).unwrap();
    std::fs::write(repo.join("notes/plan.md"), "plan").unwrap();
    ok(&w, &repo, &["task", "files", "add", "notes/plan.md"]);
    std::fs::write(repo.join("auth.js"), "// changed\n").unwrap();
    std::fs::write(repo.join("src/new.rs"), "fn main() {}\n").unwrap();
    std::fs::write(repo.join("staged.txt"), "x").unwrap();
    git(&w, &repo, &["add", "staged.txt"]);

    let mut cmd = w.command(&w.bin);
    let out = cmd
        .args(["checkpoint", "-m", "edit auth"])
        .env("SNAP_ENVIRONMENT", "staging")
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = state(&repo);
    let files = strings(&s["files_in_progress"]);
    assert_eq!(files[0], "notes/plan.md", "pinned first: {files:?}");
    for f in ["auth.js", "src/new.rs", "staged.txt"] {
        assert!(files.contains(&f.to_string()), "{f} in {files:?}");
    }
    assert!(
        !files.iter().any(|f| f.contains("agent-session")),
        "{files:?}"
    );
    // The environment stays as it was: set when the file was created.
    assert_eq!(s["environment"], "development");

    git(&w, &repo, &["add", "auth.js", "src/new.rs", "notes"]);
    git(&w, &repo, &["commit", "-q", "-m", "work"]);
    ok(&w, &repo, &["checkpoint"]);
    assert_eq!(
        strings(&state(&repo)["files_in_progress"]),
        ["notes/plan.md"]
    );

    // environment is filled in only when missing, from SNAP_ENVIRONMENT.
    std::fs::write(repo.join(".agent-session.json"), r#"{"current_task": "x"}"#).unwrap();
    let out = w
        .command(&w.bin)
        .arg("checkpoint")
        .env("SNAP_ENVIRONMENT", "staging")
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(state(&repo)["environment"], "staging");
    assert_eq!(keys(&state(&repo))[0], "current_task");
}

#[test]
fn a_corrupt_state_file_is_a_clear_error_and_stays_untouched() {
    let (w, repo) = repo_world();
    let file = repo.join(".agent-session.json");
    for bad in [
        &b"{\"current_task\": \"half writ"[..],
        &br#"{"current_task": "x", "next_steps": "not a list"}"#[..],
        &b"[1, 2]"[..],
    ] {
        std::fs::write(&file, bad).unwrap();
        for args in [
            &["task", "set", "x"][..],
            &["task", "next", "y"],
            &["task", "done", "1"],
            &["task", "files", "add", "auth.js"],
            &["task", "files", "rm", "auth.js"],
            &["task", "show"],
            &["task", "clear"],
            &["checkpoint", "-m", "m"],
        ] {
            let out = snap_in(&w, &repo, args, None);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                !out.status.success(),
                "{args:?} succeeded on a corrupt file"
            );
            assert!(err.contains(&file.display().to_string()), "{args:?}: {err}");
            assert_eq!(std::fs::read(&file).unwrap(), bad, "{args:?} touched it");
        }
        // A hook says so on stderr but never breaks the agent.
        let out = snap_in(
            &w,
            &w.home,
            &["hook", "claude"],
            Some(&claude_event("Stop", "s1", &repo, serde_json::json!({}))),
        );
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains(".agent-session.json"));
        assert_eq!(std::fs::read(&file).unwrap(), bad);
        // The brief still comes, with a warning.
        let b: Value = serde_json::from_str(&ok(&w, &repo, &["brief", "--json"])).unwrap();
        assert!(b["warnings"][0]
            .as_str()
            .unwrap()
            .contains(".agent-session.json"));
    }
}

#[test]
fn claude_hook_records_agent_commands_checkpoints_and_session_id() {
    let (w, repo) = repo_world();
    ok(&w, &repo, &["task", "set", "fix the login bug"]);
    ok(&w, &repo, &["task", "next", "add a regression test"]);
    let sid = "0f6e2d1c-5b4a-4c3d-9e8f-7a6b5c4d3e2f";

    let hook = |payload: &str| {
        let out = snap_in(&w, &w.home, &["hook", "claude"], Some(payload));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let out = hook(&claude_bash(
        "PostToolUse",
        sid,
        &repo,
        "npm test -- --grep 'login'",
    ));
    assert!(out.stdout.is_empty());
    hook(&claude_bash(
        "PostToolUseFailure",
        sid,
        &repo.join("src"),
        "ls nope",
    ));
    // Other tools and unknown events: silently nothing.
    let edit = serde_json::json!({"session_id": sid, "cwd": repo, "hook_event_name": "PostToolUse",
        "tool_name": "Edit", "tool_input": {"file_path": "a"}, "tool_response": {}});
    let out = hook(&edit.to_string());
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    let out = hook(&claude_event(
        "Notification",
        sid,
        &repo,
        serde_json::json!({"message": "hi"}),
    ));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());

    let h: Value = serde_json::from_str(&ok(&w, &repo, &["history", "--all", "--json"])).unwrap();
    let h = h.as_array().unwrap();
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(h[0]["command"], "npm test -- --grep 'login'");
    assert_eq!(h[0]["source"], "agent");
    assert_eq!(h[0]["shell_id"], format!("agent:{sid}"));
    assert_eq!(h[0]["session"], "repo");
    assert_eq!(h[0]["exit"], 0);
    assert_eq!(h[0]["cwd"], repo.display().to_string());
    assert_eq!(h[1]["command"], "ls nope");
    assert_eq!(h[1]["exit"], 2);
    assert!(h[1]["error"].as_str().unwrap().contains("No such file"));
    assert_eq!(h[1]["cwd"], repo.join("src").display().to_string());
    let journal = w.snap_home.join("agents/repo/journal.jsonl");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&journal).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let dir_mode = std::fs::metadata(journal.parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700);

    // Stop: a checkpoint.
    std::fs::write(repo.join("auth.js"), "// fixed\n").unwrap();
    hook(&claude_event(
        "Stop",
        sid,
        &repo,
        serde_json::json!({"stop_hook_active": false}),
    ));
    let s = state(&repo);
    assert!(s["last_checkpoint"].is_string());
    assert_eq!(strings(&s["files_in_progress"]), ["auth.js"]);

    // SessionStart: the brief in markdown on stdout, the id recorded for resume.
    let out = hook(&claude_event(
        "SessionStart",
        sid,
        &repo,
        serde_json::json!({"source": "resume"}),
    ));
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.contains("You were working on: **fix the login bug**"),
        "{md}"
    );
    assert!(md.contains("next: add a regression test"), "{md}");
    assert!(
        md.contains("the last failing command was `ls nope` (exit 2)"),
        "{md}"
    );
    assert!(md.contains("- `auth.js` (modified)"), "{md}");
    let ids = json_file(&w.snap_home.join("agents/repo/ids.json"));
    assert_eq!(ids["claude"], sid);
    let b: Value = serde_json::from_str(&ok(&w, &repo, &["brief", "--json"])).unwrap();
    assert_eq!(b["resume"][0], format!("claude --resume {sid}"));

    // A payload snap cannot use: said on stderr, exit 0, nothing recorded.
    let out = hook("this is not json");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not JSON"));
    let h: Value = serde_json::from_str(&ok(&w, &repo, &["history", "--all", "--json"])).unwrap();
    assert_eq!(h.as_array().unwrap().len(), 2);
}

#[test]
fn codex_notify_checkpoints_and_remembers_the_thread() {
    let (w, repo) = repo_world();
    ok(&w, &repo, &["task", "set", "port the parser"]);
    let payload = serde_json::json!({
        "type": "agent-turn-complete",
        "thread-id": "b5f6c1c2-1111-2222-3333-444455556666",
        "turn-id": "12345",
        "cwd": repo,
        "input-messages": ["port the parser"],
        "last-assistant-message": "Done."
    })
    .to_string();
    let out = snap_in(&w, &w.home, &["hook", "codex", &payload], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    assert!(state(&repo)["last_checkpoint"].is_string());
    let b: Value = serde_json::from_str(&ok(&w, &repo, &["brief", "--json"])).unwrap();
    assert_eq!(
        b["resume"][0],
        "codex resume b5f6c1c2-1111-2222-3333-444455556666"
    );
    assert_eq!(b["current_task"], "port the parser");
    let cps = state(&repo)["checkpoints"].as_array().unwrap().clone();
    assert_eq!(cps.last().unwrap()["message"], "Done.");
    // Without its payload argument the payload comes on stdin (Codex's hooks.json).
    let out = snap_in(&w, &w.home, &["hook", "codex"], Some("not json"));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not JSON"));
}

#[test]
fn brief_from_agent_hooks_carries_task_next_steps_files_and_last_failure() {
    let (w, repo) = repo_world();
    ok(&w, &repo, &["task", "set", "refactor user authentication"]);
    ok(
        &w,
        &repo,
        &["task", "next", "update tests", "check error handling"],
    );
    std::fs::write(repo.join("user.model.js"), "// edited\n").unwrap();
    ok(&w, &repo, &["checkpoint", "-m", "models"]);
    let sid = "abc-123";
    for (event, cmd) in [
        ("PostToolUse", "npm run build"),
        ("PostToolUseFailure", "npm test"),
        ("PostToolUse", "git status"),
    ] {
        let out = snap_in(
            &w,
            &w.home,
            &["hook", "claude"],
            Some(&claude_bash(event, sid, &repo, cmd)),
        );
        assert!(out.status.success());
    }
    let b: Value = serde_json::from_str(&ok(&w, &repo, &["brief", "--json"])).unwrap();
    assert_eq!(b["session"], "repo");
    assert_eq!(b["current_task"], "refactor user authentication");
    assert_eq!(b["agent"]["current_task"], "refactor user authentication");
    assert_eq!(
        strings(&b["next_steps"]),
        ["update tests", "check error handling"]
    );
    assert_eq!(b["files_in_progress"][0]["path"], "user.model.js");
    assert_eq!(b["files_in_progress"][0]["git"], "modified");
    assert_eq!(b["git_branch"], "main");
    assert!(b["since_checkpoint_seconds"].as_i64().unwrap() >= 0);
    assert_eq!(b["last_failure"]["command"], "npm test");
    assert_eq!(b["last_failure"]["exit"], 2);
    assert_eq!(b["last_failure"]["source"], "agent");
    assert_eq!(b["last_failure"]["output_from"], "error");
    assert!(b["last_failure"]["output_tail"]
        .as_str()
        .unwrap()
        .contains("No such file"));
    let cmds: Vec<&str> = b["last_commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(cmds, ["npm run build", "npm test", "git status"]);

    let md = ok(&w, &repo, &["brief", "repo", "--markdown"]);
    assert!(md.starts_with("# Resume brief: session `repo`"), "{md}");
    assert!(
        md.contains(
            "You were working on: **refactor user authentication**; next: update tests; \
             check error handling; the last failing command was `npm test` (exit 2)."
        ),
        "{md}"
    );
    assert!(md.contains("- `user.model.js` (modified)"), "{md}");
    assert!(md.contains("No such file or directory"), "{md}");
    let text = ok(&w, &repo, &["brief"]);
    assert!(
        text.contains("Task: refactor user authentication"),
        "{text}"
    );

    let out = snap_in(&w, &repo, &["brief", "nosuch"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("repo"));
}

#[test]
fn brief_from_a_real_bash_shell_shows_task_failure_screen_and_what_runs() {
    if !require(
        "brief_from_a_real_bash_shell_shows_task_failure_screen_and_what_runs",
        &["bash", "tmux"],
    ) {
        return;
    }
    let (w, repo) = repo_world();
    w.write_rc(Kind::Bash, "", "");
    let bin = w.bin.display().to_string();
    let p = w.start_session_in("work", &repo, &w.shell_command(Kind::Bash));
    p.run(&format!("'{bin}' task set 'make login work'"));
    p.wait_prompt();
    p.run(&format!("'{bin}' task next 'fix the failing listing'"));
    p.run("echo edited >> auth.js");
    p.run(&format!("'{bin}' checkpoint -m 'edited auth'"));
    p.run("ls /nonexistent-snap-dir");
    p.wait_text("No such file or directory");
    p.run("echo after");
    let history = w.wait_finished(6);
    let failed = history
        .iter()
        .find(|r| r["command"] == "ls /nonexistent-snap-dir")
        .expect("the failing command in history");
    let shell_id = failed["shell_id"].as_str().unwrap().to_string();
    let p2 = w.split_in("work", &repo, Kind::Bash);
    p2.run("sleep 600");
    wait_for("sleep running", SOON, || {
        w.shells()
            .iter()
            .any(|s| s["running"] == "sleep 600")
            .then_some(())
    });

    // What a snapshot saves of the pane: its screen (issue 3's format).
    let snaps = w.snap_home.join("snapshots");
    std::fs::create_dir_all(&snaps).unwrap();
    std::fs::write(snaps.join("29991231T000000-000-zz.json"), "{broken").unwrap();
    let snapshot = serde_json::json!({
        "schema": 1, "id": "29990101T000000-000-aa",
        "taken_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "host": "h", "label": null, "redacted": [],
        "sessions": [{"name": "work", "agent": null, "shells": [
            {"id": shell_id, "screen": p.screen()}
        ]}]
    });
    std::fs::write(
        snaps.join("29990101T000000-000-aa.json"),
        snapshot.to_string(),
    )
    .unwrap();

    // An agent working in the same project (through a symlink) joins the shell's session.
    let link = w.path("link-to-repo");
    std::os::unix::fs::symlink(&repo, &link).unwrap();
    let payload = claude_bash("PostToolUse", "sid-9", &link, "cargo fmt");
    let out = snap_in(&w, &w.home, &["hook", "claude"], Some(&payload));
    assert!(out.status.success());

    let out = snap_in(&w, &w.home, &["brief", "work", "--json"], None);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("29991231T000000-000-zz.json"), "{err}");
    let b: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(b["session"], "work");
    assert_eq!(b["project"], repo.display().to_string());
    assert_eq!(b["current_task"], "make login work");
    assert_eq!(strings(&b["next_steps"]), ["fix the failing listing"]);
    let f = &b["last_failure"];
    assert_eq!(f["command"], "ls /nonexistent-snap-dir");
    assert_eq!(f["exit"], 2);
    assert_eq!(f["source"], "shell");
    assert_eq!(f["shell_id"], shell_id);
    assert_eq!(f["output_from"], "screen");
    assert!(
        f["output_tail"]
            .as_str()
            .unwrap()
            .contains("No such file or directory"),
        "{f}"
    );
    let running = b["running"].as_array().unwrap();
    assert!(
        running
            .iter()
            .any(|r| r["command"] == "sleep 600" && r["alive"] == true),
        "{running:?}"
    );
    let cmds: Vec<&str> = b["last_commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert!(cmds.contains(&"echo after"), "{cmds:?}");
    assert_eq!(cmds.last(), Some(&"cargo fmt"), "{cmds:?}");
    assert_eq!(
        b["last_commands"].as_array().unwrap().last().unwrap()["source"],
        "agent"
    );

    // From inside the shell, `snap brief` picks the shell's own session.
    p.run(&format!("'{bin}' brief --markdown > brief.md"));
    let md = wait_for("brief.md", SOON, || {
        std::fs::read_to_string(repo.join("brief.md"))
            .ok()
            .filter(|s| s.contains("## State"))
    });
    assert!(md.starts_with("# Resume brief: session `work`"), "{md}");
    assert!(
        md.contains(
            "You were working on: **make login work**; next: fix the failing listing; \
        the last failing command was `ls /nonexistent-snap-dir` (exit 2)."
        ),
        "{md}"
    );
    assert!(
        md.contains("- `auth.js` (modified)") || md.contains("auth.js"),
        "{md}"
    );
    assert!(md.contains("No such file or directory"), "{md}");
    assert!(md.contains("`sleep 600`"), "{md}");
    p2.keys(&["C-c"]);
}

#[test]
fn init_prints_ready_to_paste_agent_snippets() {
    let w = World::new();
    let out = w.snap(&["init", "claude"]);
    assert!(out.status.success());
    // The settings come first; the `.mcp.json` entry follows (tests/mcp.rs).
    let v: Value = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter()
        .next()
        .unwrap()
        .unwrap();
    let want = format!("'{}' hook claude", w.bin.display());
    for event in ["PostToolUse", "PostToolUseFailure", "Stop", "SessionStart"] {
        assert_eq!(v["hooks"][event][0]["hooks"][0]["type"], "command");
        assert_eq!(v["hooks"][event][0]["hooks"][0]["command"], want.as_str());
    }
    assert_eq!(v["hooks"]["PostToolUse"][0]["matcher"], "Bash");
    let out = w.snap(&["init", "codex"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // config.toml's notify line, hooks.json, then config.toml's MCP table.
    let blocks: Vec<&str> = text.split("\n\n").collect();
    let (config, hooks) = (blocks[0], blocks[1]);
    let t: toml::Table = config.parse().unwrap();
    let hooks: String = hooks.lines().filter(|l| !l.starts_with('#')).collect();
    let hooks: Value = serde_json::from_str(&hooks).unwrap();
    let want = format!("'{}' hook codex", w.bin.display());
    assert_eq!(hooks["hooks"]["PostToolUse"][0]["matcher"], "Bash");
    assert_eq!(
        hooks["hooks"]["PostToolUse"][0]["hooks"][0]["command"],
        want.as_str()
    );
    let notify: Vec<&str> = t["notify"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(notify, [w.bin.to_str().unwrap(), "hook", "codex"]);
}

/// Run a hook like an agent does: payload on stdin, with this environment.
fn hook_with_env(w: &World, dir: &Path, agent: &str, payload: &str, env: &[(&str, &str)]) {
    let mut c = w.command(&w.bin);
    c.args(["hook", agent]).current_dir(dir);
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(payload.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Claude's Stop hook of session `c1` in `repo`, with the agent's last message.
fn claude_stop(w: &World, repo: &Path, message: &str) {
    let event = claude_event(
        "Stop",
        "c1",
        repo,
        serde_json::json!({ "last_assistant_message": message }),
    );
    hook_with_env(w, repo, "claude", &event, &[]);
}

#[test]
fn checkpoint_message_is_kept_with_head_and_the_brief_shows_it() {
    let (w, repo) = repo_world();
    ok(&w, &repo, &["checkpoint", "-m", "wrote the parser"]);
    let s = state(&repo);
    let cps = s["checkpoints"].as_array().unwrap();
    assert_eq!(cps.len(), 1);
    assert_eq!(cps[0]["message"], "wrote the parser");
    assert_eq!(cps[0]["at"], s["last_checkpoint"]);
    let head = w
        .command("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert_eq!(cps[0]["head"], String::from_utf8_lossy(&head.stdout).trim());
    for key in [
        "current_task",
        "files_in_progress",
        "next_steps",
        "environment",
        "last_checkpoint",
    ] {
        assert!(s.get(key).is_some(), "{key} missing: {s}");
    }
    let text = ok(&w, &repo, &["brief"]);
    assert!(text.contains("wrote the parser"), "{text}");
    let md = ok(&w, &repo, &["brief", "--markdown"]);
    assert!(md.contains("wrote the parser"), "{md}");

    // The next automatic checkpoint takes the agent's last message, redacted.
    let secret = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
    claude_stop(&w, &repo, &format!("  All tests pass; token {secret}\n"));
    let s = state(&repo);
    let cps = s["checkpoints"].as_array().unwrap();
    assert_eq!(cps[0]["message"], "wrote the parser");
    let last = cps[1]["message"].as_str().unwrap();
    assert!(last.starts_with("All tests pass; token "), "{last}");
    assert!(!last.contains(secret) && !last.ends_with('\n'), "{last}");

    // The last 20 are kept; a long message is cut to 2,000 characters.
    for i in 0..20 {
        ok(&w, &repo, &["checkpoint", "-m", &format!("step {i}")]);
    }
    ok(&w, &repo, &["checkpoint", "-m", &"x".repeat(3000)]);
    let s = state(&repo);
    let cps = s["checkpoints"].as_array().unwrap();
    assert_eq!(cps.len(), 20);
    assert_eq!(cps[0]["message"], "step 1");
    let long = cps[19]["message"].as_str().unwrap();
    assert_eq!(long.chars().count(), 2000);
}

#[test]
fn agent_commands_carry_duration_and_agent_in_history() {
    let (w, repo) = repo_world();
    let mut payload: Value =
        serde_json::from_str(&claude_bash("PostToolUse", "c1", &repo, "cargo build")).unwrap();
    payload["duration_ms"] = serde_json::json!(1520);
    hook_with_env(&w, &repo, "claude", &payload.to_string(), &[]);
    let h: Value = serde_json::from_str(&ok(&w, &repo, &["history", "--all", "--json"])).unwrap();
    assert_eq!(h[0]["command"], "cargo build");
    assert_eq!(h[0]["duration_ms"], 1520);
    assert_eq!(h[0]["agent"], "claude");
}

/// A Codex `hooks.json` PostToolUse payload for its shell tool.
fn codex_bash(thread: &str, cwd: &Path, command: &str, response: Value) -> String {
    serde_json::json!({
        "session_id": thread,
        "transcript_path": null,
        "cwd": cwd,
        "hook_event_name": "PostToolUse",
        "model": "fake",
        "tool_name": "Bash",
        "tool_use_id": "call_1",
        "tool_input": {"command": command},
        "tool_response": response,
    })
    .to_string()
}

#[test]
fn codex_hooks_record_commands_as_codex_with_their_exit_status() {
    let (w, repo) = repo_world();
    let thread = "019a0000-aaaa-bbbb-cccc-000000000001";
    let failing = codex_bash(
        thread,
        &repo,
        "make check",
        serde_json::json!({"exit_code": 3, "output": "boom"}),
    );
    hook_with_env(&w, &repo, "codex", &failing, &[]);
    let unknown = codex_bash(thread, &repo, "ls", Value::String("a\nb\n".into()));
    hook_with_env(&w, &repo, "codex", &unknown, &[]);
    let h: Value = serde_json::from_str(&ok(&w, &repo, &["history", "--all", "--json"])).unwrap();
    let h = h.as_array().unwrap();
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(h[0]["command"], "make check");
    assert_eq!(h[0]["agent"], "codex");
    assert_eq!(h[0]["exit"], 3);
    assert_eq!(h[1]["command"], "ls");
    assert_eq!(h[1]["exit"], Value::Null);
    let b: Value = serde_json::from_str(&ok(&w, &repo, &["brief", "--json"])).unwrap();
    assert_eq!(
        b["resume"],
        serde_json::json!([format!("codex resume {thread}")])
    );
}

#[test]
fn agent_ids_are_kept_per_shell_and_pane() {
    let (w, repo) = repo_world();
    let start = |sid: &str, shell: &str, pane: &str| {
        let payload = claude_event(
            "SessionStart",
            sid,
            &repo,
            serde_json::json!({"source": "startup"}),
        );
        hook_with_env(
            &w,
            &repo,
            "claude",
            &payload,
            &[("SNAP_SHELL_ID", shell), ("TMUX_PANE", pane)],
        );
    };
    start("conv-a", "shellA", "%1");
    start("conv-b", "shellB", "%2");
    let ids = json_file(&w.snap_home.join("agents/repo/ids.json"));
    assert_eq!(ids["shells"]["shellA"]["claude"], "conv-a");
    assert_eq!(ids["shells"]["shellA"]["tmux_pane"], "%1");
    assert_eq!(ids["shells"]["shellB"]["claude"], "conv-b");
    assert_eq!(ids["shells"]["shellB"]["tmux_pane"], "%2");
    assert_eq!(
        ids["transcripts"]["conv-a"],
        "/home/u/.claude/projects/x/t.jsonl"
    );
}

/// `git status --porcelain` of `repo`.
fn porcelain(w: &World, repo: &Path) -> String {
    let out = w
        .command("git")
        .args(["status", "--porcelain", "--untracked-files=all"])
        .current_dir(repo)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_state_file_snap_creates_stays_out_of_git_status_and_is_excluded_once() {
    let (w, repo) = repo_world();
    ok(&w, &repo, &["task", "set", "t"]);
    ok(&w, &repo, &["checkpoint", "-m", "one"]);
    assert_eq!(
        porcelain(&w, &repo),
        "",
        "nothing for a git add -A to pick up"
    );
    // Created again (moved away by the user): the line is not written twice.
    std::fs::remove_file(repo.join(".agent-session.json")).unwrap();
    ok(&w, &repo, &["checkpoint"]);
    let exclude = std::fs::read_to_string(repo.join(".git/info/exclude")).unwrap();
    let lines: Vec<&str> = exclude
        .lines()
        .filter(|l| l.contains("agent-session"))
        .collect();
    assert_eq!(lines, ["/.agent-session.json"], "{exclude}");

    // A repository that tracks its state file keeps tracking it: nothing excluded.
    let other = w.path("tracked");
    std::fs::create_dir_all(&other).unwrap();
    git(&w, &other, &["init", "-q", "-b", "main"]);
    std::fs::write(other.join(".agent-session.json"), SEED).unwrap();
    git(&w, &other, &["add", "."]);
    git(&w, &other, &["commit", "-q", "-m", "state"]);
    std::fs::remove_file(other.join(".agent-session.json")).unwrap();
    ok(&w, &other, &["checkpoint", "-m", "x"]);
    assert_eq!(porcelain(&w, &other), " M .agent-session.json\n");
    let exclude = std::fs::read_to_string(other.join(".git/info/exclude")).unwrap_or_default();
    assert!(!exclude.contains("agent-session"), "{exclude}");
}

/// Run `snap init claude --write …` in `dir` with PATH starting with `path_first`.
fn init_write(w: &World, dir: &Path, extra: &[&str], path_first: Option<&Path>) -> Output {
    let mut c = w.command(&w.bin);
    c.args(["init", "claude", "--write"])
        .args(extra)
        .current_dir(dir);
    if let Some(first) = path_first {
        let path = format!("{}:{}", first.display(), std::env::var("PATH").unwrap());
        c.env("PATH", path);
    }
    c.output().unwrap()
}

#[test]
fn init_claude_write_merges_hooks_beside_the_users_once_and_refuses_a_broken_file() {
    let (w, repo) = repo_world();
    let settings = repo.join(".claude/settings.local.json");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    let user = serde_json::json!({
        "permissions": {"allow": ["Bash(npm test)"]},
        "hooks": {"PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "prettier -w ."}]}]},
    });
    std::fs::write(&settings, serde_json::to_string_pretty(&user).unwrap()).unwrap();
    let out = init_write(&w, &repo, &[], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = json_file(&settings);
    assert_eq!(keys(&s), ["permissions", "hooks", "enabledMcpjsonServers"]);
    assert_eq!(s["permissions"], user["permissions"]);
    let post = s["hooks"]["PostToolUse"].as_array().unwrap();
    assert_eq!(
        post[0], user["hooks"]["PostToolUse"][0],
        "the user's hook first, as it was"
    );
    // Not on PATH: called by its absolute path.
    let want = format!("'{}' hook claude", w.bin.display());
    assert_eq!(post[1]["matcher"], "Bash");
    assert_eq!(post[1]["hooks"][0]["command"], want.as_str());
    for event in ["SessionStart", "PostToolUseFailure", "Stop"] {
        assert_eq!(s["hooks"][event][0]["hooks"][0]["command"], want.as_str());
    }
    assert_eq!(s["enabledMcpjsonServers"], serde_json::json!(["snap"]));
    let mcp = json_file(&repo.join(".mcp.json"));
    assert_eq!(
        mcp["mcpServers"]["snap"]["command"],
        w.bin.display().to_string()
    );
    assert_eq!(
        mcp["mcpServers"]["snap"]["args"],
        serde_json::json!(["mcp"])
    );
    // The .mcp.json snap created for this user stays out of git.
    assert_eq!(porcelain(&w, &repo), "?? .claude/settings.local.json\n");

    // Again: nothing changes.
    let before = (
        std::fs::read(&settings).unwrap(),
        std::fs::read(repo.join(".mcp.json")).unwrap(),
    );
    let out = init_write(&w, &repo, &[], None);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("already there"));
    let after = (
        std::fs::read(&settings).unwrap(),
        std::fs::read(repo.join(".mcp.json")).unwrap(),
    );
    assert_eq!(before, after);

    // When `snap` on PATH is this binary, it is called by that name.
    let bin_dir = w.path("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::os::unix::fs::symlink(&w.bin, bin_dir.join("snap")).unwrap();
    let out = init_write(&w, &repo, &[], Some(&bin_dir));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = json_file(&settings);
    assert_eq!(
        s["hooks"]["PostToolUse"].as_array().unwrap().len(),
        2,
        "{s}"
    );
    assert_eq!(
        s["hooks"]["Stop"][0]["hooks"][0]["command"],
        "snap hook claude"
    );
    assert_eq!(s["hooks"]["Stop"].as_array().unwrap().len(), 1);
    // Another program named `snap` first on PATH (snapd's): the absolute path again.
    let snapd = w.path("snapd");
    std::fs::create_dir_all(&snapd).unwrap();
    std::fs::write(snapd.join("snap"), "#!/bin/sh\nexit 0\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(snapd.join("snap"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = init_write(&w, &repo, &[], Some(&snapd));
    assert!(out.status.success());
    let s = json_file(&settings);
    assert_eq!(s["hooks"]["Stop"][0]["hooks"][0]["command"], want.as_str());
    let out = w
        .command(&w.bin)
        .args(["init", "claude"])
        .env("PATH", format!("{}:/usr/bin:/bin", snapd.display()))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&want),
        "printed snippets too"
    );

    // A file that does not parse: a clear error naming it; neither file is touched.
    std::fs::remove_file(repo.join(".mcp.json")).unwrap();
    std::fs::write(&settings, "{\"hooks\": {,}").unwrap();
    let out = init_write(&w, &repo, &[], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&settings.display().to_string()) && err.contains("not valid JSON"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&settings).unwrap(),
        "{\"hooks\": {,}"
    );
    assert!(!repo.join(".mcp.json").exists());

    // --shared: the team's settings.json; a tracked .mcp.json is changed only then.
    std::fs::write(
        repo.join(".mcp.json"),
        r#"{"mcpServers": {"db": {"command": "pg"}}}"#,
    )
    .unwrap();
    git(&w, &repo, &["add", "-f", ".mcp.json"]);
    git(&w, &repo, &["commit", "-q", "-m", "mcp"]);
    std::fs::remove_file(&settings).unwrap();
    let out = init_write(&w, &repo, &[], None);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("tracked by git"));
    assert_eq!(
        porcelain(&w, &repo),
        "",
        "settings.local.json excluded, .mcp.json untouched"
    );
    let out = init_write(&w, &repo, &["--shared"], Some(&bin_dir));
    assert!(out.status.success());
    let shared = json_file(&repo.join(".claude/settings.json"));
    assert_eq!(
        shared["hooks"]["Stop"][0]["hooks"][0]["command"],
        "snap hook claude"
    );
    let mcp = json_file(&repo.join(".mcp.json"));
    assert_eq!(mcp["mcpServers"]["db"]["command"], "pg");
    assert_eq!(mcp["mcpServers"]["snap"]["command"], "snap");

    // --write is Claude Code's alone.
    let out = w.snap(&["init", "bash", "--write"]);
    assert_eq!(out.status.code(), Some(2));
}

/// `snap brief --json` in `dir`.
fn brief_json(w: &World, dir: &Path) -> Value {
    serde_json::from_str(&ok(w, dir, &["brief", "--json"])).unwrap()
}

/// Wait until `n` commands of the session have finished (shell records), as history
/// shows them.
fn finished_in(w: &World, repo: &Path, n: usize) {
    wait_for(&format!("{n} finished commands"), SOON, || {
        let h: Value = serde_json::from_str(&ok(w, repo, &["history", "--json"])).ok()?;
        let done = h
            .as_array()?
            .iter()
            .filter(|r| !r["exit"].is_null())
            .count();
        (done >= n).then_some(())
    });
}

#[test]
fn the_brief_says_whether_the_last_test_run_still_applies_in_a_real_repository() {
    let test = "the_brief_says_whether_the_last_test_run_still_applies_in_a_real_repository";
    if !require(test, &["bash", "tmux", "git"]) {
        return;
    }
    let (w, repo) = repo_world();
    std::fs::create_dir_all(&w.snap_home).unwrap();
    std::fs::write(
        w.snap_home.join("config.toml"),
        "[brief]\ntest_commands = [\"./check.sh\"]\n",
    )
    .unwrap();
    std::fs::write(repo.join("check.sh"), "#!/bin/sh\ngrep -q ok state.txt\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        repo.join("check.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::fs::write(repo.join("state.txt"), "bad\n").unwrap();
    git(&w, &repo, &["add", "."]);
    git(&w, &repo, &["commit", "-q", "-m", "tests"]);
    w.write_rc(Kind::Bash, "", "");
    let p = w.start_session_in("work", &repo, &w.shell_command(Kind::Bash));

    // It failed, and nothing changed since: the failure leads, a re-run would not help.
    p.run("./check.sh");
    finished_in(&w, &repo, 1);
    let b = brief_json(&w, &repo);
    let t = &b["tests"][0];
    assert_eq!(t["command"], "./check.sh", "{b}");
    assert_eq!(t["exit"], 1);
    assert_eq!(t["tree_changed"], false, "{t}");
    assert_eq!(t["changed_files"], serde_json::json!([]));
    assert!(t["ended_at"].as_str().unwrap().ends_with('Z'));
    let md = ok(&w, &repo, &["brief", "--markdown"]);
    assert!(
        md.contains("the last failing command was `./check.sh` (exit 1)."),
        "{md}"
    );
    assert!(
        md.contains("- `./check.sh` failed (exit 1) ")
            && md.contains("; nothing changed since: it would fail the same way"),
        "{md}"
    );

    // A file changed since: re-run; the failure no longer leads.
    std::fs::write(repo.join("state.txt"), "ok\n").unwrap();
    let b = brief_json(&w, &repo);
    let t = &b["tests"][0];
    assert_eq!(
        (t["tree_changed"].clone(), t["changed_files"].clone()),
        (Value::Bool(true), serde_json::json!(["state.txt"])),
        "{t}"
    );
    assert_eq!(b["last_failure"]["tree_changed"], true);
    let text = ok(&w, &repo, &["brief"]);
    assert!(
        text.contains("./check.sh: failed (exit 1) ")
            && text.contains("; 1 file changed since: re-run"),
        "{text}"
    );
    let md = ok(&w, &repo, &["brief", "--markdown"]);
    assert!(!md.contains("the last failing command was"), "{md}");
    assert!(md.contains("; `./check.sh` failed (exit 1) on a tree that has changed since (1 file changed): re-run it."), "{md}");

    // Committed: the file is clean again, but HEAD moved.
    git(&w, &repo, &["commit", "-q", "-am", "fix the state"]);
    let b = brief_json(&w, &repo);
    assert_eq!(b["tests"][0]["tree_changed"], true, "{b}");
    assert_eq!(b["tests"][0]["head_moved"], true);
    assert_eq!(b["tests"][0]["changed_files"], serde_json::json!([]));
    assert!(ok(&w, &repo, &["brief"]).contains("; HEAD moved since: re-run"));

    // Run again (twice, as one line of the list), with snap's own commands and clear
    // around it: it passed and still applies; they are no news.
    let bin = w.bin.display().to_string();
    p.run(&format!("'{bin}' task next 'write docs'"));
    p.run("./check.sh");
    p.run("./check.sh");
    p.run("clear");
    p.run("export APP_MODE=dev GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789");
    p.run("true");
    finished_in(&w, &repo, 7);
    let b = brief_json(&w, &repo);
    let t = &b["tests"][0];
    assert_eq!(
        (t["exit"].clone(), t["tree_changed"].clone()),
        (serde_json::json!(0), Value::Bool(false)),
        "{t}"
    );
    let text = ok(&w, &repo, &["brief"]);
    assert!(
        text.contains("./check.sh: passed ")
            && text.contains("; nothing changed since: no need to re-run"),
        "{text}"
    );
    let listed: Vec<(String, u64)> = b["last_commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["command"].as_str().unwrap().to_string(),
                c["times"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed[0], ("./check.sh".to_string(), 1), "{listed:?}");
    assert_eq!(listed[1], ("./check.sh".to_string(), 2), "{listed:?}");
    assert!(
        listed
            .iter()
            .all(|(c, _)| !c.contains("task next") && c != "clear"),
        "{listed:?}"
    );
    assert_eq!(b["last_failure"]["succeeded_later"], true);
    let md = ok(&w, &repo, &["brief", "--markdown"]);
    assert!(
        md.contains("; `./check.sh` failed (exit 1) but succeeded later."),
        "{md}"
    );

    // The variables exported in the session: names, and values only when not secret.
    assert!(
        strings(&b["exported"]).contains(&"GITHUB_TOKEN".to_string()),
        "{b}"
    );
    assert_eq!(b["exported_values"]["APP_MODE"], "dev");
    assert!(b["exported_values"].get("GITHUB_TOKEN").is_none());
    for out in [b.to_string(), text, md] {
        assert!(
            !out.contains("ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            "{out}"
        );
    }
    // HEAD and the commits since the last checkpoint (none yet: the plan only).
    let head = b["git"]["head"].as_str().unwrap().to_string();
    assert_eq!(head.len(), 40);
}

#[test]
fn an_agents_brief_has_one_copy_of_each_error_what_changed_and_fits_session_start() {
    let (w, repo) = repo_world();
    ok(&w, &repo, &["checkpoint", "-m", "before the parser"]);
    std::fs::write(repo.join("auth.js"), "// auth\n// more\n").unwrap();
    git(&w, &repo, &["commit", "-q", "-am", "parser: first cut"]);
    std::fs::write(repo.join("auth.js"), "// auth\n").unwrap();
    std::fs::write(repo.join("notes.md"), "n\n").unwrap();

    // A 10 KB error, reported once by the agent's hook.
    let error: String = (0..200)
        .map(|i| format!("error line {i} {}\n", "e".repeat(40)))
        .collect::<String>()
        + "LAST-ERROR-LINE-MARK";
    let mut failing: Value = serde_json::from_str(&claude_bash(
        "PostToolUseFailure",
        "c1",
        &repo,
        "cargo build",
    ))
    .unwrap();
    failing["error"] = Value::String(format!("Exit code 101\n{error}"));
    hook_with_env(&w, &repo, "claude", &failing.to_string(), &[]);
    claude_stop(
        &w,
        &repo,
        "The build fails in the parser; I was about to fix the lexer.",
    );
    let json = ok(&w, &repo, &["brief", "--json"]);
    assert_eq!(json.matches("LAST-ERROR-LINE-MARK").count(), 1, "{json}");
    assert!(json.len() < 20_000, "{} bytes", json.len());
    let b: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(b["last_failure"]["command"], "cargo build");
    assert!(b["last_failure"].get("error").is_none());
    assert_eq!(
        b["last_message"],
        "The build fails in the parser; I was about to fix the lexer."
    );
    let cps = b["checkpoints"].as_array().unwrap();
    assert_eq!(cps[0]["message"], "before the parser");
    assert_eq!(cps[1]["agent"], "claude");
    // The Stop checkpoint came after the commit: nothing since it; the diff stat.
    assert_eq!(b["git"]["commits_since_checkpoint"], serde_json::json!([]));
    let d = &b["git"]["diffstat"];
    assert_eq!(
        (
            d["files"].clone(),
            d["deletions"].clone(),
            d["untracked"].clone()
        ),
        (
            serde_json::json!(1),
            serde_json::json!(1),
            serde_json::json!(1)
        ),
        "{d}"
    );
    let md = ok(&w, &repo, &["brief", "--markdown"]);
    assert!(
        md.contains("## The agent's last message\n\n> The build fails in the parser"),
        "{md}"
    );
    assert!(
        md.contains("- Checkpoint message: before the parser"),
        "{md}"
    );
    assert!(
        md.contains("- Resume the agent: `claude --resume c1`"),
        "{md}"
    );
    assert!(
        md.contains("- Not committed: 1 file changed, +0 -1; 1 untracked"),
        "{md}"
    );

    // Commits since the checkpoint, by its HEAD.
    ok(&w, &repo, &["checkpoint", "-m", "lexer next"]);
    git(&w, &repo, &["commit", "-q", "-am", "lexer: tokens"]);
    let b: Value = serde_json::from_str(&ok(&w, &repo, &["brief", "--json"])).unwrap();
    let commits = b["git"]["commits_since_checkpoint"].as_array().unwrap();
    assert_eq!(commits.len(), 1, "{commits:?}");
    assert_eq!(commits[0]["subject"], "lexer: tokens");
    assert_eq!(commits[0]["id"], b["git"]["head"]);
    let text = ok(&w, &repo, &["brief"]);
    assert!(
        text.contains("; 1 commit since the last checkpoint") && text.contains(" lexer: tokens"),
        "{text}"
    );

    // A plan far over Claude Code's 10,000 characters: the SessionStart context fits,
    // in whole lines, the lead first.
    let steps: Vec<String> = (0..60)
        .map(|i| format!("step {i}: {}", "s".repeat(500)))
        .collect();
    let mut args = vec!["task", "next"];
    args.extend(steps.iter().map(String::as_str));
    ok(&w, &repo, &args);
    let out = snap_in(
        &w,
        &repo,
        &["hook", "claude"],
        Some(&claude_event(
            "SessionStart",
            "c2",
            &repo,
            serde_json::json!({"source": "resume"}),
        )),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let context = String::from_utf8(out.stdout).unwrap();
    assert!(
        context.chars().count() < 10_000,
        "{}",
        context.chars().count()
    );
    assert!(
        context.starts_with("# Resume brief: session `repo`"),
        "{context}"
    );
    assert!(
        context.ends_with("`snap brief --markdown` shows everything.\n"),
        "{context}"
    );
    let full = ok(&w, &repo, &["brief", "--markdown"]);
    assert!(full.chars().count() > 10_000);
    let lines: std::collections::HashSet<&str> = full.lines().collect();
    // (Ages may have moved on by a second in between.)
    for l in context
        .lines()
        .filter(|l| !l.contains("left out to fit") && !l.contains(" ago"))
    {
        assert!(lines.contains(l), "a line cut: {l}");
    }
}
