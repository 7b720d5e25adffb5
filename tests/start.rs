//! `snap start`: a tmux session with the hook active, in DIR, with a .env's variables.

mod common;

use common::{require, wait_for, World, SOON};
use std::path::Path;
use std::process::Output;

#[test]
fn start_creates_a_hooked_session_in_dir_with_the_env_file_never_executed() {
    if !require(
        "start_creates_a_hooked_session_in_dir_with_the_env_file_never_executed",
        &["tmux", "bash"],
    ) {
        return;
    }
    let w = World::new();
    std::fs::write(
        w.home.join(".bashrc"),
        format!("PS1='{}'\nPATH=/usr/bin:/bin\n", common::PROMPT),
    )
    .unwrap();
    let proj = w.home.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    let pwned = w.home.join("pwned");
    std::fs::write(
        proj.join(".env"),
        format!(
            "# settings\nexport GREETING=\"hello 'quoted' world\"\nCMD='$(touch {p})'\nDQ=\"$(touch {p})\"\nDERIVED=${{GREETING}}!\n",
            p = pwned.display()
        ),
    )
    .unwrap();
    let out = w
        .command(&w.bin)
        .args([
            "start",
            "agent.work",
            "--dir",
            &proj.display().to_string(),
            "--trust-env",
            "--no-attach",
        ])
        .env("SHELL", "/bin/bash")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("tmux attach-session -t agent_work"));
    let shell = wait_for("the started shell's env", SOON, || {
        let s = w.shells().into_iter().next()?;
        (s["env"]["GREETING"] == "hello 'quoted' world").then_some(s)
    });
    assert_eq!(shell["cwd"], proj.display().to_string());
    assert_eq!(shell["tmux"]["session"], "agent_work");
    assert_eq!(shell["env"]["CMD"], format!("$(touch {})", pwned.display()));
    assert_eq!(shell["env"]["DERIVED"], "hello 'quoted' world!");
    let pane = w.pane("agent_work");
    pane.run("echo \"[$GREETING]\"");
    pane.wait_text("[hello 'quoted' world]");
    assert!(!pwned.exists(), "a $(…) in .env ran");

    // Starting it again attaches instead of creating a second one.
    let again = w.snap(&["start", "agent.work", "--no-attach"]);
    assert!(again.status.success());
    let sessions = w.tmux_ok(&["list-sessions", "-F", "#{session_name}"]);
    assert_eq!(sessions.trim(), "agent_work");
}

/// `snap start NAME --dir DIR EXTRA… --no-attach` with bash as the user's shell.
fn start(w: &World, name: &str, dir: &Path, extra: &[&str]) -> Output {
    let dir = dir.display().to_string();
    let mut args = vec!["start", name, "--dir", &dir, "--no-attach"];
    args.extend_from_slice(extra);
    let out = w
        .command(&w.bin)
        .args(&args)
        .env("SHELL", "/bin/bash")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "snap {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The live shell started in `dir`, once its environment is recorded.
/// The live shell of tmux session `session` in `dir`, once it has shown a prompt and
/// recorded a command (so its start-up environment is written).
fn shell_in(w: &World, session: &str, dir: &Path) -> serde_json::Value {
    let marker = format!("echo settled-{session}");
    w.pane(&format!("={session}:")).run(&marker);
    wait_for("the settling command recorded", SOON, || {
        w.history()
            .iter()
            .any(|r| r["command"] == marker.as_str() && !r["exit"].is_null())
            .then_some(())
    });
    wait_for("the started shell", SOON, || {
        w.shells().into_iter().find(|s| {
            s["alive"] == true && s["cwd"] == dir.display().to_string() && s["env"].is_object()
        })
    })
}

/// Kill tmux session `name` and wait until no shell in `dir` is alive.
fn stop(w: &World, name: &str, dir: &Path) {
    w.tmux_ok(&["kill-session", "-t", &format!("={name}")]);
    wait_for("the session's shell to end", SOON, || {
        let cwd = dir.display().to_string();
        (!w.shells()
            .iter()
            .any(|s| s["alive"] == true && s["cwd"] == cwd.as_str()))
        .then_some(())
    });
}

/// How many times `word` appears in `text`.
fn count(text: &str, word: &str) -> usize {
    text.matches(word).count()
}

#[test]
fn a_dot_env_loads_only_once_trusted_and_never_its_code_or_snap_variables() {
    if !require(
        "a_dot_env_loads_only_once_trusted_and_never_its_code_or_snap_variables",
        &["tmux", "bash"],
    ) {
        return;
    }
    let w = World::new();
    std::fs::write(
        w.home.join(".bashrc"),
        format!("PS1='{}'\nPATH=/usr/bin:/bin\n", common::PROMPT),
    )
    .unwrap();
    let proj = w.home.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    let f1 = w.home.join("F1");
    let evil_ran = w.home.join("evil-ran");
    let evil = w.home.join("evil.sh");
    std::fs::write(&evil, format!("touch {}\n", evil_ran.display())).unwrap();
    let env = proj.join(".env");
    std::fs::write(
        &env,
        format!(
            "GREETING=hello\nPROMPT_COMMAND=\"touch {}\"\nBASH_ENV={}\nSNAP_DISABLE=1\n",
            f1.display(),
            evil.display()
        ),
    )
    .unwrap();

    // Untrusted: nothing loads; the variables are named and the way to trust it given.
    let out = start(&w, "one", &proj, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not trusted"), "{err}");
    let again = format!("snap start one --dir {} --trust-env", proj.display());
    assert!(err.contains(&again), "{err}");
    assert!(err.contains("GREETING"), "{err}");
    for name in ["PROMPT_COMMAND", "BASH_ENV", "SNAP_DISABLE"] {
        assert_eq!(count(&err, name), 1, "{name} named once: {err}");
    }
    let shell = shell_in(&w, "one", &proj);
    assert!(shell["env"].get("GREETING").is_none(), "{shell:#}");
    // Trusting it while that session runs: remembered, and said that it runs without.
    let out = start(&w, "one", &proj, &["--trust-env"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("trusted") && err.contains("kill-session"),
        "{err}"
    );
    stop(&w, "one", &proj);

    // Trusted: the safe variables load, the others never; recording stays on.
    let out = start(&w, "two", &proj, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("not trusted"), "{err}");
    for name in ["PROMPT_COMMAND", "BASH_ENV", "SNAP_DISABLE"] {
        assert_eq!(count(&err, name), 1, "{name} named once: {err}");
    }
    let shell = shell_in(&w, "two", &proj);
    assert_eq!(shell["env"]["GREETING"], "hello", "{shell:#}");
    for name in ["BASH_ENV", "SNAP_DISABLE", "PROMPT_COMMAND"] {
        assert!(shell["env"].get(name).is_none(), "{name}: {shell:#}");
    }
    let pane = w.pane("=two:");
    pane.run("bash -c 'echo non-interactive-ran'");
    pane.wait_text("non-interactive-ran");
    pane.run("echo recorded-$GREETING");
    wait_for("the command recorded", SOON, || {
        w.history()
            .iter()
            .any(|r| r["command"] == "echo recorded-$GREETING" && !r["exit"].is_null())
            .then_some(())
    });
    assert!(!f1.exists(), "PROMPT_COMMAND from .env ran");
    assert!(!evil_ran.exists(), "BASH_ENV from .env ran");
    let record = std::fs::read_dir(w.snap_home.join("state/trust"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mode = std::os::unix::fs::PermissionsExt::mode(&record.metadata().unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    stop(&w, "two", &proj);

    // Trusted as it is: it loads without asking. Changed: it asks again.
    let out = start(&w, "three", &proj, &[]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("not loaded"));
    assert_eq!(shell_in(&w, "three", &proj)["env"]["GREETING"], "hello");
    stop(&w, "three", &proj);
    std::fs::write(&env, "GREETING=changed\n").unwrap();
    let out = start(&w, "four", &proj, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("changed since you trusted it"), "{err}");
    assert!(err.contains("--trust-env"), "{err}");
    assert!(shell_in(&w, "four", &proj)["env"].get("GREETING").is_none());
}

#[test]
fn a_named_env_file_is_trusted_but_its_code_variables_still_never_load() {
    if !require(
        "a_named_env_file_is_trusted_but_its_code_variables_still_never_load",
        &["tmux", "bash"],
    ) {
        return;
    }
    let w = World::new();
    std::fs::write(
        w.home.join(".bashrc"),
        format!("PS1='{}'\nPATH=/usr/bin:/bin\n", common::PROMPT),
    )
    .unwrap();
    let f1 = w.home.join("F1");
    let file = w.home.join("settings.env");
    std::fs::write(
        &file,
        format!("PORT=3001\nPROMPT_COMMAND=\"touch {}\"\n", f1.display()),
    )
    .unwrap();
    let out = start(
        &w,
        "named",
        &w.home,
        &["--env-file", &file.display().to_string()],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(count(&err, "PROMPT_COMMAND"), 1, "{err}");
    assert!(!err.contains("not trusted"), "{err}");
    let shell = shell_in(&w, "named", &w.home);
    assert_eq!(shell["env"]["PORT"], "3001");
    let pane = w.pane("=named:");
    pane.run("echo after-a-prompt");
    pane.wait_text("after-a-prompt");
    pane.wait_prompt();
    assert!(!f1.exists(), "PROMPT_COMMAND from --env-file ran");
}
