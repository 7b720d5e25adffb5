//! `snap task set|next|done|files|show|clear`: the coding agent's task state in
//! `.agent-session.json` at the project root (or `--file PATH`).

use crate::cli::{TaskCommand, TaskFileArg, TaskFilesCommand};
use crate::store::agent_state::{self, AgentState, PINNED};
use crate::store::paths::Paths;
use crate::{text, timefmt};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::Path;

/// Run one `snap task` subcommand.
pub fn run(cmd: &TaskCommand) -> Result<()> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let said = match cmd {
        TaskCommand::Set(a) => set(&cwd, &a.file, &a.text)?,
        TaskCommand::Next(a) => next(&cwd, &a.file, &a.steps)?,
        TaskCommand::Done(a) => done(&cwd, &a.file, &a.text)?,
        TaskCommand::Files(TaskFilesCommand::Add(a)) => edit(&cwd, &a.file, |st| {
            let mut pinned = st.pinned();
            let mut files = st.files_in_progress();
            for p in &a.paths {
                let rel = st.relative(&cwd, p);
                if !st.root.join(&rel).exists() {
                    eprintln!("snap: note: {rel} does not exist (pinned anyway)");
                }
                for list in [&mut pinned, &mut files] {
                    if !list.contains(&rel) {
                        list.push(rel.clone());
                    }
                }
            }
            st.set_strings(PINNED, &pinned);
            st.set_strings("files_in_progress", &files);
            Ok(format!("{} file(s) in progress", files.len()))
        })?,
        TaskCommand::Files(TaskFilesCommand::Rm(a)) => edit(&cwd, &a.file, |st| {
            let mut pinned = st.pinned();
            let mut files = st.files_in_progress();
            for p in &a.paths {
                let rel = st.relative(&cwd, p);
                let given = p.to_string_lossy();
                let known = |f: &String| f == &rel || f == given.as_ref();
                if !pinned.iter().any(known) && !files.iter().any(known) {
                    bail!("{rel} is not in progress in {}", st.path.display());
                }
                pinned.retain(|f| !known(f));
                files.retain(|f| !known(f));
            }
            st.set_strings(PINNED, &pinned);
            st.set_strings("files_in_progress", &files);
            Ok(format!("{} file(s) in progress", files.len()))
        })?,
        TaskCommand::Show(a) => return show(&cwd, &a.file, a.json),
        TaskCommand::Clear(f) => edit(&cwd, f, |st| {
            st.set("current_task", Value::String(String::new()));
            st.set_strings("files_in_progress", &[]);
            st.set_strings("next_steps", &[]);
            if st.doc.contains_key(PINNED) {
                st.set_strings(PINNED, &[]);
            }
            Ok("task cleared".into())
        })?,
    };
    println!("{}", text::safe(&said));
    Ok(())
}

/// Set the current task; says what changed.
pub fn set(cwd: &Path, file: &TaskFileArg, text: &str) -> Result<String> {
    edit(cwd, file, |st| {
        st.set("current_task", Value::String(text.to_string()));
        Ok(format!("task: {text}"))
    })
}

/// Append next steps; says how many there are.
pub fn next(cwd: &Path, file: &TaskFileArg, new: &[String]) -> Result<String> {
    edit(cwd, file, |st| {
        let mut steps = st.next_steps();
        steps.extend(new.iter().cloned());
        st.set_strings("next_steps", &steps);
        Ok(format!("{} next step(s)", steps.len()))
    })
}

/// Remove a next step given by its text or its number (from 1); says which.
pub fn done(cwd: &Path, file: &TaskFileArg, given: &str) -> Result<String> {
    edit(cwd, file, |st| {
        let mut steps = st.next_steps();
        let idx = step_index(&steps, given).with_context(|| {
            format!(
                "no next step {given:?} in {}: give its text or its number (snap task show)",
                st.path.display()
            )
        })?;
        let done = steps.remove(idx);
        st.set_strings("next_steps", &steps);
        Ok(format!("done: {done}"))
    })
}

/// Load, change, save; says what changed and where.
fn edit(
    cwd: &Path,
    file: &TaskFileArg,
    change: impl FnOnce(&mut AgentState) -> Result<String>,
) -> Result<String> {
    let paths = Paths::from_env()?;
    let (path, root) = agent_state::locate(cwd, file.file.as_deref());
    let (st, said) = crate::agent::update_state(&paths, &path, &root, change)?;
    Ok(format!("{said}  ({})", st.path.display()))
}

/// The index of a step given by its exact text, else by its number (from 1).
fn step_index(steps: &[String], given: &str) -> Option<usize> {
    if let Some(i) = steps.iter().position(|s| s == given) {
        return Some(i);
    }
    let n: usize = given.trim().parse().ok()?;
    (1..=steps.len()).contains(&n).then(|| n - 1)
}

fn show(cwd: &Path, file: &TaskFileArg, json: bool) -> Result<()> {
    let (path, root) = agent_state::locate(cwd, file.file.as_deref());
    let st = AgentState::load(&path, &root)?;
    if json {
        println!("{}", text::json_pretty(&Value::Object(st.document()))?);
        return Ok(());
    }
    // Every field comes from a project file, which a cloned repository may ship.
    let safe = text::safe;
    println!("Task: {}", safe(st.current_task().unwrap_or("(none)")));
    let steps = st.next_steps();
    if !steps.is_empty() {
        println!("Next steps:");
        for (i, s) in steps.iter().enumerate() {
            println!("  {}. {}", i + 1, safe(s));
        }
    }
    let pinned = st.pinned();
    let files = st.files_in_progress();
    if !files.is_empty() {
        println!("Files in progress:");
        for f in &files {
            let pin = if pinned.contains(f) { "  (pinned)" } else { "" };
            println!("  {}{pin}", safe(f));
        }
    }
    if let Some(e) = st.environment() {
        println!("Environment: {}", safe(e));
    }
    match st.last_checkpoint() {
        Some(c) => {
            let ago = timefmt::parse_us(c)
                .map(|t| format!(" ({})", timefmt::age(t, timefmt::now_us())))
                .unwrap_or_default();
            println!("Last checkpoint: {}{ago}", safe(c));
        }
        None => println!("Last checkpoint: none"),
    }
    let note = if st.existed { "" } else { " (not created yet)" };
    println!("File: {}{note}", safe(&st.path.display().to_string()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_by_text_then_number() {
        let steps: Vec<String> = ["a", "2", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(step_index(&steps, "c"), Some(2));
        assert_eq!(step_index(&steps, "2"), Some(1));
        assert_eq!(step_index(&steps, "3"), Some(2));
        assert_eq!(step_index(&steps, "4"), None);
        assert_eq!(step_index(&steps, "0"), None);
        assert_eq!(step_index(&steps, "x"), None);
    }
}
