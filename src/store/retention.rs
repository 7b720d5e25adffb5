//! Retention, per session: keep each session's last N snapshots in which it had live
//! shells (and none older than the maximum age, but always its newest), so frequent
//! checkpoints of one session never evict a quiet session's snapshots. The newest
//! snapshot overall always stays.
//!
//! History is another matter: every command stays in the index, and every ended
//! shell's journal stays on disk (so `snap reindex` can rebuild the index), until
//! history pruning (`[retention] history_max_age`, `snap prune --history-older-than`)
//! removes the commands older than its age and the shells that ended before it.
//!
//! Also `snap forget`: `$SNAP_HOME/forgotten.json` maps a session to when it was
//! forgotten; snapshots taken until then no longer show it, and captures leave out its
//! shells started before then.

use crate::config::Config;
use crate::snapshot_model::Snapshot;
use crate::store::atomic::write_atomic;
use crate::store::index;
use crate::store::paths::{ensure_private_dir, Paths};
use crate::store::shells::{self, ShellState};
use crate::store::snapshots;
use crate::timefmt;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
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

/// Sessions forgotten, and when (µs since the epoch).
pub type Forgotten = BTreeMap<String, i64>;

#[derive(Debug, Default, Serialize, Deserialize)]
struct ForgottenFile {
    schema: u32,
    /// Session name → RFC 3339 time it was forgotten.
    sessions: BTreeMap<String, String>,
}

fn forgotten_path(paths: &Paths) -> PathBuf {
    paths.data.join("forgotten.json")
}

/// The forgotten sessions (a damaged file is named on stderr and treated as empty).
pub fn forgotten(paths: &Paths) -> Forgotten {
    let path = forgotten_path(paths);
    let Ok(bytes) = fs::read(&path) else {
        return Forgotten::new();
    };
    match serde_json::from_slice::<ForgottenFile>(&bytes) {
        Ok(f) => f
            .sessions
            .into_iter()
            .filter_map(|(k, v)| Some((k, timefmt::parse_us(&v)?)))
            .collect(),
        Err(e) => {
            eprintln!("snap: {}: cannot read ({e}): ignored", path.display());
            Forgotten::new()
        }
    }
}

/// Drop a session from future restores: from now on, snapshots taken until now do not
/// show it and captures leave out its shells started until now.
pub fn forget(paths: &Paths, session: &str, now_us: i64) -> Result<()> {
    let mut all = forgotten(paths);
    all.insert(session.to_string(), now_us);
    let file = ForgottenFile {
        schema: 1,
        sessions: all
            .into_iter()
            .map(|(k, v)| (k, timefmt::rfc3339_us(v)))
            .collect(),
    };
    ensure_private_dir(&paths.data)?;
    write_atomic(&forgotten_path(paths), &serde_json::to_vec_pretty(&file)?)
        .context("cannot record the forgotten session")
}

/// Remove forgotten sessions from a snapshot taken before they were forgotten.
pub fn drop_forgotten(snap: &mut Snapshot, forgotten: &Forgotten) {
    if forgotten.is_empty() {
        return;
    }
    let taken = timefmt::parse_us(&snap.taken_at).unwrap_or(0);
    snap.sessions
        .retain(|s| forgotten.get(&s.name).is_none_or(|&at| taken > at));
}

/// Was this shell (by session and start) forgotten?
pub fn is_forgotten(forgotten: &Forgotten, session: &str, started_at: &str) -> bool {
    let started = timefmt::parse_us(started_at).unwrap_or(0);
    forgotten.get(session).is_some_and(|&at| started <= at)
}

/// What retention needs of a snapshot: read without the rest of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub id: String,
    pub taken_us: i64,
    /// Each session, and whether it had a live shell.
    pub sessions: Vec<(String, bool)>,
}

impl Summary {
    /// The summary of a snapshot.
    pub fn of(s: &Snapshot) -> Summary {
        Summary {
            id: s.id.clone(),
            taken_us: timefmt::parse_us(&s.taken_at).unwrap_or(0),
            sessions: s
                .sessions
                .iter()
                .map(|x| (x.name.clone(), x.shells.iter().any(|sh| sh.alive)))
                .collect(),
        }
    }
}

/// The summaries of the snapshot files that are safe to read and of this schema, with
/// forgotten sessions dropped (the rest is left to the readers, which name bad files).
/// Cached in the index by file name, length and mtime: a snapshot file never changes
/// once written, and `saved`, one just written (and checked) at that path, is summed up
/// from memory: a save parses none.
pub fn summaries(
    paths: &Paths,
    forgotten: &Forgotten,
    saved: Option<(&Path, &Snapshot)>,
) -> Vec<(PathBuf, Summary)> {
    let mut ix = index::Index::open(paths, index::Wait::Block).ok().flatten();
    let old: BTreeMap<String, (u64, i64, Summary)> = ix
        .as_ref()
        .and_then(|ix| index::snapshot_summaries(ix).ok())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(file, len, mtime, json)| {
            Some((file, (len, mtime, serde_json::from_str(&json).ok()?)))
        })
        .collect();
    let mut cache: BTreeMap<String, (u64, i64, Summary)> = BTreeMap::new();
    let mut out = Vec::new();
    for path in snapshots::files(paths) {
        let Ok(meta) = snapshots::check_private(&path) else {
            continue;
        };
        let name = path
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let stamp = (meta.len(), meta.mtime() * 1_000_000_000 + meta.mtime_nsec());
        let summary = match (old.get(&name), saved) {
            (Some((len, mtime, s)), _) if (*len, *mtime) == stamp => Some(s.clone()),
            (_, Some((p, snap))) if p == path => Some(Summary::of(snap)),
            _ => read_summary(&path),
        };
        let Some(summary) = summary else { continue };
        cache.insert(name, (stamp.0, stamp.1, summary.clone()));
        out.push((path, summary));
    }
    if let (Some(ix), true) = (ix.as_mut(), cache != old) {
        // A cache: a lost one is rebuilt from the files.
        let rows: Vec<index::SummaryRow> = cache
            .iter()
            .filter_map(|(f, (len, mtime, s))| {
                Some((f.clone(), *len, *mtime, serde_json::to_string(s).ok()?))
            })
            .collect();
        if let Err(e) = index::store_snapshot_summaries(ix, &rows) {
            eprintln!("snap: cannot cache snapshot summaries: {e:#}");
        }
    }
    for (_, s) in &mut out {
        let taken = s.taken_us;
        s.sessions
            .retain(|(n, _)| forgotten.get(n).is_none_or(|&at| taken > at));
    }
    out
}

/// Read a snapshot file's summary; None when it is not a valid snapshot of this schema
/// (fully validated, as every reader does: retention never removes what it cannot read).
fn read_summary(path: &Path) -> Option<Summary> {
    let snap = crate::store::snapshots::load(path).ok()?;
    Some(Summary {
        taken_us: timefmt::parse_us(&snap.taken_at)?,
        id: snap.id,
        sessions: snap
            .sessions
            .into_iter()
            .map(|s| {
                let alive = s.shells.iter().any(|sh| sh.alive);
                (s.name, alive)
            })
            .collect(),
    })
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

/// Plan (and unless `dry_run`, apply) retention over the whole store: the shells as
/// the index knows them (it has read every journal), else as the journals say.
pub fn run(paths: &Paths, rules: Rules, dry_run: bool) -> Plan {
    let indexed = index::open_ingested(paths, index::Wait::Block)
        .ok()
        .flatten()
        .and_then(|ix| index::query::shells(&ix, &paths.shells(), None).ok());
    let all = match indexed {
        Some(mut all) => {
            let pids: Vec<(u32, Option<u64>)> = all
                .iter()
                .map(|s| (s.meta.pid, s.meta.pid_started))
                .collect();
            shells::settle(&mut all, &crate::liveness::alive_now(&pids));
            // Shells known only from snapshots have no directory to remove.
            all.retain(|s| s.dir.is_dir());
            all
        }
        None => shells::load_all(paths),
    };
    run_with(paths, rules, &all, dry_run, None)
}

/// [`run`] with the shells already loaded, after `saved` (see [`summaries`]).
pub fn run_with(
    paths: &Paths,
    rules: Rules,
    all_shells: &[ShellState],
    dry_run: bool,
    saved: Option<(&Path, &Snapshot)>,
) -> Plan {
    let forgotten = forgotten(paths);
    let plan = plan(
        &summaries(paths, &forgotten, saved),
        all_shells,
        rules,
        timefmt::now_us(),
    );
    if !dry_run {
        if let Some(before) = plan.history_before_us {
            // The index first: a shell directory goes only once its rows are gone.
            if let Err(e) = prune_index(paths, before, &plan.shells) {
                eprintln!("snap: cannot prune the history in the index: {e:#}");
                return plan;
            }
        }
        for e in apply(&plan) {
            eprintln!("snap: {e}");
        }
    }
    plan
}

/// Remove from the index the commands started before `before_us` and the shells whose
/// directories go.
fn prune_index(paths: &Paths, before_us: i64, dirs: &[PathBuf]) -> Result<()> {
    let Some(mut ix) = index::Index::open(paths, index::Wait::Block)? else {
        anyhow::bail!("the index is busy");
    };
    let ids: Vec<String> = dirs
        .iter()
        .filter_map(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    index::prune(&mut ix, before_us, &ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot_model::{SessionSnap, ShellSnap};
    use crate::store::snapshots::tests::snap;

    const T: i64 = 1_764_043_200_000_000;
    const MIN: i64 = 60_000_000;

    fn shell(id: &str, alive: bool) -> ShellSnap {
        ShellSnap {
            id: id.into(),
            kind: "bash".into(),
            pid: 1,
            alive,
            ended: None,
            ended_at: None,
            started_at: timefmt::rfc3339_us(T),
            last_seen: String::new(),
            tty: None,
            replaces: None,
            project_dir: String::new(),
            cwd: "/".into(),
            env: BTreeMap::new(),
            running: None,
            running_policy: None,
            running_resume: None,
            pending: None,
            history: vec![],
            tmux: None,
            screen: None,
            processes: vec![],
        }
    }

    fn at(min: i64, sessions: &[(&str, bool)]) -> (PathBuf, Summary) {
        let (p, s) = snap_at(min, sessions);
        (p, Summary::of(&s))
    }

    fn snap_at(min: i64, sessions: &[(&str, bool)]) -> (PathBuf, Snapshot) {
        let mut s = snap(T + min * MIN, &[]);
        s.sessions = sessions
            .iter()
            .map(|(n, alive)| SessionSnap {
                name: n.to_string(),
                agent: serde_json::Value::Null,
                shells: vec![shell("x", *alive)],
            })
            .collect();
        (PathBuf::from(format!("/s/{min}.json")), s)
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

    #[test]
    fn summaries_come_from_the_cache_and_follow_the_files() {
        let tmp = tempfile::tempdir().unwrap();
        let p = crate::store::snapshots::tests::paths(tmp.path());
        let (_, a) = snap_at(1, &[("a", true)]);
        let (_, b) = snap_at(2, &[("b", false)]);
        crate::store::snapshots::save(&p, &a).unwrap();
        let first = summaries(&p, &Forgotten::new(), None);
        assert_eq!(first.len(), 1);
        let ix = index::Index::open(&p, index::Wait::Block).unwrap().unwrap();
        assert_eq!(index::snapshot_summaries(&ix).unwrap().len(), 1);
        let path_b = crate::store::snapshots::save(&p, &b).unwrap();
        let second = summaries(&p, &Forgotten::new(), None);
        assert_eq!(
            second.iter().map(|x| x.1.clone()).collect::<Vec<_>>(),
            [Summary::of(&a), Summary::of(&b)]
        );
        // Cached or not, the same answer; a file that turns bad drops out.
        assert_eq!(summaries(&p, &Forgotten::new(), None), second);
        fs::write(&path_b, b"{").unwrap();
        assert_eq!(summaries(&p, &Forgotten::new(), None).len(), 1);
        let f: Forgotten = [("a".to_string(), T + 5 * MIN)].into_iter().collect();
        assert!(summaries(&p, &f, None)[0].1.sessions.is_empty());
    }

    #[test]
    fn a_snapshot_just_saved_is_summed_up_without_reading_it_back() {
        let tmp = tempfile::tempdir().unwrap();
        let p = crate::store::snapshots::tests::paths(tmp.path());
        let (_, a) = snap_at(1, &[("a", true)]);
        let path = crate::store::snapshots::save(&p, &a).unwrap();
        // Were the file read, it would not parse: the summary comes from memory.
        fs::write(&path, b"{").unwrap();
        let got = summaries(&p, &Forgotten::new(), Some((&path, &a)));
        assert_eq!(got, [(path, Summary::of(&a))]);
    }

    #[test]
    fn forgotten_sessions_drop_out_of_snapshots() {
        let (_, mut s) = snap_at(5, &[("a", true), ("b", true)]);
        let f: Forgotten = [("a".to_string(), T + 6 * MIN)].into_iter().collect();
        drop_forgotten(&mut s, &f);
        assert_eq!(s.sessions.len(), 1);
        assert_eq!(s.sessions[0].name, "b");
        let (_, mut later) = snap_at(7, &[("a", true)]);
        drop_forgotten(&mut later, &f);
        assert_eq!(later.sessions.len(), 1);
        assert!(is_forgotten(&f, "a", &timefmt::rfc3339_us(T)));
        assert!(!is_forgotten(&f, "a", &timefmt::rfc3339_us(T + 7 * MIN)));
    }
}
