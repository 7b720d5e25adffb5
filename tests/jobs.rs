//! Jobs are what the user started: in real shells in tmux, a process is captured as a
//! job when a recorded command started it, wherever it went since (a subshell's job
//! reparented to init), with the line that started it (not the line typed after it);
//! what a shell or its rc starts by itself is no job; a job's env prefix stays its own;
//! a stopped job is stopped, not failed, and not started again; a job's line known only
//! redacted comes back from the journal, and a job left out makes no window.

mod common;

use common::{pids_of, require, server_argv, wait_for, Kind, World, SOON};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// A generous bound for a relaunched server to answer on a loaded machine.
const SERVER: Duration = Duration::from_secs(40);

fn answers(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// The pid of the dev server on `port` in `dir`, if it runs.
fn server_pid(dir: &Path, port: u16) -> Option<u32> {
    pids_of(dir, &server_argv(port)).first().copied()
}

/// Wait until the dev server on `port` answers again (`ctx`: after what) and its new
/// process in `dir` is found; its pid.
fn server_back(dir: &Path, port: u16, ctx: &str) -> u32 {
    wait_for(&format!("the server again: {ctx}"), SERVER, || {
        answers(port).then_some(())
    });
    wait_for("the new server's pid", SOON, || server_pid(dir, port))
}

/// `snap save --json`: the snapshot taken.
fn save(w: &World) -> Value {
    w.snap_json(&["save", "--json"])
}

/// The job leaders of the session's shells in a snapshot.
fn leaders(snap: &Value) -> Vec<Value> {
    snap["sessions"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["shells"].as_array().cloned().unwrap_or_default())
        .flat_map(|sh| sh["processes"].as_array().cloned().unwrap_or_default())
        .filter(|p| p["job_leader"] == true)
        .collect()
}

/// Every process of every shell in a snapshot, as its argv joined.
fn argvs(snap: &Value) -> Vec<String> {
    snap["sessions"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["shells"].as_array().cloned().unwrap_or_default())
        .flat_map(|sh| sh["processes"].as_array().cloned().unwrap_or_default())
        .map(|p| {
            p["cmd"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The relaunches of the windows a plan makes (`restore --dry-run --json`).
fn window_relaunches(plan: &Value) -> Vec<Value> {
    plan["plan"]["windows"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w["panes"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| Some(p["relaunch"].clone()).filter(|r| !r.is_null()))
        .collect()
}

/// `snap restore work --dry-run --yes --json`.
fn dry_run(w: &World) -> Value {
    serde_json::from_str(&w.snap_ok(&["restore", "work", "--dry-run", "--yes", "--json"])).unwrap()
}

/// Wait until the shell recorded the end of `line`.
fn wait_done(w: &World, line: &str) {
    wait_for(&format!("the end of {line:?}"), SOON, || {
        w.history()
            .iter()
            .any(|r| r["command"] == line && !r["exit"].is_null())
            .then_some(())
    });
}

/// `snap restore work` without attaching.
fn restore(w: &World) -> String {
    w.snap_ok(&["restore", "work", "--no-attach", "--yes"])
}

/// Kills processes when dropped (a failed assertion must not leave them running).
struct Reaper(Vec<u32>);

impl Drop for Reaper {
    fn drop(&mut self) {
        for pid in &self.0 {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

/// A field of `/proc/PID/stat` after the command name (0 is the state).
fn stat_field(pid: u32, n: usize) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(n).map(str::to_string)
}

/// How long a process has run, from /proc.
fn running_for(pid: u32) -> Option<Duration> {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let started = stat_field(pid, 19)?.parse::<f64>().ok()? / ticks;
    let up: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(Duration::from_secs_f64((up - started).max(0.0)))
}

/// The children of `pid` whose command line (its words joined by spaces) holds `needle`.
fn children_running(pid: u32, needle: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&p| stat_field(p, 1).as_deref() == Some(&pid.to_string()))
        .filter(|&p| {
            std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| {
                String::from_utf8_lossy(&c)
                    .replace('\0', " ")
                    .contains(needle)
            })
        })
        .collect()
}

fn proj(w: &World, sub: &str) -> std::path::PathBuf {
    let d = w.home.join("proj").join(sub);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `(cd sub && server &)` leaves the shell's tree (its subshell exits, init adopts it):
/// it is captured as a job all the same, with the line that started it, and after a
/// reboot (tmux and the server gone) restore starts it again.
#[test]
fn a_job_that_left_the_shells_tree_is_captured_and_comes_back_after_a_reboot() {
    for kind in [Kind::Bash, Kind::Zsh] {
        if !require("left_the_tree", &[kind.name(), "tmux", "python3"]) {
            return;
        }
        let w = World::new();
        w.write_rc(kind, "", "");
        let sub = proj(&w, "sub");
        let pane = w.start_session("work", kind);
        pane.run("cd proj");
        let port = World::free_port();
        let line = format!("(cd sub && python3 -m http.server {port} --bind 127.0.0.1 &)");
        pane.run(&line);
        wait_for("the server", SOON, || answers(port).then_some(()));
        let pid = wait_for("the server's pid", SOON, || server_pid(&sub, port));
        let mut reaper = Reaper(vec![pid]);
        let shell = pane.pid();
        assert_ne!(
            stat_field(pid, 1).unwrap(),
            shell.to_string(),
            "{kind:?}: the server should have left the shell's tree"
        );
        wait_done(&w, &line);

        let snap = save(&w);
        // The job's top is the server, or the copy of the shell that runs it.
        let mut top = pid;
        while stat_field(top, 1).is_some_and(|p| p != "1") {
            top = stat_field(top, 1).unwrap().parse().unwrap();
        }
        let leaders = leaders(&snap);
        let job = leaders
            .iter()
            .find(|p| p["pid"] == top)
            .unwrap_or_else(|| panic!("{kind:?}: the server is no job: {leaders:#?}"));
        assert_eq!(job["typed"], line.as_str(), "{kind:?}");
        // (A version manager may run python3 by its full path.)
        assert!(
            argvs(&snap)
                .iter()
                .any(|a| a.ends_with(&server_argv(port).join(" "))),
            "{kind:?}: {:?}",
            argvs(&snap)
        );

        // As after a reboot, twice: tmux and the server gone. The job runs again in
        // its shell's own pane, as it started (it gave the prompt back): no window of
        // its own, however many generations.
        let mut pid = pid;
        for round in 1..=2 {
            if round > 1 {
                save(&w);
            }
            w.crash("work");
            reaper.0.retain(|p| *p != pid);
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
            wait_for("the server to die", SOON, || (!answers(port)).then_some(()));
            let out = restore(&w);
            let ctx = format!("{kind:?}, round {round}: {out}");
            pid = server_back(&sub, port, &ctx);
            reaper.0.push(pid);
            let panes = w.tmux_ok(&["list-panes", "-s", "-t", "=work", "-F", "#{pane_pid}"]);
            assert_eq!(panes.lines().count(), 1, "{ctx}\n{panes}");
            // The restored shell recorded the line it ran: the job is its own again.
            wait_done(&w, &line);
        }
    }
}

/// `./srv.sh &` then `date > f`: the script's job is the line that started it (matched
/// by time), not the latest line, and that is what restore starts again.
#[test]
fn a_background_script_is_the_line_that_started_it_not_the_line_after() {
    if !require("background_script", &["bash", "tmux", "python3"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let dir = proj(&w, "");
    std::fs::write(
        dir.join("srv.sh"),
        "#!/usr/bin/env bash\npython3 -m http.server \"$1\" --bind 127.0.0.1\n",
    )
    .unwrap();
    std::process::Command::new("chmod")
        .args(["+x", &dir.join("srv.sh").display().to_string()])
        .status()
        .unwrap();
    let pane = w.start_session("work", Kind::Bash);
    pane.run("cd proj");
    let port = World::free_port();
    let started = format!("./srv.sh {port} &");
    pane.run(&started);
    pane.run("date > f");
    wait_for("the server", SOON, || answers(port).then_some(()));
    wait_done(&w, "date > f");

    let snap = save(&w);
    let leaders = leaders(&snap);
    let script = leaders
        .iter()
        .find(|p| p["cmd"].to_string().contains("srv.sh"))
        .unwrap_or_else(|| panic!("no job for the script: {leaders:#?}"));
    assert_eq!(script["typed"], started.as_str(), "{script:#}");

    w.crash("work");
    let plan = dry_run(&w);
    let lines: Vec<String> = window_relaunches(&plan)
        .iter()
        .map(|r| r["original"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(lines.contains(&format!("./srv.sh {port}")), "{lines:?}");
    assert!(!lines.iter().any(|l| l == "date > f"), "{lines:?}");
}

/// What a shell starts by itself is no job: fish's completion generator (a fresh HOME,
/// fish's default config) at its first prompt, and a helper a bash rc starts in the
/// background (as prompt frameworks start gitstatusd). Neither is in the snapshot nor
/// comes back; a job typed after them does.
#[test]
fn what_a_shell_or_its_rc_starts_by_itself_is_no_job() {
    if !require("no_job", &["bash", "fish", "tmux", "python3"]) {
        return;
    }
    let w = World::new();
    // fish as a new user has it: no generated completions yet, so it starts the
    // generator (the test harness's write_rc prevents that).
    let config = w.home.join(".config/fish");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.fish"),
        format!(
            "set -g fish_greeting\nfunction fish_prompt; printf '%s' '{}'; end\n'{}' init fish | source\n",
            common::PROMPT,
            w.bin.display()
        ),
    )
    .unwrap();
    w.write_rc(Kind::Bash, "sleep 1004 &", "");
    let fish = w.start_session("work", Kind::Fish);
    let fish_pid = fish.pid();
    let generator = wait_for("fish's completion generator", SOON, || {
        children_running(fish_pid, "create_manpage_completions")
            .first()
            .copied()
    });
    let mut reaper = Reaper(vec![generator]);
    let bash = w.split(&fish.id, Kind::Bash);
    let helper = wait_for("the rc's helper", SOON, || {
        children_running(bash.pid(), "sleep 1004").first().copied()
    });
    reaper.0.push(helper);
    // Whatever the user types comes well after (as a person types).
    wait_for("the generator to have run a while", SOON, || {
        (running_for(generator)? > Duration::from_millis(500)).then_some(())
    });
    fish.run("sleep 1003 &");
    let typed = wait_for("the typed job", SOON, || {
        children_running(fish_pid, "sleep 1003").first().copied()
    });
    reaper.0.push(typed);
    wait_done(&w, "sleep 1003 &");

    let snap = save(&w);
    let argvs = argvs(&snap);
    assert!(argvs.iter().any(|a| a == "sleep 1003"), "{argvs:?}");
    assert!(
        !argvs
            .iter()
            .any(|a| a.contains("create_manpage_completions")),
        "fish's own generator is no job: {argvs:?}"
    );
    assert!(
        !argvs.iter().any(|a| a == "sleep 1004"),
        "the rc's helper is no job: {argvs:?}"
    );
    w.crash("work");
    let plan = dry_run(&w);
    let shown = plan["plan"].to_string();
    assert!(!shown.contains("create_manpage_completions"), "{shown}");
    assert!(!shown.contains("sleep 1004"), "{shown}");
    assert!(
        window_relaunches(&plan)
            .iter()
            .any(|r| r["original"] == "sleep 1003"),
        "{shown}"
    );
}

/// `PORT2=… server &`: after a restore the job gets PORT2 again from its own line, and
/// the shell of its window does not have it exported.
#[test]
fn a_jobs_env_prefix_stays_the_jobs() {
    if !require("env_prefix", &["bash", "tmux", "python3"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let dir = proj(&w, "");
    let pane = w.start_session("work", Kind::Bash);
    pane.run("cd proj");
    let port = World::free_port();
    let line = format!("PORT2={port} python3 -m http.server {port} --bind 127.0.0.1 &");
    pane.run(&line);
    wait_for("the server", SOON, || answers(port).then_some(()));
    wait_done(&w, &line);
    save(&w);
    w.crash("work");
    wait_for("the server to die", SOON, || (!answers(port)).then_some(()));
    let out = restore(&w);
    let pid = server_back(&dir, port, &out);
    let _reaper = Reaper(vec![pid]);
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let want = format!("PORT2={port}");
    assert!(
        environ.split(|&b| b == 0).any(|e| e == want.as_bytes()),
        "the job has its PORT2 from its line"
    );
    let shells = w.shells();
    let exported: Vec<&Value> = shells
        .iter()
        .filter(|s| s["alive"] == true && s["env"].get("PORT2").is_some())
        .collect();
    assert!(
        exported.is_empty(),
        "PORT2 exported in a shell: {exported:#?}"
    );
}

/// Ctrl-Z on a command: the snapshot says the job is stopped, the brief does not call
/// it the last failure (exit 148), and restore does not start it again, even with --yes.
#[test]
fn a_stopped_job_is_stopped_not_failed_and_not_started_again() {
    for kind in [Kind::Bash, Kind::Zsh, Kind::Fish] {
        if !require("stopped_job", &[kind.name(), "tmux"]) {
            return;
        }
        let w = World::new();
        w.write_rc(kind, "", "");
        let pane = w.start_session("work", kind);
        pane.run("false");
        pane.run("sleep 1005");
        let shell = pane.pid();
        let sleep = wait_for("sleep", SOON, || {
            children_running(shell, "sleep").first().copied()
        });
        let _reaper = Reaper(vec![sleep]);
        pane.keys(&["C-z"]);
        wait_for(&format!("{kind:?}: sleep to stop"), SOON, || {
            (stat_field(sleep, 0).as_deref() == Some("T")).then_some(())
        });
        wait_done(&w, "sleep 1005");

        let snap = save(&w);

        let brief = w.snap_json(&["brief", "work", "--json"]);
        assert_eq!(
            brief["last_failure"]["command"], "false",
            "{kind:?}: a stopped job is no failure: {brief:#}"
        );

        w.crash("work");
        let plan = dry_run(&w);
        assert!(
            !window_relaunches(&plan)
                .iter()
                .any(|r| r["original"] == "sleep 1005"),
            "{kind:?}: {plan:#}"
        );
        let left = plan["plan"]["jobs_left"].to_string();
        assert!(
            left.contains("sleep 1005") && left.contains("stopped"),
            "{kind:?}: {left}"
        );
        let job = leaders(&snap)
            .into_iter()
            .find(|p| p["pid"] == sleep)
            .unwrap_or_else(|| panic!("{kind:?}: the stopped job is not in the snapshot"));
        assert_eq!(job["stopped"], true, "{kind:?}: {job:#}");
    }
}

/// `PGPASSWORD=… server &`: the snapshot keeps the line redacted, restore takes the real
/// one from the journal and starts it; a job left out (a `never` line) makes no window.
#[test]
fn a_jobs_line_known_only_redacted_comes_back_and_a_job_left_out_makes_no_window() {
    if !require("redacted_job", &["bash", "tmux", "python3"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let dir = proj(&w, "");
    let pane = w.start_session("work", Kind::Bash);
    pane.run("cd proj");
    std::fs::write(dir.join("gone"), "a never job must not remove this").unwrap();
    let port = World::free_port();
    let line = format!("PGPASSWORD=s3cret-pw python3 -m http.server {port} --bind 127.0.0.1 &");
    pane.run(&line);
    pane.run("sleep 1006 && rm -f gone &");
    wait_for("the server", SOON, || answers(port).then_some(()));
    let shell = pane.pid();
    wait_for("sleep 1006", SOON, || {
        (!children_running(shell, "sleep 1006").is_empty()
            || !pids_of(&dir, &["sleep", "1006"]).is_empty())
        .then_some(())
    });
    wait_done(&w, &line);
    wait_done(&w, "sleep 1006 && rm -f gone &");
    let snap = save(&w);
    let typed: Vec<String> = leaders(&snap)
        .iter()
        .filter_map(|p| p["typed"].as_str().map(str::to_string))
        .collect();
    assert!(
        typed
            .iter()
            .any(|t| t.contains("PGPASSWORD=[redacted] python3")),
        "{typed:?}"
    );
    w.crash("work");
    wait_for("the server to die", SOON, || (!answers(port)).then_some(()));
    for pid in pids_of(&dir, &["sleep", "1006"]) {
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
    }
    let out = restore(&w);
    let pid = server_back(&dir, port, &out);
    let _reaper = Reaper(vec![pid]);
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    assert!(
        environ
            .split(|&b| b == 0)
            .any(|e| e == b"PGPASSWORD=s3cret-pw"),
        "the real line ran"
    );
    let windows = w.tmux_ok(&["list-windows", "-t", "=work", "-F", "#{window_name}"]);
    assert_eq!(
        windows.lines().count(),
        2,
        "the shell's and the server's: {windows}"
    );
    assert!(Path::new(&dir.join("gone")).exists());
    assert!(out.contains("job not started again: sleep 1006"), "{out}");
}
