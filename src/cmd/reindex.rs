//! `snap reindex`: rebuild the index from the journals (and, for shells whose journals
//! an older snap removed, from the snapshots).

use crate::store::index::{ingest, Index};
use crate::store::paths::Paths;
use anyhow::Result;

/// Rebuild the index and say how many commands it holds.
pub fn run() -> Result<()> {
    let paths = Paths::from_env()?;
    let (mut ix, _) = Index::open_checked(&paths)?;
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
