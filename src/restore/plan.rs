//! The restore plan: a pure function from (snapshot, journals, what is alive now,
//! policy, options) to what restore will do. `--dry-run` prints it; only `execute`
//! touches tmux or starts processes.

use crate::model::snapshot::{ProcessSnap, ShellSnap, Snapshot};
use crate::model::{Ended, Policy, ShellKind};
use crate::policy::Rules;
use crate::redact::{Redactor, PLACEHOLDER};
use crate::store::shells::ShellState;
use crate::store::summaries::Summary;
use crate::store::tmux_closed::ClosedNote;
use crate::timefmt;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// How restore will proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The tmux session is alive: attach to it.
    Attach,
    /// Rebuild the tmux session.
    Rebuild,
    /// No tmux: background processes and one interactive shell.
    Plain,
}

/// What happens to a command that was running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Typed and run.
    Run,
    /// Typed at the prompt, waiting for Enter.
    Type,
    /// Left out (policy `never`, redacted, or still running).
    Skip,
}

/// A command to bring back in a pane.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Relaunch {
    /// The line typed at the new prompt, real text (never printed: see `shown`).
    #[serde(skip)]
    pub line: String,
    /// `line` redacted, as shown (`line` in JSON).
    #[serde(rename = "line")]
    pub shown: String,
    /// The line as it was running, redacted (differs for agent CLIs, resumed instead).
    pub original: String,
    pub policy: Policy,
    pub action: Action,
    /// Set whenever the action is not `run` or the policy not `auto`: the part of the
    /// line (or the process) that decided.
    pub reason: Option<String>,
}

/// How commands are judged: the lists, the resolver, the redactor.
pub struct Judging<'a> {
    pub rules: &'a Rules,
    /// Is this name (or path) an executable for a shell with this PATH (none recorded:
    /// `None`) in this directory? The caller looks on disk; tests answer from a list.
    pub executable: &'a dyn Fn(&str, Option<&str>, &str) -> bool,
    pub redactor: &'a Redactor,
}

/// One pane of the rebuilt session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PanePlan {
    /// The shell this pane replaces.
    pub replaces: String,
    pub kind: ShellKind,
    pub cwd: String,
    /// Set when the recorded cwd is gone and a parent is used.
    pub cwd_note: Option<String>,
    pub env: BTreeMap<String, String>,
    /// Commands for the shell's native history, oldest first: (start µs, text).
    #[serde(skip)]
    pub history: Vec<(i64, String)>,
    pub history_len: usize,
    pub screen: Option<String>,
    pub active: bool,
    /// Jobs that gave the prompt back as they started (`(cd sub && cmd &)`), each `run`:
    /// restore enters them in this pane, in order, before its own line.
    pub jobs: Vec<Relaunch>,
    pub relaunch: Option<Relaunch>,
    /// Attach mode (`--missing`): the live pane this one goes back beside, in its window.
    pub rejoin: Option<Rejoin>,
}

/// Where a missing pane goes back into the live window it left.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejoin {
    /// Its own tmux pane id as captured.
    pub pane: String,
    /// The captured pane id of the pane it goes beside: a live pane, or one restored
    /// before it in this plan.
    pub beside: String,
    /// It goes before `beside` (it was the window's first pane), else after.
    pub before: bool,
}

/// One window of the rebuilt session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowPlan {
    pub name: String,
    /// tmux's layout string, applied when the window has all its panes back.
    pub layout: Option<String>,
    pub active: bool,
    pub panes: Vec<PanePlan>,
}

/// A shell that does not come back, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Left {
    pub shell: String,
    pub reason: String,
}

/// A background job that does not come back, and why: it gets no window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobLeft {
    /// The shell it ran under.
    pub shell: String,
    pub relaunch: Relaunch,
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub session: String,
    pub snapshot: String,
    pub taken_at: String,
    pub mode: Mode,
    pub windows: Vec<WindowPlan>,
    /// Shells not coming back.
    pub left: Vec<Left>,
    /// Background jobs not started again.
    pub jobs_left: Vec<JobLeft>,
    /// Attach mode: shells of the live session that died while it lived.
    pub missing: Vec<String>,
    /// Variables known only redacted: to re-export by hand.
    pub reexport: Vec<String>,
    pub notes: Vec<String>,
}

/// What is alive now, and what exists on disk (gathered by the caller).
#[derive(Debug, Default)]
pub struct World {
    /// The tmux session of this name is running.
    pub tmux_session_alive: bool,
    /// tmux can be used.
    pub tmux_available: bool,
    /// Processes running now: (pid, argv, cwd).
    pub processes: Vec<(u32, Vec<String>, Option<String>)>,
    /// Existing directories among the ones asked about.
    pub existing_dirs: HashSet<String>,
    /// Coding agents' resume lines known for this session (`claude` → `claude --resume ID`).
    pub agent_resume: HashMap<String, String>,
    /// What tmux noted of panes closed while their server ran.
    pub closed_panes: Vec<ClosedNote>,
}

/// Options from the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub yes: bool,
    pub missing: bool,
    pub no_tmux: bool,
}

/// Every session that can be restored (it had live shells in a snapshot, as its
/// summary says), with its latest activity (µs; `last_seen` says when each session's
/// shells were last seen), most recent first.
pub fn restorable<'a>(
    snapshots: impl IntoIterator<Item = &'a Summary>,
    last_seen: &BTreeMap<String, i64>,
) -> Vec<(String, i64)> {
    let mut seen: HashMap<String, i64> = HashMap::new();
    for snap in snapshots {
        for (name, _) in snap.sessions.iter().filter(|(_, alive)| *alive) {
            let e = seen.entry(name.clone()).or_default();
            *e = (*e).max(snap.taken_us);
        }
    }
    for (session, &t) in last_seen {
        if let Some(e) = seen.get_mut(session) {
            *e = (*e).max(t);
        }
    }
    let mut out: Vec<(String, i64)> = seen.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// A shell as restore sees it: the snapshot's view brought up to date from its journal.
struct Candidate<'a> {
    snap: Option<&'a ShellSnap>,
    journal: Option<&'a ShellState>,
    id: String,
    kind: ShellKind,
    started_us: i64,
    /// The history of the shells it replaced, generation after generation, oldest first.
    before: Vec<(i64, String)>,
}

impl Candidate<'_> {
    fn ended(&self) -> Option<Ended> {
        if let Some(j) = self.journal {
            return j.ended;
        }
        self.snap.and_then(|s| s.ended)
    }

    /// The shell it replaces, when a restore made it.
    fn replaces(&self) -> Option<&str> {
        self.journal
            .and_then(|j| j.meta.replaces.as_deref())
            .or_else(|| self.snap.and_then(|s| s.replaces.as_deref()))
    }

    fn cwd(&self) -> String {
        match (self.journal, self.snap) {
            (Some(j), _) => j.cwd.clone(),
            (None, Some(s)) => s.cwd.clone(),
            _ => "/".into(),
        }
    }

    /// Values from the journal where it has them (real, local), else the snapshot's.
    fn env(&self) -> BTreeMap<String, String> {
        match (self.journal, self.snap) {
            (Some(j), _) => j.env_changed(),
            (None, Some(s)) => s.env.clone(),
            _ => BTreeMap::new(),
        }
    }

    /// The PATH the shell had, when recorded.
    fn path(&self) -> Option<&str> {
        match (self.journal, self.snap) {
            (Some(j), _) => j.env_now.get("PATH").map(String::as_str),
            (None, Some(s)) => s.env.get("PATH").map(String::as_str),
            _ => None,
        }
    }

    fn running(&self) -> Option<String> {
        let pending = || self.snap.and_then(|s| s.pending.clone());
        match (self.journal, self.snap) {
            (Some(j), _) if j.commands.is_empty() && j.ended != Some(Ended::Exit) => pending(),
            (Some(j), _) => j.running().map(|c| c.text.clone()),
            (None, Some(s)) => s.running.clone().or_else(pending),
            _ => None,
        }
    }

    /// Its lineage's history then its own, oldest first.
    fn history(&self) -> Vec<(i64, String)> {
        let mut out = self.before.clone();
        out.extend(self.own_history());
        out
    }

    fn own_history(&self) -> Vec<(i64, String)> {
        match (self.journal, self.snap) {
            (Some(j), _) => j
                .commands
                .iter()
                .map(|c| (c.started_us, c.text.clone()))
                .collect(),
            (None, Some(s)) => s
                .history
                .iter()
                .map(|r| {
                    (
                        timefmt::parse_us(&r.started_at).unwrap_or(0),
                        r.command.clone(),
                    )
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn tmux_session(&self) -> Option<(String, String)> {
        if let Some(t) = self.snap.and_then(|s| s.tmux.as_ref()) {
            return Some((t.socket.clone(), t.session.clone()));
        }
        self.journal
            .and_then(|j| j.meta.tmux.as_ref())
            .map(|t| (t.socket.clone(), t.session.clone()))
    }
}

/// Build the plan (pure).
pub fn plan(
    snapshot: &Snapshot,
    session: &str,
    journals: &[ShellState],
    world: &World,
    judging: &Judging,
    opts: Options,
) -> Plan {
    let taken_us = timefmt::parse_us(&snapshot.taken_at).unwrap_or(0);
    let by_id: HashMap<&str, &ShellState> =
        journals.iter().map(|j| (j.meta.id.as_str(), j)).collect();
    let replaced: HashSet<&str> = journals
        .iter()
        .filter_map(|j| j.meta.replaces.as_deref())
        .chain(
            snapshot
                .sessions
                .iter()
                .flat_map(|s| &s.shells)
                .filter_map(|s| s.replaces.as_deref()),
        )
        .collect();

    let snap_session = snapshot.sessions.iter().find(|s| s.name == session);
    let mut candidates: Vec<Candidate> = Vec::new();
    // Shells that stay closed, with when they started and why.
    let mut closed: Vec<(i64, Left)> = Vec::new();
    for sh in snap_session.into_iter().flat_map(|s| &s.shells) {
        if !sh.alive && replaced.contains(sh.id.as_str()) {
            // An earlier generation, brought back already: not this one's to report.
            continue;
        }
        let journal = by_id.get(sh.id.as_str()).copied();
        if !sh.alive {
            let how = sh.ended.map_or("vanished", Ended::as_str);
            let left = Left {
                shell: sh.id.clone(),
                reason: format!("ended ({how}) before this snapshot"),
            };
            closed.push((started_us(sh, journal), left));
            continue;
        }
        candidates.push(Candidate {
            snap: Some(sh),
            journal,
            id: sh.id.clone(),
            kind: sh.shell(),
            started_us: started_us(sh, journal),
            before: lineage_history(
                journal
                    .and_then(|j| j.meta.replaces.as_deref())
                    .or(sh.replaces.as_deref()),
                &by_id,
                snapshot,
            ),
        });
    }
    let in_snap: HashSet<String> = candidates.iter().map(|c| c.id.clone()).collect();
    for j in journals {
        let started = timefmt::parse_us(&j.meta.started_at).unwrap_or(0);
        if j.meta.session == session && started > taken_us && !in_snap.contains(&j.meta.id) {
            candidates.push(Candidate {
                snap: None,
                journal: Some(j),
                id: j.meta.id.clone(),
                kind: j.meta.shell(),
                started_us: j.meta.started_us.unwrap_or(started),
                before: lineage_history(j.meta.replaces.as_deref(), &by_id, snapshot),
            });
        }
    }

    let mode = if opts.no_tmux || !world.tmux_available {
        Mode::Plain
    } else if world.tmux_session_alive {
        Mode::Attach
    } else {
        Mode::Rebuild
    };
    let mut back: Vec<&Candidate> = Vec::new();
    let mut left = Vec::new();
    for c in candidates
        .iter()
        .filter(|c| !replaced.contains(c.id.as_str()))
    {
        let reason = if let Some(e @ (Ended::Exit | Ended::Exec)) = c.ended() {
            Some(format!("ended with {}", e.as_str()))
        } else if mode != Mode::Attach && closed_by_tmux(c, world) {
            Some("its tmux pane was closed while the server ran".to_string())
        } else if c.journal.is_some_and(|j| j.alive) && !dying_with_its_tmux(c, session, world) {
            // Alive now: whatever its generation, not one that went away.
            left.push(Left {
                shell: c.id.clone(),
                reason: "still running".to_string(),
            });
            continue;
        } else {
            None
        };
        match reason {
            Some(reason) => closed.push((
                c.started_us,
                Left {
                    shell: c.id.clone(),
                    reason,
                },
            )),
            None => back.push(c),
        }
    }
    // Only this generation's shells are reported: those started since the restore that
    // made the oldest restored shell of the ones that went away (shells older than that
    // were reported by the restores before).
    let generation = candidates
        .iter()
        .filter(|c| !replaced.contains(c.id.as_str()) && c.replaces().is_some())
        .map(|c| c.started_us)
        .min();
    left.extend(
        closed
            .into_iter()
            .filter(|(started, _)| generation.is_none_or(|g| *started >= g))
            .map(|(_, l)| l),
    );

    let mut plan = Plan {
        session: session.to_string(),
        snapshot: snapshot.id.clone(),
        taken_at: snapshot.taken_at.clone(),
        mode,
        windows: Vec::new(),
        left,
        jobs_left: Vec::new(),
        missing: Vec::new(),
        reexport: Vec::new(),
        notes: Vec::new(),
    };
    if mode == Mode::Attach {
        plan.missing = back.iter().map(|c| c.id.clone()).collect();
        if !opts.missing {
            return plan;
        }
    }
    // How many live panes each tmux window had when the snapshot was taken.
    let mut captured: HashMap<u32, usize> = HashMap::new();
    for sh in snap_session.into_iter().flat_map(|s| &s.shells) {
        if let Some(t) = sh.tmux.as_ref().filter(|_| sh.alive) {
            *captured.entry(t.window_index).or_default() += 1;
        }
    }
    plan.windows = windows(&back, &captured, world, judging, opts, &mut plan);
    if mode == Mode::Attach {
        rejoin_live_windows(&mut plan.windows, &back, &candidates);
    }
    plan.reexport.sort();
    plan.reexport.dedup();
    plan
}

/// The history of the shells before this one in its lineage (the shell it replaces, by
/// its journal or else as the snapshot holds it, then that one's predecessor…), oldest
/// first.
fn lineage_history<'a>(
    replaces: Option<&'a str>,
    by_id: &HashMap<&'a str, &'a ShellState>,
    snapshot: &'a Snapshot,
) -> Vec<(i64, String)> {
    let mut parts: Vec<Vec<(i64, String)>> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut next = replaces;
    while let Some(id) = next.filter(|id| seen.insert(id)) {
        if let Some(j) = by_id.get(id) {
            parts.push(
                j.commands
                    .iter()
                    .map(|c| (c.started_us, c.text.clone()))
                    .collect(),
            );
            next = j.meta.replaces.as_deref();
        } else if let Some(s) = snapshot
            .sessions
            .iter()
            .flat_map(|x| &x.shells)
            .find(|s| s.id == id)
        {
            parts.push(
                s.history
                    .iter()
                    .map(|r| {
                        (
                            timefmt::parse_us(&r.started_at).unwrap_or(0),
                            r.command.clone(),
                        )
                    })
                    .collect(),
            );
            next = s.replaces.as_deref();
        } else {
            break;
        }
    }
    parts.into_iter().rev().flatten().collect()
}

/// Attach mode: each missing pane whose tmux window still lives goes back into it, beside
/// the nearest pane before it that is alive or restored before it (else before the
/// nearest live one after it), and the window gets its captured layout back.
fn rejoin_live_windows(windows: &mut [WindowPlan], back: &[&Candidate], all: &[Candidate]) {
    let place = |id: &str| {
        all.iter()
            .find(|c| c.id == id)
            .and_then(|c| c.snap)
            .and_then(|s| s.tmux.as_ref())
    };
    let live =
        |c: &Candidate| c.journal.is_some_and(|j| j.alive) && !back.iter().any(|b| b.id == c.id);
    let mut restored: HashSet<String> = HashSet::new();
    for w in windows.iter_mut() {
        for pane in &mut w.panes {
            let Some(t) = place(&pane.replaces) else {
                continue;
            };
            let mut siblings: Vec<(&Candidate, &crate::model::snapshot::TmuxPlace)> = all
                .iter()
                .filter_map(|c| Some((c, c.snap?.tmux.as_ref()?)))
                .filter(|(c, p)| {
                    c.id != pane.replaces && p.socket == t.socket && p.window_id == t.window_id
                })
                .collect();
            siblings.sort_by_key(|(_, p)| p.pane_index);
            let after = siblings
                .iter()
                .rev()
                .find(|(c, p)| p.pane_index < t.pane_index && (live(c) || restored.contains(&c.id)))
                .map(|(_, p)| (p, false));
            let beside = after.or_else(|| {
                siblings
                    .iter()
                    .find(|(c, p)| p.pane_index > t.pane_index && live(c))
                    .map(|(_, p)| (p, true))
            });
            if let Some((p, before)) = beside {
                pane.rejoin = Some(Rejoin {
                    pane: t.pane_id.clone(),
                    beside: p.pane_id.clone(),
                    before,
                });
                w.layout = Some(t.window_layout.clone());
                restored.insert(pane.replaces.clone());
            }
        }
    }
}

/// A shell of tmux session `session`, which is gone: it is on its way out (its hangup
/// may not be recorded yet), not a shell to leave alone.
fn dying_with_its_tmux(c: &Candidate, session: &str, world: &World) -> bool {
    world.tmux_available
        && !world.tmux_session_alive
        && c.tmux_session().is_some_and(|(_, s)| s == session)
}

/// Did tmux note this shell's pane as closed while its server ran?
fn closed_by_tmux(c: &Candidate, world: &World) -> bool {
    let place = c
        .snap
        .and_then(|s| s.tmux.as_ref())
        .map(|t| (t.socket.as_str(), t.pane_id.as_str()))
        .or_else(|| {
            c.journal
                .and_then(|j| j.meta.tmux.as_ref())
                .map(|t| (t.socket.as_str(), t.pane_id.as_str()))
        });
    place.is_some_and(|(socket, pane)| {
        world
            .closed_panes
            .iter()
            .any(|n| n.closes(socket, pane, c.started_us))
    })
}

/// When a captured shell started: to the microsecond from its journal's meta where that
/// tells it, else the snapshot's whole second.
fn started_us(sh: &ShellSnap, journal: Option<&ShellState>) -> i64 {
    journal
        .and_then(|j| j.meta.started_us)
        .or_else(|| timefmt::parse_us(&sh.started_at))
        .unwrap_or(0)
}

/// Group the shells into windows, in their tmux order; shells outside tmux (or started
/// after the snapshot) get a window each; background jobs get a window each.
fn windows(
    back: &[&Candidate],
    captured: &HashMap<u32, usize>,
    world: &World,
    judging: &Judging,
    opts: Options,
    plan: &mut Plan,
) -> Vec<WindowPlan> {
    let mut ordered: Vec<&&Candidate> = back.iter().collect();
    ordered.sort_by_key(|c| {
        let t = c.snap.and_then(|s| s.tmux.as_ref());
        (
            t.map_or(u32::MAX, |t| t.window_index),
            t.map_or(u32::MAX, |t| t.pane_index),
            c.started_us,
        )
    });
    let mut out: Vec<WindowPlan> = Vec::new();
    let mut window_of: HashMap<u32, usize> = HashMap::new();
    let mut jobs: Vec<WindowPlan> = Vec::new();
    for c in ordered {
        let place = c.snap.and_then(|s| s.tmux.as_ref());
        let mut pane = pane_plan(c, world, judging, opts, plan);
        let shell_pid = c.snap.map(|s| s.pid);
        for p in c.snap.map(|s| s.processes.as_slice()).unwrap_or_default() {
            let Some(mut w) = job_window(p, c, &pane, world, judging, opts, plan) else {
                continue;
            };
            // A job that left the shell's tree gave the prompt back as it started
            // (`(cd sub && cmd &)`): it runs again in the shell's own pane, as it was,
            // in the directory the job's line ran in: as the pane's line when it has
            // none, else before that line when restore enters it itself (a line held
            // for Enter would keep the ones after it from their prompt). (With the
            // pane's environment: what the job's differs by is what the programs it
            // ran set, as a version manager's shim does.)
            let job_pane = &mut w.panes[0];
            let left_tree = Some(p.ppid) != shell_pid;
            let here = left_tree && job_pane.cwd == pane.cwd;
            match job_pane.relaunch.take() {
                Some(r) if here && pane.relaunch.is_none() => pane.relaunch = Some(r),
                Some(r) if here && r.action == Action::Run => pane.jobs.push(r),
                r => {
                    job_pane.relaunch = r;
                    jobs.push(w);
                }
            }
        }
        match place {
            Some(t) => {
                let idx = *window_of.entry(t.window_index).or_insert_with(|| {
                    out.push(WindowPlan {
                        name: t.window_name.clone(),
                        layout: Some(t.window_layout.clone()),
                        active: t.window_active,
                        panes: Vec::new(),
                    });
                    out.len() - 1
                });
                let mut pane = pane;
                pane.active = t.pane_active;
                out[idx].panes.push(pane);
            }
            None => out.push(WindowPlan {
                name: window_name(&pane),
                layout: None,
                active: false,
                panes: vec![pane],
            }),
        }
    }
    // A layout only fits the window it came from with all the panes it had then.
    for (index, &at) in &window_of {
        if captured.get(index) != Some(&out[at].panes.len()) {
            out[at].layout = None;
        }
    }
    out.extend(jobs);
    if !out.is_empty() && !out.iter().any(|w| w.active) {
        out[0].active = true;
    }
    out
}

fn window_name(pane: &PanePlan) -> String {
    std::path::Path::new(&pane.cwd)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| pane.kind.to_string())
}

/// The pane for one shell.
fn pane_plan(
    c: &Candidate,
    world: &World,
    judging: &Judging,
    opts: Options,
    plan: &mut Plan,
) -> PanePlan {
    let (cwd, cwd_note) = existing_dir(&c.cwd(), world);
    if let Some(n) = &cwd_note {
        plan.notes.push(format!("{}: {n}", c.id));
    }
    let env = clean_env(c.env(), plan);
    let relaunch = c.running().map(|line| {
        let all = c.snap.map(|s| s.processes.as_slice()).unwrap_or_default();
        let foreground = all.iter().find(|p| p.job_leader && p.foreground);
        let job = Job {
            leader: foreground,
            processes: foreground.map(|l| job_of(l, all)).unwrap_or_default(),
            shell: c.kind,
            path: c.path(),
            cwd: &cwd,
        };
        relaunch(&line, &job, world, judging, opts)
    });
    let history = c.history();
    PanePlan {
        replaces: c.id.clone(),
        kind: c.kind,
        cwd,
        cwd_note,
        env,
        history_len: history.len(),
        history,
        screen: c.snap.and_then(|s| s.screen.clone()),
        active: false,
        jobs: Vec::new(),
        relaunch,
        rejoin: None,
    }
}

/// A window of its own for a background job (a job leader not in the foreground) that
/// comes back; one that does not is listed in the plan's `jobs_left` instead.
fn job_window(
    p: &ProcessSnap,
    c: &Candidate,
    shell_pane: &PanePlan,
    world: &World,
    judging: &Judging,
    opts: Options,
    plan: &mut Plan,
) -> Option<WindowPlan> {
    if !p.job_leader || p.foreground {
        return None;
    }
    let recorded = p.typed.as_deref().and_then(|t| typed_command(t, p, c));
    let typed = match &recorded {
        Some((text, _)) => Some(text.as_str()),
        None => p.typed.as_deref(),
    };
    let line = match typed {
        Some(t) => t.trim_end().trim_end_matches('&').trim_end().to_string(),
        None => p
            .cmd
            .iter()
            .map(|a| crate::text::posix_word(a))
            .collect::<Vec<_>>()
            .join(" "),
    };
    if line.is_empty() {
        return None;
    }
    // A typed line runs again where it was typed (`cd sub && …` moves the job itself).
    let dir = match &recorded {
        Some((_, typed_in)) => typed_in.as_str(),
        None => p.cwd.as_deref().unwrap_or(&shell_pane.cwd),
    };
    let (cwd, _) = existing_dir(dir, world);
    // What the line sets for its command (`PORT=1 cmd &`) goes with the line, not into
    // the window's shell.
    let own = crate::policy::assigned_names(&line, c.kind);
    let mut job_env = p.env.clone();
    job_env.retain(|k, _| !own.contains(k));
    let mut env = shell_pane.env.clone();
    env.extend(clean_env(job_env, plan));
    let all = c.snap.map(|s| s.processes.as_slice()).unwrap_or_default();
    let job = Job {
        leader: Some(p),
        processes: job_of(p, all),
        shell: c.kind,
        path: c.path(),
        cwd: &cwd,
    };
    let mut r = relaunch(&line, &job, world, judging, opts);
    if p.cmd.iter().any(|a| a.contains(PLACEHOLDER)) && p.typed.is_none() {
        r.action = Action::Skip;
        r.reason = Some("its command line was redacted".into());
    }
    if p.stopped {
        r.action = Action::Skip;
        r.reason = Some("it was stopped (Ctrl-Z) when the snapshot was taken".into());
    }
    if r.action == Action::Skip {
        plan.jobs_left.push(JobLeft {
            shell: c.id.clone(),
            relaunch: r,
        });
        return None;
    }
    // A job that is a copy of the shell (a subshell) is named by what it runs.
    let named = match job.processes.iter().find(|q| q.ppid == p.pid) {
        Some(child)
            if p.cmd.first().map(|a| crate::policy::basename(a)) == Some(c.kind.as_str()) =>
        {
            child
        }
        _ => p,
    };
    let name = named
        .cmd
        .iter()
        .take(3)
        .map(|a| crate::policy::basename(a).to_string())
        .collect::<Vec<_>>()
        .join(" ");
    Some(WindowPlan {
        name,
        layout: None,
        active: false,
        panes: vec![PanePlan {
            replaces: c.id.clone(),
            kind: c.kind,
            cwd,
            cwd_note: None,
            env,
            history: Vec::new(),
            history_len: 0,
            screen: None,
            active: true,
            jobs: Vec::new(),
            relaunch: Some(r),
            rejoin: None,
        }],
    })
}

/// The recorded command a job's typed line is: its text (real, where the snapshot has it
/// only redacted) and the directory it was typed in. The shell's latest command started
/// by the job's start (to the second) that the snapshot's text could be, from its
/// journal, else from the snapshot's history.
fn typed_command(typed: &str, p: &ProcessSnap, c: &Candidate) -> Option<(String, String)> {
    // The job's start is whole seconds, from clock ticks against an estimated boot
    // time: it may fall in the second before its line's own start, so look two on.
    let by = timefmt::parse_us(&p.started_at)? + 2_000_000;
    if let Some(j) = c.journal {
        return j
            .commands
            .iter()
            .rev()
            .filter(|cmd| cmd.started_us <= by)
            .find(|cmd| crate::redact::could_be(typed, &cmd.text))
            .map(|cmd| (cmd.text.clone(), cmd.cwd.clone()));
    }
    c.snap?
        .history
        .iter()
        .rev()
        .filter(|r| timefmt::parse_us(&r.started_at).is_some_and(|t| t <= by))
        .find(|r| r.command == typed)
        .map(|r| (r.command.clone(), r.cwd.clone()))
}

/// The job a command ran as at capture, and where its shell looks names up.
struct Job<'a> {
    leader: Option<&'a ProcessSnap>,
    /// The leader and its descendants.
    processes: Vec<&'a ProcessSnap>,
    shell: ShellKind,
    path: Option<&'a str>,
    cwd: &'a str,
}

/// A job leader and every process under it.
fn job_of<'a>(leader: &'a ProcessSnap, all: &'a [ProcessSnap]) -> Vec<&'a ProcessSnap> {
    // Each pid once: an edited snapshot (or a reused pid) may loop parents back.
    let mut seen = HashSet::from([leader.pid]);
    let mut job = vec![leader];
    let mut i = 0;
    while let Some(p) = job.get(i) {
        let pid = p.pid;
        job.extend(all.iter().filter(|c| c.ppid == pid && seen.insert(c.pid)));
        i += 1;
    }
    job
}

/// Decide what to do with a command that was running: the line judged now, and no
/// laxer than any process of its job judged at capture (`dd` behind an alias).
fn relaunch(line: &str, job: &Job, world: &World, judging: &Judging, opts: Options) -> Relaunch {
    let rules = judging.rules;
    let exe = |name: &str| (judging.executable)(name, job.path, job.cwd);
    let mut verdict = rules.judge(line, job.shell, &exe);
    if verdict.policy != Policy::Never {
        if let Some(p) = job.processes.iter().find(|p| p.policy == Policy::Never) {
            let name = p.cmd.first().map_or("?", |a| crate::policy::basename(a));
            verdict.policy = Policy::Never;
            verdict.reason = Some(format!("never: {name} (a process of this job at capture)"));
        }
    }
    let policy = verdict.policy;
    let resume = rules.resume_line(line, job.shell).map(|r| {
        let cli = r.split_whitespace().next().unwrap_or_default().to_string();
        world.agent_resume.get(&cli).cloned().unwrap_or(r)
    });
    let typed = resume.unwrap_or_else(|| line.to_string());
    let shown = |t: &str| judging.redactor.text(t).unwrap_or_else(|| t.to_string());
    let mut r = Relaunch {
        shown: shown(&typed),
        original: shown(line),
        line: typed,
        policy,
        action: match policy {
            Policy::Never => Action::Skip,
            Policy::Auto => Action::Run,
            Policy::Hold if opts.yes => Action::Run,
            Policy::Hold => Action::Type,
        },
        reason: verdict.reason,
    };
    if line.contains(PLACEHOLDER) {
        r.action = Action::Skip;
        r.reason = Some("its text was redacted: type it again yourself".into());
    } else if let Some(pid) = still_running(job.leader, line, job.cwd, world) {
        r.action = Action::Skip;
        r.reason = Some(format!("still running (pid {pid})"));
    }
    r
}

/// A live process of the user's that is this command already: one with the argv and cwd
/// of its process at capture, or else (no process captured, or another one started it
/// since: a `--no-tmux` restore, the user) one running a command of `line` where the
/// line runs it (`cwd`, or where a `cd` of the line went).
fn still_running(
    process: Option<&ProcessSnap>,
    line: &str,
    cwd: &str,
    world: &World,
) -> Option<u32> {
    let captured = process.and_then(|p| {
        world.processes.iter().find(|(_, argv, pcwd)| {
            argv == &p.cmd && pcwd.as_deref().unwrap_or(cwd) == p.cwd.as_deref().unwrap_or(cwd)
        })
    });
    captured
        .or_else(|| {
            let commands: Vec<(Vec<String>, String)> = crate::policy::commands_in(line)
                .into_iter()
                .filter_map(|(words, dir)| Some((words, runs_in(&dir, cwd)?)))
                .collect();
            world.processes.iter().find(|(_, argv, pcwd)| {
                let words = crate::policy::process_words(argv);
                commands
                    .iter()
                    .any(|(w, dir)| *w == words && pcwd.as_deref() == Some(dir.as_str()))
            })
        })
        .map(|(pid, _, _)| *pid)
}

/// The directory a command of a line run in `cwd` runs in (pure); None when the line
/// went where snap cannot tell.
fn runs_in(dir: &crate::policy::Dir, cwd: &str) -> Option<String> {
    use crate::policy::Dir;
    use std::path::{Component, Path, PathBuf};
    let joined = match dir {
        Dir::Start => return Some(cwd.to_string()),
        Dir::At(d) if d.starts_with('~') || d.contains('$') => return None,
        Dir::At(d) => Path::new(cwd).join(d),
        Dir::Unknown => return None,
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    Some(out.to_string_lossy().into_owned())
}

/// Drop variables known only redacted (listed to re-export), those the env guard
/// refuses, and the private fish history session an older restore gave a fish.
fn clean_env(env: BTreeMap<String, String>, plan: &mut Plan) -> BTreeMap<String, String> {
    env.into_iter()
        .filter(|(k, v)| {
            if let Some(refusal) = crate::envguard::refusal(k) {
                let note = format!("{k} not restored: {}", refusal.why());
                if !plan.notes.contains(&note) {
                    plan.notes.push(note);
                }
                false
            } else if v.contains(PLACEHOLDER) {
                plan.reexport.push(k.clone());
                false
            } else {
                !crate::shellenv::is_restore_history(k, v)
            }
        })
        .collect()
}

/// The directory, or its nearest existing parent (with a note).
fn existing_dir(dir: &str, world: &World) -> (String, Option<String>) {
    let mut d = std::path::Path::new(dir);
    loop {
        let text = d.to_string_lossy();
        if world.existing_dirs.contains(text.as_ref()) {
            if text == dir {
                return (dir.to_string(), None);
            }
            return (
                text.into_owned(),
                Some(format!("{dir} is gone: starting in {}", d.display())),
            );
        }
        match d.parent() {
            Some(p) => d = p,
            None => return ("/".into(), Some(format!("{dir} is gone: starting in /"))),
        }
    }
}

/// Every directory the plan may ask about (for the caller to check on disk).
pub fn dirs_to_check(snapshot: &Snapshot, journals: &[ShellState]) -> Vec<String> {
    // The shells', their processes', and where their commands were typed (a job's line
    // runs again there).
    let mut dirs: BTreeSet<&str> = BTreeSet::new();
    for s in snapshot.sessions.iter().flat_map(|s| &s.shells) {
        dirs.insert(&s.cwd);
        dirs.extend(s.processes.iter().filter_map(|p| p.cwd.as_deref()));
        dirs.extend(s.history.iter().map(|r| r.cwd.as_str()));
    }
    for j in journals {
        dirs.insert(&j.cwd);
        dirs.extend(j.commands.iter().map(|c| c.cwd.as_str()));
    }
    let mut out: BTreeSet<String> = BTreeSet::new();
    for d in dirs {
        let mut p = Some(std::path::Path::new(d));
        while let Some(x) = p {
            if !out.insert(x.to_string_lossy().into_owned()) {
                break; // its parents are in already
            }
            p = x.parent();
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
#[path = "plan_generations_tests.rs"]
mod generations_tests;
