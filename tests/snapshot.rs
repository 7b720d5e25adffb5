//! Snapshots of real bash shells in a real tmux server: what `snap save` captures, what it
//! hides, how the store survives crashes and corruption, retention and `snap forget`.

mod common;

use common::{require, wait_for, Kind, World, SOON};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

const GITHUB: &str = "ghp_Zq7Wc3Xv9Lm2Np4Rt6Yu8Io0Pa1Sd3Fg5Hj7Kl";
const PASSWORD: &str = "hunter2-very-secret";
const API_KEY: &str = "zz-argv-secret-99";

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn shell_in<'a>(snap: &'a Value, session: &str, pane: &str) -> &'a Value {
    snap["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == session)
        .unwrap_or_else(|| panic!("no session {session} in {snap:#}"))["shells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|sh| sh["tmux"]["pane_id"] == pane)
        .unwrap_or_else(|| panic!("no shell in pane {pane}"))
}

fn leaders(shell: &Value) -> Vec<&Value> {
    shell["processes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["job_leader"] == true)
        .collect()
}

#[test]
fn save_captures_argv_cwd_running_jobs_policies_tmux_and_screen_without_secrets() {
    if !require("save_captures_everything", &["tmux", "bash", "python3"]) {
        return;
    }
    let w = World::new();
    let bin = w.home.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    // Stand-ins for npm (a dev server) and make (a long build): scripts that run until
    // stopped, as `sh /path/to/script …` in the process table.
    for name in ["npm", "make"] {
        std::fs::write(bin.join(name), "#!/bin/sh\nsleep 1000\n").unwrap();
        std::fs::set_permissions(bin.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let web = w.home.join("proj/web");
    std::fs::create_dir_all(&web).unwrap();
    w.write_rc(Kind::Bash, &format!("PATH={}:$PATH", bin.display()), "");
    let a = w.start_session("work", Kind::Bash);
    w.tmux_ok(&["rename-window", "-t", "work:0", "editor"]);
    let b = w.split(&a.id, Kind::Bash);
    w.tmux_ok(&["select-layout", "-t", "work:0", "main-vertical"]);
    w.tmux_ok(&["resize-pane", "-t", &a.id, "-x", "90"]);
    let layout = w.tmux_ok(&["display-message", "-p", "-t", "work:0", "#{window_layout}"]);

    let port = World::free_port();
    let server = format!("cd proj/web && python3 -m http.server {port} --bind 127.0.0.1");
    a.run(&server);
    a.wait_text("Serving HTTP");

    b.run(&format!(
        "export GITHUB_TOKEN={GITHUB} DB_PASSWORD={PASSWORD}"
    ));
    b.wait_prompt();
    b.run("PORT=3001 sleep 1000 &");
    b.wait_prompt();
    b.run(&format!("sh -c 'sleep 1000; :' job --api-key={API_KEY} &"));
    b.wait_prompt();
    b.run("npm run dev &");
    b.wait_prompt();
    b.run("echo \"token $GITHUB_TOKEN pw $DB_PASSWORD\"");
    b.wait_text(&format!("pw {PASSWORD}"));
    b.run("make && sudo make install");
    wait_for("make running", SOON, || {
        w.shells()
            .iter()
            .any(|s| s["running"] == "make && sudo make install")
            .then_some(())
    });

    let snap = w.snap_json(&["save", "--json", "--label", "test"]);
    assert_eq!(snap["schema"], 1);
    assert_eq!(snap["label"], "test");

    // The dev server's shell: the line as typed, its exact argv and cwd, its place.
    let sa = shell_in(&snap, "work", &a.id);
    assert_eq!(sa["alive"], true);
    assert_eq!(sa["running"], server.as_str());
    assert_eq!(sa["running_policy"], "auto");
    let py = leaders(sa)
        .into_iter()
        .find(|p| {
            p["cmd"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x == "http.server")
        })
        .unwrap_or_else(|| panic!("no http.server in {:#}", sa["processes"]));
    let argv: Vec<&str> = py["cmd"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    let port_s = port.to_string();
    assert_eq!(
        argv[1..],
        ["-m", "http.server", port_s.as_str(), "--bind", "127.0.0.1"]
    );
    assert_eq!(py["cwd"], web.display().to_string());
    assert_eq!(py["policy"], "auto");
    assert_eq!(py["foreground"], true);
    assert_eq!(py["typed"], server.as_str());
    let t = &sa["tmux"];
    assert_eq!(t["session"], "work");
    assert_eq!(t["window_name"], "editor");
    assert_eq!(t["window_index"], 0);
    assert_eq!(t["pane_index"], 0);
    assert_eq!(t["window_layout"], layout.trim());
    assert!(sa["screen"].as_str().unwrap().contains("Serving HTTP"));

    // The other shell: its jobs with their env and policies, its foreground command.
    let sb = shell_in(&snap, "work", &b.id);
    assert_eq!(sb["running"], "make && sudo make install");
    assert_eq!(sb["running_policy"], "never");
    assert_eq!(sb["tmux"]["pane_index"], 1);
    assert_eq!(sb["tmux"]["pane_active"], true);
    assert_eq!(sb["env"]["GITHUB_TOKEN"], "[redacted]");
    let jobs = leaders(sb);
    let sleep = jobs
        .iter()
        .find(|p| p["cmd"] == serde_json::json!(["sleep", "1000"]))
        .unwrap_or_else(|| panic!("no sleep job in {:#}", sb["processes"]));
    assert_eq!(sleep["env"]["PORT"], "3001");
    assert_eq!(sleep["typed"], "PORT=3001 sleep 1000 &");
    assert_eq!(sleep["policy"], "hold");
    assert_eq!(sleep["foreground"], false);
    let npm = jobs
        .iter()
        .find(|p| p["typed"] == "npm run dev &")
        .unwrap_or_else(|| panic!("no npm job in {:#}", sb["processes"]));
    assert_eq!(npm["policy"], "auto");
    assert_eq!(npm["cmd"][1], bin.join("npm").display().to_string());
    let make = jobs.iter().find(|p| p["foreground"] == true).unwrap();
    assert_eq!(make["typed"], "make && sudo make install");
    assert_eq!(make["policy"], "never");
    let under: Vec<&Value> = sb["processes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["ppid"] == make["pid"])
        .collect();
    assert!(under
        .iter()
        .any(|p| p["cmd"] == serde_json::json!(["sleep", "1000"]) && p["job_leader"] == false));
    let with_key = jobs
        .iter()
        .find(|p| p["cmd"][0] == "sh")
        .unwrap_or_else(|| panic!("no sh job in {:#}", sb["processes"]));
    assert_eq!(with_key["cmd"][4], "--api-key=[redacted]");
    assert!(sb["screen"].as_str().unwrap().contains("pw [redacted]"));
    assert!(!snap["redacted"].as_array().unwrap().is_empty());

    // No secret byte anywhere under snapshots/, while the journal keeps the real values.
    let dir = w.snap_home.join("snapshots");
    let files = files_under(&dir);
    assert!(!files.is_empty());
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for secret in [GITHUB, PASSWORD, API_KEY] {
            assert!(!text.contains(secret), "{secret} in {}", f.display());
        }
        assert_eq!(
            std::fs::metadata(f).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let journals: String = files_under(&w.snap_home.join("shells"))
        .iter()
        .map(|f| String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned())
        .collect();
    assert!(journals.contains(PASSWORD));

    // `show latest` and `list` agree with what was saved.
    let shown = w.snap_json(&["show", "latest", "--json"]);
    assert_eq!(shown, snap);
    let list = w.snap_json(&["list", "--json"]);
    assert_eq!(list[0]["id"], snap["id"]);
    assert_eq!(list[0]["sessions"], serde_json::json!(["work"]));
    assert!(list[0]["processes"].as_u64().unwrap() >= 6);
    a.keys(&["C-c"]);
    b.keys(&["C-c"]);
}

#[test]
fn a_shell_that_ended_stays_in_the_snapshot_as_not_alive() {
    if !require("ended_shell_stays", &["tmux", "bash"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let a = w.start_session("s", Kind::Bash);
    let b = w.split(&a.id, Kind::Bash);
    let b_pid = b.pid();
    b.run("exit");
    wait_for("the shell to exit", SOON, || {
        (!common::pid_alive(b_pid)).then_some(())
    });
    let snap = w.snap_json(&["save", "--json"]);
    let shells = snap["sessions"][0]["shells"].as_array().unwrap();
    let gone = shells.iter().find(|s| s["pid"] == b_pid).unwrap();
    assert_eq!(gone["alive"], false);
    assert_eq!(gone["ended"], "exit");
    assert!(gone["tmux"].is_null());
    assert_eq!(shells.iter().filter(|s| s["alive"] == true).count(), 1);
}

#[test]
fn corrupt_and_foreign_snapshot_files_are_named_skipped_and_left_alone() {
    let w = World::new();
    let good = w.snap_json(&["save", "--json"]);
    let dir = w.snap_home.join("snapshots");
    let cases: Vec<(&str, Vec<u8>, u32)> = vec![
        (
            "29990101T000000-000000-1.json",
            b"{\"schema\":1,\"id\":\"29990101".to_vec(),
            0o600,
        ),
        ("29990101T000000-000000-2.json", vec![], 0o600),
        ("29990101T000000-000000-3.json", vec![0; 100], 0o600),
        (
            "29990101T000000-000000-4.json",
            b"{\"schema\":7}".to_vec(),
            0o600,
        ),
        (
            "29990101T000000-000000-5.json",
            std::fs::read(dir.join(format!("{}.json", good["id"].as_str().unwrap()))).unwrap(),
            0o666,
        ),
    ];
    for (name, bytes, mode) in &cases {
        std::fs::write(dir.join(name), bytes).unwrap();
        std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(*mode)).unwrap();
    }
    let out = w.snap(&["list", "--json"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for (name, _, _) in &cases {
        assert!(stderr.contains(name), "{name} not named: {stderr}");
    }
    assert!(stderr.contains("writable by group or others"), "{stderr}");
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(w.snap_json(&["show", "latest", "--json"])["id"], good["id"]);
    let named = w.snap(&["show", "29990101T000000-000000-5"]);
    assert!(
        !named.status.success(),
        "a group-writable file named by id must be refused"
    );
    for (name, bytes, _) in &cases {
        assert_eq!(
            &std::fs::read(dir.join(name)).unwrap(),
            bytes,
            "{name} was touched"
        );
    }
}

#[test]
fn save_killed_at_random_moments_never_leaves_a_broken_snapshot() {
    if !require("save_killed", &["tmux", "bash"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let a = w.start_session("k", Kind::Bash);
    a.run("sleep 1000 &");
    a.wait_prompt();
    w.snap_json(&["save", "--json"]);
    for i in 0..25u64 {
        let mut child = w
            .command(&w.bin)
            .arg("save")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis((i * 7) % 60));
        let _ = child.kill();
        let _ = child.wait();
    }
    let out = w.snap(&["list", "--json"]);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!list.as_array().unwrap().is_empty());
    for f in files_under(&w.snap_home.join("snapshots")) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // a temp file of a killed save: never listed
        }
        let v: Value = serde_json::from_slice(&std::fs::read(&f).unwrap())
            .unwrap_or_else(|e| panic!("{name} is not whole: {e}"));
        assert_eq!(v["schema"], 1);
    }
    let latest = w.snap_json(&["show", "latest", "--json"]);
    assert_eq!(latest["sessions"][0]["name"], "k");
}

#[test]
fn retention_is_per_session_and_forget_drops_a_session() {
    if !require("retention", &["tmux", "bash"]) {
        return;
    }
    let w = World::new();
    std::fs::create_dir_all(&w.snap_home).unwrap();
    std::fs::write(w.snap_home.join("config.toml"), "[retention]\nkeep = 2\n").unwrap();
    w.write_rc(Kind::Bash, "", "");
    w.start_session("quiet", Kind::Bash);
    w.start_session("busy", Kind::Bash);
    let first = w.snap_json(&["save", "--json"]);
    let mut busy = Vec::new();
    for _ in 0..4 {
        busy.push(w.snap_json(&["save", "--session", "busy", "--json"])["id"].clone());
    }
    let ids: Vec<Value> = w
        .snap_json(&["list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].clone())
        .collect();
    assert_eq!(
        ids,
        vec![first["id"].clone(), busy[2].clone(), busy[3].clone()]
    );

    let dry = w.snap(&["prune", "--keep", "1", "--dry-run"]);
    assert!(dry.status.success());
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(text.contains(busy[2].as_str().unwrap()), "{text}");
    assert_eq!(
        w.snap_json(&["list", "--json"]).as_array().unwrap().len(),
        3
    );

    let out = w.snap(&["forget", "quiet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = w.snap_json(&["list", "--json"]);
    assert!(list.as_array().unwrap().iter().all(|e| !e["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "quiet")));
    let next = w.snap_json(&["save", "--json"]);
    let names: Vec<&Value> = next["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["name"])
        .collect();
    assert_eq!(names, vec!["busy"]);
    let unknown = w.snap(&["forget", "no-such-session"]);
    assert!(!unknown.status.success());
}

#[test]
fn a_bad_config_is_an_error_naming_the_key_and_the_line() {
    let w = World::new();
    std::fs::create_dir_all(&w.snap_home).unwrap();
    std::fs::write(
        w.snap_home.join("config.toml"),
        "notice = true\n\n[retention]\nmax_age = \"forever\"\n",
    )
    .unwrap();
    let out = w.snap(&["save"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("config.toml:4") && err.contains("retention.max_age"),
        "{err}"
    );
    assert!(
        !w.snap_home.join("snapshots").exists()
            || files_under(&w.snap_home.join("snapshots")).is_empty()
    );
}
