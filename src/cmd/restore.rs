//! `snap restore [NAME] [--from ID] [--dry-run] [--yes] [--no-attach] [--no-tmux]
//! [--missing] [--json]`: plan, print the brief, act. What it prints (plan, outcome,
//! brief, the banner of the first window) is redacted and free of control characters;
//! the restored shells get the real values.

use crate::cli::RestoreArgs;
use crate::config::Config;
use crate::model::snapshot::{Snapshot, SNAPSHOT_SCHEMA};
use crate::policy::lookup::OnDisk;
use crate::policy::Rules;
use crate::redact::Redactor;
use crate::restore::execute::{self, Outcome};
use crate::restore::plan::{self, Action, Judging, Mode, Options, Plan, World};
use crate::restore::tmux;
use crate::store::forgotten::{self, Forgotten};
use crate::store::paths::Paths;
use crate::store::recorded::{Commands, Recorded, Select};
use crate::store::shells::ShellState;
use crate::store::summaries::{self, Summary};
use crate::store::{snapshots, tmux_closed};
use crate::{agent, capture, session, timefmt};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

/// Journal-only restores bring back shells active within this long of the session's last.
const JOURNAL_ONLY_WINDOW_US: i64 = 12 * 3600 * 1_000_000;

/// Restore a session.
pub fn run(args: &RestoreArgs) -> Result<()> {
    let paths = Paths::from_env()?;
    let recorded = Recorded::open(&paths);
    let cfg = Config::load(&paths.config_in_force())?;
    let rules = Rules::new(&cfg);
    // Which snapshot, from their summaries: only the one restored from is read.
    let forgotten = forgotten::forgotten(&paths);
    let (summaries, from) = match &args.from {
        Some(id) => {
            let (path, snap) = snapshots::find(&paths, id)?;
            let summary = Summary::of(&snap).map(|s| (path, s));
            (summary.into_iter().collect(), Some(snap))
        }
        None => {
            let listing = summaries::listing(&paths, &forgotten);
            snapshots::report_bad(&listing.bad);
            (listing.good, None)
        }
    };
    let name = match &args.name {
        Some(n) => session::normalize(n),
        None => pick_session(&summaries, &recorded.last_seen_by_session())?,
    };
    let has_live = |s: &Summary| s.sessions.iter().any(|(n, alive)| *alive && n == &name);
    let source = match (&args.from, from) {
        (Some(_), Some(snap)) if summaries.iter().any(|(_, s)| has_live(s)) => snap,
        (Some(id), _) => {
            bail!("snapshot {id} has no live shell of session {name}: see `snap show {id}`")
        }
        (None, _) => match newest_source(&summaries, &forgotten, &has_live) {
            Some(snap) => snap,
            None => journal_only_source(recorded.last_seen(&name)).with_context(|| {
                format!(
                    "nothing to restore for session {name}: see `snap sessions` and `snap list`"
                )
            })?,
        },
    };
    // The session's shells in the snapshot and since, with their lineages' history.
    let taken_us = timefmt::parse_us(&source.taken_at).unwrap_or(i64::MIN);
    let in_snapshot = source
        .sessions
        .iter()
        .filter(|s| s.name == name)
        .flat_map(|s| &s.shells)
        .map(|s| s.id.as_str());
    let journals = recorded.shells(
        &Select::since(taken_us)
            .in_session(&name)
            .with_ids(in_snapshot)
            .with_lineage()
            .with_commands(Commands::All),
    );
    let world = world_now(&paths, &source, &journals, &name);
    let opts = Options {
        yes: args.yes,
        missing: args.missing,
        no_tmux: args.no_tmux,
    };
    let mut redactor = Redactor::new(&cfg)?;
    redactor.learn(journals.iter().flat_map(|s| [&s.env_base, &s.env_now]));
    let executable =
        |name: &str, path: Option<&str>, cwd: &str| OnDisk::new(path, cwd).is_executable(name);
    let judging = Judging {
        rules: &rules,
        executable: &executable,
        redactor: &redactor,
    };
    let mut plan = plan::plan(&source, &name, &journals, &world, &judging, opts);
    resume_agent_panes(&paths, &name, &mut plan, &redactor);
    let brief = agent::brief::build(&paths, &recorded, &name, None);
    let shown = redacted_plan(&plan, &redactor);
    if args.dry_run {
        return print_plan(&shown, &brief, None, &redactor, args.json);
    }
    let now = timefmt::now_us();
    let header = crate::text::safe(&header(&shown, now));
    let outcome = match plan.mode {
        Mode::Attach => {
            let outcome = if args.missing && !plan.windows.is_empty() {
                let o = execute::tmux_rebuild(&paths, &plan, "", true)?;
                record_generation(&paths, &cfg, &name, &o);
                o
            } else {
                Outcome::default()
            };
            print_plan(&shown, &brief, Some(&outcome), &redactor, args.json)?;
            return tmux::attach_or_print(&name, args.no_attach || args.json);
        }
        Mode::Rebuild => {
            let banner = format!("{header}\n{}", agent::brief::render_text(&brief));
            let o = execute::tmux_rebuild(&paths, &plan, &banner, false)?;
            record_generation(&paths, &cfg, &name, &o);
            o
        }
        Mode::Plain => execute::plain_background(&paths, &plan)?,
    };
    print_plan(&shown, &brief, Some(&outcome), &redactor, args.json)?;
    match plan.mode {
        Mode::Plain
            if !args.no_attach && std::io::stdin().is_terminal() && !plan.windows.is_empty() =>
        {
            let banner = format!("{header}\n{}", agent::brief::render_text(&brief));
            execute::plain_shell(&paths, &plan, &banner)
        }
        Mode::Plain => Ok(()),
        _ => tmux::attach_or_print(&name, args.no_attach || args.json),
    }
}

/// Once the new shells are up, snapshot the session as rebuilt (places, layout, names,
/// active panes), each new shell with the screen and the command restore gave it: a
/// crash before the next scheduled snapshot then rebuilds this same session. Shells that
/// do not come up in time are named on stderr and no snapshot is taken.
fn record_generation(paths: &Paths, cfg: &Config, session: &str, outcome: &Outcome) {
    let late = execute::wait_shells_up(&outcome.made);
    if late > 0 {
        eprintln!(
            "snap: {late} restored shell(s) did not start in time: no snapshot of the restored session yet (run `snap save` once they are up)"
        );
        return;
    }
    let given = outcome
        .made
        .iter()
        .map(|m| {
            let g = capture::Given {
                screen: m.screen.clone(),
                pending: m.pending.clone(),
            };
            (m.pane_id.clone(), g)
        })
        .collect();
    if let Err(e) = capture::snapshot_after_restore(paths, cfg, session, &given) {
        eprintln!("snap: cannot snapshot the restored session: {e:#} (run `snap save`)");
    }
}

/// The newest snapshot `wanted` says to restore from that can be read (the newest in
/// which the session had live shells); a file that cannot is named and passed over.
fn newest_source(
    summaries: &[(PathBuf, Summary)],
    forgotten: &Forgotten,
    wanted: &dyn Fn(&Summary) -> bool,
) -> Option<Snapshot> {
    for (path, _) in summaries.iter().rev().filter(|(_, s)| wanted(s)) {
        match snapshots::load(path) {
            Ok(mut snap) => {
                forgotten::drop_forgotten(&mut snap, forgotten);
                return Some(snap);
            }
            Err(e) => snapshots::report_bad(&[(path.clone(), format!("{e:#}"))]),
        }
    }
    None
}

/// Without NAME: the only session, a picker on a terminal, else an error listing them.
fn pick_session(snaps: &[(PathBuf, Summary)], last_seen: &BTreeMap<String, i64>) -> Result<String> {
    let mut sessions = plan::restorable(snaps.iter().map(|(_, s)| s), last_seen);
    if sessions.is_empty() {
        sessions = last_seen.iter().map(|(s, &t)| (s.clone(), t)).collect();
        sessions.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    }
    match sessions.len() {
        0 => bail!("nothing recorded yet: load the hook in your shell (see `snap init --help`)"),
        1 => return Ok(sessions.remove(0).0),
        _ => {}
    }
    let now = timefmt::now_us();
    let list: Vec<String> = sessions
        .iter()
        .map(|(n, t)| format!("{n} (active {})", timefmt::age(*t, now)))
        .collect();
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        bail!(
            "several sessions can be restored; name one: snap restore NAME\n  {}",
            list.join("\n  ")
        );
    }
    let mut err = std::io::stderr();
    for (i, l) in list.iter().enumerate() {
        writeln!(err, "{:>3}  {l}", i + 1)?;
    }
    write!(err, "restore which? [1] ")?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let choice = line.trim();
    let index = if choice.is_empty() {
        1
    } else {
        choice.parse::<usize>().unwrap_or(0)
    };
    sessions
        .get(index.wrapping_sub(1))
        .map(|(n, _)| n.clone())
        .with_context(|| format!("{choice:?} is not one of 1 to {}", sessions.len()))
}

/// No snapshot of the session: restore from its journals alone (no layout, no screens).
/// `last_seen`: when a shell of the session was last seen, if ever.
fn journal_only_source(last_seen: Option<i64>) -> Option<Snapshot> {
    let last = last_seen?;
    let since = last - JOURNAL_ONLY_WINDOW_US;
    Some(Snapshot {
        schema: SNAPSHOT_SCHEMA,
        id: "journals".into(),
        taken_at: timefmt::rfc3339_us(since),
        host: String::new(),
        label: Some("no snapshot: journals only".into()),
        redacted: Vec::new(),
        sessions: Vec::new(),
    })
}

/// Each agent pane resumes its own conversation (the one its shell ran), with the CLI's
/// own flags; one whose transcript is gone is left out, with why.
fn resume_agent_panes(paths: &Paths, session: &str, plan: &mut Plan, redactor: &Redactor) {
    for pane in plan.windows.iter_mut().flat_map(|w| w.panes.iter_mut()) {
        let Some(r) = pane.relaunch.as_mut().filter(|r| r.action != Action::Skip) else {
            continue;
        };
        let at = agent::resume::PaneRef {
            shell_id: Some(&pane.replaces),
            tmux_pane: None,
        };
        match agent::resume::for_pane(paths, session, at, &r.original) {
            Some(agent::resume::Resume::Line(line)) => {
                r.shown = redactor.text(&line).unwrap_or_else(|| line.clone());
                r.line = line;
            }
            Some(agent::resume::Resume::Gone(why)) => {
                r.action = Action::Skip;
                r.reason = Some(why);
            }
            None => {}
        }
    }
}

/// What is alive now: tmux, processes, directories, agents' resume lines.
fn world_now(paths: &Paths, source: &Snapshot, journals: &[ShellState], name: &str) -> World {
    let tmux_available = tmux::available();
    let existing_dirs = plan::dirs_to_check(source, journals)
        .into_iter()
        .filter(|d| std::path::Path::new(d).is_dir())
        .collect();
    let mut agent_resume = std::collections::HashMap::new();
    for cli in ["claude", "codex"] {
        if let Some(line) = agent::resume_line(paths, name, cli) {
            agent_resume.insert(cli.to_string(), line);
        }
    }
    World {
        tmux_session_alive: tmux_available && tmux::has_session(name),
        tmux_available,
        processes: capture::processes::running(),
        existing_dirs,
        agent_resume,
        closed_panes: tmux_closed::read_closed(&tmux_closed::closed_file(&paths.state)),
    }
}

/// The first lines of the brief: what was restored, from when.
fn header(plan: &Plan, now: i64) -> String {
    let taken = timefmt::parse_us(&plan.taken_at).unwrap_or(now);
    let source = if plan.snapshot == "journals" {
        "its shells' journals (no snapshot)".to_string()
    } else {
        format!(
            "snapshot {} taken {} ({})",
            plan.snapshot,
            plan.taken_at,
            timefmt::age(taken, now)
        )
    };
    format!("snap: session {} from {source}", plan.session)
}

/// The plan as shown (text or JSON): every text redacted, secret-named values
/// `[redacted]`. The real plan, with real values, is what gets executed.
fn redacted_plan(plan: &Plan, r: &Redactor) -> Plan {
    let mut shown = plan.clone();
    let hide = |s: &mut String| {
        if let Some(t) = r.text(s) {
            *s = t;
        }
    };
    hide(&mut shown.session);
    for w in &mut shown.windows {
        hide(&mut w.name);
        for p in &mut w.panes {
            hide(&mut p.cwd);
            p.cwd_note.iter_mut().for_each(hide);
            r.env(&mut p.env);
            p.screen.iter_mut().for_each(hide);
            for (_, h) in &mut p.history {
                hide(h);
            }
            for rl in p.jobs.iter_mut().chain(p.relaunch.as_mut()) {
                hide(&mut rl.line);
                hide(&mut rl.shown);
                hide(&mut rl.original);
                rl.reason.iter_mut().for_each(hide);
            }
        }
    }
    for l in &mut shown.left {
        hide(&mut l.shell);
        hide(&mut l.reason);
    }
    for j in &mut shown.jobs_left {
        hide(&mut j.shell);
        hide(&mut j.relaunch.line);
        hide(&mut j.relaunch.shown);
        hide(&mut j.relaunch.original);
        j.relaunch.reason.iter_mut().for_each(hide);
    }
    shown.missing.iter_mut().for_each(hide);
    shown.notes.iter_mut().for_each(hide);
    shown
}

/// What happened, as shown: redacted like the plan.
fn redacted_outcome(outcome: &Outcome, r: &Redactor) -> Outcome {
    let hide = |list: &[String]| -> Vec<String> {
        list.iter()
            .map(|s| r.text(s).unwrap_or_else(|| s.clone()))
            .collect()
    };
    Outcome {
        relaunched: hide(&outcome.relaunched),
        held: hide(&outcome.held),
        left_out: hide(&outcome.left_out),
        background: hide(&outcome.background),
        failed: hide(&outcome.failed),
        made: Vec::new(),
    }
}

/// The shells left out, grouped by reason, in the order the reasons first come.
fn by_reason(left: &[plan::Left]) -> Vec<(&str, Vec<&str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    for l in left {
        match out.iter_mut().find(|(r, _)| *r == l.reason) {
            Some((_, shells)) => shells.push(&l.shell),
            None => out.push((&l.reason, vec![&l.shell])),
        }
    }
    out
}

/// Print the (redacted) plan and what happened as text or JSON, never a control
/// character raw.
fn print_plan(
    plan: &Plan,
    brief: &agent::brief::Brief,
    outcome: Option<&Outcome>,
    r: &Redactor,
    json: bool,
) -> Result<()> {
    let outcome = outcome.map(|o| redacted_outcome(o, r));
    let outcome = outcome.as_ref();
    if json {
        let v = serde_json::json!({ "plan": plan, "outcome": outcome, "brief": brief });
        let out = crate::text::json_pretty(&v)? + "\n";
        return super::print_bytes(out.as_bytes());
    }
    let now = timefmt::now_us();
    let mut out = String::new();
    out.push_str(&header(plan, now));
    out.push('\n');
    let verb = if outcome.is_some() {
        ""
    } else {
        " (dry run: nothing changed)"
    };
    match plan.mode {
        Mode::Attach => out.push_str(&format!(
            "  tmux session {} is alive: attaching{verb}\n",
            plan.session
        )),
        Mode::Rebuild => out.push_str(&format!(
            "  rebuilding tmux session {}{verb}\n",
            plan.session
        )),
        Mode::Plain => out.push_str(&format!("  without tmux{verb}\n")),
    }
    for id in &plan.missing {
        out.push_str(&format!(
            "  missing (died while the session lived; --missing brings it back): {id}\n"
        ));
    }
    for (i, w) in plan.windows.iter().enumerate() {
        out.push_str(&format!("  window {i} {:?}\n", w.name));
        for p in &w.panes {
            out.push_str(&format!(
                "    {} in {} ({} variables, {} commands of history)\n",
                p.kind,
                p.cwd,
                p.env.len(),
                p.history_len
            ));
            if let Some(note) = &p.cwd_note {
                out.push_str(&format!("      {note}\n"));
            }
            for r in p.jobs.iter().chain(&p.relaunch) {
                let what = match r.action {
                    Action::Run => "run",
                    Action::Type => "typed, press Enter to run",
                    Action::Skip => "left out",
                };
                // Every line of a multi-line command, the later ones indented under it;
                // the reason after a one-line command, on a line of its own after more.
                let mut lines = r.shown.lines();
                let first = lines.next().unwrap_or_default();
                let more: Vec<&str> = lines.collect();
                let why = r.reason.as_deref();
                match why.filter(|_| more.is_empty()) {
                    Some(why) => out.push_str(&format!("      {what}: {first}: {why}\n")),
                    None => out.push_str(&format!("      {what}: {first}\n")),
                }
                for line in &more {
                    out.push_str(&format!("        {line}\n"));
                }
                if let Some(why) = why.filter(|_| !more.is_empty()) {
                    out.push_str(&format!("        ({why})\n"));
                }
            }
        }
    }
    for j in &plan.jobs_left {
        let why = j.relaunch.reason.as_deref().unwrap_or("left out");
        out.push_str(&format!(
            "  job not started again: {}: {why}\n",
            crate::text::one_line(&j.relaunch.shown, 120)
        ));
    }
    for (reason, shells) in by_reason(&plan.left) {
        let n = shells.len();
        let plural = if n == 1 { "" } else { "s" };
        out.push_str(&format!(
            "  not restored, {reason}: {n} shell{plural} ({})\n",
            shells.join(", ")
        ));
    }
    if !plan.reexport.is_empty() {
        out.push_str(&format!(
            "  re-export by hand (only known redacted): {}\n",
            plan.reexport.join(" ")
        ));
    }
    for n in &plan.notes {
        out.push_str(&format!("  note: {n}\n"));
    }
    if let Some(o) = outcome {
        for b in &o.background {
            out.push_str(&format!("  started in the background: {b}\n"));
        }
        for f in &o.failed {
            out.push_str(&format!("  FAILED: {f}\n"));
        }
    }
    out.push('\n');
    let mut out = crate::text::safe(&out);
    out.push_str(&agent::brief::render_text(brief));
    super::print_bytes(out.as_bytes())
}
