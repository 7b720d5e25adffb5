//! `snap shell-start KIND ID PID`: called once by the hook when a shell starts. Creates
//! the shell's private directory and files, writes its meta, prints the directory.

use crate::cli::ShellStartArgs;
use crate::model::{ShellMeta, TmuxRef, META_SCHEMA};
use crate::store::atomic::{touch_private, write_atomic_unsynced};
use crate::store::paths::{ensure_private_dir, is_safe_component, Paths};
use crate::{liveness, session, timefmt};
use anyhow::{bail, Result};
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
    ensure_private_dir(&dir)?;
    touch_private(&dir.join("journal"))?;
    touch_private(&dir.join(".umask"))?;

    let start_dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let project = session::project_dir(&start_dir);
    let tmux = tmux_ref();
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
    let meta = ShellMeta {
        schema: META_SCHEMA,
        id: args.id.clone(),
        kind: args.kind.as_str().to_string(),
        pid: args.pid,
        pid_started: liveness::start_time(args.pid),
        tty: tty_name(),
        started_at: timefmt::now_rfc3339(),
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
    };
    let path = dir.join("meta");
    if !path.exists() {
        write_atomic_unsynced(&path, &serde_json::to_vec_pretty(&meta)?)?;
    }
    println!("{}", dir.display());
    // A shell started by restore or start is the answer, not the question.
    if std::env::var_os("SNAP_RESTORE").is_none() {
        // Never waits: a busy (or not yet built) index is left to the next reader.
        if crate::store::index::db_path(&paths).exists() {
            crate::store::index::refresh(&paths, crate::store::index::Wait::Never);
        }
        crate::notice::maybe_show(&paths, &args.id);
    }
    Ok(())
}

/// Where this shell sits in tmux, when inside tmux.
fn tmux_ref() -> Option<TmuxRef> {
    let tmux = std::env::var("TMUX").ok().filter(|t| !t.is_empty())?;
    let pane_id = std::env::var("TMUX_PANE").ok().filter(|t| !t.is_empty())?;
    let socket = tmux.split(',').next().unwrap_or_default().to_string();
    let out = std::process::Command::new("tmux")
        .args([
            "-S",
            &socket,
            "display-message",
            "-p",
            "-t",
            &pane_id,
            "#{session_name}",
        ])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
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
