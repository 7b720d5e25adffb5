//! Which processes are the user's jobs: those a command the shell recorded started.
//!
//! A process is a job when its start falls within the run of a recorded command (from
//! its start record to its end record, or to now while it runs), or when it descends
//! from such a process. The tops of jobs are the shell's direct children and the
//! processes that left its tree but not its session or terminal (reparented to init or a
//! subreaper once the subshell that started them exited: `(cd sub && npm run dev &)`).
//! What the shell or its prompt framework starts by itself (fish's completion generator
//! at the first prompt, gitstatusd, async prompt workers) starts outside every run: it
//! is no job. Nor is a process in the shell's own process group: job control gives every
//! job started from the command line a group of its own, and fish starts what its event
//! handlers put in the background (the completion generator, a worker a `fish_preexec`
//! handler starts, even within a command's run) in its own group. Pure: the process
//! table is read by the caller.

use super::proc_table::{Stat, State};
use crate::store::shells::Command;
use std::collections::{HashMap, HashSet};

/// How far outside a command's run a job may seem to start: the kernel counts starts in
/// clock ticks (10 ms, rounded down) and fish's hook reads its clock to 10 ms, against
/// an offset to the wall clock measured once.
pub const SLACK_US: i64 = 30_000;

/// One recorded command's run, µs since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub start_us: i64,
    /// None while it runs.
    pub end_us: Option<i64>,
}

impl Run {
    /// How far `t` falls outside this run (0 within it); one still running ends `now`.
    fn distance(self, t: i64, now: i64) -> i64 {
        let end = self.end_us.unwrap_or(now).max(self.start_us);
        (self.start_us - t).max(t - end).max(0)
    }
}

/// The runs of a shell's recorded commands, in their order. One with no end before
/// another began (its end record lost) ended when the next began.
pub fn runs(commands: &[Command]) -> Vec<Run> {
    commands
        .iter()
        .enumerate()
        .map(|(i, c)| Run {
            start_us: c.started_us,
            end_us: c
                .end
                .as_ref()
                .map(|e| e.time_us)
                .or_else(|| commands.get(i + 1).map(|n| n.started_us)),
        })
        .collect()
}

/// The runs (indices into `runs`, which follow one another in time) that cover a start,
/// within [`SLACK_US`], the nearest first.
pub fn covering(runs: &[Run], t: i64, now: i64) -> Vec<usize> {
    let upto = runs.partition_point(|r| r.start_us - SLACK_US <= t);
    let mut near: Vec<(i64, usize)> = Vec::new();
    for i in (0..upto).rev() {
        let d = runs[i].distance(t, now);
        if d > SLACK_US {
            break; // it ended before `t`, and every run before it too
        }
        near.push((d, i));
    }
    near.sort_by_key(|&(d, i)| (d, std::cmp::Reverse(i)));
    near.into_iter().map(|(_, i)| i).collect()
}

/// One job: its top process and the recorded commands whose run covers its start, the
/// nearest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub top: u32,
    pub started_by: Vec<usize>,
}

/// A shell to find the jobs of.
pub struct Shell<'a> {
    pub stat: &'a Stat,
    pub runs: &'a [Run],
}

/// What was found for one shell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// Its direct children that are jobs (in pid order), then the jobs that left its
    /// tree (in the order they started).
    pub jobs: Vec<Job>,
    /// snap itself runs under it (then the shell is busy only with snap).
    pub runs_snap: bool,
}

/// The process table as the job search reads it.
pub struct Table<'a> {
    pub stats: &'a HashMap<u32, Stat>,
    /// Each pid's children, in pid order.
    pub children: &'a HashMap<u32, Vec<u32>>,
    /// snap's own process and its ancestors below the shell that runs it.
    pub mine: &'a HashSet<u32>,
    pub now_us: i64,
}

impl Table<'_> {
    /// `pid` and every process under it.
    pub fn tree(&self, pid: u32) -> Vec<u32> {
        let mut out = vec![pid];
        let mut i = 0;
        while let Some(&p) = out.get(i) {
            out.extend(self.children.get(&p).into_iter().flatten());
            i += 1;
        }
        out
    }

    /// A process that can belong to a job of `shell`: alive (not a zombie) and not older
    /// than the shell (an older one has a reused pid).
    pub fn usable(&self, pid: u32, shell: &Stat) -> Option<&Stat> {
        self.stats
            .get(&pid)
            .filter(|s| s.state != State::Zombie && s.start_us + 1_000_000 >= shell.start_us)
    }
}

/// In the shell's session, or on its terminal.
fn near(p: &Stat, shell: &Stat) -> bool {
    (shell.session != 0 && p.session == shell.session) || (shell.tty != 0 && p.tty == shell.tty)
}

/// The jobs of each shell (in the order given).
pub fn find(shells: &[Shell], table: &Table) -> Vec<Found> {
    let mut out = vec![Found::default(); shells.len()];
    // What is under a shell, job or not, is not one that left a tree; nor are the
    // shells' ancestors (a terminal's outer shell) and their other children.
    let mut under: HashSet<u32> = HashSet::new();
    let mut above: HashSet<u32> = HashSet::new();
    // Each shell's jobs by process group: a process that left the tree in one joins it.
    let mut groups: Vec<HashMap<u32, Vec<usize>>> = vec![HashMap::new(); shells.len()];
    for (i, sh) in shells.iter().enumerate() {
        let pid = sh.stat.pid;
        under.extend(table.tree(pid));
        let mut up = sh.stat.ppid;
        while up > 1 && above.insert(up) {
            up = table.stats.get(&up).map_or(0, |s| s.ppid);
        }
        for &child in table.children.get(&pid).into_iter().flatten() {
            if table.mine.contains(&child) {
                out[i].runs_snap = true;
                continue;
            }
            let Some(stat) = table
                .usable(child, sh.stat)
                .filter(|s| s.pgrp != sh.stat.pgrp)
            else {
                continue;
            };
            let started_by = covering(sh.runs, stat.start_us, table.now_us);
            if !started_by.is_empty() {
                groups[i].insert(stat.pgrp, started_by.clone());
                out[i].jobs.push(Job {
                    top: child,
                    started_by,
                });
            }
        }
    }
    let mut left: Vec<&Stat> = table
        .stats
        .values()
        .filter(|s| s.pid > 1 && !under.contains(&s.pid) && !above.contains(&s.pid))
        .filter(|s| !table.mine.contains(&s.pid))
        .collect();
    left.sort_by_key(|s| (s.start_us, s.pid));
    for p in left {
        let parent = table.stats.get(&p.ppid);
        // The shell it is nearest to by the runs that cover its start; of two, the one
        // whose covering run started last (a shell run from the other).
        let mut best: Option<(i64, i64, usize, Vec<usize>)> = None;
        for (i, sh) in shells.iter().enumerate() {
            if !near(p, sh.stat)
                || parent.is_some_and(|q| near(q, sh.stat))
                || p.pgrp == sh.stat.pgrp
            {
                continue;
            }
            if table.usable(p.pid, sh.stat).is_none() {
                continue;
            }
            let (distance, started_by) = match groups[i].get(&p.pgrp) {
                Some(by) => (0, by.clone()),
                None => {
                    let by = covering(sh.runs, p.start_us, table.now_us);
                    let Some(&first) = by.first() else { continue };
                    (sh.runs[first].distance(p.start_us, table.now_us), by)
                }
            };
            let started = sh.runs[started_by[0]].start_us;
            if best
                .as_ref()
                .is_none_or(|b| (distance, -started) < (b.0, -b.1))
            {
                best = Some((distance, started, i, started_by));
            }
        }
        if let Some((_, _, i, started_by)) = best {
            groups[i]
                .entry(p.pgrp)
                .or_insert_with(|| started_by.clone());
            out[i].jobs.push(Job {
                top: p.pid,
                started_by,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: i64 = 1_000;
    const T: i64 = 1_764_043_200_000_000;

    fn stat(pid: u32, ppid: u32, start: i64) -> Stat {
        Stat {
            pid,
            ppid,
            state: State::Live,
            pgrp: pid,
            session: 0,
            tty: 0,
            tpgid: 0,
            start_us: start,
        }
    }

    struct World {
        stats: HashMap<u32, Stat>,
        children: HashMap<u32, Vec<u32>>,
        mine: HashSet<u32>,
    }

    impl World {
        fn new(stats: Vec<Stat>) -> World {
            let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
            for s in &stats {
                children.entry(s.ppid).or_default().push(s.pid);
            }
            children.values_mut().for_each(|c| c.sort_unstable());
            World {
                stats: stats.into_iter().map(|s| (s.pid, s)).collect(),
                children,
                mine: HashSet::new(),
            }
        }

        fn find(&self, shells: &[(u32, &[Run])]) -> Vec<Found> {
            let table = Table {
                stats: &self.stats,
                children: &self.children,
                mine: &self.mine,
                now_us: T + 3_600_000 * MS,
            };
            let shells: Vec<Shell> = shells
                .iter()
                .map(|(pid, runs)| Shell {
                    stat: &self.stats[pid],
                    runs,
                })
                .collect();
            find(&shells, &table)
        }
    }

    fn run(start_ms: i64, end_ms: Option<i64>) -> Run {
        Run {
            start_us: T + start_ms * MS,
            end_us: end_ms.map(|e| T + e * MS),
        }
    }

    fn tops(f: &Found) -> Vec<(u32, Vec<usize>)> {
        f.jobs
            .iter()
            .map(|j| (j.top, j.started_by.clone()))
            .collect()
    }

    #[test]
    fn a_run_covers_what_starts_within_it_and_the_nearest_comes_first() {
        let runs = [run(0, Some(5)), run(40, Some(41)), run(1000, None)];
        let at = |ms: i64| covering(&runs, T + ms * MS, T + 5000 * MS);
        assert_eq!(at(2), [0]);
        assert_eq!(at(-25), [0], "a tick early is still the run's");
        assert_eq!(at(-40), Vec::<usize>::new());
        assert_eq!(
            at(20),
            [0, 1],
            "between two close runs: both, nearest first"
        );
        assert_eq!(at(500), Vec::<usize>::new(), "at the prompt: nobody's");
        assert_eq!(at(4000), [2], "a run still going covers until now");
    }

    #[test]
    fn only_children_a_recorded_command_started_are_jobs_with_their_descendants_under_them() {
        let mut shell = stat(100, 1, T - 1000 * MS);
        shell.session = 100;
        let runs = [run(0, Some(10)), run(2000, Some(2003))];
        let w = World::new(vec![
            shell,
            stat(101, 100, T - 500 * MS), // started by the rc: no command's
            stat(102, 100, T + 3 * MS),   // the first command's job
            stat(103, 102, T + 900 * MS), // under it, later: part of it
            stat(104, 100, T + 1500 * MS), // the prompt's own
            stat(105, 100, T + 2001 * MS), // the second command's
        ]);
        let found = w.find(&[(100, &runs)]);
        assert_eq!(tops(&found[0]), [(102, vec![0]), (105, vec![1])]);
    }

    #[test]
    fn a_job_that_left_the_tree_is_the_shells_by_session_or_terminal_and_time() {
        let mut shell = stat(100, 1, T - 1000 * MS);
        (shell.session, shell.tty) = (100, 34816);
        let mut npm = stat(300, 1, T + 20 * MS); // `(cd sub && npm run dev &)`
        (npm.session, npm.tty, npm.pgrp) = (100, 34816, 299);
        let mut node = stat(301, 300, T + 40 * MS);
        (node.session, node.tty, node.pgrp) = (100, 34816, 299);
        let mut elsewhere = stat(400, 1, T + 20 * MS); // another terminal's
        (elsewhere.session, elsewhere.tty) = (400, 34817);
        let mut gen = stat(500, 1, T - 800 * MS); // left the tree, before any command
        (gen.session, gen.tty) = (100, 34816);
        let runs = [run(0, Some(30))];
        let w = World::new(vec![shell, npm, node, elsewhere, gen]);
        let found = w.find(&[(100, &runs)]);
        assert_eq!(tops(&found[0]), [(300, vec![0])], "{found:?}");
    }

    #[test]
    fn a_process_that_left_the_tree_joins_its_jobs_group_whenever_it_started() {
        let mut shell = stat(100, 1, T - 1000 * MS);
        shell.session = 100;
        let mut srv = stat(200, 100, T + 2 * MS); // `./srv.sh &`
        (srv.session, srv.pgrp) = (100, 200);
        let mut daemonized = stat(201, 1, T + 5000 * MS);
        (daemonized.session, daemonized.pgrp) = (100, 200);
        let runs = [run(0, Some(4)), run(3000, Some(3001))];
        let w = World::new(vec![shell, srv, daemonized]);
        let found = w.find(&[(100, &runs)]);
        assert_eq!(tops(&found[0]), [(200, vec![0]), (201, vec![0])]);
    }

    #[test]
    fn what_the_shell_starts_in_its_own_process_group_is_no_job_even_within_a_run() {
        let mut shell = stat(100, 1, T - 1000 * MS);
        (shell.session, shell.tty) = (100, 34816);
        let mut worker = stat(101, 100, T + 2 * MS); // a `fish_preexec` handler's `cmd &`
        (worker.session, worker.tty, worker.pgrp) = (100, 34816, 100);
        let mut orphan = stat(300, 1, T + 3 * MS); // its `sh -c '(cmd) &'`, reparented
        (orphan.session, orphan.tty, orphan.pgrp) = (100, 34816, 100);
        let mut job = stat(102, 100, T + 4 * MS); // the command's own
        (job.session, job.tty) = (100, 34816);
        let runs = [run(0, Some(10))];
        let w = World::new(vec![shell, worker, orphan, job]);
        let found = w.find(&[(100, &runs)]);
        assert_eq!(tops(&found[0]), [(102, vec![0])], "{found:?}");
    }

    #[test]
    fn of_two_shells_on_one_terminal_the_inner_ones_command_takes_the_job() {
        let mut outer = stat(100, 1, T - 1000 * MS);
        (outer.session, outer.tty) = (100, 34816);
        let mut inner = stat(150, 100, T + MS);
        (inner.session, inner.tty, inner.pgrp) = (100, 34816, 150);
        let mut job = stat(300, 1, T + 502 * MS);
        (job.session, job.tty) = (100, 34816);
        let outer_runs = [run(0, None)]; // `bash`, still running
        let inner_runs = [run(500, Some(505))];
        let w = World::new(vec![outer, inner, job]);
        let found = w.find(&[(100, &outer_runs), (150, &inner_runs)]);
        assert_eq!(tops(&found[0]), [(150, vec![0])]);
        assert_eq!(tops(&found[1]), [(300, vec![0])]);
    }

    #[test]
    fn snap_itself_the_shells_ancestors_and_zombies_are_no_jobs() {
        let mut term = stat(90, 1, T - 5000 * MS); // an outer shell, no tracked one
        (term.session, term.tty) = (90, 34816);
        let mut shell = stat(100, 90, T - 1000 * MS);
        (shell.session, shell.tty) = (90, 34816);
        let mut sibling = stat(95, 90, T + 2 * MS); // the outer shell's own job
        (sibling.session, sibling.tty) = (90, 34816);
        let snap = stat(110, 100, T + 3 * MS);
        let mut zombie = stat(120, 100, T + 3 * MS);
        zombie.state = State::Zombie;
        let runs = [run(0, None)];
        let mut w = World::new(vec![term, shell, sibling, snap, zombie]);
        w.mine.insert(110);
        let found = w.find(&[(100, &runs)]);
        assert!(found[0].runs_snap);
        assert_eq!(tops(&found[0]), []);
    }

    proptest! {
        /// Whatever the runs and the start, `covering` finds exactly the runs within the
        /// slack (runs following one another), nearest first.
        #[test]
        fn covering_finds_every_run_within_the_slack(
            gaps in proptest::collection::vec((0i64..200_000, 0i64..200_000), 0..12),
            last_open in any::<bool>(),
            t in -100_000i64..3_000_000,
        ) {
            let mut runs = Vec::new();
            let mut at = 0;
            for (gap, len) in &gaps {
                at += gap;
                runs.push(Run { start_us: at, end_us: Some(at + len) });
                at += len;
            }
            if last_open {
                if let Some(r) = runs.last_mut() {
                    r.end_us = None;
                }
            }
            let now = at + 1_000_000;
            let got = covering(&runs, t, now);
            let mut want: Vec<usize> = (0..runs.len())
                .filter(|&i| runs[i].distance(t, now) <= SLACK_US)
                .collect();
            want.sort_by_key(|&i| (runs[i].distance(t, now), std::cmp::Reverse(i)));
            prop_assert_eq!(got, want);
        }
    }
}
