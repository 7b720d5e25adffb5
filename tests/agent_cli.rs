//! The real Claude Code and Codex CLIs (`SNAP_TEST_CLAUDE`, `SNAP_TEST_CODEX`: paths to
//! their binaries, installed by `test.sh`/`.ci/run` from npm at pinned versions), driven
//! offline against a loopback fake of their model APIs (`tests/agents/fake_api.py`)
//! that scripts their shell tool calls and keeps every request they send.

mod common;

use common::{require, wait_for, World};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Generous: the CLIs start slowly on a loaded machine.
const AGENT: Duration = Duration::from_secs(120);

/// The CLI binary named by `var`; None (SKIPPED, or a failure under
/// `SNAP_TEST_STRICT=1`) when it is not set or not there.
fn cli(test: &str, var: &str) -> Option<PathBuf> {
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_file());
    if path.is_none() {
        if std::env::var("SNAP_TEST_STRICT").as_deref() == Ok("1") {
            panic!("{test}: {var} is not set to the CLI's binary (SNAP_TEST_STRICT=1)");
        }
        println!("SKIPPED: {test}: {var} not set (test.sh installs the CLI from npm)");
    }
    path
}

/// The fake model API: a python3 process on 127.0.0.1, stopped on drop.
struct FakeApi {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl FakeApi {
    fn start(w: &World, name: &str, commands: &[&str], last: &str) -> FakeApi {
        let dir = w.path(name);
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("script.json");
        let body = serde_json::json!({"commands": commands, "final": last});
        std::fs::write(&script, body.to_string()).unwrap();
        let log = dir.join("requests.jsonl");
        let port_file = dir.join("port");
        let fake = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/agents/fake_api.py");
        let child = w
            .command("python3")
            .arg(fake)
            .arg(&script)
            .arg(&log)
            .arg(&port_file)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let port = wait_for("the fake API's port", AGENT, || {
            std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|p| p.trim().parse().ok())
        });
        FakeApi { child, port, log }
    }

    /// Every request the CLI sent, as logged.
    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// No request carries `secret`, and each went to this loopback server.
    fn assert_clean(&self, secret: &str) {
        let reqs = self.requests();
        assert!(!reqs.is_empty());
        for r in &reqs {
            let text = r.to_string();
            assert!(!text.contains(secret), "a secret reached the API: {text}");
            let host = r["headers"]["Host"]
                .as_str()
                .or(r["headers"]["host"].as_str())
                .unwrap_or_default();
            assert_eq!(host, format!("127.0.0.1:{}", self.port), "{text}");
        }
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A git repository `proj` in the world.
fn project(w: &World) -> PathBuf {
    let dir = w.path("proj");
    std::fs::create_dir_all(&dir).unwrap();
    let ok = w
        .command("git")
        .args(["init", "-q", "-b", "main"])
        .current_dir(&dir)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    dir
}

/// Run the CLI to its end; its output when it succeeded.
fn run(mut c: Command) -> String {
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The hooks `snap init claude` prints for `.claude/settings.json`: its first JSON
/// document (the `.mcp.json` entry follows).
fn claude_settings(w: &World) -> String {
    let out = w.snap(&["init", "claude"]);
    assert!(out.status.success());
    let first: Value = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter()
        .next()
        .unwrap()
        .unwrap();
    first.to_string()
}

fn history(w: &World, dir: &Path) -> Vec<Value> {
    let out = w
        .command(&w.bin)
        .args(["history", "--all", "--json"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn agent_state(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(".agent-session.json")).unwrap()).unwrap()
}

const SECRET: &str = "hunter2-very-secret-value";

#[test]
fn real_claude_code_turns_are_recorded_through_the_hooks() {
    let test = "real_claude_code_turns_are_recorded_through_the_hooks";
    let Some(claude) = cli(test, "SNAP_TEST_CLAUDE") else {
        return;
    };
    if !require(test, &["python3", "git"]) {
        return;
    }
    let w = World::new();
    let dir = project(&w);
    std::fs::create_dir_all(dir.join(".claude")).unwrap();
    std::fs::write(dir.join(".claude/settings.json"), claude_settings(&w)).unwrap();

    let claude_cmd = |api: &FakeApi| {
        let mut c = w.command(&claude);
        c.args(["-p", "run the checks", "--output-format", "json"])
            .args(["--allowedTools", "Bash"])
            .env(
                "ANTHROPIC_BASE_URL",
                format!("http://127.0.0.1:{}", api.port),
            )
            .env("ANTHROPIC_API_KEY", "sk-ant-fake-key")
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .env("DB_PASSWORD", SECRET)
            .current_dir(&dir);
        c
    };

    // A turn running a passing and a failing command; one mentions a secret.
    let api = FakeApi::start(
        &w,
        "api1",
        &[
            "echo passing-check",
            &format!("DB_PASSWORD={SECRET} ls /no-such-dir-zz"),
        ],
        "Checks ran: one failed.",
    );
    let out: Value = serde_json::from_str(&run(claude_cmd(&api))).unwrap();
    assert_eq!(out["result"], "Checks ran: one failed.");
    let h = history(&w, &dir);
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(h[0]["command"], "echo passing-check");
    assert_eq!(h[0]["exit"], 0);
    assert_eq!(h[0]["agent"], "claude");
    assert!(h[0]["duration_ms"].is_i64(), "{h:?}");
    assert_eq!(h[1]["exit"], 2);
    assert!(h[1]["duration_ms"].is_i64(), "{h:?}");
    // The Stop hook's checkpoint carries the last message.
    let st = agent_state(&dir);
    let cps = st["checkpoints"].as_array().unwrap();
    assert_eq!(cps.last().unwrap()["message"], "Checks ran: one failed.");
    drop(api);

    // A new conversation: its SessionStart context (the brief) reaches the model
    // without the secret.
    let api = FakeApi::start(&w, "api2", &[], "Nothing to do.");
    run(claude_cmd(&api));
    let reqs = api.requests();
    let all = serde_json::to_string(&reqs).unwrap();
    assert!(all.contains("Checks ran: one failed."), "no brief: {all}");
    assert!(all.contains("ls /no-such-dir-zz"), "no brief: {all}");
    api.assert_clean(SECRET);
}

#[test]
fn real_codex_exec_commands_are_recorded_as_codex_with_their_status() {
    let test = "real_codex_exec_commands_are_recorded_as_codex_with_their_status";
    let Some(codex) = cli(test, "SNAP_TEST_CODEX") else {
        return;
    };
    if !require(test, &["python3", "git"]) {
        return;
    }
    let w = World::new();
    let dir = project(&w);
    let api = FakeApi::start(
        &w,
        "api",
        &["echo passing-check", "ls /no-such-dir-zz"],
        "Done: one failed.",
    );
    // Codex's config: the fake provider, snap's notify line and hooks.json.
    let init = w.snap(&["init", "codex"]);
    assert!(init.status.success());
    let init = String::from_utf8_lossy(&init.stdout).into_owned();
    let blocks: Vec<&str> = init.split("\n\n").collect();
    let (notify, hooks) = (blocks[0], blocks[1]);
    let hooks: String = hooks.lines().filter(|l| !l.starts_with('#')).collect();
    let home = w.home.join(".codex");
    std::fs::create_dir_all(&home).unwrap();
    let config = format!(
        "{notify}\nmodel = \"fake-model\"\nmodel_provider = \"fake\"\n\n\
         [model_providers.fake]\nname = \"fake\"\nbase_url = \"http://127.0.0.1:{}/v1\"\n\
         wire_api = \"responses\"\nenv_key = \"FAKE_API_KEY\"\n",
        api.port
    );
    std::fs::write(home.join("config.toml"), config).unwrap();
    std::fs::write(home.join("hooks.json"), hooks).unwrap();

    let mut c = w.command(&codex);
    c.args(["exec", "--skip-git-repo-check", "--disable", "plugins"])
        .arg("--dangerously-bypass-hook-trust")
        .arg("run the checks")
        .env("FAKE_API_KEY", "fake-key")
        .env("DB_PASSWORD", SECRET)
        .current_dir(&dir);
    let out = run(c);
    assert!(out.contains("Done: one failed."), "{out}");
    let h = history(&w, &dir);
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(h[0]["command"], "echo passing-check");
    assert_eq!(h[0]["agent"], "codex");
    assert_eq!(h[0]["exit"], 0);
    assert_eq!(h[1]["command"], "ls /no-such-dir-zz");
    assert_eq!(h[1]["agent"], "codex");
    assert_eq!(h[1]["exit"], 2);
    // notify's turn end: a checkpoint with the last message, and the thread for resume.
    let cps = agent_state(&dir)["checkpoints"].as_array().unwrap().clone();
    assert_eq!(cps.last().unwrap()["message"], "Done: one failed.");
    let b = w
        .command(&w.bin)
        .args(["brief", "--json"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let b: Value = serde_json::from_slice(&b.stdout).unwrap();
    let resume = b["resume"].as_array().unwrap();
    assert_eq!(resume.len(), 1, "{resume:?}");
    assert!(resume[0].as_str().unwrap().starts_with("codex resume "));
    api.assert_clean(SECRET);
}

/// Every `relaunch` of a restore plan (JSON), with the shell its pane replaces.
fn relaunches(plan: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for win in plan["plan"]["windows"].as_array().unwrap() {
        for pane in win["panes"].as_array().unwrap() {
            if !pane["relaunch"].is_null() {
                let shell = pane["replaces"].as_str().unwrap().to_string();
                out.push((shell, pane["relaunch"].clone()));
            }
        }
    }
    out
}

#[test]
fn real_claude_panes_each_resume_their_own_conversation_after_kill_server() {
    let test = "real_claude_panes_each_resume_their_own_conversation_after_kill_server";
    let Some(claude) = cli(test, "SNAP_TEST_CLAUDE") else {
        return;
    };
    if !require(test, &["python3", "git", "bash", "tmux"]) {
        return;
    }
    let w = World::new();
    let dir = project(&w);
    std::fs::create_dir_all(dir.join(".claude")).unwrap();
    std::fs::write(dir.join(".claude/settings.json"), claude_settings(&w)).unwrap();
    let api = FakeApi::start(&w, "api", &[], "ok-final");
    let key = "sk-ant-fake-key-0123456789abcdefghij";
    // The interactive CLI's first-run questions, answered.
    let mut projects = serde_json::Map::new();
    for d in [dir.clone(), dir.canonicalize().unwrap()] {
        projects.insert(
            d.display().to_string(),
            serde_json::json!({"hasTrustDialogAccepted": true}),
        );
    }
    let claude_json = serde_json::json!({
        "hasCompletedOnboarding": true,
        "customApiKeyResponses": {"approved": [&key[key.len() - 20..]], "rejected": []},
        "projects": projects,
    });
    std::fs::write(w.home.join(".claude.json"), claude_json.to_string()).unwrap();
    let bin_dir = claude.parent().unwrap().display().to_string();
    let env = format!(
        "export PATH='{bin_dir}':\"$PATH\" ANTHROPIC_BASE_URL=http://127.0.0.1:{} \
         ANTHROPIC_API_KEY={key} CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
        api.port
    );
    w.write_rc(common::Kind::Bash, &env, "");

    // Two conversations, made with -p.
    let conversation = |prompt: &str| -> String {
        let mut c = w.command(&claude);
        c.args(["-p", prompt, "--output-format", "json"])
            .env(
                "ANTHROPIC_BASE_URL",
                format!("http://127.0.0.1:{}", api.port),
            )
            .env("ANTHROPIC_API_KEY", key)
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .current_dir(&dir);
        let out: Value = serde_json::from_str(&run(c)).unwrap();
        out["session_id"].as_str().unwrap().to_string()
    };
    let (a, b) = (conversation("first talk"), conversation("second talk"));

    // Two panes, each resuming one of them in the interactive TUI, and sitting idle.
    let shell = w.shell_command(common::Kind::Bash);
    let p1 = w.start_session_in("agents", &dir, &shell);
    let p2 = w.split_in(&p1.id, &dir, common::Kind::Bash);
    p1.run(&format!("claude --resume {a} --allowedTools Bash"));
    p2.run(&format!("claude --resume {b}"));
    let ids_file = w.snap_home.join("agents/agents/ids.json");
    let shells = wait_for("both panes' conversation ids", AGENT, || {
        let ids: Value = serde_json::from_slice(&std::fs::read(&ids_file).ok()?).ok()?;
        let shells = ids["shells"].as_object()?.clone();
        (shells.len() == 2).then_some(shells)
    });
    let shell_of = |conv: &str| -> String {
        shells
            .iter()
            .find(|(_, v)| v["claude"] == conv)
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| panic!("{conv} not recorded per shell: {shells:?}"))
    };
    let (shell_a, shell_b) = (shell_of(&a), shell_of(&b));
    assert_eq!(shells[&shell_a]["tmux_pane"], p1.id.as_str());
    assert_eq!(shells[&shell_b]["tmux_pane"], p2.id.as_str());

    let out = w.snap(&["save"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    w.tmux_ok(&["kill-server"]);

    // The plan: each pane its own conversation, with its own flags.
    let dry = |w: &World| -> Vec<(String, Value)> {
        let out = w.snap(&["restore", "agents", "--yes", "--dry-run", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        relaunches(&serde_json::from_slice(&out.stdout).unwrap())
    };
    // The CLIs take a moment to notice their terminal is gone: plan once they did.
    let settled = |w: &World| {
        wait_for("the agents to end with their terminals", AGENT, || {
            let plan = dry(w);
            let running = plan.iter().any(|(_, r)| {
                r["reason"]
                    .as_str()
                    .is_some_and(|why| why.starts_with("still running"))
            });
            (!running).then_some(plan)
        })
    };
    let plan = settled(&w);
    let of = |plan: &[(String, Value)], shell: &str| -> Value {
        plan.iter()
            .find(|(s, _)| s == shell)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("no relaunch for {shell}: {plan:?}"))
    };
    assert_eq!(
        of(&plan, &shell_a)["line"],
        format!("claude --allowedTools Bash --resume {a}")
    );
    assert_eq!(of(&plan, &shell_b)["line"], format!("claude --resume {b}"));
    assert_ne!(of(&plan, &shell_a)["action"], "skip");

    // Restored for real: each pane shows its own conversation again.
    let out = w.snap(&["restore", "agents", "--yes", "--no-attach"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let panes = w.tmux_ok(&["list-panes", "-s", "-t", "=agents", "-F", "#{pane_id}"]);
    let screens = || -> String {
        panes
            .lines()
            .map(|p| w.pane(p).screen())
            .collect::<Vec<_>>()
            .join("\n----\n")
    };
    wait_for("both conversations on screen again", AGENT, || {
        let s = screens();
        (s.contains("first talk") && s.contains("second talk")).then_some(())
    });
    for p in panes.lines() {
        let s = w.pane(p).screen();
        assert!(
            !(s.contains("first talk") && s.contains("second talk")),
            "one pane shows both: {s}"
        );
    }
    w.tmux_ok(&["kill-server"]);

    // A conversation whose transcript is gone is left out, with why.
    let transcript = std::fs::read_dir(w.home.join(".claude/projects"))
        .unwrap()
        .flatten()
        .map(|d| d.path().join(format!("{b}.jsonl")))
        .find(|p| p.is_file())
        .unwrap();
    std::fs::remove_file(&transcript).unwrap();
    let plan = settled(&w);
    let gone: Vec<&Value> = plan
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r["original"].as_str().unwrap().contains(&b))
        .collect();
    assert!(!gone.is_empty(), "{plan:?}");
    for r in gone {
        assert_eq!(r["action"], "skip", "{r}");
        assert!(
            r["reason"].as_str().unwrap().contains("no transcript"),
            "{r}"
        );
    }
}
