//! The snapshot daemon: takes a snapshot on a cron schedule (tokio-cron-scheduler, six
//! fields, seconds first, UTC). The only async code in snap.
//!
//! - One daemon per `SNAP_HOME`: `state/daemon.lock` (flock, released by the kernel when
//!   its holder dies, so a crash never blocks the next daemon).
//! - Never two captures at once: a tick that finds one still running is skipped, and
//!   captures also take the store's capture lock (shared with `snap save`).
//! - SIGTERM or SIGINT: wait for a running capture, take a last snapshot, exit 0.
//! - Cron jobs, never repeated jobs: a repeated job stops for good after the process was
//!   suspended longer than its interval; a cron job catches up with one run.
//! - `state/daemon.json` says what it is doing (pid, schedule, last snapshot, last error).

mod install;

use crate::capture;
use crate::config::{self, Config};
use crate::store::atomic::write_atomic;
use crate::store::lock;
use crate::store::paths::{ensure_private_dir, Paths};
use crate::store::snapshots;
use crate::timefmt;
use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_cron_scheduler::{Job, JobScheduler};

pub use install::install;

/// What the running daemon writes to `state/daemon.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DaemonState {
    pub pid: u32,
    pub schedule: String,
    pub started_at: String,
    /// The id of its last snapshot.
    pub last_snapshot: Option<String>,
    pub last_error: Option<String>,
}

/// `snap daemon status --json`.
#[derive(Debug, Serialize)]
pub struct Status {
    pub running: bool,
    pub pid: Option<u32>,
    pub schedule: String,
    pub started_at: Option<String>,
    /// The newest good snapshot, by anyone.
    pub last_snapshot: Option<LastSnapshot>,
    /// The next scheduled run (RFC 3339), when running.
    pub next_run: Option<String>,
    pub last_error: Option<String>,
    pub log: PathBuf,
}

/// The newest snapshot and its age.
#[derive(Debug, Serialize)]
pub struct LastSnapshot {
    pub id: String,
    pub taken_at: String,
    pub age_seconds: i64,
}

fn state_file(paths: &Paths) -> PathBuf {
    paths.state.join("daemon.json")
}

/// The daemon's log file (when started with `snap daemon start`).
pub fn log_file(paths: &Paths) -> PathBuf {
    paths.state.join("daemon.log")
}

/// One log line on stderr. A closed stderr (its reader gone) loses the line, never the
/// daemon: `eprintln!` would panic there, since the daemon ignores SIGPIPE.
fn log(msg: &str) {
    use std::io::Write;
    let line = format!(
        "{} snap daemon[{}]: {msg}\n",
        timefmt::now_rfc3339(),
        std::process::id()
    );
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// The schedule in force: `--schedule`, else the config's.
fn schedule_of(cfg: &Config, flag: Option<&str>) -> Result<String> {
    let schedule = flag.map_or_else(|| cfg.schedule.clone(), str::to_string);
    config::validate_schedule(&schedule).context("bad --schedule")?;
    Ok(schedule)
}

/// Shared by the ticks.
struct Shared {
    paths: Paths,
    cfg: Config,
    state: std::sync::Mutex<DaemonState>,
    busy: tokio::sync::Mutex<()>,
}

/// `snap daemon run`: run in the foreground until SIGTERM or SIGINT.
pub fn run(paths: &Paths, schedule: Option<&str>) -> Result<()> {
    let cfg = Config::load(&paths.config_in_force())?;
    let schedule = schedule_of(&cfg, schedule)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the scheduler")?;
    let result = rt.block_on(async {
        // Signals first: whoever sees the lock taken may send SIGTERM at once.
        let signals = Signals::new()?;
        let Some(held) = lock::try_daemon(paths)? else {
            let pid = lock::daemon_pid(paths).unwrap_or(0);
            bail!(
                "a snapshot daemon already runs for {} (pid {pid}): `snap daemon stop` stops it",
                paths.data.display()
            );
        };
        let state = DaemonState {
            pid: std::process::id(),
            schedule: schedule.clone(),
            started_at: timefmt::now_rfc3339(),
            last_snapshot: None,
            last_error: None,
        };
        let shared = Arc::new(Shared {
            paths: paths.clone(),
            cfg,
            state: std::sync::Mutex::new(state),
            busy: tokio::sync::Mutex::new(()),
        });
        write_state(&shared);
        let result = serve(shared, schedule, signals).await;
        let _ = std::fs::remove_file(state_file(paths));
        drop(held);
        result
    });
    rt.shutdown_timeout(Duration::from_secs(5));
    result
}

/// SIGTERM and SIGINT, listened to from the start.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
            int: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
        })
    }
}

async fn serve(shared: Arc<Shared>, schedule: String, mut signals: Signals) -> Result<()> {
    let mut sched = JobScheduler::new()
        .await
        .map_err(|e| anyhow!("cannot start the scheduler: {e}"))?;
    let for_job = shared.clone();
    let job = Job::new_async(schedule.as_str(), move |_id, _sched| {
        let shared = for_job.clone();
        Box::pin(async move { tick(&shared, false).await })
    })
    .map_err(|e| anyhow!("bad schedule {schedule:?}: {e}"))?;
    sched
        .add(job)
        .await
        .map_err(|e| anyhow!("cannot schedule: {e}"))?;
    sched
        .start()
        .await
        .map_err(|e| anyhow!("cannot start the scheduler: {e}"))?;
    log(&format!(
        "started: schedule {schedule:?} (UTC), store {}",
        shared.paths.data.display()
    ));
    let why = tokio::select! {
        _ = signals.term.recv() => "SIGTERM",
        _ = signals.int.recv() => "SIGINT",
    };
    log(&format!("{why}: taking a last snapshot"));
    let _ = sched.shutdown().await;
    tick(&shared, true).await;
    log("stopped");
    Ok(())
}

/// One capture. A periodic tick is skipped while another capture runs; the last one
/// waits for it.
async fn tick(shared: &Arc<Shared>, last: bool) {
    let _guard = if last {
        shared.busy.lock().await
    } else {
        match shared.busy.try_lock() {
            Ok(g) => g,
            Err(_) => {
                log("tick skipped: the previous capture is still running");
                return;
            }
        }
    };
    let job = shared.clone();
    let label = last.then(|| "shutdown".to_string());
    let result = tokio::task::spawn_blocking(move || {
        let cfg = Config::load(&job.paths.config_in_force()).unwrap_or_else(|e| {
            log(&format!("config: {e:#}; keeping the one loaded at start"));
            job.cfg.clone()
        });
        capture::snapshot_with(&job.paths, &cfg, None, label.as_deref())
    })
    .await;
    {
        let mut st = shared.state.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(Ok(snap)) => {
                st.last_snapshot = Some(snap.id);
                st.last_error = None;
            }
            Ok(Err(e)) => {
                log(&format!("snapshot failed: {e:#}"));
                st.last_error = Some(format!("{e:#}"));
            }
            Err(e) => {
                log(&format!("snapshot failed: {e}"));
                st.last_error = Some(e.to_string());
            }
        }
    }
    write_state(shared);
}

fn write_state(shared: &Shared) {
    let st = shared
        .state
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let result = ensure_private_dir(&shared.paths.state)
        .and_then(|()| write_atomic(&state_file(&shared.paths), &serde_json::to_vec_pretty(&st)?));
    if let Err(e) = result {
        log(&format!(
            "cannot write {}: {e:#}",
            state_file(&shared.paths).display()
        ));
    }
}

/// `snap daemon start`: start `snap daemon run` detached (its own session, output to the
/// log file) and return once it holds the lock. Returns its pid, and whether it was
/// started now (false: one was already running).
pub fn start(paths: &Paths, schedule: Option<&str>) -> Result<(u32, bool)> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::process::CommandExt;
    if let Some(pid) = lock::daemon_pid(paths) {
        return Ok((pid, false));
    }
    let cfg = Config::load(&paths.config_in_force())?;
    schedule_of(&cfg, schedule)?;
    ensure_private_dir(&paths.state)?;
    let log_path = log_file(paths);
    rotate(&log_path);
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&log_path)
        .with_context(|| format!("cannot open the log {}", log_path.display()))?;
    let exe = std::env::current_exe().context("cannot find snap's own path")?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["daemon", "run"]);
    if let Some(s) = schedule {
        cmd.args(["--schedule", s]);
    }
    cmd.stdin(std::process::Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .current_dir("/");
    // SAFETY: setsid is async-signal-safe and touches no memory of this process.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = cmd.spawn().context("cannot start the daemon")?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Some(pid) = lock::daemon_pid(paths).filter(|&p| p == child.id()) {
            return Ok((pid, true));
        }
        if let Some(status) = child.try_wait()? {
            bail!(
                "the daemon exited at once ({status}); see {}",
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    bail!(
        "the daemon did not take its lock within 10 s; see {}",
        log_path.display()
    )
}

/// Keep the log small: over 1 MiB it becomes `daemon.log.1`.
fn rotate(log_path: &std::path::Path) {
    if std::fs::metadata(log_path).is_ok_and(|m| m.len() > 1 << 20) {
        let _ = std::fs::rename(log_path, log_path.with_extension("log.1"));
    }
}

/// `snap daemon stop`: SIGTERM, then wait until it let go of its lock. Returns its pid,
/// or None when no daemon was running.
pub fn stop(paths: &Paths, wait: Duration) -> Result<Option<u32>> {
    let Some(pid) = lock::daemon_pid(paths) else {
        return Ok(None);
    };
    let target = libc::pid_t::try_from(pid)
        .ok()
        .filter(|&p| p > 1)
        .ok_or_else(|| anyhow!("the daemon lock names no usable pid ({pid})"))?;
    // SAFETY: kill has no memory preconditions; target is a positive pid.
    if unsafe { libc::kill(target, libc::SIGTERM) } != 0 {
        let e = std::io::Error::last_os_error();
        bail!("cannot signal the daemon (pid {pid}): {e}");
    }
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if lock::daemon_pid(paths).is_none() {
            return Ok(Some(pid));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!(
        "the daemon (pid {pid}) still runs {} s after SIGTERM: `kill -9 {pid}` ends it (its lock is freed with it)",
        wait.as_secs()
    )
}

/// `snap daemon status`.
pub fn status(paths: &Paths) -> Result<Status> {
    let pid = lock::daemon_pid(paths);
    let state: Option<DaemonState> = std::fs::read(state_file(paths))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|s: &DaemonState| pid == Some(s.pid));
    let schedule = match &state {
        Some(s) => s.schedule.clone(),
        None => Config::load(&paths.config_in_force())?.schedule,
    };
    let now = timefmt::now_us();
    let next_run = pid.and_then(|_| {
        config::parse_cron(&schedule)
            .ok()?
            .find_next_occurrence(&chrono::Utc::now(), false)
            .ok()
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    });
    let last_snapshot = snapshots::latest(paths).map(|(_, s)| LastSnapshot {
        age_seconds: timefmt::parse_us(&s.taken_at).map_or(0, |t| (now - t) / 1_000_000),
        id: s.id,
        taken_at: s.taken_at,
    });
    Ok(Status {
        running: pid.is_some(),
        pid,
        schedule,
        started_at: state.as_ref().map(|s| s.started_at.clone()),
        last_snapshot,
        next_run,
        last_error: state.and_then(|s| s.last_error),
        log: log_file(paths),
    })
}
