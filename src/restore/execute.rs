//! Carry out a restore plan: the only part of restore that touches tmux or starts
//! processes. A command to relaunch is put in its new shell's edit buffer (see
//! `launch`), never typed as keys: a held one waits there for Enter; an `auto` one is
//! entered by restore, so it runs as the user's own (job control, Ctrl-C, history).

use crate::model::ShellKind;
use crate::redact::PLACEHOLDER;
use crate::restore::launch::{self, Held, ShellSetup};
use crate::restore::plan::{Action, PanePlan, Plan, Relaunch, WindowPlan};
use crate::restore::tmux;
use crate::store::paths::Paths;
use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::HashMap;
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
    /// The panes made, for the snapshot restore takes once their shells are up.
    #[serde(skip)]
    pub made: Vec<MadePane>,
}

/// One pane restore made, and what it gave the pane's new shell.
#[derive(Debug, Clone)]
pub struct MadePane {
    /// The new tmux pane id.
    pub pane_id: String,
    /// The setup script the shell removes once it has read it.
    pub script: PathBuf,
    /// The saved screen the pane shows.
    pub screen: Option<String>,
    /// The command put in its edit buffer (and entered for an `auto` one).
    pub pending: Option<String>,
}

/// How long a new shell may take to reach its first prompt.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// How long a shell that has read its script may take to draw its prompt.
const PROMPT_WAIT: Duration = Duration::from_secs(2);

/// Rebuild the tmux session (or add the missing panes to the live one).
pub fn tmux_rebuild(paths: &Paths, plan: &Plan, banner: &str, into_live: bool) -> Result<Outcome> {
    let exe = std::env::current_exe().context("cannot find snap's own path")?;
    let mut outcome = Outcome::default();
    let mut typed: Vec<(String, PathBuf, &PanePlan)> = Vec::new();
    let mut session_exists = into_live;
    let mut active_window = None;
    // Captured pane id → the pane made for it (panes rejoining a live window).
    let mut made_for: HashMap<String, String> = HashMap::new();
    for (wi, window) in plan.windows.iter().enumerate() {
        let mut window_id = String::new();
        let mut previous = String::new();
        let mut active_pane = None;
        for (pi, pane) in window.panes.iter().enumerate() {
            let first_banner = if wi == 0 && pi == 0 && !into_live {
                banner
            } else {
                ""
            };
            let (command, script) =
                pane_command(paths, plan, pane, &format!("{wi}-{pi}"), first_banner, &exe)?;
            // Where the pane goes; every case then runs the shell in its cwd and prints
            // the new window and pane ids.
            let (w, h) = layout_size(window);
            let target = format!("={}:", plan.session);
            let beside = pane.rejoin.as_ref().map(|r| {
                let id = made_for.get(&r.beside).unwrap_or(&r.beside);
                (id.clone(), r.before)
            });
            let mut args: Vec<&str> = if let Some((id, before)) = &beside {
                let mut a = vec!["split-window", "-d", "-t", id];
                if *before {
                    a.push("-b");
                }
                a
            } else if !session_exists {
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
                // After the pane made before it, so the panes keep their order.
                vec!["split-window", "-d", "-t", &previous]
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
            if pane.active && !into_live {
                active_pane = Some(pane_id.clone());
            }
            if let Some(r) = &pane.rejoin {
                made_for.insert(r.pane.clone(), pane_id.clone());
            } else if pi > 0 {
                // Room for the next split, whatever the number of panes; the window's
                // own layout is applied once all are there.
                let _ = tmux::run(&["select-layout", "-t", &window_id, "tiled"]);
            }
            outcome.made.push(MadePane {
                pane_id: pane_id.clone(),
                script: script.clone(),
                screen: pane.screen.clone(),
                pending: pane.relaunch.as_ref().and_then(held_text),
            });
            previous = pane_id.clone();
            typed.push((pane_id, script, pane));
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
    for (pane_id, script, pane) in typed {
        enter_command(&pane_id, &script, pane, &mut outcome);
    }
    Ok(outcome)
}

/// The tmux command line for one pane (a hooked shell) and its setup script's path.
fn pane_command(
    paths: &Paths,
    plan: &Plan,
    pane: &PanePlan,
    slot: &str,
    banner: &str,
    exe: &Path,
) -> Result<(String, PathBuf)> {
    let mut text = String::new();
    if let Some(screen) = &pane.screen {
        let screen = crate::text::screen(screen);
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
        kind: pane.kind,
        cwd: pane.cwd.clone(),
        env: pane.env.clone(),
        history: pane.history.clone(),
        banner: text,
        held: buffer_lines(pane)
            .into_iter()
            .map(|r| Held {
                text: r.line.clone(),
                entered: r.action == Action::Run,
            })
            .collect(),
        replaces: Some(pane.replaces.clone()),
        session: None,
        keep_env: Vec::new(),
    };
    let token = launch::token(&plan.session, slot);
    let (vars, script) = launch::prepare(paths, &setup, &token)?;
    let command = launch::with_env(&vars, &launch::shell_command(paths, pane.kind, exe)?);
    Ok((command, script))
}

/// The text a relaunch puts in the edit buffer: the real command line, never one known
/// only redacted. `None` when it is left out.
fn held_text(r: &Relaunch) -> Option<String> {
    let text = &r.line;
    let wanted = matches!(r.action, Action::Run | Action::Type);
    (wanted && !text.is_empty() && !text.contains(PLACEHOLDER)).then(|| text.clone())
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

/// The lines a pane's edit buffer gets, in order, each at its own prompt: its jobs
/// (restore enters each), then its own line; each one's text is `held_text`'s.
fn buffer_lines(pane: &PanePlan) -> Vec<&Relaunch> {
    let own = pane.relaunch.iter().filter(|r| held_text(r).is_some());
    pane.jobs
        .iter()
        .filter(|r| held_text(r).is_some())
        .chain(own)
        .collect()
}

/// Once a pane's shell has read its script: for each of its lines, give bash and fish
/// (and zsh after its first line) the key that puts it in the edit buffer, and press
/// Enter for one to run; a line after one entered waits for the prompt it gives back.
fn enter_command(pane_id: &str, script: &Path, pane: &PanePlan, outcome: &mut Outcome) {
    if let Some(r) = pane.relaunch.as_ref().filter(|r| held_text(r).is_none()) {
        outcome.left_out.push(format!(
            "{} ({})",
            r.original,
            r.reason.as_deref().unwrap_or("left out")
        ));
    }
    let mut entered_at = None;
    for (k, r) in buffer_lines(pane).into_iter().enumerate() {
        let run = r.action == Action::Run;
        let key = launch::needs_held_key(pane.kind, k);
        let ready = match entered_at {
            Some(row) => wait_next_prompt(pane_id, row),
            None => !(run || key) || wait_ready(pane_id, script),
        };
        if !ready {
            outcome
                .failed
                .push(format!("{}: its shell did not reach a prompt", r.shown));
            return;
        }
        let mut sent = Ok(String::new());
        if key {
            let mut args = vec!["send-keys", "-t", pane_id, "-H"];
            args.extend(launch::HELD_KEY);
            sent = tmux::run(&args);
        }
        if run {
            // (Not found: any row counts as later, the editor's mode still waited for.)
            entered_at = Some(cursor(pane_id).map_or(0, |c| c.row));
            sent = sent.and_then(|_| tmux::run(&["send-keys", "-t", pane_id, "Enter"]));
        }
        match (sent, run) {
            (Err(e), _) => {
                outcome.failed.push(format!("{}: {e:#}", r.shown));
                return;
            }
            (Ok(_), true) => outcome.relaunched.push(r.shown.clone()),
            (Ok(_), false) => outcome.held.push(r.shown.clone()),
        }
    }
}

/// Where a pane's cursor is, and its terminal.
struct Cursor {
    /// Its row counted from the top of the scrollback, so it grows as lines scroll off.
    row: u64,
    column: u64,
    tty: PathBuf,
}

fn cursor(pane_id: &str) -> Option<Cursor> {
    let f = "#{history_size} #{cursor_y} #{cursor_x} #{pane_tty}";
    let out = tmux::run(&["display-message", "-p", "-t", pane_id, f]).ok()?;
    let mut it = out.trim_end_matches('\n').splitn(4, ' ');
    let mut num = || it.next()?.parse::<u64>().ok();
    let (history, y, x) = (num()?, num()?, num()?);
    Some(Cursor {
        row: history + y,
        column: x,
        tty: PathBuf::from(it.next()?),
    })
}

/// Has the shell taken the line entered with its cursor on `row`, and is its line
/// editor reading again? The cursor is on a later row, the terminal in the editor's
/// mode, twice in a row (a fast command may go by between two looks), and the prompt
/// drawn (the cursor off the first column; an empty prompt is waited for a moment).
fn wait_next_prompt(pane_id: &str, row: u64) -> bool {
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut seen = 0;
    let mut first_column_since = None;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        let Some(c) = cursor(pane_id) else {
            return false;
        };
        if c.row <= row || !super::terminal::line_editor_reading(&c.tty) {
            seen = 0;
            continue;
        }
        seen += 1;
        let drawn = c.column != 0
            || first_column_since
                .get_or_insert_with(Instant::now)
                .elapsed()
                > PROMPT_WAIT;
        if seen >= 2 && drawn {
            return true;
        }
    }
    false
}

/// Has the shell in this pane read its script (which removes itself) and drawn its
/// prompt? The prompt moves the cursor off the first column, where the banner left it;
/// a prompt that does not (an empty one) is waited for a moment only. Keys sent before
/// the line editor reads would still reach it, but the terminal would echo them.
fn wait_ready(pane_id: &str, script: &Path) -> bool {
    let deadline = Instant::now() + READY_TIMEOUT;
    while script.exists() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let prompt_deadline = Instant::now() + PROMPT_WAIT;
    while Instant::now() < prompt_deadline {
        let x = tmux::run(&["display-message", "-p", "-t", pane_id, "#{cursor_x}"]);
        if x.map_or(true, |x| x.trim() != "0") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Wait until every new shell has read its setup script (and so recorded its start);
/// returns how many did not in time.
pub fn wait_shells_up(made: &[MadePane]) -> usize {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let late = made.iter().filter(|m| m.script.exists()).count();
        if late == 0 || Instant::now() > deadline {
            return late;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
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
        for (j, r) in pane.jobs.iter().chain(&pane.relaunch).enumerate() {
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
                    outcome.held.push(r.shown.clone());
                }
                continue;
            }
            let log = logs.join(format!(
                "{}.log",
                launch::token(&plan.session, &format!("{i}-{j}"))
            ));
            match spawn_logged(pane.kind, &r.line, &pane.cwd, pane, &log) {
                Ok(pid) => outcome.background.push(format!(
                    "{} (pid {pid}, log {})",
                    r.shown,
                    log.display()
                )),
                Err(e) => outcome.failed.push(format!("{}: {e:#}", r.shown)),
            }
        }
    }
    Ok(outcome)
}

fn spawn_logged(
    kind: ShellKind,
    line: &str,
    cwd: &str,
    pane: &PanePlan,
    log: &PathBuf,
) -> Result<u32> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::process::CommandExt;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(log)
        .with_context(|| format!("cannot open {}", log.display()))?;
    let shell = kind.as_str();
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
        kind: pane.kind,
        cwd: pane.cwd.clone(),
        env: pane.env.clone(),
        history: pane.history.clone(),
        banner: banner.to_string(),
        held: Vec::new(),
        replaces: Some(pane.replaces.clone()),
        session: Some(plan.session.clone()),
        keep_env: Vec::new(),
    };
    let (vars, _) = launch::prepare(paths, &setup, &launch::token(&plan.session, "plain"))?;
    let command = launch::shell_command(paths, pane.kind, &exe)?;
    let err = std::process::Command::new("sh")
        .args(["-c", &format!("exec {command}")])
        .envs(vars)
        .current_dir(&pane.cwd)
        .exec();
    Err(err).context("cannot start an interactive shell")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Policy;

    fn relaunch(line: &str, action: Action) -> Relaunch {
        Relaunch {
            line: line.into(),
            shown: line.into(),
            original: line.into(),
            policy: Policy::Hold,
            action,
            reason: None,
        }
    }

    #[test]
    fn only_a_command_to_run_or_hold_with_its_real_text_reaches_the_edit_buffer() {
        let text = "make\nmake test";
        assert_eq!(
            held_text(&relaunch(text, Action::Type)).as_deref(),
            Some(text)
        );
        assert_eq!(
            held_text(&relaunch(text, Action::Run)).as_deref(),
            Some(text)
        );
        assert_eq!(held_text(&relaunch(text, Action::Skip)), None);
        let redacted = format!("deploy --token {PLACEHOLDER}");
        assert_eq!(held_text(&relaunch(&redacted, Action::Type)), None);
        assert_eq!(held_text(&relaunch("", Action::Run)), None);
    }
}
