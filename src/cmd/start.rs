//! `snap start NAME [--dir DIR] [--env-file FILE] [--trust-env] [--no-attach]`: a tmux
//! session with the hook active, in DIR, with the variables of FILE or of DIR's trusted
//! `.env` (read as dotenv, never executed), less the ones a shell runs as code.

use crate::cli::StartArgs;
use crate::envguard;
use crate::model::ShellKind;
use crate::restore::{launch, tmux};
use crate::session;
use crate::store::paths::Paths;
use crate::store::trust::{self, Trust};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A dotenv file larger than this is refused.
const MAX_ENV_FILE: u64 = 1 << 20;

/// Create the session, or attach when it exists.
pub fn run(args: &StartArgs) -> Result<()> {
    if !tmux::available() {
        bail!(
            "snap start needs tmux, which is not installed: install it (e.g. apt-get install tmux)"
        );
    }
    let name = session::normalize(&args.name);
    let paths = Paths::from_env()?;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let dir = std::fs::canonicalize(&dir)
        .with_context(|| format!("--dir {}: no such directory", dir.display()))?;
    if tmux::has_session(&name) {
        if args.trust_env {
            trust_only(&paths, &dir, &name)?;
        }
        eprintln!("snap: tmux session {name} exists: attaching");
        return tmux::attach_or_print(&name, args.no_attach);
    }
    let (env, env_file) = session_env(&paths, args, &dir)?;
    let kind = user_shell_kind();
    let setup = launch::ShellSetup {
        kind,
        cwd: dir.to_string_lossy().into_owned(),
        keep_env: env.keys().cloned().collect(),
        env,
        ..Default::default()
    };
    let token = launch::token(&name, "start");
    let (vars, _) = launch::prepare(&paths, &setup, &token)?;
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

/// The variables the session starts with, and the file they came from: `--env-file`
/// (trusted by being named), else DIR's `.env` once trusted. Refused names are never
/// loaded and are named once on stderr; an untrusted `.env` loads nothing and says how
/// to trust it.
fn session_env(
    paths: &Paths,
    args: &StartArgs,
    dir: &Path,
) -> Result<(BTreeMap<String, String>, Option<PathBuf>)> {
    let (file, named) = match &args.env_file {
        Some(f) => (f.clone(), true),
        None => match Some(dir.join(".env")).filter(|f| f.is_file()) {
            Some(f) => (f, false),
            None => return Ok((BTreeMap::new(), None)),
        },
    };
    let content = read_capped(&file)?;
    let (vars, refused) = split_refused(parse_env(&file, &content)?);
    if !refused.is_empty() {
        let list: Vec<String> = refused
            .iter()
            .map(|(k, r)| format!("{k} ({})", r.why()))
            .collect();
        eprintln!(
            "snap: {}: never loaded: {}",
            file.display(),
            list.join(", ")
        );
    }
    if named {
        return Ok((vars, Some(file)));
    }
    match trust::check(paths, &file, &content) {
        Trust::Trusted => return Ok((vars, Some(file))),
        _ if args.trust_env => {
            trust::remember(paths, &file, &content)?;
            return Ok((vars, Some(file)));
        }
        Trust::Changed => eprintln!(
            "snap: {} not loaded: it changed since you trusted it",
            file.display()
        ),
        Trust::Unknown => eprintln!("snap: {} not loaded: it is not trusted yet", file.display()),
    }
    let names = if vars.is_empty() {
        "nothing".to_string()
    } else {
        vars.keys().cloned().collect::<Vec<_>>().join(" ")
    };
    let dir_arg = match &args.dir {
        Some(_) => format!(" --dir {}", crate::text::posix_word(&dir.to_string_lossy())),
        None => String::new(),
    };
    eprintln!(
        "snap: it would set: {names}\nsnap: starting without it; read it, then trust it for the next start: snap start {}{dir_arg} --trust-env",
        crate::text::posix_word(&args.name)
    );
    Ok((BTreeMap::new(), None))
}

/// `--trust-env` for a session that is already running: remember the trust for the
/// sessions started next, and say that this one keeps its environment.
fn trust_only(paths: &Paths, dir: &Path, name: &str) -> Result<()> {
    let file = dir.join(".env");
    if !file.is_file() {
        return Ok(());
    }
    let content = read_capped(&file)?;
    parse_env(&file, &content)?;
    trust::remember(paths, &file, &content)?;
    eprintln!(
        "snap: trusted {}; session {name} runs without it: to start it again with it, `tmux kill-session -t {}` then `snap start {}`",
        file.display(),
        crate::text::posix_word(name),
        crate::text::posix_word(name)
    );
    Ok(())
}

/// The file's bytes: a regular file of at most [`MAX_ENV_FILE`], else an error.
fn read_capped(path: &Path) -> Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    // Non-blocking, so that a FIFO is refused instead of waited on.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .with_context(|| format!("--env-file {}: cannot read it", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("--env-file {}: cannot read it", path.display()))?;
    if !meta.is_file() {
        bail!(
            "--env-file {}: not a regular file: name a dotenv file",
            path.display()
        );
    }
    let mut bytes = Vec::new();
    file.take(MAX_ENV_FILE + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("--env-file {}: cannot read it", path.display()))?;
    if bytes.len() as u64 > MAX_ENV_FILE {
        bail!(
            "{}: larger than 1 MiB: not a dotenv file; pass another --env-file",
            path.display()
        );
    }
    Ok(bytes)
}

/// The variables of a dotenv file's content (quotes, `export`, comments, `${VAR}`),
/// never executed.
fn parse_env(path: &Path, content: &[u8]) -> Result<BTreeMap<String, String>> {
    let mut vars = BTreeMap::new();
    for item in dotenvy::from_read_iter(content) {
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

/// The variables that may load, and the refused ones with why (each once).
fn split_refused(
    vars: BTreeMap<String, String>,
) -> (BTreeMap<String, String>, Vec<(String, envguard::Refusal)>) {
    let mut refused = Vec::new();
    let vars = vars
        .into_iter()
        .filter(|(k, _)| match envguard::refusal(k) {
            Some(r) => {
                refused.push((k.clone(), r));
                false
            }
            None => true,
        })
        .collect();
    (vars, refused)
}

/// The user's shell kind from `$SHELL` (bash when it is none of ours).
pub fn user_shell_kind() -> ShellKind {
    let shell = std::env::var_os("SHELL")
        .map(PathBuf::from)
        .unwrap_or_default();
    ShellKind::of(&shell.file_name().unwrap_or_default().to_string_lossy())
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
        let v = parse_env(&f, &read_capped(&f).unwrap()).unwrap();
        assert_eq!(v["A"], "x y");
        assert_eq!(v["B"], "$(touch pwned)");
        assert_eq!(v["C"], "x y-z");
        assert!(!tmp.path().join("pwned").exists());
    }

    #[test]
    fn code_running_and_snap_variables_are_split_off_each_once() {
        let vars: BTreeMap<String, String> = [
            ("PROMPT_COMMAND", "touch F1"),
            ("BASH_ENV", "/x/evil.sh"),
            ("SNAP_DISABLE", "1"),
            ("PORT", "3000"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (ok, refused) = split_refused(vars);
        assert_eq!(ok.keys().collect::<Vec<_>>(), ["PORT"]);
        let names: Vec<&str> = refused.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["BASH_ENV", "PROMPT_COMMAND", "SNAP_DISABLE"]);
    }

    #[test]
    fn a_fifo_or_huge_env_file_is_refused_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        let big = tmp.path().join("big.env");
        std::fs::write(&big, vec![b'#'; (MAX_ENV_FILE + 1) as usize]).unwrap();
        let e = read_capped(&big).unwrap_err().to_string();
        assert!(e.contains("big.env") && e.contains("1 MiB"), "{e}");
        let fifo = tmp.path().join("fifo.env");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = read_capped(&fifo).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }
}
