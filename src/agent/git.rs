//! What git says about a project's working tree: one `git status --porcelain=v1 -z -b`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

/// The working tree's state: branch and the status of each changed path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Status {
    /// The branch, when on one.
    pub branch: Option<String>,
    /// Changed paths (relative to the top level), in git's order, with their state.
    pub changed: Vec<(String, FileState)>,
}

/// One path's state, in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    Modified,
    Added,
    Deleted,
    Renamed,
    Copied,
    Untracked,
    Conflicted,
    TypeChanged,
}

impl FileState {
    /// The word used in briefs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            FileState::Modified => "modified",
            FileState::Added => "added",
            FileState::Deleted => "deleted",
            FileState::Renamed => "renamed",
            FileState::Copied => "copied",
            FileState::Untracked => "untracked",
            FileState::Conflicted => "conflicted",
            FileState::TypeChanged => "typechanged",
        }
    }
}

impl Status {
    /// Paths in progress: modified, added, renamed, copied, conflicted or untracked
    /// (not those only deleted).
    pub fn in_progress(&self) -> Vec<String> {
        self.changed
            .iter()
            .filter(|(_, s)| *s != FileState::Deleted)
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// The states by path.
    pub fn by_path(&self) -> BTreeMap<&str, FileState> {
        self.changed.iter().map(|(p, s)| (p.as_str(), *s)).collect()
    }
}

/// git in `root`, quiet, that does not look for a repository above `root`
/// (`GIT_CEILING_DIRECTORIES`): one there was passed over as not the user's (see
/// `session::project_dir`).
fn git_in(root: &Path) -> Command {
    let mut git = Command::new("git");
    if let Some(parent) = root.parent() {
        git.env("GIT_CEILING_DIRECTORIES", parent);
    }
    git.arg("-C")
        .arg(root)
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    git
}

/// Run `git status` in `root`; None when it is not a git work tree or git is missing.
pub fn status(root: &Path) -> Option<Status> {
    let out = git_in(root)
        .args([
            "status",
            "--porcelain=v1",
            "-z",
            "-b",
            "--untracked-files=all",
        ])
        .output()
        .ok()?;
    out.status.success().then(|| parse(&out.stdout))
}

/// The commit HEAD points at in `root`; None outside a work tree or before a first commit.
pub fn head(root: &Path) -> Option<String> {
    let out = git_in(root)
        .args(["rev-parse", "--verify", "--quiet", "HEAD"])
        .output()
        .ok()?;
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !id.is_empty()).then_some(id)
}

/// Parse `git status --porcelain=v1 -z -b` output (pure).
pub fn parse(bytes: &[u8]) -> Status {
    let mut status = Status::default();
    let mut entries = bytes
        .split(|&b| b == 0)
        .map(|e| String::from_utf8_lossy(e).into_owned());
    while let Some(entry) = entries.next() {
        if let Some(head) = entry.strip_prefix("## ") {
            let name = head.split("...").next().unwrap_or(head);
            let name = name.strip_prefix("No commits yet on ").unwrap_or(name);
            if !name.starts_with("HEAD (no branch)") && !name.is_empty() {
                status.branch = Some(name.to_string());
            }
            continue;
        }
        if entry.len() < 4 {
            continue;
        }
        let (x, y) = (entry.as_bytes()[0], entry.as_bytes()[1]);
        let path = entry[3..].to_string();
        if matches!(x, b'R' | b'C') {
            entries.next(); // the original path
        }
        let state = match (x, y) {
            (b'?', _) => FileState::Untracked,
            (b'!', _) => continue,
            (b'U', _) | (_, b'U') | (b'A', b'A') | (b'D', b'D') => FileState::Conflicted,
            (b'R', _) => FileState::Renamed,
            (b'C', _) => FileState::Copied,
            (b'A', _) => FileState::Added,
            (_, b'D') | (b'D', b' ') => FileState::Deleted,
            (b'T', _) | (_, b'T') => FileState::TypeChanged,
            _ => FileState::Modified,
        };
        status.changed.push((path, state));
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_z_with_renames_and_branch() {
        let raw = b"## main...origin/main [ahead 1]\0 M src/a.rs\0R  new.rs\0old.rs\0?? notes.md\0D  gone.rs\0A  b c.rs\0";
        let s = parse(raw);
        assert_eq!(s.branch.as_deref(), Some("main"));
        assert_eq!(
            s.changed,
            vec![
                ("src/a.rs".to_string(), FileState::Modified),
                ("new.rs".to_string(), FileState::Renamed),
                ("notes.md".to_string(), FileState::Untracked),
                ("gone.rs".to_string(), FileState::Deleted),
                ("b c.rs".to_string(), FileState::Added),
            ]
        );
        assert_eq!(
            s.in_progress(),
            ["src/a.rs", "new.rs", "notes.md", "b c.rs"]
        );
    }

    #[test]
    fn fresh_repo_branch() {
        let s = parse(b"## No commits yet on main\0?? x\0");
        assert_eq!(s.branch.as_deref(), Some("main"));
        assert_eq!(parse(b"## HEAD (no branch)\0").branch, None);
    }

    #[test]
    fn status_never_reports_a_repository_above_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let above = tmp.path().join("above");
        let root = above.join("root");
        std::fs::create_dir_all(&root).unwrap();
        let init = Command::new("git")
            .args(["init", "-q"])
            .arg(&above)
            .status();
        if !init.is_ok_and(|s| s.success()) {
            println!("SKIPPED: status_never_reports_a_repository_above_the_root: no git");
            return;
        }
        std::fs::write(root.join("f"), "x").unwrap();
        assert!(status(&above).is_some_and(|s| !s.changed.is_empty()));
        assert_eq!(status(&root), None);
        // Nor its HEAD (a checkpoint records it).
        let commit = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t", "-C"])
            .arg(&above)
            .args(["commit", "-q", "--allow-empty", "-m", "x"])
            .status();
        assert!(commit.is_ok_and(|s| s.success()));
        assert!(head(&above).is_some());
        assert_eq!(head(&root), None);
    }
}
