//! Helpers for the fault suite (tests/fault*.rs): counts scaled for CI or the long runs,
//! a private mount namespace for read-only and full stores, shells fed from files, a
//! small random source, and file listings.
#![allow(dead_code)]

use crate::common::World;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// A count: `ci` in CI, `long` when `SNAP_FAULTS_LONG=1` (benches/faults.sh); an
/// explicit `SNAP_FAULTS_<NAME>` wins over both.
pub fn count(name: &str, ci: usize, long: usize) -> usize {
    if let Some(n) = std::env::var(format!("SNAP_FAULTS_{name}"))
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    if std::env::var("SNAP_FAULTS_LONG").as_deref() == Ok("1") {
        long
    } else {
        ci
    }
}

/// A figure for RELIABILITY.md: printed as `FIGURE <name>: <text>` (benches/faults.sh
/// collects them).
pub fn figure(name: &str, text: impl std::fmt::Display) {
    println!("FIGURE {name}: {text}");
}

/// A small xorshift random source; the seed is printed so a failing run can be replayed
/// with `SNAP_FAULTS_SEED`.
pub struct Rng(u64);

impl Rng {
    pub fn new(test: &str) -> Rng {
        let seed = std::env::var("SNAP_FAULTS_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("{test}: SNAP_FAULTS_SEED={seed}");
        Rng(seed)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Every file under `dir`, recursively (symlinks not followed).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                _ => out.push(p),
            }
        }
    }
    out.sort();
    out
}

/// The snapshot files (not temp files) of a store, sorted by name (= by time).
pub fn snapshot_files(snap_home: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(snap_home.join("snapshots"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.ends_with(".json") && !n.starts_with('.')
        })
        .collect();
    v.sort();
    v
}

/// The temp files a killed save may leave in `snapshots/` (never listed by readers).
pub fn temp_files(snap_home: &Path) -> usize {
    std::fs::read_dir(snap_home.join("snapshots"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .count()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Start `bash -i` with the world's rc, its standard input read from `script`, in a
/// process group of its own (kill it and its children with `kill(-pid, …)`).
pub fn bash_from_file(w: &World, script: &Path, extra_env: &[(&str, &str)]) -> Child {
    let rc = w.home.join(".bashrc");
    use std::os::unix::process::CommandExt;
    let mut c = w.command("bash");
    c.process_group(0);
    c.args(["--rcfile", &rc.display().to_string(), "-i"])
        .stdin(std::fs::File::open(script).unwrap())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        c.env(k, v);
    }
    c.spawn().unwrap()
}

/// Parse `snap … --json` output.
pub fn json(out: &Output) -> Value {
    assert!(out.status.success(), "snap failed: {}", stderr(out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Is this process root with CAP_SYS_ADMIN (so mounting is expected to work)?
fn can_be_expected_to_mount() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let cap_sys_admin = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("CapEff:"))
                .and_then(|l| u64::from_str_radix(l[7..].trim(), 16).ok())
        })
        .is_some_and(|caps| caps & (1 << 21) != 0);
    root && cap_sys_admin
}

/// A private mount namespace, held by a sleeping process: mounts made in it (a small
/// tmpfs over `SNAP_HOME`, remounted read-only) are seen by everything started in it
/// and vanish with it, so nothing leaks into the machine's mounts.
pub struct Ns {
    holder: Child,
}

impl Ns {
    /// A namespace, or None (SKIPPED printed) where mounting is impossible (not root,
    /// or no CAP_SYS_ADMIN, as in a default container). Under `SNAP_TEST_STRICT=1` a
    /// root with CAP_SYS_ADMIN that cannot mount fails instead.
    pub fn new(test: &str, w: &World) -> Option<Ns> {
        let ns = w
            .command("unshare")
            .args(["-m", "--propagation", "private", "sleep", "100000"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()
            .map(|holder| Ns { holder });
        if let Some(ns) = ns.filter(|ns| ns.ready(w)) {
            return Some(ns);
        }
        let why = "cannot mount a tmpfs in a private mount namespace (unshare -m)";
        if std::env::var("SNAP_TEST_STRICT").as_deref() == Ok("1") && can_be_expected_to_mount() {
            panic!("{test}: {why}, although running as root with CAP_SYS_ADMIN");
        }
        println!("SKIPPED: {test}: {why}");
        None
    }

    /// Has the holder entered its namespace, and can a tmpfs be mounted there?
    fn ready(&self, w: &World) -> bool {
        let entered = crate::common::wait_for("unshare", crate::common::SOON, || {
            if !crate::common::pid_alive(self.pid()) {
                return Some(false); // unshare failed and exited
            }
            match std::fs::read_to_string(format!("/proc/{}/comm", self.pid())) {
                Ok(c) if c.trim() == "sleep" => Some(true),
                Ok(_) => None,
                Err(_) => Some(false),
            }
        });
        let dir = w.path("probe");
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.display();
        entered
            && self
                .sh(
                    w,
                    &format!("mount -t tmpfs -o size=64k tmpfs {d} && umount {d}"),
                )
                .status
                .success()
    }

    /// The holder's pid (the namespace).
    pub fn pid(&self) -> u32 {
        self.holder.id()
    }

    /// A command run inside the namespace, with the world's environment.
    pub fn command(&self, w: &World, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = w.command("nsenter");
        c.args(["-t", &self.pid().to_string(), "-m", "--"])
            .arg(program);
        c
    }

    /// `sh -c script` inside the namespace.
    pub fn sh(&self, w: &World, script: &str) -> Output {
        self.command(w, "sh").args(["-c", script]).output().unwrap()
    }

    /// `sh -c script` inside the namespace; panics with its stderr on failure.
    pub fn sh_ok(&self, w: &World, script: &str) {
        let out = self.sh(w, script);
        assert!(out.status.success(), "{script}: {}", stderr(&out));
    }

    /// snap inside the namespace.
    pub fn snap(&self, w: &World, args: &[&str]) -> Output {
        self.command(w, &w.bin).args(args).output().unwrap()
    }

    /// A path as the namespace sees it, readable from outside it.
    pub fn view(&self, path: &Path) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root", self.pid())).join(path.strip_prefix("/").unwrap())
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}
