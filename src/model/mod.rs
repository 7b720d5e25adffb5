//! The values snap stores and prints (serde). Field names are a contract: scripts,
//! agents and checks rely on them.

pub mod policy;
pub mod shell;
pub mod snapshot;

pub use policy::Policy;
use serde::{Deserialize, Serialize};
pub use shell::{Ended, ShellKind};
use std::collections::BTreeMap;

/// How a command ended, as its exit status tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Success,
    Failed,
    /// Ctrl-C (128 + SIGINT).
    Interrupted,
    /// A job stopped, not ended: Ctrl-Z, or SIGSTOP, SIGTTIN, SIGTTOU (128 + the signal).
    Stopped,
}

impl Ending {
    /// The exit statuses of a stopped job.
    pub const STOPPED: [i32; 4] = [
        128 + libc::SIGTSTP,
        128 + libc::SIGSTOP,
        128 + libc::SIGTTIN,
        128 + libc::SIGTTOU,
    ];

    pub fn of(status: i32) -> Ending {
        match status {
            0 => Ending::Success,
            s if s == 128 + libc::SIGINT => Ending::Interrupted,
            s if Self::STOPPED.contains(&s) => Ending::Stopped,
            _ => Ending::Failed,
        }
    }
}

/// Current version of the per-shell `meta` file.
pub const META_SCHEMA: u32 = 1;

/// Where a shell sits in tmux, as recorded when it started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmuxRef {
    /// The tmux server's socket path.
    pub socket: String,
    /// The tmux session's name.
    pub session: String,
    /// `$TMUX_PANE`, e.g. `%3`.
    pub pane_id: String,
}

/// A shell's identity, written once by `snap shell-start` into `shells/<id>/meta`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShellMeta {
    pub schema: u32,
    pub id: String,
    /// `bash`, `zsh` or `fish` (a [`ShellKind`]; kept as written, for older data).
    pub kind: String,
    pub pid: u32,
    /// The shell process's start time (seconds since the epoch), to guard against pid reuse.
    #[serde(default)]
    pub pid_started: Option<u64>,
    pub tty: Option<String>,
    /// RFC 3339.
    pub started_at: String,
    pub session: String,
    /// Where the shell started.
    pub start_dir: String,
    /// The project: git top level of `start_dir`, else `start_dir`.
    pub project_dir: String,
    pub host: String,
    pub tmux: Option<TmuxRef>,
    /// The shell this one was started from (a nested shell).
    #[serde(default)]
    pub parent: Option<String>,
    /// The shell this one replaced by `exec` (same pid).
    #[serde(default)]
    pub exec_from: Option<String>,
    /// The shell this one replaces in a restore.
    #[serde(default)]
    pub replaces: Option<String>,
    /// Variables loaded by `snap start --env-file`: always count as changed.
    #[serde(default)]
    pub keep_env: Vec<String>,
    #[serde(default)]
    pub shell_version: String,
    /// The journal's record token (format 2, see `store::journal`); None for a hook
    /// that writes format 1. Never printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// `started_at` to the microsecond (absent in metas of older versions): what tells
    /// a shell started just after tmux noted a pane closed from one started before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_us: Option<i64>,
}

impl ShellMeta {
    /// The recorded kind as a [`ShellKind`] (leniently: see [`ShellKind::of`]).
    pub fn shell(&self) -> ShellKind {
        ShellKind::of(&self.kind)
    }
}

/// One recorded command, as `snap history --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandRecord {
    pub shell_id: String,
    pub session: String,
    /// `shell` (a prompt hook saw it), `agent` (a coding agent's hook reported it) or
    /// `restore` (a line restore ran itself).
    pub source: String,
    /// The coding agent that ran it (`claude`, `codex`), or null.
    #[serde(default)]
    pub agent: Option<String>,
    pub command: String,
    pub cwd: String,
    /// RFC 3339.
    pub started_at: String,
    /// Null while running.
    pub exit: Option<i32>,
    /// Null while running.
    pub duration_ms: Option<i64>,
    /// The error text an agent reported for a failed command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A shell as `snap sessions --json` prints it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShellView {
    pub id: String,
    pub kind: String,
    pub pid: u32,
    pub alive: bool,
    /// `exit`, `hangup`, `exec`, or null (alive, or vanished without a word).
    #[serde(default, deserialize_with = "Ended::lenient")]
    pub ended: Option<Ended>,
    pub cwd: String,
    /// Variables exported or changed since the baseline, without connection-bound ones.
    pub env: BTreeMap<String, String>,
    /// The command running in the foreground; null at the prompt.
    pub running: Option<String>,
    pub started_at: String,
    pub last_seen: String,
    pub tmux: Option<TmuxRef>,
    /// The shell this one replaces in a restore.
    pub replaces: Option<String>,
    pub tty: Option<String>,
}

/// A session as `snap sessions --json` prints it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionView {
    pub name: String,
    pub shells: Vec<ShellView>,
}
