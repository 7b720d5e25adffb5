//! Checks of the store: private permissions, not on a network file system, and the
//! index opens, passes its integrity check and keeps up with the journals.

use super::Check;
use crate::store::paths::Paths;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The index: opens (a damaged one is set aside and rebuilt), `quick_check` passes,
/// and how far behind the journals it was.
pub fn index(paths: &Paths) -> Check {
    use crate::store::index::{ingest, Index};
    const NAME: &str = "index";
    let path = crate::store::index::db_path(paths);
    if !path.exists() {
        return Check::ok(
            NAME,
            format!(
                "{} not built yet (the first snap history builds it)",
                path.display()
            ),
        );
    }
    let (mut ix, damage) = match Index::open_checked(paths) {
        Ok(found) => found,
        Err(e) => {
            return Check::fail(
                NAME,
                format!("{}: {e:#}", path.display()),
                format!("move {} away, then run snap reindex", path.display()),
            )
        }
    };
    let behind = ingest::behind(&ix).unwrap_or(0);
    if let Err(e) = ingest::ingest(&mut ix, paths) {
        return Check::fail(
            NAME,
            format!("cannot ingest the journals: {e:#}"),
            "snap reindex",
        );
    }
    let (shells, commands) = ix.counts().unwrap_or((0, 0));
    let held = format!("{commands} command(s) of {shells} shell(s)");
    match damage {
        None => Check::ok(
            NAME,
            format!(
                "{}: {held}, integrity ok, was {behind} journal byte(s) behind",
                path.display()
            ),
        ),
        Some(problem) => Check::warn(
            NAME,
            format!(
                "{} failed its integrity check ({problem}): set aside and rebuilt from the journals, {held}",
                path.display()
            ),
            "nothing to do; if it happens again, check the disk",
        ),
    }
}

/// How many offenders to name; the rest are counted.
const NAMED: usize = 3;

/// Every directory under the store is 0700 and every file 0600, and all are ours.
pub fn permissions(paths: &Paths) -> Check {
    const NAME: &str = "store-permissions";
    let mut roots = vec![paths.data.clone()];
    if !paths.state.starts_with(&paths.data) {
        roots.push(paths.state.clone());
    }
    let roots: Vec<PathBuf> = roots.into_iter().filter(|r| r.exists()).collect();
    if roots.is_empty() {
        return Check::ok(
            NAME,
            format!("store not created yet ({})", paths.data.display()),
        );
    }
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let mut seen = 0usize;
    let mut bad = Vec::new();
    for root in &roots {
        walk(root, &mut |path, meta| {
            seen += 1;
            if let Some(why) = offence(meta, uid) {
                bad.push(format!("{} ({why})", path.display()));
            }
        });
    }
    let shown = roots
        .iter()
        .map(|r| r.display().to_string())
        .collect::<Vec<_>>()
        .join(" and ");
    if bad.is_empty() {
        return Check::ok(NAME, format!("{seen} entries private under {shown}"));
    }
    let more = bad.len().saturating_sub(NAMED);
    let mut detail = format!(
        "{} of {seen} entries not private: {}",
        bad.len(),
        bad[..bad.len().min(NAMED)].join(", ")
    );
    if more > 0 {
        detail.push_str(&format!(" and {more} more"));
    }
    let chmod = roots
        .iter()
        .map(|r| format!("chmod -R go-rwx '{}'", r.display()))
        .collect::<Vec<_>>()
        .join("; ");
    Check::fail(NAME, detail, chmod)
}

/// Why an entry is not private, if it is not: dirs 0700, files 0600, owned by us.
fn offence(meta: &std::fs::Metadata, uid: u32) -> Option<String> {
    let mode = meta.mode() & 0o777;
    if meta.uid() != uid {
        return Some(format!("owned by uid {}", meta.uid()));
    }
    (mode & 0o077 != 0).then(|| format!("{mode:04o}"))
}

/// Visit `root` and everything under it, without following symlinks.
fn walk(root: &Path, visit: &mut dyn FnMut(&Path, &std::fs::Metadata)) {
    let Ok(meta) = std::fs::symlink_metadata(root) else {
        return;
    };
    if meta.file_type().is_symlink() {
        return;
    }
    visit(root, &meta);
    if meta.is_dir() {
        if let Ok(entries) = std::fs::read_dir(root) {
            for e in entries.flatten() {
                walk(&e.path(), visit);
            }
        }
    }
}

/// The store is on a local file system (journals appended from many shells, locks and
/// renames misbehave over NFS, SMB and sshfs).
pub fn filesystem(paths: &Paths) -> Check {
    const NAME: &str = "store-fs";
    let Some(at) = paths.data.ancestors().find(|p| p.exists()) else {
        return Check::skip(NAME, "cannot find where the store would live");
    };
    match fs_type(at) {
        Some(FsKind::Network(kind)) => Check::warn(
            NAME,
            format!("{} is on a network file system ({kind})", at.display()),
            "set SNAP_HOME to a directory on a local disk (e.g. under /var/tmp or a local home)",
        ),
        Some(FsKind::Local(kind)) => Check::ok(NAME, format!("local ({kind})")),
        None => Check::skip(
            NAME,
            format!("cannot tell the file system of {}", at.display()),
        ),
    }
}

/// A file system's kind, by name.
#[derive(Debug, PartialEq, Eq)]
enum FsKind {
    Local(String),
    Network(String),
}

/// Linux: statfs's f_type; for FUSE, the subtype from /proc/self/mountinfo.
#[cfg(target_os = "linux")]
fn fs_type(path: &Path) -> Option<FsKind> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: c is a valid NUL-terminated path and st a properly sized out-parameter.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    #[allow(clippy::unnecessary_cast)]
    let magic = st.f_type as u64 as u32;
    let fuse = (magic == FUSE_MAGIC).then(|| fuse_subtype(path)).flatten();
    Some(classify(magic, fuse.as_deref()))
}

/// macOS and the BSDs: statfs's f_fstypename.
#[cfg(not(target_os = "linux"))]
fn fs_type(path: &Path) -> Option<FsKind> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: c is a valid NUL-terminated path and st a properly sized out-parameter.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    // SAFETY: f_fstypename is NUL-terminated by the kernel.
    let name = unsafe { std::ffi::CStr::from_ptr(st.f_fstypename.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    let network = ["nfs", "smbfs", "afpfs", "webdav", "cifs"].contains(&name.as_str())
        || name.contains("fuse");
    Some(if network {
        FsKind::Network(name)
    } else {
        FsKind::Local(name)
    })
}

#[cfg(target_os = "linux")]
const FUSE_MAGIC: u32 = 0x6573_5546;

/// Name a Linux file system by its statfs magic; FUSE by its subtype.
#[cfg(any(target_os = "linux", test))]
fn classify(magic: u32, fuse_subtype: Option<&str>) -> FsKind {
    const NETWORK: &[(u32, &str)] = &[
        (0x6969, "nfs"),
        (0x517B, "smb"),
        (0xFF53_4D42, "cifs"),
        (0xFE53_4D42, "smb2"),
        (0x5346_414F, "afs"),
        (0x0102_1997, "9p"),
        (0x00C3_6400, "ceph"),
        (0x7375_7245, "coda"),
        (0x0BD0_0BD0, "lustre"),
    ];
    const REMOTE_FUSE: &[&str] = &[
        "sshfs",
        "rclone",
        "s3fs",
        "gcsfuse",
        "davfs",
        "glusterfs",
        "cephfs",
        "smbnetfs",
        "curlftpfs",
        "goofys",
        "juicefs",
    ];
    if let Some((_, name)) = NETWORK.iter().find(|(m, _)| *m == magic) {
        return FsKind::Network((*name).into());
    }
    if magic == 0x6573_5546 {
        let sub = fuse_subtype.unwrap_or("fuse");
        let short = sub.trim_start_matches("fuse.");
        return if REMOTE_FUSE.contains(&short) {
            FsKind::Network(sub.into())
        } else {
            FsKind::Local(sub.into())
        };
    }
    let local = match magic {
        0xEF53 => "ext4".to_string(),
        0x5846_5342 => "xfs".into(),
        0x9123_683E => "btrfs".into(),
        0x0102_1994 => "tmpfs".into(),
        0x794C_7630 => "overlay".into(),
        0x2FC1_2FC1 => "zfs".into(),
        other => format!("type 0x{other:x}"),
    };
    FsKind::Local(local)
}

/// The FUSE subtype (`fuse.sshfs`) of the mount holding `path`, from mountinfo.
#[cfg(target_os = "linux")]
fn fuse_subtype(path: &Path) -> Option<String> {
    let path = path.canonicalize().ok()?;
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let mount = unescape_mount(left.split(' ').nth(4)?);
            let fstype = right.split(' ').next()?.to_string();
            path.starts_with(&mount).then_some((mount, fstype))
        })
        .max_by_key(|(m, _)| m.as_os_str().len())
        .map(|(_, t)| t)
}

/// mountinfo escapes space, tab, newline and backslash as octal.
#[cfg(target_os = "linux")]
fn unescape_mount(s: &str) -> PathBuf {
    PathBuf::from(
        s.replace("\\040", " ")
            .replace("\\011", "\t")
            .replace("\\012", "\n")
            .replace("\\134", "\\"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn network_file_systems_are_told_from_local_ones() {
        assert_eq!(classify(0x6969, None), FsKind::Network("nfs".into()));
        assert_eq!(classify(0xFF53_4D42, None), FsKind::Network("cifs".into()));
        assert_eq!(
            classify(0x6573_5546, Some("fuse.sshfs")),
            FsKind::Network("fuse.sshfs".into())
        );
        assert_eq!(
            classify(0x6573_5546, Some("fuse-overlayfs")),
            FsKind::Local("fuse-overlayfs".into())
        );
        assert_eq!(classify(0xEF53, None), FsKind::Local("ext4".into()));
    }

    #[test]
    fn offenders_are_named_with_their_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("store");
        std::fs::create_dir(&root).unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700)).unwrap();
        let f = root.join("journal");
        std::fs::write(&f, "x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let uid = unsafe { libc::getuid() };
        let mut found = Vec::new();
        walk(&root, &mut |p, m| {
            if let Some(why) = offence(m, uid) {
                found.push((p.to_path_buf(), why));
            }
        });
        assert_eq!(found, vec![(f, "0644".to_string())]);
    }
}
