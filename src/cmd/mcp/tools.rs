//! Each tool: its arguments checked, the core function its CLI command uses called, and
//! the answer made fit for an agent: redacted as if under one (whatever the
//! environment says), and no control character raw.

use super::args::{self, Format, Step, Tool};
use super::query::{self, HistoryQuery};
use crate::agent::checkpoint::Snapshot;
use crate::agent::{self, brief};
use crate::cli::TaskFileArg;
use crate::config::Config;
use crate::redact::Redactor;
use crate::store::paths::Paths;
use crate::store::shells::{self, ShellState};
use serde_json::{Map, Value};
use std::path::Path;

/// A tool's answer: one text, and whether it reports an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub text: String,
    pub is_error: bool,
}

/// What a tool produced, before it is made safe.
enum Out {
    Text(String),
    Json(Value),
}

/// Call `tool` with `args` for the project in `start` (or the one `dir` names).
pub fn call(start: &Path, tool: Tool, args: Option<Map<String, Value>>) -> Reply {
    let paths = match Paths::from_env() {
        Ok(p) => p,
        Err(e) => return finish(Err(format!("{e:#}")), &fallback_redactor()),
    };
    let all = shells::load_all(&paths);
    let redactor = match agent_redactor(&paths, &all) {
        Ok(r) => r,
        Err(e) => return finish(Err(e), &fallback_redactor()),
    };
    let out = run(&paths, all, &redactor, start, tool, args);
    finish(out, &redactor.1)
}

/// Run one tool.
fn run(
    paths: &Paths,
    all: Vec<ShellState>,
    redactor: &(Config, Redactor),
    start: &Path,
    tool: Tool,
    args: Option<Map<String, Value>>,
) -> Result<Out, String> {
    let no_file = TaskFileArg { file: None };
    let failed = |e: anyhow::Error| format!("{e:#}");
    match tool {
        Tool::Brief => {
            let (dir, a): (_, args::BriefArgs) = args::parse(args, start)?;
            let session = session_of(&all, start, &dir);
            let b = brief::build(paths, &all, &session, Some(&dir));
            Ok(match a.format {
                Format::Text => Out::Text(brief::render_text(&b)),
                Format::Markdown => Out::Text(brief::render_markdown(&b)),
                Format::Json => {
                    let json = brief::render_json(&b).map_err(|e| e.to_string())?;
                    Out::Json(serde_json::from_str(&json).map_err(|e| e.to_string())?)
                }
            })
        }
        Tool::Checkpoint => {
            let (dir, a): (_, args::CheckpointArgs) = args::parse(args, start)?;
            if a.message.trim().is_empty() {
                return Err("message: say what was just done (it is empty)".into());
            }
            checkpoint(paths, &dir, &a.message).map(Out::Text)
        }
        Tool::TaskSet => {
            let (dir, a): (_, args::TaskSetArgs) = args::parse(args, start)?;
            crate::cmd::task::set(&dir, &no_file, &a.task)
                .map(Out::Text)
                .map_err(failed)
        }
        Tool::TaskNext => {
            let (dir, a): (_, args::TaskNextArgs) = args::parse(args, start)?;
            if a.steps.is_empty() {
                return Err("steps: give at least one step".into());
            }
            crate::cmd::task::next(&dir, &no_file, &a.steps)
                .map(Out::Text)
                .map_err(failed)
        }
        Tool::TaskDone => {
            let (dir, a): (_, args::TaskDoneArgs) = args::parse(args, start)?;
            let given = match a.step()? {
                Step::Number(n) => n.to_string(),
                Step::Text(t) => t,
            };
            crate::cmd::task::done(&dir, &no_file, &given)
                .map(Out::Text)
                .map_err(failed)
        }
        Tool::History => {
            let (dir, a): (_, args::HistoryArgs) = args::parse(args, start)?;
            let q = history_query(&all, start, &dir, a)?;
            let records = query::history(paths, redactor, &q).map_err(failed)?;
            serde_json::to_value(records)
                .map(Out::Json)
                .map_err(|e| e.to_string())
        }
        Tool::Sessions => {
            let (_, a): (_, args::SessionsArgs) = args::parse(args, start)?;
            let sessions = query::sessions(all, a.all, &redactor.1, crate::timefmt::now_us());
            serde_json::to_value(sessions)
                .map(Out::Json)
                .map_err(|e| e.to_string())
        }
    }
}

/// The session a tool acts on: for the start directory, the one `snap brief` would
/// pick there (the hooked shell's, else the project's); for another `dir`, its project's.
fn session_of(all: &[ShellState], start: &Path, dir: &Path) -> String {
    if dir == start {
        agent::session_for_dir(all, dir)
    } else {
        agent::project_session(all, dir)
    }
}

/// `history`'s arguments as a query.
fn history_query(
    all: &[ShellState],
    start: &Path,
    dir: &Path,
    a: args::HistoryArgs,
) -> Result<HistoryQuery, String> {
    if a.all && a.session.is_some() {
        return Err("session and all: give one or the other".into());
    }
    let limit = match a.n {
        Some(0) => return Err("n: must be 1 or more".into()),
        Some(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        None => None,
    };
    let session = match (a.all, a.session) {
        (true, _) => None,
        (false, Some(s)) => Some(crate::session::normalize(&s)),
        (false, None) => Some(session_of(all, start, dir)),
    };
    Ok(HistoryQuery {
        session,
        limit,
        failed: a.failed,
        search: a.search,
        cwd: a
            .cwd
            .map(|c| crate::store::agent_state::normalize(&dir.join(c))),
    })
}

/// A checkpoint, said as `snap checkpoint` says it; a failed snapshot is an error.
fn checkpoint(paths: &Paths, dir: &Path, message: &str) -> Result<String, String> {
    let out =
        agent::checkpoint::run(paths, dir, None, Some(message)).map_err(|e| format!("{e:#}"))?;
    let head = format!(
        "checkpoint {}: {} file(s) in progress  ({})",
        out.at,
        out.files.len(),
        out.state_file.display()
    );
    match out.snapshot {
        Snapshot::Taken(id) => Ok(format!("{head}\nsnapshot {id} of session {}", out.session)),
        Snapshot::Skipped(why) => Ok(format!("{head}\nnote: no snapshot taken: {why}")),
        Snapshot::Failed(e) => Err(format!(
            "{head}\nthe state file was updated, but the snapshot of session {} failed: {e}",
            out.session
        )),
    }
}

/// The config (for its filters) and a redactor that knows these shells' secrets.
fn agent_redactor(paths: &Paths, all: &[ShellState]) -> Result<(Config, Redactor), String> {
    let cfg = Config::load(&paths.config_in_force()).map_err(|e| format!("{e:#}"))?;
    let mut r = Redactor::new(&cfg).map_err(|e| format!("{e:#}"))?;
    r.learn(all.iter().flat_map(|s| [&s.env_base, &s.env_now]));
    Ok((cfg, r))
}

/// The built-in patterns, for an error said before the config could be read.
fn fallback_redactor() -> Redactor {
    Redactor::new(&Config::default()).expect("the built-in secret patterns compile")
}

/// Redact and sanitise what a tool produced (errors too: they may quote arguments).
fn finish(out: Result<Out, String>, r: &Redactor) -> Reply {
    let text = |s: String| crate::text::safe(&r.text(&s).unwrap_or(s));
    match out {
        Ok(Out::Text(t)) => Reply {
            text: text(t),
            is_error: false,
        },
        Ok(Out::Json(mut v)) => {
            r.json(&mut v);
            match crate::text::json_pretty(&v) {
                Ok(t) => Reply {
                    text: t,
                    is_error: false,
                },
                Err(e) => Reply {
                    text: text(e.to_string()),
                    is_error: true,
                },
            }
        }
        Err(e) => Reply {
            text: text(e),
            is_error: true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_answer_is_redacted_and_free_of_controls() {
        let r = fallback_redactor();
        let secret = "ghp_abcdefghijklmnopqrstuvwxyz0123";
        for out in [
            Ok(Out::Text(format!("push {secret}\x1b]0;t\x07"))),
            Err(format!("no step {secret:?}\x1b[2J")),
        ] {
            let reply = finish(out, &r);
            assert!(!reply.text.contains(secret), "{reply:?}");
            assert!(
                !reply.text.chars().any(crate::text::is_forbidden),
                "{reply:?}"
            );
        }
        let reply = finish(
            Ok(Out::Json(
                serde_json::json!({"c": format!("{secret}\u{9b}"), "API_TOKEN": "x1"}),
            )),
            &r,
        );
        assert!(!reply.is_error);
        assert!(
            !reply.text.contains(secret) && !reply.text.contains("x1"),
            "{}",
            reply.text
        );
        assert!(!reply.text.chars().any(crate::text::is_forbidden));
        let v: Value = serde_json::from_str(&reply.text).unwrap();
        assert_eq!(v["API_TOKEN"], "[redacted]");
    }
}
