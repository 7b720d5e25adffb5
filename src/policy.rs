//! Relaunch policy: may a command that was running be started again by restore?
//!
//! A typed line is split into its segments (`a && b`, `a || b`, `a | b`, `a; b`, `a &`,
//! `(a)`, `$(a)`, `sh -c 'a'`, `eval 'a'`). `never` if any segment runs something that
//! must not run twice; else `auto` if a segment is a dev server, watcher, test watcher or coding-agent
//! CLI; else `hold` (typed at the prompt, waiting for Enter).
//!
//! A pattern is words separated by spaces. The first matches the command's file name
//! (leading `VAR=x` assignments and wrappers such as `env`, `nohup`, `time`, `npx`,
//! `bundle exec` skipped). Words starting with `-` must appear anywhere among the
//! arguments; other words must match the first positional arguments in order. A word may
//! list alternatives with `|` and use `*` as a wildcard: `npm|pnpm run dev*|start`.

use crate::config::Config;
use serde::{Deserialize, Serialize};

/// What restore may do with a command that was running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Run it again at once (dev servers, watchers, agent CLIs).
    Auto,
    /// Type it at the prompt and wait for Enter.
    Hold,
    /// Never run it again (it must not run twice).
    Never,
}

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

/// Wrappers that run the command after them (their own options skipped).
const WRAPPERS: &[&str] = &[
    "env",
    "nohup",
    "time",
    "command",
    "builtin",
    "exec",
    "nice",
    "ionice",
    "stdbuf",
    "timeout",
    "npx",
    "bunx",
    "pnpx",
    "caffeinate",
    "unbuffer",
    "chronic",
    "xargs",
    "watch",
    "{",
    "!",
    "if",
    "then",
    "else",
    "elif",
    "do",
    "while",
    "until",
];

/// Two-word wrappers (`bundle exec rails s`).
const WRAPPERS2: &[(&str, &str)] = &[
    ("bundle", "exec"),
    ("poetry", "run"),
    ("uv", "run"),
    ("pipenv", "run"),
    ("pdm", "run"),
    ("hatch", "run"),
    ("rye", "run"),
    ("pnpm", "exec"),
    ("npm", "exec"),
    ("yarn", "exec"),
];

/// The relaunch lists, compiled once for many judgements.
#[derive(Debug, Clone)]
pub struct Rules {
    auto: Vec<Pattern>,
    hold: Vec<Pattern>,
    never: Vec<Pattern>,
    agents: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
struct Pattern {
    command: Vec<String>,
    options: Vec<Vec<String>>,
    positional: Vec<Vec<String>>,
}

/// What one segment says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Never,
    Auto,
    Other,
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

    /// Judge a command line as typed.
    pub fn judge(&self, typed_line: &str) -> Policy {
        self.combine(segments(typed_line).iter().map(|s| self.segment(s, 0)))
    }

    /// Judge a process by its argv (kept as a list: no re-quoting).
    pub fn judge_argv(&self, argv: &[String]) -> Policy {
        self.combine(std::iter::once(self.segment(&argv_words(argv), 0)))
    }

    /// The line that resumes the agent CLI this typed line runs, if it runs one.
    pub fn resume_line(&self, typed_line: &str) -> Option<String> {
        segments(typed_line)
            .iter()
            .find_map(|s| self.agent_of(&normalize(s)))
    }

    /// The resume line for a process's argv.
    pub fn resume_argv(&self, argv: &[String]) -> Option<String> {
        self.agent_of(&normalize(&argv_words(argv)))
    }

    fn combine(&self, verdicts: impl Iterator<Item = Verdict>) -> Policy {
        let mut auto = false;
        for v in verdicts {
            match v {
                Verdict::Never => return Policy::Never,
                Verdict::Auto => auto = true,
                Verdict::Other => {}
            }
        }
        if auto {
            Policy::Auto
        } else {
            Policy::Hold
        }
    }

    fn segment(&self, words: &[String], depth: usize) -> Verdict {
        let words = normalize(words);
        if words.is_empty() {
            return Verdict::Other;
        }
        if depth < 4 {
            // `sh -c 'a; b'` and `eval 'a; b'` run a line of their own: judge it too.
            let eval = (basename(&words[0]) == "eval").then(|| words[1..].join(" "));
            if let Some(inner) = eval.as_deref().or_else(|| shell_dash_c(&words)) {
                let inner: Vec<Verdict> = segments(inner)
                    .iter()
                    .map(|s| self.segment(s, depth + 1))
                    .collect();
                return match self.combine(inner.into_iter()) {
                    Policy::Never => Verdict::Never,
                    Policy::Auto => Verdict::Auto,
                    Policy::Hold => Verdict::Other,
                };
            }
        }
        if self.never.iter().any(|p| p.matches(&words)) {
            return Verdict::Never;
        }
        if self.hold.iter().any(|p| p.matches(&words)) {
            return Verdict::Other;
        }
        if self.auto.iter().any(|p| p.matches(&words)) || self.agent_of(&words).is_some() {
            return Verdict::Auto;
        }
        Verdict::Other
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

/// The commands a typed line runs, each as its words (quotes removed, leading
/// assignments and wrappers dropped, the program as its file name).
pub fn commands_of(typed_line: &str) -> Vec<Vec<String>> {
    segments(typed_line)
        .iter()
        .map(|s| normalize(s))
        .filter(|w| !w.is_empty())
        .map(|mut w| {
            w[0] = basename(&w[0]).to_string();
            w
        })
        .collect()
}

/// Judge a typed command line with the config's lists (see the module doc).
#[allow(dead_code)] // API for restore and the brief (issue 4)
pub fn judge(typed_line: &str, cfg: &Config) -> Policy {
    Rules::new(cfg).judge(typed_line)
}

/// The line that resumes the coding-agent CLI a typed line runs (`claude` →
/// `claude --continue`, `codex` → `codex resume --last`, `aider` →
/// `aider --restore-chat-history`), if it runs one.
#[allow(dead_code)] // API for restore and the brief (issue 4)
pub fn resume_line(typed_line: &str, cfg: &Config) -> Option<String> {
    Rules::new(cfg).resume_line(typed_line)
}

impl Pattern {
    fn parse(text: &str) -> Option<Pattern> {
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

    fn matches(&self, words: &[String]) -> bool {
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

fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=')
        .is_some_and(|(name, _)| crate::shellenv::is_var_name(name))
}

/// Drop leading assignments and wrappers, so the first word is the real command.
fn normalize(words: &[String]) -> Vec<String> {
    let mut w: &[String] = words;
    loop {
        while w.first().is_some_and(|x| is_assignment(x)) {
            w = &w[1..];
        }
        let Some(first) = w.first() else {
            return Vec::new();
        };
        let name = basename(first);
        if let Some(second) = w.get(1) {
            if WRAPPERS2.iter().any(|(a, b)| *a == name && b == second) {
                w = skip_options(&w[2..], "");
                continue;
            }
        }
        if !WRAPPERS.contains(&name) {
            return w.to_vec();
        }
        w = skip_options(&w[1..], name);
        if name == "timeout"
            && w.first()
                .is_some_and(|d| d.starts_with(|c: char| c.is_ascii_digit()))
        {
            w = &w[1..];
        }
    }
}

/// Skip a wrapper's options (and the values of those that take one).
fn skip_options<'a>(mut w: &'a [String], wrapper: &str) -> &'a [String] {
    let takes_value: &[&str] = match wrapper {
        "env" => &["-u", "-C", "-S", "--unset", "--chdir"],
        "nice" => &["-n", "--adjustment"],
        "ionice" => &["-c", "-n", "-p"],
        "timeout" => &["-s", "-k", "--signal", "--kill-after"],
        "exec" => &["-a"],
        "npx" | "bunx" | "pnpx" => &["-p", "--package"],
        "xargs" => &["-n", "-I", "-L", "-P", "-s", "-d", "-E", "-a"],
        "watch" => &["-n", "--interval"],
        _ => &[],
    };
    while let Some(first) = w.first() {
        if first == "--" {
            return &w[1..];
        }
        if !first.starts_with('-') || first == "-" {
            break;
        }
        w = if takes_value.contains(&first.as_str()) && w.len() > 1 {
            &w[2..]
        } else {
            &w[1..]
        };
    }
    w
}

/// `sh -c 'script'` (also bash, zsh, dash, fish): the script.
fn shell_dash_c(words: &[String]) -> Option<&str> {
    let shells = ["sh", "bash", "zsh", "dash", "fish", "ksh"];
    if !shells.contains(&basename(&words[0])) {
        return None;
    }
    let i = words
        .iter()
        .position(|w| w.starts_with('-') && !w.starts_with("--") && w.contains('c'))?;
    words.get(i + 1).map(String::as_str)
}

/// A process's argv as words; a single element holding spaces (a process that rewrote
/// its title, like `npm run dev`) is split on them.
fn argv_words(argv: &[String]) -> Vec<String> {
    match argv {
        [one] if one.contains(' ') => one.split_whitespace().map(str::to_string).collect(),
        _ => argv.to_vec(),
    }
}

/// Split a command line into the word lists of its segments, quotes removed.
fn segments(line: &str) -> Vec<Vec<String>> {
    let mut segs: Vec<Vec<String>> = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    let mut skip_next_word = false;
    let end_word = |word: &mut Option<String>, words: &mut Vec<String>, skip: &mut bool| {
        if let Some(w) = word.take() {
            if *skip {
                *skip = false;
            } else {
                words.push(w);
            }
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                for d in chars.by_ref() {
                    if d == '\'' {
                        break;
                    }
                    w.push(d);
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(d) = chars.next() {
                    match d {
                        '"' => break,
                        '\\' => {
                            if let Some(e) = chars.next() {
                                w.push(e);
                            }
                        }
                        _ => w.push(d),
                    }
                }
            }
            '\\' => {
                if let Some(e) = chars.next() {
                    if e != '\n' {
                        word.get_or_insert_with(String::new).push(e);
                    }
                }
            }
            ' ' | '\t' => end_word(&mut word, &mut words, &mut skip_next_word),
            '>' | '<' => {
                // A redirection: drop a leading fd number and the target.
                if word
                    .as_deref()
                    .is_some_and(|w| w.chars().all(|d| d.is_ascii_digit()))
                {
                    word = None;
                }
                end_word(&mut word, &mut words, &mut skip_next_word);
                while matches!(chars.peek(), Some('>' | '&' | '|' | '<')) {
                    chars.next();
                }
                if chars
                    .peek()
                    .is_some_and(|d| d.is_ascii_digit() || *d == '-')
                {
                    chars.next();
                } else {
                    skip_next_word = true;
                }
            }
            '$' if chars.peek() == Some(&'(') => {
                chars.next();
                end_word(&mut word, &mut words, &mut skip_next_word);
                segs.push(std::mem::take(&mut words));
            }
            ';' | '&' | '|' | '\n' | '(' | ')' | '`' => {
                end_word(&mut word, &mut words, &mut skip_next_word);
                segs.push(std::mem::take(&mut words));
            }
            '#' if word.is_none() => {
                // A comment runs to the end of the line.
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
                end_word(&mut word, &mut words, &mut skip_next_word);
                segs.push(std::mem::take(&mut words));
            }
            _ => word.get_or_insert_with(String::new).push(c),
        }
    }
    end_word(&mut word, &mut words, &mut skip_next_word);
    segs.push(words);
    segs.retain(|s| !s.is_empty());
    segs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(line: &str) -> Policy {
        judge(line, &Config::default())
    }

    #[test]
    fn dev_servers_and_watchers_are_auto() {
        for line in [
            "cd web && npm run dev",
            "npm start",
            "PORT=3001 npm run dev &",
            "pnpm run dev:server",
            "python3 -m http.server 8000",
            "/root/.pyenv/versions/3.11.7/bin/python3 -m http.server",
            "cargo watch -x test",
            "npx vite --port 5173",
            "bundle exec rails s",
            "docker compose up -d web",
            "tail -n 50 -f log/dev.log",
            "jest --watchAll",
            "FLASK_APP=x flask run --reload",
            "(cd api; uvicorn main:app --reload)",
            "env -u X NODE_ENV=dev nohup npm run dev > out.log 2>&1 &",
        ] {
            assert_eq!(j(line), Policy::Auto, "{line}");
        }
    }

    #[test]
    fn anything_that_must_not_run_twice_is_never() {
        for line in [
            "make && sudo make install",
            "sudo -E npm run dev",
            "rm -rf build",
            "npm run dev; git push origin main",
            "git reset --hard HEAD~1",
            "apt-get install -y jq",
            "pip install -r requirements.txt",
            "npm install",
            "ssh host 'tail -f /var/log/syslog'",
            "bash -c 'cd x && rm -f y'",
            "echo $(rm -f x)",
            "time dd if=/dev/zero of=x",
            "cat list | xargs rm",
            "eval 'rm -rf x'",
            "eval git push",
        ] {
            assert_eq!(j(line), Policy::Never, "{line}");
        }
    }

    #[test]
    fn everything_else_is_held() {
        for line in [
            "make test",
            "cargo test",
            "vim src/main.rs",
            "echo 'sudo rm -rf /'",
            "grep -r 'npm run dev' .",
            "cd web",
            "",
        ] {
            assert_eq!(j(line), Policy::Hold, "{line}");
        }
    }

    #[test]
    fn agents_are_auto_with_a_resume_line() {
        let cfg = Config::default();
        assert_eq!(j("claude"), Policy::Auto);
        assert_eq!(
            resume_line("cd proj && claude 'fix the bug'", &cfg).as_deref(),
            Some("claude --continue")
        );
        assert_eq!(
            resume_line("codex", &cfg).as_deref(),
            Some("codex resume --last")
        );
        assert_eq!(
            resume_line("aider --model x", &cfg).as_deref(),
            Some("aider --restore-chat-history")
        );
        assert_eq!(resume_line("npm run dev", &cfg), None);
        let rules = Rules::new(&cfg);
        let argv: Vec<String> = [
            "node",
            "/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            rules.resume_argv(&argv).as_deref(),
            Some("claude --continue")
        );
        assert_eq!(rules.judge_argv(&argv), Policy::Auto);
    }

    #[test]
    fn argv_is_judged_without_requoting() {
        let rules = Rules::new(&Config::default());
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(rules.judge_argv(&v(&["npm run dev"])), Policy::Auto);
        assert_eq!(
            rules.judge_argv(&v(&["bash", "-c", "make && rm x"])),
            Policy::Never
        );
        assert_eq!(rules.judge_argv(&v(&["sleep", "1000"])), Policy::Hold);
        assert_eq!(rules.judge_argv(&v(&["watch", "a b"])), Policy::Hold);
    }

    #[test]
    fn config_lists_extend_and_override() {
        let cfg = Config::parse(
            "[relaunch]\nauto = [\"./serve.sh\"]\nhold = [\"npm start\"]\nnever = [\"deploy\"]\n\
             agents = { gemini = \"gemini --resume\" }\n",
            std::path::Path::new("c"),
        )
        .unwrap();
        assert_eq!(judge("./serve.sh --port 1", &cfg), Policy::Auto);
        assert_eq!(judge("npm start", &cfg), Policy::Hold);
        assert_eq!(judge("npm run dev", &cfg), Policy::Auto);
        assert_eq!(judge("deploy prod", &cfg), Policy::Never);
        assert_eq!(judge("gemini", &cfg), Policy::Auto);
        assert_eq!(
            resume_line("gemini", &cfg).as_deref(),
            Some("gemini --resume")
        );
        let bare =
            Config::parse("[relaunch]\ndefaults = false\n", std::path::Path::new("c")).unwrap();
        assert_eq!(judge("sudo rm -rf /", &bare), Policy::Hold);
    }

    #[test]
    fn globs() {
        assert!(glob(b"python*", b"python3.11"));
        assert!(glob(b"*", b""));
        assert!(!glob(b"dev*", b"xdev"));
        assert!(glob(b"a*b*c", b"axxbyyc"));
    }

    proptest::proptest! {
        #[test]
        fn judging_never_panics(s in "\\PC{0,200}") {
            let _ = j(&s);
        }
    }
}
