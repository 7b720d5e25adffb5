//! `snap list [--json]`: the snapshots, newest last.

use crate::snapshot_model::Snapshot;
use crate::store::paths::Paths;
use crate::store::snapshots;
use anyhow::Result;
use serde::Serialize;

/// One line of `snap list --json`.
#[derive(Debug, Serialize)]
struct Entry<'a> {
    id: &'a str,
    taken_at: &'a str,
    label: Option<&'a str>,
    sessions: Vec<&'a str>,
    processes: usize,
}

fn entry(s: &Snapshot) -> Entry<'_> {
    Entry {
        id: &s.id,
        taken_at: &s.taken_at,
        label: s.label.as_deref(),
        sessions: s.sessions.iter().map(|x| x.name.as_str()).collect(),
        processes: s
            .sessions
            .iter()
            .flat_map(|x| &x.shells)
            .map(|sh| sh.processes.len())
            .sum(),
    }
}

/// Print the snapshots (unreadable files are named on stderr).
pub fn run(json: bool) -> Result<()> {
    let paths = Paths::from_env()?;
    let good = snapshots::list_good(&paths);
    let entries: Vec<Entry> = good.iter().map(|(_, s)| entry(s)).collect();
    if json {
        super::print_bytes(format!("{}\n", serde_json::to_string_pretty(&entries)?).as_bytes())?;
        return Ok(());
    }
    if entries.is_empty() {
        super::print_bytes("no snapshots yet: `snap save` takes one, `snap daemon start` takes them on a schedule\n".as_bytes())?;
        return Ok(());
    }
    super::print_bytes(
        format!(
            "{:<30} {:<20} {:>5}  {:<24} label\n",
            "id", "taken_at", "procs", "sessions"
        )
        .as_bytes(),
    )?;
    for e in &entries {
        super::print_bytes(
            format!(
                "{:<30} {:<20} {:>5}  {:<24} {}\n",
                e.id,
                e.taken_at.replace('T', " ").trim_end_matches('Z'),
                e.processes,
                e.sessions.join(","),
                e.label.unwrap_or("")
            )
            .as_bytes(),
        )?;
    }
    Ok(())
}
