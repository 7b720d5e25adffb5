//! Compressing what the index holds: a journal segment nobody writes any more (a newer
//! one exists, or its shell's exit record was read) is gzip-compressed once the index
//! has read all of it, and kept so until history pruning removes its shell. A live
//! shell's last segment is never compressed.
//!
//! Crash-safe, under the index's write lock (so no ingestion sees a file half moved):
//! the `.gz` is written to a temporary file, synced and renamed, the plain file removed
//! and the directory synced, then the segment's row moves to the `.gz` and the
//! transaction commits. A crash before the removal leaves both files and the row on the
//! plain one, which readers prefer (see `journal::segments`); after it, the `.gz` alone,
//! holding the very bytes the row says were read. Either way the next run finishes the
//! work, and nothing is read twice.

use super::ingest::{self, Mark};
use super::Index;
use crate::store::atomic::{sync_dir, write_atomic};
use crate::store::journal;
use anyhow::Result;
use rusqlite::{params, TransactionBehavior};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Compress every segment the index has read whole and nobody writes any more; say on
/// stderr what could not be (the file is left as it is). Returns how many were.
pub fn compress(ix: &mut Index) -> Result<usize> {
    let mut done = 0;
    for (shell, segments) in candidates(ix)? {
        let tx = ix
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read again under the lock: another snap may have got there first.
        let marks = ingest::marks(&tx, &shell)?;
        for plain in segments {
            let Some(mark) = marks.get(&plain.to_string_lossy().into_owned()) else {
                continue;
            };
            match compress_one(&plain, mark) {
                Ok(None) => {}
                Ok(Some((inode, size))) => {
                    tx.execute(
                        "UPDATE segments SET path = ?2, inode = ?3, size = ?4 WHERE path = ?1",
                        params![
                            mark.path,
                            journal::compressed_path(&plain).to_string_lossy(),
                            inode as i64,
                            size as i64
                        ],
                    )?;
                    done += 1;
                }
                Err(e) => eprintln!("snap: cannot compress {}: {e:#}", plain.display()),
            }
        }
        tx.commit()?;
    }
    Ok(done)
}

/// Per shell, the plain segments to compress: all of an ended shell's, all but the
/// last of a live shell's.
fn candidates(ix: &Index) -> Result<BTreeMap<String, Vec<PathBuf>>> {
    let mut stmt = ix.conn.prepare(
        "SELECT g.shell, g.path, s.ended IS NOT NULL FROM segments g
         JOIN shells s ON s.id = g.shell
         WHERE g.path NOT LIKE '%.gz'",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
    })?;
    let mut by_shell: BTreeMap<String, (bool, Vec<(u64, PathBuf)>)> = BTreeMap::new();
    for row in rows {
        let (shell, path, ended): (String, String, bool) = row?;
        let path = PathBuf::from(path);
        let Some((n, false)) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(journal::segment_number)
        else {
            continue;
        };
        let entry = by_shell.entry(shell).or_default();
        entry.0 = ended;
        entry.1.push((n, path));
    }
    Ok(by_shell
        .into_iter()
        .filter_map(|(shell, (ended, mut segs))| {
            segs.sort();
            if !ended {
                // The live shell's last segment known: it may be the one it writes.
                segs.pop();
            }
            let segs: Vec<PathBuf> = segs.into_iter().map(|(_, p)| p).collect();
            (!segs.is_empty()).then_some((shell, segs))
        })
        .collect())
}

/// Compress `plain` when the index read all of it as it is, and remove it: the `.gz`'s
/// inode and length (None: not now). A `.gz` already there (a crash after its rename)
/// is kept when it holds the same bytes, else both are left as they are.
fn compress_one(plain: &Path, mark: &Mark) -> Result<Option<(u64, u64)>> {
    let gz = journal::compressed_path(plain);
    let Ok(meta) = fs::symlink_metadata(plain) else {
        // Removed by a run that did not commit: the `.gz` stands in if it holds what
        // the row says was read.
        let read = journal::read_segment(&gz).ok();
        let same = read.is_some_and(|b| b.len() as u64 == mark.offset && b.ends_with(&mark.tail));
        return Ok(if same && mark.path == plain.to_string_lossy() {
            let meta = fs::metadata(&gz)?;
            Some((meta.ino(), meta.len()))
        } else {
            None
        });
    };
    let whole = meta.is_file() && meta.len() == mark.offset;
    if !whole || ingest::replaced(plain, Some(mark)) {
        return Ok(None);
    }
    let bytes = fs::read(plain)?;
    if fs::symlink_metadata(&gz).is_ok() {
        if journal::read_segment(&gz).ok().as_deref() != Some(bytes.as_slice()) {
            anyhow::bail!(
                "{} is there and does not hold the same bytes: both are left as they are \
                 (the plain one is read); remove the wrong one",
                gz.display()
            );
        }
    } else {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&bytes)?;
        write_atomic(&gz, &z.finish()?)?;
    }
    remove_plain(plain)?;
    let meta = fs::metadata(&gz)?;
    Ok(Some((meta.ino(), meta.len())))
}

/// Remove a compressed segment's plain file, durably.
fn remove_plain(plain: &Path) -> Result<()> {
    use anyhow::Context;
    fs::remove_file(plain).with_context(|| format!("cannot remove {}", plain.display()))?;
    if let Some(dir) = plain.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}
