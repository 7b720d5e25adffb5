//! Coding agents: checkpoints of `.agent-session.json` (kept by
//! `store::agent_state`), what agents' hooks report (their commands, their conversation ids),
//! and the resume brief built from all of it.

pub mod brief;
pub mod checkpoint;
pub mod claude_config;
pub mod git;
pub mod hooks;
pub mod journal;
pub mod resume;

use crate::store::agent_state::{self, AgentState};
use crate::store::paths::Paths;
use crate::store::shells::ShellState;
use std::path::{Path, PathBuf};

pub use journal::resume_line;

/// Change the agent state file at `path` under its lock ([`agent_state::update`]); a
/// file this creates in a git work tree that does not track it goes into the
/// repository's `info/exclude`, so that it never shows in `git status` (nor goes in with
/// a `git add -A`).
pub fn update_state<T>(
    paths: &Paths,
    path: &Path,
    root: &Path,
    change: impl FnOnce(&mut AgentState) -> anyhow::Result<T>,
) -> anyhow::Result<(AgentState, T)> {
    let existed = std::fs::symlink_metadata(path).is_ok();
    let out = agent_state::update(paths, path, root, change)?;
    if !existed {
        if let Err(e) = git::exclude(root, path) {
            eprintln!("snap: {e:#}: {} may show in git status", path.display());
        }
    }
    Ok(out)
}

/// The session that work in `dir` belongs to: the session of the hooked shell this runs
/// under (`$SNAP_SHELL_ID`, which agents inherit from the shell they were started in);
/// else the most recently active session whose project is `dir`'s project (symlinks
/// resolved, as agents may report a logical path); else the
/// name a shell starting there would get (`$SNAP_SESSION`, else the project's name).
pub fn session_for_dir(shells: &[ShellState], dir: &Path) -> String {
    current_shell_session(shells).unwrap_or_else(|| project_session(shells, dir))
}

/// The session of `dir`'s project, whatever shell this runs under: the most recently
/// active session whose project it is, else the name a shell starting there would get.
pub fn project_session(shells: &[ShellState], dir: &Path) -> String {
    let project = crate::session::project_dir(dir);
    let real = std::fs::canonicalize(&project).unwrap_or_else(|_| project.clone());
    let same_project =
        |p: &str| Path::new(p) == project || std::fs::canonicalize(p).is_ok_and(|c| c == real);
    if let Some(s) = shells
        .iter()
        .filter(|s| same_project(&s.meta.project_dir))
        .max_by_key(|s| s.last_seen_us)
    {
        return s.meta.session.clone();
    }
    crate::session::session_name(
        None,
        std::env::var("SNAP_SESSION").ok().as_deref(),
        &project,
    )
}

/// The session of the hooked shell this process runs under, if any.
pub fn current_shell_session(shells: &[ShellState]) -> Option<String> {
    let id = std::env::var("SNAP_SHELL_ID")
        .ok()
        .filter(|i| !i.is_empty())?;
    shells
        .iter()
        .find(|s| s.meta.id == id)
        .map(|s| s.meta.session.clone())
}

/// A session's project: where its first shell started, else where its agent reported from.
pub fn session_project(paths: &Paths, shells: &[ShellState], session: &str) -> Option<PathBuf> {
    // A project directory since deleted is no project (the shells restored from it
    // start in a parent).
    shells
        .iter()
        .filter(|s| s.meta.session == session)
        .filter(|s| Path::new(&s.meta.project_dir).is_dir())
        .min_by(|a, b| a.meta.started_at.cmp(&b.meta.started_at))
        .map(|s| PathBuf::from(&s.meta.project_dir))
        .or_else(|| journal::read_ids(paths, session).project.map(PathBuf::from))
        .filter(|p| p.is_dir())
}
