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
    let t: toml::Table = String::from_utf8_lossy(&out.stdout).parse().unwrap();
    let server = &t["mcp_servers"]["snap"];
    assert_eq!(server["command"].as_str(), w.bin.to_str());
    assert_eq!(server["args"], toml::Value::Array(vec!["mcp".into()]));
    assert!(t["notify"].is_array(), "the notify line stays");
}
