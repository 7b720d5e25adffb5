//! What doctor needs to know about its surroundings, read once.

use anyhow::{Context as _, Result};
use std::ffi::OsString;
use std::path::PathBuf;

/// The environment doctor checks against.
#[derive(Debug, Clone)]
pub struct Context {
    /// `$HOME`.
    pub home: PathBuf,
    /// This binary, as the kernel knows it (symlinks resolved).
    pub exe: PathBuf,
    /// The name to tell the user to type: the binary's file name.
    pub name: String,
    /// `$PATH`, split.
    pub path: Vec<PathBuf>,
    /// The user's login name, for loginctl.
    pub user: String,
}

impl Context {
    /// Read `HOME`, `PATH`, `USER` and this binary's path.
    pub fn from_env() -> Result<Context> {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .context("HOME is not set: doctor cannot find your rc files")?;
        let exe = std::env::current_exe().context("cannot find snap's own path")?;
        let name = exe
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "snap".into());
        let path = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect();
        let user = std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| login_name().unwrap_or_default());
        Ok(Context {
            home,
            exe,
            name,
            path,
            user,
        })
    }

    /// The first executable called `program` on PATH.
    pub fn which(&self, program: &str) -> Option<PathBuf> {
        crate::exe::which_in(&self.path, program)
    }

    /// An XDG base directory: `$VAR` when set and absolute, else HOME/`default`.
    pub fn xdg(&self, var: &str, default: &str) -> PathBuf {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .unwrap_or_else(|| self.home.join(default))
    }

    /// `$ZDOTDIR`, else HOME.
    pub fn zdotdir(&self) -> PathBuf {
        std::env::var_os("ZDOTDIR")
            .filter(|z| !z.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| self.home.clone())
    }

    /// The environment variable `name`, when set and not empty.
    pub fn var(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name).filter(|v| !v.is_empty())
    }
}

/// The login name of this uid, from the passwd database.
fn login_name() -> Option<String> {
    let out = std::process::Command::new("id").arg("-un").output().ok()?;
    let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!name.is_empty()).then_some(name)
}
