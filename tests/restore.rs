//! `snap restore`: kill the whole tmux server (as a reboot would), restore, and check
//! what came back in real tmux, over three rounds.

mod common;

use common::{require, wait_for, Kind, World, SOON};
use serde_json::Value;
use std::time::Duration;

fn setup(test: &str) -> Option<World> {
    if !require(test, &["bash", "tmux", "python3"]) {
        return None;
    }
    let w = World::new();
    // Like a login shell's /etc/profile, the rc resets PATH: restore must win after it.
    w.write_rc(Kind::Bash, "PATH=/usr/local/bin:/usr/bin:/bin", "");
    Some(w)
}

/// Panes of a session: (window index, window name, pane id, pane pid).
fn panes(w: &World, session: &str) -> Vec<(u32, String, String, u32)> {
    let out = w.tmux_ok(&[
        "list-panes",
        "-s",
        "-t",
        &format!("={session}"),
        "-F",
        "#{window_index}\t#{window_name}\t#{pane_id}\t#{pane_pid}",
    ]);
    out.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[0].parse().unwrap(),
                f[1].to_string(),
                f[2].to_string(),
                f[3].parse().unwrap(),
            )
        })
        .collect()
}

fn save(w: &World) -> String {
    let out = w.snap(&["save"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn restore(w: &World, args: &[&str]) -> std::process::Output {
    let mut all = vec!["restore"];
    all.extend_from_slice(args);
    let out = w.snap(&all);
    assert!(
        out.status.success(),
        "snap {all:?}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

/// `snap restore ARGS --dry-run --json`, parsed.
fn dry_run(w: &World, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--dry-run", "--json"]);
    serde_json::from_slice(&restore(w, &all).stdout).unwrap()
}

/// Why each shell left out of a plan is left out.
fn left_reasons(v: &Value) -> Vec<String> {
    v["plan"]["left"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["reason"].as_str().unwrap().to_string())
        .collect()
}

/// Kill the whole tmux server, as a reboot would, and wait for the dev server to die.
fn kill_tmux(w: &World, port: u16) {
    w.tmux_ok(&["kill-server"]);
    wait_for("the dev server to die", SOON, || {
        (!answers(port)).then_some(())
    });
}

fn answers(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// Build the session: window "editor" (two panes: a held command and a never command),
/// window "server" (a dev server in the foreground with PORT in its env).
fn build_session(w: &World, port: u16) {
    let proj = w.home.join("proj");
    std::fs::create_dir_all(proj.join("src")).unwrap();
    std::fs::create_dir_all(proj.join("web")).unwrap();
    std::fs::write(proj.join("victim"), "keep me").unwrap();
    let a = w.start_session("work", Kind::Bash);
    w.tmux_ok(&["rename-window", "-t", &a.id, "editor"]);
    a.run("cd proj/src && export FOO='bar baz' && export PATH=$HOME/bin:$PATH");
    a.run("echo hello-from-history");
    let b = w.split(&a.id, Kind::Bash);
    w.tmux_ok(&["select-layout", "-t", &a.id, "even-horizontal"]);
    b.run("cd proj");
    b.run("rm -i victim");
    b.wait_text("remove");
    a.run("sleep 1000");
    let out = w.tmux_ok(&[
        "new-window",
        "-t",
        "=work:",
        "-n",
        "server",
        "-c",
        &w.home.display().to_string(),
        "-P",
        "-F",
        "#{pane_id}",
        &w.shell_command(Kind::Bash),
    ]);
    let c = w.pane(&out);
    c.wait_prompt();
    c.run(&format!(
        "cd proj/web && PORT={port} python3 -m http.server {port} --bind 127.0.0.1"
    ));
    wait_for("the dev server", SOON, || answers(port).then_some(()));
    wait_for("three running commands", SOON, || {
        let running = w
            .shells()
            .iter()
            .filter(|s| !s["running"].is_null())
            .count();
        (running == 3).then_some(())
    });
}

#[test]
fn restore_brings_back_windows_cwd_env_history_and_the_dev_server_over_three_rounds() {
    let Some(w) =
        setup("restore_brings_back_windows_cwd_env_history_and_the_dev_server_over_three_rounds")
    else {
        return;
    };
    let port = World::free_port();
    build_session(&w, port);
    let layout = w.tmux_ok(&[
        "display-message",
        "-p",
        "-t",
        "=work:editor",
        "#{window_layout}",
    ]);
    save(&w);
    let shells_before = w.shells().len();

    for round in 1..=3 {
        kill_tmux(&w, port);
        let out = restore(&w, &["work", "--no-attach"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("tmux attach-session -t work"),
            "round {round}: {stdout}"
        );

        // Windows in their order and names, the editor's layout.
        let names: Vec<String> = {
            let mut ws: Vec<(u32, String)> =
                panes(&w, "work").into_iter().map(|p| (p.0, p.1)).collect();
            ws.dedup();
            ws.into_iter().map(|p| p.1).collect()
        };
        assert_eq!(names, vec!["editor", "server"], "round {round}");
        let editor_panes = panes(&w, "work").iter().filter(|p| p.1 == "editor").count();
        assert_eq!(editor_panes, 2, "round {round}");
        let now_layout = w.tmux_ok(&[
            "display-message",
            "-p",
            "-t",
            "=work:editor",
            "#{window_layout}",
        ]);
        assert_eq!(now_layout.trim(), layout.trim(), "round {round}: layout");

        // The dev server answers again, with PORT in its environment.
        wait_for(
            "the dev server to answer again",
            Duration::from_secs(30),
            || answers(port).then_some(()),
        );

        // The held command is typed, not run; the never command is absent.
        let editor = panes(&w, "work")
            .into_iter()
            .filter(|p| p.1 == "editor")
            .collect::<Vec<_>>();
        let first = w.pane(&editor[0].2);
        first.wait_text("sleep 1000");
        let second = w.pane(&editor[1].2);
        second.wait_prompt();
        let rm_runs = w
            .history()
            .iter()
            .filter(|r| r["command"] == "rm -i victim")
            .count();
        assert_eq!(rm_runs, 1, "round {round}: the never-command ran again");
        assert!(w.home.join("proj/victim").exists());

        // cwd, env (PATH after an rc that resets it) and history in the shell itself.
        // One line, named by the round (the pane shows the screen saved last round) and
        // ended by a dot: it is read only once complete. `histor[y]` keeps grep from
        // counting the command itself, which bash's history already holds.
        first.keys(&["C-u"]);
        first.run(&format!(
            "echo \"round {round}: [$PWD][$FOO][${{PATH%%:*}}] history $(history | grep -c 'hello-from-histor[y]').\""
        ));
        let done = format!(
            "round {round}: [{}][bar baz][{}/bin] history ",
            w.home.join("proj/src").display(),
            w.home.display()
        );
        let (count, screen) = wait_for("the cwd, env and history line", SOON, || {
            let screen = first.screen();
            let count = screen.lines().find_map(|l| {
                let n = l.trim_end().strip_prefix(&done)?.strip_suffix('.')?;
                n.parse::<u32>().ok()
            })?;
            Some((count, screen))
        });
        assert!(count >= 1, "round {round}: history not loaded: {screen}");

        // No ghosts: the same number of live shells every round.
        let alive: Vec<Value> = w
            .shells()
            .into_iter()
            .filter(|s| s["alive"] == true)
            .collect();
        assert_eq!(alive.len(), 3, "round {round}: {alive:#?}");
        first.run("sleep 1000");
        wait_for("the held command running again", SOON, || {
            w.shells()
                .iter()
                .any(|s| s["alive"] == true && s["running"] == "sleep 1000")
                .then_some(())
        });
        save(&w);
    }
    assert!(w.shells().len() >= shells_before + 9);
}

#[test]
fn restore_while_the_session_lives_attaches_and_starts_nothing_twice() {
    let Some(w) = setup("restore_while_the_session_lives_attaches_and_starts_nothing_twice") else {
        return;
    };
    let port = World::free_port();
    build_session(&w, port);
    save(&w);
    let before = panes(&w, "work");
    let out = restore(&w, &["work", "--no-attach", "--yes"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("is alive: attaching"));
    assert_eq!(panes(&w, "work"), before);
}

#[test]
fn dry_run_changes_nothing() {
    let Some(w) = setup("dry_run_changes_nothing") else {
        return;
    };
    let port = World::free_port();
    build_session(&w, port);
    save(&w);
    kill_tmux(&w, port);
    let v = dry_run(&w, &["work"]);
    assert_eq!(v["plan"]["mode"], "rebuild");
    assert_eq!(v["plan"]["windows"].as_array().unwrap().len(), 2, "{v:#}");
    assert!(w.tmux(&["list-sessions"]).status.code() != Some(0));
    assert!(!answers(port));
}

#[test]
fn closed_panes_do_not_come_back() {
    let Some(w) = setup("closed_panes_do_not_come_back") else {
        return;
    };
    let a = w.start_session("work", Kind::Bash);
    let b = w.split(&a.id, Kind::Bash);
    let c = w.split(&a.id, Kind::Bash);
    save(&w);
    b.run("exit");
    w.tmux_ok(&["kill-pane", "-t", &c.id]);
    // The session goes on working for a while after the pane was killed.
    std::thread::sleep(Duration::from_secs(6));
    a.run("echo still-working");
    w.wait_finished(1);
    save(&w);
    w.tmux_ok(&["kill-server"]);
    let v = dry_run(&w, &["work", "--no-attach"]);
    let panes: Vec<&Value> = v["plan"]["windows"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w["panes"].as_array().unwrap())
        .collect();
    assert_eq!(panes.len(), 1, "{v:#}");
    let reasons = left_reasons(&v);
    assert!(reasons.iter().any(|r| r.contains("exit")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("hangup")), "{reasons:?}");
    // From the snapshot taken before they closed, the same two stay closed: the exit'd
    // one by its exit, the killed pane because the session went on working after it.
    let first = v["plan"]["snapshot"].as_str().unwrap().to_string();
    let list = w.snap_json(&["list", "--json"]);
    let older = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .find(|id| id != &first)
        .unwrap();
    let v = dry_run(&w, &["work", "--from", &older]);
    // One pane of three comes back: the window's old layout does not fit it.
    assert!(v["plan"]["windows"][0]["layout"].is_null(), "{v:#}");
    let reasons = left_reasons(&v);
    assert!(
        reasons.iter().any(|r| r.contains("ended with exit")),
        "{v:#}"
    );
    assert!(reasons.iter().any(|r| r.contains("closed")), "{v:#}");
}

#[test]
fn without_tmux_the_dev_server_runs_in_the_background_with_a_log() {
    let Some(w) = setup("without_tmux_the_dev_server_runs_in_the_background_with_a_log") else {
        return;
    };
    let port = World::free_port();
    build_session(&w, port);
    save(&w);
    kill_tmux(&w, port);
    let out = restore(&w, &["work", "--no-tmux"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("started in the background"), "{stdout}");
    wait_for("the dev server to answer", Duration::from_secs(30), || {
        answers(port).then_some(())
    });
    assert!(w.tmux(&["list-sessions"]).status.code() != Some(0));
    // Stop it: find it by its port's owner in /proc is overkill; kill by argv.
    let _ = w
        .command("pkill")
        .args(["-f", &format!("http.server {port}")])
        .status();
}

#[test]
fn a_corrupt_newest_snapshot_falls_back_to_the_one_before_by_name() {
    let Some(w) = setup("a_corrupt_newest_snapshot_falls_back_to_the_one_before_by_name") else {
        return;
    };
    let _a = w.start_session("work", Kind::Bash);
    let good = save(&w);
    let bad = w.snap_home.join("snapshots/99991231T235959-000000-1.json");
    std::fs::write(&bad, b"{\"schema\": 1, \"id\": trunc").unwrap();
    std::fs::set_permissions(&bad, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    w.tmux_ok(&["kill-server"]);
    let out = restore(&w, &["work", "--dry-run", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["plan"]["snapshot"], good.as_str());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&bad.display().to_string()));
    assert_eq!(
        std::fs::read(&bad).unwrap(),
        b"{\"schema\": 1, \"id\": trunc"
    );
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_containing(&path, needle));
        } else if std::fs::read(&path).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle)) {
            out.push(path);
        }
    }
    out
}

/// A file of `state/restore/` holding `secret`, last changed two hours ago.
fn plant_stale(w: &World, name: &str, secret: &str) -> std::path::PathBuf {
    let dir = w.snap_home.join("state/restore");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, format!("export GITHUB_TOKEN='{secret}'\n")).unwrap();
    let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(2 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();
    path
}

#[test]
fn restore_files_holding_secrets_are_gone_once_the_shells_are_up_and_stale_ones_within_an_hour() {
    let Some(w) = setup(
        "restore_files_holding_secrets_are_gone_once_the_shells_are_up_and_stale_ones_within_an_hour",
    ) else {
        return;
    };
    let secret = format!("ghp_{}", "a1B2c3D4e5".repeat(4).get(..36).unwrap());
    let a = w.start_session("work", Kind::Bash);
    a.run(&format!("export GITHUB_TOKEN={secret}"));
    a.run(&format!("echo history-{secret}"));
    w.wait_finished(2);
    save(&w);
    let shell_pid = a.pid();
    w.tmux_ok(&["kill-server"]);
    wait_for("the shell to end", SOON, || {
        (!common::pid_alive(shell_pid)).then_some(())
    });
    let stale = plant_stale(&w, "old-0-0-1-1.bash", &secret);

    restore(&w, &["work", "--no-attach"]);
    let id = w
        .tmux_ok(&["list-panes", "-t", "=work", "-F", "#{pane_id}"])
        .trim()
        .to_string();
    let pane = w.pane(&id);
    pane.wait_prompt();
    // The shell has its state: the token in its environment and its history.
    pane.run("echo \"[${GITHUB_TOKEN:0:8}][$(history | grep -c 'history-gh[p]_')]\"");
    let screen = pane.wait_text("[ghp_a1B2][");
    assert!(
        !screen.contains("[ghp_a1B2][0]"),
        "history not loaded: {screen}"
    );
    assert!(!stale.exists(), "a stale restore file outlived the restore");
    let restore_dir = w.snap_home.join("state/restore");
    assert_eq!(
        files_containing(&restore_dir, secret.as_bytes()),
        Vec::<std::path::PathBuf>::new()
    );

    // A leftover older than an hour is removed by the next save too.
    let stale = plant_stale(&w, "old-0-0-1-2.history", &secret);
    let fresh = restore_dir.join("fresh-0-0-1-3.bash");
    std::fs::write(&fresh, "").unwrap();
    save(&w);
    assert!(!stale.exists(), "a stale restore file outlived a save");
    assert!(fresh.exists(), "a fresh restore file was removed");
}
