//! The shell hooks, in real bash, zsh and fish under tmux, driven like a person would.

mod common;

use common::{pid_alive, require, wait_for, Kind, World, SOON};
use serde_json::Value;
use std::time::Duration;

/// A world with the hook in `kind`'s rc, or None when the test is skipped.
fn world(test: &str, kind: Kind) -> Option<World> {
    if !require(test, &[kind.name(), "tmux"]) {
        return None;
    }
    let w = World::new();
    w.write_rc(kind, "", "");
    Some(w)
}

fn last_command(w: &World) -> Value {
    w.history().last().cloned().expect("a recorded command")
}

fn commands(w: &World) -> Vec<String> {
    w.history()
        .iter()
        .map(|r| r["command"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn export_line(kind: Kind, name: &str, value: &str) -> String {
    match kind {
        Kind::Fish => format!("set -gx {name} '{value}'"),
        _ => format!("export {name}='{value}'"),
    }
}

fn records_command_with_quotes_and_pipe_as_typed(kind: Kind) {
    let Some(w) = world("records_command_with_quotes_and_pipe_as_typed", kind) else {
        return;
    };
    let p = w.start_session("t", kind);
    let typed = r#"echo "a  b" 'c|d' | tr a-z A-Z"#;
    p.run(typed);
    let h = w.wait_finished(1);
    let r = h.last().unwrap();
    assert_eq!(r["command"], typed);
    assert_eq!(r["exit"], 0);
    assert_eq!(r["source"], "shell");
    assert_eq!(r["cwd"], w.home.display().to_string());
    assert!(r["started_at"].as_str().unwrap().ends_with('Z'));
}

fn records_false_with_exit_status_1(kind: Kind) {
    let Some(w) = world("records_false_with_exit_status_1", kind) else {
        return;
    };
    let p = w.start_session("t", kind);
    p.run("false");
    w.wait_finished(1);
    assert_eq!(last_command(&w)["exit"], 1);
}

fn records_the_duration_of_a_sleep(kind: Kind) {
    let Some(w) = world("records_the_duration_of_a_sleep", kind) else {
        return;
    };
    let p = w.start_session("t", kind);
    p.run("sleep 0.6");
    w.wait_finished(1);
    let d = last_command(&w)["duration_ms"]
        .as_i64()
        .expect("a duration");
    assert!(d >= 550, "sleep 0.6 recorded as {d} ms");
}

fn records_cd_into_a_directory_with_spaces_and_unicode(kind: Kind) {
    let Some(w) = world("records_cd_into_a_directory_with_spaces_and_unicode", kind) else {
        return;
    };
    let dir = w.home.join("dir with spaces/ünï 😀\ttab");
    std::fs::create_dir_all(&dir).unwrap();
    let p = w.start_session("t", kind);
    // A glob reaches the tab in the name without typing one (Tab would complete).
    p.run("cd 'dir with spaces'/ünï*tab");
    p.run("echo here");
    w.wait_finished(2);
    let h = w.history();
    assert_eq!(h.last().unwrap()["cwd"], dir.display().to_string());
    let shell = &w.shells()[0];
    assert_eq!(shell["cwd"], dir.display().to_string());
}

fn records_an_exported_variable_in_env(kind: Kind) {
    let Some(w) = world("records_an_exported_variable_in_env", kind) else {
        return;
    };
    let p = w.start_session("t", kind);
    p.run(&export_line(kind, "SNAP_TEST_VAR", "hello world"));
    w.wait_finished(1);
    let shell = wait_for("the variable in env", SOON, || {
        let s = w.shells().into_iter().next()?;
        (s["env"]["SNAP_TEST_VAR"] == "hello world").then_some(s)
    });
    assert!(
        shell["env"].get("HOME").is_none(),
        "unchanged variables are not in the diff"
    );
    assert!(
        shell["env"].get("TMUX").is_none(),
        "connection-bound variables are left out"
    );
}

fn leaves_out_a_leading_space_command(kind: Kind) {
    let Some(w) = world("leaves_out_a_leading_space_command", kind) else {
        return;
    };
    let p = w.start_session("t", kind);
    p.run("echo visible");
    w.wait_finished(1);
    p.run(" echo hidden-secret-42");
    p.wait_text("hidden-secret-42\n");
    p.run("echo after");
    w.wait_finished(2);
    p.wait_prompt();
    assert_eq!(commands(&w), vec!["echo visible", "echo after"]);
    for entry in walk(&w.snap_home) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("hidden-secret-42"),
            "{} holds the private command",
            entry.display()
        );
    }
}

fn records_a_repeated_command_each_time(kind: Kind) {
    let Some(w) = world("records_a_repeated_command_each_time", kind) else {
        return;
    };
    let p = w.start_session("t", kind);
    p.run("echo again");
    w.wait_finished(1);
    p.run("echo again");
    w.wait_finished(2);
    assert_eq!(commands(&w), vec!["echo again", "echo again"]);
}

fn records_a_multi_line_command(kind: Kind) {
    let Some(w) = world("records_a_multi_line_command", kind) else {
        return;
    };
    let p = w.start_session("t", kind);
    p.run("echo \"first");
    p.run("second\"");
    w.wait_finished(1);
    assert_eq!(last_command(&w)["command"], "echo \"first\nsecond\"");
}

fn records_a_100_kb_command(kind: Kind) {
    let Some(w) = world("records_a_100_kb_command", kind) else {
        return;
    };
    let p = w.start_session("t", kind);
    let long = format!(": {}", "x".repeat(100 * 1024));
    let file = w.path("long.txt");
    std::fs::write(&file, &long).unwrap();
    w.tmux_ok(&["load-buffer", &file.display().to_string()]);
    w.tmux_ok(&["paste-buffer", "-t", &p.id]);
    p.keys(&["Enter"]);
    let h = wait_for("the long command", Duration::from_secs(60), || {
        let h = w.history();
        (h.iter().any(|r| !r["exit"].is_null())).then_some(h)
    });
    assert_eq!(
        h.last().unwrap()["command"].as_str().unwrap().len(),
        long.len()
    );
}

fn records_a_ctrl_c_as_interrupted(kind: Kind) {
    let Some(w) = world("records_a_ctrl_c_as_interrupted", kind) else {
        return;
    };
    let p = w.start_session("t", kind);
    p.run("sleep 30");
    wait_for("sleep to be running", SOON, || {
        let s = w.shells().into_iter().next()?;
        (s["running"] == "sleep 30").then_some(())
    });
    p.keys(&["C-c"]);
    w.wait_finished(1);
    let r = last_command(&w);
    assert_eq!(r["command"], "sleep 30");
    assert_eq!(r["exit"], 130);
    p.wait_prompt();
    assert!(w.shells()[0]["running"].is_null());
}

fn ended(w: &World, id: &str) -> Value {
    w.shells()
        .into_iter()
        .find(|s| s["id"] == id)
        .map(|s| s["ended"].clone())
        .unwrap_or(Value::Null)
}

fn shell_id(w: &World) -> String {
    wait_for("a recorded shell", SOON, || {
        let s = w.shells().into_iter().next()?;
        s["id"].as_str().map(String::from)
    })
}

fn exit_is_recorded_as_exit(kind: Kind) {
    let Some(w) = world("exit_is_recorded_as_exit", kind) else {
        return;
    };
    let p = w.start_session("t", kind);
    let _keep = w.split(&p.id, kind);
    let id = shell_id(&w);
    p.run("exit");
    wait_for("ended = exit", SOON, || {
        (ended(&w, &id) == "exit").then_some(())
    });
    let s = w.shells().into_iter().find(|s| s["id"] == id).unwrap();
    assert_eq!(s["alive"], false);
}

fn a_killed_pane_is_recorded_as_hangup(kind: Kind) {
    let Some(w) = world("a_killed_pane_is_recorded_as_hangup", kind) else {
        return;
    };
    let p = w.start_session("t", kind);
    let _keep = w.split(&p.id, kind);
    let id = shell_id(&w);
    p.run("echo before");
    w.wait_finished(1);
    w.tmux_ok(&["kill-pane", "-t", &p.id]);
    wait_for("ended = hangup", SOON, || {
        (ended(&w, &id) == "hangup").then_some(())
    });
}

fn exec_is_recorded_as_exec_with_a_new_shell_id(kind: Kind) {
    let Some(w) = world("exec_is_recorded_as_exec_with_a_new_shell_id", kind) else {
        return;
    };
    let p = w.start_session("t", kind);
    let id = shell_id(&w);
    let pid = p.pid();
    p.run(&format!("exec {}", w.shell_command(kind)));
    let new = wait_for("the exec'd shell", SOON, || {
        let shells = w.shells();
        (shells.len() == 2).then_some(shells)
    });
    let old = new.iter().find(|s| s["id"] == id).unwrap();
    let fresh = new.iter().find(|s| s["id"] != id).unwrap();
    assert_eq!(old["ended"], "exec");
    assert_eq!(old["alive"], false);
    assert_eq!(fresh["pid"], pid);
    assert_eq!(fresh["alive"], true);
}

fn a_foreground_dev_server_dies_with_its_shell_when_tmux_is_killed(kind: Kind) {
    let test = "a_foreground_dev_server_dies_with_its_shell_when_tmux_is_killed";
    if !require(test, &["python3"]) {
        return;
    }
    let Some(w) = world(test, kind) else {
        return;
    };
    let p = w.start_session("t", kind);
    let port = World::free_port();
    p.run(&format!("python3 -m http.server {port} --bind 127.0.0.1"));
    wait_for("the server to listen", SOON, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    });
    let server = children_of(p.pid());
    assert!(!server.is_empty());
    w.tmux_ok(&["kill-server"]);
    wait_for("the server to die", SOON, || {
        server.iter().all(|&pid| !pid_alive(pid)).then_some(())
    });
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

fn the_users_prompt_still_sees_the_exit_status(kind: Kind) {
    let test = "the_users_prompt_still_sees_the_exit_status";
    if !require(test, &[kind.name(), "tmux"]) {
        return;
    }
    let w = World::new();
    let status = w.home.join("status");
    let s = status.display();
    match kind {
        Kind::Bash => w.write_rc(kind, &format!("PROMPT_COMMAND='echo $? >> {s}'"), ""),
        Kind::Zsh => w.write_rc(
            kind,
            &format!("autoload -Uz add-zsh-hook; __user_precmd() {{ echo $? >> {s}; }}; add-zsh-hook precmd __user_precmd"),
            "",
        ),
        Kind::Fish => w.write_rc(
            kind,
            "",
            &format!("function fish_prompt; echo $status >> {s}; printf '%s' '{}'; end", common::PROMPT),
        ),
    };
    let p = w.start_session("t", kind);
    p.run("false");
    w.wait_finished(1);
    p.run("sh -c 'exit 7'");
    w.wait_finished(2);
    p.wait_prompt();
    let seen = std::fs::read_to_string(&status).unwrap();
    let lines: Vec<&str> = seen.lines().collect();
    assert_eq!(
        &lines[lines.len() - 2..],
        &["1", "7"],
        "prompt saw: {seen:?}"
    );
}

fn works_when_the_rc_sets_nounset(kind: Kind) {
    let test = "works_when_the_rc_sets_nounset";
    if !require(test, &[kind.name(), "tmux"]) {
        return;
    }
    let w = World::new();
    let before = match kind {
        Kind::Zsh => "setopt NO_UNSET",
        _ => "set -u",
    };
    w.write_rc(kind, before, "");
    let p = w.start_session("t", kind);
    p.run("echo one");
    p.run("false");
    p.run("true");
    w.wait_finished(3);
    p.wait_prompt();
    assert!(!p.screen().contains("unbound"), "{}", p.screen());
    assert!(!p.screen().contains("parameter not set"), "{}", p.screen());
}

fn loads_once_when_sourced_twice(kind: Kind) {
    let test = "loads_once_when_sourced_twice";
    if !require(test, &[kind.name(), "tmux"]) {
        return;
    }
    let w = World::new();
    let bin = w.bin.display().to_string();
    let again = match kind {
        Kind::Fish => format!("'{bin}' init fish | source"),
        k => format!("eval \"$('{bin}' init {})\"", k.name()),
    };
    w.write_rc(kind, "", &again);
    let p = w.start_session("t", kind);
    p.run("echo once");
    w.wait_finished(1);
    p.wait_prompt();
    assert_eq!(commands(&w), vec!["echo once"]);
    assert_eq!(w.shells().len(), 1);
}

fn prints_nothing_at_start_or_at_the_prompt(kind: Kind) {
    let Some(w) = world("prints_nothing_at_start_or_at_the_prompt", kind) else {
        return;
    };
    let p = w.start_session("t", kind);
    p.run("true");
    w.wait_finished(1);
    p.wait_prompt();
    let screen = p.screen();
    let text: Vec<&str> = screen
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(text, vec!["READY> true", "READY>"], "{screen}");
}

fn bash_keeps_a_string_prompt_command_running() {
    let test = "bash_keeps_a_string_prompt_command_running";
    if !require(test, &["bash", "tmux"]) {
        return;
    }
    let w = World::new();
    let f = w.home.join("pc");
    w.write_rc(
        Kind::Bash,
        &format!("PROMPT_COMMAND='echo str >> {}'", f.display()),
        "",
    );
    let p = w.start_session("t", Kind::Bash);
    p.run("echo x");
    w.wait_finished(1);
    p.wait_prompt();
    assert!(std::fs::read_to_string(&f).unwrap().lines().count() >= 2);
}

fn bash_keeps_an_array_prompt_command_running() {
    let test = "bash_keeps_an_array_prompt_command_running";
    if !require(test, &["bash", "tmux"]) {
        return;
    }
    let w = World::new();
    let f = w.home.join("pc");
    let f = f.display();
    w.write_rc(
        Kind::Bash,
        &format!("PROMPT_COMMAND=('echo one >> {f}' 'echo two >> {f}')"),
        "",
    );
    let p = w.start_session("t", Kind::Bash);
    p.run("echo x");
    w.wait_finished(1);
    p.wait_prompt();
    let seen = std::fs::read_to_string(format!("{f}")).unwrap();
    assert!(seen.contains("one\ntwo\n"), "{seen:?}");
}

fn bash_keeps_a_users_debug_trap() {
    let test = "bash_keeps_a_users_debug_trap";
    if !require(test, &["bash", "tmux"]) {
        return;
    }
    let w = World::new();
    let f = w.home.join("dbg");
    w.write_rc(
        Kind::Bash,
        &format!("trap 'echo hit >> {}' DEBUG", f.display()),
        "",
    );
    let p = w.start_session("t", Kind::Bash);
    p.run("echo x");
    w.wait_finished(1);
    assert!(std::fs::read_to_string(&f).unwrap().contains("hit"));
}

/// Direct children of a process (from /proc).
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        let after = stat.rsplit(") ").next().unwrap_or_default();
        let ppid: u32 = after
            .split(' ')
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        if ppid == pid {
            out.push(child);
        }
    }
    out
}

/// Every file under a directory.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

macro_rules! per_shell {
    ($kind:expr, $module:ident, [$($behaviour:ident),* $(,)?]) => {
        mod $module {
            use super::Kind;
            $(
                #[test]
                fn $behaviour() {
                    super::$behaviour($kind);
                }
            )*
        }
    };
}

per_shell!(
    Kind::Bash,
    bash,
    [
        records_command_with_quotes_and_pipe_as_typed,
        records_false_with_exit_status_1,
        records_the_duration_of_a_sleep,
        records_cd_into_a_directory_with_spaces_and_unicode,
        records_an_exported_variable_in_env,
        leaves_out_a_leading_space_command,
        records_a_repeated_command_each_time,
        records_a_multi_line_command,
        records_a_100_kb_command,
        records_a_ctrl_c_as_interrupted,
        exit_is_recorded_as_exit,
        a_killed_pane_is_recorded_as_hangup,
        exec_is_recorded_as_exec_with_a_new_shell_id,
        a_foreground_dev_server_dies_with_its_shell_when_tmux_is_killed,
        the_users_prompt_still_sees_the_exit_status,
        works_when_the_rc_sets_nounset,
        loads_once_when_sourced_twice,
        prints_nothing_at_start_or_at_the_prompt,
    ]
);

#[test]
fn bash_prompt_command_string_form() {
    bash_keeps_a_string_prompt_command_running();
}

#[test]
fn bash_prompt_command_array_form() {
    bash_keeps_an_array_prompt_command_running();
}

#[test]
fn bash_debug_trap_of_the_user() {
    bash_keeps_a_users_debug_trap();
}
