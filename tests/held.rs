//! A held command comes back in the restored shell's edit buffer, whole, and runs only
//! when Enter is pressed: zsh, bash and fish in real tmux, over a kill-server.

mod common;

use common::{require, wait_for, Kind, World, SOON};
use std::path::PathBuf;

/// The pids of the processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid …: comm may hold spaces and parentheses.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let ppid = after.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if ppid == Some(pid) {
            out.push(child);
        }
    }
    out
}

/// The line under the cursor and the one above it, on pane `id`.
fn cursor_lines(w: &World, id: &str) -> (String, String) {
    let y: usize = w
        .tmux_ok(&["display-message", "-p", "-t", id, "#{cursor_y}"])
        .trim()
        .parse()
        .unwrap();
    let screen = w.tmux_ok(&["capture-pane", "-p", "-t", id]);
    let lines: Vec<&str> = screen.lines().collect();
    let at = |i: usize| lines.get(i).unwrap_or(&"").trim_end().to_string();
    (at(y.saturating_sub(1)), at(y))
}

/// Paste `text_for(world)` as one buffer (as a person pastes it) in a `kind` shell and
/// press Enter; leave it running, save, kill the server, restore. Returns the world,
/// the restored pane's id and the text of the dry run before the restore.
fn restore_with_running(
    test: &str,
    kind: Kind,
    before: &str,
    text_for: impl Fn(&World) -> String,
) -> Option<(World, String, String)> {
    if !require(test, &["tmux", kind.name(), "cat"]) {
        return None;
    }
    let w = World::new();
    w.write_rc(kind, before, "");
    let text = text_for(&w);
    let pane = w.start_session("work", kind);
    let shell_pid = pane.pid();
    w.tmux_ok(&["set-buffer", "-b", "held", &text]);
    w.tmux_ok(&["paste-buffer", "-p", "-d", "-b", "held", "-t", &pane.id]);
    pane.keys(&["Enter"]);
    wait_for("the pasted command running", SOON, || {
        w.shells()
            .iter()
            .any(|s| s["running"] == text.as_str())
            .then_some(())
    });
    let out = w.snap(&["save"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    w.tmux_ok(&["kill-server"]);
    wait_for("the shell to end", SOON, || {
        (!common::pid_alive(shell_pid)).then_some(())
    });
    // A `cat > F` made the marker as it started: only a new run may make it again.
    let _ = std::fs::remove_file(marker(&w));
    let dry = w.snap(&["restore", "work", "--dry-run"]);
    assert!(dry.status.success());
    let dry = String::from_utf8_lossy(&dry.stdout).into_owned();
    let out = w.snap(&["restore", "work", "--no-attach"]);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let id = w
        .tmux_ok(&["list-panes", "-t", "=work", "-F", "#{pane_id}"])
        .trim()
        .to_string();
    Some((w, id, dry))
}

/// A TAB inside the held text: typed as keys it would complete. fish drops a TAB from
/// a paste, so its text (pasted at the start) has a space there.
fn tab(kind: Kind) -> &'static str {
    if kind == Kind::Fish {
        " "
    } else {
        "\t"
    }
}

/// The marker the held command's last line writes.
fn marker(w: &World) -> PathBuf {
    w.home.join("F")
}

/// A held command whose first line is `first` (running `cat`, until Ctrl-D) and whose
/// last line writes the marker (then `close`), a TAB in its text (typed as keys, a TAB
/// would complete): it shows whole in the edit buffer and nothing runs; Enter runs its
/// lines in order, its text unchanged.
fn held_lines_wait_for_enter(test: &str, kind: Kind, before: &str, first: &str, close: &str) {
    let tail = |w: &World| format!("' > {}{close}", marker(w).display());
    let Some((w, id, dry)) = restore_with_running(test, kind, before, |w| {
        format!("{first}\necho 'ran{}ok{}", tab(kind), tail(w))
    }) else {
        return;
    };
    let pane = w.pane(&id);
    let tail = tail(&w);
    // The dry run shows every line, the later ones indented under the first.
    let at = dry
        .lines()
        .position(|l| l.trim_start().starts_with("typed, press Enter to run: "))
        .unwrap_or_else(|| panic!("no held line in the dry run: {dry}"));
    let lines: Vec<&str> = dry.lines().collect();
    assert!(lines[at].ends_with(first), "{dry}");
    let next = lines.get(at + 1).copied().unwrap_or_default();
    assert!(
        next.starts_with("        echo 'ran") && next.ends_with(&tail),
        "{dry}"
    );
    wait_for("both lines in the edit buffer", SOON, || {
        let (above, at) = cursor_lines(&w, &id);
        (above.ends_with(&format!("{}{first}", common::PROMPT))
            && at.trim_start().starts_with("echo 'ran")
            && at.ends_with(&tail))
        .then_some(())
    });
    let shell = pane.pid();
    assert_eq!(
        children(shell),
        Vec::<u32>::new(),
        "a line ran without Enter"
    );
    assert!(!marker(&w).exists(), "the last line ran without Enter");

    pane.keys(&["Enter"]);
    wait_for("cat running after Enter", SOON, || {
        (!children(shell).is_empty()).then_some(())
    });
    assert!(
        !marker(&w).exists(),
        "the last line ran before the first ended"
    );
    pane.keys(&["C-d"]);
    wait_for("the marker once the first line ended", SOON, || {
        let want = format!("ran{}ok\n", tab(kind));
        (std::fs::read_to_string(marker(&w)).ok()? == want).then_some(())
    });
}

#[test]
fn zsh_a_pasted_two_line_command_comes_back_in_the_edit_buffer_and_runs_on_enter() {
    held_lines_wait_for_enter(
        "zsh_a_pasted_two_line_command_comes_back_in_the_edit_buffer_and_runs_on_enter",
        Kind::Zsh,
        "",
        "cat",
        "",
    );
}

/// bash keeps two pasted lines as two history entries; a command of several lines
/// (here a group, with `lithist`) is one.
#[test]
fn bash_a_two_line_history_entry_comes_back_in_the_edit_buffer_and_runs_on_enter() {
    held_lines_wait_for_enter(
        "bash_a_two_line_history_entry_comes_back_in_the_edit_buffer_and_runs_on_enter",
        Kind::Bash,
        "shopt -s cmdhist lithist",
        "{ cat",
        "; }",
    );
}

#[test]
fn fish_a_pasted_two_line_command_comes_back_in_the_edit_buffer_and_runs_on_enter() {
    held_lines_wait_for_enter(
        "fish_a_pasted_two_line_command_comes_back_in_the_edit_buffer_and_runs_on_enter",
        Kind::Fish,
        "",
        "cat",
        "",
    );
}

/// A one-line held command, a TAB in it, is in the edit buffer, not run (the shell has
/// no child); Enter runs it as it was typed.
fn held_line_is_typed_not_run(test: &str, kind: Kind, before: &str) {
    let line = |w: &World| format!("cat > {} # held{}line", marker(w).display(), tab(kind));
    let Some((w, id, _)) = restore_with_running(test, kind, before, line) else {
        return;
    };
    let pane = w.pane(&id);
    let text = line(&w);
    wait_for("the line in the edit buffer", SOON, || {
        let (_, at) = cursor_lines(&w, &id);
        (at.contains(&format!("{}cat > ", common::PROMPT)) && at.ends_with("line")).then_some(())
    });
    assert_eq!(
        children(pane.pid()),
        Vec::<u32>::new(),
        "it ran without Enter"
    );
    assert!(!marker(&w).exists(), "it ran without Enter");
    pane.keys(&["Enter"]);
    wait_for("the line running after Enter", SOON, || {
        marker(&w).exists().then_some(())
    });
    pane.keys(&["C-d"]);
    wait_for("the line recorded as typed, twice", SOON, || {
        let runs = w
            .history()
            .iter()
            .filter(|r| r["command"] == text.as_str())
            .count();
        (runs == 2).then_some(())
    });
}

#[test]
fn bash_a_held_line_is_typed_not_run() {
    held_line_is_typed_not_run("bash_a_held_line_is_typed_not_run", Kind::Bash, "");
}

#[test]
fn fish_a_held_line_is_typed_not_run() {
    held_line_is_typed_not_run("fish_a_held_line_is_typed_not_run", Kind::Fish, "");
}

#[test]
fn bash_in_vi_mode_a_held_line_is_typed_not_run() {
    held_line_is_typed_not_run(
        "bash_in_vi_mode_a_held_line_is_typed_not_run",
        Kind::Bash,
        "set -o vi",
    );
}

#[test]
fn fish_with_vi_key_bindings_a_held_line_is_typed_not_run() {
    held_line_is_typed_not_run(
        "fish_with_vi_key_bindings_a_held_line_is_typed_not_run",
        Kind::Fish,
        "fish_vi_key_bindings",
    );
}
