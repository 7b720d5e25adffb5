//! Is a recorded process still the same process? (pid and start time, through sysinfo)

use std::collections::HashSet;
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

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
        ProcessRefreshKind::nothing().without_tasks(),
    );
    for &(pid, started) in pairs {
        if let Some(p) = sys.process(Pid::from_u32(pid)) {
            let same = started.is_none_or(|s| s.abs_diff(p.start_time()) <= 1);
            if same {
                alive.insert((pid, started));
            }
        }
    }
    alive
}

/// Every process running now, as (pid, argv, cwd), to tell what need not start twice.
pub fn running_argv() -> Vec<(u32, Vec<String>, Option<String>)> {
    let Ok(mut sys) = System::new() else {
        return Vec::new();
    };
    sys.refresh_processes_specifics(
        ProcessesToUpdate::All,
        true,
        ProcessRefreshKind::nothing()
            .without_tasks()
            .with_cmd(sysinfo::UpdateKind::Always)
            .with_cwd(sysinfo::UpdateKind::Always),
    );
    sys.processes()
        .iter()
        .map(|(pid, p)| {
            (
                pid.as_u32(),
                p.cmd()
                    .iter()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect(),
                p.cwd().map(|c| c.to_string_lossy().into_owned()),
            )
        })
        .collect()
}
