//! What `history` and `sessions` select. Today the CLI reads every shell's journal and
//! has no `--search`, `--cwd` or `--failed`: the narrowing is done here, behind these two
//! functions, so they can ask the index instead once it answers such queries.

use crate::config::Config;
use crate::model::{CommandRecord, Ending, SessionView};
use crate::redact::Redactor;
use crate::store::recorded::{Recorded, RECENT_US};
use crate::store::shells::ShellState;
use std::path::{Path, PathBuf};

/// Which commands `history` lists.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    /// One session, or every session (None).
    pub session: Option<String>,
    /// The newest N matches.
    pub limit: Option<usize>,
    /// Failed ones only.
    pub failed: bool,
    /// Every word must appear in the command, case-insensitive.
    pub search: Option<String>,
    /// Run in this directory or below.
    pub cwd: Option<PathBuf>,
}

/// The commands matching `q`, oldest first, filtered and redacted as for an agent.
pub fn history(
    recorded: &Recorded,
    redactor: &(Config, Redactor),
    q: &HistoryQuery,
) -> anyhow::Result<Vec<CommandRecord>> {
    let mut records = crate::cmd::history::records(recorded, q.session.as_deref(), redactor)?;
    records.retain(|r| matches(r, q));
    if let Some(n) = q.limit {
        let skip = records.len().saturating_sub(n);
        records.drain(..skip);
    }
    Ok(records)
}

/// Does `r` pass the filters of `q` (the session aside)?
fn matches(r: &CommandRecord, q: &HistoryQuery) -> bool {
    if q.failed && !failed(r.exit) {
        return false;
    }
    if let Some(text) = &q.search {
        let command = r.command.to_lowercase();
        if !text
            .split_whitespace()
            .all(|w| command.contains(&w.to_lowercase()))
        {
            return false;
        }
    }
    if let Some(dir) = &q.cwd {
        if !Path::new(&r.cwd).starts_with(dir) {
            return false;
        }
    }
    true
}

/// A failure: an exit status neither 0 nor unknown, and not a job stopped by a signal
/// (128 + SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU).
fn failed(exit: Option<i32>) -> bool {
    exit.is_some_and(|e| !matches!(Ending::of(e), Ending::Success | Ending::Stopped))
}

/// The sessions and their shells, redacted: live shells and those seen in the last 7
/// days, or (with `all`) every shell recorded.
pub fn sessions(all: Vec<ShellState>, every: bool, r: &Redactor, now_us: i64) -> Vec<SessionView> {
    let shells = all
        .into_iter()
        .filter(|s| every || s.alive || now_us - s.last_seen_us < RECENT_US)
        .collect();
    let mut sessions = crate::cmd::sessions::group(shells);
    crate::cmd::sessions::redact_all(&mut sessions, r);
    sessions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(command: &str, cwd: &str, exit: Option<i32>) -> CommandRecord {
        CommandRecord {
            shell_id: "s".into(),
            session: "x".into(),
            source: "shell".into(),
            command: command.into(),
            cwd: cwd.into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            exit,
            duration_ms: None,
            error: None,
            agent: None,
        }
    }

    #[test]
    fn failed_means_a_nonzero_known_exit_that_is_no_stopped_job() {
        assert!(failed(Some(1)));
        assert!(failed(Some(130)));
        assert!(!failed(Some(0)));
        assert!(!failed(None));
        assert!(!failed(Some(128 + libc::SIGTSTP)));
        assert!(!failed(Some(128 + libc::SIGSTOP)));
    }

    #[test]
    fn search_wants_every_word_in_any_order_and_case() {
        let q = HistoryQuery {
            search: Some("TEST cargo".into()),
            ..Default::default()
        };
        assert!(matches(&rec("cargo test --lib", "/p", Some(0)), &q));
        assert!(!matches(&rec("cargo build", "/p", Some(0)), &q));
        let q = HistoryQuery {
            search: Some("-- \"a OR".into()),
            ..Default::default()
        };
        assert!(matches(&rec("echo -- \"a OR b\"", "/p", Some(0)), &q));
    }

    #[test]
    fn cwd_is_the_directory_and_below_not_a_prefix_of_its_name() {
        let q = HistoryQuery {
            cwd: Some(PathBuf::from("/p/src")),
            ..Default::default()
        };
        assert!(matches(&rec("ls", "/p/src", Some(0)), &q));
        assert!(matches(&rec("ls", "/p/src/a", Some(0)), &q));
        assert!(!matches(&rec("ls", "/p/srcx", Some(0)), &q));
        assert!(!matches(&rec("ls", "/p", Some(0)), &q));
    }
}
