//! The human view of doctor's checks: one aligned line each, the fix below a failure,
//! colour only on a terminal and never under NO_COLOR.

use super::{Check, Status};
use std::fmt::Write;

/// Colour when stdout is a terminal and NO_COLOR is unset or empty.
pub fn use_colour() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    // SAFETY: isatty only reads the descriptor's state.
    !no_color && unsafe { libc::isatty(libc::STDOUT_FILENO) } == 1
}

/// Render the checks and a one-line summary.
pub fn render(checks: &[Check], colour: bool) -> String {
    let width = checks.iter().map(|c| c.check.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in checks {
        let (label, code) = match c.status {
            Status::Ok => ("ok", "32"),
            Status::Warn => ("warn", "33"),
            Status::Fail => ("FAIL", "31"),
            Status::Skip => ("-", "2"),
        };
        let label = if colour {
            format!("\x1b[{code}m{label:<4}\x1b[0m")
        } else {
            format!("{label:<4}")
        };
        let _ = writeln!(out, "{label}  {:<width$}  {}", c.check, c.detail);
        if let Some(fix) = c.fix.as_deref().filter(|_| !c.ok) {
            let _ = writeln!(out, "{:4}  {:<width$}  fix: {fix}", "", "");
        }
    }
    let count = |s| checks.iter().filter(|c| c.status == s).count();
    let (fail, warn) = (count(Status::Fail), count(Status::Warn));
    let _ = match (fail, warn) {
        (0, 0) => writeln!(out, "All good."),
        (0, w) => writeln!(out, "No problem; {w} warning{}.", plural(w)),
        (f, w) => writeln!(out, "{f} problem{}, {w} warning{}.", plural(f), plural(w)),
    };
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_align_and_fixes_follow_failures() {
        let checks = [
            Check::ok("hook", "loaded"),
            Check::fail("lingering", "off", "loginctl enable-linger me"),
            Check::skip("config", "cannot check yet"),
        ];
        let text = render(&checks, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "ok    hook       loaded");
        assert_eq!(lines[1], "FAIL  lingering  off");
        assert_eq!(lines[2], "                 fix: loginctl enable-linger me");
        assert_eq!(lines[3], "-     config     cannot check yet");
        assert_eq!(lines[4], "1 problem, 0 warnings.");
        assert!(!text.contains('\x1b'));
        assert!(render(&checks, true).contains("\x1b[31mFAIL"));
    }
}
