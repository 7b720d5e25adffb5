//! `snap history [--session NAME | --all] [-n N] [--json]`: recorded commands, oldest first.

use crate::cli::HistoryArgs;
use crate::model::CommandRecord;
use crate::store::paths::Paths;
use crate::store::shells;
use anyhow::Result;

/// Print the recorded commands.
pub fn run(args: &HistoryArgs) -> Result<()> {
    let paths = Paths::from_env()?;
    let all = shells::load_all(&paths);
    let session = if args.all {
        None
    } else if let Some(s) = &args.session {
        Some(s.clone())
    } else {
        current_session(&all)
    };
    let mut records: Vec<(i64, CommandRecord)> = Vec::new();
    for s in all
        .iter()
        .filter(|s| session.as_ref().is_none_or(|n| &s.meta.session == n))
    {
        for (c, r) in s.commands.iter().zip(s.history()) {
            records.push((c.started_us, r));
        }
    }
    records.extend(crate::agent::journal::records(&paths, session.as_deref()));
    records.sort_by_key(|(t, _)| *t);
    let mut records: Vec<CommandRecord> = records.into_iter().map(|(_, r)| r).collect();
    if let Some(n) = args.limit {
        let skip = records.len().saturating_sub(n);
        records.drain(..skip);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&records)?);
        return Ok(());
    }
    for r in &records {
        let exit = r.exit.map_or("…".to_string(), |e| e.to_string());
        let dur = r.duration_ms.map_or(String::new(), |d| format!("{d}ms"));
        println!(
            "{}  {:>4} {:>8}  {:<24}  {}",
            r.started_at.replace('T', " ").trim_end_matches('Z'),
            exit,
            dur,
            short_cwd(&r.cwd),
            crate::text::one_line(&r.command, 80)
        );
    }
    Ok(())
}

/// The session of the shell this runs in, when its hook is loaded.
fn current_session(all: &[shells::ShellState]) -> Option<String> {
    let id = std::env::var("SNAP_SHELL_ID").ok()?;
    all.iter()
        .find(|s| s.meta.id == id)
        .map(|s| s.meta.session.clone())
}

fn short_cwd(cwd: &str) -> String {
    let home = std::env::var("HOME").unwrap_or_default();
    let s = match cwd.strip_prefix(&home) {
        Some(rest) if !home.is_empty() => format!("~{rest}"),
        _ => cwd.to_string(),
    };
    let n = s.chars().count();
    if n > 24 {
        format!("…{}", s.chars().skip(n - 23).collect::<String>())
    } else {
        s
    }
}
