//! Is a recorded process still the same process? (pid and start time, through sysinfo)
//!
//! Only the user's own processes count (real uid ours): another user's `sleep 777` is
//! not the user's `sleep 777` still running, nor is a pid reused by another user.

use std::collections::HashSet;
use sysinfo::{Pid, Process, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

/// Is this process the user's own: started by this user (its real uid is ours)? A
/// process whose owner cannot be read is not. (The real uid, not the effective one:
/// a setuid program another user runs has root's effective uid, never our real one.)
pub fn is_mine(p: &Process) -> bool {
    // SAFETY: getuid has no preconditions and cannot fail.
    let me = unsafe { libc::getuid() };
    p.user_id().is_some_and(|u| **u == me)
}

/// The start time (seconds since the epoch) of a live process, if it exists.
pub fn start_time(pid: u32) -> Option<u64> {
    let mut sys = System::new().ok()?;
    let pid = Pid::from_u32(pid);
    sys.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        true,
        ProcessRefreshKind::nothing().without_tasks(),
    );
    sys.process(pid).map(|p| p.start_time())
}

/// Which of these (pid, start time) pairs are alive now. A pair whose start time is
/// unknown counts as alive when the pid exists.
pub fn alive_now(pairs: &[(u32, Option<u64>)]) -> HashSet<(u32, Option<u64>)> {
    let mut alive = HashSet::new();
    let Ok(mut sys) = System::new() else {
        return alive;
    };
    let pids: Vec<Pid> = pairs.iter().map(|(p, _)| Pid::from_u32(*p)).collect();
    sys.refresh_processes_specifics(
        ProcessesToUpdate::Some(&pids),
        true,
        ProcessRefreshKind::nothing()
            .without_tasks()
            .with_user(UpdateKind::Always),
    );
    for &(pid, started) in pairs {
        if let Some(p) = sys.process(Pid::from_u32(pid)).filter(|p| is_mine(p)) {
            let same = started.is_none_or(|s| s.abs_diff(p.start_time()) <= 1);
            if same {
                alive.insert((pid, started));
            }
        }
    }
    alive
}
