//! A brief in words: text for a person, markdown for a coding agent (cut by priority
//! to fit a limit, such as Claude Code's 10,000 characters of SessionStart context),
//! every control character escaped visibly.

use super::fit::{fit, Section};
use super::testruns::phrase;
use super::{Brief, Failure, GitSummary};
use crate::model::Ending;
use crate::timefmt;
use std::fmt::Write as _;

/// How many next steps the markdown's first sentence names.
const LEAD_STEPS: usize = 3;
/// How much of the task and of the checkpoint message (their first line) the markdown
/// shows.
const MESSAGE_CHARS: usize = 500;

/// The brief for a person, every control character escaped visibly.
pub fn render_text(b: &Brief) -> String {
    crate::text::safe(&text(b))
}

/// The latest message of a checkpoint asked for, from the (already redacted) state.
fn checkpoint_message(b: &Brief) -> Option<&str> {
    super::super::checkpoint::latest_message(b.agent.as_ref()?.as_object()?, false)
}

/// The brief for a person, as recorded.
fn text(b: &Brief) -> String {
    let now = timefmt::parse_us(&b.generated_at).unwrap_or_else(timefmt::now_us);
    let mut out = String::new();
    let _ = write!(out, "Session {}", b.session);
    if let Some(p) = &b.project {
        let _ = write!(out, "  ({p}");
        if let Some(br) = &b.git_branch {
            let _ = write!(out, ", branch {br}");
        }
        out.push(')');
    }
    out.push('\n');
    match &b.current_task {
        Some(t) => {
            let _ = writeln!(out, "Task: {t}");
        }
        None if b.state_file.is_none() => {
            let _ = writeln!(out, "Task: none recorded (snap task set TEXT)");
        }
        None => {
            let _ = writeln!(out, "Task: none");
        }
    }
    if !b.next_steps.is_empty() {
        out.push_str("Next steps:\n");
        for (i, s) in b.next_steps.iter().enumerate() {
            let _ = writeln!(out, "  {}. {s}", i + 1);
        }
    }
    if let Some(c) = &b.last_checkpoint {
        let _ = writeln!(out, "Last checkpoint: {c}{}", ago(c, now));
    }
    if let Some(m) = checkpoint_message(b) {
        let _ = writeln!(out, "Checkpoint message: {}", crate::text::safe(m));
    }
    if let Some(m) = &b.last_message {
        let _ = writeln!(out, "Agent's last message: {}", one_line(m));
    }
    if let Some(g) = &b.git {
        text_git(&mut out, g);
    }
    if !b.files_in_progress.is_empty() {
        out.push_str("Files in progress:\n");
        for f in &b.files_in_progress {
            let _ = writeln!(out, "  {:<10} {}", f.git, f.path);
        }
    }
    if !b.tests.is_empty() {
        out.push_str("Tests:\n");
        for t in &b.tests {
            let _ = writeln!(out, "  {}: {}", one_line(&t.command), phrase(t, now));
        }
    }
    if !b.last_commands.is_empty() {
        out.push_str("Last commands:\n");
        for l in &b.last_commands {
            let r = &l.command;
            let exit = r.exit.map_or("…".to_string(), |e| exit_text(e, ""));
            let _ = writeln!(
                out,
                "  {}  {:>4}  {:<5}  {}{}",
                r.started_at.replace('T', " ").trim_end_matches('Z'),
                exit,
                r.source,
                one_line(&r.command),
                times(l.times)
            );
        }
    }
    if let Some(f) = &b.last_failure {
        let _ = writeln!(
            out,
            "Last failure: {} (exit {}, {}, in {}{}){}",
            one_line(&f.command.command),
            f.command.exit.unwrap_or_default(),
            f.command.source,
            f.command.cwd,
            age_after(", ", &f.command.started_at, now),
            since_failure(f, "; it succeeded later", "")
        );
        if let Some(t) = &f.output_tail {
            for line in t.lines() {
                let _ = writeln!(out, "  | {line}");
            }
        }
    }
    for r in &b.running {
        let state = if r.alive {
            "running"
        } else {
            "was running when its shell went away"
        };
        let _ = writeln!(out, "{state}: {}  (in {})", one_line(&r.command), r.cwd);
    }
    if !b.exported.is_empty() {
        let _ = writeln!(out, "Exported: {}", exported(b, false).join(", "));
    }
    for r in &b.resume {
        let _ = writeln!(out, "Resume the agent: {r}");
    }
    for w in &b.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

/// HEAD, the commits since the last checkpoint and what is not committed, for a person.
fn text_git(out: &mut String, g: &GitSummary) {
    if let Some(h) = &g.head {
        let n = g.commits_since_checkpoint.len();
        let _ = write!(out, "HEAD: {}", short(h));
        if n > 0 {
            let _ = write!(out, "; {n} commit{} since the last checkpoint", plural(n));
        }
        out.push('\n');
        for c in &g.commits_since_checkpoint {
            let _ = writeln!(out, "  {} {}", short(&c.id), one_line(&c.subject));
        }
    }
    if let Some(d) = g.diffstat.as_ref().and_then(diffstat_line) {
        let _ = writeln!(out, "Not committed: {d}");
    }
}

/// The brief for a coding agent: its first message after a reconnect, every control
/// character escaped visibly.
pub fn render_markdown(b: &Brief) -> String {
    render_markdown_within(b, usize::MAX)
}

/// [`render_markdown`] in at most `max` characters: what matters least is left out
/// first (exported variables, then the commands' list, …), whole lines only, with a
/// last line saying so.
pub fn render_markdown_within(b: &Brief, max: usize) -> String {
    let sections: Vec<Section> = markdown(b)
        .into_iter()
        .map(|s| Section {
            head: crate::text::safe(&s.head),
            items: s.items.iter().map(|i| crate::text::safe(i)).collect(),
            tail: crate::text::safe(&s.tail),
            ..s
        })
        .collect();
    fit(&sections, max, |n| {
        format!("> {n} line(s) left out to fit; `snap brief --markdown` shows everything.\n")
    })
}

/// The markdown brief, as recorded, in sections of different priority.
fn markdown(b: &Brief) -> Vec<Section> {
    let now = timefmt::parse_us(&b.generated_at).unwrap_or_else(timefmt::now_us);
    let mut out = vec![Section::new(
        100,
        format!("# Resume brief: session {}\n\n", code(&b.session)),
        vec![format!("{}.\n", lead(b))],
    )];

    if !b.next_steps.is_empty() {
        let items = b
            .next_steps
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}. {s}\n", i + 1))
            .collect();
        out.push(Section::new(75, "## Next steps\n\n", items));
    }
    if !b.files_in_progress.is_empty() {
        let items = b
            .files_in_progress
            .iter()
            .map(|f| format!("- {} ({})\n", code(&f.path), f.git))
            .collect();
        out.push(Section::new(60, "## Files in progress\n\n", items));
    }
    out.push(Section::new(90, "## State\n\n", state(b, now)));
    if let Some(m) = &b.last_message {
        let quoted = m.lines().map(|l| format!("> {l}\n")).collect::<String>();
        out.push(Section::new(
            70,
            "## The agent's last message\n\n",
            vec![quoted],
        ));
    }
    if !b.tests.is_empty() {
        let items = b
            .tests
            .iter()
            .map(|t| format!("- {} {}\n", code(&one_line(&t.command)), phrase(t, now)))
            .collect();
        out.push(Section::new(85, "## Tests\n\n", items));
    }
    if let Some(f) = &b.last_failure {
        let head = format!(
            "## Last failing command\n\n{} in {} exited {} ({}{}){}.\n\n",
            code(&one_line(&f.command.command)),
            code(&f.command.cwd),
            f.command.exit.unwrap_or_default(),
            f.command.source,
            age_after(", ", &f.command.started_at, now),
            since_failure(f, "; the same command succeeded later", ": re-run it")
        );
        let items = f
            .output_tail
            .iter()
            .map(|t| {
                let fence = fence_for(t);
                format!("{fence}text\n{t}\n{fence}\n\n")
            })
            .collect();
        let mut s = Section::new(80, head, items);
        s.tail = String::new();
        out.push(s);
    }
    if let Some(g) = &b.git {
        out.push(Section::new(65, "## Git\n\n", git_items(g)));
    }
    if !b.last_commands.is_empty() {
        let items = b
            .last_commands
            .iter()
            .map(|l| {
                let r = &l.command;
                let exit = r
                    .exit
                    .map_or("still running".to_string(), |e| exit_text(e, "exit "));
                format!(
                    "- {} ({exit}, {}, in {}){}\n",
                    code(&one_line(&r.command)),
                    r.source,
                    code(&r.cwd),
                    times(l.times)
                )
            })
            .collect();
        let mut s = Section::new(50, "## Last commands\n\n", items);
        s.keep_last = true;
        out.push(s);
    }
    if !b.running.is_empty() {
        let items = b
            .running
            .iter()
            .map(|r| {
                let state = if r.alive {
                    "running"
                } else {
                    "was running when its shell went away"
                };
                format!(
                    "- {} in {} ({state})\n",
                    code(&one_line(&r.command)),
                    code(&r.cwd)
                )
            })
            .collect();
        out.push(Section::new(45, "## Running\n\n", items));
    }
    if !b.exported.is_empty() {
        let items = exported(b, true)
            .into_iter()
            .map(|e| format!("- {e}\n"))
            .collect();
        out.push(Section::new(30, "## Exported variables\n\n", items));
    }
    for w in &b.warnings {
        out.push(Section::new(
            20,
            String::new(),
            vec![format!("> warning: {w}\n")],
        ));
    }
    out
}

/// The first sentence: the task, the next steps, the failure when it still stands (or
/// what became of it).
fn lead(b: &Brief) -> String {
    let mut lead = match &b.current_task {
        Some(t) => format!(
            "You were working on: **{}**",
            crate::text::one_line(t, MESSAGE_CHARS)
        ),
        None => "No current task is recorded (run `snap task set TEXT` to record one)".into(),
    };
    if !b.next_steps.is_empty() {
        let steps: Vec<String> = b
            .next_steps
            .iter()
            .take(LEAD_STEPS)
            .map(|s| one_line(s))
            .collect();
        let _ = write!(lead, "; next: {}", steps.join("; "));
        let more = b.next_steps.len().saturating_sub(LEAD_STEPS);
        if more > 0 {
            let _ = write!(lead, " (and {more} more)");
        }
    }
    if let Some(f) = &b.last_failure {
        let cmd = code(&one_line(&f.command.command));
        let exit = f.command.exit.unwrap_or_default();
        if f.stands() {
            let _ = write!(lead, "; the last failing command was {cmd} (exit {exit})");
        } else if f.succeeded_later {
            let _ = write!(lead, "; {cmd} failed (exit {exit}) but succeeded later");
        } else {
            let _ = write!(
                lead,
                "; {cmd} failed (exit {exit}) on a tree that has changed since ({}): re-run it",
                changes(f.head_moved == Some(true), f.changed_count)
            );
        }
    }
    lead
}

/// The State section's lines.
fn state(b: &Brief, now: i64) -> Vec<String> {
    let mut items = Vec::new();
    if let Some(p) = &b.project {
        let mut l = format!("- Project: {}", code(p));
        if let Some(br) = &b.git_branch {
            let _ = write!(l, " on branch {}", code(br));
        }
        items.push(l + "\n");
    }
    items.push(match &b.last_checkpoint {
        Some(c) => format!("- Last checkpoint: {c}{}\n", ago(c, now)),
        None => "- Last checkpoint: none yet\n".into(),
    });
    if let Some(m) = checkpoint_message(b) {
        items.push(format!(
            "- Checkpoint message: {}\n",
            crate::text::one_line(m, MESSAGE_CHARS)
        ));
    }
    if let Some(e) = &b.environment {
        items.push(format!("- Environment: {e}\n"));
    }
    if let Some(f) = &b.state_file {
        items.push(format!("- State file: {}\n", code(f)));
    }
    for r in &b.resume {
        items.push(format!("- Resume the agent: {}\n", code(r)));
    }
    items.push(
        "- After each step: `snap checkpoint -m \"what you did\"`; \
         update the plan with `snap task next`/`snap task done`.\n"
            .into(),
    );
    items
}

/// The Git section's lines.
fn git_items(g: &GitSummary) -> Vec<String> {
    let mut items = Vec::new();
    match &g.head {
        Some(h) => items.push(format!("- HEAD: {}\n", code(h))),
        None => items.push("- HEAD: no commit yet\n".into()),
    }
    if !g.commits_since_checkpoint.is_empty() {
        let mut l = String::from("- Commits since the last checkpoint:\n");
        for c in &g.commits_since_checkpoint {
            let _ = writeln!(l, "  - {} {}", code(short(&c.id)), one_line(&c.subject));
        }
        items.push(l);
    }
    if let Some(d) = &g.diffstat {
        if let Some(line) = diffstat_line(d) {
            let mut l = format!("- Not committed: {line}\n");
            for f in &d.by_file {
                let n = |x: Option<u64>| x.map_or("-".to_string(), |v| v.to_string());
                let _ = writeln!(
                    l,
                    "  - {} +{} -{}",
                    code(&f.path),
                    n(f.insertions),
                    n(f.deletions)
                );
            }
            items.push(l);
        }
    }
    items
}

/// "3 files changed, +10 -2; 1 untracked", or None when nothing is uncommitted.
fn diffstat_line(d: &crate::agent::git::DiffStat) -> Option<String> {
    let mut parts = Vec::new();
    if d.files > 0 {
        parts.push(format!(
            "{} file{} changed, +{} -{}",
            d.files,
            plural(d.files),
            d.insertions,
            d.deletions
        ));
    }
    if d.untracked > 0 {
        parts.push(format!("{} untracked", d.untracked));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// What became of a failure, when it no longer stands: `succeeded`, or that the tree
/// changed, then `advice`.
fn since_failure(f: &Failure, succeeded: &str, advice: &str) -> String {
    if f.succeeded_later {
        succeeded.to_string()
    } else if f.tree_changed == Some(true) {
        format!(
            "; the tree has changed since ({}){advice}",
            changes(f.head_moved == Some(true), f.changed_count)
        )
    } else {
        String::new()
    }
}

/// "HEAD moved and 2 files changed".
fn changes(head_moved: bool, files: usize) -> String {
    let mut parts = Vec::new();
    if head_moved {
        parts.push("HEAD moved".to_string());
    }
    if files > 0 {
        parts.push(format!("{files} file{} changed", plural(files)));
    }
    parts.join(" and ")
}

/// The exported variables: `NAME=value`, or the name alone for a secret.
fn exported(b: &Brief, markdown: bool) -> Vec<String> {
    b.exported
        .iter()
        .map(|name| match b.exported_values.get(name) {
            Some(v) if markdown => code(&format!("{name}={}", one_line(v))),
            Some(v) => format!("{name}={}", one_line(v)),
            None if markdown => format!("{} (value hidden: a secret)", code(name)),
            None => format!("{name} (secret)"),
        })
        .collect()
}

/// " (×3)" for a command run 3 times in a row, nothing for once.
fn times(n: usize) -> String {
    if n > 1 {
        format!(" (×{n})")
    } else {
        String::new()
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A commit id as people write it.
fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// The first line of a command, shortened for lists.
fn one_line(s: &str) -> String {
    crate::text::one_line(s, 120)
}

/// " (3 min ago)" for an RFC 3339 time, or nothing when it does not parse.
fn ago(rfc3339: &str, now: i64) -> String {
    age(rfc3339, now)
        .map(|a| format!(" ({a})"))
        .unwrap_or_default()
}

/// `sep` and how long ago `rfc3339` was ("3 min ago"), or nothing when it does not parse.
fn age_after(sep: &str, rfc3339: &str, now: i64) -> String {
    age(rfc3339, now)
        .map(|a| format!("{sep}{a}"))
        .unwrap_or_default()
}

fn age(rfc3339: &str, now: i64) -> Option<String> {
    timefmt::parse_us(rfc3339).map(|t| timefmt::age(t, now))
}

/// A markdown code span that survives backticks inside.
fn code(s: &str) -> String {
    let mut ticks = 1;
    while s.contains(&"`".repeat(ticks)) {
        ticks += 1;
    }
    let t = "`".repeat(ticks);
    if ticks > 1 || s.starts_with('`') || s.ends_with('`') {
        format!("{t} {s} {t}")
    } else {
        format!("{t}{s}{t}")
    }
}

/// A code fence longer than any backtick run in `s`.
fn fence_for(s: &str) -> String {
    let mut n = 3;
    while s.contains(&"`".repeat(n)) {
        n += 1;
    }
    "`".repeat(n)
}

/// An exit status as the brief lists it (after `prefix`): `stopped` for a stopped job,
/// which has not ended.
fn exit_text(exit: i32, prefix: &str) -> String {
    match Ending::of(exit) {
        Ending::Stopped => "stopped".into(),
        _ => format!("{prefix}{exit}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_survive_backticks() {
        assert_eq!(code("ls"), "`ls`");
        assert_eq!(code("echo `date`"), "`` echo `date` ``");
        assert_eq!(fence_for("a ``` b"), "````");
    }
}
