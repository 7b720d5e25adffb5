//! `snap forget`: `$SNAP_HOME/forgotten.json` maps a session to when it was forgotten;
//! snapshots taken until then no longer show it, and captures leave out its shells
//! started before then.

use crate::model::snapshot::Snapshot;
use crate::store::atomic::write_atomic;
use crate::store::paths::{ensure_private_dir, Paths};
use crate::timefmt;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::snapshots::tests::snap_live;

    const T: i64 = 1_764_043_200_000_000;
    const MIN: i64 = 60_000_000;

    #[test]
    fn forgotten_sessions_drop_out_of_snapshots() {
        let mut s = snap_live(T + 5 * MIN, &[("a", true), ("b", true)]);
        let f: Forgotten = [("a".to_string(), T + 6 * MIN)].into_iter().collect();
        drop_forgotten(&mut s, &f);
        assert_eq!(s.sessions.len(), 1);
        assert_eq!(s.sessions[0].name, "b");
        let mut later = snap_live(T + 7 * MIN, &[("a", true)]);
        drop_forgotten(&mut later, &f);
        assert_eq!(later.sessions.len(), 1);
        assert!(is_forgotten(&f, "a", &timefmt::rfc3339_us(T)));
        assert!(!is_forgotten(&f, "a", &timefmt::rfc3339_us(T + 7 * MIN)));
    }
}
