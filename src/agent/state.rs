//! The coding agent's state file, `.agent-session.json`, in the seed's format:
//! `{"current_task": str, "files_in_progress": [str], "next_steps": [str],
//! "environment": str, "last_checkpoint": RFC 3339}`.
//!
//! The file is read as a JSON object whose key order is kept (serde_json's
//! `preserve_order`): fields snap does not know stay as they were, where they were.
//! Writes are atomic. A file that does not parse is an error naming it, and is never
//! overwritten. snap adds one field of its own, `pinned_files`: the files
//! `snap task files add` pinned, which every checkpoint keeps in `files_in_progress`.

use crate::store::atomic::write_atomic;
use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};
use std::path::{Component, Path, PathBuf};

/// The state file's name at the project root.
pub const FILE_NAME: &str = ".agent-session.json";

/// The field where snap keeps pinned files.
pub const PINNED: &str = "pinned_files";

/// The environment written when none is set: config, `SNAP_ENVIRONMENT`, else this.
pub const DEFAULT_ENVIRONMENT: &str = "development";

/// A loaded (or new) state file and the project it belongs to.
#[derive(Debug, Clone)]
pub struct AgentState {
    /// The file.
    pub path: PathBuf,
    /// The project root: paths in the file are relative to it.
    pub root: PathBuf,
    /// The whole document, unknown fields included, in file order.
    pub doc: Map<String, Value>,
    /// Whether the file existed when it was read.
    pub existed: bool,
}

/// Where the state file is for a directory: `file` when given (relative to `cwd`),
/// else `.agent-session.json` at the project root of `cwd` (git top level, else `cwd`).
/// Returns (file, project root).
pub fn locate(cwd: &Path, file: Option<&Path>) -> (PathBuf, PathBuf) {
    let root = crate::session::project_dir(cwd);
    let path = match file {
        Some(f) => normalize(&cwd.join(f)),
        None => root.join(FILE_NAME),
    };
    (path, root)
}

impl AgentState {
    /// Read the state file at `path` (a missing file gives an empty state).
    pub fn load(path: &Path, root: &Path) -> Result<AgentState> {
        let (doc, existed) = match std::fs::read(path) {
            Ok(bytes) => (parse(&bytes, path)?, true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Map::new(), false),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(AgentState {
            path: path.to_path_buf(),
            root: root.to_path_buf(),
            doc,
            existed,
        })
    }

    /// The document as it would be written: a new file gets the seed's fields first,
    /// in the seed's order.
    pub fn document(&self) -> Map<String, Value> {
        if self.existed {
            return self.doc.clone();
        }
        let mut fresh = Map::new();
        fresh.insert("current_task".into(), Value::String(String::new()));
        fresh.insert("files_in_progress".into(), Value::Array(vec![]));
        fresh.insert("next_steps".into(), Value::Array(vec![]));
        fresh.insert("environment".into(), Value::String(default_environment()));
        for (k, v) in &self.doc {
            fresh.insert(k.clone(), v.clone());
        }
        fresh
    }

    /// Write the document atomically.
    pub fn save(&mut self) -> Result<()> {
        self.doc = self.document();
        let mut bytes = serde_json::to_vec_pretty(&self.doc)?;
        bytes.push(b'\n');
        write_atomic(&self.path, &bytes)?;
        self.existed = true;
        Ok(())
    }

    /// `current_task`, when set and not empty.
    pub fn current_task(&self) -> Option<&str> {
        self.doc
            .get("current_task")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// `next_steps`.
    pub fn next_steps(&self) -> Vec<String> {
        self.strings("next_steps")
    }

    /// `files_in_progress`.
    pub fn files_in_progress(&self) -> Vec<String> {
        self.strings("files_in_progress")
    }

    /// The pinned files.
    pub fn pinned(&self) -> Vec<String> {
        self.strings(PINNED)
    }

    /// `environment`, when set.
    pub fn environment(&self) -> Option<&str> {
        self.doc.get("environment").and_then(Value::as_str)
    }

    /// `last_checkpoint`, when set.
    pub fn last_checkpoint(&self) -> Option<&str> {
        self.doc
            .get("last_checkpoint")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// Set a field, in place when it exists (its position is kept), else at the end.
    pub fn set(&mut self, key: &str, value: Value) {
        self.doc.insert(key.to_string(), value);
    }

    /// Set a list-of-strings field.
    pub fn set_strings(&mut self, key: &str, items: &[String]) {
        self.set(
            key,
            Value::Array(items.iter().cloned().map(Value::String).collect()),
        );
    }

    /// Set `environment` when it is missing (or null).
    pub fn ensure_environment(&mut self) {
        if self.doc.get("environment").is_none_or(Value::is_null) {
            self.set("environment", Value::String(default_environment()));
        }
    }

    /// A path as stored: relative to the project root when inside it.
    pub fn relative(&self, cwd: &Path, path: &Path) -> String {
        let abs = normalize(&cwd.join(path));
        match abs.strip_prefix(&self.root) {
            Ok(rel) if rel.as_os_str().is_empty() => ".".into(),
            Ok(rel) => rel.to_string_lossy().into_owned(),
            Err(_) => abs.to_string_lossy().into_owned(),
        }
    }

    /// The state file's path relative to the project root, when inside it.
    pub fn own_relative_path(&self) -> Option<String> {
        self.path
            .strip_prefix(&self.root)
            .ok()
            .map(|p| p.to_string_lossy().into_owned())
    }

    fn strings(&self, key: &str) -> Vec<String> {
        match self.doc.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Parse the file and check the known fields' types; errors name the file.
fn parse(bytes: &[u8], path: &Path) -> Result<Map<String, Value>> {
    let advice = "fix it or move it away (snap will not overwrite it)";
    let value: Value = serde_json::from_slice(bytes).with_context(|| {
        format!(
            "{} is not valid JSON: {advice}, or pass --file PATH",
            path.display()
        )
    })?;
    let Value::Object(doc) = value else {
        bail!("{} is not a JSON object: {advice}", path.display());
    };
    for (key, want_list) in [
        ("current_task", false),
        ("files_in_progress", true),
        ("next_steps", true),
        ("environment", false),
        ("last_checkpoint", false),
        (PINNED, true),
    ] {
        let ok = match doc.get(key) {
            None | Some(Value::Null) => true,
            Some(Value::String(_)) => !want_list,
            Some(Value::Array(items)) => want_list && items.iter().all(Value::is_string),
            Some(_) => false,
        };
        if !ok {
            let what = if want_list {
                "a list of strings"
            } else {
                "a string"
            };
            bail!("{}: `{key}` must be {what}: {advice}", path.display());
        }
    }
    Ok(doc)
}

/// The environment for a new file: `SNAP_ENVIRONMENT`, else the config's
/// `environment`, else `development`.
pub fn default_environment() -> String {
    if let Some(e) = std::env::var("SNAP_ENVIRONMENT")
        .ok()
        .filter(|e| !e.is_empty())
    {
        return e;
    }
    crate::store::paths::Paths::from_env()
        .ok()
        .and_then(|p| std::fs::read_to_string(p.config_in_force()).ok())
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|t| {
            t.get("environment")
                .and_then(|v| v.as_str())
                .map(String::from)
        })
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| DEFAULT_ENVIRONMENT.to_string())
}

/// Remove `.` and `..` components without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"{
  "current_task": "refactor user authentication",
  "owner": {"name": "kept"},
  "files_in_progress": ["auth.js", "user.model.js"],
  "next_steps": ["update tests", "check error handling"],
  "environment": "development",
  "last_checkpoint": "2024-01-15T14:30:00Z"
}"#;

    #[test]
    fn seed_fields_read_and_unknown_kept_in_order() {
        let doc = parse(SEED.as_bytes(), Path::new("x")).unwrap();
        let mut s = AgentState {
            path: PathBuf::from("/p/.agent-session.json"),
            root: PathBuf::from("/p"),
            doc,
            existed: true,
        };
        assert_eq!(s.current_task(), Some("refactor user authentication"));
        assert_eq!(s.next_steps(), ["update tests", "check error handling"]);
        assert_eq!(s.files_in_progress(), ["auth.js", "user.model.js"]);
        s.set("current_task", Value::String("new".into()));
        let keys: Vec<&String> = s.doc.keys().collect();
        assert_eq!(
            keys,
            [
                "current_task",
                "owner",
                "files_in_progress",
                "next_steps",
                "environment",
                "last_checkpoint"
            ]
        );
    }

    #[test]
    fn wrong_types_and_bad_json_are_errors_naming_the_file() {
        let e = parse(br#"{"next_steps": "x"}"#, Path::new("/p/f.json")).unwrap_err();
        assert!(format!("{e:#}").contains("/p/f.json"), "{e:#}");
        assert!(format!("{e:#}").contains("next_steps"), "{e:#}");
        let e = parse(b"{\"a\": ", Path::new("/p/f.json")).unwrap_err();
        assert!(format!("{e:#}").contains("/p/f.json"));
        assert!(parse(b"[]", Path::new("f")).is_err());
    }

    #[test]
    fn paths_are_relative_to_the_root() {
        let s = AgentState {
            path: PathBuf::from("/p/.agent-session.json"),
            root: PathBuf::from("/p"),
            doc: Map::new(),
            existed: false,
        };
        assert_eq!(
            s.relative(Path::new("/p/src"), Path::new("a.rs")),
            "src/a.rs"
        );
        assert_eq!(
            s.relative(Path::new("/p/src"), Path::new("../b.rs")),
            "b.rs"
        );
        assert_eq!(s.relative(Path::new("/p"), Path::new("/q/c.rs")), "/q/c.rs");
        assert_eq!(
            s.own_relative_path().as_deref(),
            Some(".agent-session.json")
        );
    }
}
