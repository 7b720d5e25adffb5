//! `snap sessions [--all] [--json] [--raw]`: sessions and their shells, from the index:
//! live shells and those ended since their session's last restore or within 7 days.
//! Real values, as `env` shows them; under a coding agent redacted, unless `--raw`.
//! Never a control character raw.

use crate::cli::SessionsArgs;
use crate::model::{SessionView, ShellView};
use crate::redact::Redactor;
use crate::store::index::{self, query};
use crate::store::paths::Paths;
use crate::store::shells::{self, ShellState};
use crate::timefmt;
use anyhow::Result;
use std::collections::BTreeMap;

/// Ended shells stay listed this long (or since their session's last restore).
const RECENT_US: i64 = 7 * 24 * 3600 * 1_000_000;

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

/// The recorded shells worth listing, with liveness checked now: every one with `all`.
pub fn listed(paths: &Paths, all: bool) -> Result<Vec<ShellState>> {
    let ix = index::open_ingested(paths)?;
    let week_ago = timefmt::now_us() - RECENT_US;
    let restored = query::last_restores(&ix)?;
    let since = restored.values().fold(week_ago, |a, &b| a.min(b));
    let mut found = query::shells(&ix, &paths.shells(), (!all).then_some(since))?;
    let pids: Vec<(u32, Option<u64>)> = found
        .iter()
        .map(|s| (s.meta.pid, s.meta.pid_started))
        .collect();
    shells::settle(&mut found, &crate::liveness::alive_now(&pids));
    if all {
        return Ok(found);
    }
    found.retain(|s| {
        let since = restored
            .get(&s.meta.session)
            .map_or(week_ago, |&r| r.min(week_ago));
        s.alive || s.ended_us.unwrap_or(s.last_seen_us) >= since
    });
    Ok(found)
}

/// Hide the secrets of these sessions: their names and their shells' views.
pub fn redact_all(sessions: &mut [SessionView], r: &Redactor) {
    for s in sessions {
        if let Some(t) = r.text(&s.name) {
            s.name = t;
        }
        s.shells.iter_mut().for_each(|sh| redact(sh, r));
    }
}

/// Hide the secrets of a shell's view: environment, cwd, running command, tmux place.
fn redact(sh: &mut ShellView, r: &Redactor) {
    r.env(&mut sh.env);
    let tmux = sh
        .tmux
        .iter_mut()
        .flat_map(|t| [&mut t.session, &mut t.socket]);
    for text in [&mut sh.cwd]
        .into_iter()
        .chain(sh.running.as_mut())
        .chain(tmux)
    {
        if let Some(t) = r.text(text) {
            *text = t;
        }
    }
}

/// Print the sessions.
pub fn run(args: &SessionsArgs) -> Result<()> {
    let paths = Paths::from_env()?;
    let all = listed(&paths, args.all)?;
    let redactor = crate::redact::for_own_records(
        &paths.config_in_force(),
        args.raw,
        all.iter().map(|s| &s.env_now),
    )?;
    let mut sessions = group(all);
    if let Some((_, r)) = &redactor {
        redact_all(&mut sessions, r);
    }
    if args.json {
        let out = crate::text::json_pretty(&sessions)? + "\n";
        return super::print_bytes(out.as_bytes());
    }
    let mut out = String::new();
    if sessions.is_empty() {
        out.push_str("no sessions recorded yet: add the hook to your shell (snap init --help)\n");
    }
    for s in &sessions {
        out.push_str(&format!("{}\n", s.name));
        for sh in &s.shells {
            let state = match (sh.ended, sh.alive) {
                (Some(e), _) => e.as_str(),
                (None, true) => "alive",
                (None, false) => "vanished",
            };
            let running = sh
                .running
                .as_deref()
                .map(|r| format!("  running: {}", crate::text::one_line(r, 80)))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {:<32} {:<4} {:>7}  {:<8} {}{}\n",
                sh.id, sh.kind, sh.pid, state, sh.cwd, running
            ));
        }
    }
    super::print_bytes(crate::text::safe(&out).as_bytes())
}
