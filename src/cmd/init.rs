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
        InitTarget::Codex => codex_notify(&exe) + "\n" + &codex_mcp(&exe),
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

/// The `[mcp_servers.snap]` table for Codex's `~/.codex/config.toml`.
fn codex_mcp(exe: &str) -> String {
    let command = toml::Value::String(exe.to_string());
    format!("[mcp_servers.snap]\ncommand = {command}\nargs = [\"mcp\"]\n")
}

/// The `notify` line for Codex's `~/.codex/config.toml` (top level, before any table).
fn codex_notify(exe: &str) -> String {
    let argv = toml::Value::Array(vec![
        toml::Value::String(exe.to_string()),
        "hook".into(),
        "codex".into(),
    ]);
    format!("# ~/.codex/config.toml (top level, before any [table])\nnotify = {argv}\n")
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
        let t: toml::Table = codex_notify("/x \"y\"/snap").parse().unwrap();
        assert_eq!(
            t["notify"],
            toml::Value::Array(vec!["/x \"y\"/snap".into(), "hook".into(), "codex".into()])
        );
    }

    #[test]
    fn mcp_entries_start_snap_mcp_by_its_path() {
        let m: serde_json::Value = serde_json::from_str(&claude_mcp("/x y/snap").unwrap()).unwrap();
        assert_eq!(
            m,
            serde_json::json!({"mcpServers": {"snap": {"command": "/x y/snap", "args": ["mcp"]}}})
        );
        // One paste: the notify line first (top level), then the table.
        let exe = "/x \"y\"/snap";
        let t: toml::Table = (codex_notify(exe) + "\n" + &codex_mcp(exe))
            .parse()
            .unwrap();
        assert_eq!(t["notify"][0].as_str(), Some(exe));
        assert_eq!(t["mcp_servers"]["snap"]["command"].as_str(), Some(exe));
        assert_eq!(
            t["mcp_servers"]["snap"]["args"],
            toml::Value::Array(vec!["mcp".into()])
        );
    }
}
