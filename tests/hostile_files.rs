//! Hostile project files (issue 11, item 7): an `.agent-session.json` that is a FIFO, a
//! symlink to `/dev/zero`, over 1 MiB, or nested 125 deep comes with a cloned
//! repository. Every reader names it and goes on without it, none waits on it, and no
//! snapshot becomes unreadable because of it.
//!
//! Each snap runs under a deadline (killed and failed when it passes, so a hang is a
//! failure, not a stuck suite) and a memory limit (so reading `/dev/zero` fails fast).

mod common;

use common::{require, Kind, World};
use serde_json::Value;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Long enough for any honest run on a loaded machine; a hang is killed at it.
const DEADLINE: Duration = Duration::from_secs(90);

/// The address space a snap may use here: enough for any honest run.
const MEMORY_LIMIT: u64 = 2 << 30;

/// Run `cmd` with `input` on stdin; kill it and fail when it passes the deadline.
fn run_limited(mut cmd: Command, input: Option<&str>, what: &str) -> Output {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    // SAFETY: only setrlimit runs between fork and exec, which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: MEMORY_LIMIT,
                rlim_max: MEMORY_LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(text) = input {
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(text.as_bytes());
    }
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = reader(Box::new(child.stdout.take().unwrap()));
    let err = reader(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {DEADLINE:?}: it waits on the state file");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// snap `args` in `dir`, limited.
fn snap_in(w: &World, dir: &Path, args: &[&str], input: Option<&str>) -> Output {
    let mut c = w.command(&w.bin);
    c.args(args).current_dir(dir);
    run_limited(c, input, &format!("snap {args:?}"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A world with a git repository `repo` and a hooked bash shell of session `work` in it
/// that has run one command. Returns (world, repo, its state file).
fn repo_session(test: &str) -> Option<(World, PathBuf, PathBuf)> {
    if !require(test, &["bash", "tmux", "git"]) {
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
    w.write_rc(Kind::Bash, "", "");
    let pane = w.start_session_in("work", &repo, &w.shell_command(Kind::Bash));
    pane.run("echo hello");
    w.wait_finished(1);
    let file = repo.join(".agent-session.json");
    Some((w, repo, file))
}

/// The SessionStart payload Claude Code sends on stdin.
fn session_start(repo: &Path) -> String {
    serde_json::json!({
        "session_id": "s1",
        "transcript_path": "/home/u/.claude/projects/x/t.jsonl",
        "cwd": repo,
        "hook_event_name": "SessionStart",
        "source": "resume",
    })
    .to_string()
}

/// `brief`, the SessionStart hook and `restore --dry-run` (text and JSON) finish and
/// name the file; returns their outputs.
fn every_reader_names(w: &World, repo: &Path, file: &Path) -> Vec<Output> {
    let name = file.display().to_string();
    let runs: Vec<(&[&str], Option<String>)> = vec![
        (&["brief"], None),
        (&["brief", "--json"], None),
        (&["brief", "--markdown"], None),
        (&["hook", "claude"], Some(session_start(repo))),
        (&["restore", "work", "--dry-run"], None),
        (&["restore", "work", "--dry-run", "--json"], None),
    ];
    runs.into_iter()
        .map(|(args, input)| {
            let out = snap_in(w, repo, args, input.as_deref());
            assert!(out.status.success(), "snap {args:?}: {}", text(&out));
            assert!(text(&out).contains(&name), "snap {args:?}: {}", text(&out));
            out
        })
        .collect()
}

#[test]
fn a_fifo_state_file_is_named_and_skipped_by_brief_hook_restore_and_save() {
    let Some((w, repo, file)) = repo_session("fifo_state_file") else {
        return;
    };
    let made = Command::new("mkfifo").arg(&file).status().unwrap();
    assert!(made.success());
    every_reader_names(&w, &repo, &file);
    let out = snap_in(&w, &repo, &["save"], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("FIFO"), "{}", text(&out));
    let out = snap_in(&w, &repo, &["task", "next", "x"], None);
    assert!(!out.status.success());
    assert!(text(&out).contains(&file.display().to_string()));
    let still = std::fs::symlink_metadata(&file).unwrap().file_type();
    assert!(
        std::os::unix::fs::FileTypeExt::is_fifo(&still),
        "left as it is"
    );
}

#[test]
fn a_symlinked_state_file_is_not_followed_to_dev_zero_or_to_a_file_of_ones_own() {
    let Some((w, repo, file)) = repo_session("symlinked_state_file") else {
        return;
    };
    std::os::unix::fs::symlink("/dev/zero", &file).unwrap();
    for out in every_reader_names(&w, &repo, &file) {
        assert!(out.stdout.len() < 64 << 10, "{} bytes", out.stdout.len());
    }
    // A JSON file of the user's own (a credentials store, say) is not followed either:
    // a cloned repository would otherwise hand it to the agent.
    let secret = w.home.join("creds.json");
    std::fs::write(&secret, r#"{"current_task": "SECRET-CONTENT"}"#).unwrap();
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(&secret, &file).unwrap();
    for out in every_reader_names(&w, &repo, &file) {
        assert!(!text(&out).contains("SECRET-CONTENT"), "{}", text(&out));
    }
}

#[test]
fn a_state_file_over_1_mib_is_refused_by_readers_and_edits() {
    let Some((w, repo, file)) = repo_session("huge_state_file") else {
        return;
    };
    let steps: Vec<String> = (0..1_000_000).map(|i| format!("s{i}")).collect();
    let doc = serde_json::json!({"current_task": "t", "next_steps": steps});
    let bytes = serde_json::to_vec(&doc).unwrap();
    std::fs::write(&file, &bytes).unwrap();
    for out in every_reader_names(&w, &repo, &file) {
        assert!(out.stdout.len() < 64 << 10, "{} bytes", out.stdout.len());
    }
    let out = snap_in(&w, &repo, &["task", "next", "one more"], None);
    assert!(!out.status.success());
    assert!(text(&out).contains(&file.display().to_string()));
    assert_eq!(std::fs::read(&file).unwrap(), bytes, "left as it is");
}

#[test]
fn a_write_that_would_pass_1_mib_is_refused_and_the_file_kept() {
    let Some((w, repo, file)) = repo_session("state_write_over_limit") else {
        return;
    };
    // Just under the limit: readable, and one more long step would pass it.
    let steps: Vec<String> = (0..1000)
        .map(|i| format!("{i:04}{}", "x".repeat(1000)))
        .collect();
    let bytes = serde_json::to_vec(&serde_json::json!({ "next_steps": steps })).unwrap();
    assert!(bytes.len() < 1 << 20);
    std::fs::write(&file, &bytes).unwrap();
    // What leaves for a snapshot, a brief or the agent is bounded.
    let out = snap_in(&w, &repo, &["save", "--json"], None);
    assert!(out.status.success(), "{}", text(&out));
    let snap: Value = serde_json::from_slice(&out.stdout).unwrap();
    let agent = &snap["sessions"][0]["agent"];
    let kept = agent["next_steps"].as_array().unwrap().len();
    assert!((1..=100).contains(&kept), "{kept} steps embedded");
    assert!(
        agent.to_string().len() <= 70 << 10,
        "{}",
        agent.to_string().len()
    );
    for args in [&["brief", "--json"][..], &["hook", "claude"]] {
        let out = snap_in(&w, &repo, args, Some(&session_start(&repo)));
        assert!(out.status.success(), "{}", text(&out));
        assert!(
            out.stdout.len() < 160 << 10,
            "{args:?}: {} bytes",
            out.stdout.len()
        );
    }
    let long = "y".repeat(60_000);
    let out = snap_in(&w, &repo, &["task", "next", &long], None);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("1024 KiB"), "{}", text(&out));
    assert_eq!(std::fs::read(&file).unwrap(), bytes);
}

/// `{"current_task": "deep", "nested": [[[…]]]}`, `depth` levels in all.
fn nested(depth: usize) -> String {
    format!(
        "{{\"current_task\": \"deep\", \"nested\": {}1{}}}",
        "[".repeat(depth - 1),
        "]".repeat(depth - 1)
    )
}

#[test]
fn a_state_nested_125_deep_is_skipped_and_every_later_snapshot_stays_readable() {
    let Some((w, repo, file)) = repo_session("deep_state_file") else {
        return;
    };
    // A second session elsewhere: its snapshots must stay readable too.
    let other = w.path("other");
    std::fs::create_dir_all(&other).unwrap();
    let pane = w.start_session_in("other", &other, &w.shell_command(Kind::Bash));
    pane.run("echo there");
    w.wait_finished(2);

    std::fs::write(&file, nested(125)).unwrap();
    every_reader_names(&w, &repo, &file);
    for _ in 0..2 {
        let out = snap_in(&w, &repo, &["save"], None);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("deeper than 32"), "{}", text(&out));
    }
    let out = snap_in(&w, &repo, &["list", "--json"], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("skipped"),
        "{}",
        text(&out)
    );
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    for session in ["work", "other"] {
        let out = snap_in(
            &w,
            &repo,
            &["restore", session, "--dry-run", "--json"],
            None,
        );
        assert!(out.status.success(), "{session}: {}", text(&out));
        assert!(!text(&out).contains("skipped snapshot"), "{}", text(&out));
    }

    // Nested 30 deep is within the limit: embedded, and still readable.
    std::fs::write(&file, nested(30)).unwrap();
    let out = snap_in(&w, &repo, &["save", "--json"], None);
    assert!(out.status.success(), "{}", text(&out));
    let snap: Value = serde_json::from_slice(&out.stdout).unwrap();
    let work = snap["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "work")
        .unwrap();
    assert_eq!(work["agent"]["current_task"], "deep");
    let out = snap_in(&w, &repo, &["list", "--json"], None);
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3, "{}", text(&out));
    assert!(out.stderr.is_empty(), "{}", text(&out));
}
