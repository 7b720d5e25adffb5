//! This binary: its installed name (what `install.sh --name` chose), how other programs
//! should call it, and whether a command word is it; and finding a program on PATH.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The first executable file called `name` in these directories.
pub fn which_in(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(name)).find(|p| executable(p))
}

/// The first executable file called `name` on this process's PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    which_in(&std::env::split_paths(&path).collect::<Vec<_>>(), name)
}

/// A regular file someone may execute.
fn executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// This binary's path, resolved (None when the system cannot tell).
pub fn path() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(std::fs::canonicalize(&exe).unwrap_or(exe))
}

/// The name it is installed under: its file name (`snap` unless installed otherwise).
pub fn name() -> String {
    path()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "snap".into())
}

/// How a program configured by snap (an agent's hooks, its MCP entry) should call it:
/// by its installed name when that name, looked up on PATH, is this same binary (on
/// Ubuntu `snap` is usually snapd's), else by its absolute path.
pub fn for_config() -> String {
    let Some(me) = path() else {
        return name();
    };
    let name = name();
    let found = which(&name);
    if found.is_some_and(|f| same_file(&f, &me)) {
        name
    } else {
        me.to_string_lossy().into_owned()
    }
}

/// [`for_config`] as the first word of a shell command: a bare name as it is, a path
/// single-quoted.
pub fn shell_word(program: &str) -> String {
    if program.contains('/') {
        crate::text::posix_quote(program)
    } else {
        program.to_string()
    }
}

/// Is the command word `word` (run in `cwd`) this binary: its installed name, or a path
/// or PATH entry that resolves to it?
pub fn is_me(word: &str, cwd: &Path) -> bool {
    let Some(me) = path() else {
        return false;
    };
    let base = Path::new(word).file_name().and_then(|n| n.to_str());
    if base == Some(name().as_str()) {
        return true;
    }
    let found = if word.contains('/') {
        Some(cwd.join(word))
    } else {
        which(word)
    };
    found.is_some_and(|f| same_file(&f, &me))
}

/// Do two paths name the same file once resolved?
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_binary_is_known_by_name_and_path() {
        let me = path().unwrap();
        let dir = me.parent().unwrap();
        assert!(is_me(&name(), Path::new("/")));
        assert!(is_me(&me.to_string_lossy(), Path::new("/")));
        assert!(is_me(&format!("./{}", name()), dir));
        assert!(!is_me("ls", Path::new("/")));
        assert!(!is_me("/bin/ls", Path::new("/")));
        let tmp = tempfile::tempdir().unwrap();
        let link = tmp.path().join("alias-of-me");
        std::os::unix::fs::symlink(&me, &link).unwrap();
        assert!(is_me(&link.to_string_lossy(), Path::new("/")));
    }
}
