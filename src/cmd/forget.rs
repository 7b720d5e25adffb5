//! `snap forget SESSION [--purge]`: drop a session from future restores; its history
//! stays unless `--purge`.

use crate::cli::ForgetArgs;
use crate::config::Config;
use crate::store::forgotten;
use crate::store::index;
use crate::store::paths::Paths;
use crate::store::recorded::{Recorded, Select};
use crate::store::retention::{self, Rules};
use crate::store::shells::ShellState;
use crate::store::summaries;
use crate::timefmt;
use anyhow::{bail, Result};
use std::fs;

/// Forget the session, then let retention remove the snapshots only it kept.
pub fn run(args: &ForgetArgs) -> Result<()> {
    let paths = Paths::from_env()?;
    let name = args.session.as_str();
    let recorded = Recorded::open(&paths);
    let all = recorded.shells(&Select::all().in_session(name));
    let in_snapshots = summaries::summaries(&paths, &forgotten::forgotten(&paths), None)
        .iter()
        .filter(|(_, s)| s.sessions.iter().any(|(n, _)| n == name))
        .count();
    let live = all
        .iter()
        .filter(|s| s.meta.session == name && s.alive)
        .count();
    let shells = all.iter().filter(|s| s.meta.session == name).count();
    if in_snapshots == 0 && shells == 0 {
        bail!(
            "no session named {name:?} in snapshots or shells: see `snap sessions` and `snap list`"
        );
    }
    forgotten::forget(&paths, name, timefmt::now_us())?;
    let cfg = Config::load(&paths.config_in_force())?;
    let plan = retention::run_with(&paths, &recorded, Rules::from_config(&cfg), false, None);
    super::print_bytes(
        format!(
            "forgot session {name}: {in_snapshots} snapshot(s) no longer show it; removed {} snapshot(s) only it kept\n",
            plan.snapshots.len(),
        )
        .as_bytes(),
    )?;
    if args.purge {
        let removed = purge(&paths, name, &all)?;
        super::print_bytes(
            format!("purged its history: {removed} ended shell(s) and their commands\n").as_bytes(),
        )?;
    } else {
        super::print_bytes(
            format!("its history stays in `snap history --session {name}` (--purge removes it)\n")
                .as_bytes(),
        )?;
    }
    if live > 0 {
        super::print_bytes(format!(
            "its {live} live shell(s) will not be snapshotted again; new shells of a session named {name} will be\n"
        ).as_bytes())?;
    }
    Ok(())
}

/// Remove the session's ended shells' directories and its agent journal, then their
/// rows in the index (in that order, so that no snap reading meanwhile takes them back
/// in); live shells keep recording, and what they recorded.
fn purge(paths: &Paths, name: &str, all: &[ShellState]) -> Result<usize> {
    let mut errors = Vec::new();
    for s in all.iter().filter(|s| s.meta.session == name && !s.alive) {
        if let Err(e) = fs::remove_dir_all(&s.dir) {
            errors.push(format!("cannot remove {}: {e}", s.dir.display()));
        }
    }
    if let Ok(dir) = crate::store::agent_journal::session_dir(paths, name) {
        let journal = dir.join("journal.jsonl");
        if let Err(e) = fs::remove_file(&journal) {
            if e.kind() != std::io::ErrorKind::NotFound {
                errors.push(format!("cannot remove {}: {e}", journal.display()));
            }
        }
    }
    let removed = index::purge_session(&mut index::Index::open(paths)?, paths, name)?;
    if !errors.is_empty() {
        bail!(
            "{}; what could be removed was (run it again to finish)",
            errors.join("; ")
        );
    }
    Ok(removed)
}
