//! Incremental ingestion: each journal file is read from where the last read stopped,
//! guarded by its inode, its size and the last bytes read, and what it adds is committed
//! in one transaction with the new offset, so a kill at any point loses and doubles
//! nothing. A file replaced under the same name is read again from the start, for its
//! whole shell. Only whole records are final; the last record of a journal still being
//! written is stored but read again next time (see [`journal::parse_from`]).
//!
//! A compressed segment (see [`super::compress`]) is final: read whole once, then known
//! by its inode and length. A segment is one row whether plain or compressed; a row
//! that names the other file of its segment (a crash while compressing) is a file
//! replaced: its shell is read again.

use super::Index;
use crate::model::{Ended, ShellMeta};
use crate::store::agent_journal::{self, AgentCommand};
use crate::store::journal::{self, Carry, Record};
use crate::store::paths::Paths;
use crate::store::shells;
use crate::timefmt;
use anyhow::Result;
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// How many bytes before an offset guard it.
const TAIL: usize = 64;

/// A shell's state after the final bytes of its journal.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    parse: Carry,
    next_seq: i64,
    open_seq: Option<i64>,
    /// The baseline environment is final (read from a final record).
    have_base: bool,
    base: Option<BTreeMap<String, String>>,
    cwd: String,
    last_seen_us: i64,
    #[serde(default, deserialize_with = "Ended::lenient")]
    ended: Option<Ended>,
    ended_us: Option<i64>,
}

/// Where a journal file was read up to.
pub(super) struct Mark {
    /// The file read (plain or compressed).
    pub path: String,
    pub inode: u64,
    /// Bytes read (of the decompressed bytes for a compressed file).
    pub offset: u64,
    pub tail: Vec<u8>,
    /// The file's length when it was read.
    pub size: u64,
}

/// The `facts` key of the mtime (ns) `shells/` had when it was last listed whole.
const LISTED: &str = "shells_listed";

/// Bring the index up to date with every journal, at the cost of the shells not known
/// to have ended (an ended shell's journal is final) and of what is new.
pub fn ingest(ix: &mut Index, paths: &Paths) -> Result<()> {
    let open: Vec<String> = {
        let mut stmt = ix
            .conn
            .prepare_cached("SELECT id FROM shells INDEXED BY shells_open WHERE ended IS NULL")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    // What each of their files (and the agents') looked like when last read: most are
    // unchanged, and need no transaction at all.
    let seen: HashMap<String, (u64, u64)> = {
        let mut stmt = ix.conn.prepare_cached(
            "SELECT path, inode, size FROM segments
             WHERE (shell >= 'agents/' AND shell < 'agents0')
                OR shell IN (SELECT id FROM shells INDEXED BY shells_open WHERE ended IS NULL)",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                (r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64),
            ))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let unchanged = |files: &[PathBuf]| {
        files.iter().all(|f| {
            let Ok(m) = fs::metadata(f) else { return true };
            seen.get(&key(f)) == Some(&(m.ino(), m.len()))
        })
    };
    for id in &open {
        if !unchanged(&journal::segments(&paths.shell_dir(id))) {
            ingest_shell(ix, paths, id)?;
        }
    }
    ingest_new_shells(ix, paths)?;
    for session in agent_journal::sessions(paths) {
        if let Ok(dir) = agent_journal::session_dir(paths, &session) {
            if !unchanged(&[dir.join("journal.jsonl")]) {
                ingest_agent(ix, paths, &session)?;
            }
        }
    }
    migrate_snapshots(ix, paths)?;
    Ok(())
}

/// The shells new to the index. Listing `shells/` costs an entry per shell ever
/// recorded, so it is skipped while the directory has the mtime of its last whole
/// listing (making or removing a shell's directory changes it). That mtime is kept only
/// when it was older than the clock's grain when the listing began (2 s for whole
/// seconds, else 100 ms), so a directory made in the same tick is never missed, and
/// only when every directory listed was read (one made in the last 10 s may not have
/// its meta yet).
fn ingest_new_shells(ix: &mut Index, paths: &Paths) -> Result<()> {
    let root = paths.shells();
    let Ok(meta) = fs::metadata(&root) else {
        return Ok(());
    };
    let mtime = meta.mtime() * 1_000_000_000 + meta.mtime_nsec();
    if super::fact_us(&ix.conn, LISTED)? == Some(mtime) {
        return Ok(());
    }
    let began = std::time::SystemTime::now();
    let Ok(entries) = fs::read_dir(&root) else {
        return Ok(());
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .collect();
    names.sort_unstable();
    // The names the index does not know: both lists in order, walked side by side.
    let mut new = Vec::new();
    {
        let mut stmt = ix
            .conn
            .prepare_cached("SELECT id FROM shells ORDER BY id")?;
        let mut rows = stmt.query([])?;
        let mut next =
            || -> Result<Option<String>> { Ok(rows.next()?.map(|r| r.get(0)).transpose()?) };
        let mut known = next()?;
        for name in names {
            while known.as_ref().is_some_and(|k| *k < name) {
                known = next()?;
            }
            if known.as_ref() != Some(&name) {
                new.push(name);
            }
        }
    }
    let mut pending = false;
    for id in new {
        if !ingest_shell(ix, paths, &id)? {
            let dir = fs::metadata(paths.shell_dir(&id)).and_then(|m| m.modified());
            pending |= dir.is_ok_and(|t| since(t, began) < std::time::Duration::from_secs(10));
        }
    }
    let grain = if meta.mtime_nsec() == 0 {
        std::time::Duration::from_secs(2)
    } else {
        std::time::Duration::from_millis(100)
    };
    let settled = meta.modified().is_ok_and(|t| since(t, began) > grain);
    if settled && !pending {
        ix.conn.execute(
            "INSERT INTO facts (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = ?2",
            params![LISTED, mtime],
        )?;
    }
    Ok(())
}

/// How long before `now` the time `then` was (zero when after it).
fn since(then: std::time::SystemTime, now: std::time::SystemTime) -> std::time::Duration {
    now.duration_since(then).unwrap_or_default()
}

/// How many journal bytes the index has not read yet (of the files it knows; a
/// compressed one is read whole).
pub fn behind(ix: &Index) -> Result<u64> {
    let mut stmt = ix
        .conn
        .prepare("SELECT path, offset FROM segments WHERE path NOT LIKE '%.gz'")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut total = 0;
    for row in rows {
        let (path, offset) = row?;
        if let Ok(m) = fs::metadata(&path) {
            total += m.len().saturating_sub(offset as u64);
        }
    }
    Ok(total)
}

/// Rebuild the index from the journals (and the snapshots, for shells whose journals
/// are gone) from scratch.
/// What history pruning removed stays removed (snapshots of forgotten sessions are not
/// read: `snapshots::list_good` leaves them out).
pub fn reindex(ix: &mut Index, paths: &Paths) -> Result<()> {
    ix.conn.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         DELETE FROM commands; DELETE FROM shells; DELETE FROM segments;
         DELETE FROM facts WHERE key IN ('migrated', '{LISTED}');
         COMMIT;"
    ))?;
    ingest(ix, paths)?;
    if let Some(before) = super::pruned_before(ix)? {
        super::prune(ix, paths, before)?;
    }
    Ok(())
}

/// Read what is new in one shell's journal; false when it is no shell (yet): no meta.
fn ingest_shell(ix: &mut Index, paths: &Paths, id: &str) -> Result<bool> {
    let dir = paths.shell_dir(id);
    let tx = ix
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Listed and read under the write lock: another snap may have ingested this shell
    // meanwhile, and compression changes its files only under it.
    let segs = journal::segments(&dir);
    let row: Option<(String, String)> = tx
        .query_row("SELECT carry, meta FROM shells WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let known = row.is_some();
    let (carried, meta_row) = match row {
        Some((carry, meta)) => {
            let Ok(meta) = serde_json::from_str::<ShellMeta>(&meta) else {
                return Ok(true);
            };
            (serde_json::from_str::<State>(&carry).ok(), meta)
        }
        // A damaged meta is named on stderr (a missing one is a shell not started yet).
        None => match shells::read_meta(&dir) {
            Some(m) => (None, m),
            None => return Ok(false), // not started yet (or not a shell): next time
        },
    };
    let mut marks = marks(&tx, id)?;
    let mut state = carried.clone().unwrap_or_else(|| fresh_state(&meta_row));
    let unreadable_carry = known && carried.is_none();
    if unreadable_carry || segs.iter().any(|s| replaced(s, marks.get(&segment_key(s)))) {
        // A journal replaced under its name: this shell is read again from the start.
        tx.execute("DELETE FROM commands WHERE src = ?1", [id])?;
        tx.execute("DELETE FROM segments WHERE shell = ?1", [id])?;
        marks.clear();
        state = fresh_state(&meta_row);
    }
    // The meta on disk first: a hook sourced again over an older one gives the shell a
    // token (and starts a format 2 segment) after the index first saw it.
    let token = shells::read_meta_quiet(&dir)
        .and_then(|m| m.token)
        .or_else(|| meta_row.token.clone());
    let token = token.as_deref();
    let mut latest = state.clone();
    let mut changed = !known;
    for (i, seg) in segs.iter().enumerate() {
        let compressed = journal::is_compressed(seg);
        let finished = compressed || i + 1 < segs.len();
        let mark = marks.get(&segment_key(seg));
        let Ok(f_meta) = fs::metadata(seg) else {
            continue;
        };
        let offset = mark.map_or(0, |m| m.offset);
        if mark.is_some_and(|m| compressed || f_meta.len() == m.offset) {
            continue;
        }
        let bytes = if compressed {
            match journal::read_segment(seg) {
                Ok(bytes) => bytes,
                Err(e) => {
                    // Said once: the row below keeps it from being read again until
                    // the file changes.
                    eprintln!(
                        "snap: cannot read {} ({e}): skipped (the file is left as it is)",
                        seg.display()
                    );
                    Vec::new()
                }
            }
        } else {
            match read_from(seg, offset) {
                Some(bytes) => bytes,
                None => continue,
            }
        };
        let chunk = journal::parse_from(&bytes, &state.parse, finished, token);
        // Said once: these bytes are final, never read again; so are those after an
        // exit record (nobody writes there any more), kept as they are.
        let ended =
            state.ended.is_some() || chunk.done.iter().any(|r| matches!(r, Record::Exit { .. }));
        let skipped = chunk.skipped + if ended { chunk.tentative_skipped } else { 0 };
        if skipped > 0 {
            eprintln!(
                "snap: {}: {skipped} damaged record(s) skipped (the file is left as it is)",
                seg.display(),
            );
        }
        apply(&tx, &meta_row, &mut state, &chunk.done, true)?;
        state.parse = chunk.carry;
        latest = state.clone();
        apply(&tx, &meta_row, &mut latest, &chunk.tentative, false)?;
        let mut tail = mark.map(|m| m.tail.clone()).unwrap_or_default();
        tail.extend_from_slice(&bytes[..chunk.consumed]);
        let tail = tail[tail.len().saturating_sub(TAIL)..].to_vec();
        let size = if compressed {
            f_meta.len()
        } else {
            offset + bytes.len() as u64
        };
        tx.execute(
            "INSERT INTO segments (path, shell, inode, offset, tail, size)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(path) DO UPDATE SET inode = ?3, offset = ?4, tail = ?5, size = ?6",
            params![
                key(seg),
                id,
                f_meta.ino() as i64,
                (offset + chunk.consumed as u64) as i64,
                tail,
                size as i64
            ],
        )?;
        changed = true;
    }
    if changed {
        save_shell(&tx, &meta_row, &state, &latest)?;
    }
    tx.commit()?;
    Ok(true)
}

fn fresh_state(meta: &ShellMeta) -> State {
    State {
        cwd: meta.start_dir.clone(),
        last_seen_us: timefmt::parse_us(&meta.started_at).unwrap_or(0),
        ..State::default()
    }
}

/// A journal file's row in `segments`: its path.
fn key(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// A segment's key among its shell's marks: its plain file's path, compressed or not.
fn segment_key(path: &Path) -> String {
    key(&journal::plain_path(path))
}

/// Where each file of a shell (or `agents/<session>`) was read up to, by
/// [`segment_key`].
pub(super) fn marks(tx: &Transaction, shell: &str) -> Result<HashMap<String, Mark>> {
    let mut stmt =
        tx.prepare_cached("SELECT path, inode, offset, tail, size FROM segments WHERE shell = ?1")?;
    let rows = stmt.query_map([shell], |r| {
        let path: String = r.get(0)?;
        Ok((
            segment_key(Path::new(&path)),
            Mark {
                path,
                inode: r.get::<_, i64>(1)? as u64,
                offset: r.get::<_, i64>(2)? as u64,
                tail: r.get(3)?,
                size: r.get::<_, i64>(4)? as u64,
            },
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Is this file no longer the one read up to `mark` (the other file of its segment,
/// another inode, shorter, or other bytes before the offset; compressed: another
/// length)?
pub(super) fn replaced(path: &Path, mark: Option<&Mark>) -> bool {
    let Some(mark) = mark else { return false };
    let Ok(meta) = fs::metadata(path) else {
        return false;
    };
    if mark.path != key(path) || meta.ino() != mark.inode {
        return true;
    }
    if journal::is_compressed(path) {
        return meta.len() != mark.size;
    }
    if meta.len() < mark.offset {
        return true;
    }
    let start = mark.offset - mark.tail.len() as u64;
    match read_range(path, start, mark.tail.len()) {
        Some(bytes) => bytes != mark.tail,
        None => true,
    }
}

fn read_from(path: &Path, offset: u64) -> Option<Vec<u8>> {
    let mut f = fs::File::open(path).ok()?;
    f.seek(SeekFrom::Start(offset)).ok()?;
    let mut out = Vec::new();
    f.read_to_end(&mut out).ok()?;
    Some(out)
}

fn read_range(path: &Path, offset: u64, len: usize) -> Option<Vec<u8>> {
    let mut f = fs::File::open(path).ok()?;
    f.seek(SeekFrom::Start(offset)).ok()?;
    let mut out = vec![0; len];
    f.read_exact(&mut out).ok()?;
    Some(out)
}

/// Apply records to the shell's state and its command rows. Rows are keyed by their
/// place in the shell (its `seq`), so applying a tentative record again replaces it.
fn apply(
    tx: &Transaction,
    meta: &ShellMeta,
    state: &mut State,
    records: &[Record],
    fin: bool,
) -> Result<()> {
    for r in records {
        state.last_seen_us = state.last_seen_us.max(r.time_us());
        match r {
            Record::Start {
                time_us,
                cwd,
                command,
                origin,
            } => {
                state.cwd = cwd.clone();
                let seq = state.next_seq;
                let source = origin.source();
                tx.prepare_cached(
                    "INSERT INTO commands (src, pos, shell, session, kind, source, text, cwd, start_us)
                     VALUES (?1, ?2, ?1, ?3, ?4, ?8, ?5, ?6, ?7)
                     ON CONFLICT(src, pos) DO UPDATE SET text = ?5, cwd = ?6, start_us = ?7,
                       source = ?8, end_us = NULL, exit = NULL, duration_ms = NULL",
                )?
                .execute(params![
                    meta.id, seq, meta.session, meta.kind, command, cwd, time_us, source
                ])?;
                state.next_seq += 1;
                state.open_seq = Some(seq);
            }
            Record::End {
                time_us,
                status,
                duration_ms,
                cwd,
            } => {
                if !cwd.is_empty() {
                    state.cwd = cwd.clone();
                }
                if let Some(seq) = state.open_seq.take() {
                    tx.prepare_cached(
                        "UPDATE commands SET end_us = ?3, exit = ?4, duration_ms = ?5
                         WHERE src = ?1 AND pos = ?2",
                    )?
                    .execute(params![
                        meta.id,
                        seq,
                        time_us,
                        status,
                        duration_ms
                    ])?;
                }
            }
            Record::Env { vars, .. } => {
                // The latest environment (for final records the carry says the same).
                state.parse.env = Some(vars.clone());
                if !state.have_base {
                    state.base = Some(vars.clone());
                    state.have_base = fin;
                }
            }
            Record::Exit { time_us, how } => {
                state.ended = Some(*how);
                state.ended_us = Some(*time_us);
                // A shell ended with a command open: nothing runs any more.
                state.open_seq = None;
            }
        }
    }
    Ok(())
}

/// Write the shell's row: the final state as the carry, the latest for the columns.
fn save_shell(tx: &Transaction, meta: &ShellMeta, state: &State, latest: &State) -> Result<()> {
    let json = |v: &Option<BTreeMap<String, String>>| -> Result<Option<String>> {
        Ok(match v {
            Some(m) => Some(serde_json::to_string(m)?),
            None => None,
        })
    };
    // A shell is ended for ingestion only by a final exit record.
    let ended = state.ended.and(latest.ended).map(Ended::as_str);
    tx.prepare_cached(
        "INSERT INTO shells (id, kind, session, meta, started_us, ended, ended_us, last_seen_us,
            cwd, env_base, env_now, carry, replaces, project_dir, exec_from)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT(id) DO UPDATE SET ended = ?6, ended_us = ?7, last_seen_us = ?8, cwd = ?9,
            env_base = ?10, env_now = ?11, carry = ?12",
    )?
    .execute(params![
        meta.id,
        meta.kind,
        meta.session,
        serde_json::to_string(meta)?,
        timefmt::parse_us(&meta.started_at).unwrap_or(0),
        ended,
        latest.ended_us,
        latest.last_seen_us,
        latest.cwd,
        json(&latest.base)?,
        json(&latest.parse.env)?,
        serde_json::to_string(state)?,
        meta.replaces,
        meta.project_dir,
        meta.exec_from,
    ])?;
    Ok(())
}

/// Read what is new in a session's agent journal: whole lines only.
fn ingest_agent(ix: &mut Index, paths: &Paths, session: &str) -> Result<()> {
    let Ok(dir) = agent_journal::session_dir(paths, session) else {
        return Ok(());
    };
    let path = dir.join("journal.jsonl");
    let Ok(f_meta) = fs::metadata(&path) else {
        return Ok(());
    };
    let src = format!("agents/{session}");
    let tx = ix
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut marks = marks(&tx, &src)?;
    let k = segment_key(&path);
    if replaced(&path, marks.get(&k)) {
        tx.execute("DELETE FROM commands WHERE src = ?1", [&src])?;
        tx.execute("DELETE FROM segments WHERE shell = ?1", [&src])?;
        marks.clear();
    }
    let mark = marks.get(&k);
    let offset = mark.map_or(0, |m| m.offset);
    if f_meta.len() == offset {
        return Ok(());
    }
    let Some(bytes) = read_from(&path, offset) else {
        return Ok(());
    };
    let consumed = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut pos = 0;
    for line in bytes[..consumed].split_inclusive(|&b| b == b'\n') {
        let at = offset + pos as u64;
        pos += line.len();
        let Ok(c) = serde_json::from_slice::<AgentCommand>(line) else {
            continue;
        };
        tx.prepare_cached(
            "INSERT INTO commands (src, pos, shell, session, source, agent, text, cwd, start_us,
                exit, duration_ms, error)
             VALUES (?1, ?2, ?3, ?4, 'agent', ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT(src, pos) DO NOTHING",
        )?
        .execute(params![
            src,
            at as i64,
            format!("agent:{}", c.agent_session),
            session,
            c.agent,
            c.command,
            c.cwd,
            c.time_us,
            c.exit,
            c.duration_ms,
            c.error
        ])?;
    }
    let mut tail = mark.map(|m| m.tail.clone()).unwrap_or_default();
    tail.extend_from_slice(&bytes[..consumed]);
    let tail = tail[tail.len().saturating_sub(TAIL)..].to_vec();
    tx.execute(
        "INSERT INTO segments (path, shell, inode, offset, tail, size)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(path) DO UPDATE SET inode = ?3, offset = ?4, tail = ?5, size = ?6",
        params![
            k,
            src,
            f_meta.ino() as i64,
            (offset + consumed as u64) as i64,
            tail,
            (offset + bytes.len() as u64) as i64
        ],
    )?;
    tx.commit()?;
    Ok(())
}

/// Once per index: the history that only snapshots still hold, for shells whose
/// journals an older snap's retention removed.
fn migrate_snapshots(ix: &mut Index, paths: &Paths) -> Result<()> {
    let migrated: Option<String> = ix
        .conn
        .query_row("SELECT value FROM facts WHERE key = 'migrated'", [], |r| {
            r.get(0)
        })
        .optional()?;
    if migrated.is_some() {
        return Ok(());
    }
    let tx = ix
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let done: Option<String> = tx
        .query_row("SELECT value FROM facts WHERE key = 'migrated'", [], |r| {
            r.get(0)
        })
        .optional()?;
    if done.is_some() {
        return Ok(());
    }
    let mut seen = std::collections::HashSet::new();
    let pruned_before = super::fact_us(&tx, "pruned_before")?.unwrap_or(i64::MIN);
    // Newest first: a shell's newest snapshot holds the longest tail of its history.
    for (_, snap) in crate::store::snapshots::list_good(paths).into_iter().rev() {
        for session in &snap.sessions {
            for sh in &session.shells {
                if !seen.insert(sh.id.clone()) || paths.shell_dir(&sh.id).is_dir() {
                    continue;
                }
                let known: Option<i64> = tx
                    .query_row("SELECT 1 FROM shells WHERE id = ?1", [&sh.id], |r| r.get(0))
                    .optional()?;
                if known.is_some() {
                    continue;
                }
                let meta = ShellMeta {
                    schema: crate::model::META_SCHEMA,
                    id: sh.id.clone(),
                    kind: sh.kind.clone(),
                    pid: sh.pid,
                    pid_started: None,
                    tty: sh.tty.clone(),
                    started_at: sh.started_at.clone(),
                    session: session.name.clone(),
                    start_dir: sh.cwd.clone(),
                    project_dir: sh.project_dir.clone(),
                    host: snap.host.clone(),
                    tmux: None,
                    parent: None,
                    exec_from: None,
                    replaces: sh.replaces.clone(),
                    keep_env: vec![],
                    shell_version: String::new(),
                    token: None,
                    started_us: None,
                };
                let mut state = fresh_state(&meta);
                state.cwd = sh.cwd.clone();
                state.ended = Some(sh.ended.unwrap_or(Ended::Hangup));
                state.ended_us = sh.ended_at.as_deref().and_then(timefmt::parse_us);
                state.last_seen_us = timefmt::parse_us(&sh.last_seen).unwrap_or(state.last_seen_us);
                for (seq, c) in sh.history.iter().enumerate() {
                    let start_us = timefmt::parse_us(&c.started_at).unwrap_or(0);
                    if start_us < pruned_before {
                        continue; // history pruning removed it
                    }
                    tx.prepare_cached(
                        "INSERT INTO commands (src, pos, shell, session, kind, source, text, cwd,
                            start_us, exit, duration_ms, error)
                         VALUES (?1, ?2, ?1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                         ON CONFLICT(src, pos) DO NOTHING",
                    )?
                    .execute(params![
                        sh.id,
                        seq as i64,
                        session.name,
                        sh.kind,
                        c.source,
                        c.command,
                        c.cwd,
                        start_us,
                        c.exit,
                        c.duration_ms,
                        c.error
                    ])?;
                }
                state.next_seq = sh.history.len() as i64;
                save_shell(&tx, &meta, &state, &state)?;
            }
        }
    }
    tx.execute(
        "INSERT INTO facts (key, value) VALUES ('migrated', ?1)",
        [timefmt::now_rfc3339()],
    )?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::index::query::{self, Filter};

    const ID: &str = "1764000000000000-1-abcd";

    fn store() -> (tempfile::TempDir, Paths) {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths {
            data: tmp.path().join("data"),
            state: tmp.path().join("state"),
            config_file: tmp.path().join("config.toml"),
        };
        let dir = paths.shell_dir(ID);
        fs::create_dir_all(&dir).unwrap();
        let meta = shells::test_meta(ID, 999_999_999, "2026-11-25T00:00:00Z", "proj");
        fs::write(dir.join("meta"), serde_json::to_vec(&meta).unwrap()).unwrap();
        (tmp, paths)
    }

    fn start(n: usize) -> String {
        format!("\x1eS\t{n}.5\t/p\tt\necho {n}\n")
    }

    fn end(n: usize) -> String {
        format!("\x1eE\t{n}.75\t0\t-\t/p\n")
    }

    fn commands(n: std::ops::Range<usize>) -> String {
        n.map(|i| start(i) + &end(i)).collect()
    }

    fn append(path: &Path, text: &str) {
        use std::io::Write;
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    /// Ingest, then the commands the index holds: (text, exit).
    fn history(paths: &Paths) -> Vec<(String, Option<i32>)> {
        let mut ix = Index::open(paths).unwrap();
        ingest(&mut ix, paths).unwrap();
        query::history(&ix, &Filter::default())
            .unwrap()
            .into_iter()
            .map(|r| (r.command, r.exit))
            .collect()
    }

    fn echoes(n: std::ops::Range<usize>, open_last: bool) -> Vec<(String, Option<i32>)> {
        let last = n.end.saturating_sub(1);
        n.map(|i| {
            let exit = (!(open_last && i == last)).then_some(0);
            (format!("echo {i}"), exit)
        })
        .collect()
    }

    /// Give `dir` this mtime (an hour ago, say), as if it had not changed since.
    fn set_mtime(dir: &Path, t: std::time::SystemTime) {
        fs::File::open(dir).unwrap().set_modified(t).unwrap();
    }

    /// A second shell of the store: its meta and one command.
    fn other_shell(paths: &Paths, id: &str, cmd: &str) {
        let dir = paths.shell_dir(id);
        fs::create_dir_all(&dir).unwrap();
        let meta = shells::test_meta(id, 999_999_999, "2026-11-25T00:00:01Z", "proj");
        fs::write(dir.join("meta"), serde_json::to_vec(&meta).unwrap()).unwrap();
        fs::write(dir.join("journal"), format!("\x1eS\t9.5\t/p\tt\n{cmd}\n")).unwrap();
    }

    #[test]
    fn shells_are_listed_again_only_when_their_directory_changed_since_a_settled_listing() {
        let (_tmp, paths) = store();
        append(&paths.shell_dir(ID).join("journal"), &commands(0..1));
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        set_mtime(&paths.shells(), hour_ago);
        assert_eq!(history(&paths), echoes(0..1, false));
        // A shell planted with the mtime put back as it was is not looked for: the
        // listing was skipped.
        other_shell(&paths, "1764000000000001-2-abcd", "planted");
        set_mtime(&paths.shells(), hour_ago);
        assert_eq!(history(&paths), echoes(0..1, false));
        // One made as shells are (the directory's mtime moves) is found at once, even
        // within the clock's grain, and so is the one planted before it.
        other_shell(&paths, "1764000000000002-3-abcd", "made");
        let mut want = echoes(0..1, false);
        want.push(("planted".into(), None));
        want.push(("made".into(), None));
        assert_eq!(history(&paths), want);
        // A listing within the grain is not kept: the next one lists again.
        other_shell(&paths, "1764000000000003-4-abcd", "soon");
        assert_eq!(history(&paths).len(), 4);
        // After a rebuild, every shell is listed again whatever the mtime.
        set_mtime(&paths.shells(), hour_ago);
        assert_eq!(history(&paths).len(), 4);
        let mut ix = Index::open(&paths).unwrap();
        reindex(&mut ix, &paths).unwrap();
        assert_eq!(history(&paths).len(), 4);
    }

    #[test]
    fn a_growing_journal_is_read_from_its_offset_and_its_open_command_completed() {
        let (_tmp, paths) = store();
        let journal = paths.shell_dir(ID).join("journal");
        append(&journal, &(commands(0..3) + &start(3)));
        assert_eq!(history(&paths), echoes(0..4, true));
        // The end of the open command, then a record cut mid-write.
        append(&journal, &(end(3) + "\x1eS\t4.5\t/p\tt\nech"));
        let mut want = echoes(0..4, false);
        want.push(("ech".into(), None));
        assert_eq!(history(&paths), want);
        append(&journal, &("o 4\n".to_string() + &end(4)));
        assert_eq!(history(&paths), echoes(0..5, false));
        // Nothing new: nothing changes.
        assert_eq!(history(&paths), echoes(0..5, false));
    }

    #[test]
    fn a_new_segment_continues_the_open_command_of_the_one_before() {
        let (_tmp, paths) = store();
        let dir = paths.shell_dir(ID);
        append(&dir.join("journal"), &(commands(0..2) + &start(2)));
        assert_eq!(history(&paths), echoes(0..3, true));
        append(&dir.join("journal.1"), &(end(2) + &commands(3..5)));
        assert_eq!(history(&paths), echoes(0..5, false));
        append(&dir.join("journal.2"), &commands(5..6));
        assert_eq!(history(&paths), echoes(0..6, false));
    }

    #[test]
    fn a_truncated_or_replaced_journal_is_read_again_without_doubles() {
        let (_tmp, paths) = store();
        let journal = paths.shell_dir(ID).join("journal");
        append(&journal, &commands(0..4));
        assert_eq!(history(&paths), echoes(0..4, false));
        // Truncated: shorter than what was read.
        fs::write(&journal, commands(0..2)).unwrap();
        assert_eq!(history(&paths), echoes(0..2, false));
        // Replaced under the same name by a longer file with other bytes before the
        // offset (another inode, as an editor or a copy would leave it).
        let other = paths.shell_dir(ID).join("other");
        fs::write(&other, commands(10..15)).unwrap();
        fs::rename(&other, &journal).unwrap();
        assert_eq!(history(&paths), echoes(10..15, false));
    }

    #[test]
    fn the_same_bytes_rewritten_in_place_with_other_content_are_noticed() {
        let (_tmp, paths) = store();
        let journal = paths.shell_dir(ID).join("journal");
        append(&journal, &commands(0..3));
        assert_eq!(history(&paths), echoes(0..3, false));
        // Same inode, same length, other last bytes, then more.
        let text = commands(0..3).replace("echo 2", "echo 9");
        fs::write(&journal, &text).unwrap();
        append(&journal, &commands(3..4));
        let mut want = echoes(0..2, false);
        want.push(("echo 9".into(), Some(0)));
        want.extend(echoes(3..4, false));
        assert_eq!(history(&paths), want);
    }

    #[test]
    fn the_environment_carries_over_delta_records_across_reads() {
        let (_tmp, paths) = store();
        let journal = paths.shell_dir(ID).join("journal");
        append(&journal, "\x1eV\t1\tbash\ndeclare -x A=\"1\"\n");
        append(&journal, &commands(0..1));
        history(&paths);
        append(&journal, "\x1eV\t2\tbash+\ndeclare -x B=\"2\"\n");
        append(&journal, &commands(1..2));
        // The last record, still tentative, is the environment now all the same.
        append(&journal, "\x1eV\t3\tbash+\ndeclare -x C=\"3\"\n");
        history(&paths);
        let ix = Index::open(&paths).unwrap();
        let found = query::open_shells(&ix, &paths.shells(), None).unwrap();
        let pairs = |m: &BTreeMap<String, String>| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(pairs(&found[0].env_base), ["A=1"]);
        assert_eq!(pairs(&found[0].env_now), ["A=1", "B=2", "C=3"]);
    }

    #[test]
    fn snap_processes_ingesting_at_once_neither_lose_nor_double_a_command() {
        let (_tmp, paths) = store();
        let journal = paths.shell_dir(ID).join("journal");
        const READERS: usize = 4;
        const ROUNDS: usize = 20;
        // Each round the shell writes a command while every reader ingests.
        let round = std::sync::Arc::new(std::sync::Barrier::new(READERS + 1));
        drop(Index::open(&paths).unwrap());
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                let (paths, round) = (paths.clone(), round.clone());
                std::thread::spawn(move || {
                    for _ in 0..ROUNDS {
                        round.wait();
                        let mut ix = Index::open(&paths).unwrap();
                        ingest(&mut ix, &paths).unwrap();
                    }
                })
            })
            .collect();
        for i in 0..ROUNDS {
            round.wait();
            append(&journal, &commands(i..i + 1));
        }
        for r in readers {
            r.join().unwrap();
        }
        assert_eq!(history(&paths), echoes(0..ROUNDS, false));
    }

    fn exit(n: usize) -> String {
        format!("\x1eX\t{n}.9\texit\n")
    }

    /// The shell's journal files, by name.
    fn files(paths: &Paths) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(paths.shell_dir(ID))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("journal"))
            .collect();
        names.sort();
        names
    }

    fn compress(paths: &Paths) -> usize {
        let mut ix = Index::open(paths).unwrap();
        super::super::compress::compress(&mut ix).unwrap()
    }

    fn rebuilt(paths: &Paths) -> Vec<(String, Option<i32>)> {
        let mut ix = Index::open(paths).unwrap();
        reindex(&mut ix, paths).unwrap();
        history(paths)
    }

    #[test]
    fn a_live_shells_finished_segments_are_compressed_never_the_one_it_writes() {
        let (_tmp, paths) = store();
        let dir = paths.shell_dir(ID);
        append(&dir.join("journal"), &commands(0..2));
        append(&dir.join("journal.1"), &(commands(2..4) + &start(4)));
        assert_eq!(history(&paths), echoes(0..5, true));
        // Nothing is finished yet: the last segment is the one being written.
        assert_eq!(compress(&paths), 1);
        assert_eq!(files(&paths), ["journal.1", "journal.gz"]);
        append(&dir.join("journal.2"), &(end(4) + &commands(5..6)));
        assert_eq!(history(&paths), echoes(0..6, false));
        assert_eq!(compress(&paths), 1);
        assert_eq!(files(&paths), ["journal.1.gz", "journal.2", "journal.gz"]);
        append(&dir.join("journal.2"), &commands(6..7));
        assert_eq!(history(&paths), echoes(0..7, false));
        assert_eq!(compress(&paths), 0);
        assert_eq!(rebuilt(&paths), echoes(0..7, false));
    }

    #[test]
    fn an_ended_shell_is_compressed_once_read_and_rebuilt_from_it_whole() {
        let (_tmp, paths) = store();
        let dir = paths.shell_dir(ID);
        append(&dir.join("journal"), &commands(0..3));
        append(&dir.join("journal.1"), &(commands(3..5) + &exit(5)));
        // Not read yet: nothing is compressed.
        assert_eq!(compress(&paths), 0);
        assert_eq!(history(&paths), echoes(0..5, false));
        assert_eq!(compress(&paths), 2);
        assert_eq!(files(&paths), ["journal.1.gz", "journal.gz"]);
        assert_eq!(history(&paths), echoes(0..5, false));
        assert_eq!(rebuilt(&paths), echoes(0..5, false));
        // Compressed from the start (a rebuild): the same again.
        assert_eq!(compress(&paths), 0);
        assert_eq!(rebuilt(&paths), echoes(0..5, false));
    }

    /// Compress the shell's segments, then put back what a crash at `stage` left:
    /// 0, the plain file beside its `.gz` and the rows on the plain files; 1, the `.gz`
    /// alone and the rows on the plain files.
    fn crash_while_compressing(paths: &Paths, stage: usize) {
        let dir = paths.shell_dir(ID);
        let plain: Vec<(PathBuf, Vec<u8>)> = ["journal", "journal.1"]
            .iter()
            .map(|n| (dir.join(n), fs::read(dir.join(n)).unwrap()))
            .collect();
        let ix = Index::open(paths).unwrap();
        let rows: Vec<(String, i64)> = {
            let mut stmt = ix.conn.prepare("SELECT path, inode FROM segments").unwrap();
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
            rows.collect::<rusqlite::Result<_>>().unwrap()
        };
        drop(ix);
        assert_eq!(compress(paths), 2);
        let ix = Index::open(paths).unwrap();
        for (path, inode) in rows {
            ix.conn
                .execute(
                    "UPDATE segments SET path = ?1, inode = ?2 WHERE path = ?1 || '.gz'",
                    rusqlite::params![path, inode],
                )
                .unwrap();
        }
        if stage == 0 {
            // The same bytes, where they were: renamed back from a copy keeps no inode,
            // so the rows take the new ones.
            for (path, bytes) in &plain {
                fs::write(path, bytes).unwrap();
                ix.conn
                    .execute(
                        "UPDATE segments SET inode = ?2 WHERE path = ?1",
                        rusqlite::params![key(path), fs::metadata(path).unwrap().ino() as i64],
                    )
                    .unwrap();
            }
        }
    }

    #[test]
    fn a_crash_while_compressing_leaves_every_command_once_and_the_next_run_finishes() {
        for (stage, read_first) in [(0, true), (0, false), (1, true), (1, false)] {
            let case = format!("stage {stage}, read first {read_first}");
            let (_tmp, paths) = store();
            let dir = paths.shell_dir(ID);
            append(&dir.join("journal"), &commands(0..3));
            append(&dir.join("journal.1"), &commands(3..5));
            append(&dir.join("journal.2"), &commands(5..6));
            assert_eq!(history(&paths), echoes(0..6, false));
            crash_while_compressing(&paths, stage);
            if read_first {
                assert_eq!(history(&paths), echoes(0..6, false), "{case}");
            }
            compress(&paths);
            assert_eq!(
                files(&paths),
                ["journal.1.gz", "journal.2", "journal.gz"],
                "{case}"
            );
            assert_eq!(history(&paths), echoes(0..6, false), "{case}");
            // Then the shell ends: all of it compressed.
            append(&dir.join("journal.2"), &(commands(6..7) + &exit(7)));
            assert_eq!(history(&paths), echoes(0..7, false), "{case}");
            assert_eq!(compress(&paths), 1, "{case}");
            assert_eq!(
                files(&paths),
                ["journal.1.gz", "journal.2.gz", "journal.gz"],
                "{case}"
            );
            assert_eq!(history(&paths), echoes(0..7, false), "{case}");
            assert_eq!(rebuilt(&paths), echoes(0..7, false), "{case}");
        }
    }

    #[test]
    fn a_corrupt_compressed_segment_is_left_as_it_is_and_the_rest_rebuilt() {
        let (_tmp, paths) = store();
        let dir = paths.shell_dir(ID);
        append(&dir.join("journal"), &commands(0..2));
        append(&dir.join("journal.1"), &(commands(2..4) + &exit(4)));
        history(&paths);
        assert_eq!(compress(&paths), 2);
        let gz = dir.join("journal.gz");
        let mut bad = fs::read(&gz).unwrap();
        let n = bad.len();
        bad[n - 6] ^= 0xff; // its checksum
        fs::write(&gz, &bad).unwrap();
        assert_eq!(rebuilt(&paths), echoes(2..4, false));
        assert_eq!(fs::read(&gz).unwrap(), bad, "left as it is");
        // Said once: the next reads leave it alone.
        assert_eq!(history(&paths), echoes(2..4, false));
    }

    #[test]
    fn agent_commands_are_read_by_whole_lines_once() {
        let (_tmp, paths) = store();
        let dir = paths.data.join("agents/proj");
        fs::create_dir_all(&dir).unwrap();
        let line = |cmd: &str| {
            format!(
                "{{\"schema\":1,\"agent\":\"claude\",\"agent_session\":\"s1\",\"command\":\"{cmd}\",\"cwd\":\"/p\",\"time_us\":5,\"exit\":0}}\n"
            )
        };
        let journal = dir.join("journal.jsonl");
        append(&journal, &(line("cargo test") + &line("cargo b")[..20]));
        assert_eq!(history(&paths), [("cargo test".to_string(), Some(0))]);
        append(&journal, &line("cargo b")[20..]);
        let got = history(&paths);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].0, "cargo b");
    }
}
