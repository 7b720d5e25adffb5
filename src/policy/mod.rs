//! Relaunch policy: may a command that was running be started again by restore?
//!
//! The typed line is parsed (bash and zsh with `brush-parser`, fish conservatively) and
//! every command it can run is judged: each simple command of pipelines, lists,
//! subshells, groups and compound commands, `$(…)`, backticks and process
//! substitutions; the scripts of shells and evaluators (`bash -c`, `eval`, `source`,
//! heredocs and here-strings fed to a shell); the commands of wrappers (`env -S`,
//! `timeout`, `xargs`, `find -exec`, …) and watchers (`entr`, `watchexec`, `nodemon
//! --exec`, `cargo watch -x/-s`). Quoting is judged by its value (`'rm'` is `rm`).
//!
//! A part is `never` when it matches a `never` pattern (see [`patterns`]), and
//! **opaque** when its command word is not static (`$R`, `$(…)`, a glob), names neither a
//! builtin nor an executable (an alias or a function), or the line does not parse. The
//! verdict: `never` when any part is `never` or opaque; `auto` when every part is safe and
//! one is a known server, watcher or coding-agent CLI; `hold` otherwise.
//!
//! Judging is pure: whether a name is an executable is asked of the caller's resolver
//! (see [`lookup`] for the one that reads the disk).

mod bash;
mod fish;
mod found;
mod global;
mod judge;
pub mod lookup;
mod opts;
pub mod patterns;
mod words;
pub use words::basename;
mod wrappers;

use crate::config::Config;
use crate::model::{Policy, ShellKind};
use found::Cmd;
pub use judge::Dir;
use judge::{Finding, Input, Judge};
use patterns::{Pattern, DEFAULT_AGENTS, DEFAULT_AUTO, DEFAULT_NEVER};

/// A policy and the part of the line that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub policy: Policy,
    /// Set unless the policy is `auto`: e.g. `never: rm (inside bash -c)`.
    pub reason: Option<String>,
}

/// The relaunch lists, compiled once for many judgements.
#[derive(Debug, Clone)]
pub struct Rules {
    auto: Vec<Pattern>,
    hold: Vec<Pattern>,
    never: Vec<Pattern>,
    agents: Vec<(String, String)>,
}

impl Rules {
    /// The lists in force: built-ins (unless `relaunch.defaults = false`) plus the config's.
    pub fn new(cfg: &Config) -> Rules {
        let r = &cfg.relaunch;
        let list = |defaults: &[&str], extra: &[String]| -> Vec<Pattern> {
            let base = defaults
                .iter()
                .filter(|_| r.defaults)
                .map(|s| s.to_string());
            base.chain(extra.iter().cloned())
                .filter_map(|s| Pattern::parse(&s))
                .collect()
        };
        let mut agents: Vec<(String, String)> = DEFAULT_AGENTS
            .iter()
            .filter(|_| r.defaults)
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        for (name, line) in &r.agents {
            agents.retain(|(n, _)| n != name);
            agents.push((name.clone(), line.clone()));
        }
        Rules {
            auto: list(DEFAULT_AUTO, &r.auto),
            hold: list(&[], &r.hold),
            never: list(DEFAULT_NEVER, &r.never),
            agents,
        }
    }

    /// Judge a line typed in `shell`; `exe` says whether a name (or a path) is an
    /// executable for that shell.
    pub fn judge(&self, typed_line: &str, shell: ShellKind, exe: &dyn Fn(&str) -> bool) -> Verdict {
        let mut j = self.walker(exe);
        j.line(typed_line, shell, &[], 0);
        verdict(j.findings)
    }

    /// Judge a process by its argv (kept as a list: no re-quoting). A running process
    /// hides nothing behind an alias, and what it starts is captured as processes of its
    /// own: only what it is, or runs through a shell or wrapper, counts, not opacity.
    pub fn judge_argv(&self, argv: &[String]) -> Verdict {
        let mut j = self.walker(&|_| true);
        let cmd = Cmd::of_static(argv_words(argv));
        j.command(&cmd.words, Input::default(), ShellKind::Bash, &[], 0, true);
        j.findings.retain(|f| !matches!(f, Finding::Opaque(_)));
        verdict(j.findings)
    }

    /// The line that resumes the agent CLI this typed line runs, if it runs one.
    pub fn resume_line(&self, typed_line: &str, shell: ShellKind) -> Option<String> {
        let mut j = self.walker(&|_| true);
        j.line(typed_line, shell, &[], 0);
        j.ran.iter().find_map(|r| self.agent_of(&r.words))
    }

    /// The resume line for a process's argv.
    pub fn resume_argv(&self, argv: &[String]) -> Option<String> {
        let mut j = self.walker(&|_| true);
        let cmd = Cmd::of_static(argv_words(argv));
        j.command(&cmd.words, Input::default(), ShellKind::Bash, &[], 0, true);
        j.ran.iter().find_map(|r| self.agent_of(&r.words))
    }

    fn walker<'a>(&'a self, exe: &'a dyn Fn(&str) -> bool) -> Judge<'a> {
        Judge::new(self, exe)
    }

    fn agent_of(&self, words: &[String]) -> Option<String> {
        let cmd = basename(words.first()?);
        if let Some((_, line)) = self.agents.iter().find(|(n, _)| n == cmd) {
            return Some(line.clone());
        }
        // `node …/claude-code/cli.js`, `python -m aider`: the agent is the script.
        let interpreters = ["node", "bun", "deno", "python", "python3"];
        if !interpreters.contains(&cmd) && !cmd.starts_with("python3.") {
            return None;
        }
        let script = words[1..].iter().find(|w| !w.starts_with('-'))?;
        self.agents
            .iter()
            .find(|(n, _)| script.split(['/', '@', '-', '.']).any(|part| part == n))
            .map(|(_, line)| line.clone())
    }
}

/// The strictest finding decides; a hold names the commands that are not servers.
fn verdict(findings: Vec<Finding>) -> Verdict {
    let mut auto = false;
    let mut safe: Vec<String> = Vec::new();
    for f in findings {
        match f {
            Finding::Never(why) | Finding::Opaque(why) => {
                return Verdict {
                    policy: Policy::Never,
                    reason: Some(why),
                }
            }
            Finding::Auto => auto = true,
            Finding::Safe(name) => {
                if !safe.contains(&name) {
                    safe.push(name);
                }
            }
        }
    }
    if auto {
        return Verdict {
            policy: Policy::Auto,
            reason: None,
        };
    }
    let reason = if safe.is_empty() {
        "hold: it runs no command".to_string()
    } else {
        format!(
            "hold: {} is not a known server, watcher or coding agent",
            safe.join(", ")
        )
    };
    Verdict {
        policy: Policy::Hold,
        reason: Some(reason),
    }
}

/// The commands a typed line runs itself (not those of scripts it hands a shell), each
/// as its words (quotes removed, leading assignments, wrappers and global options
/// dropped, the program as its file name).
pub fn commands_of(typed_line: &str) -> Vec<Vec<String>> {
    commands_in(typed_line)
        .into_iter()
        .map(|(w, _)| w)
        .collect()
}

/// The variables a typed line assigns for the commands it runs itself (`PORT=1 cmd`,
/// `env PORT=1 cmd`), by name: they go with the line, not into the shell that runs it.
pub fn assigned_names(typed_line: &str, shell: ShellKind) -> Vec<String> {
    walk(typed_line, shell).1
}

/// The commands of [`commands_of`], each with the directory it runs in as the line's
/// `cd`s tell.
pub fn commands_in(typed_line: &str) -> Vec<(Vec<String>, Dir)> {
    walk(typed_line, ShellKind::Bash)
        .0
        .into_iter()
        .filter(|r| !r.in_script)
        .map(|mut r| {
            r.words[0] = basename(&r.words[0]).to_string();
            (r.words, r.dir)
        })
        .collect()
}

/// Walk a line with no lists, every name taken for an executable: the commands it
/// reaches and the variables it assigns for its own.
fn walk(typed_line: &str, shell: ShellKind) -> (Vec<judge::Ran>, Vec<String>) {
    let rules = Rules {
        auto: Vec::new(),
        hold: Vec::new(),
        never: Vec::new(),
        agents: Vec::new(),
    };
    let mut j = rules.walker(&|_| true);
    j.line(typed_line, shell, &[], 0);
    (j.ran, j.assigned)
}

/// A process's argv as [`commands_of`] gives a command: the program as its file name, a
/// rewritten title split in words.
pub fn process_words(argv: &[String]) -> Vec<String> {
    let mut words = argv_words(argv);
    if let Some(first) = words.first_mut() {
        *first = basename(first).to_string();
    }
    words
}

/// A process's argv as words; a single element holding spaces (a process that rewrote
/// its title, like `npm run dev`) is split on them.
fn argv_words(argv: &[String]) -> Vec<String> {
    match argv {
        [one] if one.contains(' ') => one.split_whitespace().map(str::to_string).collect(),
        _ => argv.to_vec(),
    }
}

#[cfg(test)]
mod tests;
