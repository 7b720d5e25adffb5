//! Checks that ask this same binary: `daemon status --json` and `config show --json`.
//! A command this build does not have yet ("not implemented yet") is reported as
//! "cannot check yet", never as a failure.

use super::env::Context;
use super::Check;
use crate::store::paths::Paths;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// How long one of these commands may take before doctor gives up on it.
const TIMEOUT: Duration = Duration::from_secs(15);

/// What running ourselves gave.
struct Outcome {
    success: bool,
    stdout: String,
    stderr: String,
}

/// Run this binary with `args`; output goes to temp files so a child that leaves a
/// process holding its output open cannot hang doctor.
fn run_self(ctx: &Context, args: &[&str]) -> Result<Outcome, String> {
    let out = tempfile::tempfile().map_err(|e| format!("cannot make a temp file: {e}"))?;
    let err = tempfile::tempfile().map_err(|e| format!("cannot make a temp file: {e}"))?;
    let mut child = Command::new(&ctx.exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out.try_clone().map_err(|e| e.to_string())?)
        .stderr(err.try_clone().map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", ctx.exe.display()))?;
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{} {}` did not answer within {} s",
                    ctx.name,
                    args.join(" "),
                    TIMEOUT.as_secs()
                ));
            }
            Err(e) => {
                return Err(format!(
                    "waiting for `{} {}`: {e}",
                    ctx.name,
                    args.join(" ")
                ))
            }
        }
    };
    Ok(Outcome {
        success: status.success(),
        stdout: read_all(out),
        stderr: read_all(err),
    })
}

fn read_all(mut f: std::fs::File) -> String {
    use std::io::{Read, Seek};
    let mut buf = Vec::new();
    let _ = f.rewind().and_then(|()| f.read_to_end(&mut buf));
    String::from_utf8_lossy(&buf).into_owned()
}

/// The first line of what a command said on stderr, without our `snap: ` prefix.
fn first_line(s: &str) -> String {
    let line = s
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message");
    line.trim().trim_start_matches("snap: ").to_string()
}

fn not_implemented(o: &Outcome) -> bool {
    !o.success && o.stderr.contains("not implemented yet")
}

/// The daemon runs; how old the last snapshot is.
pub fn daemon(ctx: &Context, paths: &Paths) -> Check {
    const NAME: &str = "daemon";
    let start = format!(
        "{0} daemon install (starts it now and at login), or {0} daemon start",
        ctx.name
    );
    let last = last_snapshot_age(paths);
    let o = match run_self(ctx, &["daemon", "status", "--json"]) {
        Ok(o) => o,
        Err(e) => return Check::fail(NAME, e, start),
    };
    if not_implemented(&o) {
        return Check::skip(NAME, "cannot check yet: this build has no `daemon status`");
    }
    let status: Option<serde_json::Value> = serde_json::from_str(o.stdout.trim()).ok();
    let running = status
        .as_ref()
        .and_then(|v| v.get("running"))
        .and_then(|r| r.as_bool());
    match running {
        Some(true) => {
            let pid = status
                .as_ref()
                .and_then(|v| v.get("pid"))
                .and_then(|p| p.as_u64())
                .map(|p| format!(" (pid {p})"))
                .unwrap_or_default();
            let detail = format!("running{pid}; {}", describe_age(last));
            match last {
                Some(age) if age > Duration::from_secs(24 * 3600) => Check::warn(
                    NAME,
                    detail,
                    format!(
                        "the daemon runs but takes no snapshots: read its log under {}, then {name} daemon stop; {name} daemon start",
                        paths.state.display(),
                        name = ctx.name
                    ),
                ),
                _ => Check::ok(NAME, detail),
            }
        }
        Some(false) => Check::fail(NAME, format!("not running; {}", describe_age(last)), start),
        None if o.success => Check::fail(
            NAME,
            format!(
                "`{} daemon status --json` printed no `running` field",
                ctx.name
            ),
            format!("reinstall snap (./install.sh); then {start}"),
        ),
        None => Check::fail(NAME, first_line(&o.stderr), start),
    }
}

/// Age of the newest snapshot file, if any.
fn last_snapshot_age(paths: &Paths) -> Option<Duration> {
    let newest = std::fs::read_dir(paths.snapshots())
        .ok()?
        .flatten()
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.ends_with(".json") && !n.starts_with('.')
        })
        .filter_map(|e| e.metadata().ok()?.modified().ok())
        .max()?;
    Some(
        SystemTime::now()
            .duration_since(newest)
            .unwrap_or(Duration::ZERO),
    )
}

/// "last snapshot 5 min ago" / "no snapshot yet".
fn describe_age(age: Option<Duration>) -> String {
    match age {
        None => "no snapshot yet".into(),
        Some(a) => format!("last snapshot {} ago", human_duration(a)),
    }
}

/// A short human duration: 42 s, 5 min, 3 h, 2 days.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        3600..=86_399 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

/// The configuration parses.
pub fn config(ctx: &Context, paths: &Paths) -> Check {
    const NAME: &str = "config";
    let file = paths.config_in_force();
    let o = match run_self(ctx, &["config", "show", "--json"]) {
        Ok(o) => o,
        Err(e) => return Check::fail(NAME, e, "run it by hand to see what hangs"),
    };
    if not_implemented(&o) {
        return Check::skip(NAME, "cannot check yet: this build has no `config show`");
    }
    if o.success {
        let which = if file.exists() {
            format!("{} is valid", file.display())
        } else {
            format!("defaults ({} does not exist)", file.display())
        };
        return Check::ok(NAME, which);
    }
    Check::fail(
        NAME,
        first_line(&o.stderr),
        format!(
            "fix the key named above in {}, or move the file away to use the defaults",
            file.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        assert_eq!(human_duration(Duration::from_secs(42)), "42 s");
        assert_eq!(human_duration(Duration::from_secs(300)), "5 min");
        assert_eq!(human_duration(Duration::from_secs(7300)), "2 h");
        assert_eq!(human_duration(Duration::from_secs(3 * 86_400)), "3 days");
    }

    #[test]
    fn first_line_drops_our_prefix() {
        assert_eq!(
            first_line("\nsnap: bad key `x` at line 3\nmore"),
            "bad key `x` at line 3"
        );
        assert_eq!(first_line(""), "no message");
    }
}
