//! Secrets stay in the store: what leaves it for a screen or a coding agent (briefs in
//! every format, the Claude Code SessionStart context, restore's plan and the brief in
//! the restored first window) never holds a recorded secret; the user's own records
//! (`history`, `sessions`) keep real values, except under a coding agent without `--raw`.

mod common;

use common::{require, wait_for, Kind, World, SOON};
use std::process::Output;

const PASSWORD: &str = "hunter2";

/// A GitHub token: `ghp_` and 36 characters.
fn token() -> String {
    format!("ghp_{}", "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6")
}

/// The bytes of an output hold neither the password nor the token.
fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let token = token();
    let hits: Vec<&str> = [PASSWORD, token.as_str()]
        .into_iter()
        .filter(|s| bytes.windows(s.len()).any(|w| w == s.as_bytes()))
        .collect();
    assert!(hits.is_empty(), "{what} leaks {hits:?}:\n{text}");
}

fn holds(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn ok(w: &World, args: &[&str]) -> Output {
    let out = w.snap(args);
    assert!(
        out.status.success(),
        "snap {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `snap ARGS` with extra variables in its environment.
fn with_env(w: &World, vars: &[(&str, &str)], args: &[&str]) -> Output {
    let out = w
        .command(&w.bin)
        .envs(vars.iter().copied())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "snap {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A hooked bash in tmux session `work`, in `~/proj`, that exported a database URL
/// with a password and a GitHub token, ran commands holding them (one failed), and a
/// Claude Code Bash call that failed with the token in its command. Returns the project.
fn record_secrets(w: &World) -> std::path::PathBuf {
    let proj = w.home.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    let token = token();
    let pane = w.start_session_in("work", &proj, &w.shell_command(Kind::Bash));
    pane.run(&format!("export DATABASE_URL=postgres://u:{PASSWORD}@h/db"));
    pane.run(&format!("export GITHUB_TOKEN={token}"));
    pane.run(&format!("export APP_PASSWORD={PASSWORD}-app"));
    pane.run(&format!("echo connect --password={PASSWORD} > /dev/null"));
    pane.run(&format!(
        "false --password={PASSWORD} $GITHUB_TOKEN {token}"
    ));
    w.wait_finished(5);
    pane.run("sleep 1000");
    wait_for("sleep running", SOON, || {
        w.shells()
            .iter()
            .any(|s| s["running"] == "sleep 1000")
            .then_some(())
    });
    let payload = serde_json::json!({
        "session_id": "c1",
        "cwd": proj,
        "hook_event_name": "PostToolUseFailure",
        "tool_name": "Bash",
        "tool_input": {"command": format!("GITHUB_TOKEN={token} gh api user --password={PASSWORD}")},
        "error": "Exit code 1",
    });
    ok(w, &["hook", "claude", &payload.to_string()]);
    proj
}

#[test]
fn secrets_never_leave_the_store_in_briefs_hooks_or_restore_output() {
    if !require("secrets_never_leave", &["bash", "tmux"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let proj = record_secrets(&w);
    // The recording itself holds them: the test would prove nothing otherwise.
    let raw = ok(&w, &["history", "--all"]).stdout;
    assert!(
        holds(&raw, PASSWORD) && holds(&raw, &token()),
        "{}",
        String::from_utf8_lossy(&raw)
    );

    let snap_out = ok(&w, &["save", "--json"]).stdout;
    assert_clean("snap save --json (the snapshot)", &snap_out);
    assert_clean(
        "snap show --json",
        &ok(&w, &["show", "latest", "--json"]).stdout,
    );

    for args in [
        &["brief", "work"][..],
        &["brief", "work", "--markdown"],
        &["brief", "work", "--json"],
    ] {
        let out = ok(&w, args);
        assert!(!out.stdout.is_empty());
        assert_clean(&format!("snap {args:?}"), &out.stdout);
    }
    let start = serde_json::json!({
        "session_id": "c2", "cwd": proj, "hook_event_name": "SessionStart", "source": "resume",
    });
    let context = ok(&w, &["hook", "claude", &start.to_string()]).stdout;
    assert!(
        holds(&context, "Resume brief"),
        "{}",
        String::from_utf8_lossy(&context)
    );
    assert_clean("the SessionStart context", &context);

    // As after a reboot: the session is gone, restore would rebuild it with its env.
    w.tmux_ok(&["kill-server"]);
    let text = ok(&w, &["restore", "work", "--dry-run"]).stdout;
    assert!(
        holds(&text, "rebuilding"),
        "{}",
        String::from_utf8_lossy(&text)
    );
    assert_clean("restore --dry-run", &text);
    let json = ok(&w, &["restore", "work", "--dry-run", "--json"]).stdout;
    assert_clean("restore --dry-run --json", &json);
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let env = &v["plan"]["windows"][0]["panes"][0]["env"];
    assert_eq!(env["GITHUB_TOKEN"], "[redacted]", "{env}");
    assert_eq!(env["APP_PASSWORD"], "[redacted]", "{env}");
    assert_eq!(env["DATABASE_URL"], "postgres://u:[redacted]@h/db", "{env}");

    // The real restore: its report and the brief atop the first window.
    let out = ok(&w, &["restore", "work", "--no-attach"]).stdout;
    assert_clean("restore's report", &out);
    let first = w.pane("=work:0.0");
    first.wait_text("Session work");
    let screen = first.wait_text(common::PROMPT.trim_end());
    assert_clean("the restored first window", screen.as_bytes());
    assert!(screen.contains("[redacted]"), "{screen}");
}

#[test]
fn history_and_sessions_redact_only_under_a_coding_agent_unless_raw() {
    if !require("history_redacts_under_agent", &["bash", "tmux"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    record_secrets(&w);
    let token = token();
    for args in [&["history", "--all"][..], &["history", "--all", "--json"]] {
        let plain = ok(&w, args).stdout;
        assert!(holds(&plain, PASSWORD) && holds(&plain, &token), "{args:?}");
        for agent in [("CLAUDECODE", "1"), ("CODEX_THREAD_ID", "t-1")] {
            let out = with_env(&w, &[agent], args);
            assert_clean(&format!("{args:?} under {}", agent.0), &out.stdout);
            assert!(holds(&out.stdout, "[redacted]"));
            let mut raw = args.to_vec();
            raw.push("--raw");
            let out = with_env(&w, &[agent], &raw);
            assert!(
                holds(&out.stdout, PASSWORD) && holds(&out.stdout, &token),
                "{raw:?}"
            );
        }
    }
    let plain = ok(&w, &["sessions", "--json"]).stdout;
    assert!(holds(&plain, &token));
    let agent = with_env(&w, &[("CLAUDECODE", "1")], &["sessions", "--json"]).stdout;
    assert_clean("sessions --json under CLAUDECODE", &agent);
    let raw = with_env(&w, &[("CLAUDECODE", "1")], &["sessions", "--json", "--raw"]).stdout;
    assert!(holds(&raw, &token));
}

#[test]
fn history_filter_and_cwd_filter_keep_commands_out_of_the_brief() {
    if !require("filters_keep_commands_out_of_the_brief", &["bash", "tmux"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    std::fs::create_dir_all(w.home.join("proj/private")).unwrap();
    std::fs::create_dir_all(&w.snap_home).unwrap();
    std::fs::write(
        w.snap_home.join("config.toml"),
        "history_filter = [\"^pass \"]\ncwd_filter = [\"/private$\"]\n",
    )
    .unwrap();
    let pane = w.start_session_in("work", &w.home.join("proj"), &w.shell_command(Kind::Bash));
    pane.run("pass show bank-filtered || true");
    pane.run("cd private");
    pane.run("echo in-private-dir-filtered");
    pane.run("cd ..");
    pane.run("echo visible-command");
    w.wait_finished(5);
    for args in [
        &["brief", "work"][..],
        &["brief", "work", "--markdown"],
        &["brief", "work", "--json"],
    ] {
        let out = ok(&w, args).stdout;
        assert!(
            holds(&out, "visible-command"),
            "{}",
            String::from_utf8_lossy(&out)
        );
        assert!(
            !holds(&out, "filtered"),
            "{args:?}: {}",
            String::from_utf8_lossy(&out)
        );
    }
}
