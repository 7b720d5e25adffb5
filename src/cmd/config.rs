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
                println!("{}", serde_json::json!({ "path": path, "exists": exists }));
            } else {
                println!("{}", path.display());
            }
        }
        ConfigAction::Show => {
            let cfg = Config::load(&paths)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&cfg)?);
            } else {
                let source = if path.exists() {
                    "from"
                } else {
                    "defaults; no file at"
                };
                println!("# snap config ({source} {})", path.display());
                print!("{}", toml::to_string_pretty(&cfg)?);
            }
        }
    }
    Ok(())
}
