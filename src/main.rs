//! snap: keep a coding session alive across disconnects.
//!
//! Imports run one way, down these layers (a module uses its own layer and the ones
//! below it, never one above, and no modules use each other round in a cycle;
//! `tests/layers.rs` checks both):
//!
//! 1. `model`: shared types (`ShellKind`, `Ended`, `Policy`, meta, snapshots,
//!    commands), importing nothing of the crate.
//! 2. leaf helpers: `timefmt`, `text`, `shellenv`, `envguard`, `liveness`, `session`,
//!    `exe` (this binary, and programs on PATH).
//! 3. `config`: the TOML configuration (given its file; it knows nothing of the store).
//! 4. rules: `policy` (relaunch judgements), `redact` (secrets).
//! 5. `store`: everything on disk (paths, the atomic writer, journals, index,
//!    snapshots, retention, the forget list, the agent state file, tmux's closed-pane
//!    notes, restore's leftover files).
//! 6. `capture`, `restore`, `agent`, `notice`, `daemon` (`agent`'s checkpoints and the
//!    daemon take snapshots through `capture`, which uses none of them).
//! 7. `cli` and `cmd`: one file per subcommand.

mod agent;
mod capture;
mod cli;
mod cmd;
mod config;
mod daemon;
mod envguard;
mod exe;
#[cfg(test)]
mod fuzz_tests;
mod liveness;
mod model;
mod notice;
mod policy;
mod redact;
mod restore;
mod session;
mod shellenv;
mod store;
mod text;
mod timefmt;

use clap::Parser;
use std::process::ExitCode;

/// Set what SIGPIPE does. Every command but the daemon takes the default: when its
/// reader goes away (`snap history | head -1`) it stops there, quietly, with the
/// SIGPIPE status, as `cat` does, instead of failing on the next write. Each command
/// writes its files atomically before or between its prints, so stopping at a print
/// never leaves half a file; `snap hook` prints only once its work is done. The
/// snapshot daemon ignores it (Rust's default): a log reader or journald going away
/// must not end the scheduler, a failed write is only a lost log line.
fn sigpipe(action: libc::sighandler_t) {
    // SAFETY: called on the main thread before any other thread exists (the daemon's
    // runtime starts later); `signal` with SIG_DFL or SIG_IGN installs no handler code.
    unsafe {
        libc::signal(libc::SIGPIPE, action);
    }
}

fn main() -> ExitCode {
    sigpipe(libc::SIG_DFL);
    let cli = cli::Cli::parse();
    if matches!(
        cli.command,
        cli::Command::Daemon(cli::DaemonCommand::Run(_))
    ) {
        sigpipe(libc::SIG_IGN);
    }
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("snap: {e:#}");
            ExitCode::from(1)
        }
    }
}
