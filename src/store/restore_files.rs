//! The files restore leaves for its new shells in `state/restore/` (scripts, histories,
//! the wrapper rc), and the sweep of the stale ones, which any save runs too.

use super::paths::Paths;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Where restore scripts live.
pub fn dir(paths: &Paths) -> PathBuf {
    paths.state.join("restore")
}

/// Restore's files left over (a shell that never started) are removed after this long:
/// they hold the environment and history, secrets included.
pub const STALE_AFTER: Duration = Duration::from_secs(3600);

/// Remove the files of `state/restore/` older than [`STALE_AFTER`] (scripts, histories,
/// temporary files), keeping the wrapper rc files every new shell reads. Best effort:
/// what cannot be removed now is tried again next time.
pub fn remove_stale(paths: &Paths) {
    let Ok(entries) = std::fs::read_dir(dir(paths)) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > STALE_AFTER);
        if meta.is_file() && old && entry.file_name() != WRAPPER_BASHRC {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The wrapper rc of restored bash shells, kept in `state/restore/`.
pub const WRAPPER_BASHRC: &str = "bashrc";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_files_go_and_fresh_ones_and_the_wrapper_rc_stay() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths {
            data: tmp.path().into(),
            state: tmp.path().join("state"),
            config_file: tmp.path().join("config.toml"),
        };
        let dir = dir(&paths);
        std::fs::create_dir_all(dir.join("zdotdir")).unwrap();
        let old = SystemTime::now() - STALE_AFTER - Duration::from_secs(60);
        for name in ["old.bash", "old.history", WRAPPER_BASHRC] {
            let f = std::fs::File::create(dir.join(name)).unwrap();
            f.set_modified(old).unwrap();
        }
        std::fs::write(dir.join("new.zsh"), "").unwrap();
        remove_stale(&paths);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["bashrc", "new.zsh", "zdotdir"]);
    }
}
