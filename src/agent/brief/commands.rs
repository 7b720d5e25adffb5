//! The commands a brief lists: without snap's own (`snap task next`, `snap checkpoint`,
//! by whatever name snap is installed under) and `clear`, which say nothing of the work,
//! and identical repeats collapsed into one line.

use crate::model::CommandRecord;
use serde::Serialize;
use std::path::Path;

/// Lines that say nothing of the work: those that run only snap itself or `clear`.
#[derive(Debug, Clone)]
pub struct Noise {
    name: String,
}

impl Noise {
    /// For this binary.
    pub fn new() -> Noise {
        Noise {
            name: crate::exe::name(),
        }
    }

    /// Does `line` (run in `cwd`) run nothing but snap and `clear`?
    pub fn is_noise(&self, line: &str, cwd: &str) -> bool {
        let word = |w: &str| crate::text::has_word(line, w, true);
        if !word(&self.name) && !word("clear") {
            return false;
        }
        let commands = crate::policy::commands_of(line);
        !commands.is_empty()
            && commands
                .iter()
                .all(|w| w[0] == "clear" || crate::exe::is_me(&w[0], Path::new(cwd)))
    }
}

/// A command of the brief's list: the last of `times` identical runs in a row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub command: CommandRecord,
    /// How many times in a row it ran alike (same line, directory and exit).
    pub times: usize,
}

/// Collapse runs in a row of the same line in the same directory with the same exit
/// (and source) into their last, counted.
pub fn collapse(records: impl IntoIterator<Item = CommandRecord>) -> Vec<Listed> {
    let mut out: Vec<Listed> = Vec::new();
    for r in records {
        match out.last_mut() {
            Some(last) if alike(&last.command, &r) => {
                last.command = r;
                last.times += 1;
            }
            _ => out.push(Listed {
                command: r,
                times: 1,
            }),
        }
    }
    out
}

fn alike(a: &CommandRecord, b: &CommandRecord) -> bool {
    a.command == b.command
        && a.cwd == b.cwd
        && a.exit == b.exit
        && a.source == b.source
        && a.agent == b.agent
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(cmd: &str, exit: Option<i32>) -> CommandRecord {
        CommandRecord {
            shell_id: "s".into(),
            session: "x".into(),
            source: "shell".into(),
            agent: None,
            command: cmd.into(),
            cwd: "/p".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            exit,
            duration_ms: None,
            error: None,
        }
    }

    #[test]
    fn repeats_in_a_row_collapse_and_others_stay() {
        let got = collapse([
            rec("cargo test", Some(1)),
            rec("cargo test", Some(1)),
            rec("cargo test", Some(0)),
            rec("ls", Some(0)),
            rec("cargo test", Some(0)),
        ]);
        let summary: Vec<(&str, Option<i32>, usize)> = got
            .iter()
            .map(|l| (l.command.command.as_str(), l.command.exit, l.times))
            .collect();
        assert_eq!(
            summary,
            [
                ("cargo test", Some(1), 2),
                ("cargo test", Some(0), 1),
                ("ls", Some(0), 1),
                ("cargo test", Some(0), 1)
            ]
        );
    }

    #[test]
    fn snap_itself_and_clear_are_noise() {
        let me = crate::exe::path().unwrap();
        let name = crate::exe::name();
        let n = Noise::new();
        for line in [
            format!("{name} task next 'x'"),
            format!("'{}' checkpoint -m done", me.display()),
            "clear".to_string(),
            format!("clear && {name} brief"),
            format!("SNAP_X=1 {name} brief --markdown"),
        ] {
            assert!(n.is_noise(&line, "/"), "{line}");
        }
        for line in [
            format!("{name} brief > brief.md; cargo test"),
            "git commit -m 'snapshot clear'".to_string(),
            "cargo test".to_string(),
        ] {
            assert!(!n.is_noise(&line, "/"), "{line}");
        }
    }
}
