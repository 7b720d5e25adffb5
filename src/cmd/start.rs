//! `snap start NAME [--dir DIR] [--env-file FILE] [--no-attach]`: a tmux session with
//! the hook active, in DIR, with FILE's variables (read as dotenv, never executed).

use crate::cli::StartArgs;
use crate::restore::{launch, tmux};
use crate::session;
use crate::store::paths::Paths;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Create the session, or attach when it exists.
pub fn run(args: &StartArgs) -> Result<()> {
    if !tmux::available() {
        bail!(
            "snap start needs tmux, which is not installed: install it (e.g. apt-get install tmux)"
        );
    }
    let name = session::normalize(&args.name);
    if tmux::has_session(&name) {
        eprintln!("snap: tmux session {name} exists: attaching");
        return tmux::attach_or_print(&name, args.no_attach);
    }
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let dir = std::fs::canonicalize(&dir)
        .with_context(|| format!("--dir {}: no such directory", dir.display()))?;
    let env_file = match &args.env_file {
        Some(f) => Some(f.clone()),
        None => Some(dir.join(".env")).filter(|f| f.is_file()),
    };
    let env = match &env_file {
        Some(f) => read_env_file(f)?,
        None => BTreeMap::new(),
    };
    let paths = Paths::from_env()?;
    let kind = user_shell_kind();
    let setup = launch::ShellSetup {
        kind: kind.to_string(),
        cwd: dir.to_string_lossy().into_owned(),
        keep_env: env.keys().cloned().collect(),
        env,
        ..Default::default()
    };
    let token = launch::token(&name, "start");
    let vars = launch::prepare(&paths, &setup, &token)?;
    let exe = std::env::current_exe().context("cannot find snap's own path")?;
    let command = launch::with_env(&vars, &launch::shell_command(&paths, kind, &exe)?);
    let dir_text = dir.to_string_lossy();
    tmux::run(&["new-session", "-d", "-s", &name, "-c", &dir_text, &command])?;
    if let Some(f) = env_file {
        eprintln!("snap: started {name} in {dir_text} with {}", f.display());
    } else {
        eprintln!("snap: started {name} in {dir_text}");
    }
    tmux::attach_or_print(&name, args.no_attach)
}

/// The variables of a dotenv file (quotes, `export`, comments, `${VAR}`), never executed.
pub fn read_env_file(path: &Path) -> Result<BTreeMap<String, String>> {
    let iter = dotenvy::from_path_iter(path)
        .with_context(|| format!("--env-file {}: cannot read it", path.display()))?;
    let mut vars = BTreeMap::new();
    for item in iter {
        let (k, v) = item.with_context(|| {
            format!(
                "{}: not a dotenv file (KEY=value lines expected); fix the line or pass another --env-file",
                path.display()
            )
        })?;
        vars.insert(k, v);
    }
    Ok(vars)
}

/// The user's shell kind from `$SHELL` (bash when it is none of ours).
pub fn user_shell_kind() -> &'static str {
    let shell = std::env::var_os("SHELL")
        .map(PathBuf::from)
        .unwrap_or_default();
    match shell.file_name().and_then(|n| n.to_str()) {
        Some("zsh") => "zsh",
        Some("fish") => "fish",
        _ => "bash",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_are_parsed_never_run() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join(".env");
        std::fs::write(
            &f,
            "# comment\nexport A=\"x y\"\nB='$(touch pwned)'\nC=${A}-z\nD=\"$(touch pwned2)\"\n",
        )
        .unwrap();
        let v = read_env_file(&f).unwrap();
        assert_eq!(v["A"], "x y");
        assert_eq!(v["B"], "$(touch pwned)");
        assert_eq!(v["C"], "x y-z");
        assert!(!tmp.path().join("pwned").exists());
    }
}
