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
            let cfg = Config::load(&paths)?;
            if args.json {
                super::print_bytes(
                    format!("{}\n", serde_json::to_string_pretty(&cfg)?).as_bytes(),
                )?;
            } else {
                let source = if path.exists() {
                    "from"
                } else {
                    "defaults; no file at"
                };
                super::print_bytes(
                    format!("# snap config ({source} {})\n", path.display()).as_bytes(),
                )?;
                super::print_bytes(toml::to_string_pretty(&cfg)?.as_bytes())?;
            }
        }
    }
    Ok(())
}
