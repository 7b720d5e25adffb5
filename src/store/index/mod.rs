//! The index: `index.db` (SQLite, WAL) beside the journals, holding every command ever
//! recorded, the shells, their environments and the agents' commands, with a trigram
//! full-text index on command text. It is fed from the journals (see [`ingest`]) and is
//! only ever a cache of them: a damaged index is set aside and rebuilt.
//!
//! Concurrent snap processes serialise on SQLite's own locking, waiting up to
//! [`BUSY_WAIT`]; what runs at a new shell's start never waits ([`try_refresh`]).

pub mod compress;
pub mod ingest;
pub mod query;
mod schema;

use crate::store::paths::{ensure_private_dir, Paths};
use anyhow::{Context, Result};
use rusqlite::{Connection, ErrorCode, TransactionBehavior};
use std::fs;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a snap process waits for another one's transaction.
pub const BUSY_WAIT: Duration = Duration::from_secs(5);

/// Whether to wait for the database when another process holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// Up to [`BUSY_WAIT`].
    Block,
    /// Not at all: give up (what runs at a shell's start).
    Never,
}

/// An open index.
pub struct Index {
    pub(crate) conn: Connection,
    path: PathBuf,
}

/// `index.db` in the data directory (`$SNAP_HOME`, else `~/.local/share/snap`).
pub fn db_path(paths: &Paths) -> PathBuf {
    paths.data.join("index.db")
}

/// Why a database could not be used.
enum Failure {
    /// Another process holds it (only with [`Wait::Never`], or past the busy wait).
    Busy,
    /// Not a database, damaged, or of another schema: set it aside and rebuild.
    Damaged(String),
    /// No writing (a full or read-only disk): the file as it is can still be read.
    NoWrite(anyhow::Error),
    /// Anything else (permissions): say so.
    Other(anyhow::Error),
}

impl Failure {
    /// What to tell the user about the database at `path`.
    fn into_error(self, path: &Path) -> anyhow::Error {
        match self {
            Failure::Busy => anyhow::anyhow!(
                "{} stayed busy for {} s (another snap is writing it): try again",
                path.display(),
                BUSY_WAIT.as_secs()
            ),
            Failure::Damaged(why) => anyhow::anyhow!("{} is damaged ({why})", path.display()),
            Failure::NoWrite(e) | Failure::Other(e) => e,
        }
    }

    /// An error met while using the database: busy only when not waiting.
    fn of(e: anyhow::Error, wait: Wait) -> Failure {
        if wait == Wait::Never && is_busy(&e) {
            Failure::Busy
        } else {
            Failure::Other(e)
        }
    }
}

fn classify(e: rusqlite::Error) -> Failure {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Failure::Busy,
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            Failure::Damaged(e.to_string())
        }
        // SQLITE_FULL, an -shm or -wal that cannot grow (SQLITE_IOERR_SHMSIZE…), a
        // read-only file system.
        Some(
            ErrorCode::DiskFull
            | ErrorCode::SystemIoFailure
            | ErrorCode::ReadOnly
            | ErrorCode::CannotOpen,
        ) => Failure::NoWrite(e.into()),
        _ => Failure::Other(e.into()),
    }
}

/// Is this error the database being damaged (rather than busy or out of space)?
pub fn is_damage(e: &anyhow::Error) -> bool {
    e.downcast_ref::<rusqlite::Error>().is_some_and(|e| {
        matches!(
            e.sqlite_error_code(),
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
        )
    })
}

impl Index {
    /// Open (creating it 0600 if need be) the index, waiting up to [`BUSY_WAIT`] for
    /// another snap's transaction. A damaged database is named on stderr, renamed
    /// `index.db.corrupt-<UTC time>` and replaced by an empty one (ingestion refills it).
    pub fn open(paths: &Paths) -> Result<Index> {
        Self::open_as(paths, Wait::Block).map_err(|f| f.into_error(&db_path(paths)))
    }

    fn open_as(paths: &Paths, wait: Wait) -> Result<Index, Failure> {
        ensure_private_dir(&paths.data).map_err(Failure::Other)?;
        let path = db_path(paths);
        match Self::connect(&path, wait) {
            Err(Failure::Damaged(why)) => {
                set_aside(&path, &why).map_err(Failure::Other)?;
                match Self::connect(&path, wait) {
                    Err(Failure::Damaged(why)) => Err(Failure::Other(anyhow::anyhow!(
                        "{}: a new index is damaged too ({why}): check the disk",
                        path.display()
                    ))),
                    other => other,
                }
            }
            other => other,
        }
    }

    /// The database file as it is, read-only, without the -wal and -shm a full disk
    /// has no room for: what the last checkpoint wrote (a clean close checkpoints all).
    fn open_frozen(path: &Path) -> Result<Index> {
        use rusqlite::OpenFlags;
        let mut uri = String::from("file:");
        for c in path.to_string_lossy().chars() {
            match c {
                '%' => uri.push_str("%25"),
                '?' => uri.push_str("%3f"),
                '#' => uri.push_str("%23"),
                c => uri.push(c),
            }
        }
        uri.push_str("?immutable=1");
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&uri, flags)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        anyhow::ensure!(
            version == schema::VERSION,
            "{}: schema version {version}, this snap reads {}",
            path.display(),
            schema::VERSION
        );
        Ok(Index {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn connect(path: &Path, wait: Wait) -> Result<Index, Failure> {
        // Created 0600 before SQLite sees it: its -wal and -shm take the same mode.
        if let Err(e) = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
        {
            let e = anyhow::Error::from(e).context(format!("cannot create {}", path.display()));
            return Err(if path.is_file() {
                Failure::NoWrite(e)
            } else {
                Failure::Other(e)
            });
        }
        let conn = Connection::open(path).map_err(classify)?;
        conn.busy_timeout(match wait {
            Wait::Block => BUSY_WAIT,
            Wait::Never => Duration::ZERO,
        })
        .map_err(classify)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(classify)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Failure::Other(anyhow::anyhow!(
                "{}: cannot switch to WAL (journal mode {mode})",
                path.display()
            )));
        }
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF;")
            .map_err(classify)?;
        if let Some(v) = schema::ensure(&conn).map_err(classify)? {
            return Err(Failure::Damaged(format!(
                "schema version {v}, this snap writes {}",
                schema::VERSION
            )));
        }
        for suffix in ["", "-wal", "-shm"] {
            let f = PathBuf::from(format!("{}{suffix}", path.display()));
            if let Ok(m) = fs::metadata(&f) {
                if m.permissions().mode() & 0o077 != 0 {
                    let _ = fs::set_permissions(&f, fs::Permissions::from_mode(0o600));
                }
            }
        }
        Ok(Index {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// [`Index::open`] for what runs at a new shell's start: never waits; None when
    /// another snap holds it (or, said on stderr, when it cannot be opened).
    pub fn try_open(paths: &Paths) -> Option<Index> {
        match Self::open_as(paths, Wait::Never) {
            Ok(ix) => Some(ix),
            Err(Failure::Busy) => None,
            Err(f) => {
                eprintln!("snap: {:#}", f.into_error(&db_path(paths)));
                None
            }
        }
    }

    /// Where this index lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// [`Index::open`], then `PRAGMA quick_check`: an index that fails it is named,
    /// set aside like a damaged one and replaced by an empty one. Also says what the
    /// check found when it was not "ok". Costs a read of the whole file: for `doctor`
    /// and `reindex`, not for every command.
    pub fn open_checked(paths: &Paths) -> Result<(Index, Option<String>)> {
        let ix = Index::open(paths)?;
        let found = match ix.check(false) {
            Ok(ok) if ok == "ok" => return Ok((ix, None)),
            Ok(problem) => problem,
            Err(e) => format!("{e:#}"),
        };
        let path = ix.path.clone();
        drop(ix);
        set_aside(&path, &format!("quick_check: {found}"))?;
        let ix = Index::open(paths)?;
        Ok((ix, Some(found)))
    }

    /// How many shells and commands the index holds.
    pub fn counts(&self) -> Result<(i64, i64)> {
        Ok(self.conn.query_row(
            "SELECT (SELECT count(*) FROM shells), (SELECT count(*) FROM commands)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// `PRAGMA quick_check` (or `integrity_check` when `full`): "ok", or what is wrong.
    pub fn check(&self, full: bool) -> Result<String> {
        let pragma = if full {
            "integrity_check"
        } else {
            "quick_check"
        };
        let mut stmt = self.conn.prepare(&format!("PRAGMA {pragma}"))?;
        let lines: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(lines.join("; "))
    }
}

/// Rename a damaged database (and its -wal, -shm) to `index.db.corrupt-<UTC time>`,
/// named on stderr; never deleted.
fn set_aside(path: &Path, why: &str) -> Result<()> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
    let to = PathBuf::from(format!("{}.corrupt-{stamp}", path.display()));
    eprintln!(
        "snap: {} is damaged ({why}): moved to {}, rebuilding the index from the journals",
        path.display(),
        to.display()
    );
    for suffix in ["-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", path.display()));
        if from.exists() {
            let _ = fs::rename(&from, format!("{}{suffix}", to.display()));
        }
    }
    fs::rename(path, &to).with_context(|| {
        format!(
            "cannot move the damaged {} aside: move it away by hand",
            path.display()
        )
    })
}

/// Open the index and bring it up to date with the journals, waiting for other snaps
/// as [`Index::open`] does. A database found damaged while ingesting is set aside and
/// rebuilt once.
pub fn open_ingested(paths: &Paths) -> Result<Index> {
    ingested_as(paths, Wait::Block).map_err(|f| f.into_error(&db_path(paths)))
}

fn ingested_as(paths: &Paths, wait: Wait) -> Result<Index, Failure> {
    let mut ix = match Index::open_as(paths, wait) {
        // A full or read-only disk: the file answers with what it held, read as it is.
        Err(Failure::NoWrite(e)) => {
            let path = db_path(paths);
            let Ok(ix) = Index::open_frozen(&path) else {
                return Err(Failure::NoWrite(e));
            };
            eprintln!(
                "snap: cannot bring the index {} up to date: its disk takes no writes, full or read-only ({e:#}); it answers with what it held until it does",
                path.display()
            );
            return Ok(ix);
        }
        other => other?,
    };
    match ingest::ingest(&mut ix, paths) {
        Ok(()) => Ok(ix),
        Err(e) if is_damage(&e) => {
            let path = ix.path.clone();
            drop(ix);
            set_aside(&path, &format!("{e:#}")).map_err(Failure::Other)?;
            let mut ix = Index::open_as(paths, wait)?;
            ingest::ingest(&mut ix, paths).map_err(|e| Failure::of(e, wait))?;
            Ok(ix)
        }
        Err(e) if wait == Wait::Never && is_busy(&e) => Err(Failure::Busy),
        // A full disk, say: what was committed stays, and is what the index answers.
        Err(e) => {
            eprintln!(
                "snap: cannot bring the index {} up to date ({e:#}): it answers with what it held",
                db_path(paths).display()
            );
            Ok(ix)
        }
    }
}

/// Is this error another process holding the database?
pub fn is_busy(e: &anyhow::Error) -> bool {
    e.downcast_ref::<rusqlite::Error>().is_some_and(|e| {
        matches!(
            e.sqlite_error_code(),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
        )
    })
}

/// Bring the index up to date for what runs at a new shell's start: never waits,
/// skipped when another snap holds the index (readers open it with [`open_ingested`]).
pub fn try_refresh(paths: &Paths) -> Option<Index> {
    match ingested_as(paths, Wait::Never) {
        Ok(ix) => Some(ix),
        // Another snap is writing: what it holds so far can still be read.
        Err(Failure::Busy) => Index::try_open(paths),
        Err(f) => {
            eprintln!("snap: {:#}", f.into_error(&db_path(paths)));
            None
        }
    }
}

/// History pruning: remove the commands started before `before_us`, and the rows of
/// the shells that ended (or were last seen) before it and have no directory. Their
/// directories go first (see `retention`), so an ingestion meanwhile never reads one
/// back in, and rows a crash left behind go the next time.
pub fn prune(ix: &mut Index, paths: &Paths, before_us: i64) -> Result<()> {
    let tx = ix
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute("DELETE FROM commands WHERE start_us < ?1", [before_us])?;
    let gone = shells_without_dirs(
        &tx,
        paths,
        "SELECT id FROM shells WHERE coalesce(ended_us, last_seen_us) < ?1",
        before_us,
    )?;
    delete_shells(&tx, &gone)?;
    // Remembered, so a rebuild from old snapshots does not bring them back.
    tx.execute(
        "INSERT INTO facts (key, value) VALUES ('pruned_before', ?1)
         ON CONFLICT(key) DO UPDATE SET value = max(CAST(value AS INTEGER), ?1)",
        [before_us],
    )?;
    tx.commit()?;
    Ok(())
}

/// `snap forget --purge`, once its ended shells' directories and its agent journal are
/// removed: remove the rows of the session's shells that have no directory (its live
/// shells keep theirs, and where they were read up to), and its agents' commands once
/// their journal is gone. How many shells' rows went.
pub fn purge_session(ix: &mut Index, paths: &Paths, session: &str) -> Result<usize> {
    let tx = ix
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let gone = shells_without_dirs(
        &tx,
        paths,
        "SELECT id FROM shells WHERE session = ?1",
        session,
    )?;
    delete_shells(&tx, &gone)?;
    let agents = crate::store::agent_journal::session_dir(paths, session);
    if agents.map_or(true, |d| !d.join("journal.jsonl").exists()) {
        delete_shells(&tx, &[format!("agents/{session}")])?;
    }
    tx.commit()?;
    Ok(gone.len())
}

/// The shells `select` names (one parameter) whose directory is gone.
fn shells_without_dirs(
    tx: &rusqlite::Transaction,
    paths: &Paths,
    select: &str,
    param: impl rusqlite::ToSql,
) -> Result<Vec<String>> {
    let mut stmt = tx.prepare(select)?;
    let ids = stmt.query_map([param], |r| r.get::<_, String>(0))?;
    let mut gone = Vec::new();
    for id in ids {
        let id = id?;
        if !paths.shell_dir(&id).exists() {
            gone.push(id);
        }
    }
    Ok(gone)
}

/// Remove these sources' rows: commands, read offsets and the shell.
fn delete_shells(tx: &rusqlite::Transaction, ids: &[String]) -> Result<()> {
    for id in ids {
        tx.execute("DELETE FROM commands WHERE src = ?1", [id])?;
        tx.execute("DELETE FROM segments WHERE shell = ?1", [id])?;
        tx.execute("DELETE FROM shells WHERE id = ?1", [id])?;
    }
    Ok(())
}

/// One snapshot file's summary as retention caches it: name, length, mtime, JSON.
pub type SummaryRow = (String, u64, i64, String);

/// The cached snapshot summaries.
pub fn snapshot_summaries(ix: &Index) -> Result<Vec<SummaryRow>> {
    let mut stmt = ix
        .conn
        .prepare("SELECT file, len, mtime_ns, summary FROM snapshots")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?, r.get(3)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Replace the cached snapshot summaries with these.
pub fn store_snapshot_summaries(ix: &mut Index, rows: &[SummaryRow]) -> Result<()> {
    let tx = ix
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute("DELETE FROM snapshots", [])?;
    for (file, len, mtime, summary) in rows {
        tx.execute(
            "INSERT INTO snapshots (file, len, mtime_ns, summary) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![file, *len as i64, mtime, summary],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// A time the index remembers (µs), e.g. `pruned_before`.
fn fact_us(conn: &Connection, key: &str) -> Result<Option<i64>> {
    use rusqlite::OptionalExtension;
    let v: Option<i64> = conn
        .query_row(
            "SELECT CAST(value AS INTEGER) FROM facts WHERE key = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()?;
    Ok(v)
}

/// Commands before this time were pruned from the history.
fn pruned_before(ix: &Index) -> Result<Option<i64>> {
    fact_us(&ix.conn, "pruned_before")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shells_start_skips_an_index_another_snap_holds_and_the_rest_wait_for_it() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths {
            data: tmp.path().join("data"),
            state: tmp.path().join("state"),
            config_file: tmp.path().join("config.toml"),
        };
        drop(Index::open(&paths).unwrap());
        let other = Connection::open(db_path(&paths)).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        assert!(matches!(
            ingested_as(&paths, Wait::Never),
            Err(Failure::Busy)
        ));
        other.execute_batch("COMMIT").unwrap();
        let ix = open_ingested(&paths).unwrap();
        assert_eq!(ix.counts().unwrap(), (0, 0));
    }
}
