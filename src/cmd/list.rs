//! `snap list [--json]`: the snapshots, newest last; never a control character raw.

use crate::model::snapshot::Snapshot;
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
        let out = crate::text::json_pretty(&entries)? + "\n";
        return super::print_bytes(out.as_bytes());
    }
    if entries.is_empty() {
        super::print_bytes("no snapshots yet: `snap save` takes one, `snap daemon start` takes them on a schedule\n".as_bytes())?;
        return Ok(());
    }
    let mut out = format!(
        "{:<30} {:<20} {:>5}  {:<24} label\n",
        "id", "taken_at", "procs", "sessions"
    );
    for e in &entries {
        out.push_str(&format!(
            "{:<30} {:<20} {:>5}  {:<24} {}\n",
            e.id,
            e.taken_at.replace('T', " ").trim_end_matches('Z'),
            e.processes,
            e.sessions.join(","),
            crate::text::one_line(e.label.unwrap_or(""), 80)
        ));
    }
    super::print_bytes(crate::text::safe(&out).as_bytes())
}
