//! `snap hook claude` (payload on stdin) and `snap hook codex PAYLOAD`: entry points for
//! coding agents' hooks. A hook never breaks the agent: a payload snap cannot use is
//! said on stderr and the exit is 0; only a usage error exits non-zero.

use crate::agent::hooks;
use crate::cli::{AgentKind, HookArgs};
use crate::store::paths::Paths;
use anyhow::{bail, Context, Result};
use std::io::Read;

/// Handle one hook call.
pub fn run(args: &HookArgs) -> Result<()> {
    let paths = Paths::from_env()?;
    let result = match args.agent {
        AgentKind::Claude => {
            let payload = match &args.payload {
                Some(p) => p.clone(),
                None => {
                    let mut s = String::new();
                    std::io::stdin()
                        .read_to_string(&mut s)
                        .context("cannot read the hook payload on stdin")?;
                    s
                }
            };
            hooks::claude(&paths, &payload).map(|out| {
                if let Some(text) = out {
                    print!("{text}");
                }
            })
        }
        AgentKind::Codex => {
            let Some(payload) = &args.payload else {
                bail!("snap hook codex needs the event as its argument (Codex's notify passes it)");
            };
            hooks::codex(&paths, payload)
        }
    };
    if let Err(e) = result {
        eprintln!("snap hook: {e:#}");
    }
    Ok(())
}
