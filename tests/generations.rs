//! Restore across generations: a crash right after a restore (no snapshot in between)
//! rebuilds the same session, panes keep their order and sizes, `--missing` puts a
//! shell back into its split, and a pane closed before the crash stays closed.

mod common;

use common::{next_second, pids_of, require, server_argv, wait_for, Kind, Pane, World, SOON};
use serde_json::Value;
use std::path::Path;

/// What a rebuild must get back, per pane in tmux order: window index and name, whether
/// the window is active, pane index, the shell running in it, its cwd, its geometry
/// (left, top, width, height) and whether it is the active pane.
fn places(w: &World, session: &str) -> Vec<String> {
    w.tmux_ok(&[
        "list-panes",
        "-s",
        "-t",
        &format!("={session}"),
        "-F",
        "#{window_index} #{window_name} #{window_active} #{pane_index} #{pane_current_command} #{pane_current_path} #{pane_left},#{pane_top},#{pane_width}x#{pane_height} #{pane_active}",
    ])
    .lines()
    .map(str::to_string)
    .collect()
}

/// A window `name` of session `work`, made in the background (in `dir`, else where
/// tmux puts it) with a bash in it; its pane, the prompt shown.
fn background_window<'w>(w: &'w World, name: &str, dir: Option<&str>) -> Pane<'w> {
    let shell = w.shell_command(Kind::Bash);
    let mut args = vec!["new-window", "-d", "-t", "=work:", "-n", name];
    if let Some(dir) = dir {
        args.extend(["-c", dir]);
    }
    args.extend(["-P", "-F", "#{pane_id}", &shell]);
    let pane = w.pane(&w.tmux_ok(&args));
    pane.wait_prompt();
    pane
}

/// Kill `pane` and wait until its shell has ended and tmux's hook has noted the panes
/// still open (in the background: a crash a moment later may come first).
fn kill_pane(w: &World, pane: &Pane) {
    let notes = w.snap_home.join("state").join("tmux-closed");
    let count = || std::fs::read_to_string(&notes).map_or(0, |t| t.lines().count());
    let before = count();
    let pid = pane.pid();
    w.tmux_ok(&["kill-pane", "-t", &pane.id]);
    wait_for(
        "the killed pane's shell to end, its note written",
        SOON,
        || (!common::pid_alive(pid) && count() > before).then_some(()),
    );
}

/// rc files for bash, zsh and fish, bash and zsh with no history file: what their history
/// holds after a restore is what snap gave them.
fn no_history_files(w: &World) {
    w.write_rc(Kind::Bash, "HISTFILE=/dev/null", "");
    w.write_rc(Kind::Zsh, "unset HISTFILE", "");
    w.write_rc(Kind::Fish, "", "");
}

/// End every process with this argv in `dir` (a server that outlived tmux, as a reboot
/// would end it) and wait until none is left.
fn end_all(dir: &str, argv: &[String]) {
    common::kill_all(Path::new(dir), argv);
    no_server(dir, argv);
}

/// A directory under HOME.
fn dir(w: &World, name: &str) -> String {
    let d = w.home.join(name);
    std::fs::create_dir_all(&d).unwrap();
    d.display().to_string()
}

/// Restore `work` (no attach) and wait until every pane shows a prompt (with a held
/// command in its edit buffer, maybe) or runs a command in its foreground.
fn restore(w: &World, extra: &[&str]) -> String {
    let mut args = vec!["restore", "work", "--no-attach"];
    args.extend_from_slice(extra);
    let out = w.snap_ok(&args);
    for id in w.pane_ids("work") {
        let pane = w.pane(&id);
        wait_for(&format!("a prompt or a command on pane {id}"), SOON, || {
            let s = pane.screen();
            let last = s.lines().rev().find(|l| !l.trim().is_empty())?;
            let running = w.tmux_ok(&[
                "display-message",
                "-p",
                "-t",
                &id,
                "#{pane_current_command}",
            ]);
            (last.starts_with(common::PROMPT.trim_end())
                || !["bash", "zsh", "fish", "sh"].contains(&running.trim()))
            .then_some(())
        });
    }
    out
}

/// The dev server's line, and its argv.
fn server(port: u16) -> (String, Vec<String>) {
    let argv = server_argv(port);
    (argv.join(" "), argv)
}

/// The pids of the dev server's processes in `dir`, once it answers.
fn serving(dir: &str, argv: &[String], port: u16) -> Vec<u32> {
    wait_for(&format!("the dev server on port {port}"), SOON, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        let pids = pids_of(Path::new(dir), argv);
        (!pids.is_empty()).then_some(pids)
    })
}

/// The brief's running list: (command, alive).
fn running_list(brief: &Value) -> Vec<(String, bool)> {
    brief["running"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["command"].as_str().unwrap().to_string(),
                r["alive"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// Servers that outlive their tmux server (started without tmux, or from a subshell),
/// killed when the test ends: every process with this argv in this directory.
struct Reap<'a>(&'a str, &'a [String]);

impl Drop for Reap<'_> {
    fn drop(&mut self) {
        common::kill_all(Path::new(self.0), self.1);
    }
}

/// Wait until no dev server runs in `dir`.
fn no_server(dir: &str, argv: &[String]) {
    wait_for("the dev server to end", SOON, || {
        pids_of(Path::new(dir), argv).is_empty().then_some(())
    });
}

/// Run `command` in the pane; it prints `<marker>=` then an answer that `done` accepts
/// (the typed line must not hold `<marker>=` itself). Returns the newest answer.
fn answer(pane: &Pane, command: &str, marker: &str, done: impl Fn(&str) -> bool) -> String {
    pane.run(command);
    let key = format!("{marker}=");
    let found = |s: &str| {
        s.lines()
            .rev()
            .find_map(|l| l.split_once(&key).map(|(_, a)| a.trim().to_string()))
            .filter(|a| done(a))
    };
    wait_for(&format!("{marker} on pane {}", pane.id), SOON, || {
        found(&pane.screen())
    })
}

/// Run `command` in the pane; it prints `<marker>=N`, N the count of history entries
/// holding a first-generation command. Returns N.
fn history_count(pane: &Pane, command: &str, marker: &str) -> u32 {
    answer(pane, command, marker, |a| a.parse::<u32>().is_ok())
        .parse()
        .unwrap()
}

#[test]
fn a_crash_right_after_a_restore_rebuilds_the_same_session_with_every_generations_history() {
    let test =
        "a_crash_right_after_a_restore_rebuilds_the_same_session_with_every_generations_history";
    if !require(test, &["bash", "zsh", "fish", "tmux"]) {
        return;
    }
    let w = World::new();
    no_history_files(&w);
    let (pa, pb, pc, pd) = (dir(&w, "pa"), dir(&w, "pb"), dir(&w, "pc"), dir(&w, "pd"));
    let a = w.start_session("work", Kind::Bash);
    w.tmux_ok(&["rename-window", "-t", &a.id, "three panes"]);
    let b = w.split(&a.id, Kind::Zsh);
    let c = w.split(&b.id, Kind::Fish);
    w.tmux_ok(&["select-layout", "-t", &a.id, "main-vertical"]);
    let d = background_window(&w, "second", None);
    let e = w.split(&d.id, Kind::Bash);
    a.run(&format!("cd {pa} && echo gen0-bash"));
    b.run(&format!("cd {pb} && echo gen0-zsh"));
    c.run(&format!("cd {pc}; and echo gen0-fish"));
    d.run(&format!("cd {pd} && echo gen0-second"));
    w.wait_finished(4);
    w.tmux_ok(&["select-pane", "-t", &b.id]);
    wait_for("every cwd recorded", SOON, || {
        let shells = w.shells();
        [&pa, &pb, &pc, &pd]
            .iter()
            .all(|d| shells.iter().any(|s| s["cwd"] == d.as_str()))
            .then_some(())
    });
    let before = places(&w, "work");
    assert_eq!(before.len(), 5, "{before:#?}");
    // A command held in the last pane: it must wait in its edit buffer every round.
    e.run("sleep 1000");
    wait_for("sleep running", SOON, || {
        w.shells()
            .iter()
            .any(|s| s["running"] == "sleep 1000")
            .then_some(())
    });
    w.snap_ok(&["save"]);
    next_second();

    for round in 1..=3 {
        // Round 1 restores from `snap save`; rounds 2 and 3 follow a crash right after
        // the previous restore, with no snapshot taken in between by anyone else.
        w.crash("work");
        let out = restore(&w, &[]);
        let now = places(&w, "work");
        assert_eq!(now, before, "round {round}: places differ\n{out}");
        // Earlier generations, replaced by a restore, are not reported as left out.
        assert!(!out.contains("not restored"), "round {round}: {out}");
        // The user never set ZDOTDIR: no note about it.
        assert!(!out.contains("ZDOTDIR"), "round {round}: {out}");
        let ids = w.pane_ids("work");
        // Each pane shows its screen from before the first crash (above the brief).
        wait_for("the saved screen", SOON, || {
            w.tmux_ok(&["capture-pane", "-p", "-J", "-S", "-", "-t", &ids[0]])
                .lines()
                .any(|l| l.trim_end() == "gen0-bash")
                .then_some(())
        });
        let prev = round - 1;
        let checks = [
            (
                &ids[0],
                format!("echo \"R$(({prev}+1))=$(history | grep -c 'gen0-bas[h]')\""),
            ),
            (
                &ids[1],
                format!("echo \"R$(({prev}+1))=$(fc -l 1 | grep -c 'gen0-zs[h]')\""),
            ),
            (
                &ids[2],
                format!("echo R(math {prev}+1)=(history | grep -c 'gen0-fis[h]')"),
            ),
            (
                &ids[3],
                format!("echo \"R$(({prev}+1))=$(history | grep -c 'gen0-secon[d]')\""),
            ),
        ];
        for (id, command) in checks {
            let n = history_count(&w.pane(id), &command, &format!("R{round}"));
            assert_eq!(n, 1, "round {round}, pane {id}: {command}\n{out}");
        }
        let held = w.pane(&ids[4]);
        wait_for("the held command in its edit buffer", SOON, || {
            let s = held.screen();
            let last = s.lines().rev().find(|l| !l.trim().is_empty())?;
            (last.trim_end() == "READY> sleep 1000").then_some(())
        });
        assert!(
            !w.shells()
                .iter()
                .any(|s| s["alive"] == true && s["running"] == "sleep 1000"),
            "round {round}: the held command ran"
        );
        // Checking ran a command in each shell: the active pane is still the same.
        w.tmux_ok(&["select-pane", "-t", &ids[1]]);
    }
}

#[test]
fn a_three_pane_window_keeps_its_pane_order_across_two_restores() {
    if !require(
        "a_three_pane_window_keeps_its_pane_order_across_two_restores",
        &["bash", "tmux"],
    ) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let a = w.start_session("work", Kind::Bash);
    let b = w.split_in(&a.id, Path::new(&dir(&w, "second")), Kind::Bash);
    let c = w.split_in(&b.id, Path::new(&dir(&w, "third")), Kind::Bash);
    a.run(&format!("cd {}", dir(&w, "first")));
    b.run("true");
    c.run("true");
    w.wait_finished(3);
    w.tmux_ok(&["select-layout", "-t", &a.id, "even-vertical"]);
    let before = places(&w, "work");
    for round in 1..=2 {
        w.snap_ok(&["save"]);
        w.crash("work");
        restore(&w, &[]);
        assert_eq!(places(&w, "work"), before, "round {round}");
    }
}

#[test]
fn missing_puts_a_killed_split_pane_back_into_its_window_with_the_name_kept() {
    if !require(
        "missing_puts_a_killed_split_pane_back_into_its_window_with_the_name_kept",
        &["bash", "tmux"],
    ) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let a = w.start_session_in(
        "work",
        Path::new(&dir(&w, "left")),
        &w.shell_command(Kind::Bash),
    );
    let name = "a window name longer than tmux shows in its status line";
    w.tmux_ok(&["rename-window", "-t", &a.id, name]);
    let b = w.split_in(&a.id, Path::new(&dir(&w, "middle")), Kind::Bash);
    let _c = w.split_in(&b.id, Path::new(&dir(&w, "right")), Kind::Bash);
    w.tmux_ok(&["select-layout", "-t", &a.id, "even-horizontal"]);
    let before = places(&w, "work");
    w.snap_ok(&["save"]);
    kill_pane(&w, &b);
    let out = restore(&w, &["--missing"]);
    let now = places(&w, "work");
    // Same window, same name, the shell back in the middle, the layout as it was; only
    // the active pane may differ.
    let strip = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|l| l.rsplit_once(' ').unwrap().0.to_string())
            .collect()
    };
    assert_eq!(strip(&now), strip(&before), "{out}");
}

/// A session of two panes (in `kept` and `closed`); `closed` is killed, after a
/// `snap save` when `saved`, else before snap ever captured the server; then a crash
/// and a restore: only `kept` comes back. Returns the world, for more rounds.
fn kill_one_pane_then_crash(test: &str, saved: bool) -> Option<World> {
    if !require(test, &["bash", "tmux"]) {
        return None;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let a = w.start_session_in(
        "work",
        Path::new(&dir(&w, "kept")),
        &w.shell_command(Kind::Bash),
    );
    let b = w.split_in(&a.id, Path::new(&dir(&w, "closed")), Kind::Bash);
    a.run("true");
    b.run("true");
    w.wait_finished(2);
    if saved {
        w.snap_ok(&["save"]);
    } else {
        assert!(
            snapshots_in(&w).is_empty(),
            "no snapshot may exist before the kill"
        );
    }
    kill_pane(&w, &b);
    w.crash("work");
    let out = restore(&w, &[]);
    let now = places(&w, "work");
    assert_eq!(now.len(), 1, "{now:#?}\n{out}");
    assert!(now[0].contains("/kept "), "{now:#?}");
    Some(w)
}

#[test]
fn a_pane_killed_just_before_the_server_dies_stays_closed() {
    let test = "a_pane_killed_just_before_the_server_dies_stays_closed";
    let Some(w) = kill_one_pane_then_crash(test, true) else {
        return;
    };
    // The second restore agrees.
    w.crash("work");
    restore(&w, &[]);
    assert_eq!(places(&w, "work").len(), 1);
}

/// A pane killed before snap ever captured its tmux server (no snapshot, no daemon
/// tick yet) stays closed too: the shell's start set the hook.
#[test]
fn a_pane_killed_before_any_capture_stays_closed() {
    kill_one_pane_then_crash("a_pane_killed_before_any_capture_stays_closed", false);
}

/// The snapshot files in the world's store.
fn snapshots_in(w: &World) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(w.snap_home.join("snapshots"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
fn a_deleted_project_directory_is_not_named_as_the_project() {
    if !require(
        "a_deleted_project_directory_is_not_named_as_the_project",
        &["bash", "tmux"],
    ) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let gone = dir(&w, "gone");
    std::fs::create_dir_all(Path::new(&gone).join(".git")).unwrap();
    let a = w.start_session_in("work", Path::new(&gone), &w.shell_command(Kind::Bash));
    a.run("true");
    w.wait_finished(1);
    w.snap_ok(&["save"]);
    w.crash("work");
    std::fs::remove_dir_all(&gone).unwrap();
    let out = w.snap_ok(&["restore", "work", "--dry-run", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_ne!(v["brief"]["project"], gone.as_str(), "{v:#}");
    // The shell comes back in the nearest directory that still exists.
    assert_eq!(
        v["plan"]["windows"][0]["panes"][0]["cwd"],
        w.home.display().to_string(),
        "{v:#}"
    );
}

#[test]
fn a_server_a_no_tmux_restore_started_is_not_started_again_by_a_tmux_restore() {
    let test = "a_server_a_no_tmux_restore_started_is_not_started_again_by_a_tmux_restore";
    if !require(test, &["bash", "tmux", "python3"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "HISTFILE=/dev/null", "");
    let srv = dir(&w, "srv");
    let port = World::free_port();
    let (line, argv) = server(port);
    let a = w.start_session_in("work", Path::new(&srv), &w.shell_command(Kind::Bash));
    a.run(&line);
    serving(&srv, &argv, port);
    wait_for("the server recorded as running", SOON, || {
        w.shells()
            .iter()
            .any(|s| s["running"] == line.as_str())
            .then_some(())
    });
    w.snap_ok(&["save"]);
    // A tmux restore first (it records the rebuilt session), then a crash.
    w.crash("work");
    no_server(&srv, &argv);
    restore(&w, &[]);
    serving(&srv, &argv, port);
    // Restore ran it: `source: "restore"` in history, and the brief lists it once.
    wait_for("the relaunch in history", SOON, || {
        w.history()
            .iter()
            .any(|r| r["command"] == line.as_str() && r["source"] == "restore")
            .then_some(())
    });
    let brief = w.snap_json(&["brief", "work", "--json"]);
    let sources: Vec<&Value> = brief["last_commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["source"])
        .collect();
    assert_eq!(sources, ["shell", "restore"], "{brief:#}");
    assert_eq!(running_list(&brief), [(line.clone(), true)], "{brief:#}");
    w.crash("work");
    no_server(&srv, &argv);
    assert_eq!(
        running_list(&w.snap_json(&["brief", "work", "--json"])),
        [(line.clone(), false)]
    );
    // Without tmux the server starts in the background…
    w.snap_ok(&["restore", "work", "--no-tmux", "--no-attach"]);
    let pids = serving(&srv, &argv, port);
    let _reap = Reap(&srv, &argv);
    assert_eq!(pids.len(), 1, "{pids:?}");
    // …and the tmux restore after it leaves it be.
    let out = restore(&w, &[]);
    assert!(
        out.contains(&format!(
            "left out: {line}: still running (pid {})",
            pids[0]
        )),
        "{out}"
    );
    assert_eq!(serving(&srv, &argv, port), pids);
}

/// The kinds of the session's live shells, in tmux's pane order.
fn kinds(w: &World) -> Vec<String> {
    let shells = w.shells();
    w.pane_ids("work")
        .iter()
        .map(|id| {
            shells
                .iter()
                .find(|s| s["alive"] == true && s["tmux"]["pane_id"] == id.as_str())
                .map_or("?".to_string(), |s| s["kind"].as_str().unwrap().to_string())
        })
        .collect()
}

/// The restore output's brief: its running list, as printed.
fn printed_running(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| l.starts_with("running: ") || l.starts_with("was running when"))
        .collect()
}

#[test]
fn five_crashes_in_a_row_give_back_the_same_session_each_thing_once() {
    let test = "five_crashes_in_a_row_give_back_the_same_session_each_thing_once";
    if !require(test, &["bash", "zsh", "fish", "tmux", "python3"]) {
        return;
    }
    let w = World::new();
    no_history_files(&w);
    let (pa, pb, pc, srv) = (dir(&w, "pa"), dir(&w, "pb"), dir(&w, "pc"), dir(&w, "srv"));
    let sub = dir(&w, "srv/sub");
    // Window "shells": bash, zsh and fish, and a fourth pane killed while the session lived.
    let a = w.start_session("work", Kind::Bash);
    w.tmux_ok(&["rename-window", "-t", &a.id, "shells"]);
    let b = w.split(&a.id, Kind::Zsh);
    let c = w.split(&b.id, Kind::Fish);
    let killed = w.split(&c.id, Kind::Bash);
    a.run(&format!(
        "cd {pa} && export VB=bash-env && echo rounds-cmd-0"
    ));
    b.run(&format!(
        "cd {pb} && export VZ=zsh-env && echo rounds-cmd-0"
    ));
    c.run(&format!(
        "cd {pc}; and set -gx VF fish-env; and echo rounds-cmd-0"
    ));
    killed.run("true");
    w.wait_finished(4);
    kill_pane(&w, &killed);
    w.tmux_ok(&["select-layout", "-t", &a.id, "main-vertical"]);
    // Window "server": a job backgrounded from a subshell, then a dev server in the
    // foreground.
    let (port1, port2) = (World::free_port(), World::free_port());
    let (line1, argv1) = server(port1);
    let (line2, argv2) = server(port2);
    let _reap = Reap(&sub, &argv2);
    let d = background_window(&w, "server", Some(&srv));
    d.run(&format!("(cd sub && {line2} >/dev/null 2>&1 &)"));
    serving(&sub, &argv2, port2);
    d.run(&line1);
    serving(&srv, &argv1, port1);
    // Window "gone": closed by `exit`.
    let e = background_window(&w, "gone", None);
    e.run("exit");
    wait_for("the window closed by exit", SOON, || {
        (w.pane_ids("work").len() == 4).then_some(())
    });
    w.tmux_ok(&["select-window", "-t", &a.id]);
    w.tmux_ok(&["select-pane", "-t", &b.id]);
    wait_for("the server recorded as running", SOON, || {
        w.shells()
            .iter()
            .any(|s| s["running"] == line1.as_str())
            .then_some(())
    });
    let before = places(&w, "work");
    assert_eq!(before.len(), 4, "{before:#?}");
    let before_kinds = kinds(&w);
    assert_eq!(before_kinds, ["bash", "zsh", "fish", "bash"]);

    for round in 1..=5u32 {
        // Every round is saved first but the second: it follows a crash right after the
        // first restore, with no snapshot since but the one restore takes itself.
        if round != 2 {
            w.snap_ok(&["save"]);
        }
        next_second();
        w.crash("work");
        no_server(&srv, &argv1);
        // The job from the subshell outlives kill-server (reparented to init, off the
        // closed terminal): end it as a reboot would.
        end_all(&sub, &argv2);
        let out = restore(&w, &[]);
        let ctx = format!("round {round}:\n{out}");
        // Only this generation's closed shells are reported, one line per reason; the
        // ones before were reported by the restore before.
        let closed: Vec<&str> = out.lines().filter(|l| l.contains("not restored")).collect();
        if round == 4 {
            // The pane killed in the third generation.
            assert_eq!(closed.len(), 1, "{ctx}");
            assert!(
                closed[0].contains("ended (hangup)") && closed[0].contains(": 1 shell ("),
                "{ctx}"
            );
        } else if round == 1 {
            assert_eq!(closed.len(), 2, "{ctx}");
            assert!(
                closed
                    .iter()
                    .any(|l| l.contains("ended (exit)") && l.contains(": 1 shell (")),
                "{ctx}"
            );
            assert!(
                closed
                    .iter()
                    .any(|l| l.contains("ended (hangup)") && l.contains(": 1 shell (")),
                "{ctx}"
            );
        } else {
            assert_eq!(closed, Vec::<&str>::new(), "{ctx}");
        }
        // The brief restore printed (all shells gone): the server once, as gone.
        assert_eq!(
            printed_running(&out),
            [format!(
                "was running when its shell went away: {line1}  (in {srv})"
            )],
            "{ctx}"
        );
        // The dev server answers, from one process; so does the subshell's job.
        assert_eq!(serving(&srv, &argv1, port1).len(), 1, "{ctx}");
        // The job comes back in its pane, before the server (a pane runs a job that
        // gave the prompt back before its own line), from one process.
        assert_eq!(serving(&sub, &argv2, port2).len(), 1, "{ctx}");
        // Windows, names, pane order, cwd, layout, active pane and window; the kinds.
        assert_eq!(places(&w, "work"), before, "{ctx}");
        assert_eq!(kinds(&w), before_kinds, "{ctx}");
        // Each shell: every round's command once in its own history, and its variable.
        let ids = w.pane_ids("work");
        let m = round - 1;
        let pattern = "'rounds-cm[d]-[0-9][0-9]*'";
        let checks = [
            (&ids[0], format!("echo \"H$(({m}+1))=$(history | grep -o {pattern} | sort | tr '\\n' ,)|$VB|\""), "bash-env"),
            (&ids[1], format!("echo \"H$(({m}+1))=$(fc -l 1 | grep -o {pattern} | sort | tr '\\n' ,)|$VZ|\""), "zsh-env"),
            (&ids[2], format!("set -l h (history | grep -o {pattern} | sort | string join ,); echo \"H\"(math {m}+1)\"=$h|$VF|\""), "fish-env"),
        ];
        let want: Vec<String> = (0..round).map(|r| format!("rounds-cmd-{r}")).collect();
        for (id, command, var) in checks {
            let pane = w.pane(id);
            let got = answer(&pane, &command, &format!("H{round}"), |a| a.ends_with('|'));
            let (list, env) = got.split_once('|').unwrap();
            let list: Vec<&str> = list.split(',').filter(|x| !x.is_empty()).collect();
            assert_eq!(list, want, "pane {id}: {command}\n{ctx}");
            assert_eq!(env, format!("{var}|"), "pane {id}\n{ctx}");
            pane.run(&format!("echo rounds-cmd-{round}"));
        }
        // The brief names what runs now: the server, once.
        let brief = w.snap_json(&["brief", "work", "--json"]);
        assert_eq!(
            running_list(&brief),
            [(line1.clone(), true)],
            "{brief:#}\n{ctx}"
        );
        wait_for("this round's commands recorded", SOON, || {
            let h = w.history();
            let n = h
                .iter()
                .filter(|r| {
                    r["command"] == format!("echo rounds-cmd-{round}") && !r["exit"].is_null()
                })
                .count();
            (n == 3).then_some(())
        });
        if round == 3 {
            // A pane opened and killed while this generation lived.
            let extra = w.split(&ids[2], Kind::Bash);
            kill_pane(&w, &extra);
            w.tmux_ok(&["select-layout", "-t", &ids[0], "main-vertical"]);
        }
        w.tmux_ok(&["select-pane", "-t", &ids[1]]);
        assert_eq!(
            places(&w, "work"),
            before,
            "round {round}: after the checks"
        );
    }
}

#[test]
fn in_bash_zsh_and_fish_a_job_that_left_the_shell_comes_back_in_its_pane_before_its_server() {
    let test =
        "in_bash_zsh_and_fish_a_job_that_left_the_shell_comes_back_in_its_pane_before_its_server";
    if !require(test, &["bash", "zsh", "fish", "tmux", "python3"]) {
        return;
    }
    let w = World::new();
    no_history_files(&w);
    let srv = dir(&w, "srv");
    let sub = dir(&w, "srv/sub");
    let zsh = w.start_session_in("work", Path::new(&srv), &w.shell_command(Kind::Zsh));
    let fish = w.split_in(&zsh.id, Path::new(&srv), Kind::Fish);
    let bash = w.split_in(&fish.id, Path::new(&srv), Kind::Bash);
    // In each pane: a job that left the shell's tree at once (its `sh` ends, the server
    // goes to init), then a server in the foreground.
    let mut servers = Vec::new();
    for pane in [&zsh, &fish, &bash] {
        let (job_port, own_port) = (World::free_port(), World::free_port());
        let (job_line, job_argv) = server(job_port);
        let (own_line, own_argv) = server(own_port);
        let job = format!("sh -c 'cd sub && exec {job_line} >/dev/null 2>&1 &'");
        pane.run(&job);
        serving(&sub, &job_argv, job_port);
        pane.run(&own_line);
        serving(&srv, &own_argv, own_port);
        servers.push((job, job_argv, job_port, own_line, own_argv, own_port));
    }
    let _reap: Vec<Reap> = servers.iter().map(|s| Reap(&sub, &s.1)).collect();
    wait_for("every server recorded as running", SOON, || {
        let shells = w.shells();
        servers
            .iter()
            .all(|s| shells.iter().any(|sh| sh["running"] == s.3.as_str()))
            .then_some(())
    });
    let before = places(&w, "work");
    w.snap_ok(&["save"]);
    next_second();
    w.crash("work");
    // As a reboot would: every server gone, the jobs that outlived tmux too.
    for (_, job_argv, _, _, own_argv, _) in &servers {
        end_all(&sub, job_argv);
        no_server(&srv, own_argv);
    }
    let out = restore(&w, &["--yes"]);
    // Each server back once; one window, its three panes as they were.
    for (_, job_argv, job_port, _, own_argv, own_port) in &servers {
        assert_eq!(serving(&sub, job_argv, *job_port).len(), 1, "{out}");
        assert_eq!(serving(&srv, own_argv, *own_port).len(), 1, "{out}");
    }
    assert_eq!(places(&w, "work"), before, "{out}");
    // Both lines of each pane recorded once more, as restore's.
    wait_for(
        "the lines restore entered recorded as its own",
        SOON,
        || {
            let h = w.history();
            servers
                .iter()
                .all(|s| {
                    [&s.0, &s.3].iter().all(|line| {
                        let of = |src: &str| {
                            h.iter()
                                .filter(|r| r["command"] == line.as_str() && r["source"] == src)
                                .count()
                        };
                        of("restore") == 1 && of("shell") == 1
                    })
                })
                .then_some(())
        },
    );
}
