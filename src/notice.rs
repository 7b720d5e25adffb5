//! The one-line notice a new interactive shell shows when a session is waiting to be
//! restored (shells that did not end on purpose, none alive): at most once per session
//! and boot, before the first prompt, never at a prompt; `notice = false` silences it.
//! Cheap on purpose: the index (never waited for), else metas and the tail of each last
//! journal segment; one liveness check.

use crate::config::Config;
use crate::model::{Ended, ShellMeta};
use crate::store::forgotten::{self, Forgotten};
use crate::store::index::{self, query};
use crate::store::journal;
use crate::store::paths::{ensure_private_dir, Paths};
use crate::store::shells::{self, ShellState};
use crate::timefmt;
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::Write;

/// Shells quiet for longer than this are not worth a notice.
const MAX_AGE_US: i64 = 7 * 24 * 3600 * 1_000_000;

/// One shell, as far as the notice needs to know it.
#[derive(Debug, Clone)]
pub struct Brief {
    pub meta: ShellMeta,
    /// Its journal's last record says `exit`.
    pub exited: bool,
    /// Its journal says it ended (`exit` or `hangup`), whatever its pid says.
    pub ended: bool,
}

/// Sessions waiting to be restored (pure): a shell that did not end on purpose (no
/// `exit`, not replaced by `exec` or a restore), none alive. `me` is the new shell.
pub fn waiting(all: &[Brief], alive: &HashSet<String>, me: &str, now_us: i64) -> Vec<String> {
    let replaced: HashSet<&str> = all
        .iter()
        .flat_map(|b| [b.meta.exec_from.as_deref(), b.meta.replaces.as_deref()])
        .flatten()
        .collect();
    let mut sessions: BTreeMap<&str, (bool, bool)> = BTreeMap::new(); // (any lost, any alive)
    for b in all.iter().filter(|b| b.meta.id != me) {
        let entry = sessions.entry(b.meta.session.as_str()).or_default();
        if alive.contains(&b.meta.id) {
            entry.1 = true;
            continue;
        }
        if recent(&b.meta, now_us) && !b.exited && !replaced.contains(b.meta.id.as_str()) {
            entry.0 = true;
        }
    }
    sessions
        .into_iter()
        .filter(|(_, (lost, alive))| *lost && !alive)
        .map(|(n, _)| n.to_string())
        .collect()
}

/// Did the shell start recently enough to be worth a notice?
fn recent(meta: &ShellMeta, now_us: i64) -> bool {
    timefmt::parse_us(&meta.started_at).is_some_and(|t| now_us - t < MAX_AGE_US)
}

/// Say so on the terminal, once per session and boot, asking `index` (the one the new
/// shell's start brought up to date; without it, the journals). Never fails loudly.
pub fn maybe_show(paths: &Paths, me: &str, index: Option<index::Index>) {
    let Ok(cfg) = Config::load(&paths.config_in_force()) else {
        return;
    };
    if !cfg.notice {
        return;
    }
    let Ok(mut tty) = fs::OpenOptions::new().write(true).open("/dev/tty") else {
        return;
    };
    let now = timefmt::now_us();
    let forgotten = forgotten::forgotten(paths);
    let mut names = index
        .and_then(|ix| from_index(&ix, paths, me, now, &forgotten))
        .unwrap_or_else(|| from_journals(paths, me, now, &forgotten));
    if names.is_empty() {
        return;
    }
    let seen_file = paths.state.join("notices").join(boot_id());
    let seen: HashSet<String> = fs::read_to_string(&seen_file)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect();
    names.retain(|n| !seen.contains(n));
    if names.is_empty() {
        return;
    }
    for n in &names {
        let line = format!(
            "snap: session {n} is waiting to be restored: snap restore {}",
            crate::text::posix_word(n)
        );
        let _ = writeln!(tty, "{}", crate::text::safe(&line));
    }
    if let Some(dir) = seen_file.parent() {
        if ensure_private_dir(&paths.state).is_ok() && ensure_private_dir(dir).is_ok() {
            let mut text: Vec<String> = seen.into_iter().collect();
            text.extend(names);
            let _ =
                crate::store::atomic::write_atomic(&seen_file, (text.join("\n") + "\n").as_bytes());
        }
    }
}

/// This boot's id (Linux), so the notice comes again after a reboot.
fn boot_id() -> String {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| {
            s.trim()
                .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "")
        })
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "boot".into())
}

/// [`waiting`] among these shells (liveness checked now), but for sessions all of
/// whose shells were started before `snap forget` (`remembered` says a session has one
/// started since).
fn decide(all: &[Brief], me: &str, now_us: i64, remembered: impl Fn(&str) -> bool) -> Vec<String> {
    let pairs: Vec<(u32, Option<u64>)> = all
        .iter()
        .map(|b| (b.meta.pid, b.meta.pid_started))
        .collect();
    let live = crate::liveness::alive_now(&pairs);
    let alive: HashSet<String> = all
        .iter()
        .filter(|b| !b.ended && live.contains(&(b.meta.pid, b.meta.pid_started)))
        .map(|b| b.meta.id.clone())
        .collect();
    let mut names = waiting(all, &alive, me, now_us);
    names.retain(|n| remembered(n));
    names
}

/// The waiting sessions as the index knows them: the
/// shells not known to have ended, and per session the newest one that may be lost
/// (what decides), however many shells the store holds.
fn from_index(
    ix: &index::Index,
    paths: &Paths,
    me: &str,
    now_us: i64,
    forgotten: &Forgotten,
) -> Option<Vec<String>> {
    let root = paths.shells();
    let brief = |s: ShellState| Brief {
        exited: s.ended == Some(Ended::Exit),
        ended: s.ended.is_some(),
        meta: s.meta,
    };
    let mut all: Vec<Brief> = query::open_shells(ix, &root, None)
        .ok()?
        .into_iter()
        .map(brief)
        .collect();
    let unexited = query::unexited(ix, &root, now_us - MAX_AGE_US, me).ok()?;
    all.extend(unexited.into_iter().map(brief));
    let remembered = |n: &str| {
        forgotten
            .get(n)
            .is_none_or(|&at| query::started_after(ix, n, at).unwrap_or(true))
    };
    Some(decide(&all, me, now_us, remembered))
}

/// The waiting sessions as every shell's meta and journal say.
fn from_journals(paths: &Paths, me: &str, now_us: i64, forgotten: &Forgotten) -> Vec<String> {
    let all = briefs(paths, now_us);
    let remembered = |n: &str| {
        !all.iter()
            .filter(|b| b.meta.session == n)
            .all(|b| forgotten::is_forgotten(forgotten, n, &b.meta.started_at))
    };
    decide(&all, me, now_us, remembered)
}

/// Every shell's meta and how its journal says it ended.
fn briefs(paths: &Paths, now_us: i64) -> Vec<Brief> {
    let Ok(entries) = fs::read_dir(paths.shells()) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let dir = e.path();
            let meta = shells::read_meta_quiet(&dir)?;
            let how = match journal::segments(&dir).pop() {
                // Compressed only once its shell ended (see `index::compress`); how
                // matters to a recent one only, and costs a decompression.
                Some(seg) if journal::is_compressed(&seg) && !recent(&meta, now_us) => {
                    Some(Ended::Hangup)
                }
                Some(seg) => journal::last_exit(&seg, meta.token.as_deref()),
                None => None,
            };
            Some(Brief {
                meta,
                exited: how == Some(Ended::Exit),
                ended: how.is_some(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(id: &str, session: &str, exited: bool) -> Brief {
        let mut meta: ShellMeta = serde_json::from_value(serde_json::json!({
            "schema": 1, "id": id, "kind": "bash", "pid": 1, "tty": null,
            "started_at": "2026-11-25T00:00:00Z", "session": session, "start_dir": "/",
            "project_dir": "/", "host": "h", "tmux": null
        }))
        .unwrap();
        meta.pid = 1;
        Brief {
            meta,
            exited,
            ended: exited,
        }
    }

    #[test]
    fn a_session_with_a_lost_shell_and_none_alive_is_waiting() {
        let now = timefmt::parse_us("2026-11-25T01:00:00Z").unwrap();
        let all = vec![
            b("a", "lost", false),
            b("b", "closed", true),
            b("c", "busy", false),
            b("d", "busy", false),
            b("me", "lost", false),
        ];
        let alive: HashSet<String> = ["d".to_string(), "me".to_string()].into_iter().collect();
        assert_eq!(waiting(&all, &alive, "me", now), vec!["lost"]);
    }

    #[test]
    fn the_journals_last_exit_record_is_found_in_either_format_and_compressed() {
        use std::io::Write;
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths {
            data: tmp.path().join("data"),
            state: tmp.path().join("state"),
            config_file: tmp.path().join("config.toml"),
        };
        let token = "0123456789abcdef0123456789abcdef";
        let v2 = |how: &str| format!("\x1e{token}S\t1\t/\tt\tshell\nls\n\x1e{token}X\t2\t{how}\n");
        let shells = [
            // Its meta has a token, but an older hook file wrote format 1.
            (
                "format1",
                "\x1eS\t1\t/\tt\nls\n\x1eX\t2\texit\n".to_string(),
                false,
            ),
            ("format2", v2("exit"), false),
            ("hungup", v2("hangup"), false),
            ("gzipped", v2("exit"), true),
        ];
        for (id, text, gz) in &shells {
            let dir = paths.shell_dir(id);
            fs::create_dir_all(&dir).unwrap();
            let mut meta = shells::test_meta(id, 1, "2026-11-25T00:00:00Z", id);
            meta.token = Some(token.into());
            fs::write(dir.join("meta"), serde_json::to_vec(&meta).unwrap()).unwrap();
            if *gz {
                let mut z = flate2::write::GzEncoder::new(Vec::new(), Default::default());
                z.write_all(text.as_bytes()).unwrap();
                fs::write(dir.join("journal.gz"), z.finish().unwrap()).unwrap();
            } else {
                fs::write(dir.join("journal"), text).unwrap();
            }
        }
        let now = timefmt::parse_us("2026-11-25T01:00:00Z").unwrap();
        let mut got: Vec<(String, bool, bool)> = briefs(&paths, now)
            .into_iter()
            .map(|b| (b.meta.id, b.ended, b.exited))
            .collect();
        got.sort();
        let want = [
            ("format1", true, true),
            ("format2", true, true),
            ("gzipped", true, true),
            ("hungup", true, false),
        ]
        .map(|(id, ended, exited)| (id.to_string(), ended, exited));
        assert_eq!(got, want);
    }

    #[test]
    fn replaced_shells_are_not_lost() {
        let now = timefmt::parse_us("2026-11-25T01:00:00Z").unwrap();
        let mut r = b("r", "s", true);
        r.meta.replaces = Some("a".into());
        let all = vec![b("a", "s", false), r];
        assert!(waiting(&all, &HashSet::new(), "me", now).is_empty());
    }
}
