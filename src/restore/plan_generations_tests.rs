//! The plan across generations: lineage history, a restored shell's pending command,
//! `--missing` back into its split, panes tmux noted closed.

use super::*;
use crate::config::Config;
use crate::model::snapshot::{SessionSnap, TmuxPlace};
use crate::model::TmuxRef;
use crate::store::journal::Record;
use crate::store::shells;
use std::path::PathBuf;

const T: i64 = 1_796_000_000_000_000;
const S: i64 = 1_000_000;
const SOCKET: &str = "/tmp/tmux-0/default";

fn journal(id: &str, started: i64, replaces: Option<&str>, records: Vec<Record>) -> ShellState {
    let mut meta = shells::test_meta(id, 100, &timefmt::rfc3339_us(started), "work");
    meta.replaces = replaces.map(str::to_string);
    meta.tmux = Some(TmuxRef {
        socket: SOCKET.into(),
        session: "work".into(),
        pane_id: format!("%{id}"),
    });
    shells::from_records(meta, PathBuf::new(), records)
}

fn ran(at: i64, command: &str) -> Vec<Record> {
    vec![
        Record::Start {
            time_us: at,
            cwd: "/p".into(),
            command: command.into(),
            origin: crate::store::journal::Origin::Shell,
        },
        Record::End {
            time_us: at + 1,
            status: 0,
            duration_ms: Some(0),
            cwd: "/p".into(),
        },
    ]
}

fn hangup(at: i64) -> Record {
    Record::Exit {
        time_us: at,
        how: Ended::Hangup,
    }
}

/// A live shell of the snapshot in window `@1`, pane `pane` (index `index`).
fn shell_snap(id: &str, started: i64, pane: &str, index: u32) -> ShellSnap {
    ShellSnap {
        id: id.into(),
        kind: "bash".into(),
        pid: 100,
        alive: true,
        ended: None,
        ended_at: None,
        started_at: timefmt::rfc3339_us(started),
        last_seen: timefmt::rfc3339_us(started),
        tty: None,
        replaces: None,
        project_dir: "/p".into(),
        cwd: "/p".into(),
        env: BTreeMap::new(),
        running: None,
        running_policy: None,
        running_resume: None,
        pending: None,
        history: vec![],
        tmux: Some(TmuxPlace {
            socket: SOCKET.into(),
            session: "work".into(),
            pane_id: pane.into(),
            window_id: "@1".into(),
            window_index: 0,
            window_name: "editor".into(),
            window_layout: "abcd,200x50,0,0{66x50,0,0,1,66x50,67,0,2,66x50,134,0,3}".into(),
            window_active: true,
            pane_index: index,
            pane_active: index == 0,
        }),
        screen: None,
        processes: vec![],
    }
}

fn snapshot(shells: Vec<ShellSnap>, taken: i64) -> Snapshot {
    Snapshot {
        schema: 1,
        id: "s".into(),
        taken_at: timefmt::rfc3339_us(taken),
        host: "h".into(),
        label: None,
        redacted: vec![],
        sessions: vec![SessionSnap {
            name: "work".into(),
            agent: serde_json::Value::Null,
            shells,
        }],
    }
}

fn world(alive: bool) -> World {
    World {
        tmux_session_alive: alive,
        tmux_available: true,
        existing_dirs: ["/", "/p"].iter().map(|d| d.to_string()).collect(),
        ..Default::default()
    }
}

/// A world without a live session, where tmux noted at `time_us` that of the panes
/// only %1 was open.
fn world_with_note(time_us: i64) -> World {
    let mut w = world(false);
    w.closed_panes = vec![crate::store::tmux_closed::ClosedNote {
        socket: SOCKET.into(),
        time_us,
        server_started_us: T - S,
        open: ["%1".to_string()].into_iter().collect(),
    }];
    w
}

/// A background `sleep 100` of the shell with pid 100, typed as `typed`, started at
/// `started` µs.
fn sleep_job(typed: &str, env: BTreeMap<String, String>, started: i64) -> ProcessSnap {
    ProcessSnap {
        pid: 101,
        ppid: 100,
        cmd: vec!["sleep".into(), "100".into()],
        typed: Some(typed.into()),
        cwd: Some("/p".into()),
        env,
        started_at: timefmt::rfc3339_us(started),
        job_leader: true,
        foreground: false,
        stopped: false,
        policy: Policy::Hold,
        resume: None,
    }
}

/// The shells the plan's first window brings back, in order.
fn first_window(p: &Plan) -> Vec<&str> {
    p.windows[0]
        .panes
        .iter()
        .map(|p| p.replaces.as_str())
        .collect()
}

fn plan_of(snap: &Snapshot, journals: &[ShellState], world: &World, missing: bool) -> Plan {
    let opts = Options {
        missing,
        ..Default::default()
    };
    plan_with(snap, journals, world, opts)
}

fn plan_with(snap: &Snapshot, journals: &[ShellState], world: &World, opts: Options) -> Plan {
    let cfg = Config::default();
    let rules = Rules::new(&cfg);
    let redactor = Redactor::new(&cfg).unwrap();
    let judging = Judging {
        rules: &rules,
        executable: &|_: &str, _: Option<&str>, _: &str| true,
        redactor: &redactor,
    };
    plan(snap, "work", journals, world, &judging, opts)
}

fn texts(history: &[(i64, String)]) -> Vec<&str> {
    history.iter().map(|(_, t)| t.as_str()).collect()
}

#[test]
fn a_restored_shell_gets_every_generations_history_oldest_first() {
    let mut g0 = ran(T + S, "gen0-a");
    g0.extend(ran(T + 2 * S, "gen0-b"));
    g0.push(hangup(T + 3 * S));
    let mut g1 = ran(T + 5 * S, "gen1");
    g1.push(hangup(T + 6 * S));
    let mut g2 = ran(T + 8 * S, "gen2");
    g2.push(hangup(T + 9 * S));
    let journals = vec![
        journal("0", T, None, g0),
        journal("1", T + 4 * S, Some("0"), g1),
        journal("2", T + 7 * S, Some("1"), g2),
    ];
    let mut sh = shell_snap("2", T + 7 * S, "%2", 0);
    sh.replaces = Some("1".into());
    let snap = snapshot(vec![sh], T + 8 * S + 500);
    let p = plan_of(&snap, &journals, &world(false), false);
    let pane = &p.windows[0].panes[0];
    assert_eq!(
        texts(&pane.history),
        ["gen0-a", "gen0-b", "gen1", "gen2"],
        "{p:#?}"
    );
    assert_eq!(pane.history_len, 4);
}

#[test]
fn a_lineage_whose_journal_is_gone_takes_that_shells_history_from_the_snapshot() {
    let mut old = shell_snap("0", T, "%0", 0);
    old.alive = false;
    old.history = shells::from_records(
        shells::test_meta("0", 1, &timefmt::rfc3339_us(T), "work"),
        PathBuf::new(),
        ran(T + S, "from-the-snapshot"),
    )
    .history();
    let mut new = shell_snap("1", T + 4 * S, "%1", 0);
    new.replaces = Some("0".into());
    let snap = snapshot(vec![old, new], T + 5 * S);
    let journals = vec![journal("1", T + 4 * S, Some("0"), vec![hangup(T + 6 * S)])];
    let p = plan_of(&snap, &journals, &world(false), false);
    assert_eq!(texts(&p.windows[0].panes[0].history), ["from-the-snapshot"]);
}

#[test]
fn a_restored_shell_that_ran_nothing_yet_still_holds_its_pending_command() {
    let mut sh = shell_snap("1", T, "%1", 0);
    sh.replaces = Some("0".into());
    sh.pending = Some("make".into());
    let snap = snapshot(vec![sh.clone()], T + S);
    let quiet = vec![journal("1", T, Some("0"), vec![hangup(T + 2 * S)])];
    let p = plan_of(&snap, &quiet, &world(false), false);
    let r = p.windows[0].panes[0].relaunch.as_ref().expect("relaunch");
    assert_eq!(r.line, "make");
    assert_eq!(r.action, Action::Type);
    // Once the shell ran a command of its own, the pending one is gone.
    let mut records = ran(T + S, "ls");
    records.push(hangup(T + 2 * S));
    let busy = vec![journal("1", T, Some("0"), records)];
    let p = plan_of(&snap, &busy, &world(false), false);
    assert_eq!(p.windows[0].panes[0].relaunch, None);
}

#[test]
fn missing_panes_rejoin_their_live_window_beside_their_neighbours() {
    let snap = snapshot(
        vec![
            shell_snap("a", T, "%1", 0),
            shell_snap("b", T, "%2", 1),
            shell_snap("c", T, "%3", 2),
        ],
        T + S,
    );
    let mut live_c = journal("c", T, None, vec![]);
    live_c.alive = true;
    // The first two panes died while the session lived: a goes before c, b after a.
    let journals = vec![
        journal("a", T, None, vec![hangup(T + 2 * S)]),
        journal("b", T, None, vec![hangup(T + 2 * S)]),
        live_c,
    ];
    let p = plan_of(&snap, &journals, &world(true), true);
    assert_eq!(p.mode, Mode::Attach);
    assert_eq!(p.missing, ["a", "b"]);
    let w = &p.windows[0];
    let rejoin: Vec<Option<&Rejoin>> = w.panes.iter().map(|p| p.rejoin.as_ref()).collect();
    assert_eq!(
        rejoin,
        [
            Some(&Rejoin {
                pane: "%1".into(),
                beside: "%3".into(),
                before: true
            }),
            Some(&Rejoin {
                pane: "%2".into(),
                beside: "%1".into(),
                before: false
            }),
        ],
        "{p:#?}"
    );
    assert!(
        w.layout.is_some(),
        "the window's layout goes back with them"
    );
}

#[test]
fn a_pane_tmux_noted_closed_stays_closed_in_a_rebuild_and_is_missing_while_the_session_lives() {
    let snap = snapshot(
        vec![shell_snap("a", T, "%1", 0), shell_snap("b", T, "%2", 1)],
        T + S,
    );
    // b's pane closed a moment before the server died with a.
    let journals = vec![
        journal("a", T, None, vec![hangup(T + 3 * S)]),
        journal("b", T, None, vec![hangup(T + 3 * S - 100_000)]),
    ];
    let mut w = world_with_note(T + 3 * S - 90_000);
    let p = plan_of(&snap, &journals, &w, false);
    let back = first_window(&p);
    assert_eq!(back, ["a"]);
    assert!(
        p.left
            .iter()
            .any(|l| l.shell == "b" && l.reason.contains("closed")),
        "{:?}",
        p.left
    );
    w.tmux_session_alive = true;
    let p = plan_of(&snap, &journals, &w, false);
    assert_eq!(p.missing, ["a", "b"]);
}

#[test]
fn an_older_snapshots_private_fish_history_session_is_not_restored() {
    // Only the snapshot knows this shell (its journal is gone): its env, and its
    // background job's, are what an older restore gave it.
    let mut sh = shell_snap("0", T, "%0", 0);
    sh.kind = "fish".into();
    let private = BTreeMap::from([
        ("fish_history".to_string(), "snap_work_1_2".to_string()),
        ("EDITOR".to_string(), "vim".to_string()),
    ]);
    sh.env = private.clone();
    sh.processes = vec![sleep_job("sleep 100 &", private, T)];
    let p = plan_of(&snapshot(vec![sh], T + S), &[], &world(false), false);
    let envs: Vec<&BTreeMap<String, String>> = p
        .windows
        .iter()
        .flat_map(|w| w.panes.iter().map(|pane| &pane.env))
        .collect();
    assert_eq!(envs.len(), 2, "{p:#?}");
    for env in envs {
        assert_eq!(env.get("EDITOR").map(String::as_str), Some("vim"));
        assert_eq!(env.get("fish_history"), None, "{env:?}");
    }
}

#[test]
fn a_command_already_running_where_its_line_runs_it_is_not_started_again() {
    // The shell restore made ran the server (origin restore) before any process of it
    // was captured; a `--no-tmux` restore started it since.
    let mut sh = shell_snap("1", T, "%1", 0);
    sh.replaces = Some("0".into());
    let snap = snapshot(vec![sh], T + S);
    let records = vec![Record::Start {
        time_us: T + S / 2,
        cwd: "/p".into(),
        command: "cd web && python3 -m http.server 8000".into(),
        origin: crate::store::journal::Origin::Restore,
    }];
    let journals = vec![journal("1", T, Some("0"), records)];
    let server = |cwd: &str| {
        (
            4242,
            ["/usr/bin/python3", "-m", "http.server", "8000"]
                .map(String::from)
                .to_vec(),
            Some(cwd.to_string()),
        )
    };
    let mut w = world(false);
    w.processes = vec![server("/p/web")];
    let p = plan_of(&snap, &journals, &w, false);
    let r = p.windows[0].panes[0].relaunch.as_ref().expect("relaunch");
    assert_eq!(r.action, Action::Skip, "{r:?}");
    assert_eq!(r.reason.as_deref(), Some("still running (pid 4242)"));
    // The same server somewhere else is another one.
    w.processes = vec![server("/p")];
    let p = plan_of(&snap, &journals, &w, false);
    let r = p.windows[0].panes[0].relaunch.as_ref().expect("relaunch");
    assert_eq!(r.action, Action::Run, "{r:?}");
}

#[test]
fn a_lines_commands_run_where_its_cds_went() {
    use crate::policy::Dir;
    assert_eq!(runs_in(&Dir::Start, "/p").as_deref(), Some("/p"));
    assert_eq!(
        runs_in(&Dir::At("a/../b/.".into()), "/p").as_deref(),
        Some("/p/b")
    );
    assert_eq!(
        runs_in(&Dir::At("/srv".into()), "/p").as_deref(),
        Some("/srv")
    );
    assert_eq!(runs_in(&Dir::At("~/x".into()), "/p"), None);
    assert_eq!(runs_in(&Dir::Unknown, "/p"), None);
}

fn left_ids(p: &Plan) -> Vec<(&str, &str)> {
    p.left
        .iter()
        .map(|l| (l.shell.as_str(), l.reason.as_str()))
        .collect()
}

/// A shell of the snapshot, started at `T`, that had ended `how` when it was taken.
fn ended_snap(id: &str, pane: &str, index: u32, how: Ended) -> ShellSnap {
    let mut sh = shell_snap(id, T, pane, index);
    sh.alive = false;
    sh.ended = Some(how);
    sh
}

#[test]
fn only_this_generations_closed_shells_are_reported() {
    // Generation 0: `x` exited; `0` went away with the server and came back as `1`.
    let x = ended_snap("x", "%9", 1, Ended::Exit);
    let old = ended_snap("0", "%0", 0, Ended::Hangup);
    // Generation 1, as restore snapshotted it: `1` and `k`; `k` exits afterwards.
    let mut one = shell_snap("1", T + 4 * S, "%1", 0);
    one.replaces = Some("0".into());
    let mut k = shell_snap("k", T + 4 * S, "%2", 1);
    k.replaces = Some("q".into());
    let snap = snapshot(vec![x, old, one, k], T + 5 * S);
    let mut k_records = ran(T + 6 * S, "true");
    k_records.push(Record::Exit {
        time_us: T + 7 * S,
        how: Ended::Exit,
    });
    let journals = vec![
        journal("1", T + 4 * S, Some("0"), vec![hangup(T + 9 * S)]),
        journal("k", T + 4 * S, Some("q"), k_records),
    ];
    let p = plan_of(&snap, &journals, &world(false), false);
    assert_eq!(left_ids(&p), [("k", "ended with exit")], "{p:#?}");
    // Before any restore every closed shell is this generation's.
    let x = ended_snap("x", "%9", 1, Ended::Exit);
    let snap = snapshot(vec![x, shell_snap("0", T, "%0", 0)], T + S);
    let journals = vec![journal("0", T, None, vec![hangup(T + 2 * S)])];
    let p = plan_of(&snap, &journals, &world(false), false);
    assert_eq!(
        left_ids(&p),
        [("x", "ended (exit) before this snapshot")],
        "{p:#?}"
    );
}

#[test]
fn with_no_snapshot_since_a_restore_the_shells_it_replaced_are_not_reported() {
    let snap = snapshot(vec![shell_snap("0", T, "%0", 0)], T + S);
    let journals = vec![
        journal("0", T, None, vec![hangup(T + 2 * S)]),
        journal("1", T + 3 * S, Some("0"), vec![hangup(T + 4 * S)]),
    ];
    let p = plan_of(&snap, &journals, &world(false), false);
    assert_eq!(left_ids(&p), [], "{p:#?}");
    let back: Vec<&str> = p
        .windows
        .iter()
        .flat_map(|w| &w.panes)
        .map(|p| p.replaces.as_str())
        .collect();
    assert_eq!(back, ["1"]);
}

#[test]
fn a_shell_started_just_after_a_closed_pane_note_in_the_same_second_comes_back() {
    // tmux noted a pane closed at T + 0.2 s (open: %1); shell c started at T + 0.3 s,
    // in a pane that note could not list. Its meta's started_at says only T (whole
    // seconds); its started_us tells.
    let snap = snapshot(
        vec![shell_snap("a", T, "%1", 0), shell_snap("c", T, "%c", 1)],
        T + 2 * S,
    );
    let mut c = journal("c", T, None, vec![hangup(T + 3 * S)]);
    c.meta.started_us = Some(T + 300_000);
    let journals = vec![journal("a", T, None, vec![hangup(T + 3 * S)]), c];
    let w = world_with_note(T + 200_000);
    let p = plan_of(&snap, &journals, &w, false);
    let back = first_window(&p);
    assert_eq!(back, ["a", "c"], "{:?}", p.left);
}

#[test]
fn a_jobs_redacted_line_is_found_when_its_start_rounds_into_the_second_before() {
    // The line started just after a second's turn; the job's start, read in whole
    // seconds from clock ticks, fell in the second before it.
    let line = "PGPASSWORD=hunter2 sleep 100 &";
    let mut sh = shell_snap("a", T, "%a", 0);
    sh.processes = vec![sleep_job(
        "PGPASSWORD=[redacted] sleep 100 &",
        BTreeMap::new(),
        T + S,
    )];
    let journals = vec![journal("a", T, None, ran(T + 2 * S + 1_000, line))];
    let p = plan_of(
        &snapshot(vec![sh], T + 3 * S),
        &journals,
        &world(false),
        false,
    );
    let lines: Vec<&str> = p
        .windows
        .iter()
        .flat_map(|w| &w.panes)
        .filter_map(|pane| pane.relaunch.as_ref())
        .map(|r| r.line.as_str())
        .collect();
    assert_eq!(lines, ["PGPASSWORD=hunter2 sleep 100"], "{p:#?}");
}

/// A shell running `sleep 200` in the foreground, after `(sleep 100 &)` left its tree
/// (reparented to init); planned with `--yes` or without.
fn plan_pane_with_a_job_that_left(yes: bool) -> Plan {
    let mut sh = shell_snap("a", T, "%a", 0);
    let mut job = sleep_job("(sleep 100 &)", BTreeMap::new(), T + S);
    job.ppid = 1;
    sh.processes = vec![job];
    let mut records = ran(T + S, "(sleep 100 &)");
    records.push(Record::Start {
        time_us: T + 2 * S,
        cwd: "/p".into(),
        command: "sleep 200".into(),
        origin: crate::store::journal::Origin::Shell,
    });
    let journals = vec![journal("a", T, None, records)];
    let opts = Options {
        yes,
        ..Default::default()
    };
    plan_with(
        &snapshot(vec![sh], T + 3 * S),
        &journals,
        &world(false),
        opts,
    )
}

#[test]
fn a_job_that_gave_the_prompt_back_runs_in_its_pane_before_the_panes_own_line() {
    let p = plan_pane_with_a_job_that_left(true);
    assert_eq!(p.windows.len(), 1, "{p:#?}");
    let pane = &p.windows[0].panes[0];
    let jobs: Vec<&str> = pane.jobs.iter().map(|r| r.line.as_str()).collect();
    assert_eq!(jobs, ["(sleep 100 &)"], "{p:#?}");
    assert_eq!(
        pane.relaunch.as_ref().map(|r| r.line.as_str()),
        Some("sleep 200")
    );
}

#[test]
fn a_held_job_beside_a_panes_own_line_gets_a_window_of_its_own() {
    // Held for Enter, it would keep the pane's own line from its prompt.
    let p = plan_pane_with_a_job_that_left(false);
    assert_eq!(p.windows.len(), 2, "{p:#?}");
    assert!(p.windows[0].panes[0].jobs.is_empty(), "{p:#?}");
    let job = p.windows[1].panes[0].relaunch.as_ref().unwrap();
    assert_eq!(
        (job.line.as_str(), job.action),
        ("(sleep 100 &)", Action::Type)
    );
}
