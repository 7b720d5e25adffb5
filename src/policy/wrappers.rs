//! Commands that run other commands: wrappers (`env`, `timeout`, `xargs`, …), shells
//! and evaluators (`bash -c`, `eval`, `source`), `find -exec`, and watchers' commands
//! (`entr`, `watchexec`, `nodemon --exec`, `cargo watch -x/-s`).

use super::found::Arg;
use super::opts::{self, Spec};
use super::words::{basename, is_assignment};
use crate::model::ShellKind;

/// Something a command runs besides itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inner {
    /// A command, from its words.
    Words(Vec<Arg>),
    /// A command the wrapper finds itself (`npx vite`, `bundle exec rails`): not on PATH.
    Tool(Vec<Arg>),
    /// A line for a shell.
    Line(String, ShellKind),
    /// Something that cannot be judged: why.
    Opaque(String),
    /// Something that must not run twice: what.
    Never(String),
}

/// What a command runs, each part with where it was found (`bash -c`, `find -exec`).
#[derive(Debug, Default)]
pub struct Unwrapped {
    pub inner: Vec<(Inner, String)>,
    /// Nothing but a wrapper: the command itself says nothing.
    pub wrapper: bool,
}

impl Unwrapped {
    fn wrapper(inner: Inner, at: impl Into<String>) -> Unwrapped {
        Unwrapped {
            inner: vec![(inner, at.into())],
            wrapper: true,
        }
    }

    fn command(inner: Vec<(Inner, String)>) -> Unwrapped {
        Unwrapped {
            inner,
            wrapper: false,
        }
    }
}

const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "yash", "posh", "fish",
];

/// Programs that run a command of their own built in ways not read here: opaque when
/// given arguments (`parallel rm ::: D`, `chroot / rm`, `tmux new 'rm -rf D'`).
const OPAQUE_RUNNERS: &[&str] = &[
    "parallel",
    "chroot",
    "unshare",
    "nsenter",
    "systemd-run",
    "firejail",
    "runuser",
    "tmux",
    "screen",
    "dtach",
    "abduco",
    "expect",
    "gdb",
    "valgrind",
    "su",
];

/// Files that are a command's standard input.
const STDIN_FILES: &[&str] = &["/dev/stdin", "/dev/fd/0", "/proc/self/fd/0", "-"];

/// Wrappers that run the command after their options, with the options they take.
fn wrapper_spec(name: &str) -> Option<Spec> {
    let spec = match name {
        "nohup" | "builtin" | "busybox" | "torsocks" | "noglob" | "nocorrect" => Spec::default(),
        "nice" => Spec {
            short_valued: "n",
            long_valued: &["adjustment"],
            numeric: true,
            ..Spec::default()
        },
        "ionice" => Spec {
            short: "t",
            short_valued: "cn",
            long: &["ignore"],
            long_valued: &["class", "classdata"],
            ..Spec::default()
        },
        "stdbuf" => Spec {
            short_valued: "ioe",
            long_valued: &["input", "output", "error"],
            ..Spec::default()
        },
        "setsid" => Spec {
            short: "cfw",
            long: &["ctty", "fork", "wait"],
            ..Spec::default()
        },
        "chronic" => Spec {
            short: "ev",
            ..Spec::default()
        },
        "time" => Spec {
            short: "pvqa",
            short_valued: "fo",
            long: &["portability", "verbose", "quiet", "append"],
            long_valued: &["format", "output"],
            ..Spec::default()
        },
        "exec" => Spec {
            short: "cl",
            short_valued: "a",
            ..Spec::default()
        },
        "command" => Spec {
            short: "p",
            ..Spec::default()
        },
        "proxychains" | "proxychains4" => Spec {
            short: "q",
            short_valued: "f",
            ..Spec::default()
        },
        "strace" | "ltrace" => Spec {
            short: "fFcCqvxyrtTwkiZ",
            short_valued: "oeEpsSPXUabuI",
            long: &["follow-forks", "summary-only", "quiet"],
            long_valued: &["output", "trace", "signal", "expr"],
            ..Spec::default()
        },
        "unbuffer" => Spec {
            short: "p",
            ..Spec::default()
        },
        "caffeinate" => Spec {
            short: "dimsu",
            short_valued: "tw",
            ..Spec::default()
        },
        "xargs" => Spec {
            short: "0oprtx",
            short_valued: "adEILnPs",
            long: &[
                "null",
                "interactive",
                "no-run-if-empty",
                "verbose",
                "exit",
                "open-tty",
            ],
            long_valued: &[
                "arg-file",
                "delimiter",
                "max-lines",
                "max-args",
                "max-procs",
                "max-chars",
                "process-slot-var",
            ],
            ..Spec::default()
        },
        _ => return None,
    };
    Some(spec)
}

/// Two-word wrappers (`bundle exec rails s`), with their options.
fn verb_wrapper_spec(name: &str, verb: &str) -> Option<Spec> {
    let spec = match (name, verb) {
        ("bundle", "exec")
        | ("poetry", "run")
        | ("pipenv", "run")
        | ("pdm", "run")
        | ("hatch", "run")
        | ("rye", "run")
        | ("pnpm", "exec" | "dlx")
        | ("yarn", "exec" | "dlx") => Spec::default(),
        ("uv", "run") => Spec {
            short_valued: "p",
            long: &["no-project", "isolated", "frozen", "locked", "no-sync"],
            long_valued: &[
                "with",
                "python",
                "project",
                "directory",
                "env-file",
                "group",
            ],
            ..Spec::default()
        },
        ("npm", "exec") => npx_spec(),
        _ => return None,
    };
    Some(spec)
}

fn npx_spec() -> Spec {
    Spec {
        short: "yq",
        short_valued: "pc",
        long: &["yes", "no", "quiet"],
        long_valued: &["package", "call"],
        ..Spec::default()
    }
}

/// Interpreters of other languages and the options that hand them code.
fn code_options(name: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match name {
        n if n.starts_with("python") => ("c", &[]),
        "node" | "bun" | "deno" | "nodejs" => ("ep", &["eval", "print"]),
        "perl" => ("eE", &[]),
        "ruby" => ("e", &[]),
        "php" => ("r", &[]),
        _ => return None,
    })
}

/// What this command (its words, `words[0]` static) runs besides itself; `None` when it
/// runs nothing else.
pub fn unwrap(
    words: &[Arg],
    stdin: Option<&Arg>,
    piped: bool,
    shell: ShellKind,
) -> Option<Unwrapped> {
    let name = words.first()?.value()?;
    let base = basename(name);
    let args = &words[1..];
    if let Some(spec) = wrapper_spec(base) {
        if base == "command"
            && args
                .first()
                .is_some_and(|a| matches!(a.value(), Some("-v" | "-V")))
        {
            return Some(Unwrapped {
                inner: Vec::new(),
                wrapper: true,
            });
        }
        return Some(after_options(base, args, &spec, base));
    }
    if let Some(verb) = args.first().and_then(Arg::value) {
        if let Some(spec) = verb_wrapper_spec(base, verb) {
            let at = format!("{base} {verb}");
            return Some(match opts::parse(&args[1..], &spec) {
                Ok(p) if p.has(&["-c", "--call"]) => script_of(p.value(&["-c", "--call"]), &at),
                _ => tool(after_options(&at, &args[1..], &spec, &at)),
            });
        }
    }
    Some(match base {
        "env" => env(args),
        "timeout" => timeout(args),
        "flock" => flock(args),
        "npx" | "bunx" | "pnpx" => match opts::parse(args, &npx_spec()) {
            Ok(p) if p.has(&["-c", "--call"]) => {
                script_of(p.value(&["-c", "--call"]), &format!("{base} -c"))
            }
            _ => tool(after_options(base, args, &npx_spec(), base)),
        },
        s if SHELLS.contains(&s) => shell_args(base, args, stdin, piped),
        "eval" => match joined(args) {
            Ok(line) => Unwrapped::wrapper(Inner::Line(line, shell), "eval"),
            Err(w) => Unwrapped::wrapper(Inner::Opaque(format!("eval of the opaque word {w}")), ""),
        },
        "source" | "." => source(base, args, stdin, piped, shell),
        "trap" => trap(args, shell),
        "script" => match opts::parse(
            args,
            &Spec {
                short: "aeEfqT",
                short_valued: "cIOBmt",
                long: &["append", "return", "flush", "quiet", "force"],
                long_valued: &[
                    "command",
                    "log-in",
                    "log-out",
                    "log-io",
                    "logging-format",
                    "timing",
                ],
                ..Spec::default()
            },
        ) {
            Ok(p) if p.has(&["-c", "--command"]) => {
                script_of(p.value(&["-c", "--command"]), "script -c")
            }
            Ok(_) => Unwrapped::command(Vec::new()),
            Err(o) => unknown(o, "script"),
        },
        r if OPAQUE_RUNNERS.contains(&r) && !args.is_empty() => Unwrapped::wrapper(
            Inner::Opaque(format!("{r} runs a command of its own that is not judged")),
            "",
        ),
        "hash" | "enable" | "bind" | "bindkey" | "complete" | "fish_add_path"
            if rebinds(base, args) =>
        {
            Unwrapped::wrapper(
                Inner::Opaque(format!("{base} changes what a name or a key runs")),
                "",
            )
        }
        "set" | "export" | "declare" | "typeset" | "local" | "readonly"
            if sets_what_runs(base, args, shell) =>
        {
            Unwrapped::wrapper(
                Inner::Opaque(format!("{base} changes PATH or a variable run as code")),
                "",
            )
        }
        "fc" => Unwrapped::wrapper(
            Inner::Opaque("fc runs commands from history again".into()),
            "",
        ),
        "find" => find(args),
        "watch" => watch(args),
        "entr" => entr(args),
        "watchexec" => watchexec(args),
        "nodemon" => nodemon(args),
        "cargo-watch" => cargo_watch(args),
        "cargo" => {
            let rest = cargo_verb(args)?;
            cargo_watch(rest)
        }
        _ => return code(base, args),
    })
}

/// The command after a wrapper's options.
fn after_options(name: &str, args: &[Arg], spec: &Spec, at: &str) -> Unwrapped {
    match opts::parse(args, spec) {
        Ok(p) => Unwrapped {
            inner: match &args[p.rest..] {
                [] => Vec::new(),
                rest => vec![(Inner::Words(rest.to_vec()), at.to_string())],
            },
            wrapper: true,
        },
        Err(o) => unknown(o, name),
    }
}

/// The command after the options is one the wrapper finds itself.
fn tool(mut u: Unwrapped) -> Unwrapped {
    for (inner, _) in &mut u.inner {
        if let Inner::Words(w) = inner {
            *inner = Inner::Tool(std::mem::take(w));
        }
    }
    u
}

fn unknown(option: String, name: &str) -> Unwrapped {
    Unwrapped::wrapper(
        Inner::Opaque(format!("unknown option {option} of {name}")),
        "",
    )
}

/// A script given as one word (`-c 'a; b'`).
fn script_of(arg: Option<&Arg>, at: &str) -> Unwrapped {
    let inner = match arg {
        Some(Arg::Static(s)) => Inner::Line(s.clone(), ShellKind::Bash),
        Some(Arg::Dynamic(r)) => Inner::Opaque(format!("opaque script of {at}: {r}")),
        None => return Unwrapped::wrapper(Inner::Opaque(format!("{at} without a script")), ""),
    };
    Unwrapped::wrapper(inner, at)
}

/// `hash -p /bin/rm ls`, `enable -f`, `bind -x`, `bindkey -s`, `complete -C`,
/// `fish_add_path`: a later name or key runs something else.
fn rebinds(name: &str, args: &[Arg]) -> bool {
    let letter = |l: char| {
        args.iter().any(|a| {
            let t = a.text();
            t.starts_with('-') && !t.starts_with("--") && t.contains(l)
        })
    };
    match name {
        "hash" => letter('p'),
        "bind" => letter('x'),
        "bindkey" => letter('s'),
        "complete" => letter('C'),
        _ => !args.is_empty(),
    }
}

/// `export PATH=…`, fish's `set -x PATH …`: later commands resolve differently.
fn sets_what_runs(name: &str, args: &[Arg], shell: ShellKind) -> bool {
    let fish_set = name == "set" && shell == ShellKind::Fish;
    args.iter().any(|a| {
        let t = a.text();
        let var = if fish_set {
            t
        } else {
            t.split('=').next().unwrap_or(t)
        };
        (fish_set || t.contains('=')) && super::words::changes_what_runs(var)
    })
}

/// Words joined by spaces, as `watch` and `eval` join them; Err names a dynamic word.
fn joined(words: &[Arg]) -> Result<String, String> {
    words
        .iter()
        .map(|w| w.value().ok_or_else(|| w.text().to_string()))
        .collect::<Result<Vec<&str>, String>>()
        .map(|v| v.join(" "))
}

fn joined_line(words: &[Arg], at: &str) -> Inner {
    match joined(words) {
        Ok(line) => Inner::Line(line, ShellKind::Bash),
        Err(w) => Inner::Opaque(format!("opaque word {w} in the command of {at}")),
    }
}

/// A shell reading its script from its input.
fn from_stdin(name: &str, stdin: Option<&Arg>, piped: bool, kind: ShellKind) -> Option<Inner> {
    match stdin {
        Some(Arg::Static(s)) => Some(Inner::Line(s.clone(), kind)),
        Some(Arg::Dynamic(r)) => Some(Inner::Opaque(format!("{name} reads an opaque script: {r}"))),
        None if piped => Some(Inner::Opaque(format!("{name} reads commands from a pipe"))),
        None => None,
    }
}

fn env(args: &[Arg]) -> Unwrapped {
    let spec = Spec {
        short: "i0v",
        short_valued: "uCSP",
        long: &[
            "ignore-environment",
            "null",
            "debug",
            "default-signal",
            "ignore-signal",
            "block-signal",
            "list-signal-handling",
        ],
        long_valued: &["unset", "chdir", "split-string", "argv0"],
        ..Spec::default()
    };
    let p = match opts::parse(args, &spec) {
        Ok(p) => p,
        Err(o) => return unknown(o, "env"),
    };
    let mut rest = &args[p.rest..];
    while let Some(w) = rest.first().filter(|w| is_assignment(w.text())) {
        let name = w.text().split('=').next().unwrap_or_default();
        if super::words::changes_what_runs(name) {
            return unknown(format!("{name}="), "env");
        }
        rest = &rest[1..];
    }
    match p.value(&["-S", "--split-string"]) {
        Some(Arg::Static(s)) => match joined(rest) {
            Ok(tail) => Unwrapped::wrapper(
                Inner::Line(format!("{s} {tail}"), ShellKind::Bash),
                "env -S",
            ),
            Err(w) => {
                Unwrapped::wrapper(Inner::Opaque(format!("opaque word {w} after env -S")), "")
            }
        },
        Some(Arg::Dynamic(r)) => {
            Unwrapped::wrapper(Inner::Opaque(format!("opaque string of env -S: {r}")), "")
        }
        // Its assignments too: they are the command's, as a line's leading ones are.
        None => Unwrapped::wrapper(Inner::Words(args[p.rest..].to_vec()), "env"),
    }
}

fn timeout(args: &[Arg]) -> Unwrapped {
    let spec = Spec {
        short: "v",
        short_valued: "sk",
        long: &["preserve-status", "foreground", "verbose"],
        long_valued: &["signal", "kill-after"],
        ..Spec::default()
    };
    match opts::parse(args, &spec) {
        // The operand after the options is the duration.
        Ok(p) => after_options(
            "timeout",
            args.get(p.rest + 1..).unwrap_or_default(),
            &Spec::default(),
            "timeout",
        ),
        Err(o) => unknown(o, "timeout"),
    }
}

fn flock(args: &[Arg]) -> Unwrapped {
    let spec = Spec {
        short: "sxenuoFv",
        short_valued: "wEc",
        long: &[
            "shared",
            "exclusive",
            "unlock",
            "nonblock",
            "nb",
            "close",
            "no-fork",
            "verbose",
        ],
        long_valued: &["timeout", "wait", "conflict-exit-code", "command"],
        ..Spec::default()
    };
    let p = match opts::parse(args, &spec) {
        Ok(p) => p,
        Err(o) => return unknown(o, "flock"),
    };
    if p.has(&["-c", "--command"]) {
        return script_of(p.value(&["-c", "--command"]), "flock -c");
    }
    // The lock file (or descriptor), then the command or `-c script`.
    let rest = args.get(p.rest + 1..).unwrap_or_default();
    match rest.first().and_then(Arg::value) {
        Some("-c" | "--command") => script_of(rest.get(1), "flock -c"),
        _ => after_options("flock", rest, &Spec::default(), "flock"),
    }
}

fn shell_args(name: &str, args: &[Arg], stdin: Option<&Arg>, piped: bool) -> Unwrapped {
    let kind = ShellKind::of(basename(name));
    let (mut dash_c, mut read_stdin) = (false, false);
    let mut inner = Vec::new();
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let Some(t) = a.value() else {
            if a.text().starts_with(['-', '+']) {
                return unknown(a.text().to_string(), name);
            }
            break;
        };
        if t == "--" || t == "-" {
            i += 1;
            break;
        }
        if let Some(long) = t.strip_prefix("--") {
            let (opt, inline) = match long.split_once('=') {
                Some((o, v)) => (o, Some(v)),
                None => (long, None),
            };
            let value = match inline {
                Some(v) => Some(Arg::Static(v.to_string())),
                None if matches!(opt, "rcfile" | "init-file" | "command" | "init-command") => {
                    i += 1;
                    args.get(i).cloned()
                }
                None => None,
            };
            if matches!(opt, "command" | "init-command") {
                inner.push((
                    script(value.as_ref(), name, kind),
                    format!("{name} --{opt}"),
                ));
            }
            i += 1;
            continue;
        }
        if t.len() > 1 && t.starts_with(['-', '+']) {
            let letters = &t[1..];
            dash_c |= letters.contains('c');
            read_stdin |= letters.contains('s');
            if letters.contains(['o', 'O']) {
                i += 1;
            }
            if kind == ShellKind::Fish && letters.contains('C') {
                i += 1;
                inner.push((script(args.get(i), name, kind), format!("{name} -C")));
            }
            i += 1;
            continue;
        }
        break;
    }
    let operand = args.get(i);
    if dash_c {
        if operand.is_some() {
            inner.push((script(operand, name, kind), format!("{name} -c")));
        }
    } else if let (Some(file), false) = (operand, read_stdin) {
        if let Arg::Dynamic(r) = file {
            inner.push((
                Inner::Opaque(format!("opaque script file of {name}: {r}")),
                String::new(),
            ));
        }
        return Unwrapped::command(inner);
    } else if let Some(s) = from_stdin(name, stdin, piped, kind) {
        let at = match s {
            Inner::Line(..) => format!("{name} reading its input"),
            _ => String::new(),
        };
        inner.push((s, at));
    }
    Unwrapped {
        inner,
        wrapper: dash_c,
    }
}

fn script(arg: Option<&Arg>, name: &str, kind: ShellKind) -> Inner {
    match arg {
        Some(Arg::Static(s)) => Inner::Line(s.clone(), kind),
        Some(Arg::Dynamic(r)) => Inner::Opaque(format!("opaque script of {name}: {r}")),
        None => Inner::Opaque(format!("{name} without its script")),
    }
}

fn source(
    name: &str,
    args: &[Arg],
    stdin: Option<&Arg>,
    piped: bool,
    shell: ShellKind,
) -> Unwrapped {
    match args.first() {
        Some(Arg::Dynamic(r)) => {
            Unwrapped::wrapper(Inner::Opaque(format!("{name} of the opaque file {r}")), "")
        }
        Some(Arg::Static(f)) if STDIN_FILES.contains(&f.as_str()) => {
            match from_stdin(name, stdin, piped, shell) {
                Some(inner) => Unwrapped::wrapper(inner, format!("{name} {f}")),
                None => Unwrapped::command(Vec::new()),
            }
        }
        _ => Unwrapped::command(Vec::new()),
    }
}

fn trap(args: &[Arg], shell: ShellKind) -> Unwrapped {
    let args = match args.first().and_then(Arg::value) {
        Some("--") => &args[1..],
        _ => args,
    };
    match args.first() {
        Some(Arg::Static(s)) if s.starts_with('-') || s.is_empty() => {
            Unwrapped::command(Vec::new())
        }
        Some(Arg::Static(s)) => Unwrapped::wrapper(Inner::Line(s.clone(), shell), "trap"),
        Some(Arg::Dynamic(r)) => {
            Unwrapped::wrapper(Inner::Opaque(format!("opaque command of trap: {r}")), "")
        }
        None => Unwrapped::command(Vec::new()),
    }
}

fn find(args: &[Arg]) -> Unwrapped {
    let mut inner = Vec::new();
    let mut i = 0;
    while let Some(a) = args.get(i) {
        match a.value() {
            Some("-delete") => inner.push((Inner::Never("find -delete".into()), String::new())),
            Some(op @ ("-exec" | "-execdir" | "-ok" | "-okdir")) => {
                let start = i + 1;
                let end = args[start.min(args.len())..]
                    .iter()
                    .position(|w| matches!(w.value(), Some(";" | "+")))
                    .map_or(args.len(), |k| start + k);
                let words = args[start.min(end)..end].to_vec();
                inner.push((Inner::Words(words), format!("find {op}")));
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    Unwrapped::command(inner)
}

fn watch(args: &[Arg]) -> Unwrapped {
    let spec = Spec {
        short: "bcCdegtwxpr",
        short_valued: "nq",
        long: &[
            "beep",
            "color",
            "no-color",
            "differences",
            "errexit",
            "chgexit",
            "no-title",
            "no-wrap",
            "no-linewrap",
            "exec",
            "precise",
            "no-rerun",
        ],
        long_valued: &["interval", "equexit"],
        ..Spec::default()
    };
    match opts::parse(args, &spec) {
        Ok(p) if p.has(&["-x", "--exec"]) => {
            after_options("watch", &args[p.rest..], &Spec::default(), "watch")
        }
        Ok(p) if p.rest >= args.len() => Unwrapped::command(Vec::new()),
        Ok(p) => Unwrapped::command(vec![(
            joined_line(&args[p.rest..], "watch"),
            "watch".into(),
        )]),
        Err(o) => unknown(o, "watch"),
    }
}

fn entr(args: &[Arg]) -> Unwrapped {
    let spec = Spec {
        short: "acdnprszx",
        ..Spec::default()
    };
    let mut u = match opts::parse(args, &spec) {
        Ok(p) if p.has(&["-s"]) => script_of(args.get(p.rest), "entr -s"),
        Ok(_) => after_options("entr", args, &spec, "entr"),
        Err(o) => unknown(o, "entr"),
    };
    u.wrapper = false;
    u
}

fn watchexec(args: &[Arg]) -> Unwrapped {
    let spec = Spec {
        short: "crNWpnqvk1",
        short_valued: "wefisdE",
        long: &[
            "clear",
            "restart",
            "notify",
            "watch-when-idle",
            "postpone",
            "quiet",
            "no-vcs-ignore",
            "no-ignore",
            "no-default-ignore",
            "no-global-ignore",
            "no-project-ignore",
            "no-meta",
            "no-process-group",
            "no-environment",
            "no-shell",
            "print-events",
            "kill",
        ],
        long_valued: &[
            "watch",
            "exts",
            "filter",
            "ignore",
            "signal",
            "debounce",
            "delay-run",
            "shell",
            "project-origin",
            "env",
            "workdir",
            "stop-signal",
            "stop-timeout",
            "on-busy-update",
            "emit-events-to",
            "wrap-process",
            "color",
        ],
        ..Spec::default()
    };
    let dash = args.iter().position(|a| a.value() == Some("--"));
    let (rest, no_shell) = match (dash, opts::parse(args, &spec)) {
        (Some(k), parsed) => (
            &args[k + 1..],
            parsed.is_ok_and(|p| {
                p.has(&["-n", "--no-shell"])
                    || p.value(&["--shell"]).and_then(Arg::value) == Some("none")
            }),
        ),
        (None, Ok(p)) => (
            &args[p.rest..],
            p.has(&["-n", "--no-shell"])
                || p.value(&["--shell"]).and_then(Arg::value) == Some("none"),
        ),
        (None, Err(o)) => {
            let mut u = unknown(o, "watchexec");
            u.wrapper = false;
            return u;
        }
    };
    let inner = match (rest, no_shell) {
        ([], _) => Vec::new(),
        (words, true) => vec![(Inner::Words(words.to_vec()), "watchexec".into())],
        (words, false) => vec![(joined_line(words, "watchexec"), "watchexec".into())],
    };
    Unwrapped::command(inner)
}

fn nodemon(args: &[Arg]) -> Unwrapped {
    let mut inner = Vec::new();
    for (i, a) in args.iter().enumerate() {
        let value = match a.value() {
            Some("--exec" | "-x") => args.get(i + 1).cloned(),
            Some(t) => match t.strip_prefix("--exec=") {
                Some(v) => Some(Arg::Static(v.to_string())),
                None => continue,
            },
            None => continue,
        };
        inner.extend(script_of(value.as_ref(), "nodemon --exec").inner);
    }
    Unwrapped::command(inner)
}

/// `cargo [+toolchain] [global options] watch …`: the words after `watch`.
fn cargo_verb(args: &[Arg]) -> Option<&[Arg]> {
    let texts: Vec<String> = std::iter::once("cargo".to_string())
        .chain(args.iter().map(|a| a.text().to_string()))
        .collect();
    let stripped = super::global::strip(&texts);
    if stripped.get(1).map(String::as_str) != Some("watch") {
        return None;
    }
    let at = args.len() + 1 - (stripped.len() - 1);
    args.get(at..)
}

fn cargo_watch(args: &[Arg]) -> Unwrapped {
    let mut inner = Vec::new();
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let t = a.value().unwrap_or_default();
        let (kind, value) = match t {
            "-x" | "--exec" | "-s" | "--shell" => {
                i += 1;
                (t, args.get(i).cloned())
            }
            "--" => {
                inner.push((
                    joined_line(&args[i + 1..], "cargo watch"),
                    "cargo watch --".into(),
                ));
                break;
            }
            _ => match t.split_once('=') {
                Some((k @ ("--exec" | "--shell"), v)) => (k, Some(Arg::Static(v.to_string()))),
                _ => {
                    i += 1;
                    continue;
                }
            },
        };
        let exec = matches!(kind, "-x" | "--exec");
        let part = match value {
            Some(Arg::Static(v)) if exec => Inner::Line(format!("cargo {v}"), ShellKind::Bash),
            Some(Arg::Static(v)) => Inner::Line(v, ShellKind::Bash),
            Some(Arg::Dynamic(r)) => Inner::Opaque(format!("opaque command of cargo watch: {r}")),
            None => Inner::Opaque(format!("cargo watch {kind} without its command")),
        };
        let at = if exec {
            "cargo watch -x"
        } else {
            "cargo watch -s"
        };
        inner.push((part, at.to_string()));
        i += 1;
    }
    Unwrapped::command(inner)
}

/// `python3 -c …`, `node -e …`: code for another interpreter, not judged.
fn code(name: &str, args: &[Arg]) -> Option<Unwrapped> {
    let (short, long) = code_options(name)?;
    for a in args {
        let t = a.value()?;
        if !t.starts_with('-') || t == "-m" || t == "--" {
            return None;
        }
        let hit = match t.strip_prefix("--") {
            Some(l) => long.contains(&l.split('=').next().unwrap_or(l)),
            None => t[1..].contains(|c| short.contains(c)),
        };
        if hit {
            return Some(Unwrapped::wrapper(
                Inner::Opaque(format!(
                    "{name} {t}: code for another interpreter is not judged"
                )),
                "",
            ));
        }
    }
    None
}
