//! What coding agents' hooks reported, per session, under `$SNAP_HOME/agents/<session>/`:
//! `journal.jsonl` (append-only, one JSON object per line, one write per record: the
//! commands the agent ran). Its conversation ids sit beside it (see `agent::journal`).
//! Directories 0700, files 0600.

use crate::model::CommandRecord;
use crate::store::paths::{ensure_private_dir, is_safe_component, Paths};
use crate::timefmt;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Version of the journal's records.
pub const SCHEMA: u32 = 1;

/// One command a coding agent ran, as stored in `journal.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentCommand {
    pub schema: u32,
    /// `claude` or `codex`.
    pub agent: String,
    /// The agent's own session (conversation) id.
    pub agent_session: String,
    pub command: String,
    pub cwd: String,
    /// When the hook heard of it (µs since the epoch).
    pub time_us: i64,
    /// 0 for a success; the reported status (else 1) for a failure.
    pub exit: Option<i32>,
    #[serde(default)]
    pub duration_ms: Option<i64>,
    /// The error text the agent reported for a failure.
    #[serde(default)]
    pub error: Option<String>,
}

impl AgentCommand {
    /// As `snap history --json` prints it.
    pub fn to_record(&self, session: &str) -> CommandRecord {
        CommandRecord {
            shell_id: format!("agent:{}", self.agent_session),
            session: session.to_string(),
            source: "agent".into(),
            agent: Some(self.agent.clone()),
            command: self.command.clone(),
            cwd: self.cwd.clone(),
            started_at: timefmt::rfc3339_us(self.time_us),
            exit: self.exit,
            duration_ms: self.duration_ms,
            error: self.error.clone(),
        }
    }
}

/// `agents/`.
pub fn agents_dir(paths: &Paths) -> PathBuf {
    paths.data.join("agents")
}

/// `agents/<session>/`.
pub fn session_dir(paths: &Paths, session: &str) -> Result<PathBuf> {
    if !is_safe_component(session) {
        bail!("session name {session:?} is not a plain file name");
    }
    Ok(agents_dir(paths).join(session))
}

/// `agents/<session>/`, made (0700) with the directories above it.
pub fn ensure_session_dir(paths: &Paths, session: &str) -> Result<PathBuf> {
    let dir = session_dir(paths, session)?;
    ensure_private_dir(&paths.data)?;
    ensure_private_dir(&agents_dir(paths))?;
    ensure_private_dir(&dir)?;
    Ok(dir)
}

/// Append one command to the session's agent journal (one `write` of one line).
pub fn append(paths: &Paths, session: &str, cmd: &AgentCommand) -> Result<()> {
    let dir = ensure_session_dir(paths, session)?;
    let path = dir.join("journal.jsonl");
    let mut line = serde_json::to_vec(cmd)?;
    line.push(b'\n');
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    f.write_all(&line)
        .with_context(|| format!("cannot append to {}", path.display()))
}

/// Read a session's agent journal; bad lines are skipped and the file named once on stderr.
pub fn read(paths: &Paths, session: &str) -> Vec<AgentCommand> {
    let Ok(dir) = session_dir(paths, session) else {
        return Vec::new();
    };
    read_file(&dir.join("journal.jsonl"))
}

fn read_file(path: &Path) -> Vec<AgentCommand> {
    let Ok(bytes) = fs::read(path) else {
        return Vec::new();
    };
    let mut bad = 0;
    let mut out = Vec::new();
    for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        match serde_json::from_slice::<AgentCommand>(line) {
            Ok(c) => out.push(c),
            Err(_) => bad += 1,
        }
    }
    if bad > 0 {
        eprintln!("snap: {}: {bad} unreadable line(s) skipped", path.display());
    }
    out
}

/// The sessions that have agent records, by name.
pub fn sessions(paths: &Paths) -> Vec<String> {
    let Ok(entries) = fs::read_dir(agents_dir(paths)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::snapshots::tests::paths;

    #[test]
    fn journal_appends_and_skips_bad_lines() {
        let tmp = tempfile::tempdir().unwrap();
        let p = paths(tmp.path());
        let c = AgentCommand {
            schema: SCHEMA,
            agent: "claude".into(),
            agent_session: "abc".into(),
            command: "cargo test".into(),
            cwd: "/p".into(),
            time_us: 5,
            exit: Some(101),
            duration_ms: None,
            error: Some("Exit code 101".into()),
        };
        append(&p, "proj", &c).unwrap();
        let path = tmp.path().join("agents/proj/journal.jsonl");
        let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{broken\n").unwrap();
        append(&p, "proj", &c).unwrap();
        assert_eq!(read(&p, "proj"), vec![c.clone(), c.clone()]);
        let r = &c.to_record("proj");
        assert_eq!(r.shell_id, "agent:abc");
        assert_eq!(r.source, "agent");
        assert_eq!(r.agent.as_deref(), Some("claude"));
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
