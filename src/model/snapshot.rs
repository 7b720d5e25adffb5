//! A snapshot as stored in `$SNAP_HOME/snapshots/<id>.json` (serde). Field names are a
//! contract: restore, the brief and coding agents read them.
//!
//! Secrets are redacted (see `crate::redact`): a redacted value or text holds
//! [`crate::redact::PLACEHOLDER`] where the secret was, and `Snapshot::redacted` names
//! every place that was touched.

use super::{CommandRecord, Ended, Policy, ShellKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Current version of the snapshot format.
pub const SNAPSHOT_SCHEMA: u32 = 1;

/// One point-in-time capture of sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub schema: u32,
    /// Sorts by time: `YYYYMMDDTHHMMSS-micros-pid` (UTC).
    pub id: String,
    /// RFC 3339 (UTC).
    pub taken_at: String,
    pub host: String,
    pub label: Option<String>,
    /// What was redacted, one entry per place: `<shell id> env NAME`,
    /// `<shell id> running`, `<shell id> history`, `<shell id> screen`,
    /// `<shell id> process <pid> cmd|env NAME|typed`, `<session> agent`.
    pub redacted: Vec<String>,
    /// Sessions, the most recently active last.
    pub sessions: Vec<SessionSnap>,
}

/// One session in a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSnap {
    pub name: String,
    /// The session's `.agent-session.json` (in its first shell's project directory) as
    /// found, secrets redacted; null when missing or not JSON.
    pub agent: serde_json::Value,
    /// Shells, oldest first.
    pub shells: Vec<ShellSnap>,
}

/// One shell in a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShellSnap {
    pub id: String,
    /// `bash`, `zsh` or `fish` (a [`ShellKind`]; kept as written, for older data).
    pub kind: String,
    pub pid: u32,
    pub alive: bool,
    /// `exit`, `hangup`, `exec`, or null (alive, or vanished without a word).
    #[serde(default, deserialize_with = "Ended::lenient")]
    pub ended: Option<Ended>,
    /// When it ended (RFC 3339), when the hook said so.
    #[serde(default)]
    pub ended_at: Option<String>,
    pub started_at: String,
    /// Its newest journal record (RFC 3339).
    #[serde(default)]
    pub last_seen: String,
    pub tty: Option<String>,
    /// The shell this one replaces in a restore.
    pub replaces: Option<String>,
    /// The shell's project directory (git top level of where it started).
    #[serde(default)]
    pub project_dir: String,
    pub cwd: String,
    /// Variables exported or changed since the shell's first prompt (redacted).
    pub env: BTreeMap<String, String>,
    /// The command line running in the foreground, as typed; null at the prompt.
    pub running: Option<String>,
    /// The relaunch policy of `running`.
    #[serde(default)]
    pub running_policy: Option<Policy>,
    /// The line that resumes `running` when it is a coding agent's CLI.
    #[serde(default)]
    pub running_resume: Option<String>,
    /// Snapshots taken by restore: the command restore gave this new shell (entered for
    /// it, or waiting in its edit buffer), which comes back while the shell has recorded
    /// no command of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
    /// The last 50 commands, oldest first, as `snap history --json` prints them.
    pub history: Vec<CommandRecord>,
    pub tmux: Option<TmuxPlace>,
    /// The last 200 lines of its tmux pane; null outside tmux.
    pub screen: Option<String>,
    /// Its descendants, job leaders (direct children) first in pid order.
    pub processes: Vec<ProcessSnap>,
}

impl ShellSnap {
    /// The recorded kind as a [`ShellKind`] (leniently: see [`ShellKind::of`]).
    pub fn shell(&self) -> ShellKind {
        ShellKind::of(&self.kind)
    }
}

/// Where a shell sits in tmux at capture time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmuxPlace {
    pub socket: String,
    pub session: String,
    pub pane_id: String,
    #[serde(default)]
    pub window_id: String,
    pub window_index: u32,
    pub window_name: String,
    pub window_layout: String,
    pub window_active: bool,
    pub pane_index: u32,
    pub pane_active: bool,
}

/// One process under a shell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessSnap {
    pub pid: u32,
    pub ppid: u32,
    /// The exact argv (redacted where it held a secret).
    pub cmd: Vec<String>,
    pub cwd: Option<String>,
    /// Job leaders: the variables where the process differs from its shell.
    pub env: BTreeMap<String, String>,
    /// RFC 3339; with `pid`, tells this process from a later one with the same pid.
    pub started_at: String,
    /// The top of a job the user started from the shell: a direct child, or a process
    /// that left its tree but not its session or terminal. Only job leaders are ever
    /// relaunched.
    pub job_leader: bool,
    /// In the terminal's foreground process group (the command at the prompt).
    #[serde(default)]
    pub foreground: bool,
    /// Stopped by job control (Ctrl-Z) at capture: not relaunched.
    #[serde(default)]
    pub stopped: bool,
    /// Job leaders: the command line the shell recorded for this job, when found.
    #[serde(default)]
    pub typed: Option<String>,
    pub policy: Policy,
    /// The line that resumes it when it is a coding agent's CLI.
    pub resume: Option<String>,
}
