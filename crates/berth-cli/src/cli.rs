//! The command line: global flags and the command tree (top-level commands
//! plus their `container`/`image` management aliases, as docker has them).

use crate::commands::*;
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "berth", about = "A self-sufficient runtime for containers", disable_version_flag = true)]
pub struct Cli {
    /// Daemon socket to connect to
    #[arg(short = 'H', long = "host", value_name = "HOST")]
    pub host: Option<String>,
    /// Enable debug mode
    #[arg(short = 'D', long = "debug")]
    pub debug: bool,
    /// Print version information and quit
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create and run a new container from an image
    #[command(disable_help_flag = true)]
    Run(run::RunArgs),
    /// Create a new container
    #[command(disable_help_flag = true)]
    Create(create::CreateArgs),
    /// List containers
    Ps(ps::Args),
    /// Fetch the logs of a container
    Logs(logs::Args),
    /// Attach local standard input, output, and error streams to a running container
    Attach(attach::Args),
    /// Execute a command in a running container
    Exec(exec::Args),
    /// Start one or more stopped containers
    Start(start::Args),
    /// Stop one or more running containers
    Stop(stop::Args),
    /// Kill one or more running containers
    Kill(kill::Args),
    /// Restart one or more containers
    Restart(stop::Args),
    /// Remove one or more containers
    Rm(rm::Args),
    /// Block until one or more containers stop, then print their exit codes
    Wait(wait::Args),
    /// Return low-level information on Docker objects
    Inspect(inspect::Args),
    /// Rename a container
    Rename(rename::Args),
    /// Update configuration of one or more containers
    Update(update::UpdateArgs),
    /// Get real time events from the server
    Events(events::Args),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(snapshot::DiffArgs),
    /// Export a container's filesystem as a tar archive
    Export(snapshot::ExportArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(cp::Args),
    /// Create a new image from a container's changes
    Commit(snapshot::CommitArgs),
    /// Pause all processes within one or more containers
    Pause(pause::Args),
    /// Unpause all processes within one or more containers
    Unpause(pause::Args),
    /// Display the running processes of a container
    Top(top::Args),
    /// Display a live stream of container(s) resource usage statistics
    Stats(stats::Args),
    /// List images
    Images(images::Args),
    /// Remove one or more images
    Rmi(rmi::Args),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(tag::Args),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(save::Args),
    /// Load an image from a tar archive or STDIN
    Load(load::Args),
    /// Import the contents from a tarball to create a filesystem image
    Import(import::Args),
    /// Show the history of an image
    History(history::Args),
    /// Show the Docker version information
    Version(version::Args),
    /// Display system-wide information
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
    /// List port mappings or a specific mapping for the container
    Port(port::Args),
    /// Manage berth
    #[command(subcommand)]
    System(system::SystemCommand),
    /// Print a shell completion script (bash, zsh or fish)
    Completion(completion::Args),
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
    #[command(visible_alias = "list")]
    Ls(images::Args),
    #[command(visible_alias = "remove")]
    Rm(rmi::Args),
    Inspect(inspect::TypedArgs),
    Tag(tag::Args),
    Save(save::Args),
    Load(load::Args),
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
