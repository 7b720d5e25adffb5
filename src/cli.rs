//! Command-line definitions (also used for completions and the man page).

use crate::model::ShellKind;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Exit codes, stated in `--help`.
pub const EXIT_CODES: &str = "Exit codes: 0 ok, 1 failure, 2 usage error.";

/// snap keeps a coding session alive across disconnects: it records your shells
/// (cwd, environment, every command), snapshots them with their running processes,
/// and brings them back with `snap restore`.
#[derive(Debug, Parser)]
#[command(name = "snap", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Every subcommand of snap.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the shell hook: eval "$(snap init bash)", eval "$(snap init zsh)", snap init fish | source
    Init(InitArgs),
    /// Recorded commands, oldest first
    History(HistoryArgs),
    /// Sessions and their shells: live ones, and those ended lately
    Sessions(SessionsArgs),
    /// Take a snapshot now
    Save(SaveArgs),
    /// List snapshots, newest last
    List(JsonArg),
    /// Show one snapshot
    Show(ShowArgs),
    /// Remove old snapshots (per session) and what they already hold
    Prune(PruneArgs),
    /// Drop a session from future restores
    Forget(ForgetArgs),
    /// Rebuild the index of every recorded command from the journals
    Reindex,
    /// The snapshot daemon: takes snapshots on a cron schedule
    #[command(subcommand)]
    Daemon(DaemonCommand),
    /// Bring a session back after a disconnect, a closed terminal or a reboot
    Restore(RestoreArgs),
    /// Create a tmux session with the hook active (attach if it exists)
    Start(StartArgs),
    /// The coding agent's task state in .agent-session.json
    #[command(subcommand)]
    Task(TaskCommand),
    /// Record a checkpoint in .agent-session.json and snapshot the session
    Checkpoint(CheckpointArgs),
    /// The resume brief: where a session left off
    Brief(BriefArgs),
    /// Entry point for coding-agent hooks (Claude Code, Codex)
    Hook(HookArgs),
    /// Serve brief, checkpoint, task and history as MCP tools over stdio
    Mcp,
    /// Check the installation and say how to fix what is wrong
    Doctor(JsonArg),
    /// Print shell completions
    Completions(CompletionsArgs),
    /// Print the man page (roff)
    #[command(hide = true)]
    Man,
    /// Show the effective configuration, or its path
    Config(ConfigArgs),
    /// Called once by the shell hook when a shell starts (internal)
    #[command(hide = true)]
    ShellStart(ShellStartArgs),
}

/// A `--json` flag alone.
#[derive(Debug, Args)]
pub struct JsonArg {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// What `snap init` can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitTarget {
    Bash,
    Zsh,
    Fish,
    /// Claude Code settings snippet wiring `snap hook claude`, then the `.mcp.json`
    /// entry starting `snap mcp`
    Claude,
    /// Codex config snippet wiring `snap hook codex`, then its `[mcp_servers.snap]`
    Codex,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The shell (or agent) to print the hook for
    pub shell: InitTarget,
    /// Claude Code: merge snap's hooks into the project's .claude/settings.local.json
    /// and its MCP server into .mcp.json, instead of printing them
    #[arg(long)]
    pub write: bool,
    /// With --write: the shared .claude/settings.json (the file a team commits) instead
    #[arg(long, requires = "write")]
    pub shared: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this session
    #[arg(long, conflicts_with = "all")]
    pub session: Option<String>,
    /// Every session
    #[arg(long)]
    pub all: bool,
    /// Only the last N commands
    #[arg(short = 'n', long = "limit", value_name = "N")]
    pub limit: Option<usize>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    /// Real values even under a coding agent (CLAUDECODE or CODEX_* set), which
    /// otherwise sees secrets redacted and filtered commands left out
    #[arg(long)]
    pub raw: bool,
    /// Only commands containing each word of TEXT (case-insensitive, any order; plain text)
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub search: Option<String>,
    /// Only commands run in DIR or below
    #[arg(long, value_name = "DIR", conflicts_with = "here")]
    pub cwd: Option<PathBuf>,
    /// Only commands run in this directory or below
    #[arg(long)]
    pub here: bool,
    /// Only failed commands (exit not 0, not a stopped job)
    #[arg(long)]
    pub failed: bool,
    /// Only commands that exited with N
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub exit: Option<i32>,
    /// Only commands started since WHEN: a duration back (7d, 12h, 30m) or an RFC 3339 time
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only this shell (implies --all)
    #[arg(long, value_name = "ID", conflicts_with = "session")]
    pub shell: Option<String>,
    /// Only commands from this source
    #[arg(long, value_enum)]
    pub source: Option<SourceArg>,
}

/// Who ran a command, for `history --source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceArg {
    /// A prompt hook saw it
    Shell,
    /// A coding agent's hook reported it
    Agent,
    /// Restore ran the line itself
    Restore,
}

/// `snap sessions`.
#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    /// Real values even under a coding agent (CLAUDECODE or CODEX_* set), which
    /// otherwise sees secrets redacted
    #[arg(long)]
    pub raw: bool,
    /// Every shell ever recorded, not only live and recent ones
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Only this session
    #[arg(long)]
    pub session: Option<String>,
    /// A label stored with the snapshot
    #[arg(long)]
    pub label: Option<String>,
    /// Print the snapshot as JSON instead of its id
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Snapshot id, or `latest`
    #[arg(default_value = "latest")]
    pub id: String,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Keep each session's last N snapshots
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,
    /// Remove snapshots older than this (e.g. 7d, 12h, 30m)
    #[arg(long, value_name = "DURATION")]
    pub older_than: Option<String>,
    /// Remove recorded commands (and the journals of ended shells) older than this
    #[arg(long, value_name = "DURATION")]
    pub history_older_than: Option<String>,
    /// Say what would be removed, remove nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// The session to drop from future restores
    pub session: String,
    /// Also remove its recorded commands and journals
    #[arg(long)]
    pub purge: bool,
}

#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Run in the foreground
    Run(DaemonRunArgs),
    /// Start detached (returns at once; logs under the state dir)
    Start(DaemonRunArgs),
    /// Stop the running daemon
    Stop,
    /// Is it running, when did it last snapshot, when is the next run
    Status(JsonArg),
    /// Install as a systemd user unit (Linux) or LaunchAgent (macOS)
    Install(DaemonInstallArgs),
}

#[derive(Debug, Args)]
pub struct DaemonRunArgs {
    /// Cron schedule, six fields, seconds first (default: every 10 minutes)
    #[arg(long, value_name = "CRON")]
    pub schedule: Option<String>,
}

#[derive(Debug, Args)]
pub struct DaemonInstallArgs {
    /// Remove the service instead
    #[arg(long)]
    pub uninstall: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The session to restore (default: the only one, or a picker)
    pub name: Option<String>,
    /// Restore from this snapshot
    #[arg(long, value_name = "SNAPSHOT_ID")]
    pub from: Option<String>,
    /// Print the plan, change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Also run held commands (never-commands still never run)
    #[arg(long)]
    pub yes: bool,
    /// Do not attach; print the command instead
    #[arg(long)]
    pub no_attach: bool,
    /// Restore without tmux
    #[arg(long)]
    pub no_tmux: bool,
    /// Bring back shells that died while the tmux session lived
    #[arg(long)]
    pub missing: bool,
    /// Print the plan and brief as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// The session name
    pub name: String,
    /// The directory to start in (default: the current one)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Variables to load, trusted (default: .env in DIR once trusted); never executed
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
    /// Trust DIR's .env as it is now and load it (asked again when it changes)
    #[arg(long)]
    pub trust_env: bool,
    /// Do not attach; print the command instead
    #[arg(long)]
    pub no_attach: bool,
}

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// Set the current task
    Set(TaskTextArgs),
    /// Append next steps
    Next(TaskStepsArgs),
    /// Remove a next step by text or number (from 1, as `task show` numbers them)
    Done(TaskTextArgs),
    /// Pin or unpin files in progress
    #[command(subcommand)]
    Files(TaskFilesCommand),
    /// Show the task state
    Show(TaskShowArgs),
    /// Empty the task, files and next steps (keeps everything else)
    Clear(TaskFileArg),
}

/// `--file PATH` override of the state file.
#[derive(Debug, Args)]
pub struct TaskFileArg {
    /// The state file (default: .agent-session.json at the project root)
    #[arg(long, value_name = "PATH", global = true)]
    pub file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TaskTextArgs {
    /// The text
    pub text: String,
    #[command(flatten)]
    pub file: TaskFileArg,
}

#[derive(Debug, Args)]
pub struct TaskStepsArgs {
    /// One or more steps
    #[arg(required = true)]
    pub steps: Vec<String>,
    #[command(flatten)]
    pub file: TaskFileArg,
}

#[derive(Debug, Subcommand)]
pub enum TaskFilesCommand {
    /// Pin files
    Add(TaskPathsArgs),
    /// Unpin files
    Rm(TaskPathsArgs),
}

#[derive(Debug, Args)]
pub struct TaskPathsArgs {
    /// Paths (stored relative to the project root)
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub file: TaskFileArg,
}

#[derive(Debug, Args)]
pub struct TaskShowArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub file: TaskFileArg,
}

#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// What was just done
    #[arg(short = 'm', long = "message")]
    pub message: Option<String>,
    #[command(flatten)]
    pub file: TaskFileArg,
}

#[derive(Debug, Args)]
pub struct BriefArgs {
    /// The session (default: the current one, else the one whose project is the cwd)
    pub name: Option<String>,
    /// Print JSON
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print markdown for a coding agent's first message
    #[arg(long)]
    pub markdown: bool,
}

/// Coding agents whose hooks snap understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AgentKind {
    Claude,
    Codex,
}

#[derive(Debug, Args)]
pub struct HookArgs {
    /// The agent calling
    pub agent: AgentKind,
    /// The event payload: Codex's `notify` passes it as an argument; hooks (Claude
    /// Code's, Codex's hooks.json) on stdin
    pub payload: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    pub shell: ShellKind,
    /// The command name to complete (when installed under another name)
    #[arg(long, default_value = "snap")]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// show (default) or path
    #[arg(value_enum, default_value = "show")]
    pub action: ConfigAction,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConfigAction {
    Show,
    Path,
}

#[derive(Debug, Args)]
pub struct ShellStartArgs {
    /// The shell's kind
    pub kind: ShellKind,
    /// The shell id the hook made
    pub id: String,
    /// The shell's pid
    pub pid: u32,
    /// The shell's version string
    #[arg(long, default_value = "")]
    pub version: String,
    /// Journal format 2: keep a random record token in the meta and print it on the
    /// line before the directory (a shell already started keeps its own, or gets one)
    #[arg(long)]
    pub token: bool,
}
