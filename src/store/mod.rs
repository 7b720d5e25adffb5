//! Everything snap keeps on disk.

pub mod atomic;
pub mod index;
pub mod journal;
pub mod lock;
pub mod paths;
pub mod recorded;
pub mod retention;
pub mod shells;
pub mod snapshots;
pub mod trust;
