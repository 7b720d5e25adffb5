//! The policy judged on whole lines, with a fixed set of executables.

use super::*;

/// The executables these tests pretend are on PATH.
const ON_PATH: &[&str] = &[
    "rm",
    "ls",
    "sleep",
    "find",
    "git",
    "env",
    "bash",
    "sh",
    "zsh",
    "fish",
    "entr",
    "watchexec",
    "nodemon",
    "cargo",
    "npm",
    "python3",
    "make",
    "tail",
    "echo",
    "cat",
    "xargs",
    "timeout",
    "nice",
    "stdbuf",
    "nohup",
    "setsid",
    "flock",
    "busybox",
    "proxychains",
    "sudo",
    "doas",
    "watch",
    "chronic",
    "kubectl",
    "docker",
    "dd",
    "vim",
    "grep",
    "claude",
    "codex",
    "aider",
    "node",
    "flask",
    "uvicorn",
    "npx",
    "bundle",
    "jest",
    "mkdir",
    "true",
    "touch",
];

fn exe(name: &str) -> bool {
    ON_PATH.contains(&name)
        || ["./srv.sh", "web/./run.sh", "/opt/app/./go.sh"].contains(&name)
        || name.starts_with("/usr/bin/")
}

fn v(line: &str) -> Verdict {
    Rules::new(&Config::default()).judge(line, ShellKind::Bash, &exe)
}

fn j(line: &str) -> Policy {
    v(line).policy
}

#[test]
fn the_bypass_lines_of_issue_11_are_never() {
    for line in [
        "sleep 300; $'rm' -rf D",
        "sleep 300; env -S 'rm -rf D'",
        "sleep 300; bash <<< 'rm -rf D'",
        "sleep 300; R=rm; $R -rf D",
        "sleep 1 && find D -delete",
        "sleep 300; git -C D push --force",
        "sleep 300; echo $'\\'' ; rm -rf D #'",
        "sleep 300; del D",
        "ls | entr rm -rf D",
        "watchexec -- rm -rf D",
        "nodemon --exec 'rm -rf D'",
        "cargo watch -s 'git push'",
    ] {
        assert_eq!(j(line), Policy::Never, "{line}");
    }
}

#[test]
fn the_bypass_lines_name_the_part_that_decided() {
    for (line, reason) in [
        ("sleep 300; env -S 'rm -rf D'", "never: rm (inside env -S)"),
        (
            "bash <<< 'rm -rf D'",
            "never: rm (inside bash reading its input)",
        ),
        ("git -C D push --force", "never: git push"),
        ("echo $'\\'' ; rm -rf D #'", "never: rm"),
        ("ls | entr rm -rf D", "never: rm (inside entr)"),
        ("watchexec -- rm -rf D", "never: rm (inside watchexec)"),
        (
            "nodemon --exec 'rm -rf D'",
            "never: rm (inside nodemon --exec)",
        ),
        (
            "cargo watch -s 'git push'",
            "never: git push (inside cargo watch -s)",
        ),
        ("find . -exec rm {} \\;", "never: rm (inside find -exec)"),
        (
            "echo 'rm -rf D' | bash",
            "opaque: bash reads commands from a pipe",
        ),
        (
            "python3 -c 'x'",
            "opaque: python3 -c: code for another interpreter is not judged",
        ),
    ] {
        assert_eq!(v(line).reason.as_deref(), Some(reason), "{line}");
    }
}

#[test]
fn quoting_is_judged_by_its_value() {
    for line in [
        "'rm' -rf D",
        "\"rm\" -rf D",
        "\\rm -rf D",
        "$'rm' -rf D",
        "$'\\x72m' D",
    ] {
        assert_eq!(v(line).reason.as_deref(), Some("never: rm"), "{line}");
    }
}

#[test]
fn every_place_a_command_can_hide_is_judged() {
    for line in [
        "(cd x; rm -rf D)",
        "{ make; rm -rf D; }",
        "if true; then rm -rf D; fi",
        "while true; do git push; done",
        "for f in a; do rm $f; done",
        "case x in x) rm -rf D;; esac",
        "echo $(rm -rf D)",
        "echo `rm -rf D`",
        "echo \"$(git push)\"",
        "cat <(rm -rf D)",
        "X=$(rm -rf D) make",
        "a=(x $(rm -rf D)); make",
        "declare -a a=(x $(rm -rf D))",
        "make > $(rm -rf D)",
        "echo ${x:-$(rm -rf D)}",
        "bash -c 'cd x && rm -f y'",
        "sh -ec 'rm -rf D'",
        "zsh -c 'rm x'",
        "fish -c 'rm x'",
        "eval 'rm -rf x'",
        "eval git push",
        "source /dev/stdin <<< 'rm -rf D'",
        "bash <<'EOF'\nrm -rf D\nEOF",
        "echo 'rm -rf D' | bash",
        "env -i PATH=/bin rm -rf D",
        "env -u X FOO=1 rm -rf D",
        "env --split-string='rm -rf D'",
        "stdbuf -oL rm -rf D",
        "nice -n 5 rm -rf D",
        "nohup rm -rf D &",
        "timeout -s KILL 10 rm -rf D",
        "setsid -f rm -rf D",
        "flock /tmp/l rm -rf D",
        "flock -c 'rm -rf D' /tmp/l",
        "busybox rm -rf D",
        "command rm -rf D",
        "builtin eval 'rm x'",
        "exec rm -rf D",
        "time rm -rf D",
        "cat list | xargs rm",
        "xargs -n1 -I{} rm {}",
        "find . -exec rm {} \\;",
        "find . -execdir rm {} +",
        "proxychains -q rm -rf D",
        "sudo -E npm run dev",
        "doas make",
        "watch 'rm -rf D'",
        "chronic rm -rf D",
        "trap 'rm -rf D' EXIT",
        "cargo watch -x 'install foo'",
        "kubectl --context x delete pod p",
        "docker -H tcp://h rm c",
        "cargo +nightly install x",
        "npm --prefix web install",
        "git -c k=v push",
        "python3 -c 'import shutil'",
        "f() { rm -rf D; }",
        "time dd if=/dev/zero of=x",
        "make && sudo make install",
        "npm run dev; git push origin main",
        "ssh host 'tail -f /var/log/syslog'",
        "apt-get install -y jq",
        "strace -f -o log rm -rf D",
        "script -qc 'rm -rf D' /dev/null",
        "parallel rm ::: D",
        "tmux new -d 'rm -rf D'",
        "cat <<EOF\n$(rm -rf D)\nEOF",
        "[[ -n $(git push) ]]",
        "echo $(( $(rm -rf D) + 1 ))",
        "zsh <<< 'git push'",
        "cat =(rm -rf D)",
        "ls *(e:'rm -rf D':)",
        "echo ${(e)x}",
        "hash -p /bin/rm ls; ls -rf D",
        "cd web && ./srv.sh",
        "cd $D && ./srv.sh",
        "PATH=/tmp/evil:$PATH ls",
        "PATH=/tmp/evil; ls",
        "export PATH=/tmp/evil; ls",
        "env PATH=/tmp/evil ls",
        "BASH_ENV=./x.sh bash -c true",
        "bind -x '\"\\C-m\": rm -rf D'",
        "LD_PRELOAD=/tmp/x.so make",
    ] {
        assert_eq!(j(line), Policy::Never, "{line}");
    }
}

#[test]
fn opaque_command_words_are_never() {
    for line in [
        "$R -rf D",
        "${x} D",
        "$(echo rm) D",
        "r* D",
        "del D",
        "~/bin/x",
        "if [[ x",
    ] {
        assert_eq!(j(line), Policy::Never, "{line}");
    }
    assert_eq!(
        v("R=rm; $R -rf D").reason.as_deref(),
        Some("opaque command word $R")
    );
    assert_eq!(
        v("del D").reason.as_deref(),
        Some("opaque command word del: neither a builtin nor an executable on PATH")
    );
    assert_eq!(
        v("bash -c 'rm -rf D'").reason.as_deref(),
        Some("never: rm (inside bash -c)")
    );
    assert_eq!(
        v("env -S 'bash -c \"git push\"'").reason.as_deref(),
        Some("never: git push (inside env -S, inside bash -c)")
    );
    assert_eq!(
        v("sleep 1 && find D -delete").reason.as_deref(),
        Some("never: find -delete")
    );
    assert_eq!(
        v("for x in a; do").reason.as_deref(),
        Some("opaque: the line does not parse as bash")
    );
}

#[test]
fn servers_watchers_and_agents_are_auto() {
    for line in [
        "npm run dev",
        "cd web && npm run dev",
        "PORT=3001 npm run dev &",
        "cargo watch -x test",
        "cargo watch -x 'test --lib' -s 'make'",
        "python3 -m http.server 8000",
        "/usr/bin/python3 -m http.server",
        "npx vite --port 5173",
        "tail -n 50 -f log/dev.log",
        "jest --watchAll",
        "FLASK_APP=x flask run --reload",
        "(cd api; uvicorn main:app --reload)",
        "env -u X NODE_ENV=dev nohup npm run dev > out.log 2>&1 &",
        "ls | entr make",
        "watchexec -r -e rs -- cargo test",
        "nodemon --exec 'python3 app.py'",
        "claude",
        // A coding-agent CLI with its conversation, its own flags kept.
        "claude --allowedTools Bash --resume c16555af-1",
        "codex --model m resume 019a0000-aaaa",
        "timeout --foreground 1h npm start",
    ] {
        assert_eq!(
            v(line),
            Verdict {
                policy: Policy::Auto,
                reason: None
            },
            "{line}"
        );
    }
}

#[test]
fn other_safe_lines_are_held_with_a_reason() {
    for line in [
        "make",
        "make test",
        "cargo test",
        "make | grep x && vim y",
        "vim src/main.rs",
        "echo 'sudo rm -rf /'",
        "grep -r 'npm run dev' .",
        "cd web",
        "./srv.sh --port 1",
        "cd web && ./run.sh",
        "cd /opt && cd app && ./go.sh",
        "bash ./srv.sh",
        "command -v rm",
        "a=(1 2 3); make",
        "export FOO=1 BAR=2; hash -r; make",
        "declare -a a=(1 2)",
        "cat <<'EOF'\n$(rm -rf D)\nEOF",
        "echo '$(rm -rf D)' \"\\$(rm)\"",
        "",
    ] {
        let got = v(line);
        assert_eq!(got.policy, Policy::Hold, "{line}");
        assert!(got.reason.is_some(), "{line}");
    }
    assert_eq!(
        v("make").reason.as_deref(),
        Some("hold: make is not a known server, watcher or coding agent")
    );
    assert_eq!(j("tail -f log"), Policy::Auto);
}

#[test]
fn fish_lines_are_judged_conservatively() {
    let rules = Rules::new(&Config::default());
    let f = |line: &str| rules.judge(line, ShellKind::Fish, &exe).policy;
    assert_eq!(f("make; and npm run dev"), Policy::Auto);
    assert_eq!(f("set -x PORT 1; env FOO=1 npm run dev &"), Policy::Auto);
    assert_eq!(f("bash -c 'rm -rf D'"), Policy::Never);
    assert_eq!(f("make; or rm -rf D"), Policy::Never);
    assert_eq!(f("begin; sleep 1; end; rm x"), Policy::Never);
    assert_eq!(f("echo (rm -rf D)"), Policy::Never);
    assert_eq!(f("not git push"), Policy::Never);
    assert_eq!(f("$cmd x"), Policy::Never);
    assert_eq!(f("set -x PATH /tmp/evil $PATH; ls"), Policy::Never);
    assert_eq!(f("make 2>err.log"), Policy::Hold);
    assert_eq!(f("echo 'open"), Policy::Never);
}

#[test]
fn agents_have_a_resume_line() {
    let rules = Rules::new(&Config::default());
    let r = |line: &str| rules.resume_line(line, ShellKind::Bash);
    assert_eq!(
        r("cd proj && claude 'fix the bug'").as_deref(),
        Some("claude --continue")
    );
    assert_eq!(r("codex").as_deref(), Some("codex resume --last"));
    assert_eq!(
        r("aider --model x").as_deref(),
        Some("aider --restore-chat-history")
    );
    assert_eq!(r("npm run dev"), None);
    let argv: Vec<String> = [
        "node",
        "/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(
        rules.resume_argv(&argv).as_deref(),
        Some("claude --continue")
    );
    assert_eq!(rules.judge_argv(&argv).policy, Policy::Auto);
}

#[test]
fn argv_is_judged_without_requoting() {
    let rules = Rules::new(&Config::default());
    let a = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(rules.judge_argv(&a(&["npm run dev"])).policy, Policy::Auto);
    assert_eq!(
        rules.judge_argv(&a(&["bash", "-c", "make && rm x"])).policy,
        Policy::Never
    );
    assert_eq!(
        rules.judge_argv(&a(&["sleep", "1000"])).policy,
        Policy::Hold
    );
    assert_eq!(rules.judge_argv(&a(&["dd", "if=x"])).policy, Policy::Never);
}

#[test]
fn config_lists_extend_and_override() {
    let cfg = Config::parse(
        "[relaunch]\nauto = [\"./srv.sh\"]\nhold = [\"npm start\"]\nnever = [\"make\"]\n\
         agents = { gemini = \"gemini --resume\" }\n",
        std::path::Path::new("c"),
    )
    .unwrap();
    let rules = Rules::new(&cfg);
    let exe = |n: &str| exe(n) || n == "gemini";
    let p = |line: &str| rules.judge(line, ShellKind::Bash, &exe).policy;
    assert_eq!(p("./srv.sh --port 1"), Policy::Auto);
    assert_eq!(p("npm start"), Policy::Hold);
    assert_eq!(p("npm run dev"), Policy::Auto);
    assert_eq!(p("make prod"), Policy::Never);
    assert_eq!(p("gemini"), Policy::Auto);
    assert_eq!(
        rules.resume_line("gemini", ShellKind::Bash).as_deref(),
        Some("gemini --resume")
    );
    let bare = Config::parse("[relaunch]\ndefaults = false\n", std::path::Path::new("c")).unwrap();
    assert_eq!(
        Rules::new(&bare)
            .judge("sudo rm -rf /", ShellKind::Bash, &exe)
            .policy,
        Policy::Hold
    );
}

#[test]
fn commands_of_gives_the_real_commands() {
    assert_eq!(
        commands_of("PORT=1 nohup npm run dev &"),
        vec![
            vec!["nohup", "npm", "run", "dev"],
            vec!["npm", "run", "dev"]
        ]
    );
}

#[test]
fn a_lines_own_assignments_are_named_not_those_of_its_scripts_or_arguments() {
    let names = |line: &str, shell| assigned_names(line, shell);
    let b = ShellKind::Bash;
    assert_eq!(
        names("PORT2=5000 python3 -m http.server 5000 &", b),
        ["PORT2"]
    );
    assert_eq!(
        names("A=1 x | B=$(y) z && env C=3 D=4 w", b),
        ["A", "B", "C", "D"]
    );
    assert!(names("echo X=1; bash -c 'Y=1 cmd'; export Z=1", b).is_empty());
    assert_eq!(
        names("PORT2=1 python3 -m http.server", ShellKind::Fish),
        ["PORT2"]
    );
    assert_eq!(names("env E=1 cmd", ShellKind::Fish), ["E"]);
}

proptest::proptest! {
    #[test]
    fn judging_never_panics(s in "\\PC{0,200}") {
        let rules = Rules::new(&Config::default());
        let _ = rules.judge(&s, ShellKind::Bash, &exe);
        let _ = rules.judge(&s, ShellKind::Fish, &exe);
    }

    #[test]
    fn judging_shell_like_text_never_panics(s in "[a-z $'\"`\\\\(){};|&<>#=*\\n-]{0,80}") {
        let rules = Rules::new(&Config::default());
        let _ = rules.judge(&s, ShellKind::Bash, &exe);
        let _ = rules.judge(&s, ShellKind::Fish, &exe);
    }
}

#[test]
fn deeply_nested_brackets_are_opaque_without_parsing() {
    for unit in ["(", "((", "( ", "$((", "@(", "${a:-", "{ "] {
        let got = v(&unit.repeat(40));
        assert_eq!(got.policy, Policy::Never, "{unit}");
        assert_eq!(
            got.reason.as_deref(),
            Some("opaque: brackets nested too deep to judge"),
            "{unit}"
        );
    }
    assert_eq!(j("(((((cd x && make)))))"), Policy::Hold);
}
