//! `berth compose`: Compose v2's commands on the compose file model of
//! `berth-compose`, driving berthd through the Engine API. One module per
//! command; [`session`] holds what they share (the loaded project, the
//! client, the project's containers as the engine lists them).

use berth_client::Client;
use berth_compose::{load, LoadOptions, Project};
use std::path::PathBuf;

mod attach;
pub mod build;
mod config;
mod converge;
mod cp;
mod depends;
mod down;
mod events;
mod exec;
mod images;
mod lifecycle;
pub mod logprinter;
pub mod logs;
mod ls;
mod ops;
mod parallel;
mod port;
mod progress;
mod provision;
mod ps;
pub mod pull;
mod push;
mod resources;
mod rollback;
mod run;
pub mod session;
mod target;
mod top;
mod up;
mod version;
mod wait;

/// The flags every compose command takes (before the command's name).
#[derive(clap::Args, Debug, Clone)]
pub struct Global {
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
    /// Control when to print ANSI control characters ("never"|"always"|"auto")
    #[arg(long = "ansi", default_value = "auto", value_parser = ["never", "always", "auto"])]
    pub ansi: String,
    /// Set type of progress output (auto, tty, plain, json, quiet)
    #[arg(long = "progress", value_parser = ["auto", "tty", "plain", "json", "quiet"])]
    pub progress: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct ComposeArgs {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: ComposeCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum ComposeCommand {
    /// Build or rebuild services
    Build(build::Args),
    /// Parse, resolve and render the compose file in canonical form
    Config(config::Args),
    /// Copy files/folders between a service container and the local filesystem
    Cp(cp::Args),
    /// Creates containers for a service
    Create(lifecycle::CreateArgs),
    /// Stop and remove containers, networks
    Down(down::Args),
    /// Receive real time events from containers
    Events(events::Args),
    /// Execute a command in a running container
    Exec(exec::Args),
    /// List images used by the created containers
    Images(images::Args),
    /// Force stop service containers
    Kill(lifecycle::KillArgs),
    /// View output from containers
    Logs(logs::Args),
    /// List running compose projects
    Ls(ls::Args),
    /// Pause services
    Pause(lifecycle::ServicesArgs),
    /// Print the public port for a port binding
    Port(port::Args),
    /// List containers
    Ps(ps::Args),
    /// Pull service images
    Pull(pull::Args),
    /// Push service images
    Push(push::Args),
    /// Restart service containers
    Restart(lifecycle::RestartArgs),
    /// Removes stopped service containers
    Rm(lifecycle::RmArgs),
    /// Run a one-off command on a service
    Run(run::Args),
    /// Start services
    Start(lifecycle::ServicesArgs),
    /// Stop services
    Stop(lifecycle::StopArgs),
    /// Display the running processes
    Top(top::Args),
    /// Unpause services
    Unpause(lifecycle::ServicesArgs),
    /// Create and start containers
    Up(up::Args),
    /// Show the Docker Compose version information
    Version(version::Args),
    /// Block until containers of all (or specified) services stop
    Wait(wait::Args),
}

impl ComposeArgs {
    /// Commands that read files only and need no daemon.
    pub fn offline(&self) -> bool {
        matches!(self.command, ComposeCommand::Config(_))
            || matches!(&self.command, ComposeCommand::Version(v) if v.offline())
    }
}

impl Global {
    /// Loads the project; `services` named on the command line enable
    /// their profiles. Warnings go to stderr as Compose prints them.
    pub fn load(&self, services: &[String]) -> anyhow::Result<Project> {
        let mut opts = LoadOptions::from_process(std::env::current_dir()?);
        opts.files = self.file.clone();
        opts.project_name = self.project_name.clone();
        opts.project_directory = self.project_directory.clone();
        opts.env_files = self.env_file.clone();
        opts.profiles = self.profile.clone();
        opts.services = services.to_vec();
        if opts.files.iter().any(|f| f.as_os_str() == "-") {
            opts.stdin = Some(std::io::read_to_string(std::io::stdin())?);
        }
        let project = load(&opts)?;
        for w in &project.warnings {
            eprintln!("WARN[0000] {w}");
        }
        Ok(project)
    }
}

/// The commands that need no daemon.
pub fn run_offline(args: ComposeArgs) -> anyhow::Result<()> {
    match args.command {
        ComposeCommand::Config(c) => config::run(&args.global, c),
        ComposeCommand::Version(v) => version::run_offline(v),
        _ => anyhow::bail!("internal error: this compose command needs the daemon"),
    }
}

pub async fn run(client: &Client, args: ComposeArgs) -> anyhow::Result<()> {
    let g = &args.global;
    match args.command {
        ComposeCommand::Build(a) => build::run(client, g, a).await,
        ComposeCommand::Config(a) => config::run(g, a),
        ComposeCommand::Cp(a) => cp::run(client, g, a).await,
        ComposeCommand::Create(a) => lifecycle::create(client, g, a).await,
        ComposeCommand::Down(a) => down::run(client, g, a).await,
        ComposeCommand::Events(a) => events::run(client, g, a).await,
        ComposeCommand::Exec(a) => exec::run(client, g, a).await,
        ComposeCommand::Images(a) => images::run(client, g, a).await,
        ComposeCommand::Kill(a) => lifecycle::kill(client, g, a).await,
        ComposeCommand::Logs(a) => logs::run(client, g, a).await,
        ComposeCommand::Ls(a) => ls::run(client, a).await,
        ComposeCommand::Pause(a) => lifecycle::pause(client, g, a).await,
        ComposeCommand::Port(a) => port::run(client, g, a).await,
        ComposeCommand::Ps(a) => ps::run(client, g, a).await,
        ComposeCommand::Pull(a) => pull::run(client, g, a).await,
        ComposeCommand::Push(a) => push::run(client, g, a).await,
        ComposeCommand::Restart(a) => lifecycle::restart(client, g, a).await,
        ComposeCommand::Rm(a) => lifecycle::rm(client, g, a).await,
        ComposeCommand::Run(a) => run::run(client, g, a).await,
        ComposeCommand::Start(a) => lifecycle::start(client, g, a).await,
        ComposeCommand::Stop(a) => lifecycle::stop(client, g, a).await,
        ComposeCommand::Top(a) => top::run(client, g, a).await,
        ComposeCommand::Unpause(a) => lifecycle::unpause(client, g, a).await,
        ComposeCommand::Up(a) => up::run(client, g, a).await,
        ComposeCommand::Version(a) => version::run(client, a).await,
        ComposeCommand::Wait(a) => wait::run(client, g, a).await,
    }
}
