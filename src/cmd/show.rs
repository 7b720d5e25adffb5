//! `snap show [ID|latest] [--json]`: one snapshot (redacted when it was taken), never a
//! control character raw.

use crate::cli::ShowArgs;
use crate::model::snapshot::{ShellSnap, Snapshot};
use crate::store::paths::Paths;
use crate::store::snapshots;
use crate::timefmt;
use anyhow::Result;

/// Print a snapshot: all of it as JSON, or a summary.
pub fn run(args: &ShowArgs) -> Result<()> {
    let paths = Paths::from_env()?;
    let (path, snap) = snapshots::find(&paths, &args.id)?;
    if args.json {
        let out = crate::text::json_pretty(&snap)? + "\n";
        return super::print_bytes(out.as_bytes());
    }
    let out = format!("{}file: {}\n", summary(&snap), path.display());
    super::print_bytes(crate::text::safe(&out).as_bytes())
}

/// A person's view of a snapshot.
fn summary(snap: &Snapshot) -> String {
    let mut out = String::new();
    let age = timefmt::parse_us(&snap.taken_at)
        .map(|t| timefmt::age(t, timefmt::now_us()))
        .unwrap_or_default();
    out.push_str(&format!(
        "snapshot {}  taken {} ({age}) on {}\n",
        snap.id, snap.taken_at, snap.host
    ));
    if let Some(l) = &snap.label {
        out.push_str(&format!("label: {l}\n"));
    }
    if !snap.redacted.is_empty() {
        out.push_str(&format!("redacted: {} place(s)\n", snap.redacted.len()));
    }
    for s in &snap.sessions {
        out.push_str(&format!("\nsession {}\n", s.name));
        for sh in &s.shells {
            out.push_str(&shell(sh));
        }
    }
    out
}

fn shell(sh: &ShellSnap) -> String {
    let state = match (sh.ended, sh.alive) {
        (Some(e), _) => e.as_str(),
        (None, true) => "alive",
        (None, false) => "vanished",
    };
    let mut out = format!(
        "  {} {} pid {} {state}  {}\n",
        sh.id, sh.kind, sh.pid, sh.cwd
    );
    if let Some(t) = &sh.tmux {
        out.push_str(&format!(
            "    tmux {}:{}.{} ({}) {}\n",
            t.session, t.window_index, t.pane_index, t.window_name, t.pane_id
        ));
    }
    if let Some(r) = &sh.running {
        let policy = sh
            .running_policy
            .map(|p| format!("{p:?}").to_lowercase())
            .unwrap_or_default();
        out.push_str(&format!(
            "    running [{policy}]: {}\n",
            crate::text::one_line(r, 80)
        ));
    }
    for p in sh.processes.iter().filter(|p| p.job_leader) {
        out.push_str(&format!(
            "    job {} [{}]{}: {}\n",
            p.pid,
            format!("{:?}", p.policy).to_lowercase(),
            if p.stopped { " stopped" } else { "" },
            crate::text::one_line(&p.cmd.join(" "), 80)
        ));
    }
    let others = sh.processes.iter().filter(|p| !p.job_leader).count();
    if others > 0 {
        out.push_str(&format!("    and {others} process(es) under them\n"));
    }
    if let Some(last) = sh.history.last() {
        let exit = last.exit.map_or("…".to_string(), |e| e.to_string());
        out.push_str(&format!(
            "    last command ({exit}): {}\n",
            crate::text::one_line(&last.command, 80)
        ));
    }
    out
}
