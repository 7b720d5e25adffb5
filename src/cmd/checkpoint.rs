//! `snap checkpoint [-m MESSAGE]`: bring `.agent-session.json` up to date and snapshot
//! the session. Meant to run after every discrete step.

use crate::agent::checkpoint::{self, Snapshot};
use crate::cli::CheckpointArgs;
use crate::store::paths::Paths;
use anyhow::{bail, Context, Result};

/// Record a checkpoint.
pub fn run(args: &CheckpointArgs) -> Result<()> {
    let paths = Paths::from_env()?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let out = checkpoint::run(
        &paths,
        &cwd,
        args.file.file.as_deref(),
        args.message.as_deref(),
    )?;
    println!(
        "checkpoint {}: {} file(s) in progress  ({})",
        out.at,
        out.files.len(),
        crate::text::safe(&out.state_file.display().to_string())
    );
    match out.snapshot {
        Snapshot::Taken(id) => println!("snapshot {id} of session {}", out.session),
        Snapshot::Skipped(why) => {
            eprintln!("snap: note: no snapshot taken: {}", crate::text::safe(&why))
        }
        Snapshot::Failed(e) => bail!(
            "the state file was updated, but the snapshot of session {} failed: {e}",
            out.session
        ),
    }
    Ok(())
}
