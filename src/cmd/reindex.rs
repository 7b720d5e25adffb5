//! `snap reindex`: rebuild the index from the journals (and, for shells whose journals
//! an older snap removed, from the snapshots).

use crate::store::index::{ingest, Index, Wait};
use crate::store::paths::Paths;
use anyhow::{bail, Result};

/// Rebuild the index and say how many commands it holds.
pub fn run() -> Result<()> {
    let paths = Paths::from_env()?;
    let Some(mut ix) = Index::open(&paths, Wait::Block)? else {
        bail!("the index is busy: try again");
    };
    ingest::reindex(&mut ix, &paths)?;
    let (shells, commands) = ix.counts()?;
    super::print_bytes(
        format!(
            "reindexed {}: {commands} command(s) of {shells} shell(s)\n",
            ix.path().display()
        )
        .as_bytes(),
    )
}
