//! The `/proc` pass of `snap save` alone, as a program of its own to time against `ps`
//! (benches/capture.sh): every process's `stat` for the tree, then the details of one
//! shell's subtree (`status`, `cmdline`, `cwd`, and the environment of the shell and its
//! direct children), read by the module `snap save` reads them with, spread over the
//! cores the same way. It leaves out what a save does besides: the journal, tmux,
//! assembling, redacting and writing the snapshot, retention.
//!
//! Usage: proc_pass SHELL_PID

// snap's own module, compiled in (its tests too, never run here): this uses part of it.
#![allow(unused)]
#[path = "../src/capture/proc_table.rs"]
mod proc_table;

use proc_table::Want;
use std::collections::HashMap;
use std::process::ExitCode;

fn main() -> ExitCode {
    // `cargo test --all-targets` runs this with no pid (or cargo's own flags): one pass
    // over its own tree then, so the build and the reader are checked.
    let shell = match std::env::args().nth(1) {
        None => std::process::id(),
        Some(a) if a.starts_with('-') => std::process::id(),
        Some(a) => match a.parse::<u32>() {
            Ok(pid) => pid,
            Err(_) => {
                eprintln!("usage: proc_pass SHELL_PID ({a:?} is not a pid)");
                return ExitCode::from(2);
            }
        },
    };
    let table = proc_table::read_all();
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for s in table.values() {
        children.entry(s.ppid).or_default().push(s.pid);
    }
    let mut wanted = vec![Want {
        pid: shell,
        environ: true,
    }];
    let mut stack = vec![shell];
    while let Some(pid) = stack.pop() {
        for &c in children.get(&pid).into_iter().flatten() {
            wanted.push(Want {
                pid: c,
                environ: pid == shell,
            });
            stack.push(c);
        }
    }
    let details = proc_table::details(&wanted);
    println!(
        "{} processes, {} in the shell's tree, {} of them read",
        table.len(),
        wanted.len(),
        details.len()
    );
    ExitCode::SUCCESS
}
