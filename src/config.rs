//! snap's configuration: a TOML file, the one `SNAP_CONFIG` names, else
//! `$SNAP_HOME/config.toml` when `SNAP_HOME` is set, else `config.toml` in the platform's
//! config directory. Every key is optional; a missing file means the defaults.
//!
//! ```toml
//! schedule = "0 */10 * * * *"   # the daemon's cron: six fields, seconds first, UTC
//! notice = true                 # say so when snap did something on its own
//! environment = "dev box"       # free text recorded for coding agents
//! history_filter = ["^pass "]   # regexes: matching commands never leave the journal
//! cwd_filter = ["^/home/me/private"]  # regexes: commands run in matching directories too
//!
//! [retention]
//! keep = 50          # each session's last N snapshots in which it had live shells
//! max_age = "30d"    # older snapshots go (a session's newest one always stays)
//! history_max_age = "365d"  # older commands leave the history (default: kept for ever)
//!
//! [secrets]
//! defaults = true              # keep the built-in patterns
//! names = ["*_API"]            # variable names (globs, case-insensitive)
//! values = ["myco_[a-z0-9]{20}"]  # regexes; a group named `secret` limits what is hidden
//!
//! [relaunch]
//! defaults = true
//! auto = ["./serve.sh"]        # command patterns (see crate::policy::patterns)
//! hold = ["npm start"]
//! never = ["deploy"]
//! agents = { claude = "claude --continue" }
//!
//! [brief]
//! test_commands = ["./run-tests.sh", "just check"]  # more test commands (relaunch patterns)
//! ```
//!
//! A bad file is an error naming the file, the key and the line.

use anyhow::{anyhow, bail, Context, Result};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use toml::Spanned;

/// The daemon's default schedule: every 10 minutes.
pub const DEFAULT_SCHEDULE: &str = "0 */10 * * * *";

/// The effective configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// The daemon's cron schedule (six fields, seconds first, UTC).
    pub schedule: String,
    /// Say so when snap did something on its own.
    pub notice: bool,
    /// Free text describing this environment, recorded for coding agents.
    pub environment: Option<String>,
    pub retention: Retention,
    pub secrets: Secrets,
    pub relaunch: Relaunch,
    pub brief: Brief,
    /// Regexes: matching commands are kept out of snapshots (the journal keeps them).
    pub history_filter: Vec<String>,
    /// Regexes: commands run in matching directories are kept out too.
    pub cwd_filter: Vec<String>,
    #[serde(skip)]
    filters: Filters,
}

/// How many snapshots to keep.
#[derive(Debug, Clone, Serialize)]
pub struct Retention {
    /// Each session's last N snapshots in which it had live shells.
    pub keep: usize,
    /// Snapshots older than this go (e.g. `30d`); a session's newest always stays.
    pub max_age: String,
    #[serde(skip)]
    pub max_age_dur: Option<Duration>,
    /// Commands older than this leave the history (e.g. `365d`); empty: kept for ever.
    pub history_max_age: String,
    #[serde(skip)]
    pub history_max_age_dur: Option<Duration>,
}

/// Secret patterns added to (or replacing) the built-in ones.
#[derive(Debug, Clone, Serialize)]
pub struct Secrets {
    /// Keep the built-in patterns.
    pub defaults: bool,
    /// Variable-name globs (`*` wildcard, case-insensitive).
    pub names: Vec<String>,
    /// Value regexes; a group named `secret` limits what is replaced.
    pub values: Vec<String>,
}

/// Relaunch lists added to (or replacing) the built-in ones.
#[derive(Debug, Clone, Serialize)]
pub struct Relaunch {
    /// Keep the built-in lists.
    pub defaults: bool,
    pub auto: Vec<String>,
    pub hold: Vec<String>,
    pub never: Vec<String>,
    /// Agent CLI name → the line that resumes it.
    pub agents: BTreeMap<String, String>,
}

/// What the resume brief says.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Brief {
    /// Test commands besides the built-in ones (patterns as the relaunch lists'): the
    /// brief says whether their last run still applies.
    pub test_commands: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct Filters {
    commands: Vec<Regex>,
    cwds: Vec<Regex>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            schedule: DEFAULT_SCHEDULE.to_string(),
            notice: true,
            environment: None,
            retention: Retention {
                keep: 50,
                max_age: "30d".into(),
                max_age_dur: Some(Duration::from_secs(30 * 86_400)),
                history_max_age: String::new(),
                history_max_age_dur: None,
            },
            secrets: Secrets {
                defaults: true,
                names: vec![],
                values: vec![],
            },
            relaunch: Relaunch {
                defaults: true,
                auto: vec![],
                hold: vec![],
                never: vec![],
                agents: BTreeMap::new(),
            },
            brief: Brief::default(),
            history_filter: vec![],
            cwd_filter: vec![],
            filters: Filters::default(),
        }
    }
}

// The file as written: spans kept where a value needs checking after parsing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    schedule: Option<Spanned<String>>,
    notice: Option<bool>,
    environment: Option<String>,
    retention: Option<RawRetention>,
    secrets: Option<RawSecrets>,
    relaunch: Option<RawRelaunch>,
    brief: Option<RawBrief>,
    history_filter: Option<Vec<Spanned<String>>>,
    cwd_filter: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    keep: Option<Spanned<i64>>,
    max_age: Option<Spanned<String>>,
    history_max_age: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecrets {
    defaults: Option<bool>,
    names: Option<Vec<String>>,
    values: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelaunch {
    defaults: Option<bool>,
    auto: Option<Vec<String>>,
    hold: Option<Vec<String>>,
    never: Option<Vec<String>>,
    agents: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBrief {
    test_commands: Option<Vec<Spanned<String>>>,
}

impl Config {
    /// Load the config file in force at `path` (see the module doc; the store's
    /// `Paths::config_in_force` finds it). A missing default file gives the defaults; a
    /// missing file named by `SNAP_CONFIG` is an error.
    pub fn load(path: &Path) -> Result<Config> {
        let named = std::env::var_os("SNAP_CONFIG").is_some_and(|c| !c.is_empty());
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => Ok(Config::default()),
            Err(e) => Err(anyhow!(e)).with_context(|| {
                let why = if named {
                    "named by SNAP_CONFIG: fix or unset it"
                } else {
                    "fix it, or point SNAP_CONFIG at another file"
                };
                format!("cannot read the config file {} ({why})", path.display())
            }),
        }
    }

    /// Parse a config file's text; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
            let src = text.lines().nth(line - 1).unwrap_or("").trim();
            anyhow!(
                "{}:{line}: bad config: {} (at `{src}`)",
                path.display(),
                e.message().trim()
            )
        })?;
        let at = |key: &str, span: std::ops::Range<usize>, msg: String| {
            anyhow!(
                "{}:{}: bad config: `{key}`: {msg}",
                path.display(),
                line_of(text, span.start)
            )
        };
        let mut cfg = Config::default();
        if let Some(s) = raw.schedule {
            validate_schedule(s.get_ref()).map_err(|e| at("schedule", s.span(), e.to_string()))?;
            cfg.schedule = s.into_inner();
        }
        if let Some(n) = raw.notice {
            cfg.notice = n;
        }
        cfg.environment = raw.environment;
        if let Some(r) = raw.retention {
            if let Some(k) = r.keep {
                if *k.get_ref() < 1 {
                    return Err(at("retention.keep", k.span(), "must be 1 or more".into()));
                }
                cfg.retention.keep = usize::try_from(*k.get_ref()).unwrap_or(usize::MAX);
            }
            if let Some(a) = r.max_age {
                let d = parse_duration(a.get_ref())
                    .map_err(|e| at("retention.max_age", a.span(), e.to_string()))?;
                cfg.retention.max_age_dur = Some(d);
                cfg.retention.max_age = a.into_inner();
            }
            // Empty (as `snap config` shows the default) keeps every command for ever.
            if let Some(a) = r.history_max_age.filter(|a| !a.get_ref().is_empty()) {
                let d = parse_duration(a.get_ref())
                    .map_err(|e| at("retention.history_max_age", a.span(), e.to_string()))?;
                cfg.retention.history_max_age_dur = Some(d);
                cfg.retention.history_max_age = a.into_inner();
            }
        }
        if let Some(s) = raw.secrets {
            cfg.secrets.defaults = s.defaults.unwrap_or(true);
            cfg.secrets.names = s.names.unwrap_or_default();
            for v in s.values.unwrap_or_default() {
                Regex::new(v.get_ref())
                    .map_err(|e| at("secrets.values", v.span(), first_line(&e.to_string())))?;
                cfg.secrets.values.push(v.into_inner());
            }
        }
        if let Some(r) = raw.relaunch {
            cfg.relaunch.defaults = r.defaults.unwrap_or(true);
            cfg.relaunch.auto = r.auto.unwrap_or_default();
            cfg.relaunch.hold = r.hold.unwrap_or_default();
            cfg.relaunch.never = r.never.unwrap_or_default();
            cfg.relaunch.agents = r.agents.unwrap_or_default();
        }
        for t in raw.brief.and_then(|b| b.test_commands).unwrap_or_default() {
            if t.get_ref().trim().is_empty() {
                return Err(at(
                    "brief.test_commands",
                    t.span(),
                    "an empty pattern: write a command, e.g. \"just test\"".into(),
                ));
            }
            cfg.brief.test_commands.push(t.into_inner());
        }
        for (key, list, out, store) in [
            (
                "history_filter",
                raw.history_filter,
                &mut cfg.filters.commands,
                &mut cfg.history_filter,
            ),
            (
                "cwd_filter",
                raw.cwd_filter,
                &mut cfg.filters.cwds,
                &mut cfg.cwd_filter,
            ),
        ] {
            for p in list.unwrap_or_default() {
                let re = Regex::new(p.get_ref())
                    .map_err(|e| at(key, p.span(), first_line(&e.to_string())))?;
                out.push(re);
                store.push(p.into_inner());
            }
        }
        Ok(cfg)
    }

    /// Does a command stay in what snap stores beyond the journal (history filters)?
    pub fn keeps_command(&self, command: &str, cwd: &str) -> bool {
        !self.filters.commands.iter().any(|r| r.is_match(command))
            && !self.filters.cwds.iter().any(|r| r.is_match(cwd))
    }
}

/// Check a cron schedule: six fields, seconds first.
pub fn validate_schedule(schedule: &str) -> Result<()> {
    let fields = schedule.split_whitespace().count();
    if fields != 6 {
        bail!(
            "{schedule:?} has {fields} fields; a schedule has six, seconds first \
             (e.g. \"0 */10 * * * *\" for every 10 minutes)"
        );
    }
    parse_cron(schedule).map(|_| ())
}

/// Parse a six-field cron schedule as the daemon's scheduler does.
pub fn parse_cron(schedule: &str) -> Result<croner::Cron> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(schedule)
        .map_err(|e| anyhow!("{schedule:?} is not a cron schedule: {e}"))
}

/// Parse a duration such as `90s`, `30m`, `12h`, `7d` or `2w`.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| anyhow!("{text:?} is not a duration: write a number and a unit, e.g. 7d"))?;
    let secs = match unit.trim() {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => bail!("{text:?} is not a duration: units are s, m, h, d, w (e.g. 12h, 7d)"),
    };
    Ok(Duration::from_secs(n.saturating_mul(secs)))
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |before| before.matches('\n').count() + 1)
}

fn first_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("/c.toml"))
    }

    #[test]
    fn empty_file_gives_defaults() {
        let c = parse("").unwrap();
        assert_eq!(c.schedule, DEFAULT_SCHEDULE);
        assert_eq!(c.retention.keep, 50);
        assert_eq!(
            c.retention.history_max_age_dur, None,
            "history kept for ever"
        );
        assert!(c.notice);
        assert!(c.keeps_command("ls", "/"));
    }

    #[test]
    fn full_file_parses() {
        let c = parse(
            "schedule = \"*/1 * * * * *\"\nnotice = false\nenvironment = \"lab\"\n\
             history_filter = [\"^pass \"]\ncwd_filter = [\"^/private\"]\n\
             [retention]\nkeep = 3\nmax_age = \"2h\"\nhistory_max_age = \"365d\"\n\
             [secrets]\nnames = [\"*_API\"]\nvalues = [\"myco_[a-z]{4}\"]\n\
             [relaunch]\nauto = [\"serve\"]\nagents = { gemini = \"gemini --resume\" }\n\
             [brief]\ntest_commands = [\"just test\"]\n",
        )
        .unwrap();
        assert_eq!(c.retention.keep, 3);
        assert_eq!(c.retention.max_age_dur, Some(Duration::from_secs(7200)));
        assert_eq!(
            c.retention.history_max_age_dur,
            Some(Duration::from_secs(365 * 86_400))
        );
        assert_eq!(
            parse("[retention]\nhistory_max_age = \"\"\n")
                .unwrap()
                .retention
                .history_max_age_dur,
            None
        );
        assert!(!c.keeps_command("pass show x", "/"));
        assert!(!c.keeps_command("ls", "/private/x"));
        assert!(c.keeps_command("ls", "/public"));
        assert_eq!(c.relaunch.agents["gemini"], "gemini --resume");
        assert_eq!(c.brief.test_commands, ["just test"]);
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let e = parse("notice = true\nschedul = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("/c.toml:2"), "{e}");
        assert!(e.contains("schedul"), "{e}");
    }

    #[test]
    fn bad_values_name_key_and_line() {
        let e = parse("\n\nschedule = \"*/5 * * * *\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":3:") && e.contains("`schedule`"), "{e}");
        let e = parse("[retention]\nkeep = 0\n").unwrap_err().to_string();
        assert!(e.contains(":2:") && e.contains("retention.keep"), "{e}");
        let e = parse("[retention]\nmax_age = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":2:") && e.contains("retention.max_age"), "{e}");
        let e = parse("history_filter = [\n \"ok\",\n \"(\"\n]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":3:") && e.contains("history_filter"), "{e}");
        let e = parse("[brief]\ntest_commands = [\" \"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(":2:") && e.contains("brief.test_commands"),
            "{e}"
        );
        let e = parse("notice = \"yes\"\n").unwrap_err().to_string();
        assert!(e.contains(":1:") && e.contains("notice"), "{e}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert!(parse_duration("7").is_err());
        assert!(parse_duration("d").is_err());
    }

    proptest::proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,200}") {
            let _ = parse(&s);
        }
    }
}
