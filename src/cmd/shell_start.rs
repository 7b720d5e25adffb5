//! `snap shell-start KIND ID PID`: called once by the hook when a shell starts. Creates
//! the shell's private directory and files, writes its meta, prints the directory.
//! With `--token` (journal format 2) it also makes the shell's record token and prints
//! it on the line before the directory; called again for a shell that has a meta (a
//! newer hook sourced over an older one), it gives that shell a token if it has none.

use crate::cli::ShellStartArgs;
use crate::model::{ShellMeta, TmuxRef, META_SCHEMA};
use crate::store::atomic::{touch_private, write_atomic_unsynced};
use crate::store::paths::{ensure_private_dir, is_safe_component, Paths};
use crate::{liveness, session, timefmt};
use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::PathBuf;

/// Set up the shell's directory and print it for the hook.
pub fn run(args: &ShellStartArgs) -> Result<()> {
    if !is_safe_component(&args.id) || args.id.len() > 128 {
        bail!("shell id {:?} is not a plain file name", args.id);
    }
    let paths = Paths::from_env()?;
    ensure_private_dir(&paths.data)?;
    ensure_private_dir(&paths.shells())?;
    let dir = paths.shell_dir(&args.id);
    let path = dir.join("meta");
    let existed = path.exists();
    // A shell started by restore or start is the answer, not the question (and a hook
    // sourced again has been told already).
    let notice = std::env::var_os("SNAP_RESTORE").is_none() && !existed;
    // Never waits: a busy (or not yet built) index is left to the next reader. Before
    // this shell's directory is made, so that the index need not list `shells/` again
    // for it (see `index::ingest`).
    let index = (notice && crate::store::index::db_path(&paths).exists())
        .then(|| crate::store::index::try_refresh(&paths))
        .flatten();
    ensure_private_dir(&dir)?;
    touch_private(&dir.join("journal"))?;
    touch_private(&dir.join(".umask"))?;

    let start_dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let project = session::project_dir(&start_dir);
    let tmux = tmux_ref(&paths);
    let name = session::session_name(
        tmux.as_ref().map(|t| t.session.as_str()),
        std::env::var("SNAP_SESSION").ok().as_deref(),
        &project,
    );
    let inherited = std::env::var("SNAP_SHELL_ID")
        .ok()
        .filter(|s| !s.is_empty());
    let same_pid = std::env::var("SNAP_SHELL_PID").ok() == Some(args.pid.to_string());
    let (parent, exec_from) = match inherited {
        Some(id) if id != args.id && same_pid => (None, Some(id)),
        Some(id) if id != args.id => (Some(id), None),
        _ => (None, None),
    };
    let started_us = timefmt::now_us();
    let meta = ShellMeta {
        schema: META_SCHEMA,
        id: args.id.clone(),
        kind: args.kind.as_str().to_string(),
        pid: args.pid,
        pid_started: liveness::start_time(args.pid),
        tty: tty_name(),
        started_at: timefmt::rfc3339_us(started_us),
        started_us: Some(started_us),
        session: name,
        start_dir: start_dir.to_string_lossy().into_owned(),
        project_dir: project.to_string_lossy().into_owned(),
        host: host_name(),
        tmux,
        parent,
        exec_from,
        replaces: std::env::var("SNAP_REPLACES")
            .ok()
            .filter(|s| !s.is_empty()),
        keep_env: std::env::var("SNAP_KEEP_ENV")
            .map(|v| {
                v.split(',')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        shell_version: args.version.clone(),
        token: None,
    };
    let token = if existed {
        existing_token(&path, args.token)?
    } else {
        let token = args.token.then(new_token).transpose()?;
        let meta = ShellMeta {
            token: token.clone(),
            ..meta
        };
        write_atomic_unsynced(&path, &serde_json::to_vec_pretty(&meta)?)?;
        token
    };
    if let Some(token) = token {
        println!("{token}");
    }
    println!("{}", dir.display());
    if notice {
        crate::notice::maybe_show(&paths, &args.id, index);
    }
    Ok(())
}

/// The token of a shell whose meta exists: its own, or (when `wanted` and it has none)
/// a new one written into the meta. A meta that cannot be read is left as it is.
fn existing_token(path: &std::path::Path, wanted: bool) -> Result<Option<String>> {
    if !wanted {
        return Ok(None);
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut meta: ShellMeta = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{} is not a shell meta file: left as it is (remove it to start over)",
            path.display()
        )
    })?;
    if let Some(t) = &meta.token {
        return Ok(Some(t.clone()));
    }
    let token = new_token()?;
    meta.token = Some(token.clone());
    write_atomic_unsynced(path, &serde_json::to_vec_pretty(&meta)?)?;
    Ok(Some(token))
}

/// A journal record token: 128 bits of the OS's randomness, as lowercase hex.
fn new_token() -> Result<String> {
    let mut buf = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .context("cannot read /dev/urandom for the journal token")?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Where this shell sits in tmux, when inside tmux.
fn tmux_ref(paths: &Paths) -> Option<TmuxRef> {
    let tmux = std::env::var("TMUX").ok().filter(|t| !t.is_empty())?;
    let pane_id = std::env::var("TMUX_PANE").ok().filter(|t| !t.is_empty())?;
    let socket = tmux.split(',').next().unwrap_or_default().to_string();
    let mut command = std::process::Command::new("tmux");
    command.args([
        "-S",
        &socket,
        "display-message",
        "-p",
        "-t",
        &pane_id,
        "#{session_name}",
    ]);
    // In the same call: the server notes panes killed from now on, before snap's first
    // capture of it, so that a pane killed before that stays closed after a crash.
    let notes = crate::store::tmux_closed::closed_file(&paths.state);
    let hook = ensure_private_dir(&paths.state)
        .ok()
        .and_then(|()| crate::capture::tmux::close_hook_args(&notes));
    if let Some(hook) = hook {
        command.arg(";").args(hook);
    }
    let out = command.stderr(std::process::Stdio::null()).output().ok()?;
    let session = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Some(TmuxRef {
        socket,
        session,
        pane_id,
    })
}

/// The terminal on standard input (the shell's), if any.
fn tty_name() -> Option<String> {
    std::fs::read_link("/proc/self/fd/0")
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| p.starts_with("/dev/"))
}

/// This machine's name.
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: buf is valid for its length; gethostname NUL-terminates on success.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_32_hex_digits_and_never_the_same() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }

    #[test]
    fn a_shell_with_a_meta_keeps_its_token_or_gets_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta");
        let meta = crate::store::shells::test_meta("a", 1, "2026-11-25T00:00:00Z", "s");
        std::fs::write(&path, serde_json::to_vec(&meta).unwrap()).unwrap();
        assert_eq!(existing_token(&path, false).unwrap(), None);
        let given = existing_token(&path, true).unwrap().expect("a token");
        assert_eq!(existing_token(&path, true).unwrap(), Some(given.clone()));
        let read: ShellMeta = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(read.token, Some(given));
        assert_eq!(read.id, "a");
        std::fs::write(&path, b"{broken").unwrap();
        assert!(existing_token(&path, true).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"{broken", "left as it is");
    }
}
