//! Coding-agent hook payloads: Claude Code (JSON on stdin) and Codex (`notify`: JSON as
//! an argument), turned into agent commands, checkpoints and recorded conversation ids.

use super::journal::{self, AgentCommand};
use crate::store::paths::Paths;
use crate::store::shells;
use crate::timefmt;
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What a Claude Code payload asks of snap.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaudeEvent {
    /// A Bash tool call succeeded (`PostToolUse`).
    BashDone {
        session_id: String,
        cwd: Option<String>,
        command: String,
    },
    /// A Bash tool call failed (`PostToolUseFailure`).
    BashFailed {
        session_id: String,
        cwd: Option<String>,
        command: String,
        error: String,
        exit: i32,
    },
    /// The agent finished a turn (`Stop`): checkpoint.
    Stop {
        session_id: String,
        cwd: Option<String>,
    },
    /// A session started or resumed (`SessionStart`): record its id, print the brief.
    SessionStart {
        session_id: String,
        cwd: Option<String>,
    },
    /// Anything else: nothing to do.
    Ignored,
}

/// Parse a Claude Code hook payload (pure). Unknown events and tools are `Ignored`.
pub fn parse_claude(payload: &str) -> Result<ClaudeEvent> {
    let v: Value = serde_json::from_str(payload)
        .context("the Claude Code hook payload on stdin is not JSON")?;
    let Some(obj) = v.as_object() else {
        bail!("the Claude Code hook payload is not a JSON object");
    };
    let event = obj
        .get("hook_event_name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let cwd = obj.get("cwd").and_then(Value::as_str).map(String::from);
    let session_id = || -> Result<String> {
        obj.get("session_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .with_context(|| format!("the {event} payload has no session_id"))
    };
    let bash_command = || -> Option<String> {
        if obj.get("tool_name").and_then(Value::as_str) != Some("Bash") {
            return None;
        }
        obj.get("tool_input")
            .and_then(|i| i.get("command"))
            .and_then(Value::as_str)
            .map(String::from)
    };
    Ok(match event {
        "PostToolUse" => match bash_command() {
            Some(command) => ClaudeEvent::BashDone {
                session_id: session_id()?,
                cwd,
                command,
            },
            None => ClaudeEvent::Ignored,
        },
        "PostToolUseFailure" => match bash_command() {
            Some(command) => {
                let error = obj
                    .get("error")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let interrupted = obj.get("is_interrupt").and_then(Value::as_bool) == Some(true);
                let exit = if interrupted {
                    130
                } else {
                    exit_code_in(&error).unwrap_or(1)
                };
                ClaudeEvent::BashFailed {
                    session_id: session_id()?,
                    cwd,
                    command,
                    error,
                    exit,
                }
            }
            None => ClaudeEvent::Ignored,
        },
        "Stop" => ClaudeEvent::Stop {
            session_id: session_id()?,
            cwd,
        },
        "SessionStart" => ClaudeEvent::SessionStart {
            session_id: session_id()?,
            cwd,
        },
        _ => ClaudeEvent::Ignored,
    })
}

/// The status in an error text like `Exit code 2` (Claude Code's Bash failures).
fn exit_code_in(error: &str) -> Option<i32> {
    let lower = error.to_ascii_lowercase();
    let at = lower.find("exit code")? + "exit code".len();
    let digits: String = lower[at..]
        .trim_start_matches([' ', ':'])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok().filter(|&c| c != 0)
}

/// Act on a Claude Code payload. Returns what to print on stdout (the brief, for
/// `SessionStart`), which Claude Code adds to the agent's context.
pub fn claude(paths: &Paths, payload: &str) -> Result<Option<String>> {
    match parse_claude(payload)? {
        ClaudeEvent::Ignored => Ok(None),
        ClaudeEvent::BashDone {
            session_id,
            cwd,
            command,
        } => {
            record_command(paths, "claude", &session_id, cwd, command, 0, None)?;
            Ok(None)
        }
        ClaudeEvent::BashFailed {
            session_id,
            cwd,
            command,
            error,
            exit,
        } => {
            record_command(
                paths,
                "claude",
                &session_id,
                cwd,
                command,
                exit,
                Some(error),
            )?;
            Ok(None)
        }
        ClaudeEvent::Stop { session_id, cwd } => {
            let cwd = dir_or_current(cwd);
            remember_id(paths, "claude", &session_id, &cwd);
            checkpoint(paths, &cwd, "claude: turn done")?;
            Ok(None)
        }
        ClaudeEvent::SessionStart { session_id, cwd } => {
            let cwd = dir_or_current(cwd);
            let all = shells::load_all(paths);
            let session = super::session_for_dir(&all, &cwd);
            if let Err(e) =
                journal::record_id(paths, &session, "claude", &session_id, &project(&cwd))
            {
                eprintln!("snap: {e:#}");
            }
            let brief = super::brief::build(paths, &all, &session, Some(&cwd));
            Ok(Some(super::brief::render_markdown(&brief)))
        }
    }
}

/// Act on a Codex `notify` payload: on `agent-turn-complete`, checkpoint and remember
/// the thread id. Other events are ignored.
pub fn codex(paths: &Paths, payload: &str) -> Result<()> {
    let v: Value = serde_json::from_str(payload).context("the Codex notify payload is not JSON")?;
    if v.get("type").and_then(Value::as_str) != Some("agent-turn-complete") {
        return Ok(());
    }
    let cwd = dir_or_current(v.get("cwd").and_then(Value::as_str).map(String::from));
    if let Some(thread) = v.get("thread-id").and_then(Value::as_str) {
        remember_id(paths, "codex", thread, &cwd);
    }
    checkpoint(paths, &cwd, "codex: turn done")
}

/// Append an agent command to its session's agent journal.
fn record_command(
    paths: &Paths,
    agent: &str,
    session_id: &str,
    cwd: Option<String>,
    command: String,
    exit: i32,
    error: Option<String>,
) -> Result<()> {
    let dir = dir_or_current(cwd);
    let all = shells::load_all(paths);
    let session = super::session_for_dir(&all, &dir);
    let cmd = AgentCommand {
        schema: journal::SCHEMA,
        agent: agent.to_string(),
        agent_session: session_id.to_string(),
        command,
        cwd: dir.to_string_lossy().into_owned(),
        time_us: timefmt::now_us(),
        exit: Some(exit),
        duration_ms: None,
        error,
    };
    journal::append(paths, &session, &cmd)?;
    if let Err(e) = journal::record_id(paths, &session, agent, session_id, &project(&dir)) {
        eprintln!("snap: {e:#}");
    }
    Ok(())
}

/// Record the agent's conversation id for the session of `cwd`; problems go to stderr.
fn remember_id(paths: &Paths, agent: &str, id: &str, cwd: &Path) {
    let all = shells::load_all(paths);
    let session = super::session_for_dir(&all, cwd);
    if let Err(e) = journal::record_id(paths, &session, agent, id, &project(cwd)) {
        eprintln!("snap: {e:#}");
    }
}

/// A checkpoint from a hook: a snapshot that cannot be taken is a note, not a failure.
fn checkpoint(paths: &Paths, cwd: &Path, label: &str) -> Result<()> {
    let out = super::checkpoint::run(paths, cwd, None, Some(label))?;
    if let super::checkpoint::Snapshot::Failed(e) = out.snapshot {
        eprintln!(
            "snap: checkpoint written to {}; snapshot failed: {e}",
            out.state_file.display()
        );
    }
    Ok(())
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

    #[test]
    fn claude_payloads_of_each_event() {
        let done = r#"{"session_id":"s1","transcript_path":"/t.jsonl","cwd":"/p","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"npm test","description":"Run tests"},"tool_response":{"stdout":"ok","stderr":"","interrupted":false,"isImage":false}}"#;
        assert_eq!(
            parse_claude(done).unwrap(),
            ClaudeEvent::BashDone {
                session_id: "s1".into(),
                cwd: Some("/p".into()),
                command: "npm test".into()
            }
        );
        let failed = r#"{"session_id":"s1","cwd":"/p","hook_event_name":"PostToolUseFailure","tool_name":"Bash","tool_input":{"command":"cargo test"},"tool_use_id":"t","error":"Exit code 101\nerror: test failed"}"#;
        match parse_claude(failed).unwrap() {
            ClaudeEvent::BashFailed { exit, error, .. } => {
                assert_eq!(exit, 101);
                assert!(error.contains("test failed"));
            }
            other => panic!("{other:?}"),
        }
        let edit = r#"{"session_id":"s1","hook_event_name":"PostToolUse","tool_name":"Edit","tool_input":{}}"#;
        assert_eq!(parse_claude(edit).unwrap(), ClaudeEvent::Ignored);
        let other = r#"{"session_id":"s1","hook_event_name":"Notification"}"#;
        assert_eq!(parse_claude(other).unwrap(), ClaudeEvent::Ignored);
        let start =
            r#"{"session_id":"s1","cwd":"/p","hook_event_name":"SessionStart","source":"resume"}"#;
        assert!(matches!(
            parse_claude(start).unwrap(),
            ClaudeEvent::SessionStart { .. }
        ));
        assert!(parse_claude("not json").is_err());
        assert!(parse_claude(r#"{"hook_event_name":"Stop"}"#).is_err());
    }

    #[test]
    fn exit_codes_from_error_text() {
        assert_eq!(exit_code_in("Exit code 2\nls: cannot access"), Some(2));
        assert_eq!(
            exit_code_in("Command failed with exit code: 127"),
            Some(127)
        );
        assert_eq!(exit_code_in("timed out"), None);
    }
}
