//! What git says about a project's working tree: its status, HEAD and where HEAD was
//! (the reflog), the commits since a checkpoint, a diff stat of what is not committed;
//! and keeping a file snap creates out of `git status`.

use anyhow::Context as _;
use serde::Serialize;
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

/// Run git in `root` with `args`; its stdout (trimmed) when it succeeds.
fn output(root: &Path, args: &[&str]) -> Option<String> {
    let out = git_in(root).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A commit: its id and the first line of its message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Commit {
    pub id: String,
    pub subject: String,
}

/// What is not committed: changed lines per file (tracked files, against HEAD) and
/// how many files git does not track.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DiffStat {
    pub files: usize,
    pub insertions: u64,
    pub deletions: u64,
    pub untracked: usize,
    /// The first [`MAX_DIFF_FILES`] files; a binary file has null counts.
    pub by_file: Vec<FileStat>,
}

/// One file of a [`DiffStat`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileStat {
    pub path: String,
    pub insertions: Option<u64>,
    pub deletions: Option<u64>,
}

/// How many files a [`DiffStat`] names.
pub const MAX_DIFF_FILES: usize = 50;

/// How many commits [`commits_since`] lists at most.
pub const MAX_COMMITS: usize = 20;

/// Where HEAD pointed, newest first: (seconds since the epoch, commit), from the reflog
/// (empty when there is none).
pub fn reflog(root: &Path) -> Vec<(i64, String)> {
    output(
        root,
        &[
            "reflog",
            "show",
            "--date=unix",
            "--format=%H %gd",
            "-n",
            "500",
            "HEAD",
            "--",
        ],
    )
    .map(|text| parse_reflog(&text))
    .unwrap_or_default()
}

/// The file of HEAD's reflog (a worktree's own).
pub fn reflog_path(root: &Path) -> Option<std::path::PathBuf> {
    output(root, &["rev-parse", "--git-path", "logs/HEAD"]).map(|p| root.join(p))
}

/// Parse `git reflog --date=unix --format='%H %gd'` (pure).
fn parse_reflog(text: &str) -> Vec<(i64, String)> {
    text.lines()
        .filter_map(|l| {
            let (id, sel) = l.split_once(' ')?;
            let t = sel.rsplit_once("@{")?.1.strip_suffix('}')?.parse().ok()?;
            Some((t, id.to_string()))
        })
        .collect()
}

/// When the commit `rev` was made (committer time, seconds).
pub fn commit_time(root: &Path, rev: &str) -> Option<i64> {
    output(root, &["log", "-1", "--format=%ct", rev, "--"])?
        .parse()
        .ok()
}

/// The commits on HEAD since `since` (a commit: those HEAD has and it has not), else
/// since a time (seconds), newest first, at most [`MAX_COMMITS`].
pub fn commits_since(root: &Path, since: Option<&str>, since_time: Option<i64>) -> Vec<Commit> {
    let max = MAX_COMMITS.to_string();
    let range;
    let after;
    let mut args = vec!["log", "-z", "--format=%H %s", "-n", &max];
    match (since.filter(|c| is_commit(root, c)), since_time) {
        (Some(c), _) => {
            range = format!("{c}..HEAD");
            args.push(&range);
        }
        (None, Some(t)) => {
            // ISO 8601: git reads `@<seconds>` as a time only past 9 digits.
            after = format!("--since={}", crate::timefmt::rfc3339_us(t * 1_000_000));
            args.extend([after.as_str(), "HEAD"]);
        }
        (None, None) => return Vec::new(),
    }
    args.push("--");
    output(root, &args)
        .map(|text| {
            text.split('\0')
                .filter_map(|e| {
                    let (id, subject) = e.trim_start_matches('\n').split_once(' ')?;
                    Some(Commit {
                        id: id.to_string(),
                        subject: subject.to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Is `rev` a commit of this repository?
fn is_commit(root: &Path, rev: &str) -> bool {
    let spec = format!("{rev}^{{commit}}");
    output(root, &["rev-parse", "--verify", "--quiet", &spec]).is_some()
}

/// The diff stat of what is not committed (against HEAD, or everything staged before a
/// first commit), with the untracked files of `status`.
pub fn diffstat(root: &Path, head: Option<&str>, status: &Status) -> Option<DiffStat> {
    let mut args = vec!["diff", "--numstat", "-z", "--no-renames"];
    args.push(head.unwrap_or("--cached"));
    args.push("--");
    let text = output(root, &args)?;
    let mut d = parse_numstat(&text);
    d.untracked = status
        .changed
        .iter()
        .filter(|(_, s)| *s == FileState::Untracked)
        .count();
    Some(d)
}

/// Parse `git diff --numstat -z --no-renames` (pure).
fn parse_numstat(text: &str) -> DiffStat {
    let mut d = DiffStat::default();
    for entry in text.split('\0').filter(|e| !e.is_empty()) {
        let mut parts = entry.splitn(3, '\t');
        let (Some(ins), Some(del), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let (ins, del) = (ins.parse().ok(), del.parse().ok());
        d.files += 1;
        d.insertions += ins.unwrap_or(0);
        d.deletions += del.unwrap_or(0);
        if d.by_file.len() < MAX_DIFF_FILES {
            d.by_file.push(FileStat {
                path: path.to_string(),
                insertions: ins,
                deletions: del,
            });
        }
    }
    d
}

/// `file`'s path relative to the top level of the work tree of `root`; None outside one.
fn in_work_tree(root: &Path, file: &Path) -> Option<String> {
    let top = output(root, &["rev-parse", "--show-toplevel"])?;
    let (dir, name) = (file.parent()?, file.file_name()?);
    let real = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let rel = real.join(name).strip_prefix(&top).ok()?.to_path_buf();
    Some(rel.to_string_lossy().into_owned())
}

/// Does git in `root` answer yes (exit 0) to `args` about `rel`?
fn says_yes(root: &Path, args: &[&str], rel: &str) -> bool {
    git_in(root)
        .args(args)
        .arg(rel)
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Does the repository of `root` track `file`?
pub fn tracked(root: &Path, file: &Path) -> bool {
    in_work_tree(root, file)
        .is_some_and(|rel| says_yes(root, &["ls-files", "--error-unmatch", "--"], &rel))
}

/// Keep `file` (a file snap just created in the work tree of `root`) out of `git status`:
/// add its path to the repository's `info/exclude` (the common git directory's, so a
/// worktree's or a `.git` file's repository works too), unless git tracks or ignores it
/// already or the line is there. Returns whether the exclude file was changed; outside
/// a work tree nothing is done.
pub fn exclude(root: &Path, file: &Path) -> anyhow::Result<bool> {
    let Some(rel) = in_work_tree(root, file) else {
        return Ok(false);
    };
    let tracked = says_yes(root, &["ls-files", "--error-unmatch", "--"], &rel);
    if tracked || says_yes(root, &["check-ignore", "-q", "--"], &rel) {
        return Ok(false);
    }
    let Some(path) = output(root, &["rev-parse", "--git-path", "info/exclude"]) else {
        return Ok(false);
    };
    let path = root.join(path);
    let line = exclude_line(&rel);
    let old = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(anyhow::anyhow!(e))
                .with_context(|| format!("cannot read {}", path.display()))
        }
    };
    if old.lines().any(|l| l.trim_end() == line) {
        return Ok(false);
    }
    if let Some(info) = path.parent() {
        std::fs::create_dir_all(info)
            .with_context(|| format!("cannot create {}", info.display()))?;
    }
    let mut text = old;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&line);
    text.push('\n');
    crate::store::atomic::write_atomic_keep_mode(&path, text.as_bytes())?;
    Ok(true)
}

/// The exclude line for a path relative to the top level: anchored, git's special
/// characters escaped (pure).
fn exclude_line(rel: &str) -> String {
    let mut out = String::from("/");
    for c in rel.chars() {
        if matches!(c, '*' | '?' | '[' | '\\' | '!' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
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

    /// git with a fixed identity, in `dir`; panics on failure.
    fn run_git(dir: &Path, args: &[&str]) {
        let st = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t", "-C"])
            .arg(dir)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "git {args:?} in {}", dir.display());
    }

    fn exclude_lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    #[test]
    fn a_created_state_file_is_excluded_once_in_repos_worktrees_and_git_files() {
        if Command::new("git").arg("--version").output().is_err() {
            println!("SKIPPED: a_created_state_file_is_excluded_once…: no git");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        std::fs::create_dir(&repo).unwrap();
        run_git(&repo, &["init", "-q", "-b", "main"]);
        std::fs::create_dir_all(repo.join(".git/info")).unwrap();
        std::fs::write(repo.join(".git/info/exclude"), "# user's\n*.log").unwrap();
        let file = repo.join(".agent-session.json");
        std::fs::write(&file, "{}").unwrap();
        assert!(exclude(&repo, &file).unwrap());
        assert!(!exclude(&repo, &file).unwrap(), "idempotent");
        let lines = exclude_lines(&repo.join(".git/info/exclude"));
        assert_eq!(lines, ["# user's", "*.log", "/.agent-session.json"]);
        assert!(status(&repo).unwrap().changed.is_empty());

        // A worktree's repository: the common exclude file, never twice.
        run_git(&repo, &["commit", "-q", "--allow-empty", "-m", "x"]);
        let wt = tmp.path().join("wt");
        run_git(&repo, &["worktree", "add", "-q", wt.to_str().unwrap()]);
        let in_wt = wt.join(".agent-session.json");
        std::fs::write(&in_wt, "{}").unwrap();
        assert!(!exclude(&wt, &in_wt).unwrap());
        assert!(status(&wt).unwrap().changed.is_empty());
        assert_eq!(exclude_lines(&repo.join(".git/info/exclude")).len(), 3);

        // A `.git` file pointing at a repository elsewhere; no exclude file yet.
        let sep = tmp.path().join("sep");
        std::fs::create_dir(&sep).unwrap();
        let gitdir = tmp.path().join("sep.git");
        run_git(
            &sep,
            &["init", "-q", "--separate-git-dir", gitdir.to_str().unwrap()],
        );
        let _ = std::fs::remove_file(gitdir.join("info/exclude"));
        let f = sep.join(".agent-session.json");
        std::fs::write(&f, "{}").unwrap();
        assert!(exclude(&sep, &f).unwrap());
        assert_eq!(
            exclude_lines(&gitdir.join("info/exclude")),
            ["/.agent-session.json"]
        );

        // A tracked file is left alone; so is a directory that is no work tree.
        let tracked = tmp.path().join("tracked");
        std::fs::create_dir(&tracked).unwrap();
        run_git(&tracked, &["init", "-q"]);
        let f = tracked.join(".agent-session.json");
        std::fs::write(&f, "{}").unwrap();
        run_git(&tracked, &["add", ".agent-session.json"]);
        assert!(!exclude(&tracked, &f).unwrap());
        assert!(exclude_lines(&tracked.join(".git/info/exclude"))
            .iter()
            .all(|l| !l.contains("agent-session")));
        let plain = tmp.path().join("plain");
        std::fs::create_dir(&plain).unwrap();
        assert!(!exclude(&plain, &plain.join("x.json")).unwrap());
    }

    #[test]
    fn exclude_lines_are_anchored_and_escaped() {
        assert_eq!(exclude_line(".agent-session.json"), "/.agent-session.json");
        assert_eq!(exclude_line("a/#b[1]*.json"), "/a/\\#b\\[1]\\*.json");
    }

    #[test]
    fn reflog_and_numstat_parse() {
        let r = parse_reflog("abc HEAD@{1700000002}\ndef HEAD@{1700000001}\nbad\n");
        assert_eq!(
            r,
            [(1_700_000_002, "abc".into()), (1_700_000_001, "def".into())]
        );
        let d = parse_numstat("3\t1\tsrc/a.rs\0-\t-\tlogo.png\0");
        assert_eq!((d.files, d.insertions, d.deletions), (2, 3, 1));
        assert_eq!(d.by_file[1].insertions, None);
        assert_eq!(d.by_file[0].path, "src/a.rs");
    }

    #[test]
    fn commits_since_a_checkpoint_and_the_diff_stat_in_a_real_repository() {
        if Command::new("git").arg("--version").output().is_err() {
            println!("SKIPPED: commits_since_a_checkpoint…: no git");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path();
        run_git(repo, &["init", "-q", "-b", "main"]);
        std::fs::write(repo.join("a.txt"), "1\n2\n").unwrap();
        run_git(repo, &["add", "."]);
        run_git(repo, &["commit", "-q", "-m", "first"]);
        let first = head(repo).unwrap();
        std::fs::write(repo.join("a.txt"), "1\n2\n3\n").unwrap();
        run_git(repo, &["commit", "-q", "-am", "second: with a subject"]);
        let second = head(repo).unwrap();
        let commits = commits_since(repo, Some(&first), None);
        assert_eq!(
            commits,
            [Commit {
                id: second.clone(),
                subject: "second: with a subject".into()
            }]
        );
        assert!(commits_since(repo, Some(&second), None).is_empty());
        assert_eq!(
            commits_since(repo, Some("0000000"), Some(1)).len(),
            2,
            "an unknown head: by time"
        );
        assert_eq!(reflog(repo)[0].1, second);
        assert!(reflog_path(repo).unwrap().is_file());
        assert!(commit_time(repo, "HEAD").is_some());
        std::fs::write(repo.join("a.txt"), "1\n").unwrap();
        std::fs::write(repo.join("new.txt"), "n").unwrap();
        let st = status(repo).unwrap();
        let d = diffstat(repo, Some(&second), &st).unwrap();
        assert_eq!(
            (d.files, d.insertions, d.deletions, d.untracked),
            (1, 0, 2, 1)
        );
    }
}
