//! Atomic, private file writes, the one way snap writes a whole file: temp file in the
//! same directory, fsync, rename, fsync the directory.

use anyhow::{anyhow, bail, Context, Result};
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Write `bytes` to `path` atomically with mode 0600: readers see the old file or the
/// whole new one, never a part; a crash leaves at worst a stray temp file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_via_rename(path, bytes, How::Synced, 0o600)
}

/// Like [`write_atomic`], for a file of the user's outside the store (a project's
/// `.git/info/exclude`, an agent's settings): an existing file keeps its mode, a new
/// one is 0600.
pub fn write_atomic_keep_mode(path: &Path, bytes: &[u8]) -> Result<()> {
    let mode = fs::metadata(path).map_or(0o600, |m| m.permissions().mode() & 0o7777);
    write_via_rename(path, bytes, How::Synced, mode)
}

/// Like [`write_atomic`], all or nothing for readers, but without waiting for the disk:
/// for a file that is only as durable as the journal beside it (a shell's meta, written
/// as the shell starts, where an fsync would hold up its first prompt).
pub fn write_atomic_unsynced(path: &Path, bytes: &[u8]) -> Result<()> {
    write_via_rename(path, bytes, How::Unsynced, 0o600)
}

/// Like [`write_atomic`], for a file that must never be replaced (its name is new) and
/// must read back: before the rename, the temp file must hold exactly `bytes` and pass
/// `check` (e.g. parse as every reader will parse it), else nothing is written.
pub fn write_new_verified(
    path: &Path,
    bytes: &[u8],
    check: &(dyn Fn(&[u8]) -> Result<()> + Sync),
) -> Result<()> {
    write_via_rename(path, bytes, How::NewVerified(check), 0o600)
}

/// Is this file name one of the temp files a write leaves when killed mid-way?
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}

const TEMP_PREFIX: &str = ".tmp-";
const TEMP_SUFFIX: &str = ".partial";

/// How a write lands.
#[derive(Clone, Copy)]
enum How<'a> {
    /// Replace, without waiting for the disk.
    Unsynced,
    /// Replace, file and directory fsynced.
    Synced,
    /// Fsynced, read back and checked, never replacing a file.
    NewVerified(&'a (dyn Fn(&[u8]) -> Result<()> + Sync)),
}

fn write_via_rename(path: &Path, bytes: &[u8], how: How, mode: u32) -> Result<()> {
    let dir = path
        .parent()
        .with_context(|| format!("{} has no parent directory", path.display()))?;
    let landed = match how {
        How::NewVerified(check) => std::thread::scope(|s| {
            // The check reads the bytes the disk must give back: it runs beside the
            // write and its fsync, not after them.
            let checked = s.spawn(|| check(bytes));
            let tmp = write_temp(dir, path, bytes, mode, true)?;
            let back = fs::read(tmp.path())
                .with_context(|| format!("cannot read back {}", tmp.path().display()))?;
            if back != bytes {
                bail!(
                    "{} did not read back as written (disk trouble?)",
                    path.display()
                );
            }
            checked
                .join()
                .map_err(|_| anyhow!("checking {} failed", path.display()))??;
            Ok(tmp.persist_noclobber(path))
        })?,
        How::Unsynced | How::Synced => {
            write_temp(dir, path, bytes, mode, matches!(how, How::Synced))?.persist(path)
        }
    };
    landed
        .map_err(|e| e.error)
        .with_context(|| format!("cannot rename into {}", path.display()))?;
    if !matches!(how, How::Unsynced) {
        sync_dir(dir)?;
    }
    Ok(())
}

/// `bytes` in a new temp file of `mode` in `dir` (fsynced when `sync`), for `path`.
fn write_temp(
    dir: &Path,
    path: &Path,
    bytes: &[u8],
    mode: u32,
    sync: bool,
) -> Result<tempfile::NamedTempFile> {
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set permissions in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| {
            if sync {
                tmp.as_file().sync_all()
            } else {
                Ok(())
            }
        })
        .with_context(|| format!("cannot write {} (disk full?)", path.display()))?;
    Ok(tmp)
}

/// fsync a directory so a rename in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync directory {}", dir.display()))
}

/// Create `path` empty with mode 0600 if it does not exist (never truncates).
pub fn touch_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file_with_0600() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("x.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let strays: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(strays.len(), 1);
    }

    #[test]
    fn a_verified_write_never_replaces_and_a_failed_check_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("new.json");
        let ok = |_: &[u8]| Ok(());
        write_new_verified(&p, b"one", &ok).unwrap();
        assert!(write_new_verified(&p, b"two", &ok).is_err());
        assert_eq!(fs::read(&p).unwrap(), b"one");
        let q = tmp.path().join("other.json");
        let refuse = |_: &[u8]| -> Result<()> { bail!("no") };
        assert!(write_new_verified(&q, b"x", &refuse).is_err());
        assert!(!q.exists());
        let left: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temp file is left behind");
    }

    #[test]
    fn a_user_file_keeps_its_mode_and_a_new_one_is_private() {
        let tmp = tempfile::tempdir().unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let old = tmp.path().join("exclude");
        fs::write(&old, b"x").unwrap();
        fs::set_permissions(&old, fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic_keep_mode(&old, b"y").unwrap();
        assert_eq!(
            (fs::read(&old).unwrap(), mode(&old)),
            (b"y".to_vec(), 0o644)
        );
        let new = tmp.path().join("new.json");
        write_atomic_keep_mode(&new, b"z").unwrap();
        assert_eq!(mode(&new), 0o600);
    }
}
