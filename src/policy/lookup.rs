//! The resolver that reads the disk: is a name an executable on a shell's PATH, or a
//! path (absolute, or relative to the shell's directory) a file?

use std::path::PathBuf;

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
        crate::exe::which_in(&self.path, name).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

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
        assert!(!disk.is_executable("data"));
        assert!(!disk.is_executable("del"));
        assert!(disk.is_executable("./bin/data"));
        assert!(!disk.is_executable("./bin/missing"));
    }
}
