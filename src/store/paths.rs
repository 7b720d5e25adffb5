//! Where snap keeps things: `$SNAP_HOME` when set, else the platform's directories.

use anyhow::{bail, Context, Result};
use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The resolved locations of everything snap stores.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Shells' journals, metas and environments, and snapshots.
    pub data: PathBuf,
    /// Logs, locks, the daemon's pid and status.
    pub state: PathBuf,
    /// The default config file (unless `SNAP_CONFIG` names another).
    pub config_file: PathBuf,
}

impl Paths {
    /// Resolve from the environment: `SNAP_HOME`, else `directories`.
    pub fn from_env() -> Result<Paths> {
        if let Some(home) = std::env::var_os("SNAP_HOME").filter(|h| !h.is_empty()) {
            let home = PathBuf::from(home);
            let home = if home.is_absolute() {
                home
            } else {
                std::env::current_dir()?.join(home)
            };
            check_owned(&home)?;
            return Ok(Paths {
                data: home.clone(),
                state: home.join("state"),
                config_file: home.join("config.toml"),
            });
        }
        let dirs = directories::ProjectDirs::from("", "", "snap").context(
            "cannot find a home directory for snap's data: set HOME, or SNAP_HOME to a directory",
        )?;
        let data = dirs.data_dir().to_path_buf();
        let state = dirs
            .state_dir()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| data.join("state"));
        check_owned(&data)?;
        check_owned(&state)?;
        Ok(Paths {
            data,
            state,
            config_file: dirs.config_dir().join("config.toml"),
        })
    }

    /// `shells/`: one directory per shell.
    pub fn shells(&self) -> PathBuf {
        self.data.join("shells")
    }

    /// The directory of one shell.
    pub fn shell_dir(&self, id: &str) -> PathBuf {
        self.shells().join(id)
    }

    /// `snapshots/`: one JSON file per snapshot.
    pub fn snapshots(&self) -> PathBuf {
        self.data.join("snapshots")
    }

    /// The config file in force: `SNAP_CONFIG` when set, else the default.
    pub fn config_in_force(&self) -> PathBuf {
        match std::env::var_os("SNAP_CONFIG").filter(|c| !c.is_empty()) {
            Some(c) => PathBuf::from(c),
            None => self.config_file.clone(),
        }
    }
}

/// Create `dir` and its missing parents as 0700, and make sure `dir` itself is 0700.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    let meta = fs::symlink_metadata(dir)
        .with_context(|| format!("cannot read directory {}", dir.display()))?;
    if !meta.is_dir() {
        bail!(
            "{} is not a directory: move it away or set SNAP_HOME elsewhere",
            dir.display()
        );
    }
    if meta.permissions().mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot make {} private (0700)", dir.display()))?;
    }
    Ok(())
}

/// Refuse a store someone else could read or change: a component of `dir` that is a
/// symlink to a directory owned by another user (root excepted: `/var` → `/private/var`
/// on macOS), or `dir` itself, when it exists, owned by another user.
pub fn check_owned(dir: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let mut prefix = PathBuf::new();
    for part in dir.components() {
        prefix.push(part);
        let Ok(meta) = fs::symlink_metadata(&prefix) else {
            break; // not there yet: snap creates the rest, as 0700
        };
        if !meta.file_type().is_symlink() {
            continue;
        }
        let Ok(target) = fs::metadata(&prefix) else {
            continue; // dangling: creating under it fails with its own error
        };
        if target.is_dir() && target.uid() != me && target.uid() != 0 {
            bail!(
                "{} is a symlink to {}, a directory owned by uid {}, not by you (uid {me}): refused; set SNAP_HOME to a directory of your own",
                prefix.display(),
                fs::canonicalize(&prefix).unwrap_or_default().display(),
                target.uid()
            );
        }
    }
    if let Ok(meta) = fs::metadata(dir) {
        if meta.uid() != me {
            bail!(
                "{} is owned by uid {}, not by you (uid {me}): refused; set SNAP_HOME to a directory of your own",
                dir.display(),
                meta.uid()
            );
        }
    }
    Ok(())
}

/// Is `name` safe as one path component under the store (no `/`, no `..`, no NUL)?
pub fn is_safe_component(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains('/')
        && !name.contains('\0')
        && !name.contains('\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_components_reject_traversal() {
        assert!(is_safe_component("20261125T010203-123-ab"));
        assert!(!is_safe_component(".."));
        assert!(!is_safe_component("a/b"));
        assert!(!is_safe_component(""));
        assert!(!is_safe_component("a\nb"));
    }

    #[test]
    fn own_directories_and_symlinks_to_them_are_accepted() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        fs::create_dir(&real).unwrap();
        std::os::unix::fs::symlink(&real, tmp.path().join("link")).unwrap();
        check_owned(&tmp.path().join("link/snap/deeper")).unwrap();
        check_owned(&tmp.path().join("link")).unwrap();
    }

    #[test]
    fn private_dir_is_0700_whatever_the_umask() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        ensure_private_dir(&dir).unwrap();
        let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}
