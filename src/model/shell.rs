//! The kinds of shell snap hooks into, and how a shell ended.

use clap::ValueEnum;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::str::FromStr;

/// A shell snap can hook into; its name (`bash`, `zsh`, `fish`) is how meta files,
/// snapshots and JSON write it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ShellKind {
    #[default]
    Bash,
    Zsh,
    Fish,
}

impl ShellKind {
    /// Every kind, in the order snap lists them.
    pub const ALL: [ShellKind; 3] = [ShellKind::Bash, ShellKind::Zsh, ShellKind::Fish];

    /// The kind's name as written in meta files and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ShellKind::Bash => "bash",
            ShellKind::Zsh => "zsh",
            ShellKind::Fish => "fish",
        }
    }

    /// The shell of a recorded kind or a shell's name, leniently: `zsh` and `fish` are
    /// theirs, any other name (`sh`, `dash`, a kind older data wrote) reads as bash.
    pub fn of(name: &str) -> ShellKind {
        name.parse().unwrap_or(ShellKind::Bash)
    }
}

impl fmt::Display for ShellKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is none of [`ShellKind`]'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownShell(pub String);

impl fmt::Display for UnknownShell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown shell '{}' (expected bash, zsh or fish)", self.0)
    }
}

impl std::error::Error for UnknownShell {}

impl FromStr for ShellKind {
    type Err = UnknownShell;

    fn from_str(s: &str) -> Result<ShellKind, UnknownShell> {
        ShellKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownShell(s.to_string()))
    }
}

/// How a shell ended, as far as snap can tell. The words (`exit`, `hangup`, `exec`) are
/// how journals, the index, snapshots and JSON write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ended {
    /// A deliberate `exit` or Ctrl-D.
    Exit,
    /// The terminal went away (closed, SSH dropped, tmux pane or server killed).
    Hangup,
    /// Another shell took its pid (`exec`).
    Exec,
}

impl Ended {
    /// The word written for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Ended::Exit => "exit",
            Ended::Hangup => "hangup",
            Ended::Exec => "exec",
        }
    }

    /// The ending a word names; None for any other word.
    pub fn of(word: &str) -> Option<Ended> {
        [Ended::Exit, Ended::Hangup, Ended::Exec]
            .into_iter()
            .find(|e| e.as_str() == word)
    }

    /// Read an optional word leniently (serde `deserialize_with`): one that names no
    /// ending, from older or newer data, reads as unknown (None) instead of failing.
    pub fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Ended>, D::Error> {
        let word: Option<String> = Option::deserialize(d)?;
        Ok(word.as_deref().and_then(Ended::of))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_kind_names_round_trip_through_serde_and_from_str() {
        for k in ShellKind::ALL {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            assert_eq!(serde_json::from_str::<ShellKind>(&json).unwrap(), k);
            assert_eq!(k.as_str().parse::<ShellKind>(), Ok(k));
            assert_eq!(k.to_string(), k.as_str());
        }
        assert!("ksh".parse::<ShellKind>().is_err());
    }

    #[test]
    fn ended_words_round_trip_and_an_unknown_word_reads_as_unknown() {
        #[derive(Deserialize)]
        struct T {
            #[serde(default, deserialize_with = "Ended::lenient")]
            ended: Option<Ended>,
        }
        for e in [Ended::Exit, Ended::Hangup, Ended::Exec] {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(json, format!("\"{}\"", e.as_str()));
            let t: T = serde_json::from_str(&format!("{{\"ended\":{json}}}")).unwrap();
            assert_eq!(t.ended, Some(e));
        }
        for doc in [r#"{"ended":"vanished"}"#, r#"{"ended":null}"#, "{}"] {
            assert_eq!(serde_json::from_str::<T>(doc).unwrap().ended, None, "{doc}");
        }
    }

    #[test]
    fn an_unknown_or_posix_shell_name_reads_as_bash() {
        assert_eq!(ShellKind::of("zsh"), ShellKind::Zsh);
        assert_eq!(ShellKind::of("fish"), ShellKind::Fish);
        for other in ["sh", "dash", "", "tcsh"] {
            assert_eq!(ShellKind::of(other), ShellKind::Bash);
        }
    }
}
