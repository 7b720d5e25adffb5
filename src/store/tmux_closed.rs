//! The notes tmux keeps of panes closed while their server ran (through the hook
//! `capture::tmux` sets on the servers it captures): the file, reading it, keeping it small.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The file tmux appends its notes to, one line per event:
/// `<time, ns since the epoch>\t<server socket>\t<server start, s>\t<every pane of the
/// server still open, space-separated>`.
pub fn closed_file(state_dir: &Path) -> PathBuf {
    state_dir.join("tmux-closed")
}

/// What tmux noted once: at `time_us`, on the server at `socket` started at
/// `server_started_us`, the panes of `open` were still open.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedNote {
    pub socket: String,
    pub time_us: i64,
    pub server_started_us: i64,
    pub open: HashSet<String>,
}

impl ClosedNote {
    /// Was the pane `pane_id` of `socket`, with a shell started at `started_us`, closed
    /// by then? (Pane ids are not reused while a server runs: the shell must have
    /// started while this server ran, before the note.) A note with no pane open tells
    /// nothing: the server was going away.
    pub fn closes(&self, socket: &str, pane_id: &str, started_us: i64) -> bool {
        self.socket == socket
            && (self.server_started_us..self.time_us).contains(&started_us)
            && !self.open.is_empty()
            && !self.open.contains(pane_id)
    }
}

/// Every note in `file`; lines that do not parse are skipped.
pub fn read_closed(file: &Path) -> Vec<ClosedNote> {
    std::fs::read_to_string(file)
        .map(|text| text.lines().filter_map(parse_note).collect())
        .unwrap_or_default()
}

/// Notes older than this are dropped once the file passes [`NOTES_MAX_BYTES`].
const NOTES_MAX_AGE_US: i64 = 30 * 24 * 3600 * 1_000_000;

/// The notes file size past which old notes are dropped.
const NOTES_MAX_BYTES: u64 = 64 * 1024;

/// At most this many notes are kept (the newest).
const NOTES_MAX: usize = 1000;

/// Keep the notes file small: past [`NOTES_MAX_BYTES`], drop the notes older than
/// [`NOTES_MAX_AGE_US`], lines that do not parse, and all but the newest [`NOTES_MAX`].
/// Best effort (a note tmux appends meanwhile may be lost: that pane would come back).
pub fn prune_closed(file: &Path, now_us: i64) {
    if std::fs::metadata(file).map_or(true, |m| m.len() <= NOTES_MAX_BYTES) {
        return;
    }
    let Ok(text) = std::fs::read_to_string(file) else {
        return;
    };
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| parse_note(l).is_some_and(|n| n.time_us > now_us - NOTES_MAX_AGE_US))
        .collect();
    let kept = &kept[kept.len().saturating_sub(NOTES_MAX)..];
    let mut out = kept.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    let _ = super::atomic::write_atomic(file, out.as_bytes());
}

/// One line of the notes file (pure).
fn parse_note(line: &str) -> Option<ClosedNote> {
    let mut f = line.splitn(4, '\t');
    let time = f.next()?;
    let digits: String = time.chars().take_while(char::is_ascii_digit).collect();
    // GNU date gives nanoseconds; one without `%N` gives whole seconds.
    let time_us = if digits.len() > 12 {
        digits.parse::<i64>().ok()? / 1000
    } else {
        digits.parse::<i64>().ok()? * 1_000_000 + 999_999
    };
    let socket = f.next()?.to_string();
    let server_started_us = f.next()?.parse::<i64>().ok()? * 1_000_000;
    let open = f.next()?.split_whitespace().map(str::to_string).collect();
    Some(ClosedNote {
        socket,
        time_us,
        server_started_us,
        open,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_closes_the_panes_it_does_not_list_of_shells_started_before_it() {
        let n = parse_note("1796157775264936534\t/tmp/s\t1796157000\t%0 %2 ").unwrap();
        assert_eq!(n.time_us, 1_796_157_775_264_936);
        assert!(n.closes("/tmp/s", "%1", 1_796_157_775_000_000));
        assert!(!n.closes("/tmp/s", "%2", 1_796_157_775_000_000));
        assert!(!n.closes("/tmp/other", "%1", 1_796_157_775_000_000));
        assert!(
            !n.closes("/tmp/s", "%1", 1_796_157_776_000_000),
            "a later server's pane"
        );
        assert!(
            !n.closes("/tmp/s", "%1", 1_796_156_000_000_000),
            "an earlier server's pane"
        );
        // Whole seconds (a date without %N): the end of that second.
        let coarse = parse_note("1796157775\t/tmp/s\t1796157000\t%0").unwrap();
        assert!(coarse.closes("/tmp/s", "%2", 1_796_157_775_500_000));
        // No pane open: the server was going away, nothing is known closed.
        let empty = parse_note("1796157775264936534\t/tmp/s\t1796157000\t").unwrap();
        assert!(!empty.closes("/tmp/s", "%1", 1_796_157_775_000_000));
        assert!(parse_note("garbage").is_none());
    }

    #[test]
    fn a_big_notes_file_keeps_only_its_recent_notes() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("tmux-closed");
        let now_us: i64 = 1_796_157_775_000_000;
        let line = |us: i64| format!("{}\t/tmp/s\t1\t%0 %1 %2 %3\n", us * 1000);
        let mut text = String::from("garbage\n");
        for i in 0..2000 {
            text.push_str(&line(now_us - NOTES_MAX_AGE_US - 1 - i));
        }
        let recent: String = (0..1500).map(|i| line(now_us - i)).collect();
        text.push_str(&recent);
        std::fs::write(&file, &text).unwrap();
        prune_closed(&file, now_us);
        let notes = read_closed(&file);
        assert_eq!(notes.len(), NOTES_MAX);
        assert_eq!(notes.last().unwrap().time_us, now_us - 1499);
        // A small file is left as it is.
        std::fs::write(&file, "garbage\n").unwrap();
        prune_closed(&file, now_us);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "garbage\n");
    }
}
