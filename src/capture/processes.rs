//! The user's jobs under the tracked shells ([`super::jobs`]), reading only what a
//! snapshot keeps ([`super::proc_table`]): parents, groups, sessions and start times of
//! every process, then argv and cwd for the jobs' processes, with the environment (kept
//! for job leaders only, as the variables where they differ from their shell). And, for
//! restore, every process of the user's with its argv and cwd ([`running`]).
//!
//! Processes are told apart by (pid, start time), so a reused pid never passes for the
//! shell or child it replaced. snap's own process, its descendants, and its ancestors
//! up to the shell that started it are left out, and so is every process that is not
//! the user's own (real uid ours, as [`crate::liveness::is_mine`] has it): a shell pid
//! another user's process took is not present, another user's process (a `sudo`
//! command's) is not captured.

use super::jobs::{self, Job, Run};
use super::proc_table::{self, Stat, State, Want};
use crate::timefmt;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One process of a shell's jobs, unredacted.
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
    /// µs since the epoch, to the kernel's clock tick.
    pub start_us: i64,
    /// The top of a job: a direct child of the shell, or a process that left its tree.
    pub job_leader: bool,
    /// In the terminal's foreground process group.
    pub foreground: bool,
    /// Stopped by job control (Ctrl-Z).
    pub stopped: bool,
    /// Job leaders: the shell's recorded commands whose run covers the job's start
    /// (indices into the query's runs), the nearest first.
    pub started_by: Vec<usize>,
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
    /// The processes of its jobs, job leaders first, in pid order.
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
    /// The runs of the commands it recorded, one after another, oldest first.
    pub runs: Vec<Run>,
}

/// Capture the jobs of these shells, keyed by shell pid.
pub fn capture(queries: &[ShellQuery]) -> HashMap<u32, ShellProcs> {
    let stats = proc_table::read_all();
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for s in stats.values() {
        children.entry(s.ppid).or_default().push(s.pid);
    }
    for list in children.values_mut() {
        list.sort_unstable();
    }
    let shell_pids: HashSet<u32> = queries.iter().map(|q| q.pid).collect();
    let mine = own_chain(std::process::id(), &stats, &shell_pids);
    let table = jobs::Table {
        stats: &stats,
        children: &children,
        mine: &mine,
        now_us: timefmt::now_us(),
    };

    let mut out: HashMap<u32, ShellProcs> = HashMap::new();
    let mut present: Vec<(&ShellQuery, &Stat)> = Vec::new();
    for q in queries {
        out.entry(q.pid).or_default();
        let Some(shell) = stats.get(&q.pid) else {
            continue;
        };
        if q.started
            .is_some_and(|s| s.abs_diff(shell.start_secs()) > 1)
        {
            continue; // the pid was reused
        }
        present.push((q, shell));
    }
    let shells: Vec<jobs::Shell> = present
        .iter()
        .map(|(q, stat)| jobs::Shell {
            stat,
            runs: &q.runs,
        })
        .collect();
    let found = jobs::find(&shells, &table);

    // Each job's processes: its top and everything under it.
    let mut layout: Vec<Tree> = Vec::new();
    for (&(q, shell), found) in present.iter().zip(found) {
        let entry = out.entry(q.pid).or_default();
        entry.present = true;
        entry.runs_snap = found.runs_snap;
        let mut procs: Vec<(u32, Option<Job>)> = Vec::new();
        for job in found.jobs {
            let top = job.top;
            procs.push((top, Some(job)));
            for pid in table.tree(top).into_iter().skip(1) {
                if table.usable(pid, shell).is_some() && !mine.contains(&pid) {
                    procs.push((pid, None));
                }
            }
        }
        layout.push(Tree { q, shell, procs });
    }

    // One pass for the details, over the jobs and the shells (their environment).
    let wanted: Vec<Want> = layout
        .iter()
        .flat_map(|Tree { q, procs, .. }| {
            let shell = Want {
                pid: q.pid,
                environ: true,
            };
            let procs = procs.iter().map(|(pid, job)| Want {
                pid: *pid,
                environ: job.is_some(),
            });
            std::iter::once(shell).chain(procs)
        })
        .collect();
    let mut details = proc_table::details(&wanted);
    for Tree { q, shell, procs } in layout {
        let entry = out.entry(q.pid).or_default();
        let Some(d) = details.remove(&q.pid) else {
            *entry = ShellProcs::default(); // not the user's shell (any more)
            continue;
        };
        entry.environ = env_map(d.environ());
        let base: &BTreeMap<String, String> = if q.env.is_empty() {
            &entry.environ
        } else {
            q.env
        };
        // The terminal's foreground group, when a job (not the shell) holds it.
        let foreground = Some(shell.tpgid).filter(|&g| g > 0 && g != shell.pgrp);
        let mut procs: Vec<ProcInfo> = procs
            .into_iter()
            .filter_map(|(pid, job)| {
                let stat = &stats[&pid];
                // Another shell's job may hold the same process: each reads it once.
                let d = details.get(&pid)?;
                let leader = job.is_some();
                Some(ProcInfo {
                    pid,
                    ppid: stat.ppid,
                    env: if leader {
                        env_diff(d.environ(), base)
                    } else {
                        BTreeMap::new()
                    },
                    cmd: d.cmd.clone(),
                    cwd: d.cwd.clone(),
                    start_time: stat.start_secs(),
                    start_us: stat.start_us,
                    job_leader: leader,
                    foreground: leader && foreground == Some(stat.pgrp),
                    stopped: stat.state == State::Stopped,
                    started_by: job.map(|j| j.started_by).unwrap_or_default(),
                })
            })
            .collect();
        procs.sort_by_key(|p| (!p.job_leader, p.pid));
        entry.procs = procs;
    }
    out
}

/// Every process of the user's running now (with an argv), as (pid, argv, cwd), to tell
/// what need not start twice: the same reader as a capture's, over every process.
pub fn running() -> Vec<(u32, Vec<String>, Option<String>)> {
    let wanted: Vec<Want> = proc_table::read_all()
        .into_keys()
        .map(|pid| Want {
            pid,
            environ: false,
        })
        .collect();
    proc_table::details(&wanted)
        .into_iter()
        .map(|(pid, d)| (pid, d.cmd, d.cwd))
        .collect()
}

/// One shell's process and its jobs' processes (a job's top with its job).
struct Tree<'a> {
    q: &'a ShellQuery<'a>,
    shell: &'a Stat,
    procs: Vec<(u32, Option<Job>)>,
}

/// snap's own process and its ancestors below the nearest tracked shell (they only
/// exist to run it, e.g. `time snap save`).
fn own_chain(me: u32, table: &HashMap<u32, Stat>, shells: &HashSet<u32>) -> HashSet<u32> {
    let mut chain = HashSet::from([me]);
    let mut cur = me;
    for _ in 0..64 {
        match table.get(&cur) {
            Some(s) if s.ppid > 1 && !shells.contains(&s.ppid) => {
                chain.insert(s.ppid);
                cur = s.ppid;
            }
            _ => break,
        }
    }
    chain
}

/// `NAME=value` entries as a map.
fn env_map<'a>(environ: impl Iterator<Item = Cow<'a, str>>) -> BTreeMap<String, String> {
    environ
        .filter_map(|e| {
            let (k, v) = e.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

/// The variables where a job leader's environment differs from its shell's, without
/// connection-bound ones.
fn env_diff<'a>(
    environ: impl Iterator<Item = Cow<'a, str>>,
    shell: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    environ
        .filter_map(|e| {
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

    fn stat(pid: u32, ppid: u32) -> Stat {
        Stat {
            pid,
            ppid,
            state: proc_table::State::Live,
            pgrp: pid,
            session: pid,
            tty: 0,
            tpgid: 0,
            start_us: 0,
        }
    }

    #[test]
    fn own_chain_stops_at_init_or_a_shell() {
        let parents: HashMap<u32, Stat> = [(10, 5), (5, 2), (2, 1), (1, 0)]
            .into_iter()
            .map(|(pid, ppid)| (pid, stat(pid, ppid)))
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
    fn running_lists_this_process_with_its_exact_argv() {
        let me = std::process::id();
        let all = running();
        let (_, argv, cwd) = all.iter().find(|(pid, _, _)| *pid == me).unwrap();
        assert_eq!(argv, &std::env::args().collect::<Vec<_>>());
        assert!(cwd.is_some());
    }

    #[test]
    fn captures_a_child_with_exact_argv_and_env() {
        // This test process stands in for a shell, and a command it runs for the one
        // that started the child: the child, in a process group of its own as job
        // control puts it, is a job leader.
        use std::os::unix::process::CommandExt;
        let me = std::process::id();
        let runs = vec![Run {
            start_us: timefmt::now_us(),
            end_us: None,
        }];
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30; :", "a b"])
            .env("SNAP_TEST_PORT", "3001")
            .process_group(0)
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
                runs,
            },
            ShellQuery {
                pid: u32::MAX - 1,
                started: None,
                env: &none,
                runs: Vec::new(),
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
        assert_eq!(p.started_by, [0]);
        assert_eq!(p.ppid, me);
        assert_eq!(
            p.env.get("SNAP_TEST_PORT").map(String::as_str),
            Some("3001")
        );
        assert!(!p.env.contains_key("PATH"), "{:?}", p.env);
    }

    #[test]
    fn a_subshell_job_carries_none_of_what_snap_handed_its_shell() {
        // A job forked off a restored shell, caught before it ran anything else, shows
        // the environment the shell was started with.
        let shell: BTreeMap<String, String> = [("PATH".to_string(), "/bin".to_string())].into();
        let environ = [
            "PATH=/bin",
            "SNAP_RESTORE=/s/state/restore/x.bash",
            "SNAP_REPLACES=123-4-abcd",
            "SNAP_KEEP_ENV=A",
            "SNAP_SESSION=work",
            "PORT=8001",
        ];
        let diff = env_diff(environ.iter().map(|e| Cow::Borrowed(*e)), &shell);
        assert_eq!(diff, [("PORT".to_string(), "8001".to_string())].into());
    }
}
