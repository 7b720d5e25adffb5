//! snap: keep a coding session alive across disconnects.

mod agent;
mod capture;
mod cli;
mod cmd;
mod config;
mod daemon;
mod envguard;
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
mod snapshot_model;
mod store;
mod text;
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
