//! `snap forget SESSION`: drop a session from future restores.

use crate::cli::ForgetArgs;
use crate::config::Config;
use crate::store::paths::Paths;
use crate::store::retention::{self, Rules};
use crate::store::{shells, snapshots};
use crate::timefmt;
use anyhow::{bail, Result};

/// Forget the session, then let retention remove what only it kept.
pub fn run(args: &ForgetArgs) -> Result<()> {
    let paths = Paths::from_env()?;
    let name = args.session.as_str();
    let all = shells::load_all(&paths);
    let in_snapshots = snapshots::list_good(&paths)
        .iter()
        .filter(|(_, s)| s.sessions.iter().any(|x| x.name == name))
        .count();
    let live = all
        .iter()
        .filter(|s| s.meta.session == name && s.alive)
        .count();
    let recorded = all.iter().filter(|s| s.meta.session == name).count();
    if in_snapshots == 0 && recorded == 0 {
        bail!(
            "no session named {name:?} in snapshots or shells: see `snap sessions` and `snap list`"
        );
    }
    retention::forget(&paths, name, timefmt::now_us())?;
    let cfg = Config::load(&paths)?;
    let plan = retention::run(&paths, Rules::from_config(&cfg), false);
    super::print_bytes(format!(
        "forgot session {name}: {in_snapshots} snapshot(s) no longer show it; removed {} snapshot(s) and {} shell(s) only it kept\n",
        plan.snapshots.len(),
        plan.shells.len()
    ).as_bytes())?;
    if live > 0 {
        super::print_bytes(format!(
            "its {live} live shell(s) will not be snapshotted again; new shells of a session named {name} will be\n"
        ).as_bytes())?;
    }
    Ok(())
}
