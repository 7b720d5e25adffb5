//! Claude Code's project files, merged rather than pasted: snap's hooks (and the
//! approval of its MCP server) into `.claude/settings.local.json` (or the shared
//! `.claude/settings.json`), its MCP server into `.mcp.json`. The user's other hooks,
//! servers and keys stay as they were, where they were; merging again changes nothing;
//! a file that does not parse (or holds a key of the wrong type) is an error naming it,
//! and is left untouched.

use crate::store::atomic::write_atomic_keep_mode;
use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// The events snap hooks, with the tool matcher of each.
pub const EVENTS: [(&str, Option<&str>); 4] = [
    ("SessionStart", None),
    ("PostToolUse", Some("Bash")),
    ("PostToolUseFailure", Some("Bash")),
    ("Stop", None),
];

/// The name of snap's MCP server.
pub const SERVER: &str = "snap";

/// The hook command for `program` (a bare installed name, or a path, quoted).
pub fn hook_command(program: &str) -> String {
    format!("{} hook claude", crate::exe::shell_word(program))
}

/// The `hooks` of a settings file wiring every event to `snap hook claude`.
pub fn hooks_snippet(program: &str) -> Value {
    let mut hooks = Map::new();
    for (event, matcher) in EVENTS {
        hooks.insert(event.into(), json!([group(matcher, program)]));
    }
    json!({ "hooks": hooks })
}

/// The `.mcp.json` entry that starts `snap mcp`.
pub fn mcp_snippet(program: &str) -> Value {
    json!({ "mcpServers": { SERVER: server(program) } })
}

fn group(matcher: Option<&str>, program: &str) -> Value {
    let hook = json!([{ "type": "command", "command": hook_command(program) }]);
    match matcher {
        Some(m) => json!({ "matcher": m, "hooks": hook }),
        None => json!({ "hooks": hook }),
    }
}

fn server(program: &str) -> Value {
    json!({ "command": program, "args": ["mcp"] })
}

/// Is this hook command snap's (`snap hook claude`, by any path of a binary of this
/// name)?
fn is_snap_hook(command: &str, name: &str) -> bool {
    let Some(program) = command.trim().strip_suffix(" hook claude") else {
        return false;
    };
    let program = program.trim();
    let program = match program
        .strip_prefix('\'')
        .and_then(|p| p.strip_suffix('\''))
    {
        Some(inner) => inner.replace(r"'\''", "'"),
        None => program.to_string(),
    };
    let base = crate::policy::basename(&program);
    base == name || base == "snap"
}

/// Merge snap's hooks into a settings document: a hook of snap's already under an
/// event (whatever its matcher) gets the current command; an event without one gets
/// snap's group appended. Returns whether anything changed.
pub fn merge_hooks(doc: &mut Map<String, Value>, program: &str, name: &str) -> Result<bool> {
    let command = hook_command(program);
    let hooks = object_at(doc, "hooks")?;
    let mut changed = false;
    for (event, matcher) in EVENTS {
        let Value::Array(groups) = hooks.entry(event).or_insert_with(|| json!([])) else {
            bail!("`hooks.{event}` is not a list");
        };
        let mut found = false;
        let entries = groups
            .iter_mut()
            .filter_map(|g| g.get_mut("hooks")?.as_array_mut())
            .flatten()
            .filter_map(Value::as_object_mut);
        for entry in entries {
            let Some(Value::String(c)) = entry.get_mut("command") else {
                continue;
            };
            if is_snap_hook(c, name) {
                found = true;
                if *c != command {
                    c.clone_from(&command);
                    changed = true;
                }
            }
        }
        if !found {
            groups.push(group(matcher, program));
            changed = true;
        }
    }
    Ok(changed)
}

/// Approve snap's server of `.mcp.json` in a settings document
/// (`enabledMcpjsonServers`), so Claude Code starts it without asking.
pub fn approve_mcp(doc: &mut Map<String, Value>) -> Result<bool> {
    let key = "enabledMcpjsonServers";
    let Value::Array(list) = doc.entry(key).or_insert_with(|| json!([])) else {
        bail!("`{key}` is not a list");
    };
    if list.iter().any(|v| v == SERVER) {
        return Ok(false);
    }
    list.push(json!(SERVER));
    Ok(true)
}

/// Merge snap's server into a `.mcp.json` document: its `command` and `args` set, any
/// other key of its entry (`env`, …) and every other server kept.
pub fn merge_mcp(doc: &mut Map<String, Value>, program: &str) -> Result<bool> {
    let servers = object_at(doc, "mcpServers")?;
    let want = server(program);
    match servers.get_mut(SERVER) {
        Some(Value::Object(entry)) => {
            let mut changed = false;
            for (k, v) in want.as_object().into_iter().flatten() {
                if entry.get(k) != Some(v) {
                    entry.insert(k.clone(), v.clone());
                    changed = true;
                }
            }
            Ok(changed)
        }
        Some(_) => bail!("`mcpServers.{SERVER}` is not an object"),
        None => {
            servers.insert(SERVER.into(), want);
            Ok(true)
        }
    }
}

/// The object under `key`, created when missing; an error when it is something else.
fn object_at<'a>(doc: &'a mut Map<String, Value>, key: &str) -> Result<&'a mut Map<String, Value>> {
    match doc.entry(key).or_insert_with(|| json!({})) {
        Value::Object(o) => Ok(o),
        _ => bail!("`{key}` is not an object"),
    }
}

/// What writing a file did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Created,
    Changed,
    Unchanged,
}

/// A file's new text, ready to be written.
#[derive(Debug)]
pub struct Pending {
    pub path: PathBuf,
    /// None when nothing changes.
    bytes: Option<Vec<u8>>,
    existed: bool,
}

/// Edit the JSON object in `path` with `change` (which says whether it changed
/// anything), in memory: nothing is written until [`Pending::write`], so several files
/// are all checked before any is touched. A missing or empty file is `{}`. A file that
/// is not a JSON object, or that `change` refuses, is an error naming it.
pub fn prepare(
    path: &Path,
    change: impl FnOnce(&mut Map<String, Value>) -> Result<bool>,
) -> Result<Pending> {
    let advice = "fix it or move it away (snap did not change it)";
    let text = match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut doc = match text.as_deref().map(str::trim) {
        None | Some("") => Map::new(),
        Some(t) => match serde_json::from_str::<Value>(t) {
            Ok(Value::Object(o)) => o,
            Ok(_) => bail!("{} is not a JSON object: {advice}", path.display()),
            Err(e) => bail!("{} is not valid JSON ({e}): {advice}", path.display()),
        },
    };
    let changed = change(&mut doc).with_context(|| format!("{}: {advice}", path.display()))?;
    let bytes = if changed || text.is_none() {
        let mut b = serde_json::to_vec_pretty(&doc)?;
        b.push(b'\n');
        Some(b)
    } else {
        None
    };
    Ok(Pending {
        path: path.to_path_buf(),
        bytes,
        existed: text.is_some(),
    })
}

impl Pending {
    /// Write the new text atomically (its directory created), when there is one.
    pub fn write(self) -> Result<Edit> {
        let Some(bytes) = self.bytes else {
            return Ok(Edit::Unchanged);
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        write_atomic_keep_mode(&self.path, &bytes)?;
        Ok(if self.existed {
            Edit::Changed
        } else {
            Edit::Created
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn hooks_merge_beside_the_users_and_only_once() {
        let mut d = doc(json!({
            "permissions": {"allow": ["Bash(ls)"]},
            "hooks": {
                "PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "prettier -w"}]}],
                "Notification": [{"hooks": [{"type": "command", "command": "notify-send hi"}]}]
            }
        }));
        assert!(merge_hooks(&mut d, "snap", "snap").unwrap());
        let once = d.clone();
        assert!(!merge_hooks(&mut d, "snap", "snap").unwrap(), "idempotent");
        assert_eq!(d, once);
        let post = d["hooks"]["PostToolUse"].as_array().unwrap();
        assert_eq!(post.len(), 2);
        assert_eq!(post[0]["hooks"][0]["command"], "prettier -w");
        assert_eq!(post[1]["matcher"], "Bash");
        assert_eq!(post[1]["hooks"][0]["command"], "snap hook claude");
        assert_eq!(
            d["hooks"]["Notification"][0]["hooks"][0]["command"],
            "notify-send hi"
        );
        assert_eq!(d["permissions"]["allow"][0], "Bash(ls)");
        let keys: Vec<&String> = d.keys().collect();
        assert_eq!(keys, ["permissions", "hooks"]);
        // A later merge from another place updates snap's command, adds nothing.
        assert!(merge_hooks(&mut d, "/opt/my snap/snap", "snap").unwrap());
        let post = d["hooks"]["PostToolUse"].as_array().unwrap();
        assert_eq!(post.len(), 2);
        assert_eq!(
            post[1]["hooks"][0]["command"],
            "'/opt/my snap/snap' hook claude"
        );
        assert!(!merge_hooks(&mut d, "/opt/my snap/snap", "snap").unwrap());
    }

    #[test]
    fn wrong_types_are_refused() {
        let mut d = doc(json!({"hooks": []}));
        assert!(merge_hooks(&mut d, "snap", "snap").is_err());
        let mut d = doc(json!({"hooks": {"Stop": {}}}));
        assert!(
            format!("{:#}", merge_hooks(&mut d, "snap", "snap").unwrap_err())
                .contains("hooks.Stop")
        );
        let mut d = doc(json!({"enabledMcpjsonServers": "snap"}));
        assert!(approve_mcp(&mut d).is_err());
        let mut d = doc(json!({"mcpServers": {"snap": "x"}}));
        assert!(merge_mcp(&mut d, "snap").is_err());
    }

    #[test]
    fn the_mcp_entry_is_set_and_others_kept() {
        let mut d = doc(
            json!({"mcpServers": {"db": {"command": "pg-mcp"}, "snap": {"command": "/old/snap", "args": ["mcp"], "env": {"A": "1"}}}}),
        );
        assert!(merge_mcp(&mut d, "snap").unwrap());
        assert!(!merge_mcp(&mut d, "snap").unwrap());
        assert_eq!(
            d["mcpServers"]["snap"],
            json!({"command": "snap", "args": ["mcp"], "env": {"A": "1"}})
        );
        assert_eq!(d["mcpServers"]["db"]["command"], "pg-mcp");
        let mut s = Map::new();
        assert!(approve_mcp(&mut s).unwrap());
        assert!(!approve_mcp(&mut s).unwrap());
        assert_eq!(s["enabledMcpjsonServers"], json!(["snap"]));
    }

    #[test]
    fn snap_hooks_are_told_from_others() {
        assert!(is_snap_hook("snap hook claude", "snap"));
        assert!(is_snap_hook("'/x y/snap' hook claude", "snap"));
        assert!(is_snap_hook("'/it'\\''s/snapx' hook claude", "snapx"));
        assert!(!is_snap_hook("other hook claude", "snap"));
        assert!(!is_snap_hook("snap hook codex", "snap"));
    }

    #[test]
    fn a_file_that_does_not_parse_is_left_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join(".claude/settings.local.json");
        let edit = |p: &Path| prepare(p, |d| merge_hooks(d, "snap", "snap"));
        assert_eq!(edit(&p).unwrap().write().unwrap(), Edit::Created);
        assert_eq!(edit(&p).unwrap().write().unwrap(), Edit::Unchanged);
        std::fs::write(&p, "{\"hooks\": ").unwrap();
        let e = format!("{:#}", edit(&p).unwrap_err());
        assert!(
            e.contains(&p.display().to_string()) && e.contains("not valid JSON"),
            "{e}"
        );
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{\"hooks\": ");
        std::fs::write(&p, "{\"hooks\": 3}").unwrap();
        let e = format!("{:#}", edit(&p).unwrap_err());
        assert!(e.contains("`hooks` is not an object"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{\"hooks\": 3}");
    }
}
