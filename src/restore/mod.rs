//! Bring a session back: plan (pure), then execute with tmux or a plain shell.

pub mod execute;
pub mod launch;
pub mod plan;
mod terminal;
pub mod tmux;
