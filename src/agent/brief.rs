//! The resume brief: where a session left off, for a person (text) or a coding agent
//! (markdown, JSON). Built from the agent state file, git, the shells' journals, the
//! agent journal and, for the last failure's output, the newest snapshot that saved it.
//! A brief leaves the store for a screen or an agent: it is redacted as snapshots are
//! (the config's `history_filter` and `cwd_filter` too), and rendered without control
//! characters. snap's own commands and `clear` are left out, repeats collapsed; each
//! error text appears once.

mod commands;
mod fit;
mod render;
mod testruns;

pub use commands::Listed;
pub use render::{render_markdown, render_markdown_within, render_text};
pub use testruns::TestRun;

use super::git;
use crate::config::Config;
use crate::model::{CommandRecord, Ended, Ending};
use crate::redact::Redactor;
use crate::store::index::query::{self, Filter};
use crate::store::paths::Paths;
use crate::store::recorded::{Recorded, Select};
use crate::store::shells::{self, ShellState};
use crate::store::{agent_journal, agent_state};
use crate::timefmt;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// How many of the last commands a brief lists.
pub const LAST_COMMANDS: usize = 10;
/// How many lines of a failure's output a brief shows.
pub const TAIL_LINES: usize = 15;
/// The longest line of a failure's output a brief shows, in characters.
pub const TAIL_LINE_CHARS: usize = 400;
/// How many of the latest checkpoints a brief lists.
pub const CHECKPOINTS: usize = 5;
/// The longest exported value a brief shows, in characters.
pub const EXPORTED_VALUE_CHARS: usize = 1000;

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
    /// The last commands of the session's shells and agents, oldest first (snap's own
    /// and `clear` left out, identical runs in a row as one with `times`).
    pub last_commands: Vec<Listed>,
    pub last_failure: Option<Failure>,
    /// Commands in the foreground of the session's shells.
    pub running: Vec<Running>,
    /// Commands that resume the agents' conversations (`claude --resume <id>`, …).
    pub resume: Vec<String>,
    /// What could not be read.
    pub warnings: Vec<String>,
    /// The latest checkpoints (`at`, `message`, `head`, and `agent` for an automatic
    /// one), oldest first.
    pub checkpoints: Vec<Value>,
    /// The agent's last message (its latest automatic checkpoint's).
    pub last_message: Option<String>,
    /// HEAD, the commits since the last checkpoint and what is not committed; null
    /// outside a git work tree.
    pub git: Option<GitSummary>,
    /// The last run of each test command, the latest first, and whether it still applies.
    pub tests: Vec<TestRun>,
    /// The names of the variables exported (or changed) in the session's shells.
    pub exported: Vec<String>,
    /// Their values, for those that are not secret.
    pub exported_values: BTreeMap<String, String>,
}

/// What git says of the project since the last checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct GitSummary {
    /// The commit HEAD points at (null before a first commit).
    pub head: Option<String>,
    /// The commits since the last checkpoint's HEAD, newest first.
    pub commits_since_checkpoint: Vec<git::Commit>,
    /// What is not committed.
    pub diffstat: Option<git::DiffStat>,
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
    /// For a test command: whether the tree changed since it failed (null for another
    /// command, or when snap cannot tell).
    pub tree_changed: Option<bool>,
    /// Whether HEAD moved since it failed.
    pub head_moved: Option<bool>,
    /// How many files of `git status` were modified since.
    pub changed_count: usize,
}

impl Failure {
    /// Is it still the news: not passed since, not on a tree that is gone?
    pub fn stands(&self) -> bool {
        !self.succeeded_later && self.tree_changed != Some(true)
    }
}

/// A command of the session, with when it started and ended (µs).
#[derive(Debug, Clone)]
struct Ran {
    started_us: i64,
    ended_us: Option<i64>,
    record: CommandRecord,
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
/// failure and what came after it, the test runs are found among them).
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
    // The session's shells `snap sessions` lists, with their lineages (the running
    // list walks them), and its newest commands.
    let shells = recorded.shells(&recorded.recent().in_session(session).with_lineage());
    let runs = recent_runs(paths, recorded, session);
    // The secrets of every shell whose commands the brief may show, and of those listed.
    redactor.learn(&recorded.envs(runs.iter().map(|r| r.record.shell_id.as_str())));
    redactor.learn(shells.iter().flat_map(|s| [&s.env_base, &s.env_now]));
    let project = super::session_project(paths, recorded, session);
    let mut b = gather(paths, &cfg, project, &shells, runs, session, cwd, warnings);
    redact(&mut b, &redactor);
    b
}

/// Everything a brief says, as recorded (filtered, not yet redacted): `shells` are the
/// session's, `runs` its newest commands (see [`recent_runs`]).
#[allow(clippy::too_many_arguments)]
fn gather(
    paths: &Paths,
    cfg: &Config,
    project: Option<PathBuf>,
    all: &[ShellState],
    runs: Vec<Ran>,
    session: &str,
    cwd: Option<&Path>,
    mut warnings: Vec<String>,
) -> Brief {
    let now = timefmt::now_us();
    let project = project.or_else(|| cwd.map(crate::session::project_dir));

    let mut agent_state = None;
    if let Some(p) = &project {
        let (path, root) = agent_state::locate(p, None);
        match agent_state::AgentState::load(&path, &root) {
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
        all.iter().filter(|s| s.meta.session == session).collect();
    let commands = session_commands(cfg, runs);
    let own = agent_state.as_ref().and_then(|s| s.own_relative_path());
    let tree = project
        .as_deref()
        .and_then(|p| testruns::TreeNow::read(p, git_status.as_ref(), own));
    let test_commands = testruns::TestCommands::new(cfg);
    let tests = test_runs(&test_commands, &commands, tree.as_ref());
    let tree_of_tests = |r: &Ran| {
        let tree = tree.as_ref().filter(|t| t.holds(&r.record.cwd));
        tree.filter(|_| test_commands.is_test(&r.record.command))
    };
    let last_failure = last_failure(paths, &commands, tree_of_tests);
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
    let last_commands = last_commands(commands, last_failure.as_ref());
    let resume = ["claude", "codex"]
        .iter()
        .filter_map(|a| super::resume_line(paths, session, a))
        .collect();

    let last_checkpoint = agent_state
        .as_ref()
        .and_then(|s| s.last_checkpoint().map(String::from));
    let env = exported(&session_shells);
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
        git: tree
            .as_ref()
            .map(|t| git_summary(t, agent_state.as_ref(), last_checkpoint.as_deref())),
        checkpoints: agent_state
            .as_ref()
            .map(|s| latest_checkpoints(&s.doc))
            .unwrap_or_default(),
        last_message: agent_state
            .as_ref()
            .and_then(|s| super::checkpoint::latest_message(&s.doc, true).map(String::from)),
        exported: env.keys().cloned().collect(),
        exported_values: env,
        last_checkpoint,
        last_commands,
        last_failure,
        running,
        resume,
        warnings,
        tests,
    }
}

/// The session's newest [`LOOK_BACK`] commands, its shells' and its agents', oldest
/// first: from the index, else (it cannot answer) from the journals.
fn recent_runs(paths: &Paths, recorded: &Recorded, session: &str) -> Vec<Ran> {
    if let Some(ix) = recorded.index() {
        let filter = Filter {
            session: Some(session.to_string()),
            limit: Some(LOOK_BACK),
            ..Filter::default()
        };
        match query::timed_history(ix, &filter) {
            Ok(rows) => {
                return rows
                    .into_iter()
                    .map(|t| Ran {
                        started_us: t.started_us,
                        ended_us: t.ended_us,
                        record: t.record,
                    })
                    .collect()
            }
            Err(e) => eprintln!(
                "snap: {}: {e:#}: reading the journals instead",
                ix.path().display()
            ),
        }
    }
    let every = recorded.shells(&Select::all().in_session(session));
    let mut out: Vec<Ran> = every
        .iter()
        .flat_map(|s| {
            s.commands
                .iter()
                .zip(s.history())
                .map(|(c, record)| Ran {
                    started_us: c.started_us,
                    ended_us: c.end.as_ref().map(|e| e.time_us),
                    record,
                })
                .collect::<Vec<_>>()
        })
        .collect();
    out.extend(agent_journal::read(paths, session).iter().map(|c| Ran {
        started_us: c.time_us,
        ended_us: Some(c.time_us),
        record: c.to_record(session),
    }));
    out.sort_by_key(|r| r.started_us);
    let skip = out.len().saturating_sub(LOOK_BACK);
    out.drain(..skip);
    out
}

/// These commands without those the config filters out and those that say nothing of
/// the work (snap's own, `clear`).
fn session_commands(cfg: &Config, mut out: Vec<Ran>) -> Vec<Ran> {
    let noise = commands::Noise::new();
    out.retain(|r| {
        cfg.keeps_command(&r.record.command, &r.record.cwd)
            && !noise.is_noise(&r.record.command, &r.record.cwd)
    });
    out.sort_by_key(|r| r.started_us);
    out
}

/// The last run of each test command, compared with the tree.
fn test_runs(
    tests: &testruns::TestCommands,
    commands: &[Ran],
    tree: Option<&testruns::TreeNow>,
) -> Vec<TestRun> {
    let finished: Vec<testruns::Finished> = commands
        .iter()
        .filter_map(|r| {
            Some(testruns::Finished {
                command: &r.record.command,
                cwd: &r.record.cwd,
                source: &r.record.source,
                exit: r.record.exit,
                ended_us: r.ended_us?,
            })
        })
        .collect();
    testruns::last_runs(&finished, tests, tree)
}

/// The last [`LAST_COMMANDS`] of the list, repeats collapsed, each error text once: the
/// last failure's is its output, another's is cut to its tail.
fn last_commands(commands: Vec<Ran>, failure: Option<&Failure>) -> Vec<Listed> {
    let mut listed = commands::collapse(commands.into_iter().map(|r| r.record));
    let skip = listed.len().saturating_sub(LAST_COMMANDS);
    listed.drain(..skip);
    for l in &mut listed {
        let c = &mut l.command;
        let is_failure = failure.is_some_and(|f| {
            f.command.shell_id == c.shell_id
                && f.command.started_at == c.started_at
                && f.command.command == c.command
        });
        c.error = c.error.take().filter(|_| !is_failure).map(|e| tail(&e));
    }
    listed
}

/// HEAD, the commits since the last checkpoint (by its HEAD, else its time) and the
/// diff stat of what is not committed.
fn git_summary(
    tree: &testruns::TreeNow,
    st: Option<&agent_state::AgentState>,
    last_checkpoint: Option<&str>,
) -> GitSummary {
    let cp_head = st
        .and_then(|s| {
            s.doc
                .get(super::checkpoint::CHECKPOINTS)?
                .as_array()?
                .last()
        })
        .and_then(|c| c.get("head")?.as_str().map(String::from));
    let cp_time = last_checkpoint
        .and_then(timefmt::parse_us)
        .map(|t| t.div_euclid(1_000_000));
    let commits = match (&tree.head, last_checkpoint) {
        (Some(_), Some(_)) => git::commits_since(&tree.root, cp_head.as_deref(), cp_time),
        _ => Vec::new(),
    };
    GitSummary {
        head: tree.head.clone(),
        commits_since_checkpoint: commits,
        diffstat: git::diffstat(&tree.root, tree.head.as_deref(), &tree.status),
    }
}

/// The latest [`CHECKPOINTS`] of a state document's `checkpoints`, oldest first.
fn latest_checkpoints(doc: &serde_json::Map<String, Value>) -> Vec<Value> {
    let list = doc
        .get(super::checkpoint::CHECKPOINTS)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let skip = list.len().saturating_sub(CHECKPOINTS);
    list.into_iter().skip(skip).collect()
}

/// The variables exported (or changed) in the shells that carry the session on (not
/// those closed on purpose or replaced by a restore), the most recently seen winning,
/// values cut to [`EXPORTED_VALUE_CHARS`].
fn exported(shells: &[&ShellState]) -> BTreeMap<String, String> {
    let replaced: HashSet<&str> = shells
        .iter()
        .filter_map(|s| s.meta.replaces.as_deref())
        .collect();
    let mut on: Vec<&ShellState> = shells
        .iter()
        .copied()
        .filter(|s| !replaced.contains(s.meta.id.as_str()))
        .filter(|s| !matches!(s.ended, Some(Ended::Exit | Ended::Exec)))
        .collect();
    on.sort_by_key(|s| s.last_seen_us);
    let mut out = BTreeMap::new();
    for s in on {
        for (k, v) in s.env_changed() {
            out.insert(k, crate::text::one_line(&v, EXPORTED_VALUE_CHARS));
        }
    }
    out
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
    b.last_commands
        .iter_mut()
        .for_each(|l| record(&mut l.command));
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
    b.checkpoints.iter_mut().for_each(|c| {
        r.json(c);
    });
    b.last_message.iter_mut().for_each(hide);
    if let Some(g) = b.git.as_mut() {
        g.commits_since_checkpoint
            .iter_mut()
            .for_each(|c| hide(&mut c.subject));
        if let Some(d) = g.diffstat.as_mut() {
            d.by_file.iter_mut().for_each(|f| hide(&mut f.path));
        }
    }
    for t in &mut b.tests {
        hide(&mut t.command);
        hide(&mut t.cwd);
        t.changed_files.iter_mut().for_each(hide);
    }
    // A secret's name is shown, never its value (nor a value that holds one).
    b.exported.iter_mut().for_each(hide);
    b.exported_values
        .retain(|k, v| !r.is_secret_name(k) && r.text(k).is_none() && r.text(v).is_none());
}

/// The brief as JSON, for a coding agent (no control character raw).
pub fn render_json(b: &Brief) -> serde_json::Result<String> {
    crate::text::json_pretty(b)
}

/// Files in progress with git's word for each.
fn file_entries(st: &agent_state::AgentState, status: Option<&git::Status>) -> Vec<FileEntry> {
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

/// Does this exit status count as a failure? (Ctrl-C, 130, is a stop, not a failure;
/// nor is a job stopped with Ctrl-Z, 148, which has not ended.)
fn is_failure(exit: Option<i32>) -> bool {
    exit.is_some_and(|e| Ending::of(e) == Ending::Failed)
}

/// The last failing command (oldest-first list), with the tail of its output (its only
/// copy of the error text), and, for a test command (`tree_of` gives the tree a run is
/// compared with), whether the tree it failed on is still there.
fn last_failure<'t>(
    paths: &Paths,
    commands: &[Ran],
    tree_of: impl Fn(&Ran) -> Option<&'t testruns::TreeNow>,
) -> Option<Failure> {
    let idx = commands.iter().rposition(|r| is_failure(r.record.exit))?;
    let Ran {
        started_us,
        ended_us,
        record,
    } = &commands[idx];
    let succeeded_later = commands[idx + 1..]
        .iter()
        .any(|r| r.record.command == record.command && r.record.exit == Some(0));
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
    let since = ended_us
        .zip(tree_of(&commands[idx]))
        .map(|(end, t)| t.since(end));
    Some(Failure {
        command: CommandRecord {
            error: None,
            ..record.clone()
        },
        output_tail,
        output_from,
        succeeded_later,
        tree_changed: since.as_ref().map(|s| s.0),
        head_moved: since.as_ref().map(|s| s.1),
        changed_count: since.map_or(0, |s| s.2.len()),
    })
}

/// The last [`TAIL_LINES`] lines of a text, trailing blank lines dropped, each cut to
/// [`TAIL_LINE_CHARS`].
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let skip = lines.len().saturating_sub(TAIL_LINES);
    lines[skip..]
        .iter()
        .map(|l| crate::text::one_line(l, TAIL_LINE_CHARS))
        .collect::<Vec<_>>()
        .join("\n")
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

    pub(super) fn brief() -> Brief {
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
            last_commands: commands::collapse([record("npm test", Some(1), "shell")]),
            last_failure: Some(Failure {
                command: record("npm test", Some(1), "shell"),
                output_tail: Some("FAIL auth.test.js".into()),
                output_from: Some("screen".into()),
                succeeded_later: false,
                tree_changed: Some(false),
                head_moved: Some(false),
                changed_count: 0,
            }),
            running: vec![],
            resume: vec!["claude --resume c-1".into()],
            warnings: vec![],
            checkpoints: vec![],
            last_message: Some("All green; next the docs.".into()),
            git: Some(GitSummary {
                head: Some("0123456789abcdef0123456789abcdef01234567".into()),
                commits_since_checkpoint: vec![git::Commit {
                    id: "0123456789abcdef0123456789abcdef01234567".into(),
                    subject: "split auth".into(),
                }],
                diffstat: Some(git::DiffStat {
                    files: 1,
                    insertions: 3,
                    deletions: 1,
                    untracked: 2,
                    by_file: vec![git::FileStat {
                        path: "auth.js".into(),
                        insertions: Some(3),
                        deletions: Some(1),
                    }],
                }),
            }),
            tests: vec![TestRun {
                command: "npm test".into(),
                cwd: "/p".into(),
                source: "shell".into(),
                exit: Some(1),
                ended_at: "2026-01-01T00:00:00Z".into(),
                ended_us: 1_767_225_600_000_000,
                tree_changed: Some(true),
                head_moved: Some(false),
                changed_files: vec!["auth.js".into(), "b.js".into()],
                changed_count: 2,
            }],
            exported: vec!["API_TOKEN".into(), "NODE_ENV".into()],
            exported_values: [("NODE_ENV".to_string(), "test".to_string())].into(),
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
        b.last_commands[0].command.command = "export GITHUB_TOKEN=plain-value-1".into();
        b.last_message = Some(format!("connected with {url}"));
        b.tests[0].command = "DB_PASSWORD=hunter2 npm test".into();
        b.git.as_mut().unwrap().commits_since_checkpoint[0].subject = format!("use {url}");
        b.exported.push("DEPLOY_TOKEN".into());
        b.exported_values
            .insert("DEPLOY_TOKEN".into(), "zzz-secret-value".into());
        b.exported_values.insert("DB_URL".into(), url.into());
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
        for secret in [
            "hunter2",
            "zzz",
            "plain-value-1",
            "s3cr3t-value",
            "zzz-secret-value",
        ] {
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
    fn tails_keep_the_last_lines() {
        let text: String = (1..=30).map(|i| format!("{i}\n")).collect();
        let t = tail(&format!("{text}\n\n"));
        assert_eq!(t.lines().count(), TAIL_LINES);
        assert!(t.ends_with("30"));
        assert!(is_failure(Some(2)) && !is_failure(Some(130)) && !is_failure(None));
        assert!(!is_failure(Some(148)) && !is_failure(Some(147)) && is_failure(Some(127)));
        let long = tail(&"x".repeat(10_000));
        assert_eq!(
            long.chars().count(),
            TAIL_LINE_CHARS + 1,
            "a cut line ends in …"
        );
    }

    #[test]
    fn every_format_has_the_resume_line_tests_git_and_the_last_message() {
        let b = brief();
        let text = render_text(&b);
        let md = render_markdown(&b);
        let json = render_json(&b).unwrap();
        for out in [&text, &md, &json] {
            assert!(out.contains("claude --resume c-1"), "{out}");
            assert!(out.contains("All green; next the docs."), "{out}");
        }
        assert!(text.contains("  npm test: failed (exit 1) "), "{text}");
        assert!(text.contains("; 2 files changed since: re-run"), "{text}");
        assert!(md.contains("- `npm test` failed (exit 1) "), "{md}");
        assert!(text.contains("HEAD: 0123456789ab; 1 commit since the last checkpoint"));
        assert!(text.contains("  0123456789ab split auth"), "{text}");
        assert!(
            text.contains("Not committed: 1 file changed, +3 -1; 2 untracked"),
            "{text}"
        );
        assert!(
            md.contains("- Resume the agent: `claude --resume c-1`"),
            "{md}"
        );
        assert!(md.contains("  - `auth.js` +3 -1"), "{md}");
        assert!(
            text.contains("Exported: API_TOKEN (secret), NODE_ENV=test"),
            "{text}"
        );
        assert!(
            md.contains("- `API_TOKEN` (value hidden: a secret)\n- `NODE_ENV=test`"),
            "{md}"
        );
        let v: Value = serde_json::from_str(&json).unwrap();
        for key in ["checkpoints", "last_message", "git", "tests", "exported"] {
            assert!(v.get(key).is_some(), "{key}");
        }
        for key in ["head", "commits_since_checkpoint", "diffstat"] {
            assert!(v["git"].get(key).is_some(), "git.{key}");
        }
        for key in [
            "command",
            "exit",
            "ended_at",
            "tree_changed",
            "changed_files",
        ] {
            assert!(v["tests"][0].get(key).is_some(), "tests.{key}");
        }
        assert_eq!(v["exported"], serde_json::json!(["API_TOKEN", "NODE_ENV"]));
    }

    #[test]
    fn a_failure_passed_since_or_on_a_changed_tree_is_not_the_headline() {
        let mut b = brief();
        b.last_failure.as_mut().unwrap().succeeded_later = true;
        let lead = render_markdown(&b).lines().nth(2).unwrap().to_string();
        assert!(
            lead.ends_with("; `npm test` failed (exit 1) but succeeded later."),
            "{lead}"
        );
        let f = b.last_failure.as_mut().unwrap();
        f.succeeded_later = false;
        f.tree_changed = Some(true);
        f.head_moved = Some(true);
        f.changed_count = 2;
        let md = render_markdown(&b);
        let lead = md.lines().nth(2).unwrap();
        assert!(
            lead.ends_with(
                "; `npm test` failed (exit 1) on a tree that has changed since \
                 (HEAD moved and 2 files changed): re-run it."
            ),
            "{lead}"
        );
        assert!(!lead.contains("the last failing command was"), "{lead}");
        assert!(
            md.contains(
                "; the tree has changed since (HEAD moved and 2 files changed): re-run it."
            ),
            "{md}"
        );
        let text = render_text(&b);
        assert!(
            text.contains("; the tree has changed since (HEAD moved and 2 files changed)"),
            "{text}"
        );
    }

    #[test]
    fn session_start_context_fits_by_priority_in_whole_lines() {
        let mut b = brief();
        b.next_steps = (0..100)
            .map(|i| format!("step {i} {}", "s".repeat(900)))
            .collect();
        let many: Vec<CommandRecord> = (0..10)
            .map(|i| record(&format!("cmd {i} {}", "c".repeat(2000)), Some(0), "shell"))
            .collect();
        b.last_commands = commands::collapse(many);
        b.last_message = Some("m".repeat(2000));
        b.exported = (0..200).map(|i| format!("VAR_{i}")).collect();
        let full = render_markdown(&b);
        assert!(full.chars().count() > 20_000);
        let md = render_markdown_within(&b, 9_999);
        assert!(md.chars().count() <= 9_999, "{}", md.chars().count());
        assert!(
            md.ends_with("`snap brief --markdown` shows everything.\n"),
            "{md}"
        );
        // What matters most is kept: the lead, State (with the resume line), Tests.
        assert!(
            md.contains("You were working on: **refactor auth**; next: step 0"),
            "{md}"
        );
        assert!(md.contains("(and 97 more)"), "{md}");
        assert!(
            md.contains("- Resume the agent: `claude --resume c-1`"),
            "{md}"
        );
        assert!(md.contains("## Tests\n\n- `npm test` failed"), "{md}");
        assert!(md.contains("## Last failing command"), "{md}");
        assert!(!md.contains("VAR_199"), "the least important goes first");
        // Every line is one of the full brief's lines, whole.
        let lines: std::collections::HashSet<&str> = full.lines().collect();
        for l in md
            .lines()
            .filter(|l| !l.starts_with("> ") || l.starts_with("> m"))
        {
            assert!(lines.contains(l), "cut line: {l}");
        }
        assert_eq!(
            render_markdown_within(&brief(), 9_999),
            render_markdown(&brief())
        );
    }
}
