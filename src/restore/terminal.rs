//! What a pane's terminal says of the program reading it.

use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Is a line editor reading this terminal (`/dev/pts/N`) now? One puts it in its own
/// mode, with neither line input nor echo; a command runs with both (the shell gives it
/// the terminal as the user set it). Keys sent then go to the editor, never echoed.
pub fn line_editor_reading(tty: &Path) -> bool {
    let Ok(file) = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
        .open(tty)
    else {
        return false;
    };
    // SAFETY: termios is plain data, filled by tcgetattr on a descriptor we hold open.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(file.as_raw_fd(), &mut t) } != 0 {
        return false;
    }
    t.c_lflag & (libc::ICANON | libc::ECHO) == 0
}
