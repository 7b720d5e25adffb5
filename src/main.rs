//! snap: keep a coding session alive across disconnects.

mod agent;
mod cli;
mod cmd;
mod liveness;
mod model;
mod restore;
mod session;
mod shellenv;
mod store;
mod timefmt;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("snap: {e:#}");
            ExitCode::from(1)
        }
    }
}
