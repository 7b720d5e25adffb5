//! Variables snap never sets in a shell it starts or restores, whatever a `.env` file or
//! a snapshot says: the ones a shell or the dynamic loader runs as code, and snap's own
//! settings. One list, used by `snap start` and by restore.

/// Why a variable is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The shell or the loader runs its value as code (prompts, rc files, libraries).
    RunsCode,
    /// One of snap's own settings (`SNAP_*`): a project file must not switch snap off.
    SnapSetting,
}

impl Refusal {
    /// Why, in a few words, for a message.
    pub fn why(self) -> &'static str {
        match self {
            Refusal::RunsCode => "the shell runs it as code",
            Refusal::SnapSetting => "snap's own setting",
        }
    }
}

/// Names run as code: prompts and prompt commands (bash, zsh), rc files of
/// non-interactive shells, shell options, the field separator, preloaded and searched
/// libraries. `LD_LIBRARY_PATH` is here too: pointing it at a directory of the project
/// makes every program the shell starts load the project's libraries.
const RUNS_CODE: &[&str] = &[
    "PROMPT_COMMAND",
    "PS0",
    "PS1",
    "PS2",
    "PS3",
    "PS4",
    "PROMPT",
    "PROMPT2",
    "PROMPT3",
    "PROMPT4",
    "RPROMPT",
    "RPROMPT2",
    "RPS1",
    "RPS2",
    "SPROMPT",
    "BASH_ENV",
    "ENV",
    "ZDOTDIR",
    "SHELLOPTS",
    "BASHOPTS",
    "IFS",
    "LD_PRELOAD",
    "LD_AUDIT",
    "LD_LIBRARY_PATH",
];

/// Is this variable refused, and why? (Exported bash functions travel as
/// `BASH_FUNC_name%%`.)
pub fn refusal(name: &str) -> Option<Refusal> {
    if RUNS_CODE.contains(&name) || name.starts_with("BASH_FUNC_") {
        Some(Refusal::RunsCode)
    } else if name.starts_with("SNAP_") {
        Some(Refusal::SnapSetting)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_running_names_and_snap_settings_are_refused() {
        for name in [
            "PROMPT_COMMAND",
            "PS0",
            "PS4",
            "BASH_ENV",
            "ENV",
            "ZDOTDIR",
            "SHELLOPTS",
            "BASHOPTS",
            "IFS",
            "LD_PRELOAD",
            "LD_AUDIT",
            "LD_LIBRARY_PATH",
            "BASH_FUNC_ls%%",
            "RPROMPT",
        ] {
            assert_eq!(refusal(name), Some(Refusal::RunsCode), "{name}");
        }
        assert_eq!(refusal("SNAP_DISABLE"), Some(Refusal::SnapSetting));
        assert_eq!(refusal("SNAP_HOME"), Some(Refusal::SnapSetting));
        for name in [
            "PATH",
            "DATABASE_URL",
            "PS",
            "ENVIRONMENT",
            "NODE_ENV",
            "SNAPPY",
        ] {
            assert_eq!(refusal(name), None, "{name}");
        }
    }
}
