//! The relaunch lists and their patterns.
//!
//! A pattern is words separated by spaces. The first matches the command's file name.
//! Words starting with `-` must appear anywhere among the arguments; other words must
//! match the first positional arguments in order. A word may list alternatives with `|`
//! and use `*` as a wildcard: `npm|pnpm run dev*|start`.

use super::words::basename;

/// Built-in `auto` patterns: dev servers, watchers, test watchers.
pub const DEFAULT_AUTO: &[&str] = &[
    "npm|pnpm|yarn|bun run dev*|start*|watch*|serve*",
    "npm|pnpm|yarn|bun dev*|start*|watch*|serve*",
    "vite",
    "next dev|start",
    "nuxt|nuxi dev",
    "astro dev",
    "remix dev",
    "webpack serve|--watch",
    "webpack-dev-server",
    "tsc --watch",
    "tsc -w",
    "nodemon",
    "ts-node-dev",
    "tsx watch",
    "vitest",
    "jest --watch*",
    "cargo watch",
    "cargo-watch",
    "bacon",
    "watchexec",
    "entr",
    "python* -m http.server",
    "python* manage.py runserver",
    "flask run",
    "uvicorn",
    "gunicorn",
    "hypercorn",
    "fastapi dev|run",
    "ptw",
    "pytest-watch",
    "rails s|server",
    "hugo server",
    "jekyll serve",
    "mkdocs serve",
    "docker compose up",
    "docker-compose up",
    "tail -f|-F|--follow*",
    "air",
    "live-server",
    "http-server",
    "serve",
];

/// Built-in `never` patterns: commands that must not run twice.
pub const DEFAULT_NEVER: &[&str] = &[
    "sudo",
    "su",
    "doas",
    "pkexec",
    "run0",
    "rm",
    "rmdir",
    "dd",
    "mkfs*",
    "shred",
    "wipefs",
    "fdisk",
    "parted",
    "mv",
    "truncate",
    "ssh",
    "scp",
    "sftp",
    "mosh",
    "git push|reset|clean|rebase|commit|merge|am|cherry-pick|revert|tag|filter-branch|stash",
    "apt|apt-get|aptitude|dpkg|dnf|yum|zypper|pacman|apk|rpm|port|nix-env",
    "brew install|uninstall|remove|rm|upgrade|reinstall",
    "pip* install|uninstall",
    "pipx install|uninstall|reinstall",
    "uv pip|add|remove|sync",
    "poetry add|remove|install|publish",
    "npm|pnpm|yarn|bun install|i|ci|add|remove|uninstall|rm|un|publish|update|upgrade|link",
    "cargo install|uninstall|publish|add|remove|yank",
    "gem install|uninstall|push",
    "go install|get",
    "conda|mamba install|remove|create|update",
    "twine upload",
    "kubectl apply|delete|create|replace|patch|scale|drain|cordon|rollout|edit",
    "helm install|upgrade|uninstall|delete|rollback",
    "terraform|tofu apply|destroy|import",
    "docker|podman rm|rmi|push|kill|stop|prune|system|volume",
    "docker compose down|rm",
    "docker-compose down|rm",
    "kill",
    "pkill",
    "killall",
    "reboot",
    "shutdown",
    "poweroff",
    "halt",
    "systemctl",
    "crontab",
];

/// Built-in agent CLIs and the lines that resume them.
pub const DEFAULT_AGENTS: &[(&str, &str)] = &[
    ("claude", "claude --continue"),
    ("codex", "codex resume --last"),
    ("aider", "aider --restore-chat-history"),
];

/// One compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    command: Vec<String>,
    options: Vec<Vec<String>>,
    positional: Vec<Vec<String>>,
}

impl Pattern {
    pub fn parse(text: &str) -> Option<Pattern> {
        let mut words = text.split_whitespace();
        let command = alts(words.next()?)
            .iter()
            .map(|a| basename(a).to_string())
            .collect();
        let (mut options, mut positional) = (Vec::new(), Vec::new());
        for w in words {
            if w.starts_with('-') {
                options.push(alts(w));
            } else {
                positional.push(alts(w));
            }
        }
        Some(Pattern {
            command,
            options,
            positional,
        })
    }

    pub fn matches(&self, words: &[String]) -> bool {
        let Some(first) = words.first() else {
            return false;
        };
        if !any_glob(&self.command, basename(first)) {
            return false;
        }
        let args = &words[1..];
        let options_ok = self.options.iter().all(|alts| {
            args.iter().any(|a| {
                let name = a.split('=').next().unwrap_or(a);
                any_glob(alts, name)
            })
        });
        if !options_ok {
            return false;
        }
        let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
        self.positional.len() <= positional.len()
            && self
                .positional
                .iter()
                .zip(positional)
                .all(|(alts, w)| any_glob(alts, w))
    }
}

impl Pattern {
    /// The words of `words` this pattern names: the program and its matched verbs.
    pub fn describe(&self, words: &[String]) -> String {
        let mut out = vec![basename(words.first().map_or("", String::as_str))];
        let positional = words.iter().skip(1).filter(|a| !a.starts_with('-'));
        out.extend(positional.take(self.positional.len()).map(String::as_str));
        out.join(" ")
    }
}

fn alts(word: &str) -> Vec<String> {
    word.split('|').map(str::to_string).collect()
}

fn any_glob(alts: &[String], s: &str) -> bool {
    alts.iter().any(|p| glob(p.as_bytes(), s.as_bytes()))
}

/// `*` matches any run of bytes; everything else matches itself.
fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && p[pi] != b'*' && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob(b"python*", b"python3.11"));
        assert!(glob(b"*", b""));
        assert!(!glob(b"dev*", b"xdev"));
        assert!(glob(b"a*b*c", b"axxbyyc"));
    }
}
