//! `snap brief [NAME] [--json | --markdown]`: where a session left off.

use crate::agent::{self, brief};
use crate::cli::BriefArgs;
use crate::store::paths::Paths;
use crate::store::{agent_journal, shells};
use anyhow::{bail, Context, Result};

/// Print the brief of a session: NAME, else the current one, else the cwd's project's.
pub fn run(args: &BriefArgs) -> Result<()> {
    let paths = Paths::from_env()?;
    crate::store::index::refresh(&paths);
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let all = shells::load_all(&paths);
    let session = match &args.name {
        Some(name) => {
            let name = crate::session::normalize(name);
            let known = all.iter().any(|s| s.meta.session == name)
                || agent_journal::sessions(&paths).contains(&name);
            if !known {
                let mut names: Vec<String> = all.iter().map(|s| s.meta.session.clone()).collect();
                names.extend(agent_journal::sessions(&paths));
                names.sort();
                names.dedup();
                let list = if names.is_empty() {
                    "none recorded yet".to_string()
                } else {
                    crate::text::safe(&names.join(", "))
                };
                bail!("no session named {name:?}; known sessions: {list}");
            }
            name
        }
        None => agent::session_for_dir(&all, &cwd),
    };
    let b = brief::build(&paths, &all, &session, Some(&cwd));
    let out = if args.json {
        brief::render_json(&b)? + "\n"
    } else if args.markdown {
        brief::render_markdown(&b)
    } else {
        brief::render_text(&b)
    };
    super::print_bytes(out.as_bytes())
}
