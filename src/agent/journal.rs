//! The coding agents snap knows, and their conversation ids per session:
//! `$SNAP_HOME/agents/<session>/ids.json` (the agent's conversation id per agent CLI,
//! for `claude --resume <id>` / `codex resume <id>`), beside the commands they ran (see
//! `store::agent_journal`). Files 0600.

use crate::store::agent_journal::{ensure_session_dir, session_dir};
use crate::store::atomic::write_atomic;
use crate::store::paths::{is_safe_component, Paths};
use anyhow::{bail, Context, Result};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::fs;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::resume::PaneRef;

/// A coding-agent CLI whose hooks snap understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Agent {
    Claude,
    Codex,
}

impl Agent {
    /// Its name, as recorded and as its program is called.
    pub fn as_str(self) -> &'static str {
        match self {
            Agent::Claude => "claude",
            Agent::Codex => "codex",
        }
    }

    /// The agent a program (name or path) is.
    pub fn from_program(program: &str) -> Option<Agent> {
        match Path::new(program).file_name()?.to_str()? {
            "claude" => Some(Agent::Claude),
            "codex" => Some(Agent::Codex),
            _ => None,
        }
    }
}

/// The conversation ids of the agents run in one shell (one pane).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShellIds {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claude: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codex: Option<String>,
    /// `$TMUX_PANE` of the shell, when it ran in tmux.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmux_pane: Option<String>,
}

/// The agents' conversation ids for one session, and the project they worked in.
/// `claude`/`codex` are the latest reported in the session; `shells` keeps them per
/// shell the CLI ran in (`$SNAP_SHELL_ID`), which is what restore resumes per pane.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentIds {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claude: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codex: Option<String>,
    /// The project root the agent last reported from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Per shell id: the ids of the agents run in it, oldest recorded first.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub shells: IndexMap<String, ShellIds>,
    /// Per conversation id: its transcript, as the agent's hooks reported it, oldest
    /// recorded first.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub transcripts: IndexMap<String, String>,
}

impl AgentIds {
    /// The id of `agent`'s conversation in this pane: by its shell, else by its tmux pane.
    pub fn for_pane(&self, agent: Agent, pane: PaneRef) -> Option<String> {
        let of = |s: &ShellIds| match agent {
            Agent::Claude => s.claude.clone(),
            Agent::Codex => s.codex.clone(),
        };
        pane.shell_id
            .and_then(|id| self.shells.get(id))
            .and_then(of)
            .or_else(|| {
                let p = pane.tmux_pane?;
                self.shells
                    .values()
                    .filter(|s| s.tmux_pane.as_deref() == Some(p))
                    .find_map(of)
            })
    }

    /// The transcript recorded for a conversation id.
    pub fn transcript(&self, id: &str) -> Option<PathBuf> {
        self.transcripts.get(id).map(PathBuf::from)
    }
}

/// Where a hook ran: the conversation's transcript and the shell/pane it ran under.
#[derive(Debug, Clone, Default)]
pub struct IdContext {
    pub transcript: Option<String>,
    /// `$SNAP_SHELL_ID` of the hook's environment.
    pub shell_id: Option<String>,
    /// `$TMUX_PANE` of the hook's environment.
    pub tmux_pane: Option<String>,
}

impl IdContext {
    /// From this process's environment, with the payload's transcript.
    pub fn from_env(transcript: Option<String>) -> IdContext {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        IdContext {
            transcript,
            shell_id: var("SNAP_SHELL_ID").filter(|s| is_safe_component(s)),
            tmux_pane: var("TMUX_PANE"),
        }
    }
}

/// A session's recorded agent ids (empty when none; a damaged file is named on stderr).
pub fn read_ids(paths: &Paths, session: &str) -> AgentIds {
    let Ok(dir) = session_dir(paths, session) else {
        return AgentIds::default();
    };
    let path = dir.join("ids.json");
    match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            eprintln!("snap: {}: not an ids file ({e}): ignored", path.display());
            AgentIds::default()
        }),
        Err(_) => AgentIds::default(),
    }
}

/// Is this a plausible agent session id (safe to put on a command line)?
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// At most this many shells and this many transcripts are remembered per session (the
/// oldest recorded go first).
const MAX_SHELLS: usize = 200;
const MAX_TRANSCRIPTS: usize = 200;

/// Update `key`'s entry (made when missing); one that changed becomes the newest. Then
/// the oldest go beyond `max`.
fn record_newest<V: Default + Clone + PartialEq>(
    map: &mut IndexMap<String, V>,
    key: &str,
    max: usize,
    update: impl FnOnce(&mut V),
) {
    let old = map.get(key).cloned();
    let mut value = old.clone().unwrap_or_default();
    update(&mut value);
    if old.as_ref() != Some(&value) {
        map.shift_remove(key);
        map.insert(key.to_string(), value);
    }
    while map.len() > max {
        map.shift_remove_index(0);
    }
}

/// Record an agent's session id (and project) for a session, per shell when the hook
/// ran under one; rewrites `ids.json` only when something changed, and never a file it
/// cannot parse.
pub fn record_id(
    paths: &Paths,
    session: &str,
    agent: Agent,
    id: &str,
    project: &Path,
    ctx: &IdContext,
) -> Result<()> {
    if !is_valid_id(id) {
        bail!("agent session id {id:?} has unexpected characters: not recorded");
    }
    let dir = ensure_session_dir(paths, session)?;
    let path = dir.join("ids.json");
    // Hooks of several panes fire at once: one read-modify-write at a time.
    let _lock = lock(&dir.join("ids.lock"))?;
    let mut ids = match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice::<AgentIds>(&bytes).with_context(|| {
            format!(
                "{} does not parse: not rewritten; move it away to record ids again",
                path.display()
            )
        })?,
        Err(_) => AgentIds::default(),
    };
    let before = ids.clone();
    let set = |slot: &mut Option<String>| *slot = Some(id.to_string());
    match agent {
        Agent::Claude => set(&mut ids.claude),
        Agent::Codex => set(&mut ids.codex),
    }
    if let Some(shell) = &ctx.shell_id {
        record_newest(&mut ids.shells, shell, MAX_SHELLS, |entry| {
            match agent {
                Agent::Claude => set(&mut entry.claude),
                Agent::Codex => set(&mut entry.codex),
            }
            if ctx.tmux_pane.is_some() {
                entry.tmux_pane = ctx.tmux_pane.clone();
            }
        });
    }
    if let Some(t) = ctx.transcript.as_ref().filter(|t| !t.is_empty()) {
        record_newest(&mut ids.transcripts, id, MAX_TRANSCRIPTS, |v| {
            *v = t.clone()
        });
    }
    ids.project = Some(project.to_string_lossy().into_owned());
    if ids != before {
        write_atomic(&path, &serde_json::to_vec_pretty(&ids)?)?;
    }
    Ok(())
}

/// Hold an exclusive `flock` on `path` (created 0600) until the file is dropped.
fn lock(path: &Path) -> Result<fs::File> {
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    f.lock()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(f)
}

/// The command that resumes a session's agent conversation, when its id is known:
/// `claude --resume <id>` or `codex resume <id>`. `agent_cli` is the agent's program
/// (a name or path, e.g. `claude` or `/usr/bin/codex`). The session's latest id: for
/// one pane's conversation, see [`super::resume::for_pane`].
pub fn resume_line(paths: &Paths, session: &str, agent_cli: &str) -> Option<String> {
    let agent = Agent::from_program(agent_cli)?;
    let ids = read_ids(paths, session);
    // The file may have been edited since: an id goes on a command line only when it
    // is a plain id (`x; rm -rf ~` is not).
    let valid = |id: Option<String>| id.filter(|i| is_valid_id(i));
    Some(match agent {
        Agent::Claude => format!("claude --resume {}", valid(ids.claude)?),
        Agent::Codex => format!("codex resume {}", valid(ids.codex)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(dir: &Path) -> Paths {
        Paths {
            data: dir.to_path_buf(),
            state: dir.join("state"),
            config_file: dir.join("config.toml"),
        }
    }

    #[test]
    fn ids_give_resume_lines() {
        let tmp = tempfile::tempdir().unwrap();
        let p = paths(tmp.path());
        assert_eq!(resume_line(&p, "s", "claude"), None);
        let ctx = IdContext::default();
        record_id(&p, "s", Agent::Claude, "0b1-uuid", Path::new("/p"), &ctx).unwrap();
        record_id(&p, "s", Agent::Codex, "thread-9", Path::new("/p"), &ctx).unwrap();
        assert_eq!(
            resume_line(&p, "s", "/usr/local/bin/claude").as_deref(),
            Some("claude --resume 0b1-uuid")
        );
        assert_eq!(
            resume_line(&p, "s", "codex").as_deref(),
            Some("codex resume thread-9")
        );
        assert_eq!(resume_line(&p, "s", "aider"), None);
        assert!(record_id(&p, "s", Agent::Claude, "x; rm -rf /", Path::new("/p"), &ctx).is_err());
        // An ids file edited by hand never puts a command on the resume line.
        fs::write(
            tmp.path().join("agents/s/ids.json"),
            br#"{"claude":"x; rm -rf ~","codex":"$(touch pwned)"}"#,
        )
        .unwrap();
        assert_eq!(resume_line(&p, "s", "claude"), None);
        assert_eq!(resume_line(&p, "s", "codex"), None);
    }

    #[test]
    fn concurrent_id_records_are_all_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let p = paths(tmp.path());
        std::thread::scope(|s| {
            for i in 0..8 {
                let p = &p;
                s.spawn(move || {
                    let ctx = IdContext {
                        transcript: None,
                        shell_id: Some(format!("sh{i}")),
                        tmux_pane: Some(format!("%{i}")),
                    };
                    let id = format!("conv-{i}");
                    record_id(p, "s", Agent::Claude, &id, Path::new("/p"), &ctx).unwrap();
                });
            }
        });
        let ids = read_ids(&p, "s");
        assert_eq!(ids.shells.len(), 8, "{ids:?}");
        assert_eq!(ids.shells["sh3"].claude.as_deref(), Some("conv-3"));
    }

    #[test]
    fn ids_keep_the_newest_shells_and_transcripts_evicting_the_oldest() {
        let tmp = tempfile::tempdir().unwrap();
        let p = paths(tmp.path());
        // The oldest sorts last by name: evicting by name would keep it.
        let names: Vec<String> = std::iter::once("zz-oldest".to_string())
            .chain((0..205).map(|i| format!("id-{i:03}")))
            .collect();
        for n in &names {
            let ctx = IdContext {
                transcript: Some(format!("/t/{n}.jsonl")),
                shell_id: Some(format!("sh-{n}")),
                tmux_pane: None,
            };
            record_id(&p, "s", Agent::Claude, n, Path::new("/p"), &ctx).unwrap();
        }
        let ids = read_ids(&p, "s");
        assert!(ids.transcripts.len() <= 200, "{}", ids.transcripts.len());
        assert!(ids.shells.len() <= 200, "{}", ids.shells.len());
        assert_eq!(ids.transcript("zz-oldest"), None);
        assert!(!ids.shells.contains_key("sh-zz-oldest"));
        let newest = &names[names.len() - ids.transcripts.len()..];
        for n in newest {
            assert!(ids.transcript(n).is_some(), "{n}");
        }
        for n in &names[names.len() - ids.shells.len()..] {
            assert!(ids.shells.contains_key(&format!("sh-{n}")), "{n}");
        }
    }

    #[test]
    fn a_damaged_ids_file_is_never_rewritten() {
        let tmp = tempfile::tempdir().unwrap();
        let p = paths(tmp.path());
        let dir = tmp.path().join("agents/s");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("ids.json"), b"{oops").unwrap();
        let ctx = IdContext::default();
        assert!(record_id(&p, "s", Agent::Claude, "a", Path::new("/p"), &ctx).is_err());
        assert_eq!(fs::read(dir.join("ids.json")).unwrap(), b"{oops");
    }
}
