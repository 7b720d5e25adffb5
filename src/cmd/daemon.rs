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
                println!(
                    "snap daemon started (pid {pid}); log: {}",
                    daemon::log_file(&paths).display()
                );
            } else {
                println!("snap daemon already running (pid {pid})");
            }
            Ok(())
        }
        DaemonCommand::Stop => {
            match daemon::stop(&paths, Duration::from_secs(60))? {
                Some(pid) => println!("snap daemon stopped (pid {pid})"),
                None => println!("no snap daemon is running"),
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
        println!("{}", serde_json::to_string_pretty(&st)?);
        return Ok(());
    }
    match st.pid {
        Some(pid) => println!("running (pid {pid}), schedule {:?} (UTC)", st.schedule),
        None => println!(
            "not running (schedule would be {:?}); `snap daemon start` starts it",
            st.schedule
        ),
    }
    match &st.last_snapshot {
        Some(l) => {
            let age = timefmt::age(
                timefmt::now_us() - l.age_seconds * 1_000_000,
                timefmt::now_us(),
            );
            println!("last snapshot: {} ({age})", l.id);
        }
        None => println!("last snapshot: none yet"),
    }
    if let Some(n) = &st.next_run {
        println!("next run: {n}");
    }
    if let Some(e) = &st.last_error {
        println!("last error: {e}");
    }
    println!("log: {}", st.log.display());
    Ok(())
}
