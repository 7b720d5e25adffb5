//! Locks under the state directory, held with `flock` (`File::try_lock`): the kernel
//! releases them when their holder dies, however it dies, so a crash never leaves a stale
//! lock behind.
//!
//! - `daemon.lock`: one snapshot daemon per `SNAP_HOME`; holds the daemon's pid.
//! - `capture.lock`: one capture at a time (the daemon's ticks and `snap save` alike).

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

fn open(paths: &Paths, name: &str) -> Result<(File, PathBuf)> {
    ensure_private_dir(&paths.state)?;
    let path = paths.state.join(name);
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
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "{}", std::process::id())?;
    file.sync_all()?;
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
            text.trim().parse().ok().or(Some(0))
        }
        Err(TryLockError::Error(_)) => None,
    }
}

/// Wait for the capture lock (captures are short).
pub fn capture(paths: &Paths) -> Result<Lock> {
    let (file, path) = open(paths, "capture.lock")?;
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
}
