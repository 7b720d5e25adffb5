//! The notice at a new shell's start: a session waiting to be restored, said once.

mod common;

use common::{require, wait_for, Kind, World, SOON};

const LINE: &str = "snap: session old is waiting to be restored: snap restore old";

fn lost_session(w: &World) {
    let p = w.start_session("old", Kind::Bash);
    p.run("echo working");
    w.wait_finished(1);
    w.tmux_ok(&["kill-server"]);
    wait_for("the old shell to hang up", SOON, || {
        let s = w.shells().into_iter().next()?;
        (s["alive"] == false).then_some(())
    });
}

#[test]
fn a_new_shell_says_once_that_a_session_waits_to_be_restored() {
    if !require(
        "a_new_shell_says_once_that_a_session_waits_to_be_restored",
        &["bash", "tmux"],
    ) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    lost_session(&w);
    let p = w.start_session("new", Kind::Bash);
    assert!(p.screen().contains(LINE), "{}", p.screen());
    let q = w.split(&p.id, Kind::Bash);
    assert!(
        !q.screen().contains("waiting to be restored"),
        "{}",
        q.screen()
    );
}

#[test]
fn notice_false_in_the_config_silences_it() {
    if !require("notice_false_in_the_config_silences_it", &["bash", "tmux"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    lost_session(&w);
    std::fs::write(w.snap_home.join("config.toml"), "notice = false\n").unwrap();
    let p = w.start_session("new", Kind::Bash);
    assert!(
        !p.screen().contains("waiting to be restored"),
        "{}",
        p.screen()
    );
}
