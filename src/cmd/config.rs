//! `snap config [show|path] [--json]`: the effective configuration, or its path.

use crate::cli::{ConfigAction, ConfigArgs};
use crate::config::Config;
use crate::store::paths::Paths;
use anyhow::Result;

/// Print the effective config (defaults included) or the path of the file in force.
pub fn run(args: &ConfigArgs) -> Result<()> {
    let paths = Paths::from_env()?;
    let path = paths.config_in_force();
    match args.action {
        ConfigAction::Path => {
            if args.json {
                let exists = path.exists();
                super::print_bytes(
                    format!(
                        "{}\n",
                        serde_json::json!({ "path": path, "exists": exists })
                    )
                    .as_bytes(),
                )?;
            } else {
                super::print_bytes(format!("{}\n", path.display()).as_bytes())?;
            }
        }
        ConfigAction::Show => {
            let cfg = Config::load(&paths.config_in_force())?;
            let file: toml::Table = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or_default();
            let text = toml::to_string_pretty(&cfg)?;
            if args.json {
                let mut v = serde_json::to_value(&cfg)?;
                let sources: serde_json::Map<String, serde_json::Value> = keys(&text)
                    .into_iter()
                    .map(|(section, key)| {
                        let name = section
                            .as_ref()
                            .map_or(key.clone(), |s| format!("{s}.{key}"));
                        let from = source(&file, section.as_deref(), &key, &path);
                        (name, from.into())
                    })
                    .collect();
                v["sources"] = sources.into();
                super::print_bytes(format!("{}\n", serde_json::to_string_pretty(&v)?).as_bytes())?;
            } else {
                let source = if path.exists() {
                    "from"
                } else {
                    "defaults; no file at"
                };
                super::print_bytes(
                    format!("# snap config ({source} {})\n", path.display()).as_bytes(),
                )?;
                super::print_bytes(annotate(&text, &file, &path).as_bytes())?;
            }
        }
    }
    Ok(())
}

/// The `(section, key)` of every `key = value` line of a pretty-printed TOML text.
fn keys(text: &str) -> Vec<(Option<String>, String)> {
    let mut section = None;
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            section = Some(name.to_string());
        } else if let Some((key, _)) = t.split_once(" = ") {
            out.push((section.clone(), key.trim().to_string()));
        }
    }
    out
}

/// Where a value came from: the config file, or snap's default.
fn source(file: &toml::Table, section: Option<&str>, key: &str, path: &std::path::Path) -> String {
    let table = match section {
        Some(s) => file.get(s).and_then(|v| v.as_table()),
        None => Some(file),
    };
    if table.is_some_and(|t| t.contains_key(key)) {
        path.display().to_string()
    } else {
        "default".to_string()
    }
}

/// The TOML text with each value's source as a trailing comment.
fn annotate(text: &str, file: &toml::Table, path: &std::path::Path) -> String {
    let mut section: Option<String> = None;
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            section = Some(name.to_string());
            out.push_str(line);
        } else if let Some((key, _)) = t.split_once(" = ").filter(|_| !line.starts_with(' ')) {
            let from = source(file, section.as_deref(), key.trim(), path);
            out.push_str(&format!("{line}  # {from}"));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_says_where_it_came_from() {
        let file: toml::Table = "notice = false\n[retention]\nkeep = 3\n".parse().unwrap();
        let text = "schedule = \"x\"\nnotice = false\n\n[retention]\nkeep = 3\nmax_age = \"30d\"\n";
        let out = annotate(text, &file, std::path::Path::new("/c.toml"));
        assert_eq!(
            out,
            "schedule = \"x\"  # default\nnotice = false  # /c.toml\n\n[retention]\nkeep = 3  # /c.toml\nmax_age = \"30d\"  # default\n"
        );
    }
}
