//! A checkpoint: bring `.agent-session.json` up to date (time, files in progress,
//! environment, the `checkpoints` list with its message and git HEAD), then snapshot
//! the session.

use super::git;
use crate::store::agent_state::{self, AgentState};
use crate::store::paths::Paths;
use crate::store::shells;
use crate::timefmt;
use anyhow::{bail, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The state file's list of recent checkpoints.
pub const CHECKPOINTS: &str = "checkpoints";

/// What a checkpoint did.
#[derive(Debug)]
pub struct Outcome {
    /// The state file written.
    pub state_file: PathBuf,
    /// `last_checkpoint` as written.
    pub at: String,
    /// `files_in_progress` as written.
    pub files: Vec<String>,
    /// The session snapshotted.
    pub session: String,
    /// The snapshot taken, or why none was.
    pub snapshot: Snapshot,
}

/// The snapshot part of a checkpoint.
#[derive(Debug)]
pub enum Snapshot {
    /// Taken, with this id.
    Taken(String),
    /// Not taken, and why (nothing to snapshot).
    Skipped(String),
    /// It failed, with this message.
    Failed(String),
}

/// Checkpoint the project of `cwd` (or the state file `file`): sets `last_checkpoint` to
/// now (UTC); `files_in_progress` to the pinned files plus what git reports modified,
/// added or untracked (the state file itself never counts); `environment` only when
/// missing; then snapshots the session, labelled with `message`. The state file is
/// changed under its edit lock (other fields, as another edit left them, are kept) and
/// written before the snapshot is attempted; a damaged state file stops everything.
pub fn run(
    paths: &Paths,
    cwd: &Path,
    file: Option<&Path>,
    message: Option<&str>,
) -> Result<Outcome> {
    let label = message.unwrap_or("checkpoint");
    run_labelled(paths, cwd, file, message, label, None)
}

/// [`run`], with the snapshot labelled `label` rather than by the message; `agent` names
/// the agent of an automatic checkpoint (its entry's `agent`: the message is the agent's
/// last message, the snapshot labelled by the event).
pub fn run_labelled(
    paths: &Paths,
    cwd: &Path,
    file: Option<&Path>,
    message: Option<&str>,
    label: &str,
    agent: Option<&str>,
) -> Result<Outcome> {
    let (path, root) = agent_state::locate(cwd, file);
    // git runs before the lock is taken, so parallel edits wait only for the write.
    let from_git = git::status(&root)
        .map(|s| s.in_progress())
        .unwrap_or_default();
    let at = timefmt::now_rfc3339();
    let head = git::head(&root);
    let (_, files) = super::update_state(paths, &path, &root, |st| {
        let files = files_in_progress(st, from_git);
        st.set_strings("files_in_progress", &files);
        st.ensure_environment();
        st.set("last_checkpoint", serde_json::Value::String(at.clone()));
        push_checkpoint(st, &at, message, head.as_deref(), agent)?;
        Ok(files)
    })?;

    let all = shells::load_all(paths);
    let session = super::session_for_dir(&all, cwd);
    let snapshot = snapshot(paths, &all, &session, label);
    Ok(Outcome {
        state_file: path,
        at,
        files,
        session,
        snapshot,
    })
}

/// How many checkpoints `checkpoints` keeps (the latest last).
pub const MAX_CHECKPOINTS: usize = 20;
/// The longest checkpoint message kept, in characters.
pub const MAX_MESSAGE: usize = 2000;

/// Append `{at, message, head}` (and `agent`, for an automatic checkpoint) to the
/// state's `checkpoints`, keeping the last [`MAX_CHECKPOINTS`]. A `checkpoints` that is
/// not a list is an error (never replaced).
fn push_checkpoint(
    st: &mut AgentState,
    at: &str,
    message: Option<&str>,
    head: Option<&str>,
    agent: Option<&str>,
) -> Result<()> {
    let mut list = match st.doc.get(CHECKPOINTS) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => bail!(
            "{}: `{CHECKPOINTS}` must be a list: fix it or move it away (snap will not overwrite it)",
            st.path.display()
        ),
    };
    let message = message.map(trim_message).filter(|m| !m.is_empty());
    let mut entry = json!({ "at": at, "message": message, "head": head });
    if let Some(a) = agent {
        entry["agent"] = json!(a);
    }
    list.push(entry);
    let extra = list.len().saturating_sub(MAX_CHECKPOINTS);
    list.drain(..extra);
    st.set(CHECKPOINTS, Value::Array(list));
    Ok(())
}

/// A message as kept: surrounding blank space trimmed, at most [`MAX_MESSAGE`]
/// characters (a cut one ends in `…`).
pub fn trim_message(message: &str) -> String {
    let m = message.trim();
    if m.chars().count() <= MAX_MESSAGE {
        return m.to_string();
    }
    let mut out: String = m.chars().take(MAX_MESSAGE - 1).collect();
    out.push('…');
    out
}

/// The latest message of a checkpoint someone asked for (`snap checkpoint -m`), or,
/// with `automatic`, of an agent's automatic one (its last message), in a state
/// document.
pub fn latest_message(doc: &serde_json::Map<String, Value>, automatic: bool) -> Option<&str> {
    doc.get(CHECKPOINTS)?
        .as_array()?
        .iter()
        .rev()
        .filter(|c| c.get("agent").is_some_and(|a| !a.is_null()) == automatic)
        .find_map(|c| c.get("message")?.as_str().filter(|m| !m.is_empty()))
}

/// At most this many files from git go into `files_in_progress` (pinned ones always do).
pub const MAX_GIT_FILES: usize = 200;

/// Pinned files first, then git's changed files, without duplicates or the state file.
fn files_in_progress(st: &AgentState, from_git: Vec<String>) -> Vec<String> {
    let own = st.own_relative_path();
    let mut files: Vec<String> = Vec::new();
    for f in st.pinned() {
        if !files.contains(&f) {
            files.push(f);
        }
    }
    let (mut kept, mut left_out) = (0, 0);
    for f in from_git {
        if Some(&f) == own.as_ref() || f == agent_state::FILE_NAME || files.contains(&f) {
            continue;
        }
        if kept >= MAX_GIT_FILES {
            left_out += 1;
            continue;
        }
        kept += 1;
        files.push(f);
    }
    if left_out > 0 {
        eprintln!(
            "snap: {left_out} more changed file(s) left out of files_in_progress \
             (pin the ones that matter with `snap task files add`)"
        );
    }
    files
}

/// Take a snapshot of `session`: skipped (with why) when no shell of it is recorded,
/// since there is nothing but the state file to keep.
fn snapshot(paths: &Paths, all: &[shells::ShellState], session: &str, label: &str) -> Snapshot {
    if !all.iter().any(|s| s.meta.session == session) {
        return Snapshot::Skipped(format!(
            "no shell of session {session} is recorded yet (load the hook: snap init --help)"
        ));
    }
    match crate::capture::snapshot_now(paths, Some(session), Some(label)) {
        Ok(snap) => Snapshot::Taken(snap.id),
        Err(e) => Snapshot::Failed(format!("{e:#}")),
    }
}
