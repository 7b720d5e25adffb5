//! Retention, per session: keep each session's last N snapshots in which it had live
//! shells (and none older than the maximum age, but always its newest), so frequent
//! checkpoints of one session never evict a quiet session's snapshots. The newest
//! snapshot overall always stays.
//!
//! History is another matter: every command stays in the index, and every ended
//! shell's journal stays on disk, compressed once the index holds it (so `snap
//! reindex` can rebuild the index), until
//! history pruning (`[retention] history_max_age`, `snap prune --history-older-than`)
//! removes the commands older than its age and the shells that ended before it.
//!
//! Forgotten sessions (see [`super::forgotten`]) count for none of this; what a
//! snapshot holds is read from its summary (see [`super::summaries`]).

use crate::config::Config;
use crate::model::snapshot::Snapshot;
use crate::store::forgotten::forgotten;
use crate::store::index;
use crate::store::paths::Paths;
use crate::store::recorded::Recorded;
use crate::store::shells::ShellState;
use crate::store::summaries::{summaries, Summary};
use crate::timefmt;
use anyhow::Result;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How much to keep.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Each session's last N snapshots in which it had live shells.
    pub keep: usize,
    /// Snapshots older than this go (a session's newest one stays).
    pub max_age: Option<Duration>,
    /// Commands older than this leave the history; ended shells before it go.
    pub history_max_age: Option<Duration>,
}

impl Rules {
    /// The rules of the config.
    pub fn from_config(cfg: &Config) -> Rules {
        Rules {
            keep: cfg.retention.keep,
            max_age: cfg.retention.max_age_dur,
            history_max_age: cfg.retention.history_max_age_dur,
        }
    }
}

/// What retention removes.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// Snapshot files.
    pub snapshots: Vec<PathBuf>,
    /// Shell directories of shells that ended before the history's age.
    pub shells: Vec<PathBuf>,
    /// Commands started before this leave the index (µs since the epoch).
    pub history_before_us: Option<i64>,
}

/// Plan what to remove (pure). `snaps` are the good snapshots, forgotten sessions
/// already dropped; `shells` every recorded shell.
pub fn plan(
    snaps: &[(PathBuf, Summary)],
    shells: &[ShellState],
    rules: Rules,
    now_us: i64,
) -> Plan {
    let mut order: Vec<usize> = (0..snaps.len()).collect();
    order.sort_by(|&a, &b| snaps[a].1.id.cmp(&snaps[b].1.id));
    let taken: Vec<i64> = snaps.iter().map(|(_, s)| s.taken_us).collect();
    let min_time = rules
        .max_age
        .map(|d| now_us - i64::try_from(d.as_micros()).unwrap_or(i64::MAX));

    let mut names: BTreeSet<&str> = BTreeSet::new();
    for (_, s) in snaps {
        names.extend(s.sessions.iter().map(|x| x.0.as_str()));
    }
    let mut kept: BTreeSet<usize> = order.last().copied().into_iter().collect();
    for name in names {
        let has = |i: usize, live: bool| {
            snaps[i]
                .1
                .sessions
                .iter()
                .any(|(n, alive)| n == name && (!live || *alive))
        };
        let live: Vec<usize> = order.iter().copied().filter(|&i| has(i, true)).collect();
        if live.is_empty() {
            if let Some(&i) = order.iter().rev().find(|&&i| has(i, false)) {
                kept.insert(i);
            }
            continue;
        }
        let newest = *live.last().unwrap_or(&0);
        kept.extend(
            live.iter()
                .rev()
                .take(rules.keep.max(1))
                .copied()
                .filter(|&i| i == newest || min_time.is_none_or(|m| taken[i] >= m)),
        );
    }
    let mut plan = Plan {
        snapshots: order
            .iter()
            .filter(|i| !kept.contains(i))
            .map(|&i| snaps[i].0.clone())
            .collect(),
        ..Plan::default()
    };

    if let Some(age) = rules.history_max_age {
        let before = now_us - i64::try_from(age.as_micros()).unwrap_or(i64::MAX);
        plan.history_before_us = Some(before);
        for sh in shells.iter().filter(|sh| !sh.alive) {
            if sh.ended_us.unwrap_or(sh.last_seen_us) < before {
                plan.shells.push(sh.dir.clone());
            }
        }
    }
    plan
}

/// Remove what the plan names; a failure is reported and the rest still goes.
pub fn apply(plan: &Plan) -> Vec<String> {
    let mut errors = Vec::new();
    for p in &plan.snapshots {
        if let Err(e) = fs::remove_file(p) {
            if e.kind() != std::io::ErrorKind::NotFound {
                errors.push(format!("cannot remove {}: {e}", p.display()));
            }
        }
    }
    for d in &plan.shells {
        if let Err(e) = fs::remove_dir_all(d) {
            if e.kind() != std::io::ErrorKind::NotFound {
                errors.push(format!("cannot remove {}: {e}", d.display()));
            }
        }
    }
    errors
}

/// Plan (and unless `dry_run`, apply) retention over the whole store, as `recorded`
/// reads it, after `saved` (see [`summaries`]).
pub fn run_with(
    paths: &Paths,
    recorded: &Recorded,
    rules: Rules,
    dry_run: bool,
    saved: Option<(&Path, &Snapshot)>,
) -> Plan {
    let forgotten = forgotten(paths);
    let now = timefmt::now_us();
    // Only shells past the history's age can go (shells known only from snapshots
    // have no directory to remove).
    let aged = match rules.history_max_age {
        Some(age) => {
            let mut aged = recorded.aged(now - i64::try_from(age.as_micros()).unwrap_or(i64::MAX));
            aged.retain(|s| s.dir.is_dir());
            aged
        }
        None => Vec::new(),
    };
    let plan = plan(&summaries(paths, &forgotten, saved), &aged, rules, now);
    if !dry_run {
        for e in apply(&plan) {
            eprintln!("snap: {e}");
        }
        if let Some(before) = plan.history_before_us {
            // After the directories: an ingestion meanwhile never reads one back in.
            if let Err(e) = prune_index(paths, before) {
                eprintln!("snap: cannot prune the history in the index: {e:#}");
            }
        }
        // What stays of ended shells is kept compressed once the index holds it.
        let compressed =
            index::Index::open(paths).and_then(|mut ix| index::compress::compress(&mut ix));
        if let Err(e) = compressed {
            eprintln!("snap: cannot compress the journals the index holds: {e:#}");
        }
    }
    plan
}

/// Remove from the index the commands started before `before_us` and the shells that
/// ended before it, their directories gone.
fn prune_index(paths: &Paths, before_us: i64) -> Result<()> {
    index::prune(&mut index::Index::open(paths)?, paths, before_us)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::shells;
    use crate::store::snapshots::tests::snap_live;

    const T: i64 = 1_764_043_200_000_000;
    const MIN: i64 = 60_000_000;

    fn at(min: i64, sessions: &[(&str, bool)]) -> (PathBuf, Summary) {
        let s = snap_live(T + min * MIN, sessions);
        (
            PathBuf::from(format!("/s/{min}.json")),
            Summary::of(&s).unwrap(),
        )
    }

    fn names(plan: &Plan) -> Vec<String> {
        plan.snapshots
            .iter()
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn busy_session_never_evicts_a_quiet_one() {
        let mut snaps = vec![at(0, &[("quiet", true)])];
        for m in 1..=10 {
            snaps.push(at(m, &[("busy", true)]));
        }
        let rules = Rules {
            keep: 3,
            max_age: None,
            history_max_age: None,
        };
        let p = plan(&snaps, &[], rules, T + 11 * MIN);
        assert_eq!(names(&p), ["1", "2", "3", "4", "5", "6", "7"]);
    }

    #[test]
    fn snapshots_of_a_dead_session_do_not_push_out_its_live_ones() {
        let mut snaps = vec![at(0, &[("s", true)]), at(1, &[("s", true)])];
        for m in 2..=8 {
            snaps.push(at(m, &[("s", false)]));
        }
        let rules = Rules {
            keep: 2,
            max_age: None,
            history_max_age: None,
        };
        let p = plan(&snaps, &[], rules, T + 9 * MIN);
        // The two live ones stay, and the newest overall.
        assert_eq!(names(&p), ["2", "3", "4", "5", "6", "7"]);
    }

    #[test]
    fn shells_go_only_by_the_history_age_and_never_while_alive() {
        let shell = |id: &str, last_min: i64, alive: bool| {
            let meta = shells::test_meta(id, 1, &timefmt::rfc3339_us(T), "s");
            let mut s = shells::from_records(meta, PathBuf::from(format!("/d/{id}")), vec![]);
            s.last_seen_us = T + last_min * MIN;
            s.alive = alive;
            s
        };
        let all = [
            shell("old", 0, false),
            shell("new", 50, false),
            shell("live", 0, true),
        ];
        let snaps = vec![at(0, &[("s", true)]), at(60, &[("s", true)])];
        let mut rules = Rules {
            keep: 1,
            max_age: None,
            history_max_age: None,
        };
        let p = plan(&snaps, &all, rules, T + 60 * MIN);
        assert!(
            p.shells.is_empty(),
            "snapshot retention keeps every journal"
        );
        assert_eq!(p.history_before_us, None);
        rules.history_max_age = Some(Duration::from_secs(30 * 60));
        let p = plan(&snaps, &all, rules, T + 60 * MIN);
        assert_eq!(p.shells, [PathBuf::from("/d/old")]);
        assert_eq!(p.history_before_us, Some(T + 30 * MIN));
    }

    #[test]
    fn max_age_keeps_each_sessions_newest() {
        let snaps = vec![
            at(0, &[("a", true)]),
            at(1, &[("a", true)]),
            at(100, &[("b", true)]),
        ];
        let rules = Rules {
            keep: 10,
            max_age: Some(Duration::from_secs(60 * 30)),
            history_max_age: None,
        };
        let p = plan(&snaps, &[], rules, T + 101 * MIN);
        assert_eq!(names(&p), ["0"]);
    }
}
