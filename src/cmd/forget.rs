//! `snap forget SESSION [--purge]`: drop a session from future restores; its history
//! stays unless `--purge`.

use crate::cli::ForgetArgs;
use crate::config::Config;
use crate::store::index::{self, Wait};
use crate::store::paths::Paths;
use crate::store::retention::{self, Rules};
use crate::store::{shells, snapshots};
use crate::timefmt;
use anyhow::{bail, Context, Result};
use std::fs;

/// Forget the session, then let retention remove the snapshots only it kept.
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
    let plan = retention::run_with(&paths, Rules::from_config(&cfg), &all, false, None);
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

/// Remove the session's commands from the index, then its ended shells' directories and
/// its agent journal (live shells keep recording).
fn purge(paths: &Paths, name: &str, all: &[shells::ShellState]) -> Result<usize> {
    let Some(mut ix) = index::open_ingested(paths, Wait::Block)? else {
        bail!("the index is busy: try again");
    };
    index::purge_session(&mut ix, name)?;
    let mut removed = 0;
    for s in all.iter().filter(|s| s.meta.session == name && !s.alive) {
        fs::remove_dir_all(&s.dir).with_context(|| format!("cannot remove {}", s.dir.display()))?;
        removed += 1;
    }
    if let Ok(dir) = crate::agent::journal::session_dir(paths, name) {
        let journal = dir.join("journal.jsonl");
        if journal.exists() {
            fs::remove_file(&journal)
                .with_context(|| format!("cannot remove {}", journal.display()))?;
        }
    }
    Ok(removed)
}
