//! Locks under the state directory, held with `flock` (`File::try_lock`): the kernel
//! releases them when their holder dies, however it dies, so a crash never leaves a stale
//! lock behind.
//!
//! - `daemon.lock`: one snapshot daemon per `SNAP_HOME`; holds the daemon's pid.
//! - `capture.lock`: one capture at a time (the daemon's ticks and `snap save` alike).
//! - `locks/<key>`: one edit at a time of a file outside the store (the agent state).

use crate::store::paths::{ensure_private_dir, Paths};
use anyhow::{Context, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

/// A held lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct Lock {
    file: File,
}

/// Open (creating it 0600, and its directories 0700) the lock file `name` under the
/// state directory.
fn open(paths: &Paths, name: &str) -> Result<(File, PathBuf)> {
    let path = paths.state.join(name);
    ensure_private_dir(path.parent().unwrap_or(&paths.state))?;
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot open the lock {}", path.display()))?;
    Ok((file, path))
}

/// Take the daemon lock and write our pid into it; None when another daemon holds it.
pub fn try_daemon(paths: &Paths) -> Result<Option<Lock>> {
    let (mut file, path) = open(paths, "daemon.lock")?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(None),
        Err(TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
    // The pid is for `status` and `stop`; on a full disk it may not fit, and the lock
    // is held all the same (see `holder_from_proc_locks`).
    let pid = (|| {
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", std::process::id())?;
        file.sync_all()
    })();
    if let Err(e) = pid {
        eprintln!(
            "snap: cannot write the daemon's pid into {}: {e}",
            path.display()
        );
    }
    Ok(Some(Lock { file }))
}

/// The pid of the running daemon, if one holds the lock.
pub fn daemon_pid(paths: &Paths) -> Option<u32> {
    let path = paths.state.join("daemon.lock");
    let mut file = OpenOptions::new().read(true).open(path).ok()?;
    match file.try_lock_shared() {
        Ok(()) => {
            // Nobody holds it: no daemon.
            let _ = file.unlock();
            None
        }
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            file.read_to_string(&mut text).ok()?;
            text.trim()
                .parse()
                .ok()
                .or_else(|| holder_from_proc_locks(&file))
                .or(Some(0))
        }
        Err(TryLockError::Error(_)) => None,
    }
}

/// The pid holding a `flock` on this file, from `/proc/locks` (Linux), for a lock file
/// its holder could not write its pid into.
fn holder_from_proc_locks(file: &File) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata().ok()?;
    let dev = meta.dev() as libc::dev_t;
    let id = format!(
        "{:02x}:{:02x}:{}",
        libc::major(dev),
        libc::minor(dev),
        meta.ino()
    );
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|line| {
        // `1: FLOCK  ADVISORY  WRITE 1234 00:2a:5678 0 EOF`
        let f: Vec<&str> = line.split_whitespace().collect();
        (f.get(1) == Some(&"FLOCK") && f.get(5) == Some(&id.as_str()))
            .then(|| f.get(4)?.parse().ok())
            .flatten()
    })
}

/// Wait for the capture lock (captures are short).
pub fn capture(paths: &Paths) -> Result<Lock> {
    wait(paths, "capture.lock")
}

/// Wait for the lock file `name` (a path under the state directory, such as
/// `locks/<key>`).
pub fn wait(paths: &Paths, name: &str) -> Result<Lock> {
    let (file, path) = open(paths, name)?;
    file.lock()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(Lock { file })
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_daemon_lock_at_a_time_and_released_on_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let p = crate::store::snapshots::tests::paths(tmp.path());
        let first = try_daemon(&p).unwrap().expect("free");
        assert!(try_daemon(&p).unwrap().is_none());
        assert_eq!(daemon_pid(&p), Some(std::process::id()));
        drop(first);
        assert_eq!(daemon_pid(&p), None);
        assert!(try_daemon(&p).unwrap().is_some());
    }

    #[test]
    fn the_holder_is_found_when_its_pid_could_not_be_written() {
        let tmp = tempfile::tempdir().unwrap();
        let p = crate::store::snapshots::tests::paths(tmp.path());
        let held = try_daemon(&p).unwrap().expect("free");
        held.file.set_len(0).unwrap();
        if std::path::Path::new("/proc/locks").exists() {
            assert_eq!(daemon_pid(&p), Some(std::process::id()));
        } else {
            assert_eq!(daemon_pid(&p), Some(0));
        }
    }
}
