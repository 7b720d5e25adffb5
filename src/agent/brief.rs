//! The resume brief: where a session left off, for a person (text) or a coding agent
//! (markdown, JSON). Built from the agent state file, git, the shells' journals, the
//! agent journal and, for the last failure's output, the newest snapshot that saved it.
//! A brief leaves the store for a screen or an agent: it is redacted as snapshots are
//! (the config's `history_filter` and `cwd_filter` too), and rendered without control
//! characters.

use super::{git, state};
use crate::config::Config;
use crate::model::{CommandRecord, Ended};
use crate::redact::Redactor;
use crate::store::agent_journal;
use crate::store::index::query::{self, Filter};
use crate::store::paths::Paths;
use crate::store::recorded::{Recorded, Select};
use crate::store::shells::{self, ShellState};
use crate::timefmt;
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// How many of the last commands a brief lists.
pub const LAST_COMMANDS: usize = 10;
/// How many lines of a failure's output a brief shows.
pub const TAIL_LINES: usize = 15;

/// The resume brief of one session.
#[derive(Debug, Clone, Serialize)]
pub struct Brief {
    pub session: String,
    /// RFC 3339.
    pub generated_at: String,
    /// The project root, when known.
    pub project: Option<String>,
    pub git_branch: Option<String>,
    /// The agent state file, when there is one.
    pub state_file: Option<String>,
    /// The agent state as stored (every field, unknown ones included), or null.
    pub agent: Option<Value>,
    pub current_task: Option<String>,
    pub next_steps: Vec<String>,
    pub files_in_progress: Vec<FileEntry>,
    pub environment: Option<String>,
    pub last_checkpoint: Option<String>,
    /// Seconds since `last_checkpoint`.
    pub since_checkpoint_seconds: Option<i64>,
    /// The last commands of the session's shells and agents, oldest first.
    pub last_commands: Vec<CommandRecord>,
    pub last_failure: Option<Failure>,
    /// Commands in the foreground of the session's shells.
    pub running: Vec<Running>,
    /// Commands that resume the agents' conversations (`claude --resume <id>`, …).
    pub resume: Vec<String>,
    /// What could not be read.
    pub warnings: Vec<String>,
}

/// A file in progress and what git says of it.
#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    pub path: String,
    /// `modified`, `added`, `untracked`, `deleted`, `renamed`, …, `clean`, `missing`,
    /// or `unknown` (not a git work tree).
    pub git: String,
}

/// The last failing command, with the tail of its output when one was saved.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    #[serde(flatten)]
    pub command: CommandRecord,
    /// The last lines of its pane's screen (saved by a snapshot) or of the agent's error.
    pub output_tail: Option<String>,
    /// `screen` or `error`.
    pub output_from: Option<String>,
    /// The same command succeeded afterwards.
    pub succeeded_later: bool,
}

/// A command running in a shell of the session.
#[derive(Debug, Clone, Serialize)]
pub struct Running {
    pub shell_id: String,
    pub command: String,
    pub cwd: String,
    pub started_at: String,
    /// Whether its shell is alive now.
    pub alive: bool,
}

/// How many of the session's newest commands a brief reads (the last ones, the last
/// failure and what came after it are found among them).
pub const LOOK_BACK: usize = 1000;

/// Build the brief of `session`, redacted. `cwd` is used for the project when the
/// session has no recorded one.
pub fn build(paths: &Paths, recorded: &Recorded, session: &str, cwd: Option<&Path>) -> Brief {
    let mut warnings = Vec::new();
    let cfg = Config::load(&paths.config_in_force()).unwrap_or_else(|e| {
        warnings.push(format!(
            "{e:#}: secrets are hidden with the built-in patterns only, no command is filtered"
        ));
        Config::default()
    });
    let mut redactor = Redactor::new(&cfg).unwrap_or_else(|e| {
        warnings.push(format!(
            "{e:#}: secrets are hidden with the built-in patterns only"
        ));
        Redactor::new(&Config::default()).expect("the built-in secret patterns compile")
    });
    let shells = recorded.shells(&recorded.recent().in_session(session).with_lineage());
    let commands = session_commands(paths, recorded, session);
    // The secrets of every shell whose commands the brief may show, and of the shells
    // it lists.
    let ids = commands.iter().map(|(_, r)| r.shell_id.as_str());
    redactor.learn(&recorded.envs(ids));
    redactor.learn(shells.iter().flat_map(|s| [&s.env_base, &s.env_now]));
    let project = super::session_project(paths, &recorded.projects(), session);
    let mut b = gather(paths, &cfg, project, &shells, commands, session, cwd, warnings);
    redact(&mut b, &redactor);
    b
}

/// The session's newest [`LOOK_BACK`] commands, its shells' and its agents', oldest
/// first, with their start (µs).
fn session_commands(paths: &Paths, recorded: &Recorded, session: &str) -> Vec<(i64, CommandRecord)> {
    if let Some(ix) = recorded.index() {
        let filter = Filter {
            session: Some(session.to_string()),
            limit: Some(LOOK_BACK),
            ..Filter::default()
        };
        match query::history(ix, &filter) {
            Ok(records) => {
                return records
                    .into_iter()
                    .map(|r| (timefmt::parse_us(&r.started_at).unwrap_or(0), r))
                    .collect()
            }
            Err(e) => eprintln!("snap: {}: {e:#}: reading the journals instead", ix.path().display()),
        }
    }
    let shells = recorded.shells(&Select::all().in_session(session));
    let mut commands: Vec<(i64, CommandRecord)> = shells
        .iter()
        .filter(|s| s.meta.session == session)
        .flat_map(|s| {
            s.commands
                .iter()
                .map(|c| c.started_us)
                .zip(s.history())
                .collect::<Vec<_>>()
        })
        .collect();
    let agent_cmds = agent_journal::read(paths, session);
    commands.extend(agent_cmds.iter().map(|c| (c.time_us, c.to_record(session))));
    commands.sort_by_key(|(t, _)| *t);
    let skip = commands.len().saturating_sub(LOOK_BACK);
    commands.drain(..skip);
    commands
}

/// Everything a brief says, as recorded (filtered, not yet redacted): `shells` are the
/// session's (those `snap sessions` lists), `commands` its newest ones.
#[allow(clippy::too_many_arguments)]
fn gather(
    paths: &Paths,
    cfg: &Config,
    project: Option<PathBuf>,
    shells: &[ShellState],
    mut commands: Vec<(i64, CommandRecord)>,
    session: &str,
    cwd: Option<&Path>,
    mut warnings: Vec<String>,
) -> Brief {
    let now = timefmt::now_us();
    let project = project.or_else(|| cwd.map(crate::session::project_dir));

    let mut agent_state = None;
    if let Some(p) = &project {
        let (path, root) = state::locate(p, None);
        match state::AgentState::load(&path, &root) {
            Ok(s) if s.existed => agent_state = Some(s.bounded()),
            Ok(_) => {}
            Err(e) => warnings.push(format!("{e:#}")),
        }
    }
    let git_status = project.as_deref().and_then(git::status);

    let files = agent_state
        .as_ref()
        .map(|s| file_entries(s, git_status.as_ref()))
        .unwrap_or_default();

    let session_shells: Vec<&ShellState> =
        shells.iter().filter(|s| s.meta.session == session).collect();
    commands.retain(|(_, r)| cfg.keeps_command(&r.command, &r.cwd));

    let last_failure = last_failure(paths, &commands);
    let running = running(&session_shells)
        .into_iter()
        .filter(|(_, c)| cfg.keeps_command(&c.text, &c.cwd))
        .map(|(s, c)| Running {
            shell_id: s.meta.id.clone(),
            command: c.text.clone(),
            cwd: c.cwd.clone(),
            started_at: timefmt::rfc3339_us(c.started_us),
            alive: s.alive,
        })
        .collect();
    let skip = commands.len().saturating_sub(LAST_COMMANDS);
    let last_commands = commands.into_iter().skip(skip).map(|(_, r)| r).collect();
    let resume = ["claude", "codex"]
        .iter()
        .filter_map(|a| super::resume_line(paths, session, a))
        .collect();

    let last_checkpoint = agent_state
        .as_ref()
        .and_then(|s| s.last_checkpoint().map(String::from));
    Brief {
        session: session.to_string(),
        generated_at: timefmt::rfc3339_us(now),
        project: project.map(|p| p.to_string_lossy().into_owned()),
        git_branch: git_status.as_ref().and_then(|g| g.branch.clone()),
        state_file: agent_state
            .as_ref()
            .map(|s| s.path.to_string_lossy().into_owned()),
        agent: agent_state.as_ref().map(|s| Value::Object(s.doc.clone())),
        current_task: agent_state
            .as_ref()
            .and_then(|s| s.current_task().map(String::from)),
        next_steps: agent_state
            .as_ref()
            .map(|s| s.next_steps())
            .unwrap_or_default(),
        files_in_progress: files,
        environment: agent_state
            .as_ref()
            .and_then(|s| s.environment().map(String::from)),
        since_checkpoint_seconds: last_checkpoint
            .as_deref()
            .and_then(timefmt::parse_us)
            .map(|t| (now - t).max(0) / 1_000_000),
        last_checkpoint,
        last_commands,
        last_failure,
        running,
        resume,
        warnings,
    }
}

/// What runs now in the session's shells and, once per lineage, what was running when
/// its shell went away: a shell a restore replaced is its successor's past (what restore
/// ran again is that same command), and a restored shell that ran nothing yet (its held
/// command waits) stands for what the shell before it ran.
fn running<'a>(shells: &[&'a ShellState]) -> Vec<(&'a ShellState, &'a shells::Command)> {
    let by_id: HashMap<&str, &ShellState> =
        shells.iter().map(|s| (s.meta.id.as_str(), *s)).collect();
    let replaced: HashSet<&str> = shells
        .iter()
        .filter_map(|s| s.meta.replaces.as_deref())
        .collect();
    shells
        .iter()
        .filter(|s| !replaced.contains(s.meta.id.as_str()))
        .filter_map(|newest| {
            let mut seen = HashSet::new();
            let mut s = *newest;
            loop {
                if let Some(c) = s.running() {
                    return Some((s, c));
                }
                if !s.commands.is_empty() || s.ended == Some(Ended::Exit) {
                    return None;
                }
                seen.insert(s.meta.id.as_str());
                s = by_id
                    .get(s.meta.replaces.as_deref()?)
                    .filter(|p| !seen.contains(p.meta.id.as_str()))?;
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "brief_running_tests.rs"]
mod running_tests;

/// The latest checkpoint's message, from the (already redacted) agent state.
fn checkpoint_message(b: &Brief) -> Option<&str> {
    super::checkpoint::latest_message(b.agent.as_ref()?.as_object()?)
}

/// Hide the secrets of every text of a brief, as a snapshot's are hidden.
fn redact(b: &mut Brief, r: &Redactor) {
    let hide = |s: &mut String| {
        if let Some(t) = r.text(s) {
            *s = t;
        }
    };
    let record = |c: &mut CommandRecord| {
        hide(&mut c.command);
        hide(&mut c.cwd);
        c.error.iter_mut().for_each(hide);
    };
    hide(&mut b.session);
    let optional = [
        &mut b.project,
        &mut b.git_branch,
        &mut b.state_file,
        &mut b.current_task,
        &mut b.environment,
        &mut b.last_checkpoint,
    ];
    optional.into_iter().flatten().for_each(hide);
    if let Some(agent) = b.agent.as_mut() {
        r.json(agent);
    }
    b.next_steps.iter_mut().for_each(hide);
    b.files_in_progress
        .iter_mut()
        .for_each(|f| hide(&mut f.path));
    b.last_commands.iter_mut().for_each(record);
    if let Some(f) = b.last_failure.as_mut() {
        record(&mut f.command);
        f.output_tail.iter_mut().for_each(hide);
    }
    for run in &mut b.running {
        hide(&mut run.command);
        hide(&mut run.cwd);
    }
    b.resume.iter_mut().for_each(hide);
    b.warnings.iter_mut().for_each(hide);
}

/// The brief as JSON, for a coding agent (no control character raw).
pub fn render_json(b: &Brief) -> serde_json::Result<String> {
    crate::text::json_pretty(b)
}

/// Files in progress with git's word for each.
fn file_entries(st: &state::AgentState, status: Option<&git::Status>) -> Vec<FileEntry> {
    let by_path = status.map(|s| s.by_path()).unwrap_or_default();
    st.files_in_progress()
        .into_iter()
        .map(|path| {
            let git = match (status, by_path.get(path.as_str())) {
                (None, _) => "unknown".to_string(),
                (Some(_), Some(s)) => s.as_str().to_string(),
                (Some(_), None) if st.root.join(&path).exists() => "clean".to_string(),
                (Some(_), None) => "missing".to_string(),
            };
            FileEntry { path, git }
        })
        .collect()
}

/// Does this exit status count as a failure? (Ctrl-C, 130, is a stop, not a failure.)
fn is_failure(exit: Option<i32>) -> bool {
    matches!(exit, Some(e) if e != 0 && e != 130)
}

/// The last failing command (oldest-first list), with the tail of its output.
fn last_failure(paths: &Paths, commands: &[(i64, CommandRecord)]) -> Option<Failure> {
    let idx = commands.iter().rposition(|(_, r)| is_failure(r.exit))?;
    let (started_us, record) = &commands[idx];
    let succeeded_later = commands[idx + 1..]
        .iter()
        .any(|(_, r)| r.command == record.command && r.exit == Some(0));
    let (output_tail, output_from) = if record.source == "agent" {
        let err = record.error.clone().filter(|e| !e.trim().is_empty());
        (err.map(|e| tail(&e)), Some("error".to_string()))
    } else {
        (
            screen_tail(paths, &record.shell_id, *started_us),
            Some("screen".to_string()),
        )
    };
    let output_from = output_tail.as_ref().and(output_from);
    Some(Failure {
        command: record.clone(),
        output_tail,
        output_from,
        succeeded_later,
    })
}

/// The last lines of a text, trailing blank lines dropped.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let skip = lines.len().saturating_sub(TAIL_LINES);
    lines[skip..].join("\n")
}

/// The tail of the screen a snapshot taken after `since_us` saved for `shell_id`: the
/// newest such snapshot first; damaged files are named on stderr and skipped.
fn screen_tail(paths: &Paths, shell_id: &str, since_us: i64) -> Option<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(paths.snapshots())
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    for file in files.iter().rev() {
        let value: Value = match std::fs::read(file)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(v) => v,
            Err(e) => {
                eprintln!("snap: {}: not a snapshot ({e}): skipped", file.display());
                continue;
            }
        };
        let taken = value
            .get("taken_at")
            .and_then(Value::as_str)
            .and_then(timefmt::parse_us);
        // Older snapshots cannot show this command (taken_at may be whole seconds).
        if taken.is_some_and(|t| t + 999_999 < since_us) {
            break;
        }
        let shells = value
            .get("sessions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("shells").and_then(Value::as_array))
            .flatten();
        for sh in shells {
            if sh.get("id").and_then(Value::as_str) != Some(shell_id) {
                continue;
            }
            let screen = match sh.get("screen") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(lines)) => lines
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("\n"),
                _ => continue,
            };
            if !screen.trim().is_empty() {
                return Some(tail(&screen));
            }
        }
    }
    None
}

/// The brief for a person, every control character escaped visibly.
pub fn render_text(b: &Brief) -> String {
    crate::text::safe(&text(b))
}

/// The brief for a person, as recorded.
fn text(b: &Brief) -> String {
    let now = timefmt::parse_us(&b.generated_at).unwrap_or_else(timefmt::now_us);
    let mut out = String::new();
    let _ = write!(out, "Session {}", b.session);
    if let Some(p) = &b.project {
        let _ = write!(out, "  ({p}");
        if let Some(br) = &b.git_branch {
            let _ = write!(out, ", branch {br}");
        }
        out.push(')');
    }
    out.push('\n');
    match &b.current_task {
        Some(t) => {
            let _ = writeln!(out, "Task: {t}");
        }
        None if b.state_file.is_none() => {
            let _ = writeln!(out, "Task: none recorded (snap task set TEXT)");
        }
        None => {
            let _ = writeln!(out, "Task: none");
        }
    }
    if !b.next_steps.is_empty() {
        out.push_str("Next steps:\n");
        for (i, s) in b.next_steps.iter().enumerate() {
            let _ = writeln!(out, "  {}. {s}", i + 1);
        }
    }
    if let Some(c) = &b.last_checkpoint {
        let _ = writeln!(out, "Last checkpoint: {c}{}", ago(c, now));
    }
    if let Some(m) = checkpoint_message(b) {
        let _ = writeln!(out, "Checkpoint message: {}", crate::text::safe(m));
    }
    if !b.files_in_progress.is_empty() {
        out.push_str("Files in progress:\n");
        for f in &b.files_in_progress {
            let _ = writeln!(out, "  {:<10} {}", f.git, f.path);
        }
    }
    if !b.last_commands.is_empty() {
        out.push_str("Last commands:\n");
        for r in &b.last_commands {
            let exit = r.exit.map_or("…".to_string(), |e| e.to_string());
            let _ = writeln!(
                out,
                "  {}  {:>4}  {:<5}  {}",
                r.started_at.replace('T', " ").trim_end_matches('Z'),
                exit,
                r.source,
                one_line(&r.command)
            );
        }
    }
    if let Some(f) = &b.last_failure {
        let _ = writeln!(
            out,
            "Last failure: {} (exit {}, {}, in {}{}){}",
            one_line(&f.command.command),
            f.command.exit.unwrap_or_default(),
            f.command.source,
            f.command.cwd,
            age_after(", ", &f.command.started_at, now),
            if f.succeeded_later {
                "; it succeeded later"
            } else {
                ""
            }
        );
        if let Some(t) = &f.output_tail {
            for line in t.lines() {
                let _ = writeln!(out, "  | {line}");
            }
        }
    }
    for r in &b.running {
        let state = if r.alive {
            "running"
        } else {
            "was running when its shell went away"
        };
        let _ = writeln!(out, "{state}: {}  (in {})", one_line(&r.command), r.cwd);
    }
    for r in &b.resume {
        let _ = writeln!(out, "Resume the agent: {r}");
    }
    for w in &b.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

/// The brief for a coding agent: its first message after a reconnect, every control
/// character escaped visibly.
pub fn render_markdown(b: &Brief) -> String {
    crate::text::safe(&markdown(b))
}

/// The markdown brief, as recorded.
fn markdown(b: &Brief) -> String {
    let now = timefmt::parse_us(&b.generated_at).unwrap_or_else(timefmt::now_us);
    let mut out = String::new();
    let _ = writeln!(out, "# Resume brief: session {}\n", code(&b.session));

    let mut lead = match &b.current_task {
        Some(t) => format!("You were working on: **{t}**"),
        None => "No current task is recorded (run `snap task set TEXT` to record one)".into(),
    };
    if !b.next_steps.is_empty() {
        let _ = write!(lead, "; next: {}", b.next_steps.join("; "));
    }
    if let Some(f) = &b.last_failure {
        let _ = write!(
            lead,
            "; the last failing command was {} (exit {}{})",
            code(&one_line(&f.command.command)),
            f.command.exit.unwrap_or_default(),
            if f.succeeded_later {
                ", it succeeded later"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(out, "{lead}.\n");

    if !b.next_steps.is_empty() {
        out.push_str("## Next steps\n\n");
        for (i, s) in b.next_steps.iter().enumerate() {
            let _ = writeln!(out, "{}. {s}", i + 1);
        }
        out.push('\n');
    }
    if !b.files_in_progress.is_empty() {
        out.push_str("## Files in progress\n\n");
        for f in &b.files_in_progress {
            let _ = writeln!(out, "- {} ({})", code(&f.path), f.git);
        }
        out.push('\n');
    }
    out.push_str("## State\n\n");
    if let Some(p) = &b.project {
        let _ = write!(out, "- Project: {}", code(p));
        if let Some(br) = &b.git_branch {
            let _ = write!(out, " on branch {}", code(br));
        }
        out.push('\n');
    }
    match &b.last_checkpoint {
        Some(c) => {
            let _ = writeln!(out, "- Last checkpoint: {c}{}", ago(c, now));
        }
        None => out.push_str("- Last checkpoint: none yet\n"),
    }
    if let Some(m) = checkpoint_message(b) {
        let _ = writeln!(out, "- Checkpoint message: {}", crate::text::safe(m));
    }
    if let Some(e) = &b.environment {
        let _ = writeln!(out, "- Environment: {e}");
    }
    if let Some(f) = &b.state_file {
        let _ = writeln!(out, "- State file: {}", code(f));
    }
    out.push_str(
        "- After each step: `snap checkpoint -m \"what you did\"`; \
         update the plan with `snap task next`/`snap task done`.\n\n",
    );

    if let Some(f) = &b.last_failure {
        out.push_str("## Last failing command\n\n");
        let _ = writeln!(
            out,
            "{} in {} exited {} ({}{}){}.\n",
            code(&one_line(&f.command.command)),
            code(&f.command.cwd),
            f.command.exit.unwrap_or_default(),
            f.command.source,
            age_after(", ", &f.command.started_at, now),
            if f.succeeded_later {
                "; the same command succeeded later"
            } else {
                ""
            }
        );
        if let Some(t) = &f.output_tail {
            let fence = fence_for(t);
            let _ = writeln!(out, "{fence}text\n{t}\n{fence}\n");
        }
    }
    if !b.last_commands.is_empty() {
        out.push_str("## Last commands\n\n");
        for r in &b.last_commands {
            let exit = r
                .exit
                .map_or("still running".to_string(), |e| format!("exit {e}"));
            let _ = writeln!(
                out,
                "- {} ({exit}, {}, in {})",
                code(&one_line(&r.command)),
                r.source,
                code(&r.cwd)
            );
        }
        out.push('\n');
    }
    if !b.running.is_empty() {
        out.push_str("## Running\n\n");
        for r in &b.running {
            let state = if r.alive {
                "running"
            } else {
                "was running when its shell went away"
            };
            let _ = writeln!(
                out,
                "- {} in {} ({state})",
                code(&one_line(&r.command)),
                code(&r.cwd)
            );
        }
        out.push('\n');
    }
    for w in &b.warnings {
        let _ = writeln!(out, "> warning: {w}\n");
    }
    out
}

/// The first line of a command, shortened for lists.
fn one_line(s: &str) -> String {
    crate::text::one_line(s, 120)
}

/// " (3 min ago)" for an RFC 3339 time, or nothing when it does not parse.
fn ago(rfc3339: &str, now: i64) -> String {
    age(rfc3339, now)
        .map(|a| format!(" ({a})"))
        .unwrap_or_default()
}

/// `sep` and how long ago `rfc3339` was ("3 min ago"), or nothing when it does not parse.
fn age_after(sep: &str, rfc3339: &str, now: i64) -> String {
    age(rfc3339, now)
        .map(|a| format!("{sep}{a}"))
        .unwrap_or_default()
}

fn age(rfc3339: &str, now: i64) -> Option<String> {
    timefmt::parse_us(rfc3339).map(|t| timefmt::age(t, now))
}

/// A markdown code span that survives backticks inside.
fn code(s: &str) -> String {
    let mut ticks = 1;
    while s.contains(&"`".repeat(ticks)) {
        ticks += 1;
    }
    let t = "`".repeat(ticks);
    if ticks > 1 || s.starts_with('`') || s.ends_with('`') {
        format!("{t} {s} {t}")
    } else {
        format!("{t}{s}{t}")
    }
}

/// A code fence longer than any backtick run in `s`.
fn fence_for(s: &str) -> String {
    let mut n = 3;
    while s.contains(&"`".repeat(n)) {
        n += 1;
    }
    "`".repeat(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(cmd: &str, exit: Option<i32>, source: &str) -> CommandRecord {
        CommandRecord {
            shell_id: "sh1".into(),
            session: "s".into(),
            source: source.into(),
            agent: None,
            command: cmd.into(),
            cwd: "/p".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            exit,
            duration_ms: None,
            error: None,
        }
    }

    fn brief() -> Brief {
        Brief {
            session: "s".into(),
            generated_at: "2026-01-01T00:10:00Z".into(),
            project: Some("/p".into()),
            git_branch: Some("main".into()),
            state_file: Some("/p/.agent-session.json".into()),
            agent: None,
            current_task: Some("refactor auth".into()),
            next_steps: vec!["update tests".into(), "check errors".into()],
            files_in_progress: vec![FileEntry {
                path: "auth.js".into(),
                git: "modified".into(),
            }],
            environment: Some("development".into()),
            last_checkpoint: Some("2026-01-01T00:05:00Z".into()),
            since_checkpoint_seconds: Some(300),
            last_commands: vec![record("npm test", Some(1), "shell")],
            last_failure: Some(Failure {
                command: record("npm test", Some(1), "shell"),
                output_tail: Some("FAIL auth.test.js".into()),
                output_from: Some("screen".into()),
                succeeded_later: false,
            }),
            running: vec![],
            resume: vec![],
            warnings: vec![],
        }
    }

    #[test]
    fn markdown_opens_with_task_next_and_failure() {
        let md = render_markdown(&brief());
        let first = md.lines().nth(2).unwrap();
        assert_eq!(
            first,
            "You were working on: **refactor auth**; next: update tests; check errors; \
             the last failing command was `npm test` (exit 1)."
        );
        assert!(md.contains("- `auth.js` (modified)"));
        assert!(md.contains("```text\nFAIL auth.test.js\n```"));
        assert!(md.contains("(5 min ago)"));
        assert!(md.contains("`npm test` in `/p` exited 1 (shell, 10 min ago)."));
    }

    #[test]
    fn text_lists_everything() {
        let t = render_text(&brief());
        assert!(t.contains("Task: refactor auth"));
        assert!(t.contains("  1. update tests"));
        assert!(t.contains("  | FAIL auth.test.js"));
        assert!(t.contains("Last failure: npm test (exit 1, shell, in /p, 10 min ago)"));
    }

    #[test]
    fn every_text_of_a_brief_is_redacted() {
        let url = "postgres://u:hunter2@h/db";
        let mut b = brief();
        b.current_task = Some(format!("fix {url}"));
        b.next_steps.push("mysql --password=hunter2".into());
        b.agent = Some(serde_json::json!({"notes": url, "api_token": "zzz"}));
        b.last_commands[0].command = "export GITHUB_TOKEN=plain-value-1".into();
        b.last_failure.as_mut().unwrap().output_tail = Some(format!("FATAL {url}"));
        b.running.push(Running {
            shell_id: "sh1".into(),
            command: "deploy --token s3cr3t-value".into(),
            cwd: "/p".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            alive: true,
        });
        redact(&mut b, &Redactor::new(&Config::default()).unwrap());
        let all = format!(
            "{}{}{}",
            render_text(&b),
            render_markdown(&b),
            render_json(&b).unwrap()
        );
        for secret in ["hunter2", "zzz", "plain-value-1", "s3cr3t-value"] {
            assert!(!all.contains(secret), "{secret}: {all}");
        }
        assert!(all.contains("postgres://u:[redacted]@h/db"), "{all}");
    }

    #[test]
    fn control_characters_are_escaped_in_text_and_markdown() {
        let mut b = brief();
        b.current_task = Some("t\x1b]0;pwned\x07\u{9b}2J".into());
        for out in [render_text(&b), render_markdown(&b)] {
            assert!(!out.chars().any(crate::text::is_forbidden), "{out}");
            assert!(out.contains(r"t\e]0;pwned\x07\x9b2J"), "{out}");
        }
    }

    #[test]
    fn code_spans_survive_backticks() {
        assert_eq!(code("ls"), "`ls`");
        assert_eq!(code("echo `date`"), "`` echo `date` ``");
        assert_eq!(fence_for("a ``` b"), "````");
    }

    #[test]
    fn tails_keep_the_last_lines() {
        let text: String = (1..=30).map(|i| format!("{i}\n")).collect();
        let t = tail(&format!("{text}\n\n"));
        assert_eq!(t.lines().count(), TAIL_LINES);
        assert!(t.ends_with("30"));
        assert!(is_failure(Some(2)) && !is_failure(Some(130)) && !is_failure(None));
    }
}
