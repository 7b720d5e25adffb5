//! The process trees under the tracked shells, through sysinfo, reading only what a
//! snapshot keeps: parents and start times for every process, then argv and cwd for the
//! shells' subtrees with the environment (kept for job leaders only, as the variables
//! where they differ from their shell).
//!
//! Processes are told apart by (pid, start time), so a reused pid never passes for the
//! shell or child it replaced. snap's own process, its descendants, and its ancestors
//! up to the shell that started it are left out, and so is every process that is not
//! the user's own ([`crate::liveness::is_mine`]): a shell pid another user's process
//! took is not present, another user's process (a `sudo` command's) is not captured.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsString;
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

/// One process under a shell, unredacted.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcInfo {
    pub pid: u32,
    pub ppid: u32,
    /// The exact argv.
    pub cmd: Vec<String>,
    pub cwd: Option<String>,
    /// Job leaders: the variables of their environment (at exec time) that differ from
    /// their shell's, without connection-bound ones; empty otherwise.
    pub env: BTreeMap<String, String>,
    /// Seconds since the epoch.
    pub start_time: u64,
    /// A direct child of the shell.
    pub job_leader: bool,
    /// In the terminal's foreground process group.
    pub foreground: bool,
}

/// What was found for one shell.
#[derive(Debug, Clone, Default)]
pub struct ShellProcs {
    /// Is the shell process itself there (same pid and start time)?
    pub present: bool,
    /// Is snap itself running under this shell (then the shell is busy only with snap)?
    pub runs_snap: bool,
    /// The shell process's own environment at exec time.
    pub environ: BTreeMap<String, String>,
    /// Its descendants, job leaders first, in pid order.
    pub procs: Vec<ProcInfo>,
}

/// A shell to capture under.
pub struct ShellQuery<'a> {
    pub pid: u32,
    /// Its start time, when known (guards against a reused pid).
    pub started: Option<u64>,
    /// Its exported environment as its journal last recorded it; when empty, the shell
    /// process's own environment is used.
    pub env: &'a BTreeMap<String, String>,
}

/// Capture the trees under these shells, keyed by shell pid.
pub fn capture(queries: &[ShellQuery]) -> HashMap<u32, ShellProcs> {
    let shells: Vec<(u32, Option<u64>)> = queries.iter().map(|q| (q.pid, q.started)).collect();
    let journal_env: HashMap<u32, &BTreeMap<String, String>> =
        queries.iter().map(|q| (q.pid, q.env)).collect();
    let mut out: HashMap<u32, ShellProcs> = HashMap::new();
    let Ok(mut sys) = System::new() else {
        return out;
    };
    sys.refresh_processes_specifics(
        ProcessesToUpdate::All,
        true,
        ProcessRefreshKind::nothing().without_tasks(),
    );
    let parent_of: HashMap<u32, (u32, u64)> = sys
        .processes()
        .iter()
        .map(|(pid, p)| {
            (
                pid.as_u32(),
                (p.parent().map_or(0, Pid::as_u32), p.start_time()),
            )
        })
        .collect();
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for (&pid, &(ppid, _)) in &parent_of {
        children.entry(ppid).or_default().push(pid);
    }
    for list in children.values_mut() {
        list.sort_unstable();
    }
    let me = std::process::id();
    let shell_pids: HashSet<u32> = shells.iter().map(|s| s.0).collect();
    let mine = own_chain(me, &parent_of, &shell_pids);

    let mut subtree: Vec<Pid> = Vec::new();
    let mut environ_wanted: Vec<Pid> = Vec::new(); // the shells
    let mut layout: Vec<(u32, Vec<(u32, bool)>)> = Vec::new();
    for &(shell, started) in &shells {
        let entry = out.entry(shell).or_default();
        let Some(&(_, shell_start)) = parent_of.get(&shell) else {
            continue;
        };
        if started.is_some_and(|s| s.abs_diff(shell_start) > 1) {
            continue; // the pid was reused
        }
        entry.present = true;
        environ_wanted.push(Pid::from_u32(shell));
        let mut found: Vec<(u32, bool)> = Vec::new();
        let mut stack: Vec<(u32, bool)> = children
            .get(&shell)
            .map(|c| c.iter().rev().map(|&p| (p, true)).collect())
            .unwrap_or_default();
        while let Some((pid, leader)) = stack.pop() {
            if mine.contains(&pid) {
                entry.runs_snap = true;
                continue;
            }
            let start = parent_of.get(&pid).map_or(0, |x| x.1);
            if start + 1 < shell_start {
                continue; // older than its shell: a reused pid
            }
            found.push((pid, leader));
            if let Some(c) = children.get(&pid) {
                stack.extend(c.iter().rev().map(|&p| (p, false)));
            }
        }
        subtree.extend(found.iter().map(|&(p, _)| Pid::from_u32(p)));
        layout.push((shell, found));
    }
    // One pass for the details, over the subtrees and the shells (their environment).
    subtree.extend(environ_wanted.iter().copied());
    if !subtree.is_empty() {
        sys.refresh_processes_specifics(
            ProcessesToUpdate::Some(&subtree),
            false,
            ProcessRefreshKind::nothing()
                .without_tasks()
                .with_cmd(UpdateKind::Always)
                .with_cwd(UpdateKind::Always)
                .with_environ(UpdateKind::Always)
                .with_user(UpdateKind::Always),
        );
    }
    for (shell, found) in layout {
        let entry = out.entry(shell).or_default();
        match sys.process(Pid::from_u32(shell)) {
            Some(p) if crate::liveness::is_mine(p) => entry.environ = env_map(p.environ()),
            _ => {
                *entry = ShellProcs::default(); // not the user's shell (any more)
                continue;
            }
        }
        let base: &BTreeMap<String, String> = match journal_env.get(&shell) {
            Some(e) if !e.is_empty() => e,
            _ => &entry.environ,
        };
        let foreground = Foreground::of(shell, &parent_of);
        let mut procs: Vec<ProcInfo> = found
            .into_iter()
            .filter_map(|(pid, leader)| {
                // No argv: a zombie (or a kernel thread); nothing to keep.
                let p = sys
                    .process(Pid::from_u32(pid))
                    .filter(|p| !p.cmd().is_empty() && crate::liveness::is_mine(p))?;
                Some(ProcInfo {
                    pid,
                    ppid: p.parent().map_or(0, Pid::as_u32),
                    cmd: p
                        .cmd()
                        .iter()
                        .map(|a| a.to_string_lossy().into_owned())
                        .collect(),
                    cwd: p.cwd().map(|c| c.to_string_lossy().into_owned()),
                    env: if leader {
                        env_diff(p.environ(), base)
                    } else {
                        BTreeMap::new()
                    },
                    start_time: p.start_time(),
                    job_leader: leader,
                    foreground: leader && foreground.holds(pid, p.start_time()),
                })
            })
            .collect();
        procs.sort_by_key(|p| (!p.job_leader, p.pid));
        entry.procs = procs;
    }
    out
}

/// snap's own process and its ancestors below the nearest tracked shell (they only
/// exist to run it, e.g. `time snap save`).
fn own_chain(me: u32, parent_of: &HashMap<u32, (u32, u64)>, shells: &HashSet<u32>) -> HashSet<u32> {
    let mut chain = HashSet::from([me]);
    let mut cur = me;
    for _ in 0..64 {
        match parent_of.get(&cur) {
            Some(&(ppid, _)) if ppid > 1 && !shells.contains(&ppid) => {
                chain.insert(ppid);
                cur = ppid;
            }
            _ => break,
        }
    }
    chain
}

/// `NAME=value` entries as a map.
fn env_map(environ: &[OsString]) -> BTreeMap<String, String> {
    environ
        .iter()
        .filter_map(|e| {
            let e = e.to_string_lossy();
            let (k, v) = e.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

/// The foreground process group of a shell's terminal, when a job holds it.
struct Foreground {
    /// The group's id (its leader's pid) and its leader's start time.
    group: Option<(u32, u64)>,
}

impl Foreground {
    /// Read the shell's terminal's foreground group (Linux: /proc stat).
    fn of(shell: u32, parent_of: &HashMap<u32, (u32, u64)>) -> Foreground {
        let group = stat_groups(shell)
            .map(|(_, tpgid)| tpgid)
            .filter(|&t| t > 0 && t != shell)
            .and_then(|t| parent_of.get(&t).map(|&(_, start)| (t, start)));
        Foreground { group }
    }

    /// Is this job leader in the foreground group? Only the group's leader, and jobs
    /// started with it (the rest of a pipeline), need their own stat read.
    fn holds(&self, pid: u32, start: u64) -> bool {
        match self.group {
            None => false,
            Some((g, _)) if g == pid => true,
            Some((g, g_start)) if start + 1 >= g_start => {
                stat_groups(pid).is_some_and(|(pgrp, _)| pgrp == g)
            }
            Some(_) => false,
        }
    }
}

/// A process's (process group, terminal's foreground group), from /proc stat.
fn stat_groups(pid: u32) -> Option<(u32, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces and parentheses).
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // state ppid pgrp session tty_nr tpgid
    Some((
        f.get(2)?.parse().ok()?,
        f.get(5)?.parse::<i64>().ok()?.try_into().ok()?,
    ))
}

/// The variables where a job leader's environment differs from its shell's, without
/// connection-bound ones.
pub fn env_diff(
    environ: &[OsString],
    shell: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    environ
        .iter()
        .filter_map(|e| {
            let e = e.to_string_lossy();
            let (k, v) = e.split_once('=')?;
            let differs = shell.get(k).is_none_or(|s| s != v);
            (differs && !crate::shellenv::is_connection_bound(k))
                .then(|| (k.to_string(), v.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_chain_stops_at_init_or_a_shell() {
        let parents: HashMap<u32, (u32, u64)> =
            [(10, (5, 0)), (5, (2, 0)), (2, (1, 0)), (1, (0, 0))]
                .into_iter()
                .collect();
        assert_eq!(
            own_chain(10, &parents, &HashSet::new()),
            HashSet::from([10, 5, 2])
        );
        assert_eq!(
            own_chain(10, &parents, &HashSet::from([5])),
            HashSet::from([10])
        );
    }

    #[test]
    fn captures_a_child_with_exact_argv_and_env() {
        // This test process stands in for a shell: its child is a job leader.
        let me = std::process::id();
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30; :", "a b"])
            .env("SNAP_TEST_PORT", "3001")
            .spawn()
            .unwrap();
        let cmdline = format!("/proc/{}/cmdline", child.id());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !std::fs::read(&cmdline)
            .unwrap_or_default()
            .starts_with(b"sh\0")
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let none = BTreeMap::new();
        let got = capture(&[
            ShellQuery {
                pid: me,
                started: None,
                env: &none,
            },
            ShellQuery {
                pid: u32::MAX - 1,
                started: None,
                env: &none,
            },
        ]);
        let _ = child.kill();
        let _ = child.wait();
        let mine = &got[&me];
        assert!(mine.present);
        assert!(!got[&(u32::MAX - 1)].present);
        let p = mine.procs.iter().find(|p| p.pid == child.id()).unwrap();
        assert_eq!(p.cmd, ["sh", "-c", "sleep 30; :", "a b"]);
        assert!(p.job_leader);
        assert_eq!(p.ppid, me);
        assert_eq!(
            p.env.get("SNAP_TEST_PORT").map(String::as_str),
            Some("3001")
        );
        assert!(!p.env.contains_key("PATH"), "{:?}", p.env);
    }
}
