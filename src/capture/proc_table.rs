//! The process table for a capture: one pass over every process for the tree, then the
//! details of the few a snapshot keeps, each file read once, the reads spread over the
//! cores.
//!
//! On Linux this reads `/proc` itself rather than through sysinfo. The tree needs only
//! `/proc/PID/stat` (parent, state, group, session, terminal, start); sysinfo reads
//! `stat` and `status` of every process to list them, and both again to refresh the
//! details, so a capture cost twice what `ps` does. sysinfo stays where one or a few
//! pids are asked about (liveness, the daemon) and is the reader where there is no
//! `/proc`.

use std::borrow::Cow;
use std::collections::HashMap;

/// A process's run state, as far as a capture cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Running, sleeping or waiting on the disk.
    Live,
    /// Stopped by job control (Ctrl-Z, SIGSTOP): state `T`.
    Stopped,
    /// Exited, not yet reaped: no argv, nothing to keep.
    Zombie,
}

/// One process as the tree pass reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub pid: u32,
    pub ppid: u32,
    pub state: State,
    /// Its process group (a job, when a shell with job control started it).
    pub pgrp: u32,
    pub session: u32,
    /// Its controlling terminal's device number; 0 for none.
    pub tty: u32,
    /// The foreground process group of its terminal; 0 for none.
    pub tpgid: u32,
    /// When it started, µs since the epoch (to the kernel's clock tick).
    pub start_us: i64,
}

impl Stat {
    /// Its start in whole seconds since the epoch, as sysinfo tells it (within a second).
    pub fn start_secs(&self) -> u64 {
        u64::try_from(self.start_us.div_euclid(1_000_000)).unwrap_or(0)
    }
}

/// What a snapshot keeps of one of the user's own processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Details {
    /// The exact argv.
    pub cmd: Vec<String>,
    pub cwd: Option<String>,
    /// Its environment at exec time as read (NUL-separated `NAME=value`), when asked for.
    environ: Vec<u8>,
}

impl Details {
    /// The entries of its environment (`NAME=value`), read in place.
    pub fn environ(&self) -> impl Iterator<Item = Cow<'_, str>> {
        self.environ
            .split(|&b| b == 0)
            .filter(|e| !e.is_empty())
            .map(String::from_utf8_lossy)
    }
}

/// A process to read the details of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Want {
    pub pid: u32,
    /// Read its environment too.
    pub environ: bool,
}

/// Every process now, keyed by pid.
pub fn read_all() -> HashMap<u32, Stat> {
    imp::read_all()
}

/// The details of these processes, keyed by pid. Only the user's own processes (their
/// real uid ours, as for liveness) with an argv (not zombies, not kernel threads) are
/// there; of another user's process nothing but its owner is read.
pub fn details(wanted: &[Want]) -> HashMap<u32, Details> {
    // SAFETY: getuid has no preconditions and cannot fail.
    let me = unsafe { libc::getuid() };
    imp::details(wanted, me)
}

/// `f` over `items` on every core (scoped threads), results in the items' order.
fn on_all_cores<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    /// Fewer items than this per thread are not worth a thread.
    const MIN_PER_THREAD: usize = 64;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = items.len().div_ceil(cores).max(MIN_PER_THREAD);
    let mut chunks = items.chunks(per);
    let Some(first) = chunks.next() else {
        return Vec::new();
    };
    std::thread::scope(|s| {
        let f = &f;
        let others: Vec<_> = chunks
            .map(|c| s.spawn(move || c.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out: Vec<R> = first.iter().map(f).collect();
        for h in others {
            out.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        out
    })
}

/// NUL-separated strings (argv, environment): a trailing NUL ends the last one, an
/// empty argument in between is kept.
fn split_nul(bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes
        .split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

#[cfg(target_os = "linux")]
use linux as imp;
#[cfg(not(target_os = "linux"))]
use portable as imp;

/// `/proc`, read directly.
#[cfg(target_os = "linux")]
mod linux {
    use super::{on_all_cores, split_nul, Details, Stat, State, Want};
    use std::collections::HashMap;
    use std::fs::{self, File};
    use std::io::Read;

    /// A `/proc` file's contents. procfs answers a read with as much as was asked for, up
    /// to the end, so a read that comes back short is the end: no size to ask for first
    /// and no empty read to see the end (`fs::read` makes three times the system calls).
    fn read(pid: u32, name: &str) -> Option<Vec<u8>> {
        let mut file = File::open(format!("/proc/{pid}/{name}")).ok()?;
        let mut buf = vec![0u8; 4096];
        let mut len = 0;
        loop {
            let n = file.read(&mut buf[len..]).ok()?;
            len += n;
            if len < buf.len() {
                break;
            }
            buf.resize(buf.len() * 2, 0);
        }
        buf.truncate(len);
        Some(buf)
    }

    /// How clock ticks since boot become µs since the epoch.
    #[derive(Debug, Clone, Copy)]
    pub(super) struct Clock {
        /// The epoch time of the boot, µs (wall clock now less the time since boot).
        boot_us: i64,
        ticks_per_sec: i64,
    }

    impl Clock {
        pub(super) fn now() -> Clock {
            let at = |id| {
                let mut ts = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                // SAFETY: ts is a valid timespec to write; both clocks exist on Linux.
                unsafe { libc::clock_gettime(id, &mut ts) };
                ts.tv_sec * 1_000_000 + ts.tv_nsec / 1_000
            };
            // SAFETY: sysconf has no preconditions.
            let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
            Clock {
                boot_us: at(libc::CLOCK_REALTIME) - at(libc::CLOCK_BOOTTIME),
                ticks_per_sec: if ticks > 0 { ticks } else { 100 },
            }
        }

        fn epoch_us(&self, ticks: i64) -> i64 {
            self.boot_us + ticks * 1_000_000 / self.ticks_per_sec
        }
    }

    pub fn read_all() -> HashMap<u32, Stat> {
        let Ok(dir) = fs::read_dir("/proc") else {
            return HashMap::new();
        };
        let pids: Vec<u32> = dir
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        let clock = Clock::now();
        on_all_cores(&pids, |&pid| {
            let bytes = read(pid, "stat")?;
            parse_stat(pid, &bytes, &clock)
        })
        .into_iter()
        .flatten()
        .map(|s| (s.pid, s))
        .collect()
    }

    /// One `/proc/PID/stat` line. The command name, in parentheses, may hold spaces and
    /// parentheses itself: the fields start after the last `)`.
    pub(super) fn parse_stat(pid: u32, bytes: &[u8], clock: &Clock) -> Option<Stat> {
        let text =
            std::str::from_utf8(&bytes[bytes.iter().rposition(|&b| b == b')')? + 1..]).ok()?;
        let f: Vec<&str> = text.split_ascii_whitespace().collect();
        // state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime
        // stime cutime cstime priority nice num_threads itrealvalue starttime
        let num = |i: usize| f.get(i).and_then(|v| v.parse::<i64>().ok());
        let id = |i: usize| num(i).map(|v| u32::try_from(v).unwrap_or(0));
        Some(Stat {
            pid,
            state: match *f.first()? {
                "T" => State::Stopped,
                "Z" | "X" | "x" => State::Zombie,
                _ => State::Live,
            },
            ppid: id(1)?,
            pgrp: id(2)?,
            session: id(3)?,
            tty: id(4)?,
            tpgid: id(5)?,
            start_us: clock.epoch_us(num(19)?),
        })
    }

    pub fn details(wanted: &[Want], me: u32) -> HashMap<u32, Details> {
        on_all_cores(wanted, |w| Some((w.pid, read_details(*w, me)?)))
            .into_iter()
            .flatten()
            .collect()
    }

    /// The details of one process whose real uid is `me`.
    fn read_details(w: Want, me: u32) -> Option<Details> {
        let pid = w.pid;
        if !owned_by(pid, me) {
            return None;
        }
        let cmd = split_nul(&read(pid, "cmdline")?);
        if cmd.is_empty() {
            return None;
        }
        let cwd = fs::read_link(format!("/proc/{pid}/cwd"))
            .ok()
            .map(|p| p.to_string_lossy().into_owned());
        let environ = if w.environ {
            read(pid, "environ").unwrap_or_default()
        } else {
            Vec::new()
        };
        Some(Details { cmd, cwd, environ })
    }

    /// Is the process's real uid `me`? `/proc/PID` belongs to its effective uid, one
    /// `stat` away; only where that is not `me` (setuid, or not dumpable) is the real
    /// uid read from `status`, which costs a file the kernel formats.
    fn owned_by(pid: u32, me: u32) -> bool {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(format!("/proc/{pid}")).is_ok_and(|m| m.uid() == me)
            || read(pid, "status").is_some_and(|s| real_uid(&s) == Some(me))
    }

    /// The real uid from `/proc/PID/status` (`Uid:` real, effective, saved, fs).
    pub(super) fn real_uid(status: &[u8]) -> Option<u32> {
        let text = String::from_utf8_lossy(status);
        let line = text.lines().find_map(|l| l.strip_prefix("Uid:"))?;
        line.split_ascii_whitespace().next()?.parse().ok()
    }
}

/// Through sysinfo, where there is no `/proc` to read (and in tests, to check the
/// `/proc` reader against). Sessions, terminals and groups are unknown (0).
#[cfg(any(not(target_os = "linux"), test))]
mod portable {
    use super::{Details, Stat, State, Want};
    use std::collections::HashMap;
    use sysinfo::{Pid, ProcessRefreshKind, ProcessStatus, ProcessesToUpdate, System};
    use sysinfo::{Process, UpdateKind};

    fn stat(pid: u32, p: &Process) -> Stat {
        Stat {
            pid,
            ppid: p.parent().map_or(0, Pid::as_u32),
            state: match p.status() {
                ProcessStatus::Stop => State::Stopped,
                ProcessStatus::Zombie | ProcessStatus::Dead => State::Zombie,
                _ => State::Live,
            },
            pgrp: 0,
            session: 0,
            tty: 0,
            tpgid: 0,
            start_us: i64::try_from(p.start_time()).unwrap_or(0) * 1_000_000,
        }
    }

    pub fn read_all() -> HashMap<u32, Stat> {
        let Ok(mut sys) = System::new() else {
            return HashMap::new();
        };
        sys.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::nothing().without_tasks(),
        );
        sys.processes()
            .iter()
            .map(|(pid, p)| (pid.as_u32(), stat(pid.as_u32(), p)))
            .collect()
    }

    pub fn details(wanted: &[Want], me: u32) -> HashMap<u32, Details> {
        let Ok(mut sys) = System::new() else {
            return HashMap::new();
        };
        let pids: Vec<Pid> = wanted.iter().map(|w| Pid::from_u32(w.pid)).collect();
        sys.refresh_processes_specifics(
            ProcessesToUpdate::Some(&pids),
            true,
            ProcessRefreshKind::nothing()
                .without_tasks()
                .with_cmd(UpdateKind::Always)
                .with_cwd(UpdateKind::Always)
                .with_environ(UpdateKind::Always)
                .with_user(UpdateKind::Always),
        );
        let text = |s: &[std::ffi::OsString]| -> Vec<String> {
            s.iter().map(|a| a.to_string_lossy().into_owned()).collect()
        };
        let nul_separated = |s: &[std::ffi::OsString]| -> Vec<u8> {
            s.iter()
                .flat_map(|a| a.as_encoded_bytes().iter().copied().chain([0]))
                .collect()
        };
        wanted
            .iter()
            .filter_map(|w| {
                let p = sys.process(Pid::from_u32(w.pid))?;
                if p.user_id().is_none_or(|u| **u != me) || p.cmd().is_empty() {
                    return None;
                }
                let details = Details {
                    cmd: text(p.cmd()),
                    cwd: p.cwd().map(|c| c.to_string_lossy().into_owned()),
                    environ: if w.environ {
                        nul_separated(p.environ())
                    } else {
                        Vec::new()
                    },
                };
                Some((w.pid, details))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_keeps_empty_arguments_and_drops_the_final_nul() {
        assert_eq!(split_nul(b"sh\0-c\0\0x\0"), ["sh", "-c", "", "x"]);
        assert_eq!(
            split_nul(b"nginx: master process"),
            ["nginx: master process"]
        );
        assert!(split_nul(b"").is_empty());
        assert!(split_nul(b"\0").is_empty());
    }

    #[test]
    fn work_is_spread_and_kept_in_order() {
        let items: Vec<u32> = (0..1000).collect();
        let out = on_all_cores(&items, |&i| i * 2);
        assert_eq!(out, (0..1000).map(|i| i * 2).collect::<Vec<_>>());
        assert!(on_all_cores(&[] as &[u32], |&i| i).is_empty());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_stat_line_with_parentheses_in_its_name_parses() {
        let clock = linux::Clock::now();
        let line =
            b"4242 (a) b (c)) T 10 4242 9 34817 4242 4194304 0 0 0 0 1 2 0 0 20 0 1 0 500 0 0";
        let s = linux::parse_stat(4242, line, &clock).unwrap();
        assert_eq!(
            (s.ppid, s.pgrp, s.session, s.tty, s.tpgid),
            (10, 4242, 9, 34817, 4242)
        );
        assert_eq!(s.state, State::Stopped);
        let zombie = b"7 (z) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0";
        let z = linux::parse_stat(7, zombie, &clock).unwrap();
        assert_eq!((z.state, z.tpgid), (State::Zombie, 0));
        assert!(linux::parse_stat(1, b"1 (x) S 0", &clock).is_none());
        assert_eq!(
            linux::real_uid(b"Name:\tx\nUid:\t1000\t0\t0\t0\n"),
            Some(1000)
        );
    }

    /// The `/proc` reader agrees with sysinfo on a child of this test.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_proc_reader_agrees_with_sysinfo() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30; :", "a b"])
            .env("SNAP_TEST_TABLE", "1")
            .spawn()
            .unwrap();
        let pid = child.id();
        let cmdline = format!("/proc/{pid}/cmdline");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !std::fs::read(&cmdline)
            .unwrap_or_default()
            .starts_with(b"sh\0")
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let want = [Want { pid, environ: true }];
        let (fast, slow) = (linux::read_all(), portable::read_all());
        let me = unsafe { libc::getuid() };
        let (fast_d, slow_d) = (linux::details(&want, me), portable::details(&want, me));
        let _ = child.kill();
        let _ = child.wait();
        let (f, s) = (fast[&pid], slow[&pid]);
        assert_eq!((f.ppid, f.state), (s.ppid, s.state));
        assert_eq!(f.ppid, std::process::id());
        assert!(f.start_secs().abs_diff(s.start_secs()) <= 1, "{f:?} {s:?}");
        assert_eq!(fast_d[&pid], slow_d[&pid]);
        assert_eq!(fast_d[&pid].cmd, ["sh", "-c", "sleep 30; :", "a b"]);
        assert!(fast_d[&pid].environ().any(|e| e == "SNAP_TEST_TABLE=1"));
    }
}
