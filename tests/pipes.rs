//! Closed pipes (issue 11, item 11): every command stops quietly when its reader goes
//! away: exit 0 or the SIGPIPE status (141 in bash), nothing on stderr, no panic.
//! Real pipes through `bash -c`, with readers that stop at many sizes.

mod common;

use common::{require, Kind, World};

/// Run `snap ARGS | READER` in bash; returns (snap's exit status, snap's stderr).
fn piped(w: &World, args: &[&str], reader: &str) -> (i32, String) {
    let err = w.path("snap.err");
    let script = format!(
        "\"$0\" \"$@\" 2>'{}' | {reader}; echo \"${{PIPESTATUS[0]}}\"",
        err.display()
    );
    let out = w
        .command("bash")
        .arg("-c")
        .arg(&script)
        .arg(&w.bin)
        .args(args)
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no status from {script}: {out:?}"));
    (status, std::fs::read_to_string(&err).unwrap_or_default())
}

#[test]
fn every_command_stops_quietly_when_its_reader_goes_away() {
    if !require("closed_pipes", &["bash", "head"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    // Enough history that its listing passes any pipe buffer (64 KiB on Linux).
    let n = 3000;
    let mut script: String = (0..n)
        .map(|i| format!("echo line-{i}-{}\n", "x".repeat(40)))
        .collect();
    script.push_str("exit\n");
    let file = w.path("script.sh");
    std::fs::write(&file, script).unwrap();
    // An interactive bash reading its commands from the file; its prompts and echoes
    // go to a file, never to a pipe nobody reads.
    let log = std::fs::File::create(w.path("bash.log")).unwrap();
    let status = w
        .command("bash")
        .args([
            "--rcfile",
            &w.home.join(".bashrc").display().to_string(),
            "-i",
        ])
        .stdin(std::fs::File::open(&file).unwrap())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(w.history().len() >= n, "every command recorded");
    let saved = w.snap(&["save"]);
    assert!(saved.status.success());

    let readers = [
        "head -1 >/dev/null".to_string(),
        "true".to_string(),
        "head -c 0 >/dev/null".to_string(),
        "head -c 1 >/dev/null".to_string(),
        "head -c 10 >/dev/null".to_string(),
        "head -c 4096 >/dev/null".to_string(),
        "head -c 65536 >/dev/null".to_string(),
        "head -c 150000 >/dev/null".to_string(),
    ];
    let commands: &[&[&str]] = &[
        &["history"],
        &["history", "--all"],
        &["history", "--all", "--json"],
        &["sessions"],
        &["sessions", "--json"],
        &["init", "bash"],
        &["init", "zsh"],
        &["init", "fish"],
        &["brief"],
        &["brief", "--json"],
        &["list"],
        &["list", "--json"],
        &["show"],
        &["show", "latest", "--json"],
        &["save", "--json"],
        &["task", "show", "--json"],
        &["daemon", "status"],
        &["config"],
        &["completions", "bash"],
        &["man"],
        &["--help"],
    ];
    for args in commands {
        for reader in &readers {
            let (status, err) = piped(&w, args, reader);
            assert!(
                status == 0 || status == 141,
                "snap {args:?} | {reader}: exit {status}: {err}"
            );
            assert!(err.is_empty(), "snap {args:?} | {reader}: {err}");
        }
    }
    // A reader that reads it all: the whole listing comes through.
    let (status, err) = piped(&w, &["history", "--all"], "wc -l >&2");
    assert_eq!((status, err.as_str()), (0, ""));
}
