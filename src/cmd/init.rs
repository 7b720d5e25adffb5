//! `snap init SHELL`: print the hook with this binary's absolute path filled in; for an
//! agent, its hooks and the entry that starts `snap mcp`.

use crate::cli::{InitArgs, InitTarget};
use crate::text::{fish_quote, posix_quote};
use anyhow::{Context, Result};

const BASH: &str = include_str!("../../shell/snap.bash");
const ZSH: &str = include_str!("../../shell/snap.zsh");
const FISH: &str = include_str!("../../shell/snap.fish");

/// Print the hook for the chosen shell.
pub fn run(args: &InitArgs) -> Result<()> {
    let exe = std::env::current_exe().context("cannot find snap's own path")?;
    let exe = exe.to_string_lossy();
    let script = match args.shell {
        InitTarget::Bash => BASH.replace("@SNAP_BIN@", &posix_quote(&exe)),
        InitTarget::Zsh => ZSH.replace("@SNAP_BIN@", &posix_quote(&exe)),
        InitTarget::Fish => FISH.replace("@SNAP_BIN@", &fish_quote(&exe)),
        InitTarget::Claude => claude_settings(&exe)? + "\n" + &claude_mcp(&exe)?,
        InitTarget::Codex => codex_notify(&exe)? + "\n" + &codex_mcp(&exe),
    };
    print!("{script}");
    Ok(())
}

/// The `.claude/settings.json` hooks wiring PostToolUse, PostToolUseFailure, Stop and
/// SessionStart to `snap hook claude`, ready to paste (or merge into existing hooks).
fn claude_settings(exe: &str) -> Result<String> {
    let hook = serde_json::json!([{
        "type": "command",
        "command": format!("{} hook claude", posix_quote(exe)),
    }]);
    let snippet = serde_json::json!({
        "hooks": {
            "SessionStart": [{ "hooks": hook }],
            "PostToolUse": [{ "matcher": "Bash", "hooks": hook }],
            "PostToolUseFailure": [{ "matcher": "Bash", "hooks": hook }],
            "Stop": [{ "hooks": hook }],
        }
    });
    Ok(format!("{}\n", serde_json::to_string_pretty(&snippet)?))
}

/// The `.mcp.json` entry (project root) that starts `snap mcp` for Claude Code.
fn claude_mcp(exe: &str) -> Result<String> {
    let entry = serde_json::json!({
        "mcpServers": { "snap": { "command": exe, "args": ["mcp"] } }
    });
    Ok(format!("{}\n", serde_json::to_string_pretty(&entry)?))
}

/// The `[mcp_servers.snap]` table for Codex's `~/.codex/config.toml` (after the
/// top-level lines).
fn codex_mcp(exe: &str) -> String {
    let command = toml::Value::String(exe.to_string());
    format!(
        "# ~/.codex/config.toml (a table: after the top-level lines)\n\
         [mcp_servers.snap]\ncommand = {command}\nargs = [\"mcp\"]\n"
    )
}

/// For Codex: the `notify` line for `~/.codex/config.toml` (top level, before any
/// table: each turn's end, a checkpoint) and the `hooks.json` sending `PostToolUse` of
/// its shell tool to `snap hook codex` on stdin (each command recorded).
fn codex_notify(exe: &str) -> Result<String> {
    let argv = toml::Value::Array(vec![
        toml::Value::String(exe.to_string()),
        "hook".into(),
        "codex".into(),
    ]);
    let hooks = serde_json::json!({
        "hooks": {
            "PostToolUse": [{
                "matcher": "Bash",
                "hooks": [{
                    "type": "command",
                    "command": format!("{} hook codex", posix_quote(exe)),
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
