//! What readers ask of the index: commands matching a filter, and shells.

use super::Index;
use crate::model::{CommandRecord, Ended, Ending, ShellMeta};
use crate::store::journal::Origin;
use crate::store::shells::{Command, ShellState};
use crate::timefmt;
use anyhow::Result;
use rusqlite::types::Value;
use rusqlite::{params_from_iter, OptionalExtension};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

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

/// The commands matching `f`, oldest first.
pub fn history(ix: &Index, f: &Filter) -> Result<Vec<CommandRecord>> {
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
        "SELECT shell, session, source, agent, text, cwd, start_us, exit, duration_ms, error
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
        Ok(CommandRecord {
            shell_id: r.get(0)?,
            session: r.get(1)?,
            source: r.get(2)?,
            agent: r.get(3)?,
            command: r.get(4)?,
            cwd: r.get(5)?,
            started_at: timefmt::rfc3339_us(r.get(6)?),
            exit: r.get(7)?,
            duration_ms: r.get(8)?,
            error: r.get(9)?,
        })
    })?;
    let mut out: Vec<CommandRecord> = rows.collect::<rusqlite::Result<_>>()?;
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
    let mut stmt = ix.conn.prepare(
        "SELECT session, max(started_us) FROM shells WHERE replaces IS NOT NULL GROUP BY session",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Shells seen since `since_us` or not known to have ended (every shell with None),
/// and the shells they replace, generation after generation (their baselines count);
/// oldest first, before liveness (see `shells::settle`).
pub fn shells(
    ix: &Index,
    root: &std::path::Path,
    since_us: Option<i64>,
) -> Result<Vec<ShellState>> {
    const COLUMNS: &str = "id, meta, ended, ended_us, last_seen_us, cwd, env_base, env_now";
    let mut out = Vec::new();
    {
        let mut stmt = ix.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM shells
             WHERE ?1 IS NULL OR ended IS NULL OR last_seen_us >= ?1 OR ended_us >= ?1"
        ))?;
        let rows = stmt.query_map([since_us], row_state)?;
        for r in rows {
            out.extend(r?);
        }
    }
    let mut have: HashSet<String> = out.iter().map(|s| s.meta.id.clone()).collect();
    let mut wanted: Vec<String> = out
        .iter()
        .filter_map(|s| s.meta.replaces.clone())
        .filter(|r| !have.contains(r))
        .collect();
    let mut stmt = ix
        .conn
        .prepare(&format!("SELECT {COLUMNS} FROM shells WHERE id = ?1"))?;
    while let Some(id) = wanted.pop() {
        if !have.insert(id.clone()) {
            continue;
        }
        if let Some(Some(s)) = stmt.query_row([&id], row_state).optional()? {
            wanted.extend(s.meta.replaces.clone());
            out.push(s);
        }
    }
    drop(stmt);
    // The command still open in each shell, for `running`.
    let mut open = ix.conn.prepare_cached(
        "SELECT text, cwd, start_us, source FROM commands WHERE src = ?1 AND end_us IS NULL
         AND pos = (SELECT max(pos) FROM commands WHERE src = ?1)",
    )?;
    for s in out.iter_mut().filter(|s| s.ended.is_none()) {
        let cmd = open
            .query_row([&s.meta.id], |r| {
                Ok(Command {
                    text: r.get(0)?,
                    cwd: r.get(1)?,
                    started_us: r.get(2)?,
                    end: None,
                    origin: Origin::of_source(&r.get::<_, String>(3)?),
                })
            })
            .optional()?;
        s.commands.extend(cmd);
    }
    for s in &mut out {
        s.dir = root.join(&s.meta.id);
    }
    out.sort_by(|a, b| {
        a.meta
            .started_at
            .cmp(&b.meta.started_at)
            .then(a.meta.id.cmp(&b.meta.id))
    });
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
