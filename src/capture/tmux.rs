//! tmux state: one `list-panes -a -F …` per server, one `capture-pane` per pane.

use crate::snapshot_model::TmuxPlace;
use std::collections::HashMap;
use std::process::{Command, Stdio};

/// Lines of a pane kept as its screen.
pub const SCREEN_LINES: usize = 200;

/// A pane as `list-panes` tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pane {
    pub place: TmuxPlace,
    pub pane_pid: u32,
}

const FORMAT: &str = "#{pane_id}\x1f#{pane_pid}\x1f#{window_id}\x1f#{window_index}\x1f#{window_active}\x1f#{pane_index}\x1f#{pane_active}\x1f#{window_layout}\x1f#{session_name}\x1f#{window_name}";

/// Every pane of the tmux server at `socket`, keyed by pane id; empty when the server
/// is gone.
pub fn list_panes(socket: &str) -> HashMap<String, Pane> {
    let Some(out) = tmux(socket, &["list-panes", "-a", "-F", FORMAT]) else {
        return HashMap::new();
    };
    out.lines()
        .filter_map(|l| parse_line(socket, l))
        .map(|p| (p.place.pane_id.clone(), p))
        .collect()
}

/// Parse one line of `list-panes` in [`FORMAT`].
fn parse_line(socket: &str, line: &str) -> Option<Pane> {
    let f: Vec<&str> = line.splitn(10, '\x1f').collect();
    if f.len() != 10 {
        return None;
    }
    Some(Pane {
        pane_pid: f[1].parse().ok()?,
        place: TmuxPlace {
            socket: socket.to_string(),
            pane_id: f[0].to_string(),
            window_id: f[2].to_string(),
            window_index: f[3].parse().ok()?,
            window_active: f[4] == "1",
            pane_index: f[5].parse().ok()?,
            pane_active: f[6] == "1",
            window_layout: f[7].to_string(),
            session: f[8].to_string(),
            window_name: f[9].to_string(),
        },
    })
}

/// The last [`SCREEN_LINES`] lines of a pane (wrapped lines joined, trailing blanks
/// trimmed); None when tmux cannot tell.
pub fn capture_screen(socket: &str, pane_id: &str) -> Option<String> {
    let start = format!("-{SCREEN_LINES}");
    let out = tmux(
        socket,
        &["capture-pane", "-p", "-J", "-t", pane_id, "-S", &start],
    )?;
    Some(last_lines(&out, SCREEN_LINES))
}

/// The last `n` lines, trailing spaces and blank lines at the end removed.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(0, |i| i + 1);
    let start = end.saturating_sub(n);
    lines[start..end].join("\n")
}

fn tmux(socket: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("tmux")
        .arg("-S")
        .arg(socket)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_pane_line_with_odd_window_names() {
        let line = "%3\x1f1234\x1f@2\x1f1\x1f1\x1f0\x1f0\x1fb25f,80x24,0,0{40x24,0,0,3,39x24,41,0,4}\x1fwork\x1fmy win\x1fdow";
        let p = parse_line("/tmp/s", line).unwrap();
        assert_eq!(p.pane_pid, 1234);
        assert_eq!(p.place.window_name, "my win\x1fdow");
        assert_eq!(p.place.window_index, 1);
        assert!(p.place.window_active && !p.place.pane_active);
        assert!(parse_line("/tmp/s", "garbage").is_none());
    }

    #[test]
    fn keeps_the_last_lines_without_trailing_blanks() {
        let text = "a\nb  \nc\n\n\n";
        assert_eq!(last_lines(text, 2), "b\nc");
        assert_eq!(last_lines("", 5), "");
    }
}
