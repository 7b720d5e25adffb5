//! `snap init SHELL`: print the hook with this binary's absolute path filled in.

use crate::cli::{InitArgs, InitTarget};
use anyhow::{bail, Context, Result};

const BASH: &str = include_str!("../../shell/snap.bash");
const ZSH: &str = include_str!("../../shell/snap.zsh");
const FISH: &str = include_str!("../../shell/snap.fish");

/// Print the hook for the chosen shell.
pub fn run(args: &InitArgs) -> Result<()> {
    let exe = std::env::current_exe().context("cannot find snap's own path")?;
    let exe = exe.to_string_lossy();
    let script = match args.shell {
        InitTarget::Bash => BASH.replace("@SNAP_BIN@", &posix_quote(&exe)),
        InitTarget::Zsh => ZSH.replace("@SNAP_BIN@", &posix_quote(&exe)),
        InitTarget::Fish => FISH.replace("@SNAP_BIN@", &fish_quote(&exe)),
        InitTarget::Claude | InitTarget::Codex => bail!("not implemented yet"),
    };
    print!("{script}");
    Ok(())
}

/// Single-quote for bash and zsh.
pub fn posix_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Single-quote for fish (backslash and quote escaped inside).
pub fn fish_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(posix_quote("/a b/it's"), r"'/a b/it'\''s'");
        assert_eq!(fish_quote(r"/a\b/it's"), r"'/a\\b/it\'s'");
    }
}
