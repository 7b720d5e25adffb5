//! tmux state: one `list-panes -a -F …` per server, one `capture-pane` per pane; and
//! the hooks snap sets on the servers it captures so that tmux notes the panes closed
//! while their server ran (a crash closes every pane at once and runs no hook). The
//! notes file is `store::tmux_closed`.

use crate::model::snapshot::TmuxPlace;
use std::collections::HashMap;
use std::path::Path;
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

/// The hook after which tmux notes which panes are still open: a pane killed (`kill-pane`,
/// prefix-x). Only a command's hook: events such as `window-unlinked` or `pane-exited`
/// can also fire while a `kill-server` tears the server down, with no pane left open, and
/// a hook running then holds the dying server up. (A shell's own `exit` is in its journal.)
const CLOSE_HOOK: &str = "after-kill-pane";

/// snap's own entry in that (global) hook array; the user's entries are left alone.
const HOOK_INDEX: u32 = 7311;

/// Have the tmux server at `socket` note in `file` each pane killed while it runs.
/// Idempotent. The hook is a global one: a session-level entry would hide the user's own
/// global hooks of that name for the session. False when it cannot (the path cannot be
/// put in a hook, the file cannot be made, tmux refused).
pub fn note_closed_panes(socket: &str, file: &Path) -> bool {
    let Some(args) = close_hook_args(file) else {
        return false;
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    tmux(socket, &args).is_some()
}

/// The tmux command (`set-hook …`) of [`note_closed_panes`], to run on its own or
/// after another in the same tmux call (a new shell's start); `file` is made 0600.
pub fn close_hook_args(file: &Path) -> Option<[String; 4]> {
    let command = hook_command(file)?;
    private_file(file).then(|| {
        [
            "set-hook".into(),
            "-g".into(),
            format!("{CLOSE_HOOK}[{HOOK_INDEX}]"),
            command,
        ]
    })
}

/// Create `file` (0600) when missing.
fn private_file(file: &Path) -> bool {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(file)
        .is_ok()
}

/// The tmux command of the hooks (pure): `run-shell -b` appending one note to `file` (in
/// the format of `store::tmux_closed::closed_file`; the open panes are expanded when the
/// hook fires). In the background: tmux 3.3a may lose the SIGCHLD of a hook's job, and a
/// job in the foreground then holds the `kill-pane` (and every tmux command after it)
/// for good. None when the path holds a character that cannot be put there safely.
fn hook_command(file: &Path) -> Option<String> {
    let path = file.to_str()?;
    if path.contains(['\'', '\n', '\r']) {
        return None;
    }
    // Inside sh's double quotes; `#` doubled for tmux's formats.
    let mut quoted = String::new();
    for c in path.chars() {
        match c {
            '"' | '\\' | '$' | '`' => {
                quoted.push('\\');
                quoted.push(c);
            }
            '#' => quoted.push_str("##"),
            c => quoted.push(c),
        }
    }
    Some(format!(
        "run-shell -b 'printf \"%s\\t%s\\t%s\\t%s\\n\" \"$(date +%s%N)\" #{{q:socket_path}} \"#{{start_time}}\" \"#{{S:#{{W:#{{P:#{{pane_id}} }}}}}}\" >> \"{quoted}\"'"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hook_command_quotes_the_path_for_sh_and_tmux() {
        let c = hook_command(Path::new("/h/a \"b\" $x #y/tmux-closed")).unwrap();
        // In the background: a job tmux never sees end must not hold `kill-pane`.
        assert!(c.starts_with("run-shell -b '"), "{c}");
        assert!(
            c.ends_with(r#">> "/h/a \"b\" \$x ##y/tmux-closed"'"#),
            "{c}"
        );
        assert!(hook_command(Path::new("/h/it's")).is_none());
    }

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
