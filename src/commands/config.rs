//! `winback config init|show`.

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::cli::ConfigCommand;
use crate::output::emit;

pub fn run(config: Option<&Path>, cmd: &ConfigCommand) -> Result<()> {
    match cmd {
        ConfigCommand::Init { file, force } => {
            if file.exists() && !force {
                bail!("{} exists; use --force to overwrite it", file.display());
            }
            std::fs::write(file, crate::config::DEFAULT).with_context(|| format!("cannot write {}", file.display()))?;
            emit(&format!(
                "wrote {} (the defaults, commented); winback reads ./winback.toml, or --config FILE\n",
                file.display()
            ))
        }
        ConfigCommand::Show => {
            let cfg = crate::config::load(config)?;
            let from =
                cfg.source.map_or_else(|| "defaults (no winback.toml here)".to_string(), |p| p.display().to_string());
            emit(&format!("# from {from}\n{}", toml::to_string(&cfg.rules)?))
        }
    }
}
