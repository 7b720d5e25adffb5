//! Session names: tmux session, `$SNAP_SESSION`, or the project's name; normalised as tmux does.

use std::path::{Path, PathBuf};

/// Normalise a name as tmux does (`.` and `:` become `_`), and make it safe to store:
/// no `/`, control characters or leading dot; never empty.
pub fn normalize(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            '.' | ':' | '/' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() {
        "default".to_string()
    } else {
        trimmed.to_string()
    }
}

/// The project a directory belongs to: the nearest ancestor holding a `.git` where
/// both the `.git` and the directory are owned by the user or root, else the directory.
/// Another user's `.git` (say `/tmp/.git` in a shared sticky `/tmp`) is passed over:
/// it must not make that user's files the project, state file and brief.
pub fn project_dir(start: &Path) -> PathBuf {
    start
        .ancestors()
        .find(|d| {
            let git = std::fs::symlink_metadata(d.join(".git"));
            git.is_ok_and(|m| trusted_owner(&m))
                && std::fs::metadata(d).is_ok_and(|m| trusted_owner(&m))
        })
        .unwrap_or(start)
        .to_path_buf()
}

/// Owned by the user (effective uid) or root.
fn trusted_owner(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    meta.uid() == me || meta.uid() == 0
}

/// The session name for a shell: inside tmux the tmux session's name unless it is a bare
/// number; else `$SNAP_SESSION`; else the project's directory name.
pub fn session_name(
    tmux_session: Option<&str>,
    snap_session: Option<&str>,
    project: &Path,
) -> String {
    if let Some(t) =
        tmux_session.filter(|t| !t.is_empty() && !t.chars().all(|c| c.is_ascii_digit()))
    {
        return normalize(t);
    }
    if let Some(s) = snap_session.filter(|s| !s.is_empty()) {
        return normalize(s);
    }
    let base = project
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "root".to_string());
    normalize(&base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_tmux_then_env_then_project() {
        let p = Path::new("/home/u/my.app");
        assert_eq!(session_name(Some("agent-work"), Some("x"), p), "agent-work");
        assert_eq!(session_name(Some("3"), Some("x.y"), p), "x_y");
        assert_eq!(session_name(Some("3"), None, p), "my_app");
        assert_eq!(session_name(None, None, Path::new("/")), "root");
        assert_eq!(normalize("a:b/c\nd"), "a_b_c_d");
        assert_eq!(normalize(".."), "__");
    }

    #[test]
    fn project_is_the_git_top_level() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("repo/.git")).unwrap();
        std::fs::create_dir_all(tmp.path().join("repo/src/deep")).unwrap();
        assert_eq!(
            project_dir(&tmp.path().join("repo/src/deep")),
            tmp.path().join("repo")
        );
        assert_eq!(
            project_dir(&tmp.path().join("repo/src/deep"))
                .file_name()
                .unwrap(),
            "repo"
        );
    }

    #[test]
    fn another_users_git_is_not_the_project() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            println!("SKIPPED: another_users_git_is_not_the_project: needs root to chown");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let shared = tmp.path().join("shared");
        let mine = shared.join("mine");
        std::fs::create_dir_all(shared.join(".git")).unwrap();
        std::fs::create_dir_all(&mine).unwrap();
        assert_eq!(project_dir(&mine), shared, "root's own .git is trusted");
        let chown = |p: &Path| std::os::unix::fs::chown(p, Some(4242), Some(4242)).unwrap();
        chown(&shared.join(".git"));
        assert_eq!(project_dir(&mine), mine, "another user's .git");
        std::fs::create_dir(shared.join("theirs")).unwrap();
        std::fs::create_dir(shared.join("theirs/.git")).unwrap();
        chown(&shared.join("theirs"));
        let inner = shared.join("theirs/sub");
        std::fs::create_dir(&inner).unwrap();
        assert_eq!(
            project_dir(&inner),
            inner,
            "a .git of mine in their directory"
        );
    }
}
