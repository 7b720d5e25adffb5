//! `snap completions bash|zsh|fish [--name NAME]`: print shell completions (clap_complete)
//! for the command as installed, under NAME when installed under another name.

use crate::cli::{Cli, CompletionsArgs};
use crate::model::ShellKind;
use anyhow::{bail, Result};
use clap::{Command, CommandFactory};
use clap_complete::Shell;

/// Print the completion script for one shell.
pub fn run(args: &CompletionsArgs) -> Result<()> {
    let mut script = Vec::new();
    write(args.shell, &args.name, &mut script)?;
    super::print_bytes(&script)
}

/// Write the completion script for `shell`, completing the command `name`.
pub fn write(shell: ShellKind, name: &str, out: &mut dyn std::io::Write) -> Result<()> {
    if name.is_empty() || name.contains(['/', ' ', '\'', '"', '\n']) {
        bail!("--name {name:?}: give the plain command name, e.g. --name snapsh");
    }
    let shell = match shell {
        ShellKind::Bash => Shell::Bash,
        ShellKind::Zsh => Shell::Zsh,
        ShellKind::Fish => Shell::Fish,
    };
    clap_complete::generate(shell, &mut visible_only(Cli::command()), name, out);
    Ok(())
}

/// The command without its hidden subcommands (internal ones such as `shell-start`),
/// which some generators would otherwise offer.
fn visible_only(cmd: Command) -> Command {
    let visible: Vec<Command> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let mut root = Command::new("snap")
        .version(env!("CARGO_PKG_VERSION"))
        .subcommands(visible);
    if let Some(about) = cmd.get_about() {
        root = root.about(about.clone());
    }
    root.subcommand_required(cmd.is_subcommand_required_set())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(shell: ShellKind, name: &str) -> String {
        let mut out = Vec::new();
        write(shell, name, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn completions_follow_the_installed_name() {
        let bash = script(ShellKind::Bash, "snapsh");
        assert!(bash.contains("complete -F _snapsh"), "{bash}");
        assert!(bash.contains("restore"));
        assert!(script(ShellKind::Zsh, "snapsh").starts_with("#compdef snapsh"));
        assert!(script(ShellKind::Fish, "snapsh").contains("complete -c snapsh"));
    }

    #[test]
    fn hidden_commands_are_not_offered() {
        let fish = script(ShellKind::Fish, "snap");
        assert!(!fish.contains("shell-start"), "{fish}");
        assert!(fish.contains("\"restore\""), "{fish}");
        let bash = script(ShellKind::Bash, "snap");
        assert!(!bash.contains("shell-start"));
    }

    #[test]
    fn a_name_with_a_slash_is_refused() {
        assert!(write(ShellKind::Bash, "a/b", &mut Vec::new()).is_err());
    }
}
