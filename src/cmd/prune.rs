//! `snap prune [--keep N] [--older-than DURATION] [--dry-run]`: retention now.

use crate::cli::PruneArgs;
use crate::config::{parse_duration, Config};
use crate::store::paths::Paths;
use crate::store::retention::{self, Rules};
use anyhow::{bail, Context, Result};

/// Remove (or with `--dry-run`, list) what retention would remove.
pub fn run(args: &PruneArgs) -> Result<()> {
    let paths = Paths::from_env()?;
    let cfg = Config::load(&paths)?;
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
    let plan = retention::run(&paths, rules, args.dry_run);
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
    for p in &plan.segments {
        super::print_bytes(format!("{verb} journal segment {}\n", p.display()).as_bytes())?;
    }
    super::print_bytes(format!(
        "{verb} {} snapshot(s), {} shell(s), {} journal segment(s); each session keeps its last {}{}\n",
        plan.snapshots.len(),
        plan.shells.len(),
        plan.segments.len(),
        rules.keep,
        rules
            .max_age
            .map(|d| format!(" within {} s (and always its newest)", d.as_secs()))
            .unwrap_or_default()
    ).as_bytes())?;
    Ok(())
}
