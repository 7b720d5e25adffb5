//! The line that resumes a pane's own agent conversation: the CLI's flags kept, only
//! the resume part replaced (`claude --allowedTools Bash` → `claude --allowedTools Bash
//! --resume <id>`; `codex --model m` → `codex --model m resume <id>`), and whether that
//! conversation can still be resumed (its transcript exists).

use super::journal::{self, Agent};
use crate::store::paths::Paths;
use crate::text::posix_word;
use std::path::{Path, PathBuf};

/// What restore can do for an agent pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// Run this line: it resumes the pane's conversation.
    Line(String),
    /// The conversation cannot be resumed, and why (the pane's relaunch is `skip`).
    Gone(String),
}

/// Where the pane ran: its shell's snap id and its tmux pane id, as recorded.
#[derive(Debug, Clone, Copy, Default)]
pub struct PaneRef<'a> {
    pub shell_id: Option<&'a str>,
    pub tmux_pane: Option<&'a str>,
}

/// The resume line for the agent CLI `typed_line` runs in this pane; None when the line
/// runs no agent CLI snap knows (claude, codex) or no id of this pane's is known (the
/// plan's own rule applies then). An id on the line itself (`--resume <id>`,
/// `resume <id>`) wins over a recorded one.
pub fn for_pane(paths: &Paths, session: &str, pane: PaneRef, typed_line: &str) -> Option<Resume> {
    let (agent, words) = agent_words(typed_line)?;
    let ids = journal::read_ids(paths, session);
    let id = id_on_line(agent, &words).or_else(|| ids.for_pane(agent, pane))?;
    if !journal::is_valid_id(&id) {
        return Some(Resume::Gone(format!(
            "its {} conversation id has unexpected characters",
            agent.as_str()
        )));
    }
    let transcript = ids.transcript(&id);
    if let Err(why) = transcript_exists(agent, &id, transcript.as_deref()) {
        return Some(Resume::Gone(why));
    }
    Some(Resume::Line(line(agent, &words, &id)))
}

/// The agent CLI a typed line runs, with its words (program as its file name).
fn agent_words(typed_line: &str) -> Option<(Agent, Vec<String>)> {
    crate::policy::commands_of(typed_line)
        .into_iter()
        .find_map(|w| Agent::from_program(&w[0]).map(|a| (a, w)))
}

/// Flags whose value is the next word (so that word is no prompt).
fn takes_value(agent: Agent, flag: &str) -> bool {
    let claude = [
        "--model",
        "--fallback-model",
        "--permission-mode",
        "--output-format",
        "--input-format",
        "--system-prompt",
        "--append-system-prompt",
        "--settings",
        "--setting-sources",
        "--session-id",
        "--agent",
        "--agents",
        "--max-turns",
        "--max-budget-usd",
        "--json-schema",
        "--debug-file",
        "--permission-prompt-tool",
    ];
    let codex = [
        "-m",
        "--model",
        "-c",
        "--config",
        "-p",
        "--profile",
        "-s",
        "--sandbox",
        "-a",
        "--ask-for-approval",
        "-C",
        "--cd",
        "-i",
        "--image",
        "--add-dir",
        "--enable",
        "--disable",
        "--local-provider",
        "--color",
        "-o",
        "--output-last-message",
        "--output-schema",
    ];
    match agent {
        Agent::Claude => claude.contains(&flag),
        Agent::Codex => codex.contains(&flag),
    }
}

/// Claude flags that take every following word up to the next flag.
fn variadic(agent: Agent, flag: &str) -> bool {
    agent == Agent::Claude
        && [
            "--allowedTools",
            "--allowed-tools",
            "--disallowedTools",
            "--disallowed-tools",
            "--tools",
            "--add-dir",
            "--mcp-config",
            "--betas",
            "--plugin-dir",
            "--file",
        ]
        .contains(&flag)
}

/// Codex flags of `codex exec` only (the interactive CLI refuses them).
fn exec_only(flag: &str) -> bool {
    [
        "--json",
        "--skip-git-repo-check",
        "--color",
        "-o",
        "--output-last-message",
        "--output-schema",
        "--ephemeral",
    ]
    .contains(&flag)
}

/// A conversation id the line itself names: `--resume <id>`/`-r <id>`/`--resume=<id>`
/// (Claude), `resume <id>` (Codex).
fn id_on_line(agent: Agent, words: &[String]) -> Option<String> {
    let mut it = words.iter().skip(1).peekable();
    while let Some(w) = it.next() {
        match agent {
            Agent::Claude => {
                if let Some(v) = w.strip_prefix("--resume=") {
                    return Some(v.to_string());
                }
                if w == "--resume" || w == "-r" {
                    return it
                        .peek()
                        .filter(|v| !v.starts_with('-'))
                        .map(|v| v.to_string());
                }
            }
            Agent::Codex => {
                if w == "resume" {
                    return it
                        .find(|v| !v.starts_with('-'))
                        .filter(|v| journal::is_valid_id(v))
                        .cloned();
                }
                if !w.starts_with('-') {
                    return None; // a prompt or another subcommand
                }
                if takes_value(agent, w) {
                    it.next();
                }
            }
        }
    }
    None
}

/// The CLI's own flags, without the prompt, `-p`/`--print`, `exec` and any resume part.
fn kept_flags(agent: Agent, words: &[String]) -> Vec<String> {
    let mut kept = Vec::new();
    let mut i = 1;
    let mut in_variadic = false;
    while i < words.len() {
        let w = &words[i];
        i += 1;
        if w == "--" {
            break; // what follows is the prompt
        }
        if !w.starts_with('-') {
            if in_variadic {
                kept.push(w.clone());
            }
            // Otherwise a prompt, `exec`, `resume`, or a resumed id: dropped.
            continue;
        }
        in_variadic = false;
        let name = w.split('=').next().unwrap_or(w);
        let dropped = match agent {
            Agent::Claude => matches!(
                name,
                "-p" | "--print" | "-c" | "--continue" | "-r" | "--resume"
            ),
            Agent::Codex => exec_only(name) || name == "--last",
        };
        let has_value = !w.contains('=') && takes_value(agent, name);
        if (name == "-r" || name == "--resume") && !w.contains('=') {
            // `--resume` takes an optional id.
            if words.get(i).is_some_and(|v| !v.starts_with('-')) {
                i += 1;
            }
            continue;
        }
        if dropped {
            if has_value {
                i += 1;
            }
            continue;
        }
        kept.push(w.clone());
        if has_value {
            if let Some(v) = words.get(i) {
                kept.push(v.clone());
                i += 1;
            }
        }
        in_variadic = !w.contains('=') && variadic(agent, name);
    }
    kept
}

/// `<cli> <its flags> --resume <id>` (Claude) or `<cli> <its flags> resume <id>` (Codex).
fn line(agent: Agent, words: &[String], id: &str) -> String {
    let mut out = vec![agent.as_str().to_string()];
    out.extend(kept_flags(agent, words).iter().map(|w| posix_word(w)));
    match agent {
        Agent::Claude => out.push("--resume".into()),
        Agent::Codex => out.push("resume".into()),
    }
    out.push(id.to_string());
    out.join(" ")
}

/// Does the conversation's transcript exist? Claude's `transcript_path` (as its hooks
/// reported it, else `~/.claude/projects/*/<id>.jsonl`); Codex's session file under
/// `~/.codex/sessions/` (its name ends in `<id>.jsonl`).
fn transcript_exists(agent: Agent, id: &str, recorded: Option<&Path>) -> Result<(), String> {
    if recorded.is_some_and(Path::is_file) {
        return Ok(());
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let found = match agent {
        Agent::Claude => {
            let base = std::env::var_os("CLAUDE_CONFIG_DIR")
                .map(PathBuf::from)
                .or_else(|| home.map(|h| h.join(".claude")));
            base.is_some_and(|b| find_file(&b.join("projects"), &format!("{id}.jsonl"), 1))
        }
        Agent::Codex => {
            let base = std::env::var_os("CODEX_HOME")
                .map(PathBuf::from)
                .or_else(|| home.map(|h| h.join(".codex")));
            base.is_some_and(|b| find_file(&b.join("sessions"), &format!("{id}.jsonl"), 4))
        }
    };
    if found {
        return Ok(());
    }
    let said = recorded.map_or(String::new(), |p| format!(" ({})", p.display()));
    Err(format!(
        "its {} conversation {id} has no transcript{said}: it cannot be resumed",
        agent.as_str()
    ))
}

/// Is there a file whose name ends in `suffix` under `dir`, at most `depth` levels down?
fn find_file(dir: &Path, suffix: &str, depth: usize) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let path = e.path();
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            depth > 0 && find_file(&path, suffix, depth - 1)
        } else {
            e.file_name().to_string_lossy().ends_with(suffix)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> (Agent, Vec<String>) {
        agent_words(line).unwrap()
    }

    #[test]
    fn resume_lines_keep_the_clis_own_flags() {
        let cases = [
            (
                "claude --allowedTools Bash",
                "claude --allowedTools Bash --resume ID",
            ),
            (
                "claude -p 'fix the bug' --output-format json --allowedTools Bash Edit",
                "claude --output-format json --allowedTools Bash Edit --resume ID",
            ),
            (
                "claude --resume old-id --model opus",
                "claude --model opus --resume ID",
            ),
            ("claude --continue 'go on'", "claude --resume ID"),
            (
                "cd /p && claude --permission-mode acceptEdits \"do it\"",
                "claude --permission-mode acceptEdits --resume ID",
            ),
            ("codex --model m", "codex --model m resume ID"),
            (
                "codex exec --skip-git-repo-check -m m 'run tests'",
                "codex -m m resume ID",
            ),
            (
                "codex --model m resume old --last",
                "codex --model m resume ID",
            ),
            ("codex -c 'a=b c' 'fix it'", "codex -c 'a=b c' resume ID"),
        ];
        for (typed, want) in cases {
            let (agent, w) = words(typed);
            assert_eq!(line(agent, &w, "ID"), want, "{typed}");
        }
        assert!(agent_words("npm run dev").is_none());
    }

    #[test]
    fn an_id_on_the_line_is_found() {
        let id = |l: &str| {
            let (a, w) = words(l);
            id_on_line(a, &w)
        };
        assert_eq!(
            id("claude --resume c165 --model x").as_deref(),
            Some("c165")
        );
        assert_eq!(id("claude --resume=abc").as_deref(), Some("abc"));
        assert_eq!(id("claude --resume").as_deref(), None);
        assert_eq!(id("codex --model m resume t-9").as_deref(), Some("t-9"));
        assert_eq!(id("codex resume --last").as_deref(), None);
        assert_eq!(id("codex 'resume this'").as_deref(), None);
        assert_eq!(id("codex exec 'resume x'").as_deref(), None);
    }

    #[test]
    fn each_pane_resumes_its_own_conversation_or_is_gone() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths {
            data: tmp.path().to_path_buf(),
            state: tmp.path().join("state"),
            config_file: tmp.path().join("config.toml"),
        };
        let transcript = tmp.path().join("a.jsonl");
        std::fs::write(&transcript, "{}").unwrap();
        let ctx = |shell: &str, pane: &str, t: &Path| journal::IdContext {
            transcript: Some(t.to_string_lossy().into_owned()),
            shell_id: Some(shell.into()),
            tmux_pane: Some(pane.into()),
        };
        let p = Path::new("/p");
        journal::record_id(
            &paths,
            "s",
            Agent::Claude,
            "conv-a",
            p,
            &ctx("A", "%1", &transcript),
        )
        .unwrap();
        let gone = tmp.path().join("gone.jsonl");
        journal::record_id(
            &paths,
            "s",
            Agent::Claude,
            "conv-b",
            p,
            &ctx("B", "%2", &gone),
        )
        .unwrap();
        let pane = |shell: &'static str| PaneRef {
            shell_id: Some(shell),
            tmux_pane: None,
        };
        let line = "claude --allowedTools Bash";
        assert_eq!(
            for_pane(&paths, "s", pane("A"), line),
            Some(Resume::Line(
                "claude --allowedTools Bash --resume conv-a".into()
            ))
        );
        match for_pane(&paths, "s", pane("B"), line) {
            Some(Resume::Gone(why)) => assert!(why.contains("conv-b"), "{why}"),
            other => panic!("{other:?}"),
        }
        // By tmux pane when the shell is not known; an id on the line wins.
        let by_pane = PaneRef {
            shell_id: Some("C"),
            tmux_pane: Some("%1"),
        };
        assert_eq!(
            for_pane(&paths, "s", by_pane, "claude"),
            Some(Resume::Line("claude --resume conv-a".into()))
        );
        assert!(matches!(
            for_pane(&paths, "s", pane("A"), "claude --resume other-id"),
            Some(Resume::Gone(_))
        ));
        assert_eq!(for_pane(&paths, "s", pane("Z"), "claude"), None);
        assert_eq!(for_pane(&paths, "s", pane("A"), "vim"), None);
    }

    #[test]
    fn transcripts_are_found_where_each_cli_keeps_them() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path().join("t.jsonl");
        assert!(transcript_exists(Agent::Claude, "x", Some(&t)).is_err());
        std::fs::write(&t, "{}").unwrap();
        assert!(transcript_exists(Agent::Claude, "x", Some(&t)).is_ok());
        let day = tmp.path().join("sessions/2026/12/01");
        std::fs::create_dir_all(&day).unwrap();
        std::fs::write(day.join("rollout-2026-12-01T10-00-00-th-1.jsonl"), "").unwrap();
        assert!(find_file(&tmp.path().join("sessions"), "th-1.jsonl", 4));
        assert!(!find_file(&tmp.path().join("sessions"), "th-2.jsonl", 4));
    }
}
