//! Shells as their hooks recorded them: `shells/<id>/{meta, journal…}` turned into state.

use crate::model::{CommandRecord, Ended, ShellMeta, ShellView};
use crate::shellenv;
use crate::store::journal::{self, Origin, Record};
use crate::store::paths::Paths;
use crate::timefmt;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::PathBuf;

/// One command of a shell: its start, and its end when it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub text: String,
    pub cwd: String,
    pub started_us: i64,
    pub end: Option<CommandEnd>,
    /// Typed by the user, or entered by `snap restore`.
    pub origin: Origin,
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandEnd {
    pub status: i32,
    pub duration_ms: Option<i64>,
    pub time_us: i64,
}

/// Everything known about one shell.
#[derive(Debug, Clone)]
pub struct ShellState {
    pub meta: ShellMeta,
    pub dir: PathBuf,
    pub commands: Vec<Command>,
    /// The environment at the first prompt (or of the shell it replaces).
    pub env_base: BTreeMap<String, String>,
    /// The latest recorded environment.
    pub env_now: BTreeMap<String, String>,
    pub ended: Option<Ended>,
    /// When it ended (µs), when the hook said so.
    pub ended_us: Option<i64>,
    /// The newest record's time (µs), or the start.
    pub last_seen_us: i64,
    pub cwd: String,
    pub alive: bool,
}

impl ShellState {
    /// The command still running in the foreground (a start with no end), if any.
    pub fn running(&self) -> Option<&Command> {
        if matches!(self.ended, Some(Ended::Exit)) {
            return None;
        }
        self.commands.last().filter(|c| c.end.is_none())
    }

    /// Variables exported or changed since the baseline, without connection-bound ones.
    pub fn env_changed(&self) -> BTreeMap<String, String> {
        let mut diff = shellenv::changed_since(&self.env_base, &self.env_now);
        for key in &self.meta.keep_env {
            if let Some(v) = self.env_now.get(key) {
                diff.insert(key.clone(), v.clone());
            }
        }
        diff
    }

    /// The commands as `snap history --json` prints them.
    pub fn history(&self) -> Vec<CommandRecord> {
        self.commands
            .iter()
            .map(|c| CommandRecord {
                shell_id: self.meta.id.clone(),
                session: self.meta.session.clone(),
                source: c.origin.source().into(),
                agent: None,
                command: c.text.clone(),
                cwd: c.cwd.clone(),
                started_at: timefmt::rfc3339_us(c.started_us),
                exit: c.end.as_ref().map(|e| e.status),
                duration_ms: c.end.as_ref().and_then(|e| e.duration_ms),
                error: None,
            })
            .collect()
    }

    /// The shell as `snap sessions --json` prints it.
    pub fn view(&self) -> ShellView {
        ShellView {
            id: self.meta.id.clone(),
            kind: self.meta.kind.clone(),
            pid: self.meta.pid,
            alive: self.alive,
            ended: self.ended,
            cwd: self.cwd.clone(),
            env: self.env_changed(),
            running: self.running().map(|c| c.text.clone()),
            started_at: self.meta.started_at.clone(),
            last_seen: timefmt::rfc3339_us(self.last_seen_us),
            tmux: self.meta.tmux.clone(),
            replaces: self.meta.replaces.clone(),
            tty: self.meta.tty.clone(),
        }
    }
}

/// Read a shell's meta; None (named on stderr) when it is missing or damaged.
pub fn read_meta(dir: &std::path::Path) -> Option<ShellMeta> {
    let path = dir.join("meta");
    let bytes = fs::read(&path).ok()?;
    match serde_json::from_slice::<ShellMeta>(&bytes) {
        Ok(m) => Some(m),
        Err(e) => {
            eprintln!(
                "snap: {}: not a shell meta file ({e}): skipped",
                path.display()
            );
            None
        }
    }
}

/// Read a shell's meta without a word on stderr (for polling).
pub fn read_meta_quiet(dir: &std::path::Path) -> Option<ShellMeta> {
    serde_json::from_slice(&fs::read(dir.join("meta")).ok()?).ok()
}

/// Load every shell under the store, oldest first, with liveness checked now (what
/// everyday commands read instead, at the cost of the shells at hand: `store::recorded`).
pub fn load_all(paths: &Paths) -> Vec<ShellState> {
    let Ok(entries) = fs::read_dir(paths.shells()) else {
        return Vec::new();
    };
    let mut shells: Vec<ShellState> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| load_one(e.path()))
        .collect();
    sort(&mut shells);
    let alive = crate::liveness::alive_now(&pids(&shells));
    settle(&mut shells, &alive);
    shells
}

/// Oldest first (by start, then id).
pub fn sort(shells: &mut [ShellState]) {
    shells.sort_by(|a, b| {
        a.meta
            .started_at
            .cmp(&b.meta.started_at)
            .then(a.meta.id.cmp(&b.meta.id))
    });
}

/// The (pid, start time) pairs to check for liveness.
pub fn pids(shells: &[ShellState]) -> Vec<(u32, Option<u64>)> {
    shells
        .iter()
        .map(|s| (s.meta.pid, s.meta.pid_started))
        .collect()
}

/// Read one shell directory (meta and journal), before liveness and cross-shell facts.
pub fn load_one(dir: PathBuf) -> Option<ShellState> {
    let meta = read_meta(&dir)?;
    let parsed = journal::read_shell_journal(&dir, meta.token.as_deref());
    Some(from_records(meta, dir, parsed.records))
}

/// Build a shell's state from its records (pure).
pub fn from_records(meta: ShellMeta, dir: PathBuf, records: Vec<Record>) -> ShellState {
    let started_us = timefmt::parse_us(&meta.started_at).unwrap_or(0);
    let mut state = ShellState {
        cwd: meta.start_dir.clone(),
        meta,
        dir,
        commands: Vec::new(),
        env_base: BTreeMap::new(),
        env_now: BTreeMap::new(),
        ended: None,
        ended_us: None,
        last_seen_us: started_us,
        alive: false,
    };
    let mut have_base = false;
    for r in records {
        state.last_seen_us = state.last_seen_us.max(r.time_us());
        match r {
            Record::Start {
                time_us,
                cwd,
                command,
                origin,
            } => {
                state.cwd = cwd.clone();
                state.commands.push(Command {
                    text: command,
                    cwd,
                    started_us: time_us,
                    end: None,
                    origin,
                });
            }
            Record::End {
                time_us,
                status,
                duration_ms,
                cwd,
            } => {
                if !cwd.is_empty() {
                    state.cwd = cwd;
                }
                if let Some(last) = state.commands.last_mut().filter(|c| c.end.is_none()) {
                    last.end = Some(CommandEnd {
                        status,
                        duration_ms,
                        time_us,
                    });
                }
            }
            Record::Env { vars, .. } => {
                if !have_base {
                    state.env_base = vars.clone();
                    have_base = true;
                }
                state.env_now = vars;
            }
            Record::Exit { time_us, how } => {
                state.ended = Some(how);
                state.ended_us = Some(time_us);
            }
        }
    }
    state
}

/// Cross-shell facts: `exec` replacements, inherited baselines, liveness.
pub fn settle(shells: &mut [ShellState], alive_pids: &HashSet<(u32, Option<u64>)>) {
    let exec_replaced: HashMap<String, i64> = shells
        .iter()
        .filter_map(|s| {
            let started = timefmt::parse_us(&s.meta.started_at).unwrap_or(0);
            s.meta.exec_from.clone().map(|id| (id, started))
        })
        .collect();
    let bases: HashMap<String, (Option<String>, BTreeMap<String, String>)> = shells
        .iter()
        .map(|s| {
            (
                s.meta.id.clone(),
                (s.meta.replaces.clone(), s.env_base.clone()),
            )
        })
        .collect();
    for s in shells.iter_mut() {
        if let Some(&when) = exec_replaced.get(&s.meta.id) {
            if s.ended.is_none() {
                s.ended = Some(Ended::Exec);
                s.ended_us = Some(when);
            }
        }
        if let Some(base) = inherited_base(&s.meta.replaces, &bases) {
            s.env_base = base;
        }
        s.alive = s.ended.is_none() && alive_pids.contains(&(s.meta.pid, s.meta.pid_started));
    }
}

/// The baseline of the first generation a restored shell descends from.
fn inherited_base(
    replaces: &Option<String>,
    bases: &HashMap<String, (Option<String>, BTreeMap<String, String>)>,
) -> Option<BTreeMap<String, String>> {
    let mut current = replaces.clone()?;
    let mut found = None;
    for _ in 0..1000 {
        let Some((next, base)) = bases.get(&current) else {
            break;
        };
        found = Some(base.clone());
        match next {
            Some(n) => current = n.clone(),
            None => break,
        }
    }
    found
}

/// A shell meta for tests elsewhere in the crate.
#[cfg(test)]
pub fn test_meta(id: &str, pid: u32, started_at: &str, session: &str) -> ShellMeta {
    ShellMeta {
        schema: 1,
        id: id.into(),
        kind: "bash".into(),
        pid,
        pid_started: Some(1),
        tty: None,
        started_at: started_at.into(),
        session: session.into(),
        start_dir: "/p".into(),
        project_dir: "/p".into(),
        host: "h".into(),
        tmux: None,
        parent: None,
        exec_from: None,
        replaces: None,
        keep_env: vec![],
        shell_version: String::new(),
        token: None,
        started_us: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str) -> ShellMeta {
        test_meta(id, 42, "2026-11-25T00:00:00Z", "proj")
    }

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn running_is_the_open_start_and_env_is_a_diff() {
        let recs = vec![
            Record::Env {
                time_us: 1,
                vars: env(&[("A", "1")]),
            },
            Record::Start {
                time_us: 2,
                cwd: "/p".into(),
                command: "export B=2".into(),
                origin: journal::Origin::Shell,
            },
            Record::End {
                time_us: 3,
                status: 0,
                duration_ms: Some(0),
                cwd: "/p".into(),
            },
            Record::Env {
                time_us: 4,
                vars: env(&[("A", "1"), ("B", "2"), ("SSH_TTY", "x")]),
            },
            Record::Start {
                time_us: 5,
                cwd: "/p/web".into(),
                command: "npm run dev".into(),
                origin: journal::Origin::Shell,
            },
        ];
        let mut s = vec![from_records(meta("a"), PathBuf::new(), recs)];
        settle(&mut s, &[(42, Some(1))].into_iter().collect());
        assert!(s[0].alive);
        assert_eq!(s[0].running().unwrap().text, "npm run dev");
        assert_eq!(s[0].env_changed(), env(&[("B", "2")]));
        assert_eq!(s[0].cwd, "/p/web");
    }

    #[test]
    fn exec_marks_the_replaced_shell_and_restored_shells_keep_the_first_baseline() {
        let a = from_records(
            meta("a"),
            PathBuf::new(),
            vec![Record::Env {
                time_us: 1,
                vars: env(&[("A", "1")]),
            }],
        );
        let mut bm = meta("b");
        bm.exec_from = Some("a".into());
        let b = from_records(bm, PathBuf::new(), vec![]);
        let mut cm = meta("c");
        cm.replaces = Some("a".into());
        cm.pid = 43;
        let c = from_records(
            cm,
            PathBuf::new(),
            vec![Record::Env {
                time_us: 9,
                vars: env(&[("A", "1"), ("R", "restored")]),
            }],
        );
        let mut all = vec![a, b, c];
        settle(
            &mut all,
            &[(42, Some(1)), (43, Some(1))].into_iter().collect(),
        );
        assert_eq!(all[0].ended, Some(Ended::Exec));
        assert!(!all[0].alive);
        assert!(all[1].alive);
        assert_eq!(all[2].env_changed(), env(&[("R", "restored")]));
    }

    #[test]
    fn exit_record_means_nothing_running() {
        let recs = vec![
            Record::Start {
                time_us: 2,
                cwd: "/p".into(),
                command: "exit".into(),
                origin: journal::Origin::Shell,
            },
            Record::Exit {
                time_us: 3,
                how: Ended::Exit,
            },
        ];
        let s = from_records(meta("a"), PathBuf::new(), recs);
        assert_eq!(s.ended, Some(Ended::Exit));
        assert!(s.running().is_none());
    }
}
