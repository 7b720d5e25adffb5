//! What readers need of each snapshot without the rest of the file (retention: when,
//! and which sessions had live shells; `list`: its label and processes; restore: which
//! one to read), cached in the index so that most commands parse only a new snapshot
//! file, however many the store keeps.

use crate::model::snapshot::Snapshot;
use crate::store::forgotten::Forgotten;
use crate::store::index;
use crate::store::paths::Paths;
use crate::store::snapshots;
use crate::timefmt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The summary format: a cached summary of another is read again from its file.
const VERSION: u32 = 1;

/// A snapshot, read without the rest of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub id: String,
    pub taken_us: i64,
    /// Each session, and whether it had a live shell.
    pub sessions: Vec<(String, bool)>,
    #[serde(default)]
    pub version: u32,
    /// As the snapshot says it.
    #[serde(default)]
    pub taken_at: String,
    #[serde(default)]
    pub label: Option<String>,
    /// How many processes each session's shells had.
    #[serde(default)]
    pub processes: BTreeMap<String, usize>,
}

impl Summary {
    /// The summary of a snapshot; None when its time does not parse.
    pub fn of(s: &Snapshot) -> Option<Summary> {
        Some(Summary {
            id: s.id.clone(),
            taken_us: timefmt::parse_us(&s.taken_at)?,
            sessions: s
                .sessions
                .iter()
                .map(|x| (x.name.clone(), x.shells.iter().any(|sh| sh.alive)))
                .collect(),
            version: VERSION,
            taken_at: s.taken_at.clone(),
            label: s.label.clone(),
            processes: s
                .sessions
                .iter()
                .map(|x| {
                    (
                        x.name.clone(),
                        x.shells.iter().map(|sh| sh.processes.len()).sum(),
                    )
                })
                .collect(),
        })
    }

    /// How many processes the sessions it still shows had (forgotten ones left out).
    pub fn process_count(&self) -> usize {
        self.sessions
            .iter()
            .filter_map(|(name, _)| self.processes.get(name))
            .sum()
    }
}

/// The snapshot files, as summaries: the good ones (oldest first), and the files that
/// are not safe to read or not snapshots of this schema, with why.
#[derive(Debug, Default)]
pub struct Listing {
    pub good: Vec<(PathBuf, Summary)>,
    pub bad: Vec<(PathBuf, String)>,
}

/// The summaries of the snapshot files that are safe to read and of this schema, with
/// forgotten sessions dropped (the rest is left to the readers, which name bad files).
pub fn summaries(
    paths: &Paths,
    forgotten: &Forgotten,
    saved: Option<(&Path, &Snapshot)>,
) -> Vec<(PathBuf, Summary)> {
    listing_after(paths, forgotten, saved).good
}

/// Every snapshot file summarised, forgotten sessions dropped from the good ones.
pub fn listing(paths: &Paths, forgotten: &Forgotten) -> Listing {
    listing_after(paths, forgotten, None)
}

/// [`listing`], cached in the index by file name, length and mtime: a snapshot file
/// never changes once written, and `saved`, one just written (and checked) at that path,
/// is summed up from memory: a save parses none.
fn listing_after(
    paths: &Paths,
    forgotten: &Forgotten,
    saved: Option<(&Path, &Snapshot)>,
) -> Listing {
    let mut ix = index::Index::open(paths).ok();
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
    let mut out = Listing::default();
    for path in snapshots::files(paths) {
        let meta = match snapshots::check_private(&path) {
            Ok(m) => m,
            Err(e) => {
                out.bad.push((path, format!("{e:#}")));
                continue;
            }
        };
        let name = path
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let stamp = (meta.len(), meta.mtime() * 1_000_000_000 + meta.mtime_nsec());
        let summary = match (old.get(&name), saved) {
            (Some((len, mtime, s)), _) if (*len, *mtime) == stamp && s.version == VERSION => {
                Ok(s.clone())
            }
            (_, Some((p, snap))) if p == path => of_snapshot(&path, snap),
            _ => read_summary(&path),
        };
        match summary {
            Ok(summary) => {
                cache.insert(name, (stamp.0, stamp.1, summary.clone()));
                out.good.push((path, summary));
            }
            Err(why) => out.bad.push((path, why)),
        }
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
    for (_, s) in &mut out.good {
        let taken = s.taken_us;
        s.sessions
            .retain(|(n, _)| forgotten.get(n).is_none_or(|&at| taken > at));
    }
    out.good.sort_by(|a, b| a.1.id.cmp(&b.1.id));
    out
}

/// Read a snapshot file's summary; why not when it is not a valid snapshot of this
/// schema (fully validated, as every reader does: retention never removes what it
/// cannot read).
fn read_summary(path: &Path) -> Result<Summary, String> {
    let snap = snapshots::load(path).map_err(|e| format!("{e:#}"))?;
    of_snapshot(path, &snap)
}

/// The summary of `snap`, read from `path`, or why it has none.
fn of_snapshot(path: &Path, snap: &Snapshot) -> Result<Summary, String> {
    Summary::of(snap).ok_or_else(|| {
        format!(
            "{}: taken_at {:?} is not an RFC 3339 time",
            path.display(),
            snap.taken_at
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::snapshots::tests::snap_live;
    use std::fs;

    const T: i64 = 1_764_043_200_000_000;
    const MIN: i64 = 60_000_000;

    #[test]
    fn summaries_come_from_the_cache_and_follow_the_files() {
        let tmp = tempfile::tempdir().unwrap();
        let p = snapshots::tests::paths(tmp.path());
        let a = snap_live(T + MIN, &[("a", true)]);
        let b = snap_live(T + 2 * MIN, &[("b", false)]);
        snapshots::save(&p, &a).unwrap();
        let first = summaries(&p, &Forgotten::new(), None);
        assert_eq!(first.len(), 1);
        let ix = index::Index::open(&p).unwrap();
        assert_eq!(index::snapshot_summaries(&ix).unwrap().len(), 1);
        let path_b = snapshots::save(&p, &b).unwrap();
        let second = summaries(&p, &Forgotten::new(), None);
        assert_eq!(
            second.iter().map(|x| x.1.clone()).collect::<Vec<_>>(),
            [Summary::of(&a).unwrap(), Summary::of(&b).unwrap()]
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
        let p = snapshots::tests::paths(tmp.path());
        let a = snap_live(T + MIN, &[("a", true)]);
        let path = snapshots::save(&p, &a).unwrap();
        // Were the file read, it would not parse: the summary comes from memory.
        fs::write(&path, b"{").unwrap();
        let got = summaries(&p, &Forgotten::new(), Some((&path, &a)));
        assert_eq!(got, [(path, Summary::of(&a).unwrap())]);
    }
}
