//! `snap save [--session NAME] [--label TEXT] [--json]`: take a snapshot now.

use crate::capture;
use crate::cli::SaveArgs;
use crate::store::paths::Paths;
use anyhow::Result;

/// Take a snapshot; print its id, or the snapshot as JSON.
pub fn run(args: &SaveArgs) -> Result<()> {
    let paths = Paths::from_env()?;
    let snap = capture::snapshot_now(&paths, args.session.as_deref(), args.label.as_deref())?;
    if args.json {
        super::print_bytes(format!("{}\n", crate::text::json_pretty(&snap)?).as_bytes())?;
    } else {
        super::print_bytes(format!("{}\n", snap.id).as_bytes())?;
    }
    Ok(())
}
