//! The resolver that reads the disk: is a name an executable on a shell's PATH, or a
//! path (absolute, or relative to the shell's directory) a file?

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A shell's PATH and working directory, to look names up in.
#[derive(Debug, Clone)]
pub struct OnDisk {
    path: Vec<PathBuf>,
    cwd: PathBuf,
}

impl OnDisk {
    /// From the shell's recorded PATH (this process's when none was recorded) and cwd.
    pub fn new(path: Option<&str>, cwd: &str) -> OnDisk {
        let own = std::env::var("PATH").unwrap_or_default();
        let path = path.filter(|p| !p.is_empty()).unwrap_or(&own);
        OnDisk {
            path: std::env::split_paths(path).collect(),
            cwd: PathBuf::from(cwd),
        }
    }

    /// Is `name` an executable: a file on PATH, or, when it holds a `/`, that file?
    pub fn is_executable(&self, name: &str) -> bool {
        if name.contains('/') {
            return self.cwd.join(name).is_file();
        }
        self.which(name).is_some()
    }

    /// The first executable file called `name` on PATH.
    pub fn which(&self, name: &str) -> Option<PathBuf> {
        self.path
            .iter()
            .map(|d| d.join(name))
            .find(|p| executable(p))
    }
}

fn executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_on_the_path_and_paths_from_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for (name, mode) in [("tool", 0o755), ("data", 0o644)] {
            std::fs::write(bin.join(name), "").unwrap();
            std::fs::set_permissions(bin.join(name), std::fs::Permissions::from_mode(mode))
                .unwrap();
        }
        let path = format!("/nonexistent:{}", bin.display());
        let disk = OnDisk::new(Some(&path), &dir.path().display().to_string());
        assert!(disk.is_executable("tool"));
        assert_eq!(disk.which("tool"), Some(bin.join("tool")));
        assert_eq!(disk.which("data"), None);
        assert!(!disk.is_executable("data"));
        assert!(!disk.is_executable("del"));
        assert!(disk.is_executable("./bin/data"));
        assert!(!disk.is_executable("./bin/missing"));
    }
}
