//! Test harness: real shells in a real tmux server, with isolated HOME, SNAP_HOME and
//! TMUX_TMPDIR, driven with send-keys and read with capture-pane.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The shells snap hooks into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bash,
    Zsh,
    Fish,
}

impl Kind {
    /// The program name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Bash => "bash",
            Kind::Zsh => "zsh",
            Kind::Fish => "fish",
        }
    }
}

/// The prompt every test shell shows, so a test can tell when the shell is ready.
pub const PROMPT: &str = "READY> ";

/// Is `program` on PATH?
pub fn installed(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}

/// True when the test may run; otherwise prints `SKIPPED: …` (or fails under
/// `SNAP_TEST_STRICT=1`).
pub fn require(test: &str, programs: &[&str]) -> bool {
    for p in programs {
        if !installed(p) {
            if std::env::var("SNAP_TEST_STRICT").as_deref() == Ok("1") {
                panic!("{test}: {p} not installed (SNAP_TEST_STRICT=1)");
            }
            println!("SKIPPED: {test}: {p} not installed");
            return false;
        }
    }
    true
}

/// Poll `f` until it returns Some, or panic after `timeout` with `what`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A generous bound for things that should happen at once.
pub const SOON: Duration = Duration::from_secs(15);

/// Let the current second pass: fish hides history entries from the second its session
/// started in, so a shell restored in the same second would not show them.
pub fn next_second() {
    let secs = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let done = secs();
    wait_for("the next second", SOON, || (secs() > done).then_some(()));
}

/// An isolated world: HOME, SNAP_HOME and TMUX_TMPDIR in a temporary directory, and a
/// tmux server of its own (killed on drop).
pub struct World {
    pub tmp: tempfile::TempDir,
    pub home: PathBuf,
    pub snap_home: PathBuf,
    pub tmux_tmpdir: PathBuf,
    pub bin: PathBuf,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    /// A fresh world.
    pub fn new() -> World {
        let tmp = tempfile::Builder::new()
            .prefix("snap-test-")
            .tempdir()
            .unwrap();
        let home = tmp.path().join("home");
        let snap_home = tmp.path().join("snap");
        let tmux_tmpdir = tmp.path().join("tmux");
        for d in [&home, &tmux_tmpdir] {
            std::fs::create_dir_all(d).unwrap();
        }
        World {
            bin: PathBuf::from(env!("CARGO_BIN_EXE_snap")),
            tmp,
            home,
            snap_home,
            tmux_tmpdir,
        }
    }

    /// The environment every process of this world gets.
    pub fn envs(&self) -> Vec<(String, String)> {
        let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
        vec![
            ("HOME".into(), self.home.display().to_string()),
            ("PATH".into(), path),
            ("SNAP_HOME".into(), self.snap_home.display().to_string()),
            ("TMUX_TMPDIR".into(), self.tmux_tmpdir.display().to_string()),
            ("TERM".into(), "xterm-256color".into()),
            ("LANG".into(), "C.UTF-8".into()),
            ("LC_ALL".into(), "C.UTF-8".into()),
            (
                "USER".into(),
                std::env::var("USER").unwrap_or_else(|_| "root".into()),
            ),
        ]
    }

    /// A command with this world's environment only.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env_clear().envs(self.envs()).current_dir(&self.home);
        c.stdin(Stdio::null());
        c
    }

    /// Run snap with these arguments.
    pub fn snap(&self, args: &[&str]) -> Output {
        self.command(&self.bin).args(args).output().unwrap()
    }

    /// Run snap and parse its stdout as JSON (panics with stderr on failure).
    pub fn snap_json(&self, args: &[&str]) -> Value {
        let out = self.snap(args);
        assert!(
            out.status.success(),
            "snap {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "snap {args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Run snap, panicking with its stderr and stdout unless it succeeds; its stdout.
    pub fn snap_ok(&self, args: &[&str]) -> String {
        let out = self.snap(args);
        assert!(
            out.status.success(),
            "snap {args:?}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Run tmux against this world's server.
    pub fn tmux(&self, args: &[&str]) -> Output {
        self.command("tmux").args(args).output().unwrap()
    }

    /// Run tmux and return its stdout, panicking on failure.
    pub fn tmux_ok(&self, args: &[&str]) -> String {
        let out = self.tmux(args);
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The pane ids of tmux session `session`, in tmux order.
    pub fn pane_ids(&self, session: &str) -> Vec<String> {
        self.tmux_ok(&[
            "list-panes",
            "-s",
            "-t",
            &format!("={session}"),
            "-F",
            "#{pane_id}",
        ])
        .lines()
        .map(str::to_string)
        .collect()
    }

    /// Kill the tmux server, as a crash would, and wait until the shells of `session`
    /// have ended (a shell that outlives its terminal spins and floods its journal).
    pub fn crash(&self, session: &str) {
        let pids: Vec<u32> = self
            .pane_ids(session)
            .iter()
            .map(|id| self.pane(id).pid())
            .collect();
        self.tmux_ok(&["kill-server"]);
        wait_for("the shells to die", SOON, || {
            pids.iter().all(|p| !pid_alive(*p)).then_some(())
        });
    }

    /// Write the rc file for `kind` (hook loaded, test prompt, `extra` before or after).
    pub fn write_rc(&self, kind: Kind, before: &str, after: &str) -> PathBuf {
        let bin = self.bin.display();
        match kind {
            Kind::Bash => {
                let rc = self.home.join(".bashrc");
                std::fs::write(
                    &rc,
                    format!(
                        "HISTFILE=~/.bash_history\nHISTCONTROL=ignoreboth\nPS1='{PROMPT}'\n{before}\neval \"$('{bin}' init bash)\"\n{after}\n"
                    ),
                )
                .unwrap();
                rc
            }
            Kind::Zsh => {
                let rc = self.home.join(".zshrc");
                std::fs::write(
                    &rc,
                    format!(
                        "HISTFILE=~/.zsh_history\nHISTSIZE=1000\nSAVEHIST=1000\nsetopt HIST_IGNORE_SPACE\nPS1='{PROMPT}'\n{before}\neval \"$('{bin}' init zsh)\"\n{after}\n"
                    ),
                )
                .unwrap();
                rc
            }
            Kind::Fish => {
                let dir = self.home.join(".config/fish");
                std::fs::create_dir_all(&dir).unwrap();
                // A fresh fish starts a background man-page scan unless this exists: it
                // would outlive the test and load the machine.
                std::fs::create_dir_all(self.home.join(".local/share/fish/generated_completions"))
                    .unwrap();
                let rc = dir.join("config.fish");
                std::fs::write(
                    &rc,
                    format!(
                        "set -g fish_greeting\nfunction fish_prompt; printf '%s' '{PROMPT}'; end\n{before}\n'{bin}' init fish | source\n{after}\n"
                    ),
                )
                .unwrap();
                rc
            }
        }
    }

    /// The command line that starts an interactive shell of `kind` with its rc.
    pub fn shell_command(&self, kind: Kind) -> String {
        match kind {
            Kind::Bash => format!("bash --rcfile '{}' -i", self.home.join(".bashrc").display()),
            Kind::Zsh => "zsh -i".to_string(),
            Kind::Fish => "fish -i".to_string(),
        }
    }

    /// Start a tmux session `name` running a hooked shell of `kind`; wait for its prompt.
    pub fn start_session(&self, name: &str, kind: Kind) -> Pane<'_> {
        self.start_session_with(name, &self.shell_command(kind))
    }

    /// Start a tmux session `name` running `command` (a shell showing the test prompt);
    /// wait for its prompt.
    pub fn start_session_with(&self, name: &str, command: &str) -> Pane<'_> {
        self.start_session_in(name, &self.home, command)
    }

    /// Start a tmux session `name` in `dir` running `command` (a shell showing the test
    /// prompt); wait for its prompt.
    pub fn start_session_in(&self, name: &str, dir: &Path, command: &str) -> Pane<'_> {
        let out = self.tmux_ok(&[
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            "200",
            "-y",
            "50",
            "-c",
            &dir.display().to_string(),
            "-P",
            "-F",
            "#{pane_id}",
            command,
        ]);
        let pane = self.pane(&out);
        pane.wait_prompt();
        pane
    }

    /// Split a new pane off `target` running a hooked shell of `kind`; wait for its prompt.
    pub fn split(&self, target: &str, kind: Kind) -> Pane<'_> {
        self.split_in(target, &self.home, kind)
    }

    /// Split a new pane off `target`, in `dir`, running a hooked shell of `kind`; wait
    /// for its prompt.
    pub fn split_in(&self, target: &str, dir: &Path, kind: Kind) -> Pane<'_> {
        let out = self.tmux_ok(&[
            "split-window",
            "-t",
            target,
            "-c",
            &dir.display().to_string(),
            "-P",
            "-F",
            "#{pane_id}",
            &self.shell_command(kind),
        ]);
        let pane = self.pane(&out);
        pane.wait_prompt();
        pane
    }

    /// The pane (or target) `id`, as tmux printed it.
    pub fn pane(&self, id: &str) -> Pane<'_> {
        Pane {
            id: id.trim().to_string(),
            world: self,
        }
    }

    /// `snap history --all --json`.
    pub fn history(&self) -> Vec<Value> {
        self.snap_json(&["history", "--all", "--json"])
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Wait until `snap history` has at least `n` finished commands; return them all.
    pub fn wait_finished(&self, n: usize) -> Vec<Value> {
        wait_for(&format!("{n} finished commands"), SOON, || {
            let h = self.history();
            let done = h.iter().filter(|r| !r["exit"].is_null()).count();
            (done >= n).then_some(h)
        })
    }

    /// `snap sessions --json` flattened to its shells.
    pub fn shells(&self) -> Vec<Value> {
        let v = self.snap_json(&["sessions", "--json"]);
        v.as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["shells"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    /// A free TCP port on 127.0.0.1.
    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// A path inside this world's temporary directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// One tmux pane.
pub struct Pane<'w> {
    pub id: String,
    pub world: &'w World,
}

impl Pane<'_> {
    /// Type `text` literally, then Enter.
    pub fn run(&self, text: &str) {
        self.world
            .tmux_ok(&["send-keys", "-t", &self.id, "-l", text]);
        self.world.tmux_ok(&["send-keys", "-t", &self.id, "Enter"]);
    }

    /// Send tmux key names (e.g. `C-c`, `Enter`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.id];
        args.extend_from_slice(keys);
        self.world.tmux_ok(&args);
    }

    /// The pane's visible text.
    pub fn screen(&self) -> String {
        self.world
            .tmux(&["capture-pane", "-p", "-J", "-t", &self.id])
            .stdout
            .iter()
            .map(|&b| b as char)
            .collect()
    }

    /// Wait until the screen contains `needle`.
    pub fn wait_text(&self, needle: &str) -> String {
        wait_for(&format!("{needle:?} on pane {}", self.id), SOON, || {
            let s = self.screen();
            s.contains(needle).then_some(s)
        })
    }

    /// Wait for the prompt to be the last non-empty line.
    pub fn wait_prompt(&self) {
        wait_for(&format!("a prompt on pane {}", self.id), SOON, || {
            let s = self.screen();
            let last = s.lines().rev().find(|l| !l.trim().is_empty())?;
            last.trim_end().ends_with(PROMPT.trim_end()).then_some(())
        });
    }

    /// The pid of the pane's shell.
    pub fn pid(&self) -> u32 {
        self.world
            .tmux_ok(&["display-message", "-p", "-t", &self.id, "#{pane_pid}"])
            .trim()
            .parse()
            .unwrap()
    }
}

/// The argv of a dev server on `port` (python3's http.server on 127.0.0.1).
pub fn server_argv(port: u16) -> Vec<String> {
    [
        "python3",
        "-m",
        "http.server",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
    ]
    .map(String::from)
    .to_vec()
}

/// Send SIGTERM to every process `pids_of` finds (servers that outlive their tmux).
pub fn kill_all(dir: &Path, argv: &[impl AsRef<str>]) {
    for pid in pids_of(dir, argv) {
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
    }
}

/// Pids of processes in `dir` whose argv is exactly `argv`, the program by its file name
/// (a version manager's shim runs `python3` as `/…/bin/python3`); other tests on the
/// machine may run the same argv elsewhere.
pub fn pids_of(dir: &Path, argv: &[impl AsRef<str>]) -> Vec<u32> {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let mut words: Vec<&[u8]> =
                    c.split(|&b| b == 0).filter(|w| !w.is_empty()).collect();
                if let Some(first) = words.first_mut() {
                    *first = first.rsplit(|&b| b == b'/').next().unwrap_or(first);
                }
                words.len() == argv.len()
                    && words
                        .iter()
                        .zip(argv)
                        .all(|(a, b)| *a == b.as_ref().as_bytes())
            }) && std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|c| c == dir)
        })
        .collect()
}

/// Is a process with this pid alive?
pub fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.contains(") Z "))
            .unwrap_or(true)
}
