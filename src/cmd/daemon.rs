//! `snap daemon run|start|stop|status|install`: the snapshot daemon.

use crate::cli::DaemonCommand;
use crate::daemon;
use crate::store::paths::Paths;
use crate::timefmt;
use anyhow::Result;
use std::time::Duration;

/// Dispatch a daemon subcommand.
pub fn run(cmd: &DaemonCommand) -> Result<()> {
    let paths = Paths::from_env()?;
    match cmd {
        DaemonCommand::Run(a) => daemon::run(&paths, a.schedule.as_deref()),
        DaemonCommand::Start(a) => {
            let (pid, started) = daemon::start(&paths, a.schedule.as_deref())?;
            if started {
                super::print_bytes(
                    format!(
                        "snap daemon started (pid {pid}); log: {}\n",
                        daemon::log_file(&paths).display()
                    )
                    .as_bytes(),
                )?;
            } else {
                super::print_bytes(
                    format!("snap daemon already running (pid {pid})\n").as_bytes(),
                )?;
            }
            Ok(())
        }
        DaemonCommand::Stop => {
            match daemon::stop(&paths, Duration::from_secs(60))? {
                Some(pid) => {
                    super::print_bytes(format!("snap daemon stopped (pid {pid})\n").as_bytes())?
                }
                None => super::print_bytes(b"no snap daemon is running\n")?,
            }
            Ok(())
        }
        DaemonCommand::Status(a) => status(&paths, a.json),
        DaemonCommand::Install(a) => daemon::install(a.uninstall),
    }
}

fn status(paths: &Paths, json: bool) -> Result<()> {
    let st = daemon::status(paths)?;
    if json {
        super::print_bytes(format!("{}\n", crate::text::json_pretty(&st)?).as_bytes())?;
        return Ok(());
    }
    match st.pid {
        Some(pid) => super::print_bytes(
            format!("running (pid {pid}), schedule {:?} (UTC)\n", st.schedule).as_bytes(),
        )?,
        None => super::print_bytes(
            format!(
                "not running (schedule would be {:?}); `snap daemon start` starts it\n",
                st.schedule
            )
            .as_bytes(),
        )?,
    }
    match &st.last_snapshot {
        Some(l) => {
            let age = timefmt::age(
                timefmt::now_us() - l.age_seconds * 1_000_000,
                timefmt::now_us(),
            );
            super::print_bytes(format!("last snapshot: {} ({age})\n", l.id).as_bytes())?;
        }
        None => super::print_bytes(b"last snapshot: none yet\n")?,
    }
    if let Some(n) = &st.next_run {
        super::print_bytes(format!("next run: {n}\n").as_bytes())?;
    }
    if let Some(e) = &st.last_error {
        super::print_bytes(format!("last error: {e}\n").as_bytes())?;
    }
    super::print_bytes(format!("log: {}\n", st.log.display()).as_bytes())?;
    Ok(())
}
