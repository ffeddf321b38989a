#![cfg_attr(test, allow(clippy::unwrap_used))]
//! `berth`: the command-line client. Same commands, flags, output and exit
//! codes as the docker CLI for what it covers.

mod cli;
mod commands;
mod credentials;
mod pullbars;
mod envfile;
mod exit;
mod format;
mod jsonmessage;
mod mountopt;
mod portspec;
mod reference;
mod stdio;
mod terminal;

use berth_client::{Client, Host};
use clap::Parser;
use cli::{Cli, Command, ContainerCommand, ImageCommand};
use commands::*;
use exit::StatusError;
use std::io::Write;

fn main() {
    let code = match Cli::try_parse() {
        Ok(cli) => run_cli(cli),
        Err(e) => {
            use clap::error::ErrorKind;
            let usage = !matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
            let _ = e.print();
            // docker exits 125 on flag errors.
            if usage {
                125
            } else {
                0
            }
        }
    };
    let _ = std::io::stdout().flush();
    // Exit at once: a thread blocked reading stdin must not hold us up.
    std::process::exit(code);
}

fn run_cli(cli: Cli) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start runtime: {e}");
            return 1;
        }
    };
    let result = runtime.block_on(dispatch(cli));
    // Do not wait for a blocking read of a terminal's stdin to return.
    runtime.shutdown_background();
    match result {
        Ok(()) => 0,
        Err(e) => {
            if let Some(s) = e.downcast_ref::<StatusError>() {
                if let Some(m) = &s.message {
                    eprintln!("{m}");
                }
                return if s.code == 0 { 1 } else { s.code };
            }
            eprintln!("{}", exit::describe_any(&e));
            1
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    // A completion script needs no daemon, so a bad DOCKER_HOST must not stop it.
    let command = match cli.command {
        Some(Command::Completion(a)) => return completion::run(a),
        // The registry server runs on its own, without berthd.
        Some(Command::Registry(r)) => return registry::run(r).await,
        // `compose config` and `compose version` read files only.
        Some(Command::Compose(a)) if a.offline() => return compose::run_offline(a),
        other => other,
    };
    let tls = berth_client::TlsOptions::from_flags_and_env(cli.tls, cli.tlsverify, cli.tlscacert, cli.tlscert, cli.tlskey);
    let host = Host::from_flag_or_env(cli.host.as_deref(), tls.tls)?;
    let client = Client::with_tls(host, tls.client_config()?);
    let Some(command) = command else {
        if cli.version {
            println!("Berth version {}, build {}", env!("CARGO_PKG_VERSION"), version::GIT_COMMIT);
            return Ok(());
        }
        use clap::CommandFactory;
        Cli::command().print_help()?;
        return Ok(());
    };
    let c = &client;
    match command {
        Command::Run(a) | Command::Container(ContainerCommand::Run(a)) => run::run(c, a).await,
        Command::Build(a) | Command::Image(ImageCommand::Build(a)) => build::run(c, a).await,
        Command::Builder(b) => builder::run(c, b).await,
        Command::Create(a) | Command::Container(ContainerCommand::Create(a)) => create::run(c, a).await,
        Command::Ps(a) | Command::Container(ContainerCommand::Ls(a)) => ps::run(c, a).await,
        Command::Logs(a) | Command::Container(ContainerCommand::Logs(a)) => logs::run(c, a).await,
        Command::Start(a) | Command::Container(ContainerCommand::Start(a)) => start::run(c, a).await,
        Command::Attach(a) | Command::Container(ContainerCommand::Attach(a)) => attach::run(c, a).await,
        Command::Exec(a) | Command::Container(ContainerCommand::Exec(a)) => exec::run(c, a).await,
        Command::Stop(a) | Command::Container(ContainerCommand::Stop(a)) => stop::run(c, a).await,
        Command::Kill(a) | Command::Container(ContainerCommand::Kill(a)) => kill::run(c, a).await,
        Command::Restart(a) | Command::Container(ContainerCommand::Restart(a)) => restart::run(c, a).await,
        Command::Rm(a) | Command::Container(ContainerCommand::Rm(a)) => rm::run(c, a).await,
        Command::Wait(a) | Command::Container(ContainerCommand::Wait(a)) => wait::run(c, a).await,
        Command::Inspect(a) => inspect::run(c, a).await,
        Command::Container(ContainerCommand::Inspect(a)) => inspect::run_typed(c, a, inspect::Kind::Container).await,
        Command::Image(ImageCommand::Inspect(a)) => inspect::run_typed(c, a, inspect::Kind::Image).await,
        Command::Rename(a) | Command::Container(ContainerCommand::Rename(a)) => rename::run(c, a).await,
        Command::Events(a) => events::run(c, a).await,
        Command::System(a) => system::run(c, a).await,
        Command::Diff(a) | Command::Container(ContainerCommand::Diff(a)) => snapshot::diff(c, a).await,
        Command::Export(a) | Command::Container(ContainerCommand::Export(a)) => snapshot::export(c, a).await,
        Command::Cp(a) | Command::Container(ContainerCommand::Cp(a)) => cp::run(c, a).await,
        Command::Commit(a) | Command::Container(ContainerCommand::Commit(a)) => snapshot::commit(c, a).await,
        Command::Pause(a) | Command::Container(ContainerCommand::Pause(a)) => pause::pause(c, a).await,
        Command::Unpause(a) | Command::Container(ContainerCommand::Unpause(a)) => pause::unpause(c, a).await,
        Command::Top(a) | Command::Container(ContainerCommand::Top(a)) => top::run(c, a).await,
        Command::Stats(a) | Command::Container(ContainerCommand::Stats(a)) => stats::run(c, a).await,
        Command::Update(a) | Command::Container(ContainerCommand::Update(a)) => update::run(c, a).await,
        Command::Container(ContainerCommand::Prune(a)) => prune::run_containers(c, a).await,
        Command::Image(ImageCommand::Prune(a)) => prune::run_images(c, a).await,
        Command::Images(a) | Command::Image(ImageCommand::Ls(a)) => images::run(c, a).await,
        Command::Rmi(a) | Command::Image(ImageCommand::Rm(a)) => rmi::run(c, a).await,
        Command::Tag(a) | Command::Image(ImageCommand::Tag(a)) => tag::run(c, a).await,
        Command::Save(a) | Command::Image(ImageCommand::Save(a)) => save::run(c, a).await,
        Command::Load(a) | Command::Image(ImageCommand::Load(a)) => load::run(c, a).await,
        Command::Pull(a) | Command::Image(ImageCommand::Pull(a)) => pull::run(c, a).await,
        Command::Push(a) | Command::Image(ImageCommand::Push(a)) => push::run(c, a).await,
        Command::Login(a) => login::run(c, a).await,
        Command::Logout(a) => login::logout(a).await,
        Command::Import(a) | Command::Image(ImageCommand::Import(a)) => import::run(c, a).await,
        Command::History(a) | Command::Image(ImageCommand::History(a)) => history::run(c, a).await,
        Command::Version(a) => version::run(c, a).await,
        Command::Info(a) => info::run(c, a).await,
        Command::Volume(v) => volume::run(c, v).await,
        Command::Network(n) => network::run(c, n).await,
        Command::Port(a) | Command::Container(ContainerCommand::Port(a)) => port::run(c, a).await,
        Command::Dashboard(a) => dashboard::run(c, a).await,
        // Reached only if the early return above changes.
        Command::Completion(a) => completion::run(a),
        Command::Registry(r) => registry::run(r).await,
        Command::Compose(a) => compose::run(c, a).await,
    }
}
