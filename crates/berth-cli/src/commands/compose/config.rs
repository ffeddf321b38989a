//! `berth compose config`: the resolved model, or lists from it.

use super::Global;
use berth_compose::config::{self, Format};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only validate the configuration, don't print anything
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Print the service names, one per line
    #[arg(long)]
    pub services: bool,
    /// Print the volume names, one per line
    #[arg(long)]
    pub volumes: bool,
    /// Print the profile names, one per line
    #[arg(long)]
    pub profiles: bool,
    /// Print the service config hash, one per line ("*" for all services)
    #[arg(long)]
    pub hash: Option<String>,
    /// Format the output: yaml or json
    #[arg(long, default_value = "yaml")]
    pub format: String,
    /// Services whose profiles are enabled
    pub service: Vec<String>,
}

/// Needs no daemon: it reads files only.
pub fn run(global: &Global, c: Args) -> anyhow::Result<()> {
    let format = match c.format.as_str() {
        "yaml" => Format::Yaml,
        "json" => Format::Json,
        other => anyhow::bail!("unsupported format {other:?}: use yaml or json"),
    };
    let project = global.load(&c.service)?;
    let lines = if c.services {
        Some(config::services(&project)?)
    } else if c.volumes {
        Some(config::volumes(&project))
    } else if c.profiles {
        Some(config::profiles(&project))
    } else if let Some(which) = &c.hash {
        let all = config::hashes(&project)?;
        let wanted: Vec<&str> = which.split(',').collect();
        Some(all.into_iter().filter(|l| which == "*" || l.split(' ').next().is_some_and(|n| wanted.contains(&n))).collect())
    } else {
        None
    };
    if c.quiet {
        return Ok(());
    }
    match lines {
        Some(ls) => ls.iter().for_each(|l| println!("{l}")),
        None => print!("{}", config::render(&project, format)?),
    }
    Ok(())
}
