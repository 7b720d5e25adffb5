//! The relaunch policy a snapshot records for a command that was running.

use serde::{Deserialize, Serialize};

/// What restore may do with a command that was running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Run it again at once (dev servers, watchers, agent CLIs).
    Auto,
    /// Type it at the prompt and wait for Enter.
    Hold,
    /// Never run it again (it must not run twice).
    Never,
}
