//! Files the user has trusted (a project's `.env`), as `direnv allow` and `mise trust`
//! remember them: `state/trust/<SHA-256 of the file's path>` holds the SHA-256 of the
//! content trusted. A changed file is no longer trusted.

use crate::store::atomic::write_atomic;
use crate::store::paths::{ensure_private_dir, Paths};
use anyhow::Result;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Is a file trusted as it is now?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Trusted with exactly this content.
    Trusted,
    /// Never trusted.
    Unknown,
    /// Trusted once, with other content.
    Changed,
}

/// How `content` of the file at `path` (absolute) stands.
pub fn check(paths: &Paths, path: &Path, content: &[u8]) -> Trust {
    match std::fs::read_to_string(record(paths, path)) {
        Ok(h) if h.trim() == hex(&Sha256::digest(content)) => Trust::Trusted,
        Ok(_) => Trust::Changed,
        Err(_) => Trust::Unknown,
    }
}

/// Trust `content` of the file at `path` (absolute), until it changes.
pub fn remember(paths: &Paths, path: &Path, content: &[u8]) -> Result<()> {
    let file = record(paths, path);
    if let Some(dir) = file.parent() {
        ensure_private_dir(dir)?;
    }
    write_atomic(
        &file,
        format!("{}\n", hex(&Sha256::digest(content))).as_bytes(),
    )
}

/// The record of one path.
fn record(paths: &Paths, path: &Path) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let name = hex(&Sha256::digest(path.as_os_str().as_bytes()));
    paths.state.join("trust").join(name)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trusted_file_stays_trusted_until_its_content_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths {
            data: tmp.path().into(),
            state: tmp.path().join("state"),
            config_file: tmp.path().join("config.toml"),
        };
        let f = Path::new("/proj/.env");
        assert_eq!(check(&paths, f, b"A=1\n"), Trust::Unknown);
        remember(&paths, f, b"A=1\n").unwrap();
        assert_eq!(check(&paths, f, b"A=1\n"), Trust::Trusted);
        assert_eq!(check(&paths, f, b"A=2\n"), Trust::Changed);
        assert_eq!(
            check(&paths, Path::new("/other/.env"), b"A=1\n"),
            Trust::Unknown
        );
        let record = record(&paths, f);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&record).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(record.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
    }
}
