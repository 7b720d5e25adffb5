//! Everything snap keeps on disk.

pub mod atomic;
pub mod journal;
pub mod paths;
pub mod shells;
