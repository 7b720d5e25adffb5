//! `snap daemon install [--uninstall]`: run the daemon as a service. Linux: a systemd
//! user unit, with lingering enabled so it outlives the SSH login (or a note saying how).
//! macOS: a LaunchAgent. Running it twice changes nothing the second time. Where there is
//! no service manager for the user, it says so and points at `snap daemon start`.

use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Install (or with `uninstall`, remove) the service. Prints what it did.
pub fn install(uninstall: bool) -> Result<()> {
    let exe = std::env::current_exe().context("cannot find snap's own path")?;
    platform::install(&exe, uninstall)
}

/// Variables the service needs to find the same store and config as this shell.
fn service_env() -> Vec<(String, String)> {
    ["SNAP_HOME", "SNAP_CONFIG"]
        .iter()
        .filter_map(|k| {
            let v = std::env::var(k).ok().filter(|v| !v.is_empty())?;
            let abs = std::path::absolute(&v).map_or(v, |p| p.to_string_lossy().into_owned());
            Some((k.to_string(), abs))
        })
        .collect()
}

/// Write `text` to `path` unless it already holds exactly that; true when written.
fn write_if_changed(path: &Path, text: &str) -> Result<bool> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    crate::store::atomic::write_atomic(path, text.as_bytes())?;
    Ok(true)
}

/// Run a command quietly; Ok(stdout) on success, Err(its stderr or why it did not run).
fn quiet(program: &str, args: &[&str]) -> Result<String, String> {
    match Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
    {
        Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).trim().to_string()),
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            Err(err.lines().next().unwrap_or("failed").trim().to_string())
        }
        Err(e) => Err(format!("{program}: {e}")),
    }
}

#[cfg(not(target_os = "macos"))]
fn home_config() -> Result<PathBuf> {
    directories::BaseDirs::new()
        .map(|b| b.config_dir().to_path_buf())
        .ok_or_else(|| anyhow!("cannot find your home directory: set HOME"))
}

#[cfg(not(target_os = "macos"))]
mod platform {
    use super::*;

    const UNIT: &str = "snap-daemon.service";

    pub fn unit_text(exe: &Path) -> String {
        let mut env = String::new();
        for (k, v) in service_env() {
            env.push_str(&format!("Environment=\"{k}={}\"\n", v.replace('"', "\\\"")));
        }
        format!(
            "# Written by `snap daemon install`; `snap daemon install --uninstall` removes it.\n\
             [Unit]\nDescription=snap snapshot daemon (snapshots of your shells and tmux)\n\n\
             [Service]\nType=simple\nExecStart=\"{}\" daemon run\n{env}\
             Restart=on-failure\nRestartSec=5\nKillSignal=SIGTERM\nTimeoutStopSec=60\n\n\
             [Install]\nWantedBy=default.target\n",
            exe.display().to_string().replace('"', "\\\"")
        )
    }

    pub fn install(exe: &Path, uninstall: bool) -> Result<()> {
        let unit = home_config()?.join("systemd/user").join(UNIT);
        let available = quiet("systemctl", &["--user", "show-environment"]);
        if uninstall {
            if available.is_ok() {
                let _ = quiet("systemctl", &["--user", "disable", "--now", UNIT]);
            }
            if unit.exists() {
                std::fs::remove_file(&unit)
                    .with_context(|| format!("cannot remove {}", unit.display()))?;
                if available.is_ok() {
                    let _ = quiet("systemctl", &["--user", "daemon-reload"]);
                }
                println!("removed {}", unit.display());
            } else {
                println!("not installed ({} does not exist)", unit.display());
            }
            return Ok(());
        }
        if let Err(why) = available {
            bail!(
                "systemd --user is not available here ({why}), so there is no service to install.\n\
                 Run `snap daemon start` instead: it runs the daemon detached, and it goes on after you log out.\n\
                 To start it at boot as well, add this line with `crontab -e`:\n  @reboot {} daemon start",
                exe.display()
            );
        }
        let written = write_if_changed(&unit, &unit_text(exe))?;
        quiet("systemctl", &["--user", "daemon-reload"])
            .map_err(|e| anyhow!("systemctl --user daemon-reload: {e}"))?;
        quiet("systemctl", &["--user", "enable", "--now", UNIT])
            .map_err(|e| anyhow!("systemctl --user enable --now {UNIT}: {e}"))?;
        if written {
            // A changed unit takes effect on restart.
            let _ = quiet("systemctl", &["--user", "try-restart", UNIT]);
        }
        println!(
            "{} {} and enabled it (systemctl --user status {UNIT})",
            if written { "wrote" } else { "kept" },
            unit.display()
        );
        linger();
        Ok(())
    }

    /// Enable lingering, so the user's services outlive their last login; else say how.
    fn linger() {
        let user = std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            // SAFETY: getuid has no preconditions and cannot fail.
            .unwrap_or_else(|| unsafe { libc::getuid() }.to_string());
        let on = quiet(
            "loginctl",
            &["show-user", &user, "--property=Linger", "--value"],
        )
        .is_ok_and(|v| v == "yes");
        if on {
            println!("lingering is on: the daemon outlives your logins");
            return;
        }
        match quiet("loginctl", &["enable-linger", &user]) {
            Ok(_) => println!("enabled lingering: the daemon outlives your logins"),
            Err(why) => println!(
                "could not enable lingering ({why}): the daemon stops when your last login ends.\n\
                 Ask an admin to run `sudo loginctl enable-linger {user}`."
            ),
        }
    }
}

#[cfg(target_os = "macos")]
mod platform {
    use super::*;

    const LABEL: &str = "dev.snap.daemon";

    fn plist_text(exe: &Path) -> String {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let mut env = String::new();
        for (k, v) in service_env() {
            env.push_str(&format!(
                "    <key>{}</key><string>{}</string>\n",
                esc(&k),
                esc(&v)
            ));
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
             <plist version=\"1.0\"><dict>\n\
             <key>Label</key><string>{LABEL}</string>\n\
             <key>ProgramArguments</key><array><string>{}</string><string>daemon</string><string>run</string></array>\n\
             <key>EnvironmentVariables</key><dict>\n{env}</dict>\n\
             <key>RunAtLoad</key><true/>\n<key>KeepAlive</key><true/>\n\
             </dict></plist>\n",
            esc(&exe.display().to_string())
        )
    }

    pub fn install(exe: &Path, uninstall: bool) -> Result<()> {
        let home = directories::BaseDirs::new()
            .map(|b| b.home_dir().to_path_buf())
            .ok_or_else(|| anyhow!("cannot find your home directory: set HOME"))?;
        let plist = home
            .join("Library/LaunchAgents")
            .join(format!("{LABEL}.plist"));
        // SAFETY: getuid has no preconditions and cannot fail.
        let domain = format!("gui/{}", unsafe { libc::getuid() });
        let target = format!("{domain}/{LABEL}");
        if uninstall {
            let _ = quiet("launchctl", &["bootout", &target]);
            if plist.exists() {
                std::fs::remove_file(&plist)?;
                println!("removed {}", plist.display());
            } else {
                println!("not installed");
            }
            return Ok(());
        }
        let written = write_if_changed(&plist, &plist_text(exe))?;
        if written || quiet("launchctl", &["print", &target]).is_err() {
            let _ = quiet("launchctl", &["bootout", &target]);
            quiet(
                "launchctl",
                &["bootstrap", &domain, &plist.to_string_lossy()],
            )
            .map_err(|e| anyhow!("launchctl bootstrap: {e}"))?;
        }
        println!(
            "{} {} and loaded it",
            if written { "wrote" } else { "kept" },
            plist.display()
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writing_twice_changes_nothing_the_second_time() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("a/unit");
        assert!(write_if_changed(&p, "x").unwrap());
        assert!(!write_if_changed(&p, "x").unwrap());
        assert!(write_if_changed(&p, "y").unwrap());
    }

    #[cfg(not(target_os = "macos"))]
    #[test]
    fn unit_runs_the_daemon_in_the_foreground() {
        let text = platform_unit(Path::new("/opt/my snap/snap"));
        assert!(
            text.contains("ExecStart=\"/opt/my snap/snap\" daemon run"),
            "{text}"
        );
        assert!(text.contains("WantedBy=default.target"));
    }

    #[cfg(not(target_os = "macos"))]
    fn platform_unit(exe: &Path) -> String {
        platform::unit_text(exe)
    }
}
