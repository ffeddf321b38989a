//! berth-oci: a runc-compatible OCI runtime command line built on youki's
//! libcontainer. It implements the subset berth's shim uses (see cli.rs);
//! errors go to `--log` as runc's JSON lines, so the shim reports them.

mod cli;
mod container;
mod create;
mod cwd;
mod errlog;
mod error;
mod executor;
mod quirks;

use cli::Command;
use error::Result;

fn run(cli: &cli::Cli) -> Result<()> {
    let root = cli.root.as_path();
    match &cli.command {
        Command::Create {
            bundle,
            pid_file,
            id,
        } => create::create(root, bundle, pid_file.as_deref(), id),
        Command::Start { id } => container::start(root, id),
        Command::Kill { id, signal, all } => container::kill(root, id, signal, *all),
        Command::Delete { id, force } => container::delete(root, id, *force),
        Command::State { id } => {
            println!("{}", container::state(root, id)?);
            Ok(())
        }
        Command::Version => {
            println!(
                "berth-oci version {}\nspec: 1.2.0",
                env!("CARGO_PKG_VERSION")
            );
            Ok(())
        }
    }
}

fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Create { .. } => "create",
        Command::Start { .. } => "start",
        Command::Kill { .. } => "kill",
        Command::Delete { .. } => "delete",
        Command::State { .. } => "state",
        Command::Version => "version",
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Find --log even when the rest of the line is bad, so the caller still
    // gets the error where it looks.
    let cli = match cli::parse(args.clone()) {
        Ok(c) => c,
        Err(e) => {
            let log = args
                .iter()
                .position(|a| a == "--log")
                .and_then(|i| args.get(i + 1))
                .map(std::path::PathBuf::from);
            errlog::report(log.as_deref(), &e.to_string());
            std::process::exit(1);
        }
    };
    if let Err(e) = run(&cli) {
        let msg = format!("berth-oci {} failed: {e}", command_name(&cli.command));
        errlog::report(cli.log.as_deref(), &msg);
        std::process::exit(1);
    }
}
