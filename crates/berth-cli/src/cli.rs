//! The command line: global flags and the command tree (top-level commands
//! plus their `container`/`image` management aliases, as docker has them).

use crate::commands::*;
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "berth", about = "berth: run and manage containers through a berthd daemon", disable_version_flag = true)]
pub struct Cli {
    /// Daemon address (unix:///path or tcp://host:port)
    #[arg(short = 'H', long = "host", value_name = "HOST")]
    pub host: Option<String>,
    /// Use TLS; implied by --tlsverify
    #[arg(long = "tls")]
    pub tls: bool,
    /// Use TLS and verify the daemon's certificate (default: $DOCKER_TLS_VERIFY)
    #[arg(long = "tlsverify", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub tlsverify: Option<bool>,
    /// Trust certs signed only by this CA (default: $DOCKER_CERT_PATH/ca.pem, else ~/.docker/ca.pem)
    #[arg(long = "tlscacert", value_name = "FILE")]
    pub tlscacert: Option<std::path::PathBuf>,
    /// Path to TLS certificate file (default: $DOCKER_CERT_PATH/cert.pem, else ~/.docker/cert.pem)
    #[arg(long = "tlscert", value_name = "FILE")]
    pub tlscert: Option<std::path::PathBuf>,
    /// Path to TLS key file (default: $DOCKER_CERT_PATH/key.pem, else ~/.docker/key.pem)
    #[arg(long = "tlskey", value_name = "FILE")]
    pub tlskey: Option<std::path::PathBuf>,
    /// Print debug output
    #[arg(short = 'D', long = "debug")]
    pub debug: bool,
    /// Print berth's version and exit
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a container from an image and start it
    #[command(disable_help_flag = true)]
    Run(run::RunArgs),
    /// Build an image from a Dockerfile
    Build(build::Args),
    /// Manage builds
    #[command(subcommand)]
    Builder(builder::BuilderCommand),
    /// Define and run multi-container applications with Docker Compose's commands
    Compose(compose::ComposeArgs),
    /// Create a container without starting it
    #[command(disable_help_flag = true)]
    Create(create::CreateArgs),
    /// List running containers (all with -a)
    Ps(ps::Args),
    /// Print a container's output
    Logs(logs::Args),
    /// Connect this terminal to a running container's stdio
    Attach(attach::Args),
    /// Run a command inside a running container
    Exec(exec::Args),
    /// Start stopped containers
    Start(start::Args),
    /// Stop running containers (SIGTERM, then SIGKILL)
    Stop(stop::Args),
    /// Send a signal (default SIGKILL) to running containers
    Kill(kill::Args),
    /// Stop and start containers again
    Restart(stop::Args),
    /// Delete containers
    Rm(rm::Args),
    /// Wait for containers to stop and print their exit codes
    Wait(wait::Args),
    /// Show the JSON description of containers, images, volumes or networks
    Inspect(inspect::Args),
    /// Give a container a new name
    Rename(rename::Args),
    /// Change resource limits or restart policy of containers
    Update(update::UpdateArgs),
    /// Stream the daemon's events as they happen
    Events(events::Args),
    /// List files added, changed or deleted in a container
    Diff(snapshot::DiffArgs),
    /// Write a container's filesystem as a tar archive
    Export(snapshot::ExportArgs),
    /// Copy files between a container and this host
    Cp(cp::Args),
    /// Save a container's changes as a new image
    Commit(snapshot::CommitArgs),
    /// Freeze every process of containers
    Pause(pause::Args),
    /// Thaw paused containers
    Unpause(pause::Args),
    /// List the processes running in a container
    Top(top::Args),
    /// Show live CPU, memory, network and I/O use of containers
    Stats(stats::Args),
    /// List local images
    Images(images::Args),
    /// Delete images
    Rmi(rmi::Args),
    /// Add a name (TARGET_IMAGE) to an existing image (SOURCE_IMAGE)
    Tag(tag::Args),
    /// Write images to a tar archive (stdout unless -o)
    Save(save::Args),
    /// Read images from a tar archive (stdin unless -i)
    Load(load::Args),
    /// Download an image from a registry
    Pull(pull::Args),
    /// Upload an image to a registry
    Push(push::Args),
    /// Authenticate to a registry
    Login(login::Args),
    /// Log out from a registry
    Logout(login::LogoutArgs),
    /// Make an image from a filesystem tarball
    Import(import::Args),
    /// List the layers an image was built from
    History(history::Args),
    /// Show berth and berthd versions
    Version(version::Args),
    /// Show what the daemon runs and how it is set up
    Info(info::Args),
    /// Manage containers
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Manage images
    #[command(subcommand)]
    Image(ImageCommand),
    /// Manage volumes
    #[command(subcommand)]
    Volume(volume::VolumeCommand),
    /// Manage networks
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// Show a container's published ports
    Port(port::Args),
    /// Disk usage, pruning, info and events
    #[command(subcommand)]
    System(system::SystemCommand),
    /// Print a shell completion script (bash, zsh or fish)
    Completion(completion::Args),
    /// Run a registry server of berth's own (needs no daemon)
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
    /// Serve the web dashboard for the daemon (prints a one-time login URL)
    Dashboard(dashboard::Args),
}

#[derive(Subcommand, Debug)]
pub enum ContainerCommand {
    #[command(disable_help_flag = true)]
    Run(run::RunArgs),
    #[command(disable_help_flag = true)]
    Create(create::CreateArgs),
    #[command(visible_aliases = ["ps", "list"])]
    Ls(ps::Args),
    Logs(logs::Args),
    Attach(attach::Args),
    Exec(exec::Args),
    Start(start::Args),
    Stop(stop::Args),
    Kill(kill::Args),
    Restart(stop::Args),
    #[command(visible_alias = "remove")]
    Rm(rm::Args),
    Wait(wait::Args),
    Inspect(inspect::TypedArgs),
    Rename(rename::Args),
    Update(update::UpdateArgs),
    Diff(snapshot::DiffArgs),
    Export(snapshot::ExportArgs),
    Cp(cp::Args),
    Commit(snapshot::CommitArgs),
    Pause(pause::Args),
    Unpause(pause::Args),
    Top(top::Args),
    Stats(stats::Args),
    /// Remove all stopped containers
    Prune(prune::ContainerArgs),
    Port(port::Args),
}

#[derive(Subcommand, Debug)]
pub enum ImageCommand {
    /// Build an image from a Dockerfile
    Build(build::Args),
    #[command(visible_alias = "list")]
    Ls(images::Args),
    #[command(visible_alias = "remove")]
    Rm(rmi::Args),
    Inspect(inspect::TypedArgs),
    Tag(tag::Args),
    Save(save::Args),
    Load(load::Args),
    Pull(pull::Args),
    Push(push::Args),
    Import(import::Args),
    History(history::Args),
    /// Remove unused images
    Prune(prune::ImageArgs),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_stops_parsing_flags_at_the_image() {
        let cli = Cli::try_parse_from(["berth", "run", "-it", "--rm", "busybox", "ls", "-l", "-d"]).unwrap();
        match cli.command {
            Some(Command::Run(r)) => {
                assert!(!r.detach && r.opts.interactive && r.opts.tty && r.opts.rm);
                assert_eq!(r.opts.image_and_command, ["busybox", "ls", "-l", "-d"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["berth", "container", "ls", "-aq"]).is_ok());
        assert!(Cli::try_parse_from(["berth", "image", "rm", "-f", "x"]).is_ok());
        assert!(Cli::try_parse_from(["berth", "history", "-H=false", "x"]).is_ok());
        assert!(Cli::try_parse_from(["berth", "run", "-h", "myhost", "busybox"]).is_ok());
    }
}
