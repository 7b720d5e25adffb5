//! `snap mcp`: both lifecycles over raw JSON-RPC on the child's stdin and stdout, bad
//! arguments, a closed stdin, and every tool through a real MCP client (the `mcp`
//! Python SDK from PyPI, found through `SNAP_TEST_MCP_PYTHON`).

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

/// How long to wait for one answer from the server (the machine may be loaded).
const ANSWER: Duration = Duration::from_secs(60);

/// A `snap mcp` child, spoken to one JSON-RPC message per line.
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Server {
    /// Start `snap mcp` in `dir`.
    fn start(w: &World, dir: &Path) -> Server {
        let mut child = w
            .command(&w.bin)
            .arg("mcp")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Server {
            stdin: child.stdin.take(),
            child,
            lines,
        }
    }

    /// Send one message.
    fn send(&mut self, msg: Value) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{msg}").unwrap();
        stdin.flush().unwrap();
    }

    /// The next message on stdout; None once stdout is closed. Every line must be a
    /// JSON-RPC 2.0 message: nothing else may reach stdout.
    fn next(&mut self) -> Option<Value> {
        match self.lines.recv_timeout(ANSWER) {
            Ok(line) => {
                let msg: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not a protocol message on stdout ({e}): {line:?}"));
                assert_eq!(msg["jsonrpc"], "2.0", "{line}");
                Some(msg)
            }
            Err(RecvTimeoutError::Disconnected) => None,
            Err(RecvTimeoutError::Timeout) => panic!("no answer from snap mcp within {ANSWER:?}"),
        }
    }

    /// Send a request and wait for its response.
    fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let msg = self
                .next()
                .expect("snap mcp closed stdout before answering");
            if msg["id"] == id {
                return msg;
            }
        }
    }

    /// Call a tool; returns the JSON-RPC response. `meta` is the 2026-07-28 `_meta`.
    fn call(&mut self, id: u64, tool: &str, args: Value, meta: Option<&Value>) -> Value {
        let mut params = json!({"name": tool, "arguments": args});
        if let Some(m) = meta {
            params["_meta"] = m.clone();
        }
        self.request(id, "tools/call", params)
    }

    /// Close stdin and wait for the exit; every message still on stdout is checked.
    fn close(mut self) -> ExitStatus {
        drop(self.stdin.take());
        while self.next().is_some() {}
        let child = &mut self.child;
        wait_for("snap mcp to exit", ANSWER, || child.try_wait().unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The per-request `_meta` of the 2026-07-28 protocol.
fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "snap-tests", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}
    })
}

/// A tool call's one text, and whether it is an error.
fn tool_text(resp: &Value) -> (String, bool) {
    let result = &resp["result"];
    let content = result["content"]
        .as_array()
        .unwrap_or_else(|| panic!("{resp}"));
    assert_eq!(content.len(), 1, "one content item: {resp}");
    assert_eq!(content[0]["type"], "text", "{resp}");
    (
        content[0]["text"].as_str().unwrap().to_string(),
        result["isError"] == true,
    )
}

/// A project directory of its own.
fn project(w: &World, name: &str) -> PathBuf {
    let dir = w.path(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn state(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(".agent-session.json")).unwrap()).unwrap()
}

#[test]
fn the_2025_11_25_handshake_lists_every_tool_and_calls_one() {
    let w = World::new();
    let dir = project(&w, "proj");
    let mut s = Server::start(&w, &dir);
    let init = s.request(
        1,
        "initialize",
        json!({
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "snap-tests", "version": "1"}
        }),
    );
    let r = &init["result"];
    assert_eq!(r["protocolVersion"], "2025-11-25", "{init}");
    assert_eq!(r["serverInfo"]["name"], "snap", "{init}");
    assert!(r["capabilities"]["tools"].is_object(), "{init}");
    s.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));

    let list = s.request(2, "tools/list", json!({}));
    let tools = list["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "brief",
            "checkpoint",
            "task_set",
            "task_next",
            "task_done",
            "history",
            "sessions"
        ]
    );
    for t in tools {
        let schema = &t["inputSchema"];
        assert_eq!(schema["type"], "object", "{t}");
        assert_eq!(schema["properties"]["dir"]["type"], "string", "{t}");
        assert!(
            t["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{t}"
        );
        let reads = ["brief", "history", "sessions"].contains(&t["name"].as_str().unwrap());
        assert_eq!(t["annotations"]["readOnlyHint"], reads, "{t}");
        assert_eq!(t["annotations"]["destructiveHint"], false, "{t}");
    }

    let (text, err) = tool_text(&s.call(3, "task_set", json!({"task": "ship it"}), None));
    assert!(!err, "{text}");
    assert!(text.contains("task: ship it"), "{text}");
    assert_eq!(state(&dir)["current_task"], "ship it");
    assert!(s.close().success());
}

#[test]
fn the_2026_07_28_protocol_needs_no_handshake() {
    let w = World::new();
    let dir = project(&w, "proj");
    let meta = modern_meta();

    // server/discover, then calls with no initialize.
    let mut s = Server::start(&w, &dir);
    let found = s.request(1, "server/discover", json!({"_meta": meta}));
    let versions = &found["result"]["supportedVersions"];
    for v in ["2025-11-25", "2026-07-28"] {
        assert!(
            versions.as_array().unwrap().iter().any(|x| x == v),
            "{found}"
        );
    }
    assert!(
        found["result"]["capabilities"]["tools"].is_object(),
        "{found}"
    );
    let (text, err) = tool_text(&s.call(
        2,
        "task_next",
        json!({"steps": ["write tests", "fix lexer"]}),
        Some(&meta),
    ));
    assert!(!err && text.contains("2 next step(s)"), "{text}");
    let list = s.request(3, "tools/list", json!({"_meta": meta}));
    assert_eq!(
        list["result"]["tools"].as_array().unwrap().len(),
        7,
        "{list}"
    );
    assert!(s.close().success());

    // A first message that is already a tool call.
    let mut s = Server::start(&w, &dir);
    let (text, err) = tool_text(&s.call(1, "task_done", json!({"step": 1}), Some(&meta)));
    assert!(!err && text.contains("done: write tests"), "{text}");
    assert_eq!(state(&dir)["next_steps"], json!(["fix lexer"]));
    let (text, err) = tool_text(&s.call(2, "brief", json!({"format": "json"}), Some(&meta)));
    assert!(!err, "{text}");
    let brief: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(brief["next_steps"], json!(["fix lexer"]));
    assert!(s.close().success());
}

#[test]
fn bad_arguments_are_error_results_and_the_server_answers_on() {
    let w = World::new();
    let dir = project(&w, "proj");
    let meta = modern_meta();
    let mut s = Server::start(&w, &dir);
    let cases = [
        ("history", json!({"n": 0}), "n"),
        ("history", json!({"n": "five"}), "n"),
        ("history", json!({"session": "a", "all": true}), "all"),
        ("brief", json!({"format": "html"}), "format"),
        ("brief", json!({"dir": "relative/path"}), "absolute"),
        ("sessions", json!({"dir": 7}), "dir"),
        ("checkpoint", json!({}), "message"),
        ("checkpoint", json!({"message": 3}), "message"),
        ("task_set", json!({"task": ["a"]}), "task"),
        ("task_next", json!({"steps": "one"}), "steps"),
        ("task_next", json!({"steps": []}), "steps"),
        ("task_done", json!({"step": 0}), "step"),
        ("task_done", json!({"step": 9}), "no next step"),
        ("sessions", json!({"everything": true}), "everything"),
    ];
    for (i, (tool, args, names)) in cases.iter().enumerate() {
        let resp = s.call(i as u64 + 1, tool, args.clone(), Some(&meta));
        let (text, err) = tool_text(&resp);
        assert!(err, "{tool} {args}: not an error result: {resp}");
        assert!(
            text.contains(names),
            "{tool} {args}: {text:?} does not name {names:?}"
        );
    }
    // An unknown tool is a protocol error, and the server still answers.
    let resp = s.call(100, "rm_rf", json!({}), Some(&meta));
    assert!(
        resp["error"]["message"].as_str().unwrap().contains("rm_rf"),
        "{resp}"
    );
    let (text, err) =
        tool_text(&s.call(101, "task_set", json!({"task": "still here"}), Some(&meta)));
    assert!(!err, "{text}");
    assert_eq!(state(&dir)["current_task"], "still here");
    assert!(s.close().success());
}

#[test]
fn tools_act_on_another_project_given_its_absolute_dir() {
    let w = World::new();
    let here = project(&w, "here");
    let other = project(&w, "other");
    let mut s = Server::start(&w, &here);
    let meta = modern_meta();
    let other_dir = other.display().to_string();
    let (text, err) = tool_text(&s.call(
        1,
        "task_set",
        json!({"task": "elsewhere", "dir": other_dir}),
        Some(&meta),
    ));
    assert!(!err, "{text}");
    assert_eq!(state(&other)["current_task"], "elsewhere");
    assert!(!here.join(".agent-session.json").exists());
    let (text, _) = tool_text(&s.call(
        2,
        "brief",
        json!({"format": "json", "dir": other_dir}),
        Some(&meta),
    ));
    let brief: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(brief["current_task"], "elsewhere");
    assert_eq!(brief["project"], other_dir.as_str());
    assert!(s.close().success());
}

#[test]
fn a_checkpoint_that_snapshots_a_live_shell_puts_nothing_but_protocol_on_stdout() {
    let test = "a_checkpoint_that_snapshots_a_live_shell_puts_nothing_but_protocol_on_stdout";
    if !require(test, &["bash", "tmux"]) {
        return;
    }
    let w = World::new();
    let dir = project(&w, "proj");
    w.write_rc(Kind::Bash, "", "");
    let p = w.start_session_in("work", &dir, &w.shell_command(Kind::Bash));
    p.run("echo hello");
    w.wait_finished(1);
    let mut s = Server::start(&w, &dir);
    let meta = modern_meta();
    let (text, err) = tool_text(&s.call(1, "checkpoint", json!({"message": "first"}), Some(&meta)));
    assert!(!err, "{text}");
    assert!(text.contains("of session work"), "{text}");
    let (text, err) = tool_text(&s.call(2, "sessions", json!({}), Some(&meta)));
    assert!(!err && text.contains("\"work\""), "{text}");
    // Every line read so far, and to the end, parsed as a JSON-RPC message.
    assert!(s.close().success());
}

#[test]
fn notifications_and_garbage_before_the_first_request_do_not_end_the_server() {
    let w = World::new();
    let dir = project(&w, "proj");
    let mut s = Server::start(&w, &dir);
    s.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    s.send(json!({"jsonrpc": "2.0", "id": 77, "result": {}}));
    let stdin = s.stdin.as_mut().unwrap();
    stdin.write_all(b"not json at all\n{\"half\n").unwrap();
    let init = s.request(
        1,
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {},
               "clientInfo": {"name": "t", "version": "1"}}),
    );
    assert_eq!(init["result"]["serverInfo"]["name"], "snap", "{init}");
    s.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let (text, err) = tool_text(&s.call(2, "sessions", json!({}), None));
    assert!(!err && text.starts_with('['), "{text}");
    assert!(s.close().success());
}

#[test]
fn a_closed_stdin_ends_the_server_with_status_0() {
    let w = World::new();
    let dir = project(&w, "proj");
    // Before any message.
    assert!(Server::start(&w, &dir).close().success());
    // After the handshake.
    let mut s = Server::start(&w, &dir);
    s.request(
        1,
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {},
               "clientInfo": {"name": "t", "version": "1"}}),
    );
    assert!(s.close().success());
}

#[test]
fn init_prints_the_mcp_entries_after_the_hooks() {
    let w = World::new();
    let out = w.snap(&["init", "claude"]);
    assert!(out.status.success());
    let docs: Vec<Value> = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(docs.len(), 2, "{}", String::from_utf8_lossy(&out.stdout));
    assert!(docs[0]["hooks"]["PostToolUse"].is_array());
    assert_eq!(
        docs[1],
        json!({"mcpServers": {"snap": {"command": w.bin.to_str().unwrap(), "args": ["mcp"]}}})
    );
    let out = w.snap(&["init", "codex"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // config.toml's notify line, hooks.json, then config.toml's MCP table.
    let blocks: Vec<&str> = text.split("\n\n").collect();
    assert_eq!(blocks.len(), 3, "{text}");
    let t: toml::Table = format!("{}\n{}", blocks[0], blocks[2]).parse().unwrap();
    let server = &t["mcp_servers"]["snap"];
    assert_eq!(server["command"].as_str(), w.bin.to_str());
    assert_eq!(server["args"], toml::Value::Array(vec!["mcp".into()]));
    assert!(t["notify"].is_array(), "the notify line stays");
}

/// The Python with the `mcp` SDK (`SNAP_TEST_MCP_PYTHON`); None (after saying SKIPPED,
/// or failing under `SNAP_TEST_STRICT=1`) when it is not set.
fn mcp_python(test: &str) -> Option<PathBuf> {
    match std::env::var_os("SNAP_TEST_MCP_PYTHON").filter(|p| !p.is_empty()) {
        Some(p) => Some(PathBuf::from(p)),
        None if std::env::var("SNAP_TEST_STRICT").as_deref() == Ok("1") => {
            panic!("{test}: SNAP_TEST_MCP_PYTHON is not set (SNAP_TEST_STRICT=1)")
        }
        None => {
            println!("SKIPPED: {test}: SNAP_TEST_MCP_PYTHON is not set (test.sh sets it)");
            None
        }
    }
}

/// Run `tests/mcp/drive.py` against `snap mcp` in `dir`: the calls of `plan`, through
/// the SDK's stdio client, after the `mode` lifecycle.
fn drive(w: &World, python: &Path, dir: &Path, mode: &str, plan: &Value) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/drive.py");
    let mut child = w
        .command(python)
        .arg(&script)
        .arg(&w.bin)
        .arg(dir)
        .arg(mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(plan.to_string().as_bytes())
        .unwrap();
    let pid = child.id();
    let waiter = std::thread::spawn(move || child.wait_with_output().unwrap());
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    while !waiter.is_finished() {
        if std::time::Instant::now() > deadline {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("drive.py {mode}: no result within 180 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = waiter
        .join()
        .unwrap_or_else(|_| panic!("client {pid} panicked"));
    assert!(
        out.status.success(),
        "drive.py {mode} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "drive.py {mode}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
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

/// The JSON text of a call's answer.
fn json_of(call: &Value) -> Value {
    let text = call["text"].as_str().unwrap();
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {text}", call["tool"]))
}

/// The commands of a `history` answer.
fn commands(call: &Value) -> Vec<String> {
    json_of(call)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["command"].as_str().unwrap().to_string())
        .collect()
}

const GH_TOKEN: &str = "ghp_Zq8vR2mN4kL6jH1fD3sA5gW7eT9yU0iOpX";
const URL_PASSWORD: &str = "s3cretpw99";
const KNOWN_VALUE: &str = "hunter2hunter2";
const SECRET_VAR_VALUE: &str = "tok-0123456789abcdef";

#[test]
fn every_tool_works_through_the_python_mcp_sdk_and_nothing_secret_comes_back() {
    let test = "every_tool_works_through_the_python_mcp_sdk_and_nothing_secret_comes_back";
    if !require(test, &["bash", "tmux", "git"]) {
        return;
    }
    let Some(python) = mcp_python(test) else {
        return;
    };
    let w = World::new();
    let repo = project(&w, "repo");
    std::fs::create_dir_all(repo.join("sub")).unwrap();
    git(&w, &repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("lexer.rs"), "// lexer\n").unwrap();
    git(&w, &repo, &["add", "."]);
    git(&w, &repo, &["commit", "-q", "-m", "init"]);

    // A real hooked shell of the project, with secrets in its environment and its commands.
    w.write_rc(
        Kind::Bash,
        "",
        &format!("export API_TOKEN={SECRET_VAR_VALUE}\nexport DB_PASSWORD={KNOWN_VALUE}"),
    );
    let p = w.start_session_in("work", &repo, &w.shell_command(Kind::Bash));
    for line in [
        format!("echo marker-one https://alice:{URL_PASSWORD}@example.com/x"),
        format!("echo pushing {GH_TOKEN}"),
        format!("echo {KNOWN_VALUE} {SECRET_VAR_VALUE} marker-two"),
        "cd sub".to_string(),
        "echo marker-sub".to_string(),
        "cd ..".to_string(),
        "false".to_string(),
    ] {
        p.run(&line);
        p.wait_prompt();
    }
    w.wait_finished(7);

    let plan = json!([
        {"tool": "task_set", "args": {"task": "ship the parser"}},
        {"tool": "task_next", "args": {"steps": ["write tests", "fix lexer", "ship"]}},
        {"tool": "task_done", "args": {"step": 2}},
        {"tool": "task_done", "args": {"step": "ship"}},
        {"tool": "checkpoint", "args": {"message": "split the lexer"}},
        {"tool": "brief", "args": {}},
        {"tool": "brief", "args": {"format": "markdown"}},
        {"tool": "brief", "args": {"format": "json"}},
        {"tool": "history", "args": {}},
        {"tool": "history", "args": {"failed": true}},
        {"tool": "history", "args": {"search": "MARKER one"}},
        {"tool": "history", "args": {"cwd": "sub"}},
        {"tool": "history", "args": {"n": 2}},
        {"tool": "history", "args": {"all": true, "search": "marker"}},
        {"tool": "history", "args": {"session": "work", "n": 1}},
        {"tool": "sessions", "args": {}},
        {"tool": "sessions", "args": {"all": true}},
        {"tool": "history", "args": {"n": 0}},
        {"tool": "brief", "args": {"format": "html"}},
        {"tool": "task_set", "args": {"task": format!("deploy with {GH_TOKEN}")}},
        {"tool": "brief", "args": {"format": "json"}},
    ]);
    let out = drive(&w, &python, &repo, "initialize", &plan);
    assert_eq!(out["protocol_version"], "2025-11-25", "{out}");
    assert_eq!(out["server_name"], "snap");
    let names: Vec<&str> = out["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "brief",
            "checkpoint",
            "task_set",
            "task_next",
            "task_done",
            "history",
            "sessions"
        ]
    );
    let calls = out["calls"].as_array().unwrap();
    assert_eq!(calls.len(), plan.as_array().unwrap().len());
    for (i, c) in calls.iter().enumerate() {
        assert_eq!(c["content_items"], 1, "call {i}: {c}");
        let text = c["text"]
            .as_str()
            .unwrap_or_else(|| panic!("call {i}: no text: {c}"));
        let want_error = matches!(i, 17 | 18);
        assert_eq!(c["is_error"], want_error, "call {i}: {c}");
        for secret in [GH_TOKEN, URL_PASSWORD, KNOWN_VALUE, SECRET_VAR_VALUE] {
            assert!(
                !text.contains(secret),
                "call {i} ({}) leaks {secret}: {text}",
                c["tool"]
            );
        }
        assert!(
            !text
                .chars()
                .any(|ch| ch.is_control() && ch != '\n' && ch != '\t'),
            "call {i}: a control character: {text:?}"
        );
    }

    // The task tools really change .agent-session.json.
    assert_eq!(calls[0]["state"]["current_task"], "ship the parser");
    assert_eq!(
        calls[1]["state"]["next_steps"],
        json!(["write tests", "fix lexer", "ship"])
    );
    assert_eq!(
        calls[2]["state"]["next_steps"],
        json!(["write tests", "ship"])
    );
    assert!(calls[2]["text"]
        .as_str()
        .unwrap()
        .contains("done: fix lexer"));
    assert_eq!(calls[3]["state"]["next_steps"], json!(["write tests"]));

    // The checkpoint: state updated, message kept (in the state file's checkpoints where
    // snap keeps them there, and as the label of the snapshot it took).
    let cp = &calls[4];
    assert!(cp["state"]["last_checkpoint"].is_string(), "{cp}");
    let cp_text = cp["text"].as_str().unwrap();
    assert!(
        cp_text.contains("snapshot ") && cp_text.contains("of session work"),
        "{cp_text}"
    );
    if let Some(list) = cp["state"]["checkpoints"].as_array() {
        assert_eq!(list.last().unwrap()["message"], "split the lexer", "{cp}");
    }
    let labels: Vec<Value> = w
        .snap_json(&["list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].clone())
        .collect();
    assert!(labels.contains(&json!("split the lexer")), "{labels:?}");

    // The brief in its three formats.
    let text = calls[5]["text"].as_str().unwrap();
    assert!(
        text.contains("ship the parser") && text.contains("write tests"),
        "{text}"
    );
    let md = calls[6]["text"].as_str().unwrap();
    assert!(md.starts_with("# ") && md.contains("write tests"), "{md}");
    let brief = json_of(&calls[7]);
    assert_eq!(brief["session"], "work");
    assert_eq!(brief["current_task"], "ship the parser");
    assert_eq!(brief["next_steps"], json!(["write tests"]));

    // History of the hooked shell: the project's session, narrowed as asked, redacted.
    let all = json_of(&calls[8]);
    let records = all.as_array().unwrap();
    assert!(records.iter().all(|r| r["session"] == "work"), "{all}");
    let cmds = commands(&calls[8]);
    assert!(cmds.contains(&"false".to_string()), "{cmds:?}");
    assert!(
        cmds.iter()
            .any(|c| c.contains("marker-one") && c.contains("[redacted]")),
        "{cmds:?}"
    );
    let failed = json_of(&calls[9]);
    assert!(!failed.as_array().unwrap().is_empty());
    for r in failed.as_array().unwrap() {
        assert!(r["exit"].as_i64().is_some_and(|e| e != 0), "{failed}");
    }
    assert!(commands(&calls[9]).contains(&"false".to_string()));
    let found = commands(&calls[10]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("marker-one"), "{found:?}");
    let in_sub = json_of(&calls[11]);
    assert_eq!(
        commands(&calls[11]),
        ["echo marker-sub", "cd .."],
        "{in_sub}"
    );
    assert_eq!(commands(&calls[12]), cmds[cmds.len() - 2..].to_vec());
    assert_eq!(commands(&calls[13]).len(), 3, "{}", calls[13]);
    assert_eq!(commands(&calls[14]), ["false"]);

    // Sessions: the live hooked shell, redacted.
    for c in [&calls[15], &calls[16]] {
        let sessions = json_of(c);
        let work = sessions
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "work")
            .unwrap_or_else(|| panic!("{sessions}"));
        assert!(work["shells"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["alive"] == true));
    }

    // Bad arguments: a clear error result, and the calls after them still answered.
    assert!(
        calls[17]["text"].as_str().unwrap().starts_with("n:"),
        "{}",
        calls[17]
    );
    assert!(
        calls[18]["text"].as_str().unwrap().starts_with("format:"),
        "{}",
        calls[18]
    );
    let said = calls[19]["text"].as_str().unwrap();
    assert!(said.contains("deploy with [redacted]"), "{said}");
    let brief = json_of(&calls[20]);
    assert_eq!(brief["current_task"], "deploy with [redacted]");

    // The stateless lifecycle through the same SDK.
    let plan = json!([
        {"tool": "task_set", "args": {"task": "stateless task"}},
        {"tool": "brief", "args": {"format": "json"}},
        {"tool": "history", "args": {"n": 1}},
        {"tool": "task_done", "args": {"step": 0}},
        {"tool": "sessions", "args": {}},
    ]);
    let out = drive(&w, &python, &repo, "discover", &plan);
    assert_eq!(out["protocol_version"], "2026-07-28", "{out}");
    let calls = out["calls"].as_array().unwrap();
    assert_eq!(calls[0]["state"]["current_task"], "stateless task");
    assert_eq!(json_of(&calls[1])["current_task"], "stateless task");
    assert_eq!(commands(&calls[2]), ["false"]);
    assert_eq!(calls[3]["is_error"], true, "{}", calls[3]);
    assert!(calls[3]["text"].as_str().unwrap().contains("from 1"));
    assert_eq!(calls[4]["is_error"], false);
}
