//! `snap history [--session NAME | --all | --shell ID] [filters] [-n N] [--json] [--raw]`:
//! recorded commands from the index, the newest matches, oldest first: by default this
//! shell's session, or outside a hooked shell the session of the current directory's
//! project. Real values, as
//! the shell's own `history`; under a coding agent redacted and filtered as a snapshot
//! is, unless `--raw`. Never a control character raw.

use crate::cli::{HistoryArgs, SourceArg};
use crate::config::{parse_duration, Config};
use crate::model::CommandRecord;
use crate::redact::Redactor;
use crate::store::index;
use crate::store::index::query::{Filter, Source};
use crate::store::paths::Paths;
use crate::store::recorded::{Recorded, Select};
use crate::timefmt;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Print the recorded commands.
pub fn run(args: &HistoryArgs) -> Result<()> {
    let paths = Paths::from_env()?;
    let recorded = Recorded::with_index(&paths, index::open_ingested(&paths)?);
    let mut filter = filter(args)?;
    if !args.all && args.shell.is_none() {
        filter.session = match &args.session {
            Some(s) => Some(s.clone()),
            None => match std::env::var("SNAP_SHELL_ID") {
                Ok(id) => recorded.session_of(&id),
                // Outside a hooked shell: the session of this directory's project, as
                // `snap brief` takes it.
                Err(_) => match std::env::current_dir() {
                    Ok(cwd) => Some(crate::agent::project_session(&recorded.projects(), &cwd)),
                    Err(_) => None,
                },
            },
        };
    }
    let mut records: Vec<CommandRecord> = recorded.history(&filter)?;
    if let Some(r) = agent_redactor(&paths, &recorded, &records, args.raw)? {
        redact(&mut records, &r);
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

/// Under a coding agent (and without `--raw`): the config's filters and a redactor that
/// knows the secrets of the shells these records come from, and of the live ones. None
/// otherwise: the user's own records keep real values.
fn agent_redactor(
    paths: &Paths,
    recorded: &Recorded,
    records: &[CommandRecord],
    raw: bool,
) -> Result<Option<(Config, Redactor)>> {
    if raw || !crate::redact::under_agent() {
        return Ok(None);
    }
    let ids = records.iter().map(|r| r.shell_id.as_str());
    let mut envs = recorded.envs(ids);
    envs.extend(
        recorded
            .shells(&Select::live())
            .into_iter()
            .map(|s| s.env_now),
    );
    crate::redact::for_own_records(&paths.config_in_force(), raw, &envs)
}

/// Leave out what the config's filters keep out, and redact the rest (as for an agent).
fn redact(records: &mut Vec<CommandRecord>, (cfg, r): &(Config, Redactor)) {
    records.retain(|c| cfg.keeps_command(&c.command, &c.cwd));
    for c in records.iter_mut() {
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

/// These commands filtered and redacted as for a coding agent, the redactor knowing,
/// too, the secrets of the shells they come from.
pub fn for_agent(
    recorded: &Recorded,
    mut records: Vec<CommandRecord>,
    redactor: &(Config, Redactor),
) -> Vec<CommandRecord> {
    let ids = records.iter().map(|r| r.shell_id.as_str());
    let (cfg, mut r) = redactor.clone();
    r.learn(&recorded.envs(ids));
    redact(&mut records, &(cfg, r));
    records
}

/// This directory as the shell names it (`$PWD`, symlinks kept, as the hook records
/// it) when that is this directory, else as the kernel does.
fn here() -> Result<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let real = std::env::current_dir()?;
    let logical = std::env::var_os("PWD").map(PathBuf::from);
    let same = |a: &Path, b: &Path| match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    };
    Ok(match logical {
        Some(l) if l.is_absolute() && same(&l, &real) => l,
        _ => real,
    })
}

/// The filter the flags ask for (sessions apart).
fn filter(args: &HistoryArgs) -> Result<Filter> {
    let cwd = match (&args.cwd, args.here) {
        (_, true) => Some(here().context("--here: cannot read the current directory")?),
        (Some(d), false) if d.is_relative() => Some(here()?.join(d)),
        (Some(d), false) => Some(d.clone()),
        (None, false) => None,
    };
    let since_us = match &args.since {
        None => None,
        Some(w) => {
            Some(match timefmt::parse_us(w) {
                Some(t) => t,
                None => {
                    let back = parse_duration(w).with_context(|| {
                    format!("--since {w:?}: give a duration back (7d, 12h, 30m) or an RFC 3339 time")
                })?;
                    timefmt::now_us() - i64::try_from(back.as_micros()).unwrap_or(i64::MAX)
                }
            })
        }
    };
    Ok(Filter {
        session: None,
        shell: args.shell.clone(),
        words: args
            .search
            .as_deref()
            .map(|t| t.split_whitespace().map(String::from).collect())
            .unwrap_or_default(),
        cwd: cwd.map(|d| d.to_string_lossy().into_owned()),
        failed: args.failed,
        exit: args.exit,
        since_us,
        source: args.source.map(|s| match s {
            SourceArg::Shell => Source::Shell,
            SourceArg::Agent => Source::Agent,
            SourceArg::Restore => Source::Restore,
        }),
        limit: args.limit,
    })
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
