//! One module per subcommand, each thin: parse → call the core → print.

mod history;
mod init;
mod sessions;
mod shell_start;
mod start;

use crate::cli::{Cli, Command};
use anyhow::{bail, Result};

/// Run the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init(args) => init::run(&args),
        Command::ShellStart(args) => shell_start::run(&args),
        Command::History(args) => history::run(&args),
        Command::Sessions(args) => sessions::run(args.json),
        Command::Start(args) => start::run(&args),
        other => bail!("{other:?}: not implemented yet"),
    }
}
