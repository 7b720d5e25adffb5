//! `snap history [--session NAME | --all] [-n N] [--json] [--raw]`: recorded commands,
//! oldest first. Real values, as the shell's own `history`; under a coding agent
//! redacted and filtered as a snapshot is, unless `--raw`. Never a control character raw.

use crate::cli::HistoryArgs;
use crate::config::Config;
use crate::model::CommandRecord;
use crate::redact::Redactor;
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
    let redactor =
        crate::redact::for_own_records(&paths, args.raw, all.iter().map(|s| &s.env_now))?;
    let mut records = records(&paths, &all, session.as_deref(), redactor.as_ref());
    if let Some(n) = args.limit {
        let skip = records.len().saturating_sub(n);
        records.drain(..skip);
    }
    if args.json {
        let out = crate::text::json_pretty(&records)? + "\n";
        return super::print_bytes(out.as_bytes());
    }
    let mut out = String::new();
    for r in &records {
        let exit = r.exit.map_or("…".to_string(), |e| e.to_string());
        let dur = r.duration_ms.map_or(String::new(), |d| format!("{d}ms"));
        out.push_str(&format!(
            "{}  {:>4} {:>8}  {:<24}  {}\n",
            crate::text::safe(r.started_at.replace('T', " ").trim_end_matches('Z')),
            exit,
            dur,
            crate::text::safe(&short_cwd(&r.cwd)),
            crate::text::line(&r.command, 80)
        ));
    }
    super::print_bytes(out.as_bytes())
}

/// The commands of `session` (every session when None), shells' and agents', oldest
/// first. With a redactor, filtered by the config and redacted, as for a coding agent.
pub fn records(
    paths: &Paths,
    all: &[shells::ShellState],
    session: Option<&str>,
    redactor: Option<&(Config, Redactor)>,
) -> Vec<CommandRecord> {
    let mut records: Vec<(i64, CommandRecord)> = Vec::new();
    for s in all
        .iter()
        .filter(|s| session.is_none_or(|n| s.meta.session == n))
    {
        for (c, r) in s.commands.iter().zip(s.history()) {
            records.push((c.started_us, r));
        }
    }
    records.extend(crate::agent::journal::records(paths, session));
    if let Some((cfg, r)) = redactor {
        records.retain(|(_, c)| cfg.keeps_command(&c.command, &c.cwd));
        for (_, c) in &mut records {
            for text in [&mut c.command, &mut c.cwd]
                .into_iter()
                .chain(c.error.as_mut())
            {
                if let Some(t) = r.text(text) {
                    *text = t;
                }
            }
        }
    }
    records.sort_by_key(|(t, _)| *t);
    records.into_iter().map(|(_, r)| r).collect()
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
