//! Secret detection and redaction for snapshots (env, argv, command text, screen alike).
//! The journals keep real values; what leaves them for a snapshot goes through here.
//!
//! Hidden: variables named like a secret (`*TOKEN*`, `*SECRET*`, `*PASSWORD*`, `*_KEY`,
//! …), values that look like tokens (GitHub, GitLab, Slack, AWS, Stripe, npm, PEM private
//! keys, credentials in URLs, `Authorization:` headers), `--password=…`-style arguments,
//! `NAME=value` assignments of secret-named variables, and, anywhere, the values of
//! secret-named variables found in the shells' environments.

use crate::config::Config;
use anyhow::{Context, Result};
use regex::{Captures, Regex, RegexSet};
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::path::Path;

/// What a secret is replaced with.
pub const PLACEHOLDER: &str = "[redacted]";

/// Built-in secret variable names (globs, case-insensitive).
pub const DEFAULT_NAMES: &[&str] = &[
    "*TOKEN*",
    "*SECRET*",
    "*PASSWORD*",
    "*PASSWD*",
    "*_KEY",
    "*PRIVATE_KEY*",
    "*ACCESS_KEY*",
    "*CREDENTIAL*",
    "*_CONNECTION_STRING",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// Built-in token patterns; a group named `secret` limits what is replaced.
/// Tokens with a distinctive prefix need no word boundary around them: on a screen (or
/// in a typed-ahead line) other text may touch them on either side.
pub const DEFAULT_VALUES: &[&str] = &[
    r"(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{16,}",
    r"github_pat_[A-Za-z0-9_]{20,}",
    r"glpat-[A-Za-z0-9_\-]{16,}",
    r"xox[bpoasr]-[A-Za-z0-9\-]{10,}",
    r"(?:AKIA|ASIA)[0-9A-Z]{16,}",
    r"(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}",
    r"npm_[A-Za-z0-9]{36,}",
    r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,}",
    r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)",
    r"(?i)\b[a-z][a-z0-9+.\-]*://[^/\s:@]+:(?P<secret>[^/\s@]+)@",
    r"(?i)\bauthorization:\s*(?:bearer|basic|token)\s+(?P<secret>[A-Za-z0-9._~+/=\-]+)",
    r#"(?i)"[a-z0-9_]*(?:password|passwd|secret|token|api_?key)"\s*:\s*"(?P<secret>[^"]+)""#,
];

/// Option names that carry a secret (`--password=x`, `--api-key x`).
const SECRET_OPTION: &str = r"(?i)^--?[a-z0-9_\-]*(?:password|passwd|token|secret|api[\-_]?key|access[\-_]?key|private[\-_]?key|credentials?)[a-z0-9_\-]*$";

/// Known secret values shorter than this are not searched for in text.
const MIN_KNOWN: usize = 5;

/// The compiled patterns, and the secret values learned from environments.
#[derive(Debug, Clone)]
pub struct Redactor {
    names: RegexSet,
    values: Vec<Regex>,
    option: Regex,
    option_in_text: Regex,
    assignment: Regex,
    known: Vec<String>,
}

impl Redactor {
    /// The patterns in force: built-ins (unless `secrets.defaults = false`) plus the config's.
    pub fn new(cfg: &Config) -> Result<Redactor> {
        let s = &cfg.secrets;
        let names = DEFAULT_NAMES
            .iter()
            .filter(|_| s.defaults)
            .map(|g| g.to_string())
            .chain(s.names.iter().cloned())
            .map(|g| glob_regex(&g))
            .collect::<Vec<_>>();
        let names = RegexSet::new(names).context("secret name patterns")?;
        let values = DEFAULT_VALUES
            .iter()
            .filter(|_| s.defaults)
            .map(|v| v.to_string())
            .chain(s.values.iter().cloned())
            .map(|v| Regex::new(&v).with_context(|| format!("secret pattern {v:?}")))
            .collect::<Result<Vec<_>>>()?;
        Ok(Redactor {
            names,
            values,
            option: Regex::new(SECRET_OPTION)?,
            option_in_text: Regex::new(
                r#"(?i)(?P<opt>(?:^|\s)--?[a-z0-9_\-]*(?:password|passwd|token|secret|api[\-_]?key|access[\-_]?key|private[\-_]?key|credentials?)[a-z0-9_\-]*)(?P<sep>=|\s+)(?P<secret>"[^"]*"|'[^']*'|[^\s"'\-][^\s"']*)"#,
            )?,
            assignment: Regex::new(
                r#"(?P<pre>^|[^A-Za-z0-9_])(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<secret>"[^"]*"|'[^']*'|[^\s;&|)"']+)"#,
            )?,
            known: Vec::new(),
        })
    }

    /// Does this variable name look like it holds a secret?
    pub fn is_secret_name(&self, name: &str) -> bool {
        self.names.is_match(name)
    }

    /// Remember the values of secret-named variables in these environments, to hide them
    /// wherever they appear.
    pub fn learn<'a>(&mut self, envs: impl IntoIterator<Item = &'a BTreeMap<String, String>>) {
        let mut secret: HashMap<&str, bool> = HashMap::new();
        for env in envs {
            for (k, v) in env {
                if v.len() < MIN_KNOWN {
                    continue;
                }
                let is = *secret
                    .entry(k.as_str())
                    .or_insert_with(|| self.names.is_match(k));
                if is && !self.known.contains(v) {
                    self.known.push(v.clone());
                }
            }
        }
        self.known.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }

    /// Redact a text (command line, screen, path); None when nothing was hidden.
    pub fn text(&self, s: &str) -> Option<String> {
        let mut out = s.to_string();
        let mut changed = false;
        for re in &self.values {
            if let Some(new) = replace(re, &out, secret_only) {
                out = new;
                changed = true;
            }
        }
        if let Some(new) = replace(&self.assignment, &out, |c| {
            self.is_secret_name(&c["name"])
                .then(|| format!("{}{}={PLACEHOLDER}", &c["pre"], &c["name"]))
        }) {
            out = new;
            changed = true;
        }
        if let Some(new) = replace(&self.option_in_text, &out, |c| {
            Some(format!("{}{}{PLACEHOLDER}", &c["opt"], &c["sep"]))
        }) {
            out = new;
            changed = true;
        }
        for k in &self.known {
            if out.contains(k.as_str()) {
                out = out.replace(k.as_str(), PLACEHOLDER);
                changed = true;
            }
        }
        changed.then_some(out)
    }

    /// Redact an argv element by element (`--password x` hides `x`); None when untouched.
    pub fn argv(&self, argv: &[String]) -> Option<Vec<String>> {
        let mut out = Vec::with_capacity(argv.len());
        let mut changed = false;
        let mut hide_next = false;
        for a in argv {
            if hide_next && !a.starts_with('-') {
                out.push(PLACEHOLDER.to_string());
                changed = true;
                hide_next = false;
                continue;
            }
            hide_next = false;
            if let Some((opt, _)) = a.split_once('=') {
                if self.option.is_match(opt) {
                    out.push(format!("{opt}={PLACEHOLDER}"));
                    changed = true;
                    continue;
                }
            } else if self.option.is_match(a) {
                hide_next = true;
            }
            match self.text(a) {
                Some(t) => {
                    out.push(t);
                    changed = true;
                }
                None => out.push(a.clone()),
            }
        }
        changed.then_some(out)
    }

    /// Redact an environment: secret-named values hidden whole, token-like parts of the
    /// others hidden. Returns the names that were touched.
    pub fn env(&self, env: &mut BTreeMap<String, String>) -> Vec<String> {
        let mut touched = Vec::new();
        for (k, v) in env.iter_mut() {
            if self.is_secret_name(k) && !v.is_empty() {
                *v = PLACEHOLDER.to_string();
                touched.push(k.clone());
            } else if let Some(t) = self.text(v) {
                *v = t;
                touched.push(k.clone());
            }
        }
        touched
    }

    /// Redact every string of a JSON value, and the values of secret-named keys.
    pub fn json(&self, value: &mut serde_json::Value) -> bool {
        use serde_json::Value;
        match value {
            Value::String(s) => match self.text(s) {
                Some(t) => {
                    *s = t;
                    true
                }
                None => false,
            },
            Value::Array(a) => a.iter_mut().fold(false, |acc, v| self.json(v) | acc),
            Value::Object(o) => {
                let mut changed = false;
                for (k, v) in o.iter_mut() {
                    if self.is_secret_name(k) && matches!(v, Value::String(s) if !s.is_empty()) {
                        *v = Value::String(PLACEHOLDER.into());
                        changed = true;
                    } else {
                        changed |= self.json(v);
                    }
                }
                changed
            }
            _ => false,
        }
    }
}

/// Is snap running under a coding agent? Claude Code sets `CLAUDECODE`, Codex its
/// `CODEX_*` variables (`CODEX_SANDBOX`, `CODEX_THREAD_ID`, …). Then even the user's own
/// records (`history`, `sessions`) are redacted unless `--raw`.
pub fn under_agent() -> bool {
    agent_in(std::env::vars_os().map(|(k, _)| k))
}

/// For the user's own records (`history`, `sessions`): None (real values), or, under a
/// coding agent without `--raw`, the config (for its filters) and a redactor that knows
/// the secrets of these shells.
pub fn for_own_records<'a>(
    config_file: &Path,
    raw: bool,
    envs: impl IntoIterator<Item = &'a BTreeMap<String, String>>,
) -> Result<Option<(Config, Redactor)>> {
    if raw || !under_agent() {
        return Ok(None);
    }
    let cfg = Config::load(config_file)?;
    let mut r = Redactor::new(&cfg)?;
    r.learn(envs);
    Ok(Some((cfg, r)))
}

/// [`under_agent`] over these variable names (pure).
fn agent_in(names: impl IntoIterator<Item = std::ffi::OsString>) -> bool {
    names.into_iter().any(|k| {
        let k = k.to_string_lossy();
        k == "CLAUDECODE" || k.starts_with("CODEX_")
    })
}

/// Does a text hold the redaction placeholder (a value known only redacted)?
#[allow(dead_code)] // API for restore and the brief (issue 4)
pub fn is_redacted(s: &str) -> bool {
    s.contains(PLACEHOLDER)
}

/// Could `real` be the text `shown` was redacted from? Each placeholder in `shown` stands
/// for any text; the rest must be there in order, from start to end.
pub fn could_be(shown: &str, real: &str) -> bool {
    let pieces: Vec<&str> = shown.split(PLACEHOLDER).collect();
    let (first, last) = (pieces[0], pieces[pieces.len() - 1]);
    if pieces.len() == 1 {
        return shown == real;
    }
    if real.len() < first.len() + last.len() || !real.starts_with(first) || !real.ends_with(last) {
        return false;
    }
    let mut rest = &real[first.len()..real.len() - last.len()];
    for piece in &pieces[1..pieces.len() - 1] {
        match rest.find(piece) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    true
}

/// Replace each match with what `f` returns (None keeps the match); None when unchanged.
fn replace(re: &Regex, s: &str, f: impl Fn(&Captures) -> Option<String>) -> Option<String> {
    let mut changed = false;
    let out = re.replace_all(s, |c: &Captures| match f(c) {
        Some(r) => {
            changed = true;
            r
        }
        None => c[0].to_string(),
    });
    changed.then(|| out.into_owned())
}

/// The whole match with its `secret` group (or all of it) replaced.
fn secret_only(c: &Captures) -> Option<String> {
    let whole = c.get(0)?;
    match c.name("secret") {
        Some(s) => {
            let text = whole.as_str();
            let (a, b) = (s.start() - whole.start(), s.end() - whole.start());
            Some(format!("{}{PLACEHOLDER}{}", &text[..a], &text[b..]))
        }
        None => Some(PLACEHOLDER.to_string()),
    }
}

/// A name glob (`*` wildcard) as a case-insensitive, anchored regex.
fn glob_regex(glob: &str) -> String {
    let body: Vec<String> = glob.split('*').map(regex::escape).collect();
    format!("(?i)^{}$", body.join(".*"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r() -> Redactor {
        Redactor::new(&Config::default()).unwrap()
    }

    const GHP: &str = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";

    #[test]
    fn token_values_are_hidden_in_text() {
        let r = r();
        for secret in [
            GHP,
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
            "glpat-abcdefghij0123456789",
            "xoxb-123456789012-abcdefghij",
            "AKIAIOSFODNN7EXAMPLE",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "npm_abcdefghijklmnopqrstuvwxyz0123456789",
        ] {
            let text = format!("curl -H x {secret} done");
            let out = r.text(&text).unwrap_or_else(|| panic!("{secret}"));
            assert!(!out.contains(secret), "{out}");
            assert!(out.contains(PLACEHOLDER) && out.ends_with(" done"), "{out}");
        }
        // Glued to the text after it (a prompt on a joined screen line): still hidden.
        for glued in [
            "npm_abcdefghijklmnopqrstuvwxyz0123456789READY> ls",
            "AKIAIOSFODNN7EXAMPLEREADY> ls",
            "cat key.pemghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
            "xAKIAIOSFODNN7EXAMPLE",
        ] {
            let out = r.text(glued).unwrap_or_else(|| panic!("{glued}"));
            assert!(
                !out.contains("0123456789") && !out.contains("NN7EX"),
                "{out}"
            );
        }
        assert_eq!(r.text("cargo test --release"), None);
        assert_eq!(r.text("echo $npm_lifecycle_event"), None);
    }

    #[test]
    fn pem_blocks_urls_headers_assignments_and_options() {
        let r = r();
        let pem = "a\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----\nz";
        let out = r.text(pem).unwrap();
        assert!(!out.contains("b3BlbnNzaC1rZXk") && out.starts_with("a\n") && out.ends_with("\nz"));
        let out = r.text("psql postgres://app:hunter22@db/x").unwrap();
        assert_eq!(out, format!("psql postgres://app:{PLACEHOLDER}@db/x"));
        let out = r.text("curl -H 'Authorization: Bearer abc.def' x").unwrap();
        assert!(!out.contains("abc.def"), "{out}");
        let out = r
            .text("export DB_PASSWORD=hunter22; API_KEY='a b' run")
            .unwrap();
        assert!(!out.contains("hunter22") && !out.contains("a b"), "{out}");
        assert!(out.starts_with("export DB_PASSWORD="), "{out}");
        let out = r
            .text("mysql --password=hunter22 --api-key zz99zz -u root")
            .unwrap();
        assert!(
            !out.contains("hunter22") && !out.contains("zz99zz") && out.ends_with("-u root"),
            "{out}"
        );
        assert_eq!(r.text("PORT=3001 npm run dev"), None);
    }

    #[test]
    fn argv_elements_and_following_values() {
        let r = r();
        let argv: Vec<String> = [
            "deploy",
            "--token",
            "s3cr3t-value",
            "--password=pw12345",
            "-v",
            GHP,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let out = r.argv(&argv).unwrap();
        assert_eq!(out[0], "deploy");
        assert_eq!(out[2], PLACEHOLDER);
        assert_eq!(out[3], format!("--password={PLACEHOLDER}"));
        assert_eq!(out[4], "-v");
        assert_eq!(out[5], PLACEHOLDER);
        assert_eq!(r.argv(&["ls".to_string(), "-la".to_string()]), None);
    }

    #[test]
    fn env_names_and_learned_values() {
        let mut r = r();
        let mut env: BTreeMap<String, String> = [
            ("GITHUB_TOKEN", "plain-value-1"),
            ("MY_SECRET_THING", "x"),
            ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI"),
            ("SSH_KEY", "k"),
            ("URL", "https://u:pw9999@h/"),
            ("PORT", "3001"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        r.learn([&env]);
        let touched = r.env(&mut env);
        assert_eq!(env["GITHUB_TOKEN"], PLACEHOLDER);
        assert_eq!(env["PORT"], "3001");
        assert!(!env["URL"].contains("pw9999"));
        assert_eq!(touched.len(), 5);
        // The learned value is hidden wherever it shows up.
        let out = r.text("$ echo $GITHUB_TOKEN\nplain-value-1\n").unwrap();
        assert!(!out.contains("plain-value-1"));
    }

    #[test]
    fn json_strings_and_secret_keys() {
        let r = r();
        let mut v = serde_json::json!({"environment": {"API_TOKEN": "abc"}, "notes": [format!("use {GHP}")], "n": 1});
        assert!(r.json(&mut v));
        let s = v.to_string();
        assert!(!s.contains("abc") && !s.contains(GHP), "{s}");
    }

    #[test]
    fn config_patterns_extend_or_replace() {
        let cfg = Config::parse(
            "[secrets]\nnames = [\"*_API\"]\nvalues = [\"myco_(?P<secret>[a-z]{6})\"]\n",
            std::path::Path::new("c"),
        )
        .unwrap();
        let r = Redactor::new(&cfg).unwrap();
        assert!(r.is_secret_name("weather_api"));
        assert_eq!(
            r.text("key myco_abcdef").unwrap(),
            format!("key myco_{PLACEHOLDER}")
        );
        let cfg =
            Config::parse("[secrets]\ndefaults = false\n", std::path::Path::new("c")).unwrap();
        let r = Redactor::new(&cfg).unwrap();
        assert!(!r.is_secret_name("GITHUB_TOKEN"));
        assert_eq!(r.text(GHP), None);
    }

    #[test]
    fn claude_code_and_codex_are_told_by_their_variables() {
        let names = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert!(agent_in(names(&["HOME", "CLAUDECODE"])));
        assert!(agent_in(names(&["CODEX_SANDBOX"])));
        assert!(agent_in(names(&["CODEX_THREAD_ID", "PATH"])));
        assert!(!agent_in(names(&["HOME", "CLAUDE", "MY_CODEX_X"])));
    }

    #[test]
    fn a_redacted_text_could_be_its_real_one_and_no_other() {
        let shown = format!("PGPASSWORD={PLACEHOLDER} psql -h db --password {PLACEHOLDER}");
        assert!(could_be(&shown, "PGPASSWORD=s3 psql -h db --password x"));
        assert!(!could_be(
            &shown,
            "PGPASSWORD=s3 psql -h other --password x"
        ));
        assert!(!could_be(&shown, "PGPASSWORD=s3 psql -h db"));
        assert!(could_be("plain", "plain") && !could_be("plain", "plainer"));
        assert!(!could_be(&format!("a{PLACEHOLDER}a"), "a"));
    }

    proptest::proptest! {
        #[test]
        fn redaction_never_panics_and_is_stable(s in "\\PC{0,300}") {
            let r = r();
            if let Some(once) = r.text(&s) {
                let twice = r.text(&once).unwrap_or(once.clone());
                proptest::prop_assert_eq!(twice, once);
            }
        }

        #[test]
        fn a_text_could_be_what_its_redaction_came_from(
            pre in "[a-z =]{0,20}",
            post in "[a-z =]{0,20}",
        ) {
            let real = format!("{pre}GITHUB_TOKEN=ghp_a1B2c3D4e5F6g7H8i9J0k1L2 {post}");
            let shown = r().text(&real).unwrap();
            proptest::prop_assert!(could_be(&shown, &real), "{shown} / {real}");
        }
    }
}
