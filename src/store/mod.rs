//! Everything snap keeps on disk.

pub mod agent_journal;
pub mod agent_state;
pub mod atomic;
pub mod forgotten;
pub mod index;
pub mod journal;
pub mod lock;
pub mod paths;
pub mod restore_files;
pub mod retention;
pub mod shells;
pub mod snapshots;
pub mod summaries;
pub mod tmux_closed;
pub mod trust;
