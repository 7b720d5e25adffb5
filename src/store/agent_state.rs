//! The coding agent's state file, `.agent-session.json`, in the seed's format:
//! `{"current_task": str, "files_in_progress": [str], "next_steps": [str],
//! "environment": str, "last_checkpoint": RFC 3339}`.
//!
//! The file is read as a JSON object whose key order is kept (serde_json's
//! `preserve_order`): fields snap does not know stay as they were, where they were.
//! Writes are atomic. A file that does not parse is an error naming it, and is never
//! overwritten. snap adds one field of its own, `pinned_files`: the files
//! `snap task files add` pinned, which every checkpoint keeps in `files_in_progress`.
//!
//! The file comes with a project, so it is untrusted input: it is read only when it is
//! a regular file (not a symlink, FIFO or device) owned by the user or root, at most
//! [`MAX_BYTES`] and [`MAX_DEPTH`] levels deep; anything else is an error naming it.
//! A symlink is never followed, even to a file of the user's own: a cloned repository
//! could point it at a JSON file of the user's (a credentials store, say) that would
//! then be shown in briefs and handed to a coding agent. What leaves for a snapshot or
//! a brief is [`AgentState::bounded`]. Edits are read-modify-write under a lock in the
//! state directory ([`update`]), so parallel edits never lose each other.

use crate::store::atomic::write_atomic;
use crate::store::lock::{self, Lock};
use crate::store::paths::Paths;
use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};
use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

/// The state file's name at the project root.
pub const FILE_NAME: &str = ".agent-session.json";

/// The field where snap keeps pinned files.
pub const PINNED: &str = "pinned_files";

/// The environment written when none is set: config, `SNAP_ENVIRONMENT`, else this.
pub const DEFAULT_ENVIRONMENT: &str = "development";

/// The largest state file read or written: 1 MiB.
pub const MAX_BYTES: usize = 1 << 20;

/// The deepest nesting of arrays and objects a state file may have.
pub const MAX_DEPTH: usize = 32;

/// What [`AgentState::bounded`] keeps at most: items of a list (or keys of an object),
/// bytes of a string, bytes in all.
pub const EMBED_MAX_ITEMS: usize = 100;
pub const EMBED_MAX_STRING: usize = 1000;
pub const EMBED_MAX_BYTES: usize = 64 << 10;

/// The seed's fields (and snap's own), kept first when a state is bounded.
const KNOWN: [&str; 6] = [
    "current_task",
    "next_steps",
    "files_in_progress",
    "environment",
    "last_checkpoint",
    PINNED,
];

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
    /// Read the state file at `path` (a missing file gives an empty state). A file
    /// that is not safe to read (see the module's doc) or does not parse is an error
    /// naming it; it is never waited on.
    pub fn load(path: &Path, root: &Path) -> Result<AgentState> {
        let (doc, existed) = match read_untrusted(path)? {
            Some(bytes) => (parse(&bytes, path)?, true),
            None => (Map::new(), false),
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

    /// Write the document atomically; one over [`MAX_BYTES`] is refused (nothing is
    /// written).
    pub fn save(&mut self) -> Result<()> {
        let doc = self.document();
        let mut bytes = serde_json::to_vec_pretty(&doc)?;
        bytes.push(b'\n');
        if bytes.len() > MAX_BYTES {
            bail!(
                "{} would be {} bytes, over the {} KiB limit: not written; \
                 drop finished steps (snap task done) or clear the task (snap task clear)",
                self.path.display(),
                bytes.len(),
                MAX_BYTES >> 10
            );
        }
        write_atomic(&self.path, &bytes)?;
        self.doc = doc;
        self.existed = true;
        Ok(())
    }

    /// A copy small enough to embed in a snapshot or a brief: the seed's fields first,
    /// then the others, each list cut to [`EMBED_MAX_ITEMS`], each string to
    /// [`EMBED_MAX_STRING`] bytes, and [`EMBED_MAX_BYTES`] in all (what does not fit
    /// is left out). Key order is kept.
    pub fn bounded(&self) -> AgentState {
        AgentState {
            doc: bounded_doc(&self.doc),
            ..self.clone()
        }
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

/// Change the state file at `path` under its edit lock: load, change, save. Returns
/// the state as saved and what `change` returned. Nothing is written when `change`
/// fails.
pub fn update<T>(
    paths: &Paths,
    path: &Path,
    root: &Path,
    change: impl FnOnce(&mut AgentState) -> Result<T>,
) -> Result<(AgentState, T)> {
    let _held = edit_lock(paths, path)?;
    let mut st = AgentState::load(path, root)?;
    let out = change(&mut st)?;
    st.save()?;
    Ok((st, out))
}

/// Take the edit lock of the state file at `path`: `state/locks/<hash>` under the
/// state directory (not beside the file, where git would see it and a rename would
/// lose it), keyed by the file's canonical path. Held until the returned lock drops.
fn edit_lock(paths: &Paths, path: &Path) -> Result<Lock> {
    // The directory resolved, the name as it is (whether the file exists yet or not).
    let parent = path.parent().unwrap_or(Path::new("/"));
    let canonical = fs::canonicalize(parent)
        .unwrap_or_else(|_| parent.to_path_buf())
        .join(path.file_name().unwrap_or_default());
    let name = format!("{:016x}", fnv1a(canonical.as_os_str().as_encoded_bytes()));
    lock::wait(paths, &format!("locks/{name}"))
        .with_context(|| format!("the lock of {}", path.display()))
}

/// FNV-1a, 64 bits: a hash that stays the same across builds (for lock names).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Read a state file that came with a project: None when missing; an error naming it
/// when it is a symlink, not a regular file, owned by another user (root excepted),
/// or over [`MAX_BYTES`]. Never blocks: the type is checked before opening, and again
/// on the opened file (opened non-blocking, not following a symlink), and at most
/// [`MAX_BYTES`] + 1 bytes are read.
fn read_untrusted(path: &Path) -> Result<Option<Vec<u8>>> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    check_readable(path, &meta)?;
    let file = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            bail!("{} is a symlink: {SKIPPED}", path.display())
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?;
    check_readable(path, &meta)?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() > MAX_BYTES {
        bail!(
            "{} is over {} KiB: {SKIPPED}",
            path.display(),
            MAX_BYTES >> 10
        );
    }
    Ok(Some(bytes))
}

/// Why a state file is not used, and what to do.
const SKIPPED: &str = "not read (snap reads only a regular file of yours or root's, \
                       at most 1 MiB and 32 levels deep); fix it or move it away";

/// Refuse what must not be read: a symlink, anything but a regular file, another
/// user's file (root's is fine), a file over [`MAX_BYTES`].
fn check_readable(path: &Path, meta: &fs::Metadata) -> Result<()> {
    let ft = meta.file_type();
    let kind = {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_symlink() {
            Some("a symlink")
        } else if ft.is_fifo() {
            Some("a FIFO")
        } else if ft.is_socket() {
            Some("a socket")
        } else if ft.is_char_device() || ft.is_block_device() {
            Some("a device")
        } else if ft.is_dir() {
            Some("a directory")
        } else if !ft.is_file() {
            Some("not a regular file")
        } else {
            None
        }
    };
    if let Some(kind) = kind {
        bail!("{} is {kind}: {SKIPPED}", path.display());
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me && meta.uid() != 0 {
        bail!(
            "{} is owned by uid {}, not by you (uid {me}): {SKIPPED}",
            path.display(),
            meta.uid()
        );
    }
    if meta.len() > MAX_BYTES as u64 {
        bail!(
            "{} is over {} KiB ({} bytes): {SKIPPED}",
            path.display(),
            MAX_BYTES >> 10,
            meta.len()
        );
    }
    Ok(())
}

/// The deepest nesting of arrays and objects in JSON text (brackets inside strings do
/// not count). Cheap, and safe on any bytes: run before parsing.
fn json_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The document cut to what may be embedded (see [`AgentState::bounded`]).
fn bounded_doc(doc: &Map<String, Value>) -> Map<String, Value> {
    let mut budget = EMBED_MAX_BYTES;
    let mut kept: std::collections::HashMap<&str, Value> = std::collections::HashMap::new();
    let known = doc.iter().filter(|(k, _)| KNOWN.contains(&k.as_str()));
    let others = doc.iter().filter(|(k, _)| !KNOWN.contains(&k.as_str()));
    for (k, v) in known.chain(others) {
        let Some(left) = budget.checked_sub(k.len() + 4) else {
            break;
        };
        budget = left;
        if let Some(v) = bound(v, &mut budget) {
            kept.insert(k, v);
        }
    }
    doc.keys()
        .filter_map(|k| kept.remove(k.as_str()).map(|v| (k.clone(), v)))
        .collect()
}

/// `v` cut to fit `budget` bytes (roughly, as compact JSON), which it uses up; None
/// when not even an empty value fits.
fn bound(v: &Value, budget: &mut usize) -> Option<Value> {
    let take = |budget: &mut usize, n: usize| -> Option<()> {
        *budget = budget.checked_sub(n)?;
        Some(())
    };
    match v {
        Value::String(s) => {
            take(budget, 3)?;
            let room = EMBED_MAX_STRING.min(*budget);
            let cut = cut_string(s, room);
            *budget = budget.saturating_sub(cut.len());
            Some(Value::String(cut))
        }
        Value::Array(items) => {
            take(budget, 2)?;
            let mut out = Vec::new();
            for item in items.iter().take(EMBED_MAX_ITEMS) {
                match take(budget, 1).and_then(|()| bound(item, budget)) {
                    Some(x) => out.push(x),
                    None => break,
                }
            }
            Some(Value::Array(out))
        }
        Value::Object(map) => {
            take(budget, 2)?;
            let mut out = Map::new();
            for (k, item) in map.iter().take(EMBED_MAX_ITEMS) {
                let key = cut_string(k, EMBED_MAX_STRING);
                match take(budget, key.len() + 4).and_then(|()| bound(item, budget)) {
                    Some(x) => {
                        out.insert(key, x);
                    }
                    None => break,
                }
            }
            Some(Value::Object(out))
        }
        other => {
            take(budget, 8)?;
            Some(other.clone())
        }
    }
}

/// `s` cut to at most `max` bytes on a character boundary, with `…` when cut.
fn cut_string(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Parse the file and check the known fields' types; errors name the file.
fn parse(bytes: &[u8], path: &Path) -> Result<Map<String, Value>> {
    let advice = "fix it or move it away (snap will not overwrite it)";
    if json_depth(bytes) > MAX_DEPTH {
        bail!(
            "{} is nested deeper than {MAX_DEPTH} levels: {SKIPPED}",
            path.display()
        );
    }
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

    #[test]
    fn depth_counts_brackets_outside_strings_only() {
        assert_eq!(json_depth(b"{}"), 1);
        assert_eq!(json_depth(br#"{"a": [1, {"b": []}]}"#), 4);
        assert_eq!(json_depth(br#"{"a": "[[[[{{{{\"[[["}"#), 1);
        assert_eq!(json_depth(b"\"x\""), 0);
        let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
        assert_eq!(json_depth(deep.as_bytes()), 33);
        let e = parse(deep.as_bytes(), Path::new("/p/d.json")).unwrap_err();
        assert!(format!("{e:#}").contains("/p/d.json"), "{e:#}");
        let ok = format!("{{\"x\": {}{}}}", "[".repeat(31), "]".repeat(31));
        assert!(parse(ok.as_bytes(), Path::new("f")).is_ok());
    }

    #[test]
    fn only_a_regular_file_within_the_limit_is_read() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let good = dir.join("good.json");
        fs::write(&good, br#"{"current_task": "t"}"#).unwrap();
        assert_eq!(
            AgentState::load(&good, dir).unwrap().current_task(),
            Some("t")
        );
        assert!(!AgentState::load(&dir.join("missing"), dir).unwrap().existed);
        let link = dir.join("link.json");
        std::os::unix::fs::symlink(&good, &link).unwrap();
        let zero = dir.join("zero.json");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let big = dir.join("big.json");
        fs::write(&big, vec![b' '; MAX_BYTES + 1]).unwrap();
        let fifo = dir.join("fifo.json");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        for (path, why) in [
            (&link, "symlink"),
            (&zero, "symlink"),
            (&big, "over 1024 KiB"),
            (&fifo, "FIFO"),
            (&dir.to_path_buf(), "directory"),
        ] {
            let e = format!("{:#}", AgentState::load(path, dir).unwrap_err());
            assert!(e.contains(&path.display().to_string()), "{e}");
            assert!(e.contains(why), "{e}");
        }
    }

    #[test]
    fn bounded_state_fits_and_keeps_the_seed_fields_in_order() {
        let mut doc = parse(SEED.as_bytes(), Path::new("x")).unwrap();
        doc.insert(
            "next_steps".into(),
            Value::Array(
                (0..100_000)
                    .map(|i| Value::String(format!("step {i}")))
                    .collect(),
            ),
        );
        doc.insert("huge".into(), Value::String("é".repeat(100_000)));
        let s = AgentState {
            path: PathBuf::from("/p/.agent-session.json"),
            root: PathBuf::from("/p"),
            doc,
            existed: true,
        };
        let b = s.bounded();
        let size = serde_json::to_vec(&b.doc).unwrap().len();
        assert!(size <= EMBED_MAX_BYTES + 1024, "{size}");
        assert_eq!(b.next_steps().len(), EMBED_MAX_ITEMS);
        assert_eq!(b.next_steps()[0], "step 0");
        assert_eq!(b.current_task(), Some("refactor user authentication"));
        assert_eq!(b.doc["owner"]["name"], "kept");
        let huge = b.doc["huge"].as_str().unwrap();
        assert!(huge.len() <= EMBED_MAX_STRING && huge.ends_with('…'));
        let keys: Vec<&String> = b.doc.keys().collect();
        assert_eq!(keys[..3], ["current_task", "owner", "files_in_progress"]);
    }

    #[test]
    fn a_write_over_the_limit_is_refused_and_the_file_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(FILE_NAME);
        fs::write(&path, b"{\"next_steps\": []}\n").unwrap();
        let mut s = AgentState::load(&path, tmp.path()).unwrap();
        s.set_strings("next_steps", &vec!["x".repeat(1000); 2000]);
        let e = format!("{:#}", s.save().unwrap_err());
        assert!(e.contains("over the 1024 KiB limit"), "{e}");
        assert_eq!(fs::read(&path).unwrap(), b"{\"next_steps\": []}\n");
    }

    #[test]
    fn edits_under_the_lock_are_serialized_and_the_lock_lives_in_the_state_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = crate::store::snapshots::tests::paths(&tmp.path().join("store"));
        let project = tmp.path().join("p");
        fs::create_dir(&project).unwrap();
        let path = project.join(FILE_NAME);
        std::thread::scope(|s| {
            for i in 0..8 {
                let (paths, path, project) = (&paths, &path, &project);
                s.spawn(move || {
                    update(paths, path, project, |st| {
                        let mut steps = st.next_steps();
                        steps.push(format!("step {i}"));
                        st.set_strings("next_steps", &steps);
                        Ok(())
                    })
                    .unwrap();
                });
            }
        });
        let st = AgentState::load(&path, &project).unwrap();
        assert_eq!(st.next_steps().len(), 8, "{:?}", st.next_steps());
        let names: Vec<_> = fs::read_dir(&project).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "nothing beside the state file: {names:?}");
        assert_eq!(fs::read_dir(paths.state.join("locks")).unwrap().count(), 1);
    }
}
