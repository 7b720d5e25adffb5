//! One module per subcommand, each thin: parse → call the core → print.

mod brief;
mod checkpoint;
mod completions;
mod config;
mod daemon;
mod doctor;
mod forget;
mod history;
mod hook;
mod init;
mod list;
mod man;
mod mcp;
mod prune;
mod reindex;
mod restore;
mod save;
mod sessions;
mod shell_start;
mod show;
mod start;
mod task;

use crate::cli::{Cli, Command};
use anyhow::Result;

/// Run the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init(args) => init::run(&args),
        Command::ShellStart(args) => shell_start::run(&args),
        Command::History(args) => history::run(&args),
        Command::Sessions(args) => sessions::run(&args),
        Command::Save(args) => save::run(&args),
        Command::List(args) => list::run(args.json),
        Command::Show(args) => show::run(&args),
        Command::Prune(args) => prune::run(&args),
        Command::Forget(args) => forget::run(&args),
        Command::Reindex => reindex::run(),
        Command::Daemon(cmd) => daemon::run(&cmd),
        Command::Config(args) => config::run(&args),
        Command::Doctor(args) => doctor::run(args.json),
        Command::Completions(args) => completions::run(&args),
        Command::Man => man::run(),
        Command::Start(args) => start::run(&args),
        Command::Task(cmd) => task::run(&cmd),
        Command::Checkpoint(args) => checkpoint::run(&args),
        Command::Brief(args) => brief::run(&args),
        Command::Hook(args) => hook::run(&args),
        Command::Mcp => mcp::run(),
        Command::Restore(args) => restore::run(&args),
    }
}

/// Write to stdout; a reader that stopped early (`| head`) is not an error.
fn print_bytes(bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
