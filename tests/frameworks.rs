//! Real shell setups around the hook: restore after restore, the shell's own history
//! holds every generation once.

mod common;

use common::{next_second, require, wait_for, Kind, World, SOON};

/// The one pane of tmux session `work`.
fn only_pane(w: &World) -> String {
    let panes = w.pane_ids("work");
    if panes.len() != 1 {
        // Say what came back, and what snap knows of the shells, before failing.
        let what = w.tmux_ok(&[
            "list-panes",
            "-s",
            "-t",
            "=work",
            "-F",
            "#{pane_id} #{window_name} #{pane_current_command} #{pane_start_command}",
        ]);
        panic!(
            "{} panes, one wanted:\n{what}\nshells: {:#?}",
            panes.len(),
            w.shells()
        );
    }
    panes[0].clone()
}

/// The shell's own history listing of the pane, raw, oldest first (bash's with no time
/// format).
fn own_listing(w: &World, kind: Kind, pane: &str) -> String {
    let file = w.home.join("own-history.txt");
    let _ = std::fs::remove_file(&file);
    let p = w.pane(pane);
    p.run(match kind {
        Kind::Bash => "HISTTIMEFORMAT= history >~/own-history.txt.tmp; mv ~/own-history.txt.tmp ~/own-history.txt",
        Kind::Zsh => "fc -ln 1 >~/own-history.txt.tmp; mv ~/own-history.txt.tmp ~/own-history.txt",
        Kind::Fish => "history --reverse >~/own-history.txt.tmp; mv ~/own-history.txt.tmp ~/own-history.txt",
    });
    wait_for("the history listing", SOON, || {
        std::fs::read_to_string(&file).ok()
    })
}

/// The shell's own history, one command a line, oldest first, as it lists it.
fn own_history(w: &World, kind: Kind, pane: &str) -> Vec<String> {
    own_listing(w, kind, pane)
        .lines()
        .map(|l| match kind {
            // `%5d  line`
            Kind::Bash => l
                .trim_start()
                .split_once("  ")
                .map(|x| x.1)
                .unwrap_or("")
                .to_string(),
            _ => l.to_string(),
        })
        .collect()
}

/// Three rounds of a command, save, kill-server and restore: the restored shell's own
/// history holds every round's command once, oldest first.
fn history_holds_every_generation_once(w: &World, kind: Kind) {
    let p = w.start_session("work", kind);
    let mut pane = p.id.clone();
    let rounds = 3;
    for round in 0..=rounds {
        let p = w.pane(&pane);
        p.run(&format!("echo round-{round}"));
        w.wait_finished(round + 1);
        if round == rounds {
            break;
        }
        if kind == Kind::Fish {
            // fish hides history items from its own start second on (another session's,
            // it takes them for): let the clock pass this round's command first.
            next_second();
        }
        w.snap_ok(&["save"]);
        w.tmux_ok(&["kill-server"]);
        pane = restore_work(w);
    }
    let own = own_history(w, kind, &pane);
    let rounds_seen: Vec<&String> = own
        .iter()
        .filter(|l| l.starts_with("echo round-"))
        .collect();
    let want: Vec<String> = (0..=rounds).map(|r| format!("echo round-{r}")).collect();
    let fish_file = std::fs::read_to_string(w.home.join(".local/share/fish/fish_history"));
    assert_eq!(
        rounds_seen,
        want.iter().collect::<Vec<_>>(),
        "{kind:?}: {own:#?} (fish's file: {fish_file:?})"
    );
}

/// Rewrite the rc `write_rc` made without its lines starting with `drop`.
fn without_rc_line(w: &World, kind: Kind, drop: &str) {
    let rc = w.write_rc(kind, "", "");
    let text = std::fs::read_to_string(&rc).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with(drop)).collect();
    std::fs::write(&rc, kept.join("\n") + "\n").unwrap();
}

#[test]
fn zsh_without_histfile_keeps_every_generation() {
    if !require(
        "zsh_without_histfile_keeps_every_generation",
        &["zsh", "tmux"],
    ) {
        return;
    }
    let w = World::new();
    without_rc_line(&w, Kind::Zsh, "HISTFILE=");
    history_holds_every_generation_once(&w, Kind::Zsh);
}

#[test]
fn zsh_with_histfile_and_share_history_has_no_doubles() {
    if !require(
        "zsh_with_histfile_and_share_history_has_no_doubles",
        &["zsh", "tmux"],
    ) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Zsh, "setopt SHARE_HISTORY", "");
    history_holds_every_generation_once(&w, Kind::Zsh);
}

#[test]
fn bash_with_histfile_has_no_doubles() {
    if !require("bash_with_histfile_has_no_doubles", &["bash", "tmux"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    history_holds_every_generation_once(&w, Kind::Bash);
}

#[test]
fn bash_with_histfile_dev_null_keeps_every_generation() {
    if !require(
        "bash_with_histfile_dev_null_keeps_every_generation",
        &["bash", "tmux"],
    ) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "HISTFILE=/dev/null", "");
    history_holds_every_generation_once(&w, Kind::Bash);
}

#[test]
fn fish_keeps_writing_to_the_users_own_history() {
    if !require(
        "fish_keeps_writing_to_the_users_own_history",
        &["fish", "tmux"],
    ) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Fish, "", "");
    history_holds_every_generation_once(&w, Kind::Fish);
    let pane = only_pane(&w);
    let p = w.pane(&pane);
    p.run("echo \"[fh:$fish_history]\"");
    p.wait_text("[fh:]");
    let data = w.home.join(".local/share/fish");
    let files: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("_history"))
        .collect();
    assert_eq!(files, vec!["fish_history".to_string()]);
    let envs = w.shells();
    assert!(
        envs.iter().all(|s| s["env"].get("fish_history").is_none()),
        "{envs:#?}"
    );
}

/// A copy of a fixture folder of `../shared/fixtures` (read-only in CI) in the world.
fn fixture(w: &World, name: &str) -> Option<std::path::PathBuf> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures")
        .join(name);
    let src = if src.is_dir() {
        src
    } else {
        std::path::PathBuf::from("/work/shared/fixtures").join(name)
    };
    if !src.is_dir() {
        if std::env::var("SNAP_TEST_STRICT").as_deref() == Ok("1") {
            panic!("fixture {name} missing (SNAP_TEST_STRICT=1)");
        }
        println!("SKIPPED: fixture {name} missing");
        return None;
    }
    let dst = w.path(name);
    let ok = std::process::Command::new("cp")
        .arg("-R")
        .arg(&src)
        .arg(&dst)
        .status()
        .unwrap()
        .success();
    assert!(ok, "copying {}", src.display());
    Some(dst)
}

/// Whole-environment records in all journals of the world.
fn whole_env_records(w: &World) -> usize {
    let mut n = 0;
    for shell in std::fs::read_dir(w.snap_home.join("shells"))
        .into_iter()
        .flatten()
        .flatten()
    {
        for f in std::fs::read_dir(shell.path()).unwrap().flatten() {
            if f.file_name().to_string_lossy().starts_with("journal") {
                let bytes = std::fs::read(f.path()).unwrap();
                let text = String::from_utf8_lossy(&bytes);
                n += text.matches("\tbash\n").count();
            }
        }
    }
    n
}

/// A world whose bash rc sources bash-preexec, then `extra`, then snap's line (None: a
/// tool or the fixture is missing).
fn bash_preexec_world(test: &str, extra: &str) -> Option<World> {
    if !require(test, &["bash", "tmux"]) {
        return None;
    }
    let w = World::new();
    let bp = fixture(&w, "bash-preexec")?;
    w.write_rc(
        Kind::Bash,
        &format!("source '{}/bash-preexec.sh'\n{extra}", bp.display()),
        "",
    );
    Some(w)
}

/// Under bash-preexec: each command recorded once (Ctrl-D does not record the last one
/// again), `$?` right, and the whole environment written only when it may have changed.
#[test]
fn bash_preexec_records_each_command_once_and_the_environment_only_when_it_may_change() {
    let test = "bash_preexec_records_each_command_once_and_the_environment_only_when_it_may_change";
    let Some(w) = bash_preexec_world(test, "") else {
        return;
    };
    let p = w.start_session("work", Kind::Bash);
    let typed = [
        "echo one",
        "echo a=b",
        "false",
        "echo \"rc=$?\"",
        "ls -d / >/dev/null",
    ];
    for (i, line) in typed.iter().enumerate() {
        p.run(line);
        w.wait_finished(i + 1);
    }
    p.wait_text("rc=1");
    assert!(
        whole_env_records(&w) <= 1,
        "the whole environment written after plain commands"
    );
    // No other prompt hook: snap adds nothing to PROMPT_COMMAND, where each entry costs
    // a pass of bash-preexec's at every command.
    p.run("echo \"[pc:${PROMPT_COMMAND[*]}]\"");
    w.wait_finished(typed.len() + 1);
    let screen = p.wait_text("__bp_interactive_mode]");
    assert!(!screen.contains("__snap"), "{screen}");
    p.run("export SNAPFW=1");
    w.wait_finished(typed.len() + 2);
    p.keys(&["C-d"]);
    wait_for("the shell to end", SOON, || {
        w.shells()
            .iter()
            .any(|s| s["ended"] == "exit")
            .then_some(())
    });
    let got: Vec<String> = w
        .history()
        .iter()
        .map(|r| r["command"].as_str().unwrap_or_default().to_string())
        .collect();
    let mut want: Vec<String> = typed.iter().map(|s| s.to_string()).collect();
    want.push("echo \"[pc:${PROMPT_COMMAND[*]}]\"".into());
    want.push("export SNAPFW=1".into());
    assert_eq!(got, want);
    let out = w.snap(&["history", "--all", "--json"]);
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), "");
}

/// Under bash-preexec, a precmd function registered before snap's line runs after snap's
/// own precmd: when it changes PATH (as a version manager's does), what it exports is
/// recorded at that prompt, not after the next command.
#[test]
fn bash_preexec_records_what_an_earlier_precmd_function_exports_at_once() {
    let test = "bash_preexec_records_what_an_earlier_precmd_function_exports_at_once";
    let hook = "snappre() { [[ $PWD != / || $PATH == /snappre:* ]] || export PATH=/snappre:$PATH SNAPPRE=at:/; }\nprecmd_functions+=(snappre)";
    let Some(w) = bash_preexec_world(test, hook) else {
        return;
    };
    let p = w.start_session("work", Kind::Bash);
    p.run("cd /");
    w.wait_finished(1);
    wait_for(
        "the precmd function's export in the session's env",
        SOON,
        || (live_env(&w)["SNAPPRE"] == "at:/").then_some(()),
    );
}

/// Save, crash, restore `work`; the one restored pane, its prompt drawn and its restore
/// script read (no key pressed).
fn save_crash_restore(w: &World) -> String {
    w.snap_ok(&["save"]);
    next_second();
    w.crash("work");
    restore_work(w)
}

/// Restore `work` (no attach); the one restored pane, its prompt drawn and its restore
/// script read (the hook records its environment after it).
fn restore_work(w: &World) -> String {
    w.snap_ok(&["restore", "work", "--no-attach"]);
    let pane = wait_for("the restored pane", SOON, || {
        w.tmux(&["list-panes", "-s", "-t", "=work", "-F", "#{pane_id}"])
            .status
            .success()
            .then(|| only_pane(w))
    });
    w.pane(&pane).wait_prompt();
    wait_for("the restored shell in the journal", SOON, || {
        w.shells()
            .iter()
            .any(|s| s["alive"] == true && s["replaces"].is_string())
            .then_some(())
    });
    pane
}

/// How many prompts the pane shows.
fn prompts(p: &common::Pane) -> usize {
    p.screen()
        .lines()
        .filter(|l| l.starts_with(common::PROMPT.trim_end()))
        .count()
}

/// The commands `snap history` holds, oldest first.
fn commands(w: &World) -> Vec<String> {
    w.history()
        .iter()
        .map(|r| r["command"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The bash rc of a ble.sh user: ble.sh sourced, `ble-attach`, snap's line after it or
/// before it. False when the fixture is missing (skipped).
fn ble_rc(w: &World, snap_after_attach: bool) -> bool {
    let Some(ble) = fixture(w, "ble.sh") else {
        return false;
    };
    let source = format!(
        "[[ $- == *i* ]] && source '{}/ble.sh' --noattach",
        ble.display()
    );
    let attach = "[[ ! ${BLE_VERSION-} ]] || ble-attach";
    if snap_after_attach {
        w.write_rc(Kind::Bash, &format!("{source}\n{attach}"), "");
    } else {
        w.write_rc(Kind::Bash, &source, attach);
    }
    true
}

/// Under ble.sh a dev server that ran in the foreground comes back with `--yes`: the
/// key restore types puts its line in ble.sh's edit buffer (ble.sh reads keys itself:
/// a binding made with `builtin bind` never fires).
#[test]
fn ble_sh_gets_its_dev_server_back_with_yes() {
    let test = "ble_sh_gets_its_dev_server_back_with_yes";
    if !require(test, &["bash", "tmux", "python3"]) {
        return;
    }
    let w = World::new();
    if !ble_rc(&w, true) {
        return;
    }
    let port = World::free_port();
    let answers = || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
    let p = w.start_session("work", Kind::Bash);
    p.run(&format!("python3 -m http.server {port} --bind 127.0.0.1"));
    wait_for("the dev server", SOON, || answers().then_some(()));
    w.snap_ok(&["save"]);
    w.crash("work");
    wait_for("the dev server to die", SOON, || (!answers()).then_some(()));
    w.snap_ok(&["restore", "work", "--no-attach", "--yes"]);
    wait_for("the dev server again", SOON, || answers().then_some(()));
}

#[test]
fn ble_sh_gets_a_job_that_left_the_shell_back_in_its_pane_before_its_server() {
    let test = "ble_sh_gets_a_job_that_left_the_shell_back_in_its_pane_before_its_server";
    if !require(test, &["bash", "tmux", "python3"]) {
        return;
    }
    let w = World::new();
    if !ble_rc(&w, true) {
        return;
    }
    let (job_port, port) = (World::free_port(), World::free_port());
    let answers = |port: u16| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
    let job_argv = common::server_argv(job_port);
    let p = w.start_session("work", Kind::Bash);
    p.run(&format!(
        "sh -c 'exec {} >/dev/null 2>&1 &'",
        job_argv.join(" ")
    ));
    wait_for("the job's server", SOON, || answers(job_port).then_some(()));
    p.run(&format!("python3 -m http.server {port} --bind 127.0.0.1"));
    wait_for("the dev server", SOON, || answers(port).then_some(()));
    w.snap_ok(&["save"]);
    w.crash("work");
    // The job outlived tmux (it went to init): end it as a reboot would.
    common::kill_all(&w.home, &job_argv);
    wait_for("both servers to die", SOON, || {
        (!answers(port) && !answers(job_port)).then_some(())
    });
    w.snap_ok(&["restore", "work", "--no-attach", "--yes"]);
    wait_for("both servers again", SOON, || {
        (answers(port) && answers(job_port)).then_some(())
    });
    // In the one pane, as before: no window of its own for the job.
    let panes = w.tmux_ok(&["list-panes", "-s", "-t", "=work", "-F", "#{pane_id}"]);
    assert_eq!(panes.lines().count(), 1, "{panes}");
    common::kill_all(&w.home, &job_argv);
}

/// ble.sh around the hook, in the order `rc` gives (ble.sh sourced, `ble-attach`,
/// snap's line): the first prompt is recorded (a whole environment before any
/// command), each line once (not again after an empty Enter, a Ctrl-C or a private
/// line), `$?` right, no `BASH_COMMAND`/`LINENO` in the environment, the shell ends
/// with its terminal, and a restore applies at once: its screen shown and its
/// variables set, no Enter pressed.
fn ble_sh_session(test: &str, snap_after_attach: bool) {
    if !require(test, &["bash", "tmux"]) {
        return;
    }
    let w = World::new();
    if !ble_rc(&w, snap_after_attach) {
        return;
    }
    let p = w.start_session("work", Kind::Bash);
    wait_for("the first prompt's environment", SOON, || {
        (whole_env_records(&w) >= 1).then_some(())
    });
    // ble.sh takes keys typed ahead of its prompt for a paste: one line at a time.
    let step = |line: &str, key: &str| {
        let before = prompts(&p);
        if !line.is_empty() {
            p.keys(&["-l", line]);
        }
        p.keys(&[key]);
        wait_for("the next prompt", SOON, || {
            (prompts(&p) > before).then_some(())
        });
    };
    step("echo one", "Enter");
    step("", "Enter");
    p.run("sleep 30");
    wait_for("sleep to start", SOON, || {
        (commands(&w).len() >= 2).then_some(())
    });
    step("", "C-c");
    step(" echo private-line", "Enter");
    step("false", "Enter");
    step("echo \"rc=$?\"", "Enter");
    p.wait_text("rc=1");
    step("export SNAPBLE=kept", "Enter");
    step("", "Enter");
    step("echo done-typing", "Enter");
    w.wait_finished(6);
    let want = [
        "echo one",
        "sleep 30",
        "false",
        "echo \"rc=$?\"",
        "export SNAPBLE=kept",
        "echo done-typing",
    ];
    assert_eq!(commands(&w), want);
    let exits: Vec<i64> = w
        .history()
        .iter()
        .map(|r| r["exit"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(exits, [0, 130, 1, 0, 0, 0]);
    let shells = w.shells();
    for s in &shells {
        for name in ["BASH_COMMAND", "LINENO"] {
            assert!(s["env"].get(name).is_none(), "{name} in {s:#}");
        }
    }
    assert!(!p.screen().contains("snap:"), "{}", p.screen());

    let pane = save_crash_restore(&w);
    let p = w.pane(&pane);
    p.wait_text("snap: session work");
    p.wait_text("done-typing");
    p.run("echo \"[v:$SNAPBLE]\"");
    p.wait_text("[v:kept]");
    let out = w.snap(&["history", "--all", "--json"]);
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), "");
}

#[test]
fn ble_sh_with_snaps_line_after_ble_attach_records_from_the_first_prompt_once_each_and_restores_at_once(
) {
    ble_sh_session(
        "ble_sh_with_snaps_line_after_ble_attach_records_from_the_first_prompt_once_each_and_restores_at_once",
        true,
    );
}

#[test]
fn ble_sh_with_snaps_line_before_ble_attach_records_from_the_first_prompt_once_each_and_restores_at_once(
) {
    ble_sh_session(
        "ble_sh_with_snaps_line_before_ble_attach_records_from_the_first_prompt_once_each_and_restores_at_once",
        false,
    );
}

/// The session's variables as `snap sessions --json` gives them, of its one live shell.
fn live_env(w: &World) -> serde_json::Value {
    w.shells()
        .into_iter()
        .find(|s| s["alive"] == true)
        .map(|s| s["env"].clone())
        .unwrap_or_default()
}

/// direnv's hook before snap's line: right after `cd proj` the session's env holds what
/// `.envrc` exports (direnv exports at the prompt, after snap's own hook), and after
/// kill-server and restore direnv still unloads it on leaving the directory.
fn direnv_session(test: &str, kind: Kind) {
    if !require(test, &[kind.name(), "tmux", "direnv"]) {
        return;
    }
    let w = World::new();
    let hook = match kind {
        Kind::Fish => "direnv hook fish | source".to_string(),
        _ => format!("eval \"$(direnv hook {})\"", kind.name()),
    };
    w.write_rc(kind, &hook, "");
    direnv_checks(&w, kind);
}

/// [`direnv_session`]'s checks, the rc written.
fn direnv_checks(w: &World, kind: Kind) {
    let proj = w.home.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(proj.join(".envrc"), "export SNAPDIR_VAR=from-envrc\n").unwrap();
    let allowed = w
        .command("direnv")
        .arg("allow")
        .arg(&proj)
        .output()
        .unwrap();
    assert!(allowed.status.success(), "{allowed:?}");
    let p = w.start_session("work", kind);
    p.run("cd ~/proj");
    w.wait_finished(1);
    wait_for("direnv's export in the session's env", SOON, || {
        (live_env(w)["SNAPDIR_VAR"] == "from-envrc").then_some(())
    });

    let pane = save_crash_restore(w);
    let p = w.pane(&pane);
    p.run("echo \"[in:$SNAPDIR_VAR]\"");
    p.wait_text("[in:from-envrc]");
    p.wait_prompt();
    p.run("cd ~");
    p.wait_text("direnv: unloading");
    p.run("echo \"[out:$SNAPDIR_VAR]\"");
    p.wait_text("[out:]");
}

/// direnv under ble.sh (direnv's hook, then snap's line, before ble-attach): ble.sh
/// runs PROMPT_COMMAND, where direnv exports, after snap's PRECMD.
#[test]
fn ble_sh_direnv_exports_are_recorded_at_once_and_unloaded_after_restore() {
    let test = "ble_sh_direnv_exports_are_recorded_at_once_and_unloaded_after_restore";
    if !require(test, &["bash", "tmux", "direnv"]) {
        return;
    }
    let w = World::new();
    if !ble_rc(&w, false) {
        return;
    }
    let rc = w.home.join(".bashrc");
    let text = std::fs::read_to_string(&rc).unwrap();
    let text = text.replace("eval \"$('", "eval \"$(direnv hook bash)\"\neval \"$('");
    std::fs::write(&rc, text).unwrap();
    direnv_checks(&w, Kind::Bash);
}

/// direnv under bash-preexec (bash-preexec, direnv's hook, snap's line): bash-preexec
/// runs its precmd functions, snap's among them, before the rest of PROMPT_COMMAND.
#[test]
fn bash_preexec_direnv_exports_are_recorded_at_once_and_unloaded_after_restore() {
    let test = "bash_preexec_direnv_exports_are_recorded_at_once_and_unloaded_after_restore";
    if !require(test, &["bash", "tmux", "direnv"]) {
        return;
    }
    let w = World::new();
    let Some(bp) = fixture(&w, "bash-preexec") else {
        return;
    };
    w.write_rc(
        Kind::Bash,
        &format!(
            "source '{}/bash-preexec.sh'\neval \"$(direnv hook bash)\"",
            bp.display()
        ),
        "",
    );
    direnv_checks(&w, Kind::Bash);
}

#[test]
fn bash_direnv_exports_are_recorded_at_once_and_unloaded_after_restore() {
    direnv_session(
        "bash_direnv_exports_are_recorded_at_once_and_unloaded_after_restore",
        Kind::Bash,
    );
}

#[test]
fn zsh_direnv_exports_are_recorded_at_once_and_unloaded_after_restore() {
    direnv_session(
        "zsh_direnv_exports_are_recorded_at_once_and_unloaded_after_restore",
        Kind::Zsh,
    );
}

#[test]
fn fish_direnv_exports_are_recorded_at_once_and_unloaded_after_restore() {
    direnv_session(
        "fish_direnv_exports_are_recorded_at_once_and_unloaded_after_restore",
        Kind::Fish,
    );
}

/// A Python virtualenv active when the session went away is active again after
/// restore, by its own activation: its prompt marker, `deactivate`, and after
/// `deactivate` no trace of it in `PATH`.
fn venv_session(test: &str, kind: Kind) {
    if !require(test, &[kind.name(), "tmux", "python3"]) {
        return;
    }
    let w = World::new();
    w.write_rc(kind, "", "");
    let venv = w.home.join("venv");
    let made = w
        .command("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let p = w.start_session("work", kind);
    p.run(match kind {
        Kind::Fish => "source ~/venv/bin/activate.fish",
        _ => ". ~/venv/bin/activate",
    });
    w.wait_finished(1);
    p.wait_text("(venv) READY>");

    let pane = save_crash_restore(&w);
    let p = w.pane(&pane);
    p.wait_text("(venv) READY>");
    let (has_deactivate, path_check) = match kind {
        Kind::Fish => (
            "functions -q deactivate; and echo '[deactivate:yes]'",
            "contains -- ~/venv/bin $PATH; and echo '[path:venv]'; or echo '[path:clean]'",
        ),
        _ => (
            "declare -f deactivate >/dev/null && echo '[deactivate:yes]'",
            "case \":$PATH:\" in *\":$HOME/venv/bin:\"*) echo '[path:venv]';; *) echo '[path:clean]';; esac",
        ),
    };
    p.run(has_deactivate);
    p.wait_text("[deactivate:yes]");
    p.run("deactivate");
    p.run("echo \"[ve:$VIRTUAL_ENV]\"");
    p.wait_text("[ve:]");
    p.run(path_check);
    p.wait_text("[path:clean]");
}

#[test]
fn bash_venv_comes_back_active_with_its_prompt_marker_and_deactivate() {
    venv_session(
        "bash_venv_comes_back_active_with_its_prompt_marker_and_deactivate",
        Kind::Bash,
    );
}

#[test]
fn zsh_venv_comes_back_active_with_its_prompt_marker_and_deactivate() {
    venv_session(
        "zsh_venv_comes_back_active_with_its_prompt_marker_and_deactivate",
        Kind::Zsh,
    );
}

#[test]
fn fish_venv_comes_back_active_with_its_prompt_marker_and_deactivate() {
    venv_session(
        "fish_venv_comes_back_active_with_its_prompt_marker_and_deactivate",
        Kind::Fish,
    );
}

/// The entry of a bash `history` listing that starts with `first`, its continuation
/// lines included (up to the next numbered line).
fn listed_entry(listing: &str, first: &str) -> String {
    let numbered = |l: &str| {
        let t = l.trim_start();
        l.len() > t.len()
            && t.split_once("  ")
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
    };
    let mut out = Vec::new();
    for line in listing.lines() {
        if !out.is_empty() && numbered(line) {
            break;
        }
        if !out.is_empty() {
            out.push(line.to_string());
        } else if numbered(line)
            && line
                .trim_start()
                .split_once("  ")
                .unwrap()
                .1
                .starts_with(first)
        {
            out.push(line.trim_start().split_once("  ").unwrap().1.to_string());
        }
    }
    out.join("\n")
}

/// A heredoc typed in bash comes back in the restored shell's history as bash kept it
/// (with `lithist`, its lines on lines of their own: joined with `; ` it is broken),
/// in its place.
fn bash_heredoc_history(lithist: bool) {
    let w = World::new();
    let opt = if lithist { "shopt -s lithist" } else { "" };
    w.write_rc(Kind::Bash, &format!("HISTFILE=/dev/null\n{opt}"), "");
    let p = w.start_session("work", Kind::Bash);
    p.run("echo before-doc");
    p.run("cat <<EOF");
    p.run("hello-doc");
    p.run("EOF");
    p.run("echo after-doc");
    w.wait_finished(3);
    let before = own_listing(&w, Kind::Bash, &p.id);
    let entry = listed_entry(&before, "cat <<EOF");
    assert!(entry.contains("\nhello-doc\n"), "{before}");
    let pane = save_crash_restore(&w);
    let after = own_listing(&w, Kind::Bash, &pane);
    assert_eq!(listed_entry(&after, "cat <<EOF"), entry, "{after}");
    let order: Vec<usize> = ["echo before-doc", "cat <<EOF", "echo after-doc"]
        .iter()
        .map(|c| after.find(c).unwrap_or(usize::MAX))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{after}");
}

#[test]
fn bash_heredoc_history_comes_back_as_bash_keeps_it_with_lithist() {
    if require(
        "bash_heredoc_history_comes_back_as_bash_keeps_it_with_lithist",
        &["bash", "tmux"],
    ) {
        bash_heredoc_history(true);
    }
}

#[test]
fn bash_heredoc_history_comes_back_as_bash_keeps_it_without_lithist() {
    if require(
        "bash_heredoc_history_comes_back_as_bash_keeps_it_without_lithist",
        &["bash", "tmux"],
    ) {
        bash_heredoc_history(false);
    }
}

/// A job stopped with Ctrl-Z ends its command with 128 + SIGTSTP: the brief names the
/// failure before it as the last one, and lists the job as stopped, not failed.
fn stopped_job_is_no_failure(test: &str, kind: Kind) {
    if !require(test, &[kind.name(), "tmux"]) {
        return;
    }
    let w = World::new();
    w.write_rc(kind, "", "");
    let p = w.start_session("work", kind);
    p.run("false");
    w.wait_finished(1);
    p.run("sleep 300");
    wait_for("sleep to start", SOON, || {
        (commands(&w).len() >= 2).then_some(())
    });
    p.keys(&["C-z"]);
    let h = w.wait_finished(2);
    assert_eq!(h[1]["command"], "sleep 300");
    let b = w.snap_json(&["brief", "work", "--json"]);
    assert_eq!(b["last_failure"]["command"], "false", "{b:#}");
    let text = w.snap(&["brief", "work"]);
    let text = String::from_utf8_lossy(&text.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("sleep 300"))
        .unwrap_or_default();
    assert!(line.contains("stopped"), "{text}");
    p.run("kill %1");
}

#[test]
fn bash_stopped_job_is_no_failure() {
    stopped_job_is_no_failure("bash_stopped_job_is_no_failure", Kind::Bash);
}

#[test]
fn zsh_stopped_job_is_no_failure() {
    stopped_job_is_no_failure("zsh_stopped_job_is_no_failure", Kind::Zsh);
}

#[test]
fn fish_stopped_job_is_no_failure() {
    stopped_job_is_no_failure("fish_stopped_job_is_no_failure", Kind::Fish);
}

/// A framework loaded as users load it, around snap's line (`before` it, `after` it:
/// there the tests add `READY> ` to the framework's own prompt, so that they can tell
/// a prompt). In it: `$?` right, every command recorded once, nothing of snap's
/// printed; after kill-server and restore: the framework's prompt (its last line shows
/// `shows`), the cwd,
/// the variable, the shell's own history with each command once, one window.
struct Setup<'a> {
    test: &'a str,
    kind: Kind,
    needs: &'a [&'a str],
    before: String,
    after: String,
    shows: &'a str,
}

fn framework_session(s: Setup) {
    let mut needs = vec![s.kind.name(), "tmux"];
    needs.extend_from_slice(s.needs);
    if !require(s.test, &needs) {
        return;
    }
    let w = World::new();
    framework_in(&w, &s);
}

fn framework_in(w: &World, s: &Setup) {
    w.write_rc(s.kind, &s.before, &s.after);
    framework_checks(w, s);
}

/// [`framework_session`]'s checks, the rc written.
fn framework_checks(w: &World, s: &Setup) {
    let kind = s.kind;
    std::fs::create_dir_all(w.home.join("proj")).unwrap();
    let p = w.start_session("work", kind);
    let typed = [
        "echo one",
        "false",
        match kind {
            Kind::Fish => "echo \"rc=$status\"",
            _ => "echo \"rc=$?\"",
        },
        "export FWVAR=kept",
        "cd ~/proj",
    ];
    for (i, line) in typed.iter().enumerate() {
        p.run(line);
        w.wait_finished(i + 1);
        p.wait_prompt();
    }
    p.wait_text("rc=1");
    assert_eq!(commands(w), typed, "{}", p.screen());
    assert!(!p.screen().contains("snap:"), "{}", p.screen());

    let pane = save_crash_restore(w);
    let p = w.pane(&pane);
    wait_for("the framework's prompt", SOON, || {
        let screen = p.screen();
        let last = screen
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())?
            .to_string();
        last.contains(s.shows).then_some(())
    });
    let windows = w.tmux_ok(&["list-windows", "-t", "=work", "-F", "#{window_id}"]);
    assert_eq!(windows.lines().count(), 1, "{windows}");
    let cwd = w.tmux_ok(&["display-message", "-p", "-t", &pane, "#{pane_current_path}"]);
    assert_eq!(cwd.trim(), w.home.join("proj").display().to_string());
    p.run("echo \"[v:$FWVAR]\"");
    p.wait_text("[v:kept]");
    let own = own_history(w, kind, &pane);
    for line in typed {
        let n = own.iter().filter(|l| l.as_str() == line).count();
        assert_eq!(n, 1, "{line:?} in {own:#?}");
    }
    assert_eq!(
        commands(w)
            .iter()
            .filter(|c| typed.contains(&c.as_str()))
            .count(),
        typed.len(),
        "{:#?}",
        commands(w)
    );
}

/// A framework's worker that a `fish_preexec` handler puts in the background starts
/// within each command's run, in fish's own process group: it is no job, and restore
/// makes no window for it.
#[test]
fn fish_with_a_worker_its_preexec_handler_starts() {
    fish_with_config(
        "fish_with_a_worker_its_preexec_handler_starts",
        "function __fw_worker --on-event fish_preexec; sleep 60 >/dev/null 2>&1 &; end\n\
         function fish_prompt; printf '%s READY> ' (basename $PWD); end\n",
        "proj READY>",
    );
}

/// fish in a fresh `HOME` with snap's line and then `rest` as its `config.fish`, through
/// `framework_checks`; its prompt shows `shows` in the project directory.
fn fish_with_config(test: &str, rest: &str, shows: &str) {
    if !require(test, &["fish", "tmux"]) {
        return;
    }
    let w = World::new();
    let dir = w.home.join(".config/fish");
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!("'{}' init fish | source\n{rest}", w.bin.display());
    std::fs::write(dir.join("config.fish"), config).unwrap();
    framework_checks(
        &w,
        &Setup {
            test,
            kind: Kind::Fish,
            needs: &[],
            before: String::new(),
            after: String::new(),
            shows,
        },
    );
}

/// `READY> ` after a bash prompt a framework sets at every prompt.
const BASH_MARK: &str = "PROMPT_COMMAND+=$'\\n''PS1+=\"READY> \"'";

#[test]
fn bash_with_bash_completion_fzf_and_zoxide() {
    framework_session(Setup {
        test: "bash_with_bash_completion_fzf_and_zoxide",
        kind: Kind::Bash,
        needs: &["fzf", "zoxide"],
        before: [
            "source /usr/share/bash-completion/bash_completion",
            "source /usr/share/doc/fzf/examples/key-bindings.bash",
            "eval \"$(zoxide init bash)\"",
        ]
        .join("\n"),
        after: String::new(),
        shows: "READY>",
    });
}

#[test]
fn bash_with_powerline() {
    framework_session(Setup {
        test: "bash_with_powerline",
        kind: Kind::Bash,
        needs: &["powerline-config"],
        before: "source /usr/share/powerline/bindings/bash/powerline.sh".into(),
        after: BASH_MARK.into(),
        // Its path segment (snap's test prompt alone shows none).
        shows: "proj",
    });
}

#[test]
fn zsh_with_oh_my_zsh_robbyrussell_and_git() {
    let test = "zsh_with_oh_my_zsh_robbyrussell_and_git";
    if !require(test, &["zsh", "tmux", "git"]) {
        return;
    }
    let w = World::new();
    let Some(omz) = fixture(&w, "ohmyzsh") else {
        return;
    };
    framework_in(
        &w,
        &Setup {
            test,
            kind: Kind::Zsh,
            needs: &[],
            before: [
                format!("export ZSH='{}'", omz.display()),
                "ZSH_THEME=robbyrussell".into(),
                "plugins=(git)".into(),
                "DISABLE_AUTO_UPDATE=true".into(),
                "source $ZSH/oh-my-zsh.sh".into(),
            ]
            .join("\n"),
            after: "PROMPT+='READY> '".into(),
            // The theme's directory (snap's test prompt alone shows none).
            shows: "proj READY>",
        },
    );
}

#[test]
fn zsh_with_autosuggestions_syntax_highlighting_fzf_and_zoxide() {
    framework_session(Setup {
        test: "zsh_with_autosuggestions_syntax_highlighting_fzf_and_zoxide",
        kind: Kind::Zsh,
        needs: &["fzf", "zoxide"],
        before: [
            "source /usr/share/zsh-autosuggestions/zsh-autosuggestions.zsh",
            "source /usr/share/doc/fzf/examples/key-bindings.zsh",
            "eval \"$(zoxide init zsh)\"",
        ]
        .join("\n"),
        // zsh-syntax-highlighting goes last, as its README says.
        after: "source /usr/share/zsh-syntax-highlighting/zsh-syntax-highlighting.zsh".into(),
        shows: "READY>",
    });
}

/// fish with its default config in a fresh `HOME` (its default prompt, its first-start
/// scan of the man pages in the background): only snap's line in `config.fish`.
/// The scan is the shell's own process: capture leaves it out, so it comes back as no
/// window.
#[test]
fn fish_with_its_default_config_in_a_fresh_home() {
    fish_with_config(
        "fish_with_its_default_config_in_a_fresh_home",
        "functions -q fish_prompt; and functions -c fish_prompt __fw_prompt\n\
         function fish_prompt; __fw_prompt; printf 'READY> '; end\n",
        // The default prompt's directory.
        "proj",
    );
}
