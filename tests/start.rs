//! `snap start`: a tmux session with the hook active, in DIR, with a .env's variables.

mod common;

use common::{require, wait_for, World, SOON};

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
