//! Tests that still apply: which lines run a test command, and for the last run of
//! each, whether the tree changed since it ended (files of `git status` modified after
//! it, HEAD moved), in words: "passed 12 min ago; nothing changed since: no need to
//! re-run".

use super::super::git::{self, FileState};
use crate::config::Config;
use crate::policy::patterns::Pattern;
use crate::timefmt;
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Built-in test commands, as relaunch patterns (see `policy::patterns`).
pub const DEFAULT_TEST_COMMANDS: &[&str] = &[
    "cargo test|nextest|t",
    "npm|pnpm|yarn|bun test|t",
    "npm|pnpm|yarn|bun run test*",
    "npx|pnpx|bunx jest|vitest|mocha|playwright",
    "pytest",
    "py.test",
    "python* -m pytest|unittest",
    "tox",
    "nox",
    "go test",
    "make test*|check",
    "jest",
    "vitest run",
    "mocha",
    "rspec",
    "bundle exec rspec|rake",
    "rake test|spec",
    "mix test",
    "mvn test|verify",
    "gradle|gradlew test|check",
    "ctest",
    "dotnet test",
    "phpunit",
    "deno test",
    "swift test",
    "zig build test",
];

/// How many test commands a brief reports (the most recently run).
pub const MAX_TEST_COMMANDS: usize = 5;

/// How many changed files a test run names.
pub const MAX_CHANGED_FILES: usize = 20;

/// How many of the latest finished commands are searched for test runs.
pub const SCAN: usize = 2000;

/// The last run of one test command and whether it still applies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestRun {
    pub command: String,
    pub cwd: String,
    /// `shell`, `agent` or `restore`.
    pub source: String,
    /// Null when the agent did not say.
    pub exit: Option<i32>,
    /// RFC 3339.
    pub ended_at: String,
    #[serde(skip)]
    pub ended_us: i64,
    /// Whether the tree changed since it ended; null when snap cannot tell (not in the
    /// project's git work tree).
    pub tree_changed: Option<bool>,
    /// Whether HEAD moved since it ended.
    pub head_moved: Option<bool>,
    /// Files of `git status` modified since it ended (the first [`MAX_CHANGED_FILES`]).
    pub changed_files: Vec<String>,
    /// How many there are in all.
    pub changed_count: usize,
}

/// The test commands in force: built-ins plus the config's `[brief] test_commands`.
#[derive(Debug, Clone)]
pub struct TestCommands {
    patterns: Vec<Pattern>,
    /// The programs' names, one of which a line must hold as a word to be parsed at
    /// all (parsing is the costly part): (the name, or the part before a `*`; whether
    /// the word ends there).
    programs: Vec<(String, bool)>,
}

impl TestCommands {
    pub fn new(cfg: &Config) -> TestCommands {
        let texts = DEFAULT_TEST_COMMANDS
            .iter()
            .map(|s| s.to_string())
            .chain(cfg.brief.test_commands.iter().cloned());
        let mut patterns = Vec::new();
        let mut programs = Vec::new();
        for t in texts {
            let Some(p) = Pattern::parse(&t) else {
                continue;
            };
            let first = t.split_whitespace().next().unwrap_or_default();
            for alt in first.split('|') {
                let name = crate::policy::basename(alt);
                programs.push(match name.split_once('*') {
                    Some((prefix, _)) => (prefix.to_string(), false),
                    None => (name.to_string(), true),
                });
            }
            patterns.push(p);
        }
        TestCommands { patterns, programs }
    }

    /// Does this typed line run a test command?
    pub fn is_test(&self, line: &str) -> bool {
        self.programs
            .iter()
            .any(|(name, whole)| crate::text::has_word(line, name, *whole))
            && crate::policy::commands_of(line)
                .iter()
                .any(|words| self.patterns.iter().any(|p| p.matches(words)))
    }
}

/// The tree of a project as it is now, to compare a run against.
#[derive(Debug, Clone, Default)]
pub struct TreeNow {
    pub root: PathBuf,
    pub status: git::Status,
    pub head: Option<String>,
    /// When HEAD's commit was made (seconds), for a repository without a reflog.
    pub head_time: Option<i64>,
    /// Where HEAD pointed, newest first (seconds, commit).
    pub reflog: Vec<(i64, String)>,
    /// When the newest reflog entry was written (µs: its file's modification time).
    pub reflog_newest_us: Option<i64>,
    /// The state file, relative to the root: never a change of the tree.
    pub own: Option<String>,
}

impl TreeNow {
    /// Read the tree of `root` (its `status` already read); None outside a work tree.
    pub fn read(root: &Path, status: Option<&git::Status>, own: Option<String>) -> Option<Self> {
        let status = status?.clone();
        let head = git::head(root);
        let reflog = git::reflog(root);
        // Only a repository without a reflog needs HEAD's time.
        let head_time = head
            .as_deref()
            .filter(|_| reflog.is_empty())
            .and_then(|h| git::commit_time(root, h));
        Some(TreeNow {
            root: root.to_path_buf(),
            head_time,
            reflog_newest_us: git::reflog_path(root).and_then(|p| modified_us(&p)),
            reflog,
            head,
            status,
            own,
        })
    }

    /// Did HEAD move since `ended_us`? Where HEAD was then is the newest reflog entry
    /// made before. The reflog keeps whole seconds: the newest entry's own time is its
    /// file's modification time; an older entry of the run's last second counts as
    /// after (a doubt says "moved"). Without a reflog: whether HEAD's commit was made
    /// since.
    pub fn head_moved(&self, ended_us: i64) -> bool {
        let ended_s = ended_us.div_euclid(1_000_000);
        if self.reflog.is_empty() {
            return self.head_time.is_some_and(|t| t >= ended_s);
        }
        let newest_before = self.reflog_newest_us.is_some_and(|m| m <= ended_us);
        let then = self
            .reflog
            .iter()
            .enumerate()
            .find(|(i, (t, _))| *t < ended_s || (*t == ended_s && *i == 0 && newest_before));
        then.map(|(_, (_, id))| id) != self.head.as_ref()
    }

    /// The changed files modified since `ended_us` (`mtime` gives a path's modification
    /// time in µs; a deleted file counts when its directory was modified since).
    pub fn changed_since(
        &self,
        ended_us: i64,
        mtime: &dyn Fn(&Path) -> Option<i64>,
    ) -> Vec<String> {
        self.status
            .changed
            .iter()
            .filter(|(p, _)| Some(p) != self.own.as_ref())
            .filter(|(p, state)| {
                let path = self.root.join(p);
                let at = match state {
                    FileState::Deleted => path.parent().and_then(mtime),
                    _ => mtime(&path),
                };
                at.is_none_or(|t| t > ended_us)
            })
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Whether the tree changed since `ended_us`: (tree changed, HEAD moved, files).
    pub fn since(&self, ended_us: i64) -> (bool, bool, Vec<String>) {
        let moved = self.head_moved(ended_us);
        let files = self.changed_since(ended_us, &modified_us);
        (moved || !files.is_empty(), moved, files)
    }

    /// Is `cwd` inside this tree?
    pub fn holds(&self, cwd: &str) -> bool {
        let real = std::fs::canonicalize(cwd).unwrap_or_else(|_| PathBuf::from(cwd));
        let root = std::fs::canonicalize(&self.root).unwrap_or_else(|_| self.root.clone());
        real.starts_with(root) || Path::new(cwd).starts_with(&self.root)
    }
}

/// A path's modification time (µs), not following a symlink.
fn modified_us(path: &Path) -> Option<i64> {
    let t = std::fs::symlink_metadata(path).ok()?.modified().ok()?;
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(d.as_micros()).ok()
}

/// One finished command, as the brief saw it.
#[derive(Debug, Clone, Copy)]
pub struct Finished<'a> {
    pub command: &'a str,
    pub cwd: &'a str,
    pub source: &'a str,
    pub exit: Option<i32>,
    pub ended_us: i64,
}

/// The last run of each test command among `runs` (oldest first), the most recently
/// ended first, at most [`MAX_TEST_COMMANDS`], each compared with `tree`.
pub fn last_runs(runs: &[Finished], tests: &TestCommands, tree: Option<&TreeNow>) -> Vec<TestRun> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut out = Vec::new();
    for r in runs.iter().rev().take(SCAN) {
        let text = r.command.trim();
        if out.len() >= MAX_TEST_COMMANDS {
            break;
        }
        // Each line is judged once, test or not.
        if !seen.insert(text) || !tests.is_test(text) {
            continue;
        }
        let tree = tree.filter(|t| t.holds(r.cwd));
        let (changed, moved, files) = match tree {
            Some(t) => {
                let (c, m, f) = t.since(r.ended_us);
                (Some(c), Some(m), f)
            }
            None => (None, None, Vec::new()),
        };
        out.push(TestRun {
            command: text.to_string(),
            cwd: r.cwd.to_string(),
            source: r.source.to_string(),
            exit: r.exit,
            ended_at: timefmt::rfc3339_us(r.ended_us),
            ended_us: r.ended_us,
            tree_changed: changed,
            head_moved: moved,
            changed_count: files.len(),
            changed_files: files.into_iter().take(MAX_CHANGED_FILES).collect(),
        });
    }
    out
}

/// What a run says now, after its command: "passed 12 min ago; nothing changed since:
/// no need to re-run", "failed (exit 1) 3 min ago; 2 files changed since: re-run".
pub fn phrase(run: &TestRun, now_us: i64) -> String {
    let outcome = match run.exit {
        Some(0) => "passed".to_string(),
        Some(130) => "was stopped (Ctrl-C)".to_string(),
        Some(e) => format!("failed (exit {e})"),
        None => "ended, status unknown,".to_string(),
    };
    let ago = timefmt::age(run.ended_us, now_us);
    let since = match (run.tree_changed, run.head_moved) {
        (None, _) => "snap cannot tell what changed since (not in the project's git tree)".into(),
        (Some(false), _) => "nothing changed since".to_string(),
        (Some(true), moved) => {
            let n = run.changed_count;
            let files =
                (n > 0).then(|| format!("{n} file{} changed", if n == 1 { "" } else { "s" }));
            let parts: Vec<String> = moved
                .filter(|m| *m)
                .map(|_| "HEAD moved".to_string())
                .into_iter()
                .chain(files)
                .collect();
            format!("{} since", parts.join(" and "))
        }
    };
    let advice = match (run.exit, run.tree_changed) {
        (Some(0), Some(false)) => "no need to re-run",
        (Some(e), Some(false)) if e != 130 => "it would fail the same way",
        (_, None) => "re-run to be sure",
        _ => "re-run",
    };
    format!("{outcome} {ago}; {since}: {advice}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tests() -> TestCommands {
        let mut cfg = Config::default();
        cfg.brief.test_commands = vec!["./run-tests.sh".into(), "just check".into()];
        TestCommands::new(&cfg)
    }

    #[test]
    fn test_commands_are_told_by_what_the_line_runs() {
        let t = tests();
        for line in [
            "cargo test",
            "cargo test --test agent brief",
            "RUST_LOG=debug cargo test 2>&1 | tail -20",
            "cd web && npm test",
            "npm run test:unit",
            "pytest -x tests/",
            "python3 -m pytest",
            "go test ./...",
            "make -j4 test",
            "npx jest --ci",
            "vitest run",
            "timeout 600 cargo nextest run",
            "./run-tests.sh --fast",
            "just check",
        ] {
            assert!(t.is_test(line), "{line}");
        }
        for line in [
            "cargo build",
            "npm install",
            "vitest",
            "echo cargo test",
            "git commit -m 'cargo test'",
            "just build",
        ] {
            assert!(!t.is_test(line), "{line}");
        }
    }

    fn tree(reflog: Vec<(i64, &str)>, head: Option<&str>) -> TreeNow {
        TreeNow {
            root: PathBuf::from("/p"),
            head: head.map(String::from),
            reflog: reflog
                .into_iter()
                .map(|(t, c)| (t, c.to_string()))
                .collect(),
            ..TreeNow::default()
        }
    }

    #[test]
    fn head_moved_reads_the_reflog_and_doubts_say_moved() {
        let t = tree(vec![(200, "b"), (100, "a")], Some("b"));
        assert!(!t.head_moved(250_000_000), "b since 200, ended at 250");
        assert!(t.head_moved(150_000_000), "a at 150, b now");
        assert!(
            t.head_moved(200_500_000),
            "b in the same second: counted as after"
        );
        let exact = TreeNow {
            reflog_newest_us: Some(200_400_000),
            ..t.clone()
        };
        assert!(
            !exact.head_moved(200_500_000),
            "b at .4, the run ended at .5"
        );
        assert!(
            exact.head_moved(200_300_000),
            "b at .4, the run ended at .3"
        );
        assert!(t.head_moved(50_000_000), "before the reflog began");
        let none = TreeNow {
            head: Some("b".into()),
            head_time: Some(100),
            ..TreeNow::default()
        };
        assert!(!none.head_moved(101_000_000));
        assert!(none.head_moved(99_000_000));
        assert!(!TreeNow::default().head_moved(1));
    }

    #[test]
    fn files_changed_after_the_end_count_and_the_state_file_never() {
        let mut t = tree(vec![], None);
        t.own = Some(".agent-session.json".into());
        t.status.changed = vec![
            ("old.rs".into(), FileState::Modified),
            ("new.rs".into(), FileState::Untracked),
            (".agent-session.json".into(), FileState::Untracked),
            ("gone/x.rs".into(), FileState::Deleted),
        ];
        let mtime = |p: &Path| -> Option<i64> {
            Some(match p.to_str()? {
                "/p/old.rs" => 10,
                "/p/new.rs" => 30,
                "/p/gone" => 40,
                _ => 50,
            })
        };
        assert_eq!(t.changed_since(20, &mtime), ["new.rs", "gone/x.rs"]);
        assert!(t.changed_since(40, &mtime).is_empty());
    }

    fn run(exit: Option<i32>, changed: Option<bool>, moved: bool, files: usize) -> TestRun {
        TestRun {
            command: "cargo test".into(),
            cwd: "/p".into(),
            source: "shell".into(),
            exit,
            ended_at: String::new(),
            ended_us: 0,
            tree_changed: changed,
            head_moved: changed.map(|_| moved),
            changed_files: vec![],
            changed_count: files,
        }
    }

    #[test]
    fn phrases_say_whether_to_re_run() {
        let now = 12 * 60 * 1_000_000;
        assert_eq!(
            phrase(&run(Some(0), Some(false), false, 0), now),
            "passed 12 min ago; nothing changed since: no need to re-run"
        );
        assert_eq!(
            phrase(&run(Some(1), Some(true), false, 2), now),
            "failed (exit 1) 12 min ago; 2 files changed since: re-run"
        );
        assert_eq!(
            phrase(&run(Some(0), Some(true), true, 1), now),
            "passed 12 min ago; HEAD moved and 1 file changed since: re-run"
        );
        assert_eq!(
            phrase(&run(Some(101), Some(false), false, 0), now),
            "failed (exit 101) 12 min ago; nothing changed since: it would fail the same way"
        );
        assert!(phrase(&run(Some(0), None, false, 0), now).ends_with("re-run to be sure"));
    }

    #[test]
    fn the_last_run_of_each_test_command_newest_first() {
        let f = |command, exit, ended_us| Finished {
            command,
            cwd: "/p",
            source: "shell",
            exit: Some(exit),
            ended_us,
        };
        let runs = [
            f("cargo test", 101, 1),
            f("npm test", 1, 2),
            f("ls", 0, 3),
            f("cargo test ", 0, 4),
        ];
        let got = last_runs(&runs, &tests(), None);
        let summary: Vec<(&str, Option<i32>)> =
            got.iter().map(|r| (r.command.as_str(), r.exit)).collect();
        assert_eq!(summary, [("cargo test", Some(0)), ("npm test", Some(1))]);
        assert_eq!(got[0].tree_changed, None);
    }
}
