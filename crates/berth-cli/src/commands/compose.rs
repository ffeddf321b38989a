//! `berth compose`: so far the commands that need only the compose file
//! model (`config`); the ones that drive the daemon (`up`, `down`, `ps`,
//! ...) are refused by name until they exist.

use berth_compose::config::{self, Format};
use berth_compose::{load, LoadOptions};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ComposeArgs {
    /// Compose configuration files
    #[arg(short = 'f', long = "file")]
    pub file: Vec<PathBuf>,
    /// Project name
    #[arg(short = 'p', long = "project-name")]
    pub project_name: Option<String>,
    /// Specify an alternate working directory (default: the path of the first compose file)
    #[arg(long = "project-directory")]
    pub project_directory: Option<PathBuf>,
    /// Specify an alternate environment file
    #[arg(long = "env-file")]
    pub env_file: Vec<PathBuf>,
    /// Specify a profile to enable
    #[arg(long = "profile")]
    pub profile: Vec<String>,
    #[command(subcommand)]
    pub command: ComposeCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum ComposeCommand {
    /// Parse, resolve and render the compose file in canonical form
    Config(ConfigArgs),
    /// Commands berth compose does not have yet
    #[command(external_subcommand)]
    Other(Vec<String>),
}

#[derive(clap::Args, Debug)]
pub struct ConfigArgs {
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

pub fn run(args: ComposeArgs) -> anyhow::Result<()> {
    let c = match args.command {
        ComposeCommand::Config(c) => c,
        ComposeCommand::Other(words) => {
            let name = words.first().map(String::as_str).unwrap_or("");
            anyhow::bail!("berth compose {name}: not supported yet (berth compose has `config` so far)");
        }
    };
    let format = match c.format.as_str() {
        "yaml" => Format::Yaml,
        "json" => Format::Json,
        other => anyhow::bail!("unsupported format {other:?}: use yaml or json"),
    };
    let mut opts = LoadOptions::from_process(std::env::current_dir()?);
    opts.files = args.file;
    opts.project_name = args.project_name;
    opts.project_directory = args.project_directory;
    opts.env_files = args.env_file;
    opts.profiles = args.profile;
    opts.services = c.service.clone();
    if opts.files.iter().any(|f| f.as_os_str() == "-") {
        opts.stdin = Some(std::io::read_to_string(std::io::stdin())?);
    }
    let project = load(&opts)?;
    for w in &project.warnings {
        eprintln!("WARN[0000] {w}");
    }
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
