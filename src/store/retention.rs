//! Retention, per session: keep each session's last N snapshots in which it had live
//! shells (and none older than the maximum age, but always its newest), so frequent
//! checkpoints of one session never evict a quiet session's snapshots. The newest
//! snapshot overall always stays. Then shells that ended before their session's oldest
//! kept snapshot lose their directories, and finished journal segments that such
//! snapshots already hold go (never a shell's first segment: it holds the baseline
//! environment).
//!
//! Also `snap forget`: `$SNAP_HOME/forgotten.json` maps a session to when it was
//! forgotten; snapshots taken until then no longer show it, and captures leave out its
//! shells started before then.

use crate::config::Config;
use crate::snapshot_model::Snapshot;
use crate::store::atomic::write_atomic;
use crate::store::journal;
use crate::store::paths::{ensure_private_dir, Paths};
use crate::store::shells::{self, ShellState};
use crate::store::snapshots;
use crate::timefmt;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

/// How much to keep.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Each session's last N snapshots in which it had live shells.
    pub keep: usize,
    /// Snapshots older than this go (a session's newest one stays).
    pub max_age: Option<Duration>,
}

impl Rules {
    /// The rules of the config.
    pub fn from_config(cfg: &Config) -> Rules {
        Rules {
            keep: cfg.retention.keep,
            max_age: cfg.retention.max_age_dur,
        }
    }
}

/// What retention removes.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// Snapshot files.
    pub snapshots: Vec<PathBuf>,
    /// Shell directories.
    pub shells: Vec<PathBuf>,
    /// Journal segments.
    pub segments: Vec<PathBuf>,
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

#[cfg(test)]
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

/// A cache of summaries (`state/summaries.json`), by file name, length and mtime: a
/// snapshot file never changes once written, so most saves parse only the new one.
#[derive(Debug, Default, Serialize, Deserialize)]
struct SummaryCache {
    schema: u32,
    files: BTreeMap<String, (u64, i64, Summary)>,
}

/// The summaries of the snapshot files that are safe to read and of this schema, with
/// forgotten sessions dropped (the rest is left to the readers, which name bad files).
pub fn summaries(paths: &Paths, forgotten: &Forgotten) -> Vec<(PathBuf, Summary)> {
    let cache_path = paths.state.join("summaries.json");
    let old: SummaryCache = fs::read(&cache_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|c: &SummaryCache| c.schema == 1)
        .unwrap_or_default();
    let mut cache = SummaryCache {
        schema: 1,
        files: BTreeMap::new(),
    };
    let mut out = Vec::new();
    for path in snapshots::files(paths) {
        let Ok(meta) = snapshots::check_private(&path) else {
            continue;
        };
        let name = path
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let stamp = (meta.len(), meta.mtime() * 1_000_000_000 + meta.mtime_nsec());
        let summary = match old.files.get(&name) {
            Some((len, mtime, s)) if (*len, *mtime) == stamp => Some(s.clone()),
            _ => read_summary(&path),
        };
        let Some(summary) = summary else { continue };
        cache
            .files
            .insert(name, (stamp.0, stamp.1, summary.clone()));
        out.push((path, summary));
    }
    if cache.files != old.files {
        // A cache: renamed into place whole, but not worth an fsync (a lost or damaged
        // cache is rebuilt from the files).
        let saved = ensure_private_dir(&paths.state).and_then(|()| {
            let mut tmp = tempfile::Builder::new()
                .prefix(".tmp-")
                .tempfile_in(&paths.state)?;
            std::io::Write::write_all(&mut tmp, &serde_json::to_vec(&cache)?)?;
            tmp.persist(&cache_path)?;
            Ok(())
        });
        if let Err(e) = saved {
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
fn read_summary(path: &std::path::Path) -> Option<Summary> {
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
    forgotten: &Forgotten,
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
    // Per session: the oldest kept snapshot in which it had live shells.
    let mut oldest_live: BTreeMap<&str, i64> = BTreeMap::new();
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
        let chosen: Vec<usize> = live
            .iter()
            .rev()
            .take(rules.keep.max(1))
            .copied()
            .filter(|&i| i == newest || min_time.is_none_or(|m| taken[i] >= m))
            .collect();
        if let Some(&oldest) = chosen.last() {
            oldest_live.insert(name, taken[oldest]);
        }
        kept.extend(chosen);
    }
    let mut plan = Plan {
        snapshots: order
            .iter()
            .filter(|i| !kept.contains(i))
            .map(|&i| snaps[i].0.clone())
            .collect(),
        ..Plan::default()
    };

    for sh in shells {
        let name = sh.meta.session.as_str();
        if !sh.alive && is_forgotten(forgotten, name, &sh.meta.started_at) {
            plan.shells.push(sh.dir.clone());
            continue;
        }
        let Some(&since) = oldest_live.get(name) else {
            continue;
        };
        let gone_at = sh.ended_us.unwrap_or(sh.last_seen_us);
        if !sh.alive && gone_at < since {
            plan.shells.push(sh.dir.clone());
            continue;
        }
        let segs = journal::segments(&sh.dir);
        if segs.len() > 2 {
            for seg in &segs[1..segs.len() - 1] {
                let newest = fs::read(seg)
                    .map(|b| journal::parse(&b).records.iter().map(|r| r.time_us()).max())
                    .ok()
                    .flatten();
                if newest.is_some_and(|t| t < since) {
                    plan.segments.push(seg.clone());
                }
            }
        }
    }
    plan
}

/// Remove what the plan names; a failure is reported and the rest still goes.
pub fn apply(plan: &Plan) -> Vec<String> {
    let mut errors = Vec::new();
    for p in plan.snapshots.iter().chain(&plan.segments) {
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

/// Plan (and unless `dry_run`, apply) retention over the whole store.
pub fn run(paths: &Paths, rules: Rules, dry_run: bool) -> Plan {
    run_with(paths, rules, &shells::load_all(paths), dry_run)
}

/// [`run`] with the shells already loaded.
pub fn run_with(paths: &Paths, rules: Rules, all_shells: &[ShellState], dry_run: bool) -> Plan {
    let forgotten = forgotten(paths);
    let plan = plan(
        &summaries(paths, &forgotten),
        all_shells,
        &forgotten,
        rules,
        timefmt::now_us(),
    );
    if !dry_run {
        for e in apply(&plan) {
            eprintln!("snap: {e}");
        }
    }
    plan
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
        };
        let p = plan(&snaps, &[], &Forgotten::new(), rules, T + 11 * MIN);
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
        };
        let p = plan(&snaps, &[], &Forgotten::new(), rules, T + 9 * MIN);
        // The two live ones stay, and the newest overall.
        assert_eq!(names(&p), ["2", "3", "4", "5", "6", "7"]);
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
        };
        let p = plan(&snaps, &[], &Forgotten::new(), rules, T + 101 * MIN);
        assert_eq!(names(&p), ["0"]);
    }

    #[test]
    fn summaries_come_from_the_cache_and_follow_the_files() {
        let tmp = tempfile::tempdir().unwrap();
        let p = crate::store::snapshots::tests::paths(tmp.path());
        let (_, a) = snap_at(1, &[("a", true)]);
        let (_, b) = snap_at(2, &[("b", false)]);
        crate::store::snapshots::save(&p, &a).unwrap();
        let first = summaries(&p, &Forgotten::new());
        assert_eq!(first.len(), 1);
        assert!(p.state.join("summaries.json").exists());
        let path_b = crate::store::snapshots::save(&p, &b).unwrap();
        let second = summaries(&p, &Forgotten::new());
        assert_eq!(
            second.iter().map(|x| x.1.clone()).collect::<Vec<_>>(),
            [Summary::of(&a), Summary::of(&b)]
        );
        // Cached or not, the same answer; a file that turns bad drops out.
        assert_eq!(summaries(&p, &Forgotten::new()), second);
        fs::write(&path_b, b"{").unwrap();
        assert_eq!(summaries(&p, &Forgotten::new()).len(), 1);
        let f: Forgotten = [("a".to_string(), T + 5 * MIN)].into_iter().collect();
        assert!(summaries(&p, &f)[0].1.sessions.is_empty());
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
