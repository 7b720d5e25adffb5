//! The index's tables, versioned by SQLite's `user_version`.

use rusqlite::Connection;

/// The schema this build writes. An index of version 1 is brought up to it in place;
/// one of another version is rebuilt from the journals (it is a cache of them; nothing
/// is lost).
pub const VERSION: i64 = 2;

const TABLES: &str = "
CREATE TABLE shells (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    session TEXT NOT NULL,
    meta TEXT NOT NULL,
    -- The shell this one replaces in a restore.
    replaces TEXT,
    started_us INTEGER NOT NULL,
    ended TEXT,
    ended_us INTEGER,
    last_seen_us INTEGER NOT NULL,
    cwd TEXT NOT NULL,
    env_base TEXT,
    env_now TEXT,
    -- Ingestion's state after the last final byte (JSON).
    carry TEXT NOT NULL
);
CREATE INDEX shells_session ON shells(session);
-- Which shells ended, read at every ingestion without the rows' JSON.
CREATE INDEX shells_ended ON shells(id, ended);

-- One row per journal file read: how far, and what guards that offset.
CREATE TABLE segments (
    path TEXT PRIMARY KEY,
    shell TEXT NOT NULL,
    inode INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    -- The file's size when it was read (bytes past the offset are a record in progress).
    size INTEGER NOT NULL,
    tail BLOB NOT NULL
);
CREATE INDEX segments_shell ON segments(shell);

CREATE TABLE commands (
    id INTEGER PRIMARY KEY,
    -- Where the row comes from (a shell id, or `agents/<session>`) and its place there.
    src TEXT NOT NULL,
    pos INTEGER NOT NULL,
    shell TEXT NOT NULL,
    session TEXT NOT NULL,
    kind TEXT,
    source TEXT NOT NULL,
    agent TEXT,
    text TEXT NOT NULL,
    cwd TEXT NOT NULL,
    start_us INTEGER NOT NULL,
    end_us INTEGER,
    exit INTEGER,
    duration_ms INTEGER,
    error TEXT,
    UNIQUE (src, pos)
);
CREATE INDEX commands_start ON commands(start_us, id);
CREATE INDEX commands_session ON commands(session, start_us);
CREATE INDEX commands_shell ON commands(shell, start_us);

CREATE VIRTUAL TABLE commands_fts USING fts5(
    text, content = 'commands', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER commands_ai AFTER INSERT ON commands BEGIN
    INSERT INTO commands_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER commands_ad AFTER DELETE ON commands BEGIN
    INSERT INTO commands_fts(commands_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER commands_au AFTER UPDATE OF text ON commands BEGIN
    INSERT INTO commands_fts(commands_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO commands_fts(rowid, text) VALUES (new.id, new.text);
END;

-- What retention needs of each snapshot file, by name, length and mtime (JSON).
CREATE TABLE snapshots (
    file TEXT PRIMARY KEY,
    len INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    summary TEXT NOT NULL
);

-- Facts about the index itself, e.g. `migrated`: the snapshots' history was taken in.
CREATE TABLE facts (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// Version 1 to 2: what readers ask of shells without reading every row (see
/// `store::recorded`): the shells not known to have ended, a session's shells by when
/// they were last seen or started, who replaces whom, the sessions of each project,
/// the journal files still to compress.
const TO_2: &str = "
ALTER TABLE shells ADD COLUMN project_dir TEXT NOT NULL DEFAULT '';
-- The shell this one replaced by `exec` (same pid).
ALTER TABLE shells ADD COLUMN exec_from TEXT;
UPDATE shells SET project_dir = coalesce(json_extract(meta, '$.project_dir'), ''),
    exec_from = json_extract(meta, '$.exec_from');
-- The shells not known to have ended: few, whatever the store holds (queries name it
-- with INDEXED BY: without statistics SQLite would scan a whole index instead).
CREATE INDEX shells_open ON shells(session) WHERE ended IS NULL;
CREATE INDEX shells_seen ON shells(session, last_seen_us);
CREATE INDEX shells_replaces ON shells(replaces) WHERE replaces IS NOT NULL;
CREATE INDEX shells_restored ON shells(session, started_us) WHERE replaces IS NOT NULL;
CREATE INDEX shells_exec_from ON shells(exec_from) WHERE exec_from IS NOT NULL;
CREATE INDEX shells_project ON shells(project_dir, session, last_seen_us);
CREATE INDEX shells_started ON shells(session, started_us);
-- Journal files not compressed yet, for compression (named with INDEXED BY).
CREATE INDEX segments_plain ON segments(shell) WHERE path NOT LIKE '%.gz';
-- Shells that did not exit on purpose, for the new-shell notice.
CREATE INDEX shells_unexited ON shells(session, started_us)
    WHERE ended IS NULL OR ended != 'exit';
PRAGMA user_version = 2;
";

/// Create the tables in an empty database, or bring one of version 1 up to this one;
/// else the version found when it is neither (None when all is well).
pub fn ensure(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    let version = || conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0));
    if version()? == VERSION {
        return Ok(None);
    }
    // Under the write lock, so two processes never both create the tables.
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let found = version()?;
    let objects: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
    let result = if found == VERSION {
        Ok(None)
    } else if objects == 0 {
        conn.execute_batch(&format!("{TABLES} {TO_2}"))
            .map(|()| None)
    } else if found == 1 {
        conn.execute_batch(TO_2).map(|()| None)
    } else {
        Ok(Some(found))
    };
    match result {
        Ok(v) => {
            conn.execute_batch("COMMIT")?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_of_version_1_is_brought_up_to_this_one_in_place_its_rows_kept() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&format!("{TABLES} PRAGMA user_version = 1;"))
            .unwrap();
        let meta = r#"{"project_dir": "/p/proj", "exec_from": "a-1-x"}"#;
        conn.execute(
            "INSERT INTO shells (id, kind, session, meta, started_us, last_seen_us, cwd, carry)
             VALUES ('b-2-y', 'bash', 's', ?1, 1, 2, '/p', '{}')",
            [meta],
        )
        .unwrap();
        assert_eq!(ensure(&conn).unwrap(), None);
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, VERSION);
        let (project, exec_from): (String, Option<String>) = conn
            .query_row("SELECT project_dir, exec_from FROM shells", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(
            (project.as_str(), exec_from.as_deref()),
            ("/p/proj", Some("a-1-x"))
        );
        // Once is enough; another version is no index of ours.
        assert_eq!(ensure(&conn).unwrap(), None);
        conn.execute_batch("PRAGMA user_version = 7").unwrap();
        assert_eq!(ensure(&conn).unwrap(), Some(7));
    }
}
