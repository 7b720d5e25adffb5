//! Capture: turn what the journals, the process table and tmux say into one redacted
//! [`Snapshot`], then save it atomically and run retention.
//!
//! The entry point for everyone (daemon ticks, `snap save`, checkpoints) is
//! [`snapshot_now`]. One capture runs at a time (a lock under the state directory).

pub mod jobs;
pub mod proc_table;
pub mod processes;
pub mod tmux;

use crate::config::Config;
use crate::model::snapshot::{
    ProcessSnap, SessionSnap, ShellSnap, Snapshot, TmuxPlace, SNAPSHOT_SCHEMA,
};
use crate::model::{CommandRecord, Policy};
use crate::policy::lookup::OnDisk;
use crate::policy::Rules;
use crate::redact::Redactor;
use crate::store::paths::Paths;
use crate::store::recorded::{Commands, Recorded, Select};
use crate::store::shells::ShellState;
use crate::store::{forgotten, lock, restore_files, retention, snapshots, summaries, tmux_closed};
use crate::timefmt;
use anyhow::{bail, Result};
use processes::{ProcInfo, ShellProcs};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

/// Commands of history kept per shell.
pub const HISTORY_LEN: usize = 50;

/// Capture every session (or only `session`), redact, save atomically, run retention,
/// and return the saved snapshot.
pub fn snapshot_now(paths: &Paths, session: Option<&str>, label: Option<&str>) -> Result<Snapshot> {
    let cfg = Config::load(&paths.config_in_force())?;
    snapshot_with(paths, &cfg, session, label)
}

/// [`snapshot_now`] with a config already loaded (the daemon loads it once).
pub fn snapshot_with(
    paths: &Paths,
    cfg: &Config,
    session: Option<&str>,
    label: Option<&str>,
) -> Result<Snapshot> {
    let _one_at_a_time = lock::capture(paths)?;
    // Restore's leftovers hold environments and history: a save clears the stale ones.
    restore_files::remove_stale(paths);
    let recorded = Recorded::open(paths);
    let all = captured_shells(paths, &recorded, session);
    let snap = capture_from(paths, cfg, &all, session, label, &|_| {})?;
    let saved = snapshots::save(paths, &snap)?;
    tmux_closed::prune_closed(&tmux_closed::closed_file(&paths.state), timefmt::now_us());
    let rules = retention::Rules::from_config(cfg);
    retention::run_with(paths, &recorded, rules, false, Some((&saved, &snap)));
    Ok(snap)
}

/// The shells a snapshot holds, so its size follows the live shells whatever the store
/// holds: the live ones, and those last seen since their session's previous snapshot
/// (so restore knows who stays closed), with the last [`HISTORY_LEN`] commands of those
/// that ended; a session never snapshotted brings all of its shells (once: it then has
/// a previous snapshot). A session captured on its own (`session`) with none of these
/// brings its newest shells, so the snapshot still holds it (and its agent state).
fn captured_shells(paths: &Paths, recorded: &Recorded, session: Option<&str>) -> Vec<ShellState> {
    let forgotten = forgotten::forgotten(paths);
    // A forgotten session's shells started before it was forgotten are left out anyway.
    let mut since: BTreeMap<String, i64> = forgotten.clone();
    for (_, s) in summaries::summaries(paths, &forgotten, None) {
        let taken = snapshots::id_time_us(&s.id).map_or(s.taken_us, |t| t.max(s.taken_us));
        for (name, _) in &s.sessions {
            let at = since.entry(name.clone()).or_insert(taken);
            *at = (*at).max(taken);
        }
    }
    let mut select = Select {
        since,
        ..Select::all().with_commands(Commands::Tail(HISTORY_LEN))
    };
    select.session = session.map(str::to_string);
    let found = recorded.shells(&select);
    match session {
        Some(name) if found.is_empty() => match recorded.last_seen(name) {
            Some(newest) => {
                select.since.insert(name.to_string(), newest);
                recorded.shells(&select)
            }
            None => found,
        },
        _ => found,
    }
}

/// What restore gave one new shell (the snapshot it takes once they are up).
#[derive(Debug, Clone, Default)]
pub struct Given {
    /// The saved screen its pane shows (the brief printed above it is no part of it).
    pub screen: Option<String>,
    /// The command put in its edit buffer or entered for it.
    pub pending: Option<String>,
}

/// After a restore: capture `session` as rebuilt, each new shell (by its tmux pane id)
/// with the screen and the command restore gave it, and save it.
pub fn snapshot_after_restore(
    paths: &Paths,
    cfg: &Config,
    session: &str,
    given: &HashMap<String, Given>,
) -> Result<Snapshot> {
    let _one_at_a_time = lock::capture(paths)?;
    let recorded = Recorded::open(paths);
    let all = captured_shells(paths, &recorded, Some(session));
    let patch = |snap: &mut Snapshot| {
        let shells = snap
            .sessions
            .iter_mut()
            .filter(|s| s.name == session)
            .flat_map(|s| &mut s.shells);
        for sh in shells.filter(|s| s.alive && s.replaces.is_some()) {
            let Some(g) = sh.tmux.as_ref().and_then(|t| given.get(&t.pane_id)) else {
                continue;
            };
            sh.screen = g.screen.clone();
            sh.pending = g.pending.clone();
        }
    };
    let snap = capture_from(
        paths,
        cfg,
        &all,
        Some(session),
        Some("after restore"),
        &patch,
    )?;
    snapshots::save(paths, &snap)?;
    Ok(snap)
}

/// What a capture read, before it is assembled.
pub struct Inputs {
    pub shells: Vec<ShellState>,
    /// Keyed by shell pid.
    pub procs: HashMap<u32, ShellProcs>,
    /// Keyed by shell id.
    pub places: HashMap<String, TmuxPlace>,
    /// Keyed by shell id.
    pub screens: HashMap<String, String>,
    pub now_us: i64,
    pub host: String,
    pub label: Option<String>,
}

/// Capture (no save) from these shells: processes and tmux read, assembled, redacted.
fn capture_from(
    paths: &Paths,
    cfg: &Config,
    all: &[ShellState],
    session: Option<&str>,
    label: Option<&str>,
    patch: &dyn Fn(&mut Snapshot),
) -> Result<Snapshot> {
    let forgotten = forgotten::forgotten(paths);
    let mut shells = all.to_vec();
    shells.retain(|s| !forgotten::is_forgotten(&forgotten, &s.meta.session, &s.meta.started_at));
    if let Some(name) = session {
        shells.retain(|s| s.meta.session == name);
        if shells.is_empty() {
            bail!("no shells recorded for session {name:?}: see `snap sessions`");
        }
    }
    let alive: Vec<processes::ShellQuery> = shells
        .iter()
        .filter(|s| s.alive)
        .map(|s| processes::ShellQuery {
            pid: s.meta.pid,
            started: s.meta.pid_started,
            env: &s.env_now,
            runs: jobs::runs(&s.commands),
        })
        .collect();
    // tmux answers while /proc is read: neither waits on the other.
    let notes = tmux_closed::closed_file(&paths.state);
    let (procs, (places, screens)) = std::thread::scope(|s| {
        let tmux = s.spawn(|| tmux_state(&shells, &notes));
        let procs = processes::capture(&alive);
        let tmux = tmux.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (procs, tmux)
    });
    let inputs = Inputs {
        shells,
        procs,
        places,
        screens,
        now_us: timefmt::now_us(),
        host: sysinfo::System::host_name().unwrap_or_else(|_| "localhost".into()),
        label: label.map(str::to_string),
    };
    let mut redactor = Redactor::new(cfg)?;
    let leaders = inputs
        .procs
        .values()
        .flat_map(|p| p.procs.iter().filter(|p| p.job_leader).map(|p| &p.env));
    redactor.learn(
        inputs
            .shells
            .iter()
            .map(|s| &s.env_now)
            .chain(inputs.procs.values().map(|p| &p.environ))
            .chain(leaders),
    );
    let mut snap = build(&inputs, cfg, read_agent);
    patch(&mut snap);
    redact(&mut snap, &redactor);
    Ok(snap)
}

/// The tmux place and screen of every live shell in tmux: one `list-panes` per server,
/// one `capture-pane` per pane. Each server is asked to note in `notes` the panes that
/// close while it runs.
fn tmux_state(
    shells: &[ShellState],
    notes: &Path,
) -> (HashMap<String, TmuxPlace>, HashMap<String, String>) {
    let (mut places, mut screens) = (HashMap::new(), HashMap::new());
    let sockets: BTreeSet<&str> = shells
        .iter()
        .filter(|s| s.alive)
        .filter_map(|s| s.meta.tmux.as_ref().map(|t| t.socket.as_str()))
        .collect();
    for socket in sockets {
        let panes = tmux::list_panes(socket);
        for s in shells.iter().filter(|s| s.alive) {
            let Some(t) = s.meta.tmux.as_ref().filter(|t| t.socket == socket) else {
                continue;
            };
            let Some(pane) = panes.get(&t.pane_id) else {
                continue;
            };
            if let Some(screen) = tmux::capture_screen(socket, &t.pane_id) {
                screens.insert(s.meta.id.clone(), screen);
            }
            places.insert(s.meta.id.clone(), pane.place.clone());
        }
        if !panes.is_empty() {
            tmux::note_closed_panes(socket, notes);
        }
    }
    (places, screens)
}

/// The session's agent state: `<project_dir>/.agent-session.json`, bounded for
/// embedding, or null. A file that is not safe to read or does not parse is named on
/// stderr and left out.
pub fn read_agent(project_dir: &Path) -> serde_json::Value {
    let path = project_dir.join(crate::store::agent_state::FILE_NAME);
    match crate::store::agent_state::AgentState::load(&path, project_dir) {
        Ok(s) if s.existed => serde_json::Value::Object(s.bounded().doc),
        Ok(_) => serde_json::Value::Null,
        Err(e) => {
            eprintln!("snap: {e:#} (left out of the snapshot)");
            serde_json::Value::Null
        }
    }
}

/// Assemble the snapshot (pure but for `agent`, which reads a session's agent state).
pub fn build(
    inputs: &Inputs,
    cfg: &Config,
    agent: impl Fn(&Path) -> serde_json::Value,
) -> Snapshot {
    let rules = Rules::new(cfg);
    let mut groups: BTreeMap<&str, Vec<&ShellState>> = BTreeMap::new();
    for s in &inputs.shells {
        groups.entry(s.meta.session.as_str()).or_default().push(s);
    }
    let mut groups: Vec<(&str, Vec<&ShellState>)> = groups.into_iter().collect();
    groups.sort_by_key(|(name, shells)| (shells.iter().map(|s| s.last_seen_us).max(), *name));
    let sessions = groups
        .into_iter()
        .map(|(name, shells)| SessionSnap {
            name: name.to_string(),
            agent: shells.first().map_or(serde_json::Value::Null, |s| {
                agent(Path::new(&s.meta.project_dir))
            }),
            shells: shells
                .iter()
                .map(|s| shell_snap(s, inputs, cfg, &rules))
                .collect(),
        })
        .collect();
    Snapshot {
        schema: SNAPSHOT_SCHEMA,
        id: snapshots::new_id(inputs.now_us),
        taken_at: timefmt::rfc3339_us(inputs.now_us),
        host: inputs.host.clone(),
        label: inputs.label.clone(),
        redacted: Vec::new(),
        sessions,
    }
}

fn shell_snap(s: &ShellState, inputs: &Inputs, cfg: &Config, rules: &Rules) -> ShellSnap {
    let empty = ShellProcs::default();
    let procs = if s.alive {
        inputs.procs.get(&s.meta.pid).unwrap_or(&empty)
    } else {
        &empty
    };
    let records: Vec<CommandRecord> = s
        .commands
        .iter()
        .zip(s.history())
        .filter(|(c, _)| cfg.keeps_command(&c.text, &c.cwd))
        .map(|(_, r)| r)
        .collect();
    let history = records[records.len().saturating_sub(HISTORY_LEN)..].to_vec();
    let running = s
        .running()
        .filter(|c| cfg.keeps_command(&c.text, &c.cwd))
        .filter(|_| !procs.runs_snap)
        .map(|c| c.text.clone());
    // Names are looked up on the shell's own PATH, from its directory.
    let disk = OnDisk::new(s.env_now.get("PATH").map(String::as_str), &s.cwd);
    let exe = |name: &str| disk.is_executable(name);
    let shell = s.meta.shell();
    ShellSnap {
        id: s.meta.id.clone(),
        kind: s.meta.kind.clone(),
        pid: s.meta.pid,
        alive: s.alive,
        ended: s.ended,
        ended_at: s.ended_us.map(timefmt::rfc3339_us),
        started_at: s.meta.started_at.clone(),
        last_seen: timefmt::rfc3339_us(s.last_seen_us),
        tty: s.meta.tty.clone(),
        replaces: s.meta.replaces.clone(),
        project_dir: s.meta.project_dir.clone(),
        cwd: s.cwd.clone(),
        env: s.env_changed(),
        running_policy: running
            .as_deref()
            .map(|r| rules.judge(r, shell, &exe).policy),
        running_resume: running.as_deref().and_then(|r| rules.resume_line(r, shell)),
        running,
        pending: None,
        history,
        tmux: inputs.places.get(&s.meta.id).cloned(),
        screen: inputs.screens.get(&s.meta.id).cloned(),
        processes: process_snaps(s, &procs.procs, cfg, rules, &exe),
    }
}

fn process_snaps(
    s: &ShellState,
    procs: &[ProcInfo],
    cfg: &Config,
    rules: &Rules,
    exe: &dyn Fn(&str) -> bool,
) -> Vec<ProcessSnap> {
    let shell = s.meta.shell();
    // History filters apply to processes too: a filtered one goes with its descendants.
    let mut dropped: HashSet<u32> = HashSet::new();
    let mut out = Vec::new();
    // Many processes share an argv (workers of one server): judge each argv once.
    let mut by_argv: HashMap<&[String], (Policy, Option<String>)> = HashMap::new();
    // And the jobs one line started (`for i in …; do … & done`): judge each line once.
    let mut by_line: HashMap<String, (Policy, Option<String>)> = HashMap::new();
    let mut ordered: Vec<&ProcInfo> = procs.iter().collect();
    ordered.sort_by_key(|p| (p.start_time, p.pid));
    for p in ordered {
        let line = p.cmd.join(" ");
        if dropped.contains(&p.ppid) || !cfg.keeps_command(&line, p.cwd.as_deref().unwrap_or("")) {
            dropped.insert(p.pid);
            continue;
        }
        let typed = p
            .job_leader
            .then(|| typed_line(s, p, procs))
            .flatten()
            .filter(|t| cfg.keeps_command(t, ""));
        let (argv_policy, argv_resume) = by_argv
            .entry(p.cmd.as_slice())
            .or_insert_with(|| {
                let policy = rules.judge_argv(&p.cmd).policy;
                (policy, rules.resume_argv(&p.cmd))
            })
            .clone();
        let (line_policy, line_resume) = match &typed {
            Some(t) => {
                let (policy, resume) = by_line
                    .entry(t.clone())
                    .or_insert_with(|| {
                        (
                            rules.judge(t, shell, exe).policy,
                            rules.resume_line(t, shell),
                        )
                    })
                    .clone();
                (Some(policy), resume)
            }
            None => (None, None),
        };
        let policy = match (line_policy, argv_policy) {
            (_, Policy::Never) => Policy::Never,
            (Some(p), _) | (None, p) => p,
        };
        let resume = argv_resume.or(line_resume);
        out.push(ProcessSnap {
            pid: p.pid,
            ppid: p.ppid,
            cmd: p.cmd.clone(),
            cwd: p.cwd.clone(),
            env: p.env.clone(),
            started_at: timefmt::rfc3339_us(i64::try_from(p.start_time).unwrap_or(0) * 1_000_000),
            job_leader: p.job_leader,
            foreground: p.foreground,
            stopped: p.stopped,
            typed,
            policy,
            resume,
        });
    }
    out.sort_by_key(|p| (!p.job_leader, p.pid));
    out
}

/// The command line that started a job. The foreground job's is the running command;
/// any other's is the recorded command whose run covers its start, matched by time (a
/// line backgrounded with `&` is the job's, not the line typed after it). Of two whose
/// runs are that close, the one whose words are the job's argv (or, for a script run by
/// its shebang, the argv after the interpreter), then one holding all its words, then
/// one naming its program, then the nearest. A job that is a copy of the shell (a
/// subshell: `(a; b) &`) is also known by its first child.
fn typed_line(s: &ShellState, leader: &ProcInfo, procs: &[ProcInfo]) -> Option<String> {
    if leader.foreground {
        if let Some(r) = s.running() {
            return Some(r.text.clone());
        }
    }
    let lines: Vec<&str> = leader
        .started_by
        .iter()
        .filter_map(|&i| s.commands.get(i))
        .map(|c| c.text.as_str())
        .collect();
    match lines.as_slice() {
        [] => None,
        [one] => Some(one.to_string()),
        many => {
            let mut argvs = vec![leader.cmd.as_slice()];
            if leader
                .cmd
                .first()
                .is_some_and(|a| program(a) == s.meta.kind)
            {
                let first_child = procs
                    .iter()
                    .filter(|p| p.ppid == leader.pid)
                    .min_by_key(|p| p.pid);
                argvs.extend(first_child.map(|c| c.cmd.as_slice()));
            }
            let score = likeness(&argvs);
            many.iter()
                .enumerate()
                .max_by_key(|(nearness, line)| (score(line), std::cmp::Reverse(*nearness)))
                .map(|(_, line)| line.to_string())
        }
    }
}

/// How much a typed line looks like what runs these argvs: 3 when one of its commands
/// is one of them (its first eight words, the program by its file name, or the same
/// after the interpreter), 2 when it holds all the words of one, 1 when it names one's
/// program, else 0.
fn likeness(argvs: &[&[String]]) -> impl Fn(&str) -> u8 {
    let form = |a: &[String]| -> Vec<String> {
        a.iter()
            .take(8)
            .enumerate()
            .map(|(i, w)| if i == 0 { program(w) } else { w.clone() })
            .collect()
    };
    let mut forms: Vec<Vec<String>> = Vec::new();
    for argv in argvs {
        let words: Vec<String> = match argv {
            [one] => one.split_whitespace().map(str::to_string).collect(),
            many => many.to_vec(),
        };
        forms.extend((0..words.len().min(2)).map(|skip| form(&words[skip..])));
    }
    move |text: &str| -> u8 {
        let commands = crate::policy::commands_of(text);
        if forms
            .iter()
            .any(|f| commands.iter().any(|c| c.iter().take(8).eq(f.iter())))
        {
            3
        } else if forms
            .iter()
            .any(|f| f.iter().all(|w| text.contains(w.as_str())))
        {
            2
        } else if forms
            .iter()
            .filter_map(|f| f.first())
            .any(|n| text.contains(n.as_str()))
        {
            1
        } else {
            0
        }
    }
}

/// A program's file name (`-bash` as a login shell is `bash`).
fn program(arg0: &str) -> String {
    arg0.rsplit('/')
        .next()
        .unwrap_or(arg0)
        .trim_start_matches('-')
        .to_string()
}

/// Redact every text of the snapshot and name what was touched.
pub fn redact(snap: &mut Snapshot, r: &Redactor) {
    let mut touched: Vec<String> = Vec::new();
    if let Some(l) = snap.label.as_ref().and_then(|l| r.text(l)) {
        snap.label = Some(l);
        touched.push("label".into());
    }
    for session in &mut snap.sessions {
        if r.json(&mut session.agent) {
            touched.push(format!("{} agent", session.name));
        }
        for sh in &mut session.shells {
            let id = sh.id.clone();
            for name in r.env(&mut sh.env) {
                touched.push(format!("{id} env {name}"));
            }
            let text = |field: &mut String, what: &str, touched: &mut Vec<String>| {
                if let Some(t) = r.text(field) {
                    *field = t;
                    if !touched.iter().any(|x| x == &format!("{id} {what}")) {
                        touched.push(format!("{id} {what}"));
                    }
                }
            };
            text(&mut sh.cwd, "cwd", &mut touched);
            if let Some(run) = sh.running.as_mut() {
                text(run, "running", &mut touched);
            }
            if let Some(p) = sh.pending.as_mut() {
                text(p, "pending", &mut touched);
            }
            for h in &mut sh.history {
                text(&mut h.command, "history", &mut touched);
                text(&mut h.cwd, "history", &mut touched);
                if let Some(e) = h.error.as_mut() {
                    text(e, "history", &mut touched);
                }
            }
            if let Some(screen) = sh.screen.as_mut() {
                text(screen, "screen", &mut touched);
            }
            if let Some(t) = sh.tmux.as_mut() {
                text(&mut t.window_name, "tmux", &mut touched);
            }
            // Processes repeat their argv, typed line and cwd (a server's workers, the
            // jobs of one loop): each distinct one is redacted once.
            let mut argvs: HashMap<Vec<String>, Option<Vec<String>>> = HashMap::new();
            let mut texts: HashMap<String, Option<String>> = HashMap::new();
            let mut hide = |s: &mut String| -> bool {
                let new = texts.entry(s.clone()).or_insert_with(|| r.text(s));
                new.clone().map(|t| *s = t).is_some()
            };
            for p in &mut sh.processes {
                let cmd = argvs.entry(p.cmd.clone()).or_insert_with(|| r.argv(&p.cmd));
                if let Some(cmd) = cmd.clone() {
                    p.cmd = cmd;
                    touched.push(format!("{id} process {} cmd", p.pid));
                }
                for name in r.env(&mut p.env) {
                    touched.push(format!("{id} process {} env {name}", p.pid));
                }
                if p.typed.as_mut().is_some_and(&mut hide) {
                    touched.push(format!("{id} process {} typed", p.pid));
                }
                if p.cwd.as_mut().is_some_and(&mut hide) {
                    touched.push(format!("{id} process {} cwd", p.pid));
                }
            }
        }
    }
    snap.redacted = touched;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ShellMeta;
    use crate::store::journal::Record;
    use crate::store::shells;
    use std::path::PathBuf;

    const T: i64 = 1_764_043_200_000_000;
    const GHP: &str = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";

    fn meta(id: &str, pid: u32) -> ShellMeta {
        shells::test_meta(id, pid, &timefmt::rfc3339_us(T), "work")
    }

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn start(us: i64, cmd: &str) -> Record {
        Record::Start {
            time_us: us,
            cwd: "/p".into(),
            command: cmd.into(),
            origin: crate::store::journal::Origin::Shell,
        }
    }

    fn end(us: i64) -> Record {
        Record::End {
            time_us: us,
            status: 0,
            duration_ms: Some(0),
            cwd: "/p".into(),
        }
    }

    fn proc_(
        pid: u32,
        ppid: u32,
        cmd: &[&str],
        secs: i64,
        started_by: &[usize],
        environ: &[(&str, &str)],
    ) -> ProcInfo {
        ProcInfo {
            pid,
            ppid,
            cmd: cmd.iter().map(|s| s.to_string()).collect(),
            cwd: Some("/p/web".into()),
            env: env(environ),
            start_time: u64::try_from(secs).unwrap(),
            start_us: secs * 1_000_000,
            job_leader: !started_by.is_empty(),
            foreground: false,
            stopped: false,
            started_by: started_by.to_vec(),
        }
    }

    fn inputs() -> Inputs {
        let s = 1_000_000;
        let recs = vec![
            Record::Env {
                time_us: T,
                vars: env(&[("HOME", "/root"), ("GITHUB_TOKEN", GHP)]),
            },
            start(T + s, "make && sudo make install"),
            end(T + 2 * s),
            start(T + 10 * s, "PORT=3001 npm run dev &"),
            end(T + 10 * s + 500),
            start(T + 10 * s + 600, "sleep 999 && sudo make install &"),
            end(T + 10 * s + 700),
            start(T + 10 * s + 800, "echo done"),
            end(T + 10 * s + 900),
            start(T + 20 * s, &format!("export API_TOKEN={GHP}")),
            end(T + 20 * s + 100),
            Record::Env {
                time_us: T + 21 * s,
                vars: env(&[
                    ("HOME", "/root"),
                    ("GITHUB_TOKEN", GHP),
                    ("API_TOKEN", GHP),
                    ("X", "1"),
                ]),
            },
            start(T + 30 * s, "cd web && npm run dev"),
        ];
        let mut sh = shells::from_records(meta("a", 100), PathBuf::new(), recs);
        sh.alive = true;
        let t0 = T / 1_000_000;
        let procs = ShellProcs {
            present: true,
            runs_snap: false,
            environ: env(&[]),
            procs: vec![
                proc_(
                    201,
                    100,
                    &["npm run dev"],
                    t0 + 10,
                    &[1],
                    &[("PORT", "3001"), ("GITHUB_TOKEN", GHP)],
                ),
                proc_(
                    202,
                    201,
                    &["node", "server.js", "--token", "s3cr3tvalue"],
                    t0 + 11,
                    &[],
                    &[],
                ),
                proc_(
                    301,
                    100,
                    &["npm run dev"],
                    t0 + 30,
                    &[5],
                    &[("HOME", "/root")],
                ),
                proc_(
                    401,
                    100,
                    &["bash", "--rcfile", "/rc", "-i"],
                    t0 + 10,
                    // Runs this close: the subshell's first child tells which.
                    &[3, 2],
                    &[],
                ),
                proc_(402, 401, &["sleep", "999"], t0 + 10, &[], &[]),
            ],
        };
        Inputs {
            shells: vec![sh],
            procs: [(100, procs)].into_iter().collect(),
            places: HashMap::new(),
            screens: [("a".to_string(), format!("$ echo $GITHUB_TOKEN\n{GHP}\n$ "))]
                .into_iter()
                .collect(),
            now_us: T + 40 * s,
            host: "h".into(),
            label: None,
        }
    }

    fn built(cfg: &Config) -> Snapshot {
        let i = inputs();
        let mut r = Redactor::new(cfg).unwrap();
        r.learn(i.shells.iter().map(|s| &s.env_now));
        let mut snap = build(&i, cfg, |_| serde_json::json!({"current_task": "t"}));
        redact(&mut snap, &r);
        snap
    }

    #[test]
    fn shells_processes_and_policies_are_assembled() {
        let snap = built(&Config::default());
        let sh = &snap.sessions[0].shells[0];
        assert_eq!(snap.sessions[0].name, "work");
        assert_eq!(snap.sessions[0].agent["current_task"], "t");
        assert_eq!(sh.running.as_deref(), Some("cd web && npm run dev"));
        assert_eq!(sh.running_policy, Some(Policy::Auto));
        assert_eq!(sh.history.len(), 6);
        let pids: Vec<u32> = sh.processes.iter().map(|p| p.pid).collect();
        let sub = sh
            .processes
            .iter()
            .find(|p| p.pid == 401)
            .unwrap_or_else(|| panic!("{pids:?}"));
        assert_eq!(
            sub.typed.as_deref(),
            Some("sleep 999 && sudo make install &")
        );
        assert_eq!(sub.policy, Policy::Never);
        let bg = &sh.processes[0];
        assert_eq!(bg.pid, 201);
        assert_eq!(bg.typed.as_deref(), Some("PORT=3001 npm run dev &"));
        assert_eq!(bg.policy, Policy::Auto);
        assert_eq!(bg.env.get("PORT").map(String::as_str), Some("3001"));
        assert!(!bg.env.contains_key("HOME"));
        let fg = &sh.processes[1];
        assert_eq!(fg.typed.as_deref(), Some("cd web && npm run dev"));
        let child = sh.processes.iter().find(|p| p.pid == 202).unwrap();
        assert!(!child.job_leader);
        assert!(child.env.is_empty());
    }

    #[test]
    fn no_secret_survives_anywhere() {
        let snap = built(&Config::default());
        let text = serde_json::to_string(&snap).unwrap();
        assert!(!text.contains(GHP), "{text}");
        assert!(!text.contains("s3cr3tvalue"), "{text}");
        assert!(
            snap.redacted.iter().any(|r| r == "a env API_TOKEN"),
            "{:?}",
            snap.redacted
        );
        assert!(snap.redacted.iter().any(|r| r == "a screen"));
        assert!(snap.redacted.iter().any(|r| r == "a history"));
        assert!(snap
            .redacted
            .iter()
            .any(|r| r.starts_with("a process 202 cmd")));
    }

    #[test]
    fn history_filters_keep_commands_out() {
        let cfg = Config::parse(
            "history_filter = [\"^export \", \"npm run dev\"]\n",
            Path::new("c"),
        )
        .unwrap();
        let snap = built(&cfg);
        let sh = &snap.sessions[0].shells[0];
        assert!(sh.history.iter().all(|h| !h.command.starts_with("export")));
        assert_eq!(sh.running, None);
        let pids: Vec<u32> = sh.processes.iter().map(|p| p.pid).collect();
        assert_eq!(pids, [401, 402], "filtered jobs go with their descendants");
    }

    #[test]
    fn a_shell_running_snap_itself_is_at_its_prompt() {
        let mut i = inputs();
        i.procs.get_mut(&100).unwrap().runs_snap = true;
        let snap = build(&i, &Config::default(), |_| serde_json::Value::Null);
        assert_eq!(snap.sessions[0].shells[0].running, None);
    }
}
