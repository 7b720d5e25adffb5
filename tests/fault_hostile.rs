//! Hostile input (issue 7, item 6) and secrets (item 8): session names that try to
//! escape `$SNAP_HOME`, snapshot files that are not the user's own, a `$SNAP_HOME`
//! reached through someone else's directory, a snapshot edited to run what must never
//! run twice, and token bytes that must never reach `snapshots/`.

mod common;
mod fault_util;

use common::{require, wait_for, Kind, World, SOON};
use fault_util::{bash_from_file, figure, files_under, stderr};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Is this process root (able to chown to `nobody`)?
fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

const NOBODY: u32 = 65534;

fn chown(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).unwrap();
}

/// Every path under the world's temporary directory, except the store itself.
fn outside_store(w: &World) -> BTreeSet<PathBuf> {
    files_under(w.tmp.path())
        .into_iter()
        .filter(|p| !p.starts_with(&w.snap_home))
        .collect()
}

// ---- Session names --------------------------------------------------------------------

#[test]
fn hostile_session_names_never_make_snap_write_outside_snap_home() {
    if !require("hostile_session_names", &["tmux", "bash"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let names = [
        "../../escape",
        "a/b/../../c",
        "..",
        "/",
        "/etc/passwd",
        "line\nbreak",
        "ünï©ødé 🚀",
        "$(touch pwned)",
        ".hidden",
        "-rf",
        "tab\tname",
        "x:y.z",
        "",
    ];
    // Scripts the shells read; written before the listing, as is the hooks' history.
    let scripts: Vec<PathBuf> = (0..names.len())
        .map(|i| {
            let p = w.path(&format!("lines-{i}"));
            std::fs::write(&p, format!("echo hostile-{i}\nexit\n")).unwrap();
            p
        })
        .collect();
    std::fs::write(w.home.join(".bash_history"), "").unwrap();
    let before = outside_store(&w);

    for (name, script) in names.iter().zip(&scripts) {
        let mut sh = bash_from_file(&w, script, &[("SNAP_SESSION", name)]);
        assert!(sh.wait().unwrap().success());
    }
    // tmux session names too (tmux itself turns `.` and `:` into `_`).
    for (i, name) in ["a/b", "../up", "ünï 🚀", "-x"].iter().enumerate() {
        let p = w.start_session(name, Kind::Bash);
        p.run(&format!("echo tmux-{i}"));
        p.wait_prompt();
    }
    let sessions = w.snap_json(&["sessions", "--json"]);
    let recorded: Vec<String> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    for n in &recorded {
        assert!(
            !n.is_empty()
                && n != ".."
                && !n.contains('/')
                && !n.starts_with('.')
                && !n.chars().any(char::is_control),
            "session name {n:?} is not a plain name"
        );
    }
    assert!(recorded.iter().any(|n| n == "ünï©ødé 🚀"), "{recorded:?}");
    w.snap_json(&["save", "--json"]);

    // Every command that takes a session name, with the raw names and the recorded ones.
    let mut refused = 0;
    let mut accepted = 0;
    for name in names
        .iter()
        .copied()
        .chain(recorded.iter().map(String::as_str))
    {
        for args in [
            vec!["save", "--session", name, "--json"],
            vec!["history", "--session", name, "--json"],
            vec!["restore", name, "--dry-run", "--json"],
            vec!["brief", name, "--json"],
            vec!["forget", name],
        ] {
            let out = w.snap(&args);
            if out.status.success() {
                accepted += 1;
            } else {
                refused += 1;
                assert!(
                    !stderr(&out).contains("panicked"),
                    "{args:?}: {}",
                    stderr(&out)
                );
            }
        }
    }
    // `snap start` makes a tmux session (and restore scripts) for a hostile name.
    for name in ["../../started", "st/art", "ünï-start"] {
        let out = w.snap(&["start", name, "--no-attach"]);
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }

    let after = outside_store(&w);
    let new: Vec<&PathBuf> = after
        .difference(&before)
        .filter(|p| !p.starts_with(&w.tmux_tmpdir))
        .collect();
    assert!(new.is_empty(), "written outside $SNAP_HOME: {new:#?}");
    assert!(!w.home.join("pwned").exists() && !w.tmp.path().join("pwned").exists());
    for f in files_under(&w.snap_home) {
        let rel = f.strip_prefix(&w.snap_home).unwrap();
        assert!(
            rel.components()
                .all(|c| matches!(c, std::path::Component::Normal(_))),
            "{rel:?}"
        );
    }
    figure(
        "hostile_session_names",
        format!(
            "{} names via SNAP_SESSION, 4 via tmux, 5 commands each: {accepted} accepted, {refused} refused, nothing written outside $SNAP_HOME",
            names.len()
        ),
    );
}

// ---- Snapshot files that are not the user's own ---------------------------------------

#[test]
fn snapshots_owned_by_another_user_or_writable_by_group_or_others_are_refused() {
    let w = World::new();
    let good = w.snap_json(&["save", "--json"]);
    let good_id = good["id"].as_str().unwrap().to_string();
    let dir = w.snap_home.join("snapshots");
    let bytes = std::fs::read(dir.join(format!("{good_id}.json"))).unwrap();
    let elsewhere = w.path("elsewhere.json");
    std::fs::write(&elsewhere, &bytes).unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o600)).unwrap();
    // (id, mode, owner, why)
    let mut cases: Vec<(&str, u32, Option<u32>, &str)> = vec![
        ("29990101T000000-000001-1", 0o620, None, "writable by group"),
        (
            "29990101T000000-000002-1",
            0o602,
            None,
            "writable by group or others",
        ),
        (
            "29990101T000000-000003-1",
            0o666,
            None,
            "writable by group or others",
        ),
    ];
    if root() {
        cases.push((
            "29990101T000000-000004-1",
            0o600,
            Some(NOBODY),
            "owned by uid 65534",
        ));
    } else {
        println!("SKIPPED: foreign_owner: chown needs root");
    }
    for (id, mode, owner, _) in &cases {
        let mut v: Value = serde_json::from_slice(&bytes).unwrap();
        v["id"] = (*id).into();
        let p = dir.join(format!("{id}.json"));
        std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(*mode)).unwrap();
        if let Some(uid) = owner {
            chown(&p, *uid);
        }
    }
    let link_id = "29990101T000000-000005-1";
    std::os::unix::fs::symlink(&elsewhere, dir.join(format!("{link_id}.json"))).unwrap();

    let out = w.snap(&["list", "--json"]);
    assert!(out.status.success());
    let err = stderr(&out);
    for (id, _, _, why) in &cases {
        let line = err
            .lines()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("{id}: {err}"));
        assert!(line.contains(why), "{line}");
    }
    assert!(
        err.contains(link_id) && err.contains("not a regular file"),
        "{err}"
    );
    assert_eq!(
        w.snap_json(&["show", "latest", "--json"])["id"],
        good_id.as_str()
    );
    for id in cases.iter().map(|c| c.0).chain([link_id]) {
        let shown = w.snap(&["show", id]);
        assert!(!shown.status.success(), "show {id} accepted");
        let restored = w.snap(&["restore", "--from", id, "--dry-run", "--json"]);
        assert!(!restored.status.success(), "restore --from {id} accepted");
        let e = stderr(&restored);
        assert!(
            e.contains("refused") || e.contains("not a regular file"),
            "{e}"
        );
    }
}

// ---- $SNAP_HOME through someone else's directory --------------------------------------

#[test]
fn a_snap_home_through_a_symlink_to_someone_elses_directory_is_refused() {
    if !root() {
        println!("SKIPPED: snap_home_symlink: chown needs root");
        return;
    }
    if !require("snap_home_symlink", &["bash"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let theirs = w.path("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o777)).unwrap();
    chown(&theirs, NOBODY);
    let link = w.path("link");
    std::os::unix::fs::symlink(&theirs, &link).unwrap();
    let script = w.path("lines");
    std::fs::write(&script, "echo through-the-link\nexit\n").unwrap();
    for home in [link.clone(), link.join("snap")] {
        let home_s = home.display().to_string();
        for args in [&["save"][..], &["history", "--all"], &["list"]] {
            let out = w
                .command(&w.bin)
                .args(args)
                .env("SNAP_HOME", &home_s)
                .output()
                .unwrap();
            assert!(
                !out.status.success(),
                "{args:?} accepted SNAP_HOME={home_s}"
            );
            let e = stderr(&out);
            assert!(
                e.contains("is a symlink to")
                    && e.contains("owned by uid 65534")
                    && e.contains("refused"),
                "{e}"
            );
        }
        // The hook: the shell works, silently, and records nothing there.
        let mut sh = bash_from_file(&w, &script, &[("SNAP_HOME", &home_s)]);
        let status = sh.wait().unwrap();
        assert!(status.success());
        let mut e = String::new();
        std::io::Read::read_to_string(sh.stderr.as_mut().unwrap(), &mut e).unwrap();
        assert!(!e.contains("snap"), "{e}");
    }
    assert_eq!(files_under(&theirs), Vec::<PathBuf>::new());
    // A symlink to a directory of one's own is fine.
    let mine = w.path("mine");
    std::fs::create_dir(&mine).unwrap();
    std::os::unix::fs::symlink(&mine, w.path("mylink")).unwrap();
    let out = w
        .command(&w.bin)
        .arg("save")
        .env("SNAP_HOME", w.path("mylink/snap"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

// ---- An edited snapshot ---------------------------------------------------------------

/// Lines that must never run again, each aimed at its own victim directory.
const NEVER: &[&str] = &[
    "rm -rf victim0",
    "true && rm -rf victim1",
    "env X=1 rm -rf victim2",
    "/bin/rm -rf victim3",
    "sh -c 'rm -rf victim4'",
    "bash -c \"cd . && rm -rf victim5\"",
    "nohup rm -rf victim6",
    "(rm -rf victim7)",
    "echo $(rm -rf victim8)",
    "command rm -rf victim9",
    "time rm -rf victim10",
    "X=1; rm -rf victim11",
    "mv victim12 moved12",
    "sudo rm -rf victim13",
    "eval 'rm -rf victim14'",
    "exec rm -rf victim15",
    "nice -n 5 rm -rf victim16",
];

#[test]
fn a_snapshot_edited_to_hold_never_commands_runs_none_of_them() {
    if !require("edited_snapshot", &["tmux", "bash"]) {
        return;
    }
    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let pane = w.start_session("edit", Kind::Bash);
    pane.run("sleep 1000");
    wait_for("sleep to run", SOON, || {
        w.shells()
            .iter()
            .any(|s| s["running"] == "sleep 1000")
            .then_some(())
    });
    let saved = w.snap_json(&["save", "--json"]);
    let shell_pid = pane.pid();
    w.tmux_ok(&["kill-server"]);
    wait_for("the shell to end", SOON, || {
        (!common::pid_alive(shell_pid)).then_some(())
    });
    // Only the snapshot speaks now (retention removes journals the same way).
    std::fs::remove_dir_all(w.snap_home.join("shells")).unwrap();
    for i in 0..NEVER.len() {
        std::fs::create_dir_all(w.home.join(format!("victim{i}"))).unwrap();
    }
    let home = w.home.display().to_string();
    let id = saved["id"].as_str().unwrap();
    let path = w.snap_home.join(format!("snapshots/{id}.json"));
    let mut snap: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let shell = &mut snap["sessions"][0]["shells"][0];
    shell["cwd"] = home.clone().into();
    shell["running"] = NEVER[0].into();
    shell["running_policy"] = "auto".into();
    // Variables the shell itself runs as code.
    shell["env"]["PROMPT_COMMAND"] = "rm -rf victimenv0".into();
    shell["env"]["PS1"] = "$(rm -rf victimenv1)> ".into();
    shell["env"]["BASH_ENV"] = w.home.join("evil.sh").display().to_string().into();
    std::fs::write(w.home.join("evil.sh"), "rm -rf victimenv2\n").unwrap();
    for i in 0..3 {
        std::fs::create_dir_all(w.home.join(format!("victimenv{i}"))).unwrap();
    }
    let pid = shell["pid"].as_u64().unwrap();
    let mut procs: Vec<Value> = NEVER
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, line)| {
            json!({
                "pid": 900_000 + i, "ppid": pid, "cmd": ["sh", "-c", line], "cwd": home,
                "env": {}, "started_at": "2026-01-01T00:00:00Z", "job_leader": true,
                "foreground": false, "typed": line, "policy": "auto",
                "resume": format!("rm -rf victim{i}"),
            })
        })
        .collect();
    // Argv only (no typed line), and the control: a held command that --yes runs.
    procs.push(json!({
        "pid": 899_999, "ppid": pid, "cmd": ["rm", "-rf", "victim0"], "cwd": home, "env": {},
        "started_at": "2026-01-01T00:00:00Z", "job_leader": true, "foreground": false,
        "typed": null, "policy": "auto", "resume": null,
    }));
    procs.push(json!({
        "pid": 899_998, "ppid": pid, "cmd": ["touch", "control-ran"], "cwd": home, "env": {},
        "started_at": "2026-01-01T00:00:00Z", "job_leader": true, "foreground": false,
        "typed": "touch control-ran", "policy": "hold", "resume": null,
    }));
    // An agent CLI whose recorded conversation id was edited into a command.
    procs.push(json!({
        "pid": 899_997, "ppid": pid, "cmd": ["claude"], "cwd": home, "env": {},
        "started_at": "2026-01-01T00:00:00Z", "job_leader": true, "foreground": false,
        "typed": "claude", "policy": "auto", "resume": "rm -rf victim0",
    }));
    shell["processes"] = Value::Array(procs);
    std::fs::write(&path, serde_json::to_vec_pretty(&snap).unwrap()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let agents = w.snap_home.join("agents/edit");
    std::fs::create_dir_all(&agents).unwrap();
    std::fs::write(
        agents.join("ids.json"),
        br#"{"claude":"x; rm -rf victim0; touch pwned-agent"}"#,
    )
    .unwrap();

    // The plan: every never line left out, whatever the file said its policy was.
    let plan = w.snap_json(&["restore", "edit", "--dry-run", "--yes", "--json"]);
    let text = plan.to_string();
    let relaunches: Vec<&Value> = find_all(&plan, "relaunch");
    for line in NEVER {
        let r = relaunches
            .iter()
            .find(|r| r["original"] == *line)
            .unwrap_or_else(|| panic!("{line:?} not in the plan: {plan:#}"));
        assert_eq!(r["policy"], "never", "{line}: {r}");
        assert_eq!(r["action"], "skip", "{line}: {r}");
    }
    assert!(
        !text.contains("pwned-agent"),
        "the edited agent id reached the plan"
    );

    for no_tmux in [false, true] {
        let _ = std::fs::remove_file(w.home.join("control-ran"));
        // Forget the shells an earlier round restored: the snapshot alone speaks again.
        // The index (and the snapshots taken since, from which it would learn them
        // again) remember them as long as their journals would.
        let _ = std::fs::remove_dir_all(w.snap_home.join("shells"));
        for f in ["index.db", "index.db-wal", "index.db-shm"] {
            let _ = std::fs::remove_file(w.snap_home.join(f));
        }
        for f in fault_util::snapshot_files(&w.snap_home) {
            if !f.ends_with(format!("{id}.json")) {
                std::fs::remove_file(f).unwrap();
            }
        }
        let mut args = vec!["restore", "edit", "--from", id, "--yes", "--no-attach"];
        if no_tmux {
            args.push("--no-tmux");
        }
        let out = w.snap(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        let ran = w.home.join("control-ran");
        wait_for(
            &format!("the control command to run ({said})"),
            SOON,
            || ran.exists().then_some(()),
        );
        // Everything is relaunched at once: give stragglers a moment anyway.
        std::thread::sleep(Duration::from_secs(1));
        for (i, line) in NEVER.iter().enumerate() {
            assert!(
                w.home.join(format!("victim{i}")).is_dir(),
                "victim{i} removed ({line}): a never command ran"
            );
        }
        assert!(!w.home.join("pwned-agent").exists());
        // End the restored shells before the next round forgets them.
        let pids = w.tmux(&["list-panes", "-a", "-F", "#{pane_pid}"]).stdout;
        let _ = w.tmux(&["kill-server"]);
        for pid in String::from_utf8_lossy(&pids).split_whitespace() {
            let pid: u32 = pid.parse().unwrap();
            wait_for("a restored shell to end", SOON, || {
                (!common::pid_alive(pid)).then_some(())
            });
        }
        for i in 0..3 {
            assert!(
                w.home.join(format!("victimenv{i}")).is_dir(),
                "victimenv{i} removed: a variable from the snapshot ran as code"
            );
        }
    }
    figure(
        "edited_snapshot",
        format!(
            "{} never lines (plus argv-only, resume, agent-id and PROMPT_COMMAND/PS1/BASH_ENV edits) in an edited snapshot: none ran, with tmux and without",
            NEVER.len()
        ),
    );
}

/// Every value under `key`, anywhere in `v`.
fn find_all<'a>(v: &'a Value, key: &str) -> Vec<&'a Value> {
    let mut out = Vec::new();
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if k == key && !x.is_null() {
                    out.push(x);
                }
                out.extend(find_all(x, key));
            }
        }
        Value::Array(a) => a.iter().for_each(|x| out.extend(find_all(x, key))),
        _ => {}
    }
    out
}

// ---- Secrets ----------------------------------------------------------------------------

/// `len` letters and digits, different for each `seed`.
fn alnum(seed: u64, len: usize) -> String {
    const A: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            A[(x % A.len() as u64) as usize] as char
        })
        .collect()
}

#[test]
fn no_token_byte_of_any_secret_pattern_reaches_snapshots_from_env_argv_or_command_text() {
    if !require("secrets", &["tmux", "bash"]) {
        return;
    }
    let upper = |s: u64, n: usize| alnum(s, n).to_uppercase().replace(['I', 'O'], "7");
    // Values that look like tokens, whatever variable or argument holds them.
    let tokens: Vec<(&str, String)> = vec![
        ("ghp", format!("ghp_{}", alnum(1, 36))),
        ("gho", format!("gho_{}", alnum(2, 36))),
        ("ghs", format!("ghs_{}", alnum(3, 36))),
        (
            "github_pat",
            format!("github_pat_{}_{}", alnum(4, 22), alnum(5, 59)),
        ),
        ("glpat", format!("glpat-{}", alnum(6, 20))),
        ("xoxb", format!("xoxb-{}-{}", alnum(7, 12), alnum(8, 24))),
        ("xoxp", format!("xoxp-{}-{}", alnum(9, 12), alnum(10, 24))),
        ("akia", format!("AKIA{}", upper(11, 16))),
        ("sk_live", format!("sk_live_{}", alnum(12, 24))),
        ("sk_test", format!("sk_test_{}", alnum(13, 24))),
        ("npm", format!("npm_{}", alnum(14, 36))),
    ];
    let pem_body = alnum(15, 64);
    let pem = format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{pem_body}\n{}\n-----END RSA PRIVATE KEY-----",
        alnum(16, 64)
    );
    // Plain values, secret only by the name of the variable holding them.
    let named: Vec<(&str, String)> = [
        "MY_API_TOKEN",
        "APP_SECRET",
        "DB_PASSWORD",
        "MYSQL_PASSWD",
        "STRIPE_KEY",
        "GPG_PRIVATE_KEY_DATA",
        "GCP_CREDENTIALS",
        "PG_CONNECTION_STRING",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ]
    .iter()
    .enumerate()
    .map(|(i, n)| (*n, format!("val{}", alnum(100 + i as u64, 20))))
    .collect();
    let password_arg = format!("pw{}", alnum(200, 18));

    let w = World::new();
    w.write_rc(Kind::Bash, "", "");
    let pane = w.start_session("sec", Kind::Bash);
    pane.run("clear");
    // env: each token in an innocent name, each named secret, the PEM block.
    for (i, (_, t)) in tokens.iter().enumerate() {
        pane.run(&format!("export PLAIN_{i}='{t}'"));
    }
    for (n, v) in &named {
        pane.run(&format!("export {n}='{v}'"));
    }
    std::fs::write(w.home.join("key.pem"), &pem).unwrap();
    pane.run("export CERT_PEM=\"$(cat key.pem)\"");
    // command text (and the screen): tokens typed and printed.
    let all_tokens: Vec<&str> = tokens.iter().map(|(_, t)| t.as_str()).collect();
    pane.run(&format!("echo {}", all_tokens.join(" ")));
    pane.run("cat key.pem");
    pane.run("echo $DB_PASSWORD $AWS_SESSION_TOKEN");
    pane.run(&format!(
        "DB_PASSWORD='{}' true --password={password_arg}",
        named[2].1
    ));
    // argv and a job's own environment: a background job holding them.
    pane.run(&format!(
        "MY_API_TOKEN='{}' sh -c 'sleep 1000; :' job {} --password={password_arg} --token {} &",
        named[0].1,
        all_tokens[..6].join(" "),
        all_tokens[6]
    ));
    pane.wait_prompt();
    // the foreground command, as typed.
    pane.run(&format!(
        "sh -c 'sleep 1000; :' fg {} --password {password_arg}",
        all_tokens[6..].join(" ")
    ));
    wait_for("the foreground job", SOON, || {
        w.shells()
            .iter()
            .any(|s| s["running"].as_str().is_some_and(|r| r.contains(" fg ")))
            .then_some(())
    });
    let saved = w.snap_json(&["save", "--json"]);
    let label = w.snap(&["save", "--label", &format!("deploy with {}", all_tokens[0])]);
    assert!(label.status.success(), "{}", stderr(&label));
    assert!(
        saved["redacted"].as_array().is_some_and(|r| !r.is_empty()),
        "nothing named as redacted"
    );
    // Sanity: the capture did see them (the journal keeps real values).
    let shell = &saved["sessions"][0]["shells"][0];
    assert!(shell["screen"].as_str().unwrap().contains("[redacted]"));
    assert!(
        shell["processes"].as_array().unwrap().len() >= 2,
        "{shell:#}"
    );

    let mut secrets: Vec<(String, String)> = tokens
        .iter()
        .map(|(n, t)| (n.to_string(), t.clone()))
        .chain(named.iter().map(|(n, v)| (n.to_string(), v.clone())))
        .collect();
    secrets.push(("pem".into(), pem_body.clone()));
    secrets.push(("--password".into(), password_arg.clone()));
    let files = files_under(&w.snap_home.join("snapshots"));
    assert!(files.len() >= 2);
    let mut checked = 0;
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for (what, value) in &secrets {
            // The whole value, and any 12 bytes of its random part.
            let body = &value[value.len().saturating_sub(value.len().min(20))..];
            for start in 0..=body.len().saturating_sub(12) {
                let piece = &body[start..start + 12.min(body.len())];
                if let Some(at) = text.find(piece) {
                    let around = &text[at.saturating_sub(80)..(at + 40).min(text.len())];
                    panic!(
                        "{what}: token bytes {piece:?} in {}: …{around}…",
                        f.display()
                    );
                }
                checked += 1;
            }
        }
    }
    pane.keys(&["C-c"]);
    figure(
        "secrets",
        format!(
            "{} token patterns, {} secret names, a PEM block and --password/--token arguments, in env, argv, job env, typed commands, history, screen and label: {checked} probes over {} snapshot files, no token bytes",
            tokens.len(),
            named.len(),
            files.len()
        ),
    );
}
