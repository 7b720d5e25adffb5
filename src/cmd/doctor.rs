//! `snap doctor [--json]`: check the installation, one line per check, and say how to
//! fix what is wrong. Exit 1 when a check failed (warnings and skipped checks do not).
//!
//! The daemon and the config are checked by running this same binary
//! (`daemon status --json`, `config show --json`), so doctor needs nothing from their code.

mod env;
mod hook;
mod output;
mod selfrun;
mod store;
mod tools;

use crate::store::paths::Paths;
use anyhow::{bail, Result};
use serde::Serialize;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// All is well.
    Ok,
    /// Works, but something deserves attention.
    Warn,
    /// Broken: doctor exits 1.
    Fail,
    /// Does not apply here, or cannot be checked yet.
    Skip,
}

/// One check's result, as printed and as JSON (`{check, ok, status, detail, fix}`).
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// The check's name, e.g. `hook`, `rc`, `daemon`.
    pub check: &'static str,
    /// True only when the check passed.
    pub ok: bool,
    /// ok, warn, fail or skip.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// How to fix it, when it is not ok.
    pub fix: Option<String>,
}

impl Check {
    /// A passing check.
    pub fn ok(check: &'static str, detail: impl Into<String>) -> Check {
        Check::new(check, Status::Ok, detail.into(), None)
    }

    /// A failing check and how to fix it.
    pub fn fail(check: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check::new(check, Status::Fail, detail.into(), Some(fix.into()))
    }

    /// A warning and what to do about it.
    pub fn warn(check: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check::new(check, Status::Warn, detail.into(), Some(fix.into()))
    }

    /// A check that does not apply, or cannot run yet.
    pub fn skip(check: &'static str, detail: impl Into<String>) -> Check {
        Check::new(check, Status::Skip, detail.into(), None)
    }

    fn new(check: &'static str, status: Status, detail: String, fix: Option<String>) -> Check {
        Check {
            check,
            ok: status == Status::Ok,
            status,
            detail,
            fix,
        }
    }
}

/// Run every check, print them, fail when one failed.
pub fn run(json: bool) -> Result<()> {
    let ctx = env::Context::from_env()?;
    let paths = Paths::from_env()?;
    let checks = vec![
        hook::hook_loaded(&ctx, &paths),
        hook::rc_lines(&ctx),
        selfrun::daemon(&ctx, &paths),
        tools::lingering(&ctx),
        tools::tmux(&ctx),
        store::permissions(&paths),
        store::filesystem(&paths),
        store::index(&paths),
        selfrun::config(&ctx, &paths),
    ];
    if json {
        println!("{}", crate::text::json_pretty(&checks)?);
    } else {
        print!("{}", output::render(&checks, output::use_colour()));
    }
    let failed = checks.iter().filter(|c| c.status == Status::Fail).count();
    if failed > 0 {
        bail!(
            "{failed} check{} failed",
            if failed == 1 { "" } else { "s" }
        );
    }
    Ok(())
}
