//! `snap man` (hidden): print the man page (roff) under the name snap was run as, so a
//! binary installed as `snapsh` gets `snapsh(1)`. install.sh installs it as NAME.1.

use crate::cli::{Cli, EXIT_CODES};
use anyhow::Result;
use clap::{Arg, Command, CommandFactory};
use clap_mangen::roff::{bold, italic, roman, Inline, Roff};
use clap_mangen::Man;
use std::io::Write;

/// What the page says beyond `--help`: environment, files, exit status.
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "SNAP_HOME",
        "Keep everything (data, state, logs, locks, config.toml) under this directory.",
    ),
    (
        "SNAP_CONFIG",
        "The config file to read instead of the default.",
    ),
    (
        "SNAP_SESSION",
        "The session name of a shell outside tmux (default: its project).",
    ),
    (
        "SNAP_DISABLE",
        "Set to 1 in a shell to record nothing there.",
    ),
    ("NO_COLOR", "Set to anything to turn colour off."),
];

/// Print the page for the name snap was invoked as.
pub fn run() -> Result<()> {
    let mut page = Vec::new();
    write(&invoked_name(), &mut page)?;
    super::print_bytes(&page)
}

/// The file name snap was invoked as (`snap` when unknown).
fn invoked_name() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "snap".into())
}

/// Render the whole page for the command `name`.
pub fn write(name: &str, out: &mut dyn Write) -> std::io::Result<()> {
    let mut cmd = Cli::command().display_name(name).bin_name(name);
    cmd.build();
    let man = Man::new(cmd.clone()).title(name.to_uppercase());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    let mut roff = Roff::default();
    roff.control("SH", ["GETTING STARTED"]);
    for (what, how) in [
        ("Load the hook (install.sh adds this to your rc files):", format!("eval \"$({name} init bash)\"   eval \"$({name} init zsh)\"   {name} init fish | source")),
        ("Work in a session that survives a disconnect:", format!("{name} start NAME")),
        ("After a closed terminal, a dropped SSH link or a reboot:", format!("{name} restore NAME")),
        ("Check the installation:", format!("{name} doctor")),
    ] {
        roff.control("TP", []).text([roman(what)]).text([bold(how)]);
    }
    roff.control("SH", ["COMMANDS"]);
    for sub in cmd.get_subcommands().filter(|s| shown_command(s)) {
        command_entry(&mut roff, sub);
    }
    roff.control("SH", ["ENVIRONMENT"]);
    for (var, what) in ENVIRONMENT {
        roff.control("TP", [])
            .text([bold(*var)])
            .text([roman(*what)]);
    }
    roff.control("SH", ["FILES"]);
    roff.control("TP", [])
        .text([italic("~/.local/share/snap/")])
        .text([roman(
            "Recorded shells (shells/ID/) and snapshots (snapshots/ID.json), private to you (0700/0600).",
        )]);
    roff.control("TP", [])
        .text([italic("~/.config/snap/config.toml")])
        .text([roman(format!(
            "The configuration; see: {name} config show."
        ))]);
    roff.control("SH", ["EXIT STATUS"])
        .text([roman(EXIT_CODES)]);
    roff.control("SH", ["SEE ALSO"]).text([roman(format!(
        "{name} doctor checks the installation and says how to fix what is wrong. tmux(1)"
    ))]);
    roff.to_writer(out)
}

/// One subcommand: its usage, what it does, its arguments; nested ones in turn.
fn command_entry(roff: &mut Roff, cmd: &Command) {
    let nested: Vec<&Command> = cmd.get_subcommands().filter(|s| shown_command(s)).collect();
    if !nested.is_empty() {
        for sub in nested {
            command_entry(roff, sub);
        }
        return;
    }
    let usage = cmd.clone().render_usage().to_string();
    let usage = usage.trim_start_matches("Usage: ").trim();
    roff.control("SS", [usage]);
    if let Some(about) = cmd.get_long_about().or_else(|| cmd.get_about()) {
        roff.text([roman(about.to_string())]);
    }
    for arg in cmd.get_arguments().filter(|a| shown(a)) {
        roff.control("TP", []).text(arg_name(arg));
        let mut help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        let possible: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|p| !p.is_hide_set())
            .map(|p| p.get_name().to_string())
            .collect();
        if !possible.is_empty() && arg.get_action().takes_values() {
            help.push_str(&format!(" [one of: {}]", possible.join(", ")));
        }
        if let Some(default) = arg
            .get_default_values()
            .first()
            .filter(|_| arg.get_action().takes_values())
        {
            help.push_str(&format!(" [default: {}]", default.to_string_lossy()));
        }
        roff.text([roman(help)]);
    }
}

/// Commands worth an entry: not hidden, not clap's own `help`.
fn shown_command(cmd: &Command) -> bool {
    !cmd.is_hide_set() && cmd.get_name() != "help"
}

/// Arguments worth a line: not hidden, not the automatic --help/--version.
fn shown(arg: &Arg) -> bool {
    !arg.is_hide_set() && !matches!(arg.get_id().as_str(), "help" | "version")
}

/// `-n, --limit N` or `SHELL`, in bold and italic as man pages do.
fn arg_name(arg: &Arg) -> Vec<Inline> {
    let value = arg
        .get_value_names()
        .and_then(|v| v.first())
        .map(|v| v.to_string())
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
    let mut parts = Vec::new();
    if let Some(short) = arg.get_short() {
        parts.push(bold(format!("-{short}")));
        if arg.get_long().is_some() {
            parts.push(roman(", "));
        }
    }
    if let Some(long) = arg.get_long() {
        parts.push(bold(format!("--{long}")));
    }
    if arg.get_action().takes_values() {
        if !parts.is_empty() {
            parts.push(roman(" "));
        }
        parts.push(italic(value));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(name: &str) -> String {
        let mut out = Vec::new();
        write(name, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_page_carries_the_installed_name() {
        let p = page("snapsh");
        assert!(p.contains("\n.TH SNAPSH 1"), "{p}");
        assert!(p.contains("snapsh daemon status"), "{p}");
        assert!(!p.contains("snap daemon status"));
    }

    #[test]
    fn the_page_documents_commands_flags_and_exit_codes() {
        let p = page("snap");
        assert!(p.contains("snap restore"));
        assert!(
            p.contains("\\-\\-dry\\-run") || p.contains("--dry-run"),
            "{p}"
        );
        assert!(p.contains("EXIT STATUS"));
        assert!(p.contains("SNAP_HOME"));
        assert!(!p.contains("shell-start"), "hidden commands stay hidden");
        assert!(
            !p.contains("snap daemon help"),
            "clap's help command is left out"
        );
    }
}
