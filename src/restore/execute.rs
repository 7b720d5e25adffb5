//! Carry out a restore plan: the only part of restore that touches tmux or starts
//! processes. Commands are typed at the new shells' prompts once they are ready, so
//! they run as the user's own (job control, Ctrl-C, history), never behind their back.

use crate::restore::launch::{self, ShellSetup};
use crate::restore::plan::{Action, PanePlan, Plan, WindowPlan};
use crate::restore::tmux;
use crate::store::paths::Paths;
use crate::store::shells;
use anyhow::{Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What happened, for the brief.
#[derive(Debug, Default, Serialize)]
pub struct Outcome {
    /// Commands typed and run.
    pub relaunched: Vec<String>,
    /// Commands typed, waiting for Enter.
    pub held: Vec<String>,
    /// Commands left out, with why.
    pub left_out: Vec<String>,
    /// Background processes started (no tmux), with their log files.
    pub background: Vec<String>,
    /// Relaunches that failed.
    pub failed: Vec<String>,
}

/// How long a new shell may take to reach its first prompt.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// Rebuild the tmux session (or add the missing panes to the live one).
pub fn tmux_rebuild(paths: &Paths, plan: &Plan, banner: &str, into_live: bool) -> Result<Outcome> {
    let exe = std::env::current_exe().context("cannot find snap's own path")?;
    let mut outcome = Outcome::default();
    let mut typed: Vec<(String, &PanePlan)> = Vec::new();
    let mut session_exists = into_live;
    let mut active_window = None;
    for (wi, window) in plan.windows.iter().enumerate() {
        let mut window_id = String::new();
        let mut active_pane = None;
        for (pi, pane) in window.panes.iter().enumerate() {
            let first_banner = if wi == 0 && pi == 0 && !into_live {
                banner
            } else {
                ""
            };
            let command =
                pane_command(paths, plan, pane, &format!("{wi}-{pi}"), first_banner, &exe)?;
            // Where the pane goes; every case then runs the shell in its cwd and prints
            // the new window and pane ids.
            let (w, h) = layout_size(window);
            let target = format!("={}:", plan.session);
            let mut args: Vec<&str> = if !session_exists {
                session_exists = true;
                vec![
                    "new-session",
                    "-d",
                    "-s",
                    &plan.session,
                    "-n",
                    &window.name,
                    "-x",
                    &w,
                    "-y",
                    &h,
                ]
            } else if pi == 0 {
                vec!["new-window", "-d", "-t", &target, "-n", &window.name]
            } else {
                vec!["split-window", "-d", "-t", &window_id]
            };
            args.extend([
                "-c",
                &pane.cwd,
                "-P",
                "-F",
                "#{window_id} #{pane_id}",
                &command,
            ]);
            let ids = tmux::run(&args)?;
            let mut it = ids.split_whitespace();
            window_id = it.next().unwrap_or_default().to_string();
            let pane_id = it.next().unwrap_or_default().to_string();
            if pane.active {
                active_pane = Some(pane_id.clone());
            }
            typed.push((pane_id, pane));
        }
        if let Some(layout) = &window.layout {
            // A layout from another tmux version or size may be refused: keep going.
            let _ = tmux::run(&["select-layout", "-t", &window_id, layout]);
        } else if window.panes.len() > 1 {
            let _ = tmux::run(&["select-layout", "-t", &window_id, "tiled"]);
        }
        if let Some(p) = active_pane {
            let _ = tmux::run(&["select-pane", "-t", &p]);
        }
        if window.active {
            active_window = Some(window_id.clone());
        }
    }
    if let Some(w) = active_window.filter(|_| !into_live) {
        let _ = tmux::run(&["select-window", "-t", &w]);
    }
    for (pane_id, pane) in typed {
        type_command(paths, &pane_id, pane, &mut outcome);
    }
    Ok(outcome)
}

/// The tmux command line for one pane: its setup script and a hooked shell.
fn pane_command(
    paths: &Paths,
    plan: &Plan,
    pane: &PanePlan,
    slot: &str,
    banner: &str,
    exe: &Path,
) -> Result<String> {
    let mut text = String::new();
    if let Some(screen) = &pane.screen {
        let trimmed = screen.trim_end();
        if !trimmed.is_empty() {
            text.push_str(trimmed);
            text.push('\n');
        }
    }
    if !banner.is_empty() {
        text.push_str(banner.trim_end());
    }
    let setup = ShellSetup {
        kind: pane.kind.clone(),
        cwd: pane.cwd.clone(),
        env: pane.env.clone(),
        history: pane.history.clone(),
        banner: text,
        replaces: Some(pane.replaces.clone()),
        session: None,
        keep_env: Vec::new(),
    };
    let token = launch::token(&plan.session, slot);
    let vars = launch::prepare(paths, &setup, &token)?;
    Ok(launch::with_env(
        &vars,
        &launch::shell_command(paths, &pane.kind, exe)?,
    ))
}

/// The window size a layout string was made for (`csum,WxH,…`), else 200x50.
fn layout_size(window: &WindowPlan) -> (String, String) {
    window
        .layout
        .as_deref()
        .and_then(|l| l.split(',').nth(1))
        .and_then(|wh| wh.split_once('x'))
        .filter(|(w, h)| w.parse::<u32>().is_ok() && h.parse::<u32>().is_ok())
        .map(|(w, h)| (w.to_string(), h.to_string()))
        .unwrap_or_else(|| ("200".into(), "50".into()))
}

/// Type a pane's command at its prompt once its shell is ready (Enter by policy).
fn type_command(paths: &Paths, pane_id: &str, pane: &PanePlan, outcome: &mut Outcome) {
    let Some(r) = &pane.relaunch else { return };
    match r.action {
        Action::Skip => {
            outcome.left_out.push(format!(
                "{} ({})",
                r.original,
                r.reason.as_deref().unwrap_or("left out")
            ));
            return;
        }
        Action::Run | Action::Type => {}
    }
    if !wait_ready(paths, pane_id) {
        outcome
            .failed
            .push(format!("{}: its shell did not reach a prompt", r.line));
        return;
    }
    let typed = tmux::run(&["send-keys", "-t", pane_id, "-l", &r.line]);
    let entered = match (typed, r.action) {
        (Ok(_), Action::Run) => tmux::run(&["send-keys", "-t", pane_id, "Enter"]).map(|_| ()),
        (Ok(_), _) => Ok(()),
        (Err(e), _) => Err(e),
    };
    match (entered, r.action) {
        (Err(e), _) => outcome.failed.push(format!("{}: {e:#}", r.line)),
        (Ok(()), Action::Run) => outcome.relaunched.push(r.line.clone()),
        (Ok(()), _) => outcome.held.push(r.line.clone()),
    }
}

/// Has the shell in this pane reached its first prompt (its hook wrote the baseline)?
fn wait_ready(paths: &Paths, pane_id: &str) -> bool {
    let deadline = Instant::now() + READY_TIMEOUT;
    let pid: Option<u32> = tmux::run(&["display-message", "-p", "-t", pane_id, "#{pane_pid}"])
        .ok()
        .and_then(|s| s.trim().parse().ok());
    let Some(pid) = pid else { return false };
    // First its directory (once the hook has called shell-start), then its journal.
    let mut dir = None;
    while Instant::now() < deadline {
        dir = dir.or_else(|| shell_dir_of(paths, pid));
        if dir.as_deref().is_some_and(has_baseline) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The directory of the newest shell with this pid (an older one may have had it too).
fn shell_dir_of(paths: &Paths, pid: u32) -> Option<PathBuf> {
    std::fs::read_dir(paths.shells())
        .ok()?
        .flatten()
        .filter_map(|e| {
            let dir = e.path();
            shells::read_meta_quiet(&dir)
                .filter(|m| m.pid == pid)
                .map(|m| (m.started_at, dir))
        })
        .max()
        .map(|(_, dir)| dir)
}

/// Has the shell written its first environment record (at its first prompt)?
fn has_baseline(dir: &Path) -> bool {
    shells::has_baseline(dir)
}

/// Without tmux: start the `auto` commands in the background with their output in log
/// files under the state dir; returns what was started.
pub fn plain_background(paths: &Paths, plan: &Plan) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    let logs = paths.state.join("logs");
    crate::store::paths::ensure_private_dir(&paths.state)?;
    crate::store::paths::ensure_private_dir(&logs)?;
    let panes = plan.windows.iter().flat_map(|w| &w.panes).enumerate();
    for (i, pane) in panes {
        let Some(r) = &pane.relaunch else { continue };
        if r.action != Action::Run {
            let what = if r.action == Action::Type {
                "held"
            } else {
                "left out"
            };
            outcome.left_out.push(format!(
                "{} ({what}: {})",
                r.original,
                r.reason.as_deref().unwrap_or("waits for you to run it")
            ));
            if r.action == Action::Type {
                outcome.held.push(r.line.clone());
            }
            continue;
        }
        let log = logs.join(format!(
            "{}.log",
            launch::token(&plan.session, &i.to_string())
        ));
        match spawn_logged(&pane.kind, &r.line, &pane.cwd, pane, &log) {
            Ok(pid) => {
                outcome
                    .background
                    .push(format!("{} (pid {pid}, log {})", r.line, log.display()))
            }
            Err(e) => outcome.failed.push(format!("{}: {e:#}", r.line)),
        }
    }
    Ok(outcome)
}

fn spawn_logged(kind: &str, line: &str, cwd: &str, pane: &PanePlan, log: &PathBuf) -> Result<u32> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::process::CommandExt;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(log)
        .with_context(|| format!("cannot open {}", log.display()))?;
    let shell = if kind == "fish" { "fish" } else { kind };
    let child = std::process::Command::new(shell)
        .args(["-c", line])
        .current_dir(cwd)
        .envs(&pane.env)
        .stdin(std::process::Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .process_group(0)
        .spawn()
        .with_context(|| format!("cannot start {shell}"))?;
    Ok(child.id())
}

/// Without tmux: replace snap with an interactive shell in the first shell's cwd, env and
/// history. Returns only on failure.
pub fn plain_shell(paths: &Paths, plan: &Plan, banner: &str) -> Result<()> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().context("cannot find snap's own path")?;
    let pane = plan
        .windows
        .iter()
        .flat_map(|w| &w.panes)
        .next()
        .context("nothing to restore")?;
    let setup = ShellSetup {
        kind: pane.kind.clone(),
        cwd: pane.cwd.clone(),
        env: pane.env.clone(),
        history: pane.history.clone(),
        banner: banner.to_string(),
        replaces: Some(pane.replaces.clone()),
        session: Some(plan.session.clone()),
        keep_env: Vec::new(),
    };
    let vars = launch::prepare(paths, &setup, &launch::token(&plan.session, "plain"))?;
    let command = launch::shell_command(paths, &pane.kind, &exe)?;
    let err = std::process::Command::new("sh")
        .args(["-c", &format!("exec {command}")])
        .envs(vars)
        .current_dir(&pane.cwd)
        .exec();
    Err(err).context("cannot start an interactive shell")
}
