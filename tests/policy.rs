//! The relaunch policy end to end: lines that once bypassed `never` are running in the
//! foreground at capture, the tmux server dies, and `snap restore` must not run them.

mod common;

use common::{require, wait_for, Kind, Pane, World, SOON};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;

fn setup(test: &str) -> Option<World> {
    if !require(test, &["bash", "tmux", "dd"]) {
        return None;
    }
    let w = World::new();
    let bin = w.home.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    // A script on PATH (so its line alone is only held) whose job runs `dd`, and which
    // deletes a victim first if it is ever run again.
    let script = bin.join("slowcopy");
    std::fs::write(
        &script,
        "#!/bin/sh\nrm -rf \"$HOME/victim-dd\"\nsleep 300 | dd of=/dev/null status=none\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    w.write_rc(
        Kind::Bash,
        &format!("PATH={}:/usr/local/bin:/usr/bin:/bin", bin.display()),
        "alias del='rm -rf'",
    );
    Some(w)
}

/// A window of its own in session `guard` (created with the first), its shell ready.
fn window<'w>(w: &'w World, name: &str, first: bool) -> Pane<'w> {
    let pane = if first {
        w.start_session("guard", Kind::Bash)
    } else {
        let out = w.tmux_ok(&[
            "new-window",
            "-t",
            "=guard:",
            "-c",
            &w.home.display().to_string(),
            "-P",
            "-F",
            "#{pane_id}",
            &w.shell_command(Kind::Bash),
        ]);
        let pane = w.pane(&out);
        pane.wait_prompt();
        pane
    };
    w.tmux_ok(&["rename-window", "-t", &pane.id, name]);
    w.tmux_ok(&[
        "set-option",
        "-w",
        "-t",
        &pane.id,
        "automatic-rename",
        "off",
    ]);
    pane
}

/// Run each line in a window of its own and wait until every one is running.
fn run_in_windows(w: &World, lines: &[(&str, &str)]) {
    for (i, (name, line)) in lines.iter().enumerate() {
        window(w, name, i == 0).run(line);
    }
    wait_for("every line running", SOON, || {
        let running = w
            .shells()
            .iter()
            .filter(|s| s["alive"] == true && !s["running"].is_null())
            .count();
        (running == lines.len()).then_some(())
    });
}

/// The restored pane of each window: (window name, pane id).
fn panes_by_window(w: &World) -> Vec<(String, String)> {
    w.tmux_ok(&[
        "list-panes",
        "-s",
        "-t",
        "=guard",
        "-F",
        "#{window_name}\t#{pane_id}",
    ])
    .lines()
    .filter_map(|l| l.split_once('\t'))
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

/// The JSON document at the start of `out` (what follows it is for the user).
fn first_json(out: &str) -> Value {
    serde_json::Deserializer::from_str(out)
        .into_iter::<Value>()
        .next()
        .unwrap_or_else(|| panic!("no JSON in {out}"))
        .unwrap()
}

/// Kill the whole tmux server, as a reboot would, and wait until its shells are gone.
fn kill_tmux(w: &World) {
    w.tmux_ok(&["kill-server"]);
    wait_for("the shells to hang up", SOON, || {
        w.shells().iter().all(|s| s["alive"] != true).then_some(())
    });
}

/// Each bypass line of issue 11 deletes its victim before it sleeps: run again, the
/// victim (made again before the restore) would be gone.
const NEVER_LINES: &[(&str, &str)] = &[
    ("ansi", "$'rm' -rf victim-ansi; sleep 300"),
    ("env-s", "env -S 'rm -rf victim-env-s'; sleep 300"),
    (
        "herestring",
        "bash <<< 'rm -rf victim-herestring'; sleep 300",
    ),
    ("variable", "R=rm; $R -rf victim-variable; sleep 300"),
    ("quote", "echo $'\\'' ; rm -rf victim-quote; sleep 300 #'"),
    ("alias", "del victim-alias; sleep 300"),
    ("find", "find victim-find -delete; sleep 300"),
    ("dd", "slowcopy"),
];

#[test]
fn restore_yes_runs_held_lines_but_no_line_that_once_bypassed_never() {
    let Some(w) = setup("restore_yes_runs_held_lines_but_no_line_that_once_bypassed_never") else {
        return;
    };
    let victims: Vec<String> = NEVER_LINES
        .iter()
        .map(|(name, _)| format!("victim-{name}"))
        .collect();
    let mut lines = NEVER_LINES.to_vec();
    lines.push(("held", "touch held-ran; sleep 300"));
    run_in_windows(&w, &lines);
    w.snap_ok(&["save"]);
    kill_tmux(&w);
    for v in &victims {
        std::fs::create_dir_all(w.home.join(v)).unwrap();
        std::fs::write(w.home.join(v).join("keep"), "keep me").unwrap();
    }
    std::fs::remove_file(w.home.join("held-ran")).unwrap();

    let out = w.snap_ok(&["restore", "guard", "--yes", "--no-attach", "--json"]);
    let v = first_json(&out);
    let relaunched: Vec<&str> = v["outcome"]["relaunched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert_eq!(relaunched, vec!["touch held-ran; sleep 300"], "{out}");

    // The held line ran (--yes); each other pane sits idle at its prompt: an echo typed
    // now answers at once, which it could not behind a re-run `sleep 300`.
    wait_for("the held line to run again", SOON, || {
        w.home.join("held-ran").exists().then_some(())
    });
    let panes = panes_by_window(&w);
    for (name, _) in NEVER_LINES {
        let (_, id) = panes
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no window {name} in {panes:?}"));
        let pane = w.pane(id);
        pane.wait_prompt();
        pane.run("echo probe-$((6*7))");
        pane.wait_text("probe-42");
    }
    for v in &victims {
        assert!(w.home.join(v).join("keep").exists(), "{v} was deleted");
    }
}

#[test]
fn dry_run_json_gives_each_relaunch_its_policy_action_reason_and_a_redacted_line() {
    let Some(w) =
        setup("dry_run_json_gives_each_relaunch_its_policy_action_reason_and_a_redacted_line")
    else {
        return;
    };
    run_in_windows(
        &w,
        &[
            ("variable", "R=rm; $R -rf victim; sleep 300"),
            ("wrapped", "sleep 300; bash -c 'rm -rf victim'"),
            (
                "held",
                "echo --password=hunter2hunter2 >/dev/null; sleep 300",
            ),
            ("dd", "slowcopy"),
            ("watcher", "sleep 300 | tail -f /dev/null"),
        ],
    );
    w.snap_ok(&["save"]);
    kill_tmux(&w);
    let out = w.snap_ok(&["restore", "guard", "--dry-run", "--json"]);
    let v = first_json(&out);
    let plan = v["plan"].to_string();
    assert!(
        !plan.contains("hunter2hunter2"),
        "a secret in the plan: {plan}"
    );
    let relaunch = |window: &str| -> Value {
        let w = v["plan"]["windows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == window)
            .unwrap_or_else(|| panic!("no window {window}: {out}"));
        w["panes"][0]["relaunch"].clone()
    };

    let r = relaunch("variable");
    assert_eq!(r["policy"], "never", "{r}");
    assert_eq!(r["action"], "skip", "{r}");
    assert_eq!(r["reason"], "opaque command word $R", "{r}");

    let r = relaunch("wrapped");
    assert_eq!(r["policy"], "never", "{r}");
    assert_eq!(r["action"], "skip", "{r}");
    assert_eq!(r["reason"], "never: rm (inside bash -c)", "{r}");

    let r = relaunch("held");
    assert_eq!(r["policy"], "hold", "{r}");
    assert_eq!(r["action"], "type", "{r}");
    assert_eq!(
        r["reason"], "hold: echo, sleep is not a known server, watcher or coding agent",
        "{r}"
    );
    assert_eq!(
        r["line"], "echo --password=[redacted] >/dev/null; sleep 300",
        "{r}"
    );

    let r = relaunch("dd");
    assert_eq!(r["policy"], "never", "{r}");
    assert_eq!(r["action"], "skip", "{r}");
    assert_eq!(
        r["reason"], "never: dd (a process of this job at capture)",
        "{r}"
    );

    let r = relaunch("watcher");
    assert_eq!(r["policy"], "auto", "{r}");
    assert_eq!(r["action"], "run", "{r}");
    assert!(r["reason"].is_null(), "{r}");
    assert_eq!(r["line"], "sleep 300 | tail -f /dev/null", "{r}");
    assert_eq!(v["plan"]["left"].as_array().unwrap().len(), 0, "{out}");
}
