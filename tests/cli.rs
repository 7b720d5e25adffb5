//! The binary's plain commands: init, history and sessions over hand-made stores.

mod common;

use common::{require, World};
use std::os::unix::fs::PermissionsExt;

#[test]
fn init_for_an_unknown_shell_is_a_usage_error_listing_the_supported_ones() {
    let w = World::new();
    let out = w.snap(&["init", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for shell in ["bash", "zsh", "fish"] {
        assert!(err.contains(shell), "{err}");
    }
}

#[test]
fn init_fills_in_the_binarys_absolute_path() {
    let w = World::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = w.snap(&["init", shell]);
        assert!(out.status.success());
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(
            script.contains(&format!("'{}'", w.bin.display())),
            "{shell}"
        );
        assert!(!script.contains("@SNAP_BIN@"));
    }
}

fn hand_made_shell(w: &World, id: &str, journal: &[u8]) -> std::path::PathBuf {
    let dir = w.snap_home.join("shells").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let meta = serde_json::json!({
        "schema": 1, "id": id, "kind": "bash", "pid": 999_999_999u32, "tty": null,
        "started_at": "2026-11-25T00:00:00Z", "session": "proj", "start_dir": "/p",
        "project_dir": "/p", "host": "h", "tmux": null
    });
    std::fs::write(dir.join("meta"), serde_json::to_vec(&meta).unwrap()).unwrap();
    std::fs::write(dir.join("journal"), journal).unwrap();
    dir.join("journal")
}

#[test]
fn a_damaged_journal_is_read_as_far_as_valid_named_once_and_left_untouched() {
    let w = World::new();
    let mut bytes = b"\x00\x00\xff garbage\n".to_vec();
    bytes.extend(b"\x1eS\t1764000000000000\t/p\tt\necho ok\n\x1eE\t1764000000100000\t0\t100\t/p\n");
    bytes.extend(b"\x1eE\tbroken\n\x1eS\t1764000001000000\t/p\tt\necho \xff\xfe half");
    let journal = hand_made_shell(&w, "1764000000000000-1-abcd", &bytes);
    let out = w.snap(&["history", "--all", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["command"], "echo ok");
    assert_eq!(v[0]["exit"], 0);
    assert_eq!(v[0]["duration_ms"], 100);
    assert!(v[1]["command"].as_str().unwrap().starts_with("echo "));
    assert!(v[1]["exit"].is_null());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches(&journal.display().to_string()).count(),
        1,
        "{err}"
    );
    assert_eq!(std::fs::read(&journal).unwrap(), bytes);
}

#[test]
fn a_shell_with_no_end_record_and_a_dead_pid_has_vanished() {
    let w = World::new();
    hand_made_shell(
        &w,
        "1764000000000000-1-abcd",
        b"\x1eS\t1764000000000000\t/p\tt\nnpm run dev\n",
    );
    // Every shell: this one was last seen at a fixed date, soon more than the 7 days
    // that keep an ended shell listed.
    let v = w.snap_json(&["sessions", "--json", "--all"]);
    let shell = &v[0]["shells"][0];
    assert_eq!(v[0]["name"], "proj");
    assert_eq!(shell["alive"], false);
    assert!(shell["ended"].is_null());
    assert_eq!(shell["running"], "npm run dev");
}

#[test]
fn shell_start_makes_private_directories_and_files_whatever_the_umask() {
    let w = World::new();
    let out = w
        .command("sh")
        .args([
            "-c",
            &format!("umask 000; '{}' shell-start bash 1-2-3 $$", w.bin.display()),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    for (path, mode) in [
        (w.snap_home.clone(), 0o700),
        (w.snap_home.join("shells"), 0o700),
        (dir.clone().into(), 0o700),
        (std::path::Path::new(&dir).join("journal"), 0o600),
        (std::path::Path::new(&dir).join("meta"), 0o600),
    ] {
        let m = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(m, mode, "{}", path.display());
    }
}

#[test]
fn shell_start_refuses_an_id_that_would_leave_the_store() {
    let w = World::new();
    let out = w.snap(&["shell-start", "bash", "../../etc", "1"]);
    assert!(!out.status.success());
    assert!(!w.tmp.path().join("etc").exists());
}

#[test]
fn the_bash_hook_passes_shellcheck() {
    if !require("the_bash_hook_passes_shellcheck", &["shellcheck"]) {
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/shell/snap.bash");
    let out = std::process::Command::new("shellcheck")
        .args(["-s", "bash", script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
