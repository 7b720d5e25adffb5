//! `snap hook claude` and `snap hook codex` (hook payload on stdin), and
//! `snap hook codex PAYLOAD` (Codex's `notify`): entry points for coding agents' hooks. A hook never breaks the agent: a payload snap cannot use is
//! said on stderr and the exit is 0; only a usage error exits non-zero.

use crate::agent::hooks;
use crate::agent::journal::Agent;
use crate::cli::{AgentKind, HookArgs};
use crate::store::paths::Paths;
use anyhow::{bail, Context, Result};
use std::io::{IsTerminal, Read};

/// Handle one hook call.
pub fn run(args: &HookArgs) -> Result<()> {
    let paths = Paths::from_env()?;
    let agent = match args.agent {
        AgentKind::Claude => Agent::Claude,
        AgentKind::Codex => Agent::Codex,
    };
    let result = match (&args.payload, agent) {
        // Codex's `notify` passes its event as the argument.
        (Some(p), Agent::Codex) => hooks::codex_notify(&paths, p),
        (payload, _) => {
            let payload = match payload {
                Some(p) => p.clone(),
                None if std::io::stdin().is_terminal() => bail!(
                    "snap hook {} reads the hook's JSON payload on stdin (Codex's notify passes it as an argument): it is for the agent to call; see snap init {0}",
                    agent.as_str()
                ),
                None => {
                    let mut s = String::new();
                    std::io::stdin()
                        .read_to_string(&mut s)
                        .context("cannot read the hook payload on stdin")?;
                    s
                }
            };
            hooks::on_hook(&paths, agent, &payload).map(|out| {
                if let Some(text) = out {
                    print!("{text}");
                }
            })
        }
    };
    if let Err(e) = result {
        eprintln!("snap hook: {e:#}");
    }
    Ok(())
}
