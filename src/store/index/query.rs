//! What readers ask of the index: commands matching a filter, and shells.

use super::Index;
use crate::model::{CommandRecord, Ended, Ending, ShellMeta};
use crate::store::journal::Origin;
use crate::store::shells::{Command, CommandEnd, ShellState};
use crate::timefmt;
use anyhow::Result;
use rusqlite::types::Value;
use rusqlite::{params_from_iter, OptionalExtension};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Who ran a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A prompt hook saw it.
    Shell,
    /// A coding agent's hook reported it.
    Agent,
    /// Restore ran the line itself.
    Restore,
}

impl Source {
    /// The word in the index and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Shell => "shell",
            Source::Agent => "agent",
            Source::Restore => "restore",
        }
    }
}

/// Which commands to return. Every field narrows; empty means everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub session: Option<String>,
    pub shell: Option<String>,
    /// Words that must each appear in the command (case-insensitive), in any order.
    pub words: Vec<String>,
    /// This directory and below.
    pub cwd: Option<String>,
    /// Failed: exit neither 0 nor null, nor a stopped job.
    pub failed: bool,
    pub exit: Option<i32>,
    pub since_us: Option<i64>,
    pub source: Option<Source>,
    /// The newest N (returned oldest first all the same).
    pub limit: Option<usize>,
}

/// `text` as a LIKE pattern matching it anywhere, `\` escaping.
fn like_anywhere(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// An FTS5 query of plain strings, one per word: never query syntax.
fn fts_strings(words: &[&String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A command as [`timed_history`] returns it: with when it started and ended (µs).
#[derive(Debug, Clone, PartialEq)]
pub struct Timed {
    pub started_us: i64,
    /// Null while running.
    pub ended_us: Option<i64>,
    pub record: CommandRecord,
}

/// The commands matching `f`, oldest first.
pub fn history(ix: &Index, f: &Filter) -> Result<Vec<CommandRecord>> {
    Ok(timed_history(ix, f)?
        .into_iter()
        .map(|t| t.record)
        .collect())
}

/// [`history`], each command with its times to the microsecond.
pub fn timed_history(ix: &Index, f: &Filter) -> Result<Vec<Timed>> {
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    let arg = |v: Value, args: &mut Vec<Value>| {
        args.push(v);
        format!("?{}", args.len())
    };
    if let Some(s) = &f.session {
        let a = arg(Value::Text(s.clone()), &mut args);
        clauses.push(format!("session = {a}"));
    }
    if let Some(s) = &f.shell {
        let a = arg(Value::Text(s.clone()), &mut args);
        clauses.push(format!("shell = {a}"));
    }
    // Trigrams need three characters; shorter words are matched with LIKE.
    let (long, short): (Vec<&String>, Vec<&String>) =
        f.words.iter().partition(|w| w.chars().count() >= 3);
    if !long.is_empty() {
        let a = arg(Value::Text(fts_strings(&long)), &mut args);
        clauses.push(format!(
            "id IN (SELECT rowid FROM commands_fts WHERE commands_fts MATCH {a})"
        ));
    }
    for w in short {
        let a = arg(Value::Text(like_anywhere(w)), &mut args);
        clauses.push(format!("text LIKE {a} ESCAPE '\\'"));
    }
    if let Some(dir) = &f.cwd {
        let dir = dir.trim_end_matches('/');
        let a = arg(Value::Text(dir.to_string()), &mut args);
        let b = arg(
            Value::Text(format!("{}/%", like_anywhere(dir).trim_matches('%'))),
            &mut args,
        );
        clauses.push(format!("(cwd = {a} OR cwd LIKE {b} ESCAPE '\\')"));
    }
    if f.failed {
        let stopped = Ending::STOPPED.map(|s| s.to_string()).join(", ");
        clauses.push(format!(
            "(exit IS NOT NULL AND exit != 0 AND exit NOT IN ({stopped}))"
        ));
    }
    if let Some(e) = f.exit {
        let a = arg(Value::Integer(e.into()), &mut args);
        clauses.push(format!("exit = {a}"));
    }
    if let Some(t) = f.since_us {
        let a = arg(Value::Integer(t), &mut args);
        clauses.push(format!("start_us >= {a}"));
    }
    if let Some(s) = f.source {
        let a = arg(Value::Text(s.as_str().into()), &mut args);
        clauses.push(format!("source = {a}"));
    }
    let mut sql = String::from(
        "SELECT shell, session, source, agent, text, cwd, start_us, exit, duration_ms, error,
            end_us
         FROM commands",
    );
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    match f.limit {
        Some(n) => sql.push_str(&format!(" ORDER BY start_us DESC, id DESC LIMIT {n}")),
        None => sql.push_str(" ORDER BY start_us, id"),
    }
    let mut stmt = ix.conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        let started_us = r.get(6)?;
        let record = CommandRecord {
            shell_id: r.get(0)?,
            session: r.get(1)?,
            source: r.get(2)?,
            agent: r.get(3)?,
            command: r.get(4)?,
            cwd: r.get(5)?,
            started_at: timefmt::rfc3339_us(started_us),
            exit: r.get(7)?,
            duration_ms: r.get(8)?,
            error: r.get(9)?,
        };
        // An agent's command is reported once done: it ended when it started.
        let ended_us = r.get::<_, Option<i64>>(10)?;
        let ended_us = ended_us.or((record.source == "agent").then_some(started_us));
        Ok(Timed {
            started_us,
            ended_us,
            record,
        })
    })?;
    let mut out: Vec<Timed> = rows.collect::<rusqlite::Result<_>>()?;
    if f.limit.is_some() {
        out.reverse();
    }
    Ok(out)
}

/// The session of a recorded shell.
pub fn session_of(ix: &Index, shell: &str) -> Result<Option<String>> {
    Ok(ix
        .conn
        .query_row("SELECT session FROM shells WHERE id = ?1", [shell], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Each session's last restore: when the newest shell that replaces another started.
pub fn last_restores(ix: &Index) -> Result<BTreeMap<String, i64>> {
    let mut stmt = ix.conn.prepare_cached(
        "SELECT session, max(started_us) FROM shells INDEXED BY shells_restored
         WHERE replaces IS NOT NULL GROUP BY session",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The columns [`row_state`] reads.
const COLUMNS: &str = "id, meta, ended, ended_us, last_seen_us, cwd, env_base, env_now";

/// Rows as shells (before liveness and cross-shell facts, see `shells::settle`), each
/// with its directory under `root` and no commands.
fn shell_rows(
    ix: &Index,
    root: &Path,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<ShellState>> {
    let mut stmt = ix.conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, row_state)?;
    let mut out = Vec::new();
    for r in rows {
        if let Some(mut s) = r? {
            s.dir = root.join(&s.meta.id);
            out.push(s);
        }
    }
    Ok(out)
}

/// The shells not known to have ended (live, or gone without a word), of `session` or
/// of every session.
pub fn open_shells(ix: &Index, root: &Path, session: Option<&str>) -> Result<Vec<ShellState>> {
    shell_rows(
        ix,
        root,
        &format!(
            "SELECT {COLUMNS} FROM shells INDEXED BY shells_open
             WHERE ended IS NULL AND (?1 IS NULL OR session = ?1)"
        ),
        [session],
    )
}

/// The shells of `session` that ended, last seen at or after `since_us`.
pub fn ended_shells(
    ix: &Index,
    root: &Path,
    session: &str,
    since_us: i64,
) -> Result<Vec<ShellState>> {
    shell_rows(
        ix,
        root,
        &format!(
            "SELECT {COLUMNS} FROM shells
             WHERE session = ?1 AND last_seen_us >= ?2 AND ended IS NOT NULL"
        ),
        rusqlite::params![session, since_us],
    )
}

/// The shell with this id, when recorded.
pub fn shell(ix: &Index, root: &Path, id: &str) -> Result<Option<ShellState>> {
    Ok(shell_rows(
        ix,
        root,
        &format!("SELECT {COLUMNS} FROM shells WHERE id = ?1"),
        [id],
    )?
    .pop())
}

/// The shells that ended and were last seen before `before_us`.
pub fn ended_before(ix: &Index, root: &Path, before_us: i64) -> Result<Vec<ShellState>> {
    shell_rows(
        ix,
        root,
        &format!(
            "SELECT {COLUMNS} FROM (SELECT DISTINCT session FROM shells) n
             JOIN shells s ON s.session = n.session AND s.last_seen_us < ?1
             WHERE s.ended IS NOT NULL"
        ),
        [before_us],
    )
}

/// Per session, its newest shell started at or after `since_us`, other than `me`, that
/// did not exit on purpose and that no shell replaces (by `exec` or a restore): what
/// may leave a session waiting to be restored (see `notice`).
pub fn unexited(ix: &Index, root: &Path, since_us: i64, me: &str) -> Result<Vec<ShellState>> {
    let mut out = Vec::new();
    for name in session_names(ix)? {
        out.extend(shell_rows(
            ix,
            root,
            &format!(
                "SELECT {COLUMNS} FROM shells s
                 WHERE s.session = ?1 AND s.started_us >= ?2 AND s.id != ?3
                 AND (ended IS NULL OR ended != 'exit')
                 AND NOT EXISTS (SELECT 1 FROM shells r WHERE r.replaces = s.id)
                 AND NOT EXISTS (SELECT 1 FROM shells r WHERE r.exec_from = s.id)
                 ORDER BY s.started_us DESC LIMIT 1"
            ),
            rusqlite::params![name, since_us, me],
        )?);
    }
    Ok(out)
}

/// Did a shell of `session` start after `after_us`?
pub fn started_after(ix: &Index, session: &str, after_us: i64) -> Result<bool> {
    let found: Option<i64> = ix
        .conn
        .prepare_cached("SELECT 1 FROM shells WHERE session = ?1 AND started_us > ?2 LIMIT 1")?
        .query_row(rusqlite::params![session, after_us], |r| r.get(0))
        .optional()?;
    Ok(found.is_some())
}

/// Every session recorded, each once, in order: one index seek per session (a
/// recursive skip over `shells_session`), not a pass over every shell.
pub fn session_names(ix: &Index) -> Result<Vec<String>> {
    let mut stmt = ix.conn.prepare_cached(
        "WITH RECURSIVE n(session) AS (
            SELECT min(session) FROM shells
            UNION ALL
            SELECT (SELECT min(session) FROM shells WHERE session > n.session) FROM n
            WHERE n.session IS NOT NULL
         )
         SELECT session FROM n WHERE session IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// When the most recently seen shell of `session` was last seen (µs); None for a
/// session with no shell recorded.
pub fn last_seen(ix: &Index, session: &str) -> Result<Option<i64>> {
    Ok(ix
        .conn
        .prepare_cached("SELECT max(last_seen_us) FROM shells WHERE session = ?1")?
        .query_row([session], |r| r.get(0))?)
}

/// Each session, and when its most recently seen shell was last seen (µs).
pub fn last_seen_by_session(ix: &Index) -> Result<BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    for name in session_names(ix)? {
        if let Some(t) = last_seen(ix, &name)? {
            out.insert(name, t);
        }
    }
    Ok(out)
}

/// A project directory and a session whose shells started there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub dir: String,
    pub session: String,
    /// When the last of those shells was last seen (µs).
    pub last_seen_us: i64,
}

/// Each project directory and session recorded there: one index seek per pair (a
/// recursive skip over `shells_project`).
pub fn projects(ix: &Index) -> Result<Vec<Project>> {
    let mut stmt = ix.conn.prepare_cached(
        "WITH RECURSIVE p(dir, session) AS (
            SELECT * FROM (SELECT project_dir, session FROM shells
                ORDER BY project_dir, session LIMIT 1)
            UNION ALL
            SELECT (SELECT project_dir FROM shells WHERE (project_dir, session) > (p.dir, p.session)
                    ORDER BY project_dir, session LIMIT 1),
                   (SELECT session FROM shells WHERE (project_dir, session) > (p.dir, p.session)
                    ORDER BY project_dir, session LIMIT 1)
            FROM p WHERE p.dir IS NOT NULL
         )
         SELECT dir, session,
            (SELECT max(last_seen_us) FROM shells WHERE project_dir = p.dir AND session = p.session)
         FROM p WHERE dir IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Project {
            dir: r.get(0)?,
            session: r.get(1)?,
            last_seen_us: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The project directory of the first shell of `session` (by start) for which `wanted`
/// holds; read in that order, up to the first that does.
pub fn first_project(
    ix: &Index,
    session: &str,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<Option<String>> {
    let mut stmt = ix.conn.prepare_cached(
        "SELECT project_dir FROM shells WHERE session = ?1 ORDER BY started_us, id",
    )?;
    let mut rows = stmt.query([session])?;
    while let Some(r) = rows.next()? {
        let dir: String = r.get(0)?;
        if wanted(&dir) {
            return Ok(Some(dir));
        }
    }
    Ok(None)
}

/// The environments (baseline, latest) of the shells with these ids.
pub fn envs(ix: &Index, ids: &[&str]) -> Result<Vec<BTreeMap<String, String>>> {
    let mut stmt = ix
        .conn
        .prepare_cached("SELECT env_base, env_now FROM shells WHERE id = ?1")?;
    let mut out = Vec::new();
    for id in ids {
        let found: Option<(Option<String>, Option<String>)> = stmt
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        for text in found.into_iter().flat_map(|(a, b)| [a, b]).flatten() {
            out.extend(serde_json::from_str(&text).ok());
        }
    }
    Ok(out)
}

/// A shell's commands, oldest first: the newest `tail` of them, or every one (None).
pub fn commands(ix: &Index, shell: &str, tail: Option<usize>) -> Result<Vec<Command>> {
    let limit = tail.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
    let mut stmt = ix.conn.prepare_cached(
        "SELECT text, cwd, start_us, end_us, exit, duration_ms, source FROM commands
         WHERE src = ?1 ORDER BY pos DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(rusqlite::params![shell, limit], |r| {
        let end_us: Option<i64> = r.get(3)?;
        let exit: Option<i32> = r.get(4)?;
        Ok(Command {
            text: r.get(0)?,
            cwd: r.get(1)?,
            started_us: r.get(2)?,
            end: end_us.zip(exit).map(|(time_us, status)| CommandEnd {
                status,
                duration_ms: r.get(5).ok().flatten(),
                time_us,
            }),
            origin: Origin::of_source(&r.get::<_, String>(6)?),
        })
    })?;
    let mut out: Vec<Command> = rows.collect::<rusqlite::Result<_>>()?;
    out.reverse();
    Ok(out)
}

/// A shell row as state (None when its meta does not parse).
fn row_state(r: &rusqlite::Row) -> rusqlite::Result<Option<ShellState>> {
    let meta: String = r.get(1)?;
    let Ok(meta) = serde_json::from_str::<ShellMeta>(&meta) else {
        return Ok(None);
    };
    let env = |i: usize| -> rusqlite::Result<BTreeMap<String, String>> {
        let text: Option<String> = r.get(i)?;
        Ok(text
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default())
    };
    let ended: Option<String> = r.get(2)?;
    Ok(Some(ShellState {
        dir: PathBuf::new(),
        commands: Vec::new(),
        env_base: env(6)?,
        env_now: env(7)?,
        ended: ended.as_deref().and_then(Ended::of),
        ended_us: r.get(3)?,
        last_seen_us: r.get(4)?,
        cwd: r.get(5)?,
        alive: false,
        meta,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::index::ingest;
    use crate::store::paths::Paths;
    use std::fs;

    /// A store with one shell that ran these (command, cwd, exit) lines.
    fn indexed(lines: &[(&str, &str, i32)]) -> (tempfile::TempDir, Index) {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths {
            data: tmp.path().join("data"),
            state: tmp.path().join("state"),
            config_file: tmp.path().join("c.toml"),
        };
        let id = "1764000000000000-1-abcd";
        let dir = paths.shell_dir(id);
        fs::create_dir_all(&dir).unwrap();
        let meta = crate::store::shells::test_meta(id, 999_999_999, "2026-11-25T00:00:00Z", "p");
        fs::write(dir.join("meta"), serde_json::to_vec(&meta).unwrap()).unwrap();
        let mut journal = String::new();
        for (i, (cmd, cwd, exit)) in lines.iter().enumerate() {
            journal.push_str(&format!(
                "\x1eS\t{i}.5\t{cwd}\tt\n{cmd}\n\x1eE\t{i}.75\t{exit}\t-\t{cwd}\n"
            ));
        }
        fs::write(dir.join("journal"), journal).unwrap();
        let mut ix = Index::open(&paths).unwrap();
        ingest::ingest(&mut ix, &paths).unwrap();
        (tmp, ix)
    }

    fn texts(ix: &Index, f: Filter) -> Vec<String> {
        history(ix, &f)
            .unwrap()
            .into_iter()
            .map(|r| r.command)
            .collect()
    }

    #[test]
    fn search_words_are_plain_case_insensitive_substrings_in_any_order() {
        let (_t, ix) = indexed(&[
            ("cargo test --release", "/p", 0),
            ("git commit -m \"fix OR break\"", "/p", 0),
            ("ls -la", "/p", 0),
            ("Cargo Build", "/p", 0),
        ]);
        let words = |w: &[&str]| Filter {
            words: w.iter().map(|s| s.to_string()).collect(),
            ..Filter::default()
        };
        assert_eq!(
            texts(&ix, words(&["CARGO"])),
            ["cargo test --release", "Cargo Build"]
        );
        assert_eq!(
            texts(&ix, words(&["release", "test"])),
            ["cargo test --release"]
        );
        assert_eq!(
            texts(&ix, words(&["OR"])),
            ["git commit -m \"fix OR break\""]
        );
        assert_eq!(
            texts(&ix, words(&["\"fix"])),
            ["git commit -m \"fix OR break\""]
        );
        assert_eq!(texts(&ix, words(&["-la"])), ["ls -la"]);
        assert_eq!(texts(&ix, words(&["--"])), ["cargo test --release"]);
        assert_eq!(texts(&ix, words(&["%"])), Vec::<String>::new());
        assert_eq!(texts(&ix, words(&["NOT", "x"])), Vec::<String>::new());
    }

    #[test]
    fn failed_leaves_out_stopped_jobs_and_cwd_takes_the_directory_and_below() {
        let (_t, ix) = indexed(&[
            ("false", "/p", 1),
            ("vim", "/p/sub", 148),
            ("make", "/p/sub/deeper", 2),
            ("ok", "/pp", 0),
        ]);
        let failed = Filter {
            failed: true,
            ..Filter::default()
        };
        assert_eq!(texts(&ix, failed), ["false", "make"]);
        let below = Filter {
            cwd: Some("/p/sub/".into()),
            ..Filter::default()
        };
        assert_eq!(texts(&ix, below), ["vim", "make"]);
        let p = Filter {
            cwd: Some("/p".into()),
            ..Filter::default()
        };
        assert_eq!(texts(&ix, p), ["false", "vim", "make"]);
        let exit = Filter {
            exit: Some(148),
            ..Filter::default()
        };
        assert_eq!(texts(&ix, exit), ["vim"]);
        let last = Filter {
            limit: Some(2),
            ..Filter::default()
        };
        assert_eq!(texts(&ix, last), ["make", "ok"]);
    }
}
