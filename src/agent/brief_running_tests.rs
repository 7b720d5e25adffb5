//! The brief's running list across generations: what runs now, and once per lineage
//! what was running when its shell went away.

use super::running;
use crate::model::Ended;
use crate::store::journal::{Origin, Record};
use crate::store::shells::{self, ShellState};
use crate::timefmt;
use std::path::PathBuf;

const T: i64 = 1_796_000_000_000_000;
const S: i64 = 1_000_000;

/// A shell of session `work`, started at `T + at` seconds, replacing `replaces`.
fn shell(
    id: &str,
    at: i64,
    replaces: Option<&str>,
    alive: bool,
    records: Vec<Record>,
) -> ShellState {
    let mut meta = shells::test_meta(id, 100, &timefmt::rfc3339_us(T + at * S), "work");
    meta.replaces = replaces.map(str::to_string);
    let mut s = shells::from_records(meta, PathBuf::new(), records);
    s.alive = alive;
    s
}

fn start(at: i64, command: &str, origin: Origin) -> Record {
    Record::Start {
        time_us: T + at * S,
        cwd: "/p".into(),
        command: command.into(),
        origin,
    }
}

fn end(at: i64) -> Record {
    Record::End {
        time_us: T + at * S,
        status: 0,
        duration_ms: None,
        cwd: "/p".into(),
    }
}

fn gone(at: i64, how: Ended) -> Record {
    Record::Exit {
        time_us: T + at * S,
        how,
    }
}

/// (shell id, command, alive) of each entry.
fn listed(all: &[ShellState]) -> Vec<(String, String, bool)> {
    let refs: Vec<&ShellState> = all.iter().collect();
    running(&refs)
        .into_iter()
        .map(|(s, c)| (s.meta.id.clone(), c.text.clone(), s.alive))
        .collect()
}

const SERVER: &str = "python3 -m http.server 8000";

/// Shell 0 ran the server, shell 1 (replacing it) ran it again from a restore; both
/// went away with their terminal.
fn server_then_a_restore_both_gone() -> Vec<ShellState> {
    vec![
        shell(
            "0",
            0,
            None,
            false,
            vec![start(1, SERVER, Origin::Shell), gone(2, Ended::Hangup)],
        ),
        shell(
            "1",
            3,
            Some("0"),
            false,
            vec![start(4, SERVER, Origin::Restore), gone(5, Ended::Hangup)],
        ),
    ]
}

#[test]
fn a_server_restore_ran_again_in_every_generation_is_listed_once_as_running_now() {
    let mut all = server_then_a_restore_both_gone();
    all.push(shell(
        "2",
        6,
        Some("1"),
        true,
        vec![start(7, SERVER, Origin::Restore)],
    ));
    assert_eq!(listed(&all), [("2".into(), SERVER.into(), true)]);
}

#[test]
fn after_the_crash_the_last_generation_is_listed_once_as_gone() {
    let all = server_then_a_restore_both_gone();
    assert_eq!(listed(&all), [("1".into(), SERVER.into(), false)]);
}

#[test]
fn a_held_command_waiting_in_a_restored_shell_is_what_was_running_before() {
    // Two restores held `sleep 1000` in the edit buffer; neither shell ran anything.
    let all = vec![
        shell(
            "0",
            0,
            None,
            false,
            vec![
                start(1, "sleep 1000", Origin::Shell),
                gone(2, Ended::Hangup),
            ],
        ),
        shell("1", 3, Some("0"), false, vec![gone(5, Ended::Hangup)]),
        shell("2", 6, Some("1"), true, vec![]),
    ];
    assert_eq!(listed(&all), [("0".into(), "sleep 1000".into(), false)]);
    // Once the restored shell ran a command of its own, or was exited, that is over.
    let mut moved_on = all.clone();
    moved_on[2] = shell(
        "2",
        6,
        Some("1"),
        true,
        vec![start(7, "ls", Origin::Shell), end(8)],
    );
    assert_eq!(listed(&moved_on), []);
    let mut exited = all;
    exited[2] = shell("2", 6, Some("1"), false, vec![gone(7, Ended::Exit)]);
    assert_eq!(listed(&exited), []);
}

#[test]
fn shells_of_other_lineages_each_keep_their_own_entry() {
    // A job window's shell and its pane's shell both replace the same shell.
    let all = vec![
        shell(
            "0",
            0,
            None,
            false,
            vec![start(1, "vim", Origin::Shell), gone(2, Ended::Hangup)],
        ),
        shell(
            "1",
            3,
            Some("0"),
            true,
            vec![start(4, "vim", Origin::Restore)],
        ),
        shell(
            "2",
            3,
            Some("0"),
            true,
            vec![start(4, SERVER, Origin::Restore)],
        ),
        shell(
            "3",
            0,
            None,
            true,
            vec![start(1, "make watch", Origin::Shell)],
        ),
    ];
    let ids: Vec<String> = listed(&all).into_iter().map(|(id, _, _)| id).collect();
    assert_eq!(ids, ["1", "2", "3"]);
}

#[test]
fn a_lineage_that_loops_back_ends() {
    // An edited meta: the shells before the newest replace each other.
    let all = vec![
        shell("a", 0, Some("b"), false, vec![]),
        shell("b", 0, Some("a"), false, vec![]),
        shell("n", 1, Some("a"), true, vec![]),
    ];
    assert_eq!(listed(&all), []);
}
