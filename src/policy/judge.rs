//! Walk everything a line runs and judge each command.

use super::found::{Arg, Found};
use super::words::{basename, changes_what_runs, is_assignment};
use super::wrappers::{self, Inner};
use super::{bash, fish, global, Rules};
use crate::model::ShellKind;

/// Nested shells, evaluators and substitutions deeper than this are opaque.
const MAX_DEPTH: usize = 12;

/// What one part of a line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Must not run twice: the reason.
    Never(String),
    /// Cannot be judged: the reason.
    Opaque(String),
    /// A known server, watcher or coding-agent CLI.
    Auto,
    /// Neither: the command's name.
    Safe(String),
}

/// Where relative paths are looked up, as `cd` moves the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dir {
    /// The shell's own directory.
    Start,
    /// This directory, relative to the shell's or absolute.
    At(String),
    /// Not known (`cd $X`, `cd -`, `cd` alone).
    Unknown,
}

/// Where a command's standard input comes from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Input<'a> {
    /// A here-string or heredoc.
    pub stdin: Option<&'a Arg>,
    /// The command before it in a pipeline.
    pub piped: bool,
}

/// A command a line reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    /// Its words, wrappers and global options removed.
    pub words: Vec<String>,
    /// Found inside a script (`bash -c`, `$(…)`) rather than on the line itself.
    pub in_script: bool,
    /// Where it runs, as far as the line's `cd`s tell.
    pub dir: Dir,
}

/// A walk over one line.
pub struct Judge<'a> {
    pub rules: &'a Rules,
    /// Is this name (or path) an executable?
    pub exe: &'a dyn Fn(&str) -> bool,
    pub findings: Vec<Finding>,
    /// The commands reached, in the order of the line.
    pub ran: Vec<Ran>,
    /// The variables the line assigns for the commands it runs itself, by name.
    pub assigned: Vec<String>,
    /// How many scripts deep the walk is.
    scripts: usize,
    dir: Dir,
}

impl<'a> Judge<'a> {
    /// A walk with these lists and this resolver.
    pub fn new(rules: &'a Rules, exe: &'a dyn Fn(&str) -> bool) -> Judge<'a> {
        Judge {
            rules,
            exe,
            findings: Vec::new(),
            ran: Vec::new(),
            assigned: Vec::new(),
            scripts: 0,
            dir: Dir::Start,
        }
    }

    /// Judge a line for `shell`, found at `at` (outermost first).
    pub fn line(&mut self, text: &str, shell: ShellKind, at: &[String], depth: usize) {
        if depth > MAX_DEPTH {
            return self.opaque("commands nested too deep".into(), at);
        }
        let nested = depth > 0;
        self.scripts += usize::from(nested);
        let found = match shell {
            ShellKind::Fish => fish::parse(text),
            ShellKind::Bash | ShellKind::Zsh => bash::parse(text),
        };
        for f in found {
            match f {
                Found::Run(c) => {
                    if self.scripts == 0 {
                        self.assigned.extend(c.assigns.iter().cloned());
                    }
                    let input = Input {
                        stdin: c.stdin.as_ref(),
                        piped: c.piped,
                    };
                    self.command(&c.words, input, shell, at, depth, true)
                }
                Found::Script(s, what) => self.line(&s, shell, &within(at, what), depth + 1),
                Found::Opaque(why) => self.opaque(why, at),
            }
        }
        self.scripts -= usize::from(nested);
    }

    /// Judge one command from its words; `lookup`: its name must be a builtin or an
    /// executable (false for a command a wrapper finds itself, as `npx vite`).
    pub fn command(
        &mut self,
        words: &[Arg],
        input: Input,
        shell: ShellKind,
        at: &[String],
        depth: usize,
        lookup: bool,
    ) {
        if depth > MAX_DEPTH {
            return self.opaque("commands nested too deep".into(), at);
        }
        let start = words
            .iter()
            .position(|w| !is_assignment(w.text()))
            .unwrap_or(words.len());
        for w in &words[..start] {
            let name = w.text().split('=').next().unwrap_or_default();
            if changes_what_runs(name) {
                return self.opaque(format!("the line sets {name}"), at);
            }
            if self.scripts == 0 {
                self.assigned.push(name.to_string());
            }
        }
        let words = &words[start..];
        let Some(first) = words.first() else { return };
        let name = match first.value() {
            Some(n) if !n.is_empty() => n,
            _ => return self.opaque(format!("opaque command word {}", first.text()), at),
        };
        let texts: Vec<String> = words.iter().map(|w| w.text().to_string()).collect();
        let norm = global::strip(&texts);
        self.ran.push(Ran {
            words: norm.clone(),
            in_script: self.scripts > 0,
            dir: self.dir.clone(),
        });
        if let Some(p) = self.rules.never.iter().find(|p| p.matches(&norm)) {
            return self.never(format!("never: {}", p.describe(&norm)), at);
        }
        let known = if name.contains('/') {
            match (&self.dir, name.starts_with('/')) {
                (_, true) | (Dir::Start, _) => (self.exe)(name),
                (Dir::At(d), false) => (self.exe)(&format!("{d}/{name}")),
                (Dir::Unknown, false) => false,
            }
        } else {
            is_builtin(name, shell) || (self.exe)(name)
        };
        if lookup && !known {
            return self.opaque(
                format!("opaque command word {name}: neither a builtin nor an executable on PATH"),
                at,
            );
        }
        if matches!(name, "cd" | "pushd") {
            self.change_dir(&words[1..]);
        }
        if let Some(u) = wrappers::unwrap(words, input.stdin, input.piped, shell) {
            for (inner, what) in u.inner {
                let here = within(at, &what);
                match inner {
                    Inner::Words(w) => self.command(&w, input, shell, &here, depth + 1, true),
                    Inner::Tool(w) => self.command(&w, input, shell, &here, depth + 1, false),
                    Inner::Line(l, sh) => self.line(&l, sh, &here, depth + 1),
                    Inner::Opaque(why) => self.opaque(why, &here),
                    Inner::Never(what) => self.never(format!("never: {what}"), &here),
                }
            }
            if u.wrapper {
                return;
            }
        }
        let finding = if self.rules.hold.iter().any(|p| p.matches(&norm)) {
            Finding::Safe(basename(name).to_string())
        } else if self.rules.auto.iter().any(|p| p.matches(&norm))
            || self.rules.agent_of(&norm).is_some()
        {
            Finding::Auto
        } else {
            Finding::Safe(basename(name).to_string())
        };
        self.findings.push(finding);
    }

    /// Follow `cd DIR` so that a later `./script` is looked up where it will run.
    fn change_dir(&mut self, args: &[Arg]) {
        let target = args
            .iter()
            .find(|a| !a.text().starts_with('-') || a.text() == "-");
        self.dir = match (target.and_then(Arg::value), &self.dir) {
            (Some(t), _) if t.starts_with('/') => Dir::At(t.to_string()),
            (Some("-") | None, _) | (_, Dir::Unknown) => Dir::Unknown,
            (Some(t), Dir::Start) => Dir::At(t.to_string()),
            (Some(t), Dir::At(d)) => Dir::At(format!("{d}/{t}")),
        };
    }

    fn never(&mut self, why: String, at: &[String]) {
        self.findings.push(Finding::Never(with_place(why, at)));
    }

    fn opaque(&mut self, why: String, at: &[String]) {
        let why = if why.starts_with("opaque") {
            why
        } else {
            format!("opaque: {why}")
        };
        self.findings.push(Finding::Opaque(with_place(why, at)));
    }
}

fn within(at: &[String], what: &str) -> Vec<String> {
    let mut v = at.to_vec();
    if !what.is_empty() {
        v.push(what.to_string());
    }
    v
}

fn with_place(why: String, at: &[String]) -> String {
    if at.is_empty() {
        why
    } else {
        format!("{why} (inside {})", at.join(", inside "))
    }
}

const BASH_BUILTINS: &[&str] = &[
    ".",
    ":",
    "[",
    "alias",
    "bg",
    "bind",
    "break",
    "builtin",
    "caller",
    "cd",
    "command",
    "compgen",
    "complete",
    "compopt",
    "continue",
    "declare",
    "dirs",
    "disown",
    "echo",
    "enable",
    "eval",
    "exec",
    "exit",
    "export",
    "false",
    "fc",
    "fg",
    "getopts",
    "hash",
    "help",
    "history",
    "jobs",
    "kill",
    "let",
    "local",
    "logout",
    "mapfile",
    "popd",
    "printf",
    "pushd",
    "pwd",
    "read",
    "readarray",
    "readonly",
    "return",
    "set",
    "shift",
    "shopt",
    "source",
    "suspend",
    "test",
    "times",
    "trap",
    "true",
    "type",
    "typeset",
    "ulimit",
    "umask",
    "unalias",
    "unset",
    "wait",
];
const ZSH_BUILTINS: &[&str] = &[
    "autoload",
    "bindkey",
    "print",
    "setopt",
    "unsetopt",
    "zle",
    "zmodload",
    "whence",
    "where",
    "which",
    "rehash",
    "noglob",
    "nocorrect",
    "emulate",
    "functions",
    "integer",
    "float",
    "zstyle",
    "compdef",
    "add-zsh-hook",
];
const FISH_BUILTINS: &[&str] = &[
    "abbr",
    "argparse",
    "bg",
    "bind",
    "block",
    "builtin",
    "cd",
    "command",
    "commandline",
    "complete",
    "contains",
    "count",
    "disown",
    "echo",
    "emit",
    "eval",
    "exec",
    "exit",
    "false",
    "fg",
    "functions",
    "history",
    "jobs",
    "math",
    "printf",
    "pwd",
    "random",
    "read",
    "realpath",
    "return",
    "set",
    "set_color",
    "source",
    "status",
    "string",
    "test",
    "time",
    "true",
    "type",
    "ulimit",
    "wait",
    "break",
    "continue",
    "[",
];

fn is_builtin(name: &str, shell: ShellKind) -> bool {
    match shell {
        ShellKind::Bash => BASH_BUILTINS.contains(&name),
        ShellKind::Zsh => BASH_BUILTINS.contains(&name) || ZSH_BUILTINS.contains(&name),
        ShellKind::Fish => FISH_BUILTINS.contains(&name),
    }
}
