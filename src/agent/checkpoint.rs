//! A checkpoint: bring `.agent-session.json` up to date (time, files in progress,
//! environment), then snapshot the session.

use super::state::AgentState;
use super::{git, state};
use crate::store::paths::Paths;
use crate::store::shells;
use crate::timefmt;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
    /// `snap save` is not available in this build.
    Unavailable,
    /// It failed, with this message.
    Failed(String),
}

/// Checkpoint the project of `cwd` (or the state file `file`): sets `last_checkpoint` to
/// now (UTC); `files_in_progress` to the pinned files plus what git reports modified,
/// added or untracked (the state file itself never counts); `environment` only when
/// missing; then snapshots the session, labelled with `message`. The state file is
/// written before the snapshot is attempted; a damaged state file stops everything.
pub fn run(
    paths: &Paths,
    cwd: &Path,
    file: Option<&Path>,
    message: Option<&str>,
) -> Result<Outcome> {
    let (path, root) = state::locate(cwd, file);
    let mut st = AgentState::load(&path, &root)?;
    let files = files_in_progress(&st);
    st.set_strings("files_in_progress", &files);
    st.ensure_environment();
    let at = timefmt::now_rfc3339();
    st.set("last_checkpoint", serde_json::Value::String(at.clone()));
    st.save()?;

    let all = shells::load_all(paths);
    let session = super::session_for_dir(&all, cwd);
    let snapshot = snapshot(&session, message.unwrap_or("checkpoint"));
    Ok(Outcome {
        state_file: path,
        at,
        files,
        session,
        snapshot,
    })
}

/// At most this many files from git go into `files_in_progress` (pinned ones always do).
pub const MAX_GIT_FILES: usize = 200;

/// Pinned files first, then git's changed files, without duplicates or the state file.
fn files_in_progress(st: &AgentState) -> Vec<String> {
    let own = st.own_relative_path();
    let mut files: Vec<String> = Vec::new();
    for f in st.pinned() {
        if !files.contains(&f) {
            files.push(f);
        }
    }
    let from_git = git::status(&st.root)
        .map(|s| s.in_progress())
        .unwrap_or_default();
    let (mut kept, mut left_out) = (0, 0);
    for f in from_git {
        if Some(&f) == own.as_ref() || f == state::FILE_NAME || files.contains(&f) {
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

/// Take a snapshot of `session` with this same binary (`snap save`).
fn snapshot(session: &str, label: &str) -> Snapshot {
    let exe = match std::env::current_exe().context("cannot find snap's own path") {
        Ok(e) => e,
        Err(e) => return Snapshot::Failed(format!("{e:#}")),
    };
    let out = Command::new(exe)
        .args(["save", "--session", session, "--label", label])
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => {
            Snapshot::Taken(String::from_utf8_lossy(&o.stdout).trim().to_string())
        }
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr).trim().to_string();
            if err.contains("not implemented yet") {
                Snapshot::Unavailable
            } else {
                Snapshot::Failed(err)
            }
        }
        Err(e) => Snapshot::Failed(format!("cannot run snap save: {e}")),
    }
}
