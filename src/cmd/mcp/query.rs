//! What the `history` and `sessions` tools select, as for an agent: from the index,
//! narrowed here where the agent's view (redacted) is what must match.

use crate::config::Config;
use crate::model::{CommandRecord, SessionView};
use crate::redact::Redactor;
use crate::store::index::query::Filter;
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

/// The commands matching `q`, oldest first, filtered and redacted as for an agent. The
/// words and the directory are looked for in the redacted text (what the agent may
/// see): the index narrows by session and failure, and reads back the newest few
/// times N at first, more while too few of those match.
pub fn history(
    recorded: &Recorded,
    redactor: &(Config, Redactor),
    q: &HistoryQuery,
) -> anyhow::Result<Vec<CommandRecord>> {
    let mut filter = Filter {
        session: q.session.clone(),
        failed: q.failed,
        limit: q.limit.map(|n| n.saturating_mul(4)),
        ..Filter::default()
    };
    loop {
        let found = recorded.history(&filter)?;
        let every = filter.limit.is_none_or(|k| found.len() < k);
        let mut records = crate::cmd::history::for_agent(recorded, found, redactor);
        records.retain(|r| matches(r, q));
        match (q.limit, filter.limit) {
            (Some(n), Some(k)) if records.len() < n && !every => {
                filter.limit = Some(k.saturating_mul(4));
            }
            _ => {
                let skip = q.limit.map_or(0, |n| records.len().saturating_sub(n));
                records.drain(..skip);
                return Ok(records);
            }
        }
    }
}

/// Does `r` pass the filters of `q` that the index leaves to the redacted text (words
/// and directory)?
fn matches(r: &CommandRecord, q: &HistoryQuery) -> bool {
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

#[cfg(test)]
mod index_tests {
    use super::*;
    use crate::store::paths::Paths;

    /// A store with one shell whose journal is `journal`, and what it records.
    fn recorded(journal: &str) -> (tempfile::TempDir, Recorded) {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths {
            data: tmp.path().join("data"),
            state: tmp.path().join("state"),
            config_file: tmp.path().join("c.toml"),
        };
        let id = "1764000000000000-1-abcd";
        let dir = paths.shell_dir(id);
        std::fs::create_dir_all(&dir).unwrap();
        let meta = crate::store::shells::test_meta(id, 999_999_999, "2026-11-25T00:00:00Z", "p");
        std::fs::write(dir.join("meta"), serde_json::to_vec(&meta).unwrap()).unwrap();
        std::fs::write(dir.join("journal"), journal).unwrap();
        let recorded = Recorded::open(&paths);
        (tmp, recorded)
    }

    /// The commands `q` finds, as an agent sees them.
    fn found(recorded: &Recorded, q: &HistoryQuery) -> Vec<String> {
        let cfg = Config::default();
        let redactor = (cfg.clone(), Redactor::new(&cfg).unwrap());
        history(recorded, &redactor, q)
            .unwrap()
            .into_iter()
            .map(|r| r.command)
            .collect()
    }

    #[test]
    fn failed_means_a_nonzero_known_exit_that_is_no_stopped_job() {
        let mut journal = String::new();
        for (i, (cmd, exit)) in [
            ("one", "1"),
            ("interrupted", "130"),
            ("ok", "0"),
            ("tstp", &(128 + libc::SIGTSTP).to_string()),
            ("stop", &(128 + libc::SIGSTOP).to_string()),
        ]
        .iter()
        .enumerate()
        {
            journal.push_str(&format!(
                "\x1eS\t{i}.5\t/p\tt\n{cmd}\n\x1eE\t{i}.75\t{exit}\t-\t/p\n"
            ));
        }
        journal.push_str("\x1eS\t9.5\t/p\tt\nrunning\n");
        let (_tmp, recorded) = recorded(&journal);
        let q = HistoryQuery {
            failed: true,
            ..HistoryQuery::default()
        };
        assert_eq!(found(&recorded, &q), ["one", "interrupted"]);
    }

    #[test]
    fn the_newest_n_matches_come_back_however_far_back_they_are() {
        // Two needles, then far more other commands than a first read takes back.
        let mut journal = String::new();
        for i in 0..200 {
            let cmd = if i < 2 {
                format!("needle {i}")
            } else {
                format!("hay {i}")
            };
            journal.push_str(&format!(
                "\x1eS\t{i}.5\t/p\tt\n{cmd}\n\x1eE\t{i}.75\t0\t-\t/p\n"
            ));
        }
        let (_tmp, recorded) = recorded(&journal);
        let found = |search: &str, limit: usize| -> Vec<String> {
            let q = HistoryQuery {
                search: Some(search.into()),
                limit: Some(limit),
                ..HistoryQuery::default()
            };
            found(&recorded, &q)
        };
        assert_eq!(found("needle", 1), ["needle 1"]);
        assert_eq!(found("needle", 5), ["needle 0", "needle 1"]);
        assert_eq!(found("hay", 2), ["hay 198", "hay 199"]);
    }
}
