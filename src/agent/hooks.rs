//! Coding-agent hook payloads: Claude Code's and Codex's hooks (JSON on stdin) and
//! Codex's `notify` (JSON as an argument), turned into agent commands, checkpoints and
//! recorded conversation ids.

use super::journal::{self, Agent, IdContext};
use crate::store::agent_journal::{self, AgentCommand};
use crate::store::paths::Paths;
use crate::store::recorded::{Recorded, Select};
use crate::timefmt;
use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// A hook payload of Claude Code or of Codex's `hooks.json` (JSON on stdin, the same
/// shape for both), as snap uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct HookPayload {
    /// The agent's own session (conversation) id.
    pub session_id: String,
    pub cwd: Option<String>,
    /// The conversation's transcript file.
    pub transcript: Option<String>,
    pub event: HookEvent,
}

/// What a hook payload asks of snap.
#[derive(Debug, Clone, PartialEq)]
pub enum HookEvent {
    /// A shell tool call ended (`PostToolUse`, `PostToolUseFailure`).
    Command {
        command: String,
        /// 0 for Claude's `PostToolUse`; the reported status of a failure; None when
        /// the payload does not say (never guessed as 0).
        exit: Option<i32>,
        duration_ms: Option<i64>,
        /// The error text of a failure.
        error: Option<String>,
        /// The tool call's id, to find its status in a Codex transcript.
        call_id: Option<String>,
    },
    /// The agent finished a turn (`Stop`): checkpoint with its last message.
    Stop { last_message: Option<String> },
    /// A session started or resumed (`SessionStart`): record its id, print the brief.
    SessionStart,
    /// Anything else: nothing to do.
    Ignored,
}

/// The shell tools whose calls are recorded: Claude's `Bash`; Codex's shell tool
/// (reported as `Bash` in its hooks, `exec_command`/`shell` by older versions).
const SHELL_TOOLS: [&str; 5] = [
    "Bash",
    "exec_command",
    "shell",
    "local_shell",
    "shell_command",
];

/// Parse a hook payload (pure). Unknown events and tools are `Ignored`.
pub fn parse_hook(agent: Agent, payload: &str) -> Result<HookPayload> {
    let name = agent_name(agent);
    let v: Value = serde_json::from_str(payload)
        .with_context(|| format!("the {name} hook payload on stdin is not JSON"))?;
    let Some(obj) = v.as_object() else {
        bail!("the {name} hook payload is not a JSON object");
    };
    let event = str_of(obj, "hook_event_name").unwrap_or_default();
    let session_id = str_of(obj, "session_id")
        .filter(|s| !s.is_empty())
        .with_context(|| format!("the {event} payload has no session_id"))?;
    let shell_command = || -> Option<String> {
        if !SHELL_TOOLS.contains(&str_of(obj, "tool_name")?.as_str()) {
            return None;
        }
        command_of(obj.get("tool_input")?)
    };
    let duration_ms = obj
        .get("duration_ms")
        .or_else(|| obj.get("tool_response")?.get("duration_ms"))
        .and_then(Value::as_f64)
        .filter(|d| d.is_finite() && *d >= 0.0)
        .map(|d| d.round() as i64);
    let event = match event.as_str() {
        "PostToolUse" => match shell_command() {
            Some(command) => HookEvent::Command {
                command,
                exit: match agent {
                    // Claude Code sends PostToolUse only for calls that succeeded.
                    Agent::Claude => Some(0),
                    Agent::Codex => obj.get("tool_response").and_then(exit_in_response),
                },
                duration_ms,
                call_id: str_of(obj, "tool_use_id"),
                error: None,
            },
            None => HookEvent::Ignored,
        },
        "PostToolUseFailure" => match shell_command() {
            Some(command) => {
                let error = str_of(obj, "error").unwrap_or_default();
                let interrupted = obj.get("is_interrupt").and_then(Value::as_bool) == Some(true);
                let exit = if interrupted {
                    130
                } else {
                    exit_code_in(&error).unwrap_or(1)
                };
                HookEvent::Command {
                    command,
                    exit: Some(exit),
                    duration_ms,
                    error: Some(error),
                    call_id: None,
                }
            }
            None => HookEvent::Ignored,
        },
        "Stop" => HookEvent::Stop {
            last_message: str_of(obj, "last_assistant_message"),
        },
        "SessionStart" => HookEvent::SessionStart,
        _ => HookEvent::Ignored,
    };
    Ok(HookPayload {
        session_id,
        cwd: str_of(obj, "cwd"),
        transcript: str_of(obj, "transcript_path"),
        event,
    })
}

fn agent_name(agent: Agent) -> &'static str {
    match agent {
        Agent::Claude => "Claude Code",
        Agent::Codex => "Codex",
    }
}

fn str_of(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key).and_then(Value::as_str).map(String::from)
}

/// The command of a shell tool's input: `command` (a string, or an argv whose last word
/// is the script of `bash -lc`), else `cmd`.
fn command_of(input: &Value) -> Option<String> {
    let c = input.get("command").or_else(|| input.get("cmd"))?;
    match c {
        Value::String(s) => Some(s.clone()),
        Value::Array(argv) => {
            let words: Vec<&str> = argv.iter().filter_map(Value::as_str).collect();
            match words.as_slice() {
                [sh, flag, script]
                    if flag.starts_with('-') && flag.contains('c') && !sh.is_empty() =>
                {
                    Some(script.to_string())
                }
                [] => None,
                w => Some(w.join(" ")),
            }
        }
        _ => None,
    }
}

/// The exit status in a Codex tool response: an object's `exit_code` (or
/// `metadata.exit_code`), the same in a JSON string, or `Exit code: N` in its text.
fn exit_in_response(resp: &Value) -> Option<i32> {
    let from_obj = |v: &Value| -> Option<i32> {
        ["exit_code", "exitCode", "exit_status", "status"]
            .iter()
            .find_map(|k| v.get(k).and_then(Value::as_i64))
            .or_else(|| v.get("metadata")?.get("exit_code")?.as_i64())
            .and_then(|c| i32::try_from(c).ok())
    };
    match resp {
        Value::Object(_) => from_obj(resp).or_else(|| {
            ["output", "stdout", "aggregated_output"]
                .iter()
                .find_map(|k| resp.get(k)?.as_str().and_then(exit_in_text))
        }),
        Value::String(s) => serde_json::from_str::<Value>(s)
            .ok()
            .filter(Value::is_object)
            .and_then(|v| exit_in_response(&v))
            .or_else(|| exit_in_text(s)),
        _ => None,
    }
}

/// A Codex tool call's exit status and duration, from its transcript (the session
/// file's `item_completed` event for the call). Codex may still be writing it when the
/// hook runs: a few short waits before giving up (then the status stays unknown), each
/// reading only what was appended since.
fn codex_call_end(transcript: &Path, call_id: &str) -> Option<(i32, Option<i64>)> {
    let mut read = 0;
    for _ in 0..20 {
        if let Some(found) = codex_call_end_after(transcript, call_id, &mut read) {
            return Some(found);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    None
}

/// The call's end in the transcript's lines from byte `from` on (the newest first);
/// `from` moves past the last whole line read.
fn codex_call_end_after(
    transcript: &Path,
    call_id: &str,
    from: &mut u64,
) -> Option<(i32, Option<i64>)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(transcript).ok()?;
    if file.metadata().ok()?.len() < *from {
        *from = 0; // rewritten: read it all again
    }
    file.seek(SeekFrom::Start(*from)).ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let found = codex_call_end_in(text, call_id);
    if let Some(end) = text.rfind('\n') {
        *from += end as u64 + 1;
    }
    found
}

/// The call's end in these transcript lines, the newest first (pure).
fn codex_call_end_in(text: &str, call_id: &str) -> Option<(i32, Option<i64>)> {
    let quoted = format!("\"{call_id}\"");
    text.lines()
        .rev()
        .filter(|l| l.contains(&quoted))
        .find_map(|line| {
            let v: Value = serde_json::from_str(line).ok()?;
            let item = v.get("payload")?.get("item")?;
            if item.get("id")?.as_str()? != call_id {
                return None;
            }
            let code = i32::try_from(item.get("exit_code")?.as_i64()?).ok()?;
            let ms = item.get("duration").and_then(|d| {
                let secs = d.get("secs")?.as_i64()?;
                let nanos = d.get("nanos").and_then(Value::as_i64).unwrap_or(0);
                Some(secs * 1000 + nanos / 1_000_000)
            });
            Some((code, ms))
        })
}

/// `Exit code: N` / `Process exited with code N` in a tool's text output.
fn exit_in_text(text: &str) -> Option<i32> {
    let lower = text.to_ascii_lowercase();
    for key in ["exit code", "exited with code"] {
        if let Some(at) = lower.find(key) {
            let digits: String = lower[at + key.len()..]
                .trim_start_matches([' ', ':'])
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(c) = digits.parse() {
                return Some(c);
            }
        }
    }
    None
}

/// The status in an error text like `Exit code 2` (Claude Code's Bash failures); never 0.
fn exit_code_in(error: &str) -> Option<i32> {
    exit_in_text(error).filter(|&c| c != 0)
}

/// The longest SessionStart context, in characters: Claude Code keeps 10,000.
pub const SESSION_START_MAX: usize = 9_999;

/// Act on a hook payload (Claude Code's, or Codex's `hooks.json`). Returns what to print
/// on stdout (the brief, for `SessionStart`), which the agent adds to its context.
pub fn on_hook(paths: &Paths, agent: Agent, payload: &str) -> Result<Option<String>> {
    let p = parse_hook(agent, payload)?;
    let ctx = IdContext::from_env(p.transcript.clone());
    match p.event {
        HookEvent::Ignored => Ok(None),
        HookEvent::Command {
            command,
            mut exit,
            mut duration_ms,
            error,
            call_id,
        } => {
            if agent == Agent::Codex && exit.is_none() {
                let found = p
                    .transcript
                    .as_deref()
                    .zip(call_id.as_deref())
                    .and_then(|(t, id)| codex_call_end(Path::new(t), id));
                if let Some((code, ms)) = found {
                    exit = Some(code);
                    duration_ms = duration_ms.or(ms);
                }
            }
            let dir = dir_or_current(p.cwd);
            let recorded = Recorded::open(paths);
            let session = super::session_for_dir(&recorded, &dir);
            let cmd = AgentCommand {
                schema: agent_journal::SCHEMA,
                agent: agent.as_str().to_string(),
                agent_session: p.session_id.clone(),
                command,
                cwd: dir.to_string_lossy().into_owned(),
                time_us: timefmt::now_us(),
                exit,
                duration_ms,
                error,
            };
            agent_journal::append(paths, &session, &cmd)?;
            remember_id(paths, &session, agent, &p.session_id, &dir, &ctx);
            Ok(None)
        }
        HookEvent::Stop { last_message } => {
            let cwd = dir_or_current(p.cwd);
            let recorded = Recorded::open(paths);
            let session = super::session_for_dir(&recorded, &cwd);
            remember_id(paths, &session, agent, &p.session_id, &cwd, &ctx);
            turn_done(paths, &recorded, agent, &cwd, last_message.as_deref())?;
            Ok(None)
        }
        HookEvent::SessionStart => {
            let cwd = dir_or_current(p.cwd);
            let recorded = Recorded::open(paths);
            let session = super::session_for_dir(&recorded, &cwd);
            remember_id(paths, &session, agent, &p.session_id, &cwd, &ctx);
            let brief = super::brief::build(paths, &recorded, &session, Some(&cwd));
            Ok(Some(super::brief::render_markdown_within(
                &brief,
                SESSION_START_MAX,
            )))
        }
    }
}

/// Act on a Codex `notify` payload (JSON as an argument): on `agent-turn-complete`,
/// remember the thread id and checkpoint with the turn's last message. Other events
/// are ignored.
pub fn codex_notify(paths: &Paths, payload: &str) -> Result<()> {
    let v: Value = serde_json::from_str(payload).context("the Codex notify payload is not JSON")?;
    if v.get("type").and_then(Value::as_str) != Some("agent-turn-complete") {
        return Ok(());
    }
    let cwd = dir_or_current(v.get("cwd").and_then(Value::as_str).map(String::from));
    let recorded = Recorded::open(paths);
    if let Some(thread) = v.get("thread-id").and_then(Value::as_str) {
        remember_id(
            paths,
            &super::session_for_dir(&recorded, &cwd),
            Agent::Codex,
            thread,
            &cwd,
            &IdContext::from_env(None),
        );
    }
    let last = v.get("last-assistant-message").and_then(Value::as_str);
    turn_done(paths, &recorded, Agent::Codex, &cwd, last)
}

/// Record the agent's conversation id for `session`, the session of `cwd` (per shell
/// and pane too); problems go to stderr.
fn remember_id(paths: &Paths, session: &str, agent: Agent, id: &str, cwd: &Path, ctx: &IdContext) {
    if let Err(e) = journal::record_id(paths, session, agent, id, &project(cwd), ctx) {
        eprintln!("snap: {e:#}");
    }
}

/// An automatic checkpoint at the end of a turn: its message is the agent's last
/// message, redacted; a snapshot that cannot be taken is a note, not a failure.
fn turn_done(
    paths: &Paths,
    recorded: &Recorded,
    agent: Agent,
    cwd: &Path,
    last_message: Option<&str>,
) -> Result<()> {
    let message = last_message
        .map(|m| redacted(paths, recorded, m))
        .filter(|m| !m.trim().is_empty());
    let label = format!("{}: turn done", agent.as_str());
    let out = super::checkpoint::run_labelled(
        paths,
        recorded,
        cwd,
        None,
        message.as_deref(),
        &label,
        Some(agent.as_str()),
    )?;
    if let super::checkpoint::Snapshot::Failed(e) = out.snapshot {
        eprintln!(
            "snap: checkpoint written to {}; snapshot failed: {e}",
            out.state_file.display()
        );
    }
    Ok(())
}

/// A text with its secrets hidden (the config's patterns and the secret values of the
/// live shells' environments). When the redactor cannot be built, the text is dropped.
fn redacted(paths: &Paths, recorded: &Recorded, text: &str) -> String {
    let redactor = crate::config::Config::load(&paths.config_in_force())
        .and_then(|cfg| crate::redact::Redactor::new(&cfg))
        .map(|mut r| {
            let live = recorded.shells(&Select::live());
            r.learn(live.iter().flat_map(|s| [&s.env_base, &s.env_now]));
            r
        });
    match redactor {
        Ok(r) => r.text(text).unwrap_or_else(|| text.to_string()),
        Err(e) => {
            eprintln!("snap: the agent's last message is not kept: {e:#}");
            String::new()
        }
    }
}

fn project(cwd: &Path) -> PathBuf {
    crate::session::project_dir(cwd)
}

/// The payload's directory when it exists, else this process's.
fn dir_or_current(cwd: Option<String>) -> PathBuf {
    cwd.map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.is_dir())
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(agent: Agent, payload: &str) -> HookEvent {
        parse_hook(agent, payload).unwrap().event
    }

    #[test]
    fn claude_payloads_of_each_event() {
        let done = r#"{"session_id":"s1","transcript_path":"/t.jsonl","cwd":"/p","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"npm test","description":"Run tests"},"tool_response":{"stdout":"ok","stderr":"","interrupted":false,"isImage":false},"duration_ms":1234}"#;
        let p = parse_hook(Agent::Claude, done).unwrap();
        assert_eq!(p.session_id, "s1");
        assert_eq!(p.cwd.as_deref(), Some("/p"));
        assert_eq!(p.transcript.as_deref(), Some("/t.jsonl"));
        assert_eq!(
            p.event,
            HookEvent::Command {
                command: "npm test".into(),
                exit: Some(0),
                duration_ms: Some(1234),
                error: None,
                call_id: None,
            }
        );
        let failed = r#"{"session_id":"s1","cwd":"/p","hook_event_name":"PostToolUseFailure","tool_name":"Bash","tool_input":{"command":"cargo test"},"tool_use_id":"t","error":"Exit code 101\nerror: test failed"}"#;
        match event(Agent::Claude, failed) {
            HookEvent::Command { exit, error, .. } => {
                assert_eq!(exit, Some(101));
                assert!(error.unwrap().contains("test failed"));
            }
            other => panic!("{other:?}"),
        }
        let edit = r#"{"session_id":"s1","hook_event_name":"PostToolUse","tool_name":"Edit","tool_input":{}}"#;
        assert_eq!(event(Agent::Claude, edit), HookEvent::Ignored);
        let other = r#"{"session_id":"s1","hook_event_name":"Notification"}"#;
        assert_eq!(event(Agent::Claude, other), HookEvent::Ignored);
        let start =
            r#"{"session_id":"s1","cwd":"/p","hook_event_name":"SessionStart","source":"resume"}"#;
        assert_eq!(event(Agent::Claude, start), HookEvent::SessionStart);
        let stop =
            r#"{"session_id":"s1","hook_event_name":"Stop","last_assistant_message":"All green."}"#;
        assert_eq!(
            event(Agent::Claude, stop),
            HookEvent::Stop {
                last_message: Some("All green.".into())
            }
        );
        assert!(parse_hook(Agent::Claude, "not json").is_err());
        assert!(parse_hook(Agent::Claude, r#"{"hook_event_name":"Stop"}"#).is_err());
    }

    #[test]
    fn codex_tool_calls_keep_their_status_and_never_guess_zero() {
        let call = |resp: &str| {
            format!(
                r#"{{"session_id":"th","cwd":"/p","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{{"command":"make check"}},"tool_response":{resp}}}"#
            )
        };
        let exit = |resp: &str| match event(Agent::Codex, &call(resp)) {
            HookEvent::Command { exit, command, .. } => {
                assert_eq!(command, "make check");
                exit
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(exit(r#"{"exit_code":3,"output":"x"}"#), Some(3));
        assert_eq!(exit(r#""{\"exit_code\":0}""#), Some(0));
        assert_eq!(exit(r#""Process exited with code 2\nboom""#), Some(2));
        assert_eq!(exit(r#""ok""#), None);
        assert_eq!(exit("null"), None);
        let argv = r#"{"session_id":"th","hook_event_name":"PostToolUse","tool_name":"exec_command","tool_input":{"command":["bash","-lc","ls -l"]}}"#;
        assert!(matches!(
            event(Agent::Codex, argv),
            HookEvent::Command { ref command, exit: None, .. } if command == "ls -l"
        ));
    }

    #[test]
    fn codex_status_is_read_from_its_transcript() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path().join("rollout.jsonl");
        let line = r#"{"type":"event_msg","payload":{"type":"item_completed","item":{"type":"CommandExecution","id":"call_1","exit_code":2,"duration":{"secs":1,"nanos":500000000}}}}"#;
        std::fs::write(&t, format!("{{}}\n{line}\n")).unwrap();
        assert_eq!(
            codex_call_end_after(&t, "call_1", &mut 0),
            Some((2, Some(1500)))
        );
        assert_eq!(codex_call_end_after(&t, "call_2", &mut 0), None);
    }

    #[test]
    fn codex_status_written_later_is_found_reading_only_what_was_appended() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path().join("rollout.jsonl");
        let line = r#"{"type":"event_msg","payload":{"type":"item_completed","item":{"type":"CommandExecution","id":"call_1","exit_code":2}}}"#;
        let (head, tail) = line.split_at(40);
        std::fs::write(&t, format!("{{}}\n{head}")).unwrap();
        let mut read = 0;
        assert_eq!(codex_call_end_after(&t, "call_1", &mut read), None);
        assert_eq!(read, 3, "past the last whole line only");
        let mut f = std::fs::OpenOptions::new().append(true).open(&t).unwrap();
        std::io::Write::write_all(&mut f, format!("{tail}\n").as_bytes()).unwrap();
        assert_eq!(
            codex_call_end_after(&t, "call_1", &mut read),
            Some((2, None))
        );
        assert_eq!(read, 4 + line.len() as u64);
    }

    #[test]
    fn exit_codes_from_error_text() {
        assert_eq!(exit_code_in("Exit code 2\nls: cannot access"), Some(2));
        assert_eq!(
            exit_code_in("Command failed with exit code: 127"),
            Some(127)
        );
        assert_eq!(exit_code_in("timed out"), None);
        assert_eq!(exit_code_in("exit code 0"), None);
    }
}
