//! The snapshot store: `$SNAP_HOME/snapshots/<id>.json`, ids sorting by time.
//!
//! Writes are atomic ([`write_new_verified`]: temp file in the same directory, fsync,
//! read back and validated, rename, fsync the directory): a reader sees a whole snapshot
//! or none. Readers skip,
//! and name on stderr, every file that does not parse, is of an unknown schema, or is not
//! private (owned by someone else, or writable by group or others); nothing is ever
//! deleted or rewritten for being unreadable.
//!
//! For restore and the brief: [`list_good`] (oldest first), [`latest`], [`find`]
//! (an id or `latest`), [`load`] (one file, refused when not safe). Sessions dropped by
//! `snap forget` are left out of what these return.

use crate::model::snapshot::{Snapshot, SNAPSHOT_SCHEMA};
use crate::store::atomic::{is_temp_name, write_new_verified};
use crate::store::forgotten;
use crate::store::paths::{ensure_private_dir, is_safe_component, Paths};
use anyhow::{anyhow, bail, Context, Result};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The snapshot files found, parsed, and the ones skipped with why.
#[derive(Debug, Default)]
pub struct Listing {
    /// Good snapshots, oldest first.
    pub good: Vec<(PathBuf, Snapshot)>,
    /// Files skipped, with the reason.
    pub bad: Vec<(PathBuf, String)>,
}

/// A new snapshot id for `now_us` (µs since the epoch): sorts by time.
pub fn new_id(now_us: i64) -> String {
    let t = chrono::DateTime::<chrono::Utc>::from_timestamp_micros(now_us).unwrap_or_default();
    format!(
        "{}-{:06}-{:x}",
        t.format("%Y%m%dT%H%M%S"),
        now_us.rem_euclid(1_000_000),
        std::process::id()
    )
}

/// When the snapshot with this id was taken (µs since the epoch): the id keeps the
/// microseconds `taken_at` leaves out. None for an id [`new_id`] did not make.
pub fn id_time_us(id: &str) -> Option<i64> {
    let (secs, rest) = id.split_once('-')?;
    let micros: i64 = rest.split('-').next()?.parse().ok()?;
    let t = chrono::NaiveDateTime::parse_from_str(secs, "%Y%m%dT%H%M%S").ok()?;
    (0..1_000_000)
        .contains(&micros)
        .then(|| t.and_utc().timestamp() * 1_000_000 + micros)
}

/// Save a snapshot atomically; it counts (is listed) only once written whole and valid.
pub fn save(paths: &Paths, snap: &Snapshot) -> Result<PathBuf> {
    validate(snap)?;
    let dir = paths.snapshots();
    ensure_private_dir(&paths.data)?;
    ensure_private_dir(&dir)?;
    let path = dir.join(format!("{}.json", snap.id));
    let bytes = serde_json::to_vec(snap)?;
    // What is on disk must be exactly what was serialized from the checked value, and
    // must load as every reader will load it: a snapshot no reader can parse (nested
    // past serde_json's limit, say) never becomes latest.
    let readable = |back: &[u8]| {
        parse(back)
            .map(drop)
            .map_err(|e| anyhow!("it would not be readable ({e:#})"))
    };
    write_new_verified(&path, &bytes, &readable).with_context(|| {
        format!(
            "snapshot {} not saved: earlier snapshots are intact",
            snap.id
        )
    })?;
    remove_stale_temp_files(&dir, std::time::Duration::from_secs(600));
    Ok(path)
}

/// Remove temporary files that a save killed mid-way left behind (`.tmp-*.partial`,
/// older than `age`, so never one a running save still writes). They were never
/// snapshots and are never listed; nothing else is touched.
fn remove_stale_temp_files(dir: &Path, age: std::time::Duration) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !is_temp_name(&name) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|e| e > age);
        if old {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Parse and check a snapshot's bytes.
pub fn parse(bytes: &[u8]) -> Result<Snapshot> {
    // The common case in one pass; anything else takes the checked path for its error.
    if let Ok(snap) = serde_json::from_slice::<Snapshot>(bytes) {
        if snap.schema == SNAPSHOT_SCHEMA {
            validate(&snap)?;
            return Ok(snap);
        }
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        if bytes.iter().all(|&b| b == 0) {
            anyhow!("empty or zero-filled")
        } else {
            anyhow!("not JSON ({e})")
        }
    })?;
    let schema = value.get("schema").and_then(serde_json::Value::as_u64);
    match schema {
        Some(s) if s == u64::from(SNAPSHOT_SCHEMA) => {}
        Some(s) if s > u64::from(SNAPSHOT_SCHEMA) => bail!(
            "schema {s} was written by a newer snap (this one reads schema {SNAPSHOT_SCHEMA}): upgrade snap"
        ),
        Some(s) => bail!(
            "schema {s} is older than any this snap reads ({SNAPSHOT_SCHEMA}) and has no migration"
        ),
        None => bail!("not a snapshot (no schema)"),
    }
    let snap: Snapshot =
        serde_json::from_value(value).map_err(|e| anyhow!("not a snapshot ({e})"))?;
    validate(&snap)?;
    Ok(snap)
}

fn validate(snap: &Snapshot) -> Result<()> {
    if snap.schema != SNAPSHOT_SCHEMA {
        bail!("unknown schema {}", snap.schema);
    }
    if !is_safe_component(&snap.id) || snap.id.starts_with('.') {
        bail!("bad snapshot id {:?}", snap.id);
    }
    if crate::timefmt::parse_us(&snap.taken_at).is_none() {
        bail!("bad taken_at {:?}", snap.taken_at);
    }
    Ok(())
}

/// Is this file safe to read: a regular file owned by this user, not writable by group
/// or others? Returns its metadata.
pub fn check_private(path: &Path) -> Result<fs::Metadata> {
    let meta =
        fs::symlink_metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.is_file() {
        bail!("{} is not a regular file", path.display());
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        bail!(
            "{} is owned by uid {}, not by you (uid {me}): refused; move it away",
            path.display(),
            meta.uid()
        );
    }
    if meta.mode() & 0o022 != 0 {
        bail!(
            "{} is writable by group or others (mode {:o}): refused; `chmod 600` it if you trust it",
            path.display(),
            meta.mode() & 0o777
        );
    }
    Ok(meta)
}

/// Load one snapshot file; refused when it is not private or not a valid snapshot.
/// Sessions dropped by `snap forget` are not removed here: see [`list`].
pub fn load(path: &Path) -> Result<Snapshot> {
    check_private(path)?;
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&bytes).with_context(|| format!("{}: cannot use this snapshot", path.display()))
}

/// The snapshot files (`*.json`, temp files left out), by name (so by time).
pub fn files(paths: &Paths) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(paths.snapshots()) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

/// Every snapshot file, good ones parsed (oldest first), bad ones with their reason.
/// Forgotten sessions are removed from the good snapshots.
pub fn list(paths: &Paths) -> Listing {
    let mut listing = Listing::default();
    let files = files(paths);
    let forgotten = forgotten::forgotten(paths);
    for path in files {
        match load(&path) {
            Ok(mut snap) => {
                forgotten::drop_forgotten(&mut snap, &forgotten);
                listing.good.push((path, snap));
            }
            Err(e) => listing.bad.push((path, format!("{e:#}"))),
        }
    }
    listing.good.sort_by(|a, b| a.1.id.cmp(&b.1.id));
    listing
}

/// Name the skipped files on stderr.
pub fn report_bad(bad: &[(PathBuf, String)]) {
    for (path, why) in bad {
        let why = why
            .strip_prefix(&format!("{}: ", path.display()))
            .unwrap_or(why);
        eprintln!(
            "snap: skipped snapshot {}: {why} (left as it is)",
            path.display()
        );
    }
}

/// The good snapshots, oldest first; bad files named on stderr.
pub fn list_good(paths: &Paths) -> Vec<(PathBuf, Snapshot)> {
    let listing = list(paths);
    report_bad(&listing.bad);
    listing.good
}

/// The newest good snapshot, if any; the bad files newer than it named on stderr.
/// Reads files newest first until one is good, not every snapshot.
pub fn latest(paths: &Paths) -> Option<(PathBuf, Snapshot)> {
    let forgotten = forgotten::forgotten(paths);
    for path in files(paths).into_iter().rev() {
        match load(&path) {
            Ok(mut snap) => {
                forgotten::drop_forgotten(&mut snap, &forgotten);
                return Some((path, snap));
            }
            Err(e) => report_bad(&[(path, format!("{e:#}"))]),
        }
    }
    None
}

/// A snapshot by id (or `latest`); a named file that is not safe or not valid is an error.
pub fn find(paths: &Paths, id: &str) -> Result<(PathBuf, Snapshot)> {
    if id == "latest" {
        return latest(paths).ok_or_else(|| {
            anyhow!(
                "no snapshot in {} yet: take one with `snap save`",
                paths.snapshots().display()
            )
        });
    }
    let id = id.strip_suffix(".json").unwrap_or(id);
    if !is_safe_component(id) || id.starts_with('.') {
        bail!("{id:?} is not a snapshot id: see `snap list`");
    }
    let path = paths.snapshots().join(format!("{id}.json"));
    if !path.exists() {
        bail!("no snapshot {id}: see `snap list`");
    }
    let mut snap = load(&path)?;
    forgotten::drop_forgotten(&mut snap, &forgotten::forgotten(paths));
    Ok((path, snap))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::snapshot::{SessionSnap, ShellSnap};
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn stale_temp_files_of_killed_saves_go_and_nothing_else() {
        let tmp = tempfile::tempdir().unwrap();
        let stale = tmp.path().join(".tmp-abc.partial");
        let young = tmp.path().join(".tmp-def.partial");
        let other = tmp.path().join("garbage.json");
        for f in [&stale, &young, &other] {
            fs::write(f, b"x").unwrap();
        }
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for f in [&stale, &other] {
            fs::File::options()
                .write(true)
                .open(f)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        remove_stale_temp_files(tmp.path(), std::time::Duration::from_secs(600));
        assert!(!stale.exists());
        assert!(young.exists());
        assert!(other.exists());
    }

    pub(crate) fn paths(dir: &Path) -> Paths {
        Paths {
            data: dir.to_path_buf(),
            state: dir.join("state"),
            config_file: dir.join("config.toml"),
        }
    }

    pub(crate) fn snap(us: i64, sessions: &[&str]) -> Snapshot {
        Snapshot {
            schema: SNAPSHOT_SCHEMA,
            id: new_id(us),
            taken_at: crate::timefmt::rfc3339_us(us),
            host: "h".into(),
            label: None,
            redacted: vec![],
            sessions: sessions
                .iter()
                .map(|n| SessionSnap {
                    name: n.to_string(),
                    agent: serde_json::Value::Null,
                    shells: vec![],
                })
                .collect(),
        }
    }

    /// A snapshot taken at `us` of these sessions, each with one shell, alive or not.
    pub(crate) fn snap_live(us: i64, sessions: &[(&str, bool)]) -> Snapshot {
        let mut s = snap(us, &[]);
        s.sessions = sessions
            .iter()
            .map(|(n, alive)| SessionSnap {
                name: n.to_string(),
                agent: serde_json::Value::Null,
                shells: vec![shell("x", us, *alive)],
            })
            .collect();
        s
    }

    fn shell(id: &str, started_us: i64, alive: bool) -> ShellSnap {
        ShellSnap {
            id: id.into(),
            kind: "bash".into(),
            pid: 1,
            alive,
            ended: None,
            ended_at: None,
            started_at: crate::timefmt::rfc3339_us(started_us),
            last_seen: String::new(),
            tty: None,
            replaces: None,
            project_dir: String::new(),
            cwd: "/".into(),
            env: Default::default(),
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

    #[test]
    fn save_then_list_newest_last_and_files_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let p = paths(tmp.path());
        let t = 1_764_043_200_000_000;
        for i in [3, 1, 2] {
            save(&p, &snap(t + i * 1_000_000, &["a"])).unwrap();
        }
        let good = list_good(&p);
        assert_eq!(good.len(), 3);
        assert!(good.windows(2).all(|w| w[0].1.id < w[1].1.id));
        assert_eq!(
            latest(&p).unwrap().1.taken_at,
            crate::timefmt::rfc3339_us(t + 3_000_000)
        );
        let mode = fs::metadata(&good[0].0).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dmode = fs::metadata(p.snapshots()).unwrap().permissions().mode() & 0o777;
        assert_eq!(dmode, 0o700);
    }

    #[test]
    fn corrupt_files_are_named_skipped_and_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let p = paths(tmp.path());
        let t = 1_764_043_200_000_000;
        let good = snap(t, &["a"]);
        save(&p, &good).unwrap();
        let dir = p.snapshots();
        let bad: Vec<(&str, Vec<u8>)> = vec![
            (
                "20991231T000000-000000-1.json",
                b"{\"schema\":1,\"id\":\"x\"".to_vec(),
            ),
            ("20991231T000000-000000-2.json", vec![]),
            ("20991231T000000-000000-3.json", vec![0; 64]),
            ("20991231T000000-000000-4.json", b"{\"schema\":99}".to_vec()),
            ("20991231T000000-000000-5.json", b"\xff\xfegarbage".to_vec()),
        ];
        for (name, bytes) in &bad {
            fs::write(dir.join(name), bytes).unwrap();
            fs::set_permissions(dir.join(name), fs::Permissions::from_mode(0o600)).unwrap();
        }
        let l = list(&p);
        assert_eq!(l.good.len(), 1);
        assert_eq!(l.good[0].1, good);
        assert_eq!(l.bad.len(), 5);
        assert!(l.bad.iter().any(|(_, why)| why.contains("newer snap")));
        assert!(l.bad.iter().any(|(_, why)| why.contains("zero-filled")));
        for (name, bytes) in &bad {
            assert_eq!(&fs::read(dir.join(name)).unwrap(), bytes);
        }
        assert_eq!(find(&p, "latest").unwrap().1, good);
        assert!(find(&p, "20991231T000000-000000-4").is_err());
    }

    #[test]
    fn files_writable_by_others_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let p = paths(tmp.path());
        let s = snap(1_764_043_200_000_000, &["a"]);
        let path = save(&p, &s).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains("writable by group or others"), "{e}");
        assert!(list(&p).good.is_empty());
        assert!(find(&p, &s.id).is_err());
    }

    #[test]
    fn a_snapshot_that_would_not_read_back_is_not_saved() {
        let tmp = tempfile::tempdir().unwrap();
        let p = paths(tmp.path());
        let mut s = snap(1_764_043_200_000_000, &["a"]);
        save(&p, &s).unwrap();
        // Deeper than serde_json's recursion limit: it serializes, but would not parse.
        let mut deep = serde_json::json!("x");
        for _ in 0..200 {
            deep = serde_json::json!([deep]);
        }
        s.id = new_id(1_764_043_300_000_000);
        s.sessions[0].agent = deep;
        let e = format!("{:#}", save(&p, &s).unwrap_err());
        assert!(e.contains("would not be readable"), "{e}");
        assert!(e.contains(&s.id), "{e}");
        let l = list(&p);
        assert_eq!((l.good.len(), l.bad.len()), (1, 0), "{:?}", l.bad);
        let left: Vec<_> = fs::read_dir(p.snapshots()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temp file is left behind");
    }

    #[test]
    fn ids_sort_by_time_and_are_safe() {
        let a = new_id(1_764_043_200_000_001);
        let b = new_id(1_764_043_200_100_000);
        let c = new_id(1_764_043_201_000_000);
        assert!(a < b && b < c, "{a} {b} {c}");
        assert!(is_safe_component(&a));
        assert_eq!(id_time_us(&b), Some(1_764_043_200_100_000));
        assert_eq!(id_time_us("20261202T065513-1234567-1"), None);
        assert_eq!(id_time_us("journals"), None);
    }

    proptest::proptest! {
        #[test]
        fn loader_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = parse(&bytes);
        }
    }
}
