//! `snap prune [--keep N] [--older-than DURATION] [--history-older-than DURATION]
//! [--dry-run]`: retention now. Snapshots go by count and age; commands leave the history
//! only by `--history-older-than` (or `[retention] history_max_age`).

use crate::cli::PruneArgs;
use crate::config::{parse_duration, Config};
use crate::store::index;
use crate::store::paths::Paths;
use crate::store::recorded::Recorded;
use crate::store::retention::{self, Rules};
use anyhow::{bail, Context, Result};

/// Remove (or with `--dry-run`, list) what retention would remove.
pub fn run(args: &PruneArgs) -> Result<()> {
    let paths = Paths::from_env()?;
    let cfg = Config::load(&paths.config_in_force())?;
    let mut rules = Rules::from_config(&cfg);
    if let Some(k) = args.keep {
        if k == 0 {
            bail!("--keep 0 would drop every session's snapshots: keep at least 1");
        }
        rules.keep = k;
    }
    if let Some(d) = &args.older_than {
        rules.max_age = Some(parse_duration(d).context("--older-than")?);
    }
    if let Some(d) = &args.history_older_than {
        rules.history_max_age = Some(parse_duration(d).context("--history-older-than")?);
    }
    // The index holds every journal's commands before any journal can go.
    let recorded = if rules.history_max_age.is_some() {
        Recorded::with_index(&paths, index::open_ingested(&paths)?)
    } else {
        Recorded::open(&paths)
    };
    let plan = retention::run_with(&paths, &recorded, rules, args.dry_run, None);
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    for p in &plan.snapshots {
        super::print_bytes(format!("{verb} snapshot {}\n", p.display()).as_bytes())?;
    }
    for p in &plan.shells {
        super::print_bytes(format!("{verb} shell {}\n", p.display()).as_bytes())?;
    }
    let history = rules
        .history_max_age
        .map(|d| format!("; commands older than {} s left the history", d.as_secs()))
        .unwrap_or_else(|| "; every command stays in the history".into());
    super::print_bytes(
        format!(
            "{verb} {} snapshot(s), {} ended shell(s); each session keeps its last {}{}{}\n",
            plan.snapshots.len(),
            plan.shells.len(),
            rules.keep,
            rules
                .max_age
                .map(|d| format!(" within {} s (and always its newest)", d.as_secs()))
                .unwrap_or_default(),
            history
        )
        .as_bytes(),
    )?;
    Ok(())
}
