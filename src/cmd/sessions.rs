//! `snap sessions [--json]`: sessions and their shells, ended ones included.

use crate::model::SessionView;
use crate::store::paths::Paths;
use crate::store::shells::{self, ShellState};
use anyhow::Result;
use std::collections::BTreeMap;

/// Group shells by session, most recently active session last.
pub fn group(shells: Vec<ShellState>) -> Vec<SessionView> {
    let mut by_name: BTreeMap<String, (i64, Vec<ShellState>)> = BTreeMap::new();
    for s in shells {
        let entry = by_name.entry(s.meta.session.clone()).or_default();
        entry.0 = entry.0.max(s.last_seen_us);
        entry.1.push(s);
    }
    let mut groups: Vec<_> = by_name.into_iter().collect();
    groups.sort_by_key(|(name, (seen, _))| (*seen, name.clone()));
    groups
        .into_iter()
        .map(|(name, (_, shells))| SessionView {
            name,
            shells: shells.iter().map(ShellState::view).collect(),
        })
        .collect()
}

/// Print the sessions.
pub fn run(json: bool) -> Result<()> {
    let paths = Paths::from_env()?;
    let sessions = group(shells::load_all(&paths));
    if json {
        println!("{}", serde_json::to_string_pretty(&sessions)?);
        return Ok(());
    }
    if sessions.is_empty() {
        println!("no sessions recorded yet: add the hook to your shell (snap init --help)");
    }
    for s in &sessions {
        println!("{}", s.name);
        for sh in &s.shells {
            let state = match (&sh.ended, sh.alive) {
                (Some(e), _) => e.clone(),
                (None, true) => "alive".to_string(),
                (None, false) => "vanished".to_string(),
            };
            let running = sh
                .running
                .as_deref()
                .map(|r| format!("  running: {}", crate::text::one_line(r, 80)))
                .unwrap_or_default();
            println!(
                "  {:<32} {:<4} {:>7}  {:<8} {}{}",
                sh.id, sh.kind, sh.pid, state, sh.cwd, running
            );
        }
    }
    Ok(())
}
