//! Typed text cannot forge journal records (journal format 2): forgeries pasted into
//! real bash, zsh and fish under tmux stay the text of the command they were typed in.

mod common;

use common::{require, wait_for, Kind, World, SOON};
use serde_json::Value;

/// A world with the hook in `kind`'s rc, or None when the test is skipped.
fn world(test: &str, kind: Kind) -> Option<World> {
    if !require(test, &[kind.name(), "tmux"]) {
        return None;
    }
    let w = World::new();
    w.write_rc(kind, "", "");
    Some(w)
}

/// Paste `text` as a bracketed paste (`tmux paste-buffer -p`), then press Enter.
fn paste_and_run(w: &World, pane: &str, text: &str) {
    let file = w.path("paste");
    std::fs::write(&file, text).unwrap();
    w.tmux_ok(&["load-buffer", &file.display().to_string()]);
    w.tmux_ok(&["paste-buffer", "-p", "-t", pane]);
    w.tmux_ok(&["send-keys", "-t", pane, "Enter"]);
}

/// The only shell's id, once the store has it.
fn shell_id(w: &World) -> String {
    wait_for("a recorded shell", SOON, || {
        let s = w.shells().into_iter().next()?;
        s["id"].as_str().map(String::from)
    })
}

/// The shell's entry in `snap sessions --json`.
fn shell(w: &World, id: &str) -> Value {
    w.shells()
        .into_iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("shell {id} not in snap sessions"))
}

/// An end-of-shell record forged in a comment.
const FORGED_EXIT: &str = "echo hello # \u{1e}X\t1000000000\texit";

/// Environment records forged in a harmless multi-line string, in every shell's form.
fn forged_env() -> String {
    concat!(
        "echo 'harmless\n",
        "\u{1e}V\t1764000000\tbash+\n",
        "declare -x PATH=\"/tmp/evil:/usr/bin:/bin\"\n",
        "declare -x GIT_SSH_COMMAND=\"ssh -o ProxyCommand=evil\"\n",
        "\u{1e}V\t1764000000\tzsh+\n",
        "export PATH=\"/tmp/evil:/usr/bin:/bin\"\n",
        "export GIT_SSH_COMMAND=\"ssh -o ProxyCommand=evil\"\n",
        "\u{1e}V\t1764000000\tfish\n",
        "PATH\t/tmp/evil:/usr/bin:/bin\n",
        "GIT_SSH_COMMAND\tssh -o ProxyCommand=evil\n",
        "'",
    )
    .to_string()
}

/// A pasted text as the shell's command line holds it: fish drops control characters
/// from a paste (RS and TAB included), bash and zsh keep every byte.
fn as_typed(kind: Kind, pasted: &str) -> String {
    match kind {
        Kind::Fish => pasted.replace(['\u{1e}', '\t'], ""),
        _ => pasted.to_string(),
    }
}

fn pasted_forgeries_stay_the_text_of_their_command(kind: Kind) {
    let Some(w) = world("pasted_forgeries_stay_the_text_of_their_command", kind) else {
        return;
    };
    let p = w.start_session("t", kind);
    let id = shell_id(&w);
    paste_and_run(&w, &p.id, FORGED_EXIT);
    w.wait_finished(1);
    paste_and_run(&w, &p.id, &forged_env());
    p.wait_text("ProxyCommand=evil\n");
    w.wait_finished(2);
    p.run("echo after");
    let h = w.wait_finished(3);

    let s = shell(&w, &id);
    assert_eq!(s["alive"], true, "{s}");
    assert!(s["ended"].is_null(), "{s}");
    let env = s["env"].to_string();
    assert!(
        !env.contains("/tmp/evil"),
        "forged PATH in the environment: {env}"
    );
    assert!(!env.contains("GIT_SSH_COMMAND"), "forged variable: {env}");

    let commands: Vec<&str> = h.iter().filter_map(|r| r["command"].as_str()).collect();
    assert_eq!(
        commands,
        [
            as_typed(kind, FORGED_EXIT),
            as_typed(kind, &forged_env()),
            "echo after".into()
        ],
        "the pasted commands are recorded as typed"
    );

    let save = w.snap(&["save"]);
    assert!(
        save.status.success(),
        "{}",
        String::from_utf8_lossy(&save.stderr)
    );
    assert!(w
        .snap_home
        .join("shells")
        .join(&id)
        .join("journal")
        .is_file());
    assert_eq!(w.history().len(), 3, "the history is whole after a save");
    let s = shell(&w, &id);
    assert_eq!(s["alive"], true);
    assert!(!s["env"].to_string().contains("/tmp/evil"));
}

/// The shell's journal token, from its meta.
fn token(w: &World, id: &str) -> String {
    let meta: Value = serde_json::from_slice(
        &std::fs::read(w.snap_home.join("shells").join(id).join("meta")).unwrap(),
    )
    .unwrap();
    meta["token"]
        .as_str()
        .expect("a token in the meta")
        .to_string()
}

fn the_token_is_not_in_the_environment(kind: Kind) {
    let Some(w) = world("the_token_is_not_in_the_environment", kind) else {
        return;
    };
    let p = w.start_session("t", kind);
    let id = shell_id(&w);
    let token = token(&w, &id);
    assert_eq!(token.len(), 32);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    let out = w.path("env.txt");
    p.run(&format!("env > '{}'; printf 'do%sne\\n' -", out.display()));
    p.wait_text("do-ne");
    w.wait_finished(1);
    let env = std::fs::read_to_string(&out).unwrap();
    assert!(env.contains("SNAP_SHELL_ID="), "the hook is loaded: {env}");
    assert!(
        !env.contains(&token),
        "the token is in a child's environment"
    );
    let environ = std::fs::read(format!("/proc/{}/environ", p.pid())).unwrap();
    assert!(!String::from_utf8_lossy(&environ).contains(&token));
    // Nor does it leave the store in what snap prints or saves.
    let sessions = w.snap(&["sessions", "--json"]);
    assert!(!String::from_utf8_lossy(&sessions.stdout).contains(&token));
    assert!(w.snap(&["save"]).status.success());
    for entry in std::fs::read_dir(w.snap_home.join("snapshots")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        assert!(!text.contains(&token), "the token is in a snapshot");
    }
}

macro_rules! per_shell {
    ($kind:expr, $module:ident) => {
        mod $module {
            use super::Kind;

            #[test]
            fn pasted_forgeries_stay_the_text_of_their_command() {
                super::pasted_forgeries_stay_the_text_of_their_command($kind);
            }

            #[test]
            fn the_token_is_not_in_the_environment() {
                super::the_token_is_not_in_the_environment($kind);
            }
        }
    };
}

per_shell!(Kind::Bash, bash);
per_shell!(Kind::Zsh, zsh);
per_shell!(Kind::Fish, fish);
