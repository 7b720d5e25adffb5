//! One module per subcommand, each thin: parse → call the core → print.

mod config;
mod daemon;
mod forget;
mod history;
mod init;
mod list;
mod prune;
mod save;
mod sessions;
mod shell_start;
mod show;

use crate::cli::{Cli, Command};
use anyhow::{bail, Result};

/// Run the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init(args) => init::run(&args),
        Command::ShellStart(args) => shell_start::run(&args),
        Command::History(args) => history::run(&args),
        Command::Sessions(args) => sessions::run(args.json),
        Command::Save(args) => save::run(&args),
        Command::List(args) => list::run(args.json),
        Command::Show(args) => show::run(&args),
        Command::Prune(args) => prune::run(&args),
        Command::Forget(args) => forget::run(&args),
        Command::Daemon(cmd) => daemon::run(&cmd),
        Command::Config(args) => config::run(&args),
        other => bail!("{other:?}: not implemented yet"),
    }
}
