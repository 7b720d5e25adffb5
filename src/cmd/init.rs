//! `snap init SHELL`: print the hook with this binary's absolute path filled in; for an
//! agent, its hooks and the entry that starts `snap mcp`, calling snap by its installed
//! name when that name on PATH is this binary, else by its path. `snap init claude
//! --write [--shared]` merges them into the project's Claude Code files instead.

use crate::agent::claude_config::{self as claude, Edit};
use crate::cli::{InitArgs, InitTarget};
use crate::text::{fish_quote, posix_quote};
use anyhow::{Context, Result};
use std::path::Path;

const BASH: &str = include_str!("../../shell/snap.bash");
const ZSH: &str = include_str!("../../shell/snap.zsh");
const FISH: &str = include_str!("../../shell/snap.fish");

/// Print the hook for the chosen shell, or write Claude Code's files.
pub fn run(args: &InitArgs) -> Result<()> {
    if args.write {
        if args.shell != InitTarget::Claude {
            use clap::CommandFactory;
            crate::cli::Cli::command()
                .error(
                    clap::error::ErrorKind::ArgumentConflict,
                    "--write is for `snap init claude` (print the others and paste them)",
                )
                .exit();
        }
        return write_claude(args.shared);
    }
    let exe = std::env::current_exe().context("cannot find snap's own path")?;
    let exe = exe.to_string_lossy();
    // PATH is searched for an agent only: a shell's rc file runs `snap init` at each start.
    let script = match args.shell {
        InitTarget::Bash => BASH.replace("@SNAP_BIN@", &posix_quote(&exe)),
        InitTarget::Zsh => ZSH.replace("@SNAP_BIN@", &posix_quote(&exe)),
        InitTarget::Fish => FISH.replace("@SNAP_BIN@", &fish_quote(&exe)),
        InitTarget::Claude => {
            let program = crate::exe::for_config();
            claude_settings(&program)? + "\n" + &claude_mcp(&program)?
        }
        InitTarget::Codex => {
            let program = crate::exe::for_config();
            codex_notify(&program)? + "\n" + &codex_mcp(&program)
        }
    };
    print!("{script}");
    Ok(())
}

/// Merge snap's hooks (and the approval of its MCP server) into the project's
/// `.claude/settings.local.json` (`shared`: `.claude/settings.json`) and its server
/// into `.mcp.json`. Both files are checked before either is written. Local files snap
/// creates are kept out of git (`info/exclude`); a `.mcp.json` the repository tracks is
/// shared, so it is changed only with `--shared`.
fn write_claude(shared: bool) -> Result<()> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let root = crate::session::project_dir(&cwd);
    let (program, name) = (crate::exe::for_config(), crate::exe::name());
    let file = if shared {
        "settings.json"
    } else {
        "settings.local.json"
    };
    let settings = claude::prepare(&root.join(".claude").join(file), |d| {
        Ok(claude::merge_hooks(d, &program, &name)? | claude::approve_mcp(d)?)
    })?;
    let mcp_path = root.join(".mcp.json");
    let mcp = if shared || !crate::agent::git::tracked(&root, &mcp_path) {
        Some(claude::prepare(&mcp_path, |d| {
            claude::merge_mcp(d, &program)
        })?)
    } else {
        None
    };
    let settings_path = settings.path.clone();
    report(
        &root,
        &settings_path,
        settings.write()?,
        "snap's hooks",
        shared,
    );
    match mcp {
        Some(m) => report(&root, &mcp_path, m.write()?, "snap's MCP server", shared),
        None => println!(
            "{} is tracked by git (shared): snap's MCP server not added; add it with \
             --shared, or merge this yourself:\n{}",
            crate::text::safe(&mcp_path.display().to_string()),
            serde_json::to_string_pretty(&claude::mcp_snippet(&program))?
        ),
    }
    Ok(())
}

/// Say what happened to a file; a local file snap created is kept out of git.
fn report(root: &Path, path: &Path, edit: Edit, what: &str, shared: bool) {
    let shown = crate::text::safe(&path.display().to_string());
    match edit {
        Edit::Unchanged => println!("{shown}: {what} already there"),
        Edit::Changed => println!("{shown}: {what} merged"),
        Edit::Created => println!("{shown}: created with {what}"),
    }
    if edit == Edit::Created && !shared {
        if let Err(e) = crate::agent::git::exclude(root, path) {
            eprintln!("snap: {e:#}: {shown} may show in git status");
        }
    }
}

/// The `.claude/settings.json` hooks wiring PostToolUse, PostToolUseFailure, Stop and
/// SessionStart to `snap hook claude`, ready to paste (or merge into existing hooks).
fn claude_settings(program: &str) -> Result<String> {
    let snippet = claude::hooks_snippet(program);
    Ok(format!("{}\n", serde_json::to_string_pretty(&snippet)?))
}

/// The `.mcp.json` entry (project root) that starts `snap mcp` for Claude Code.
fn claude_mcp(program: &str) -> Result<String> {
    let entry = claude::mcp_snippet(program);
    Ok(format!("{}\n", serde_json::to_string_pretty(&entry)?))
}

/// The `[mcp_servers.snap]` table for Codex's `~/.codex/config.toml` (after the
/// top-level lines).
fn codex_mcp(program: &str) -> String {
    let command = toml::Value::String(program.to_string());
    format!(
        "# ~/.codex/config.toml (a table: after the top-level lines)\n\
         [mcp_servers.snap]\ncommand = {command}\nargs = [\"mcp\"]\n"
    )
}

/// For Codex: the `notify` line for `~/.codex/config.toml` (top level, before any
/// table: each turn's end, a checkpoint) and the `hooks.json` sending `PostToolUse` of
/// its shell tool to `snap hook codex` on stdin (each command recorded).
fn codex_notify(program: &str) -> Result<String> {
    let argv = toml::Value::Array(vec![
        toml::Value::String(program.to_string()),
        "hook".into(),
        "codex".into(),
    ]);
    let hooks = serde_json::json!({
        "hooks": {
            "PostToolUse": [{
                "matcher": "Bash",
                "hooks": [{
                    "type": "command",
                    "command": format!("{} hook codex", crate::exe::shell_word(program)),
                }],
            }],
        }
    });
    Ok(format!(
        "# ~/.codex/config.toml (top level, before any [table])\nnotify = {argv}\n\n\
         # ~/.codex/hooks.json (or .codex/hooks.json in a project); review and trust it\n\
         # with /hooks in codex\n{}\n",
        serde_json::to_string_pretty(&hooks)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_snippets_parse_and_call_the_hook() {
        let s: serde_json::Value =
            serde_json::from_str(&claude_settings("/x y/snap").unwrap()).unwrap();
        for event in ["SessionStart", "PostToolUse", "PostToolUseFailure", "Stop"] {
            assert_eq!(
                s["hooks"][event][0]["hooks"][0]["command"],
                "'/x y/snap' hook claude"
            );
        }
        let s: serde_json::Value = serde_json::from_str(&claude_settings("snap").unwrap()).unwrap();
        assert_eq!(
            s["hooks"]["Stop"][0]["hooks"][0]["command"],
            "snap hook claude"
        );
        let out = codex_notify("/x \"y\"/snap").unwrap();
        let (toml_part, json_part) = out.split_once("\n\n").unwrap();
        let json_part = json_part.trim_end();
        let t: toml::Table = toml_part.parse().unwrap();
        assert_eq!(
            t["notify"],
            toml::Value::Array(vec!["/x \"y\"/snap".into(), "hook".into(), "codex".into()])
        );
        let json: String = json_part.lines().filter(|l| !l.starts_with('#')).collect();
        let h: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(h["hooks"]["PostToolUse"][0]["matcher"], "Bash");
        assert_eq!(
            h["hooks"]["PostToolUse"][0]["hooks"][0]["command"],
            "'/x \"y\"/snap' hook codex"
        );
    }

    #[test]
    fn mcp_entries_start_snap_mcp_by_its_path() {
        let m: serde_json::Value = serde_json::from_str(&claude_mcp("/x y/snap").unwrap()).unwrap();
        assert_eq!(
            m,
            serde_json::json!({"mcpServers": {"snap": {"command": "/x y/snap", "args": ["mcp"]}}})
        );
        // config.toml's notify line (top level), hooks.json, config.toml's table.
        let exe = "/x \"y\"/snap";
        let out = codex_notify(exe).unwrap() + "\n" + &codex_mcp(exe);
        let blocks: Vec<&str> = out.split("\n\n").collect();
        assert_eq!(blocks.len(), 3, "{out}");
        let t: toml::Table = format!("{}\n{}", blocks[0], blocks[2]).parse().unwrap();
        assert_eq!(t["notify"][0].as_str(), Some(exe));
        assert_eq!(t["mcp_servers"]["snap"]["command"].as_str(), Some(exe));
        assert_eq!(
            t["mcp_servers"]["snap"]["args"],
            toml::Value::Array(vec!["mcp".into()])
        );
    }
}
