//! `berth attach`: attach the terminal to a running container's stdio.

use super::run::wait_status;
use crate::exit::StatusError;
use crate::{stdio, terminal};
use berth_api::container::ContainerInspect;
use berth_client::{segment, Client, Query};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    /// Do not attach STDIN
    #[arg(long = "no-stdin")]
    pub no_stdin: bool,
    /// Proxy all received signals to the process
    #[arg(long = "sig-proxy", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub sig_proxy: bool,
    pub container: String,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let info: ContainerInspect = client.get_json(&format!("/containers/{}/json", segment(&args.container)), &Query::new()).await?;
    if !info.state.running {
        anyhow::bail!("You cannot attach to a stopped container, start it first");
    }
    if info.state.paused {
        anyhow::bail!("You cannot attach to a paused container, unpause it first");
    }
    let stdin = !args.no_stdin && info.config.open_stdin;
    let tty = info.config.tty;
    terminal::check_tty(stdin, tty)?;
    let path = segment(&info.id);
    let q = Query::new()
        .flag("stream", true)
        .flag("stdin", stdin)
        .flag("stdout", true)
        .flag("stderr", true)
        .non_empty("detachKeys", args.detach_keys.as_deref().unwrap_or(""));
    let waiter = client.wait(&info.id, "").await;
    let hijacked = client.hijack(&format!("/containers/{path}/attach"), &q).await?;
    let keys = stdio::detach_keys(args.detach_keys.as_deref());
    let streams = tokio::spawn(stdio::stream_attach(hijacked, stdin, tty, keys));
    let _raw = (tty && stdin).then(terminal::RawMode::enable).flatten();
    follow_to_exit(client, &path, tty, streams, waiter).await
}

/// The end of an attached session (`attach`, `start -a`): follow the
/// streams until they end or the user detaches, then exit with the
/// container's status.
pub async fn follow_to_exit(
    client: &Client,
    path: &str,
    tty: bool,
    streams: tokio::task::JoinHandle<anyhow::Result<stdio::Ended>>,
    waiter: Result<berth_client::WaitHandle, berth_client::ClientError>,
) -> anyhow::Result<()> {
    let ended = terminal::follow_attach(client, format!("/containers/{path}/resize"), tty, streams).await;
    if ended? == stdio::Ended::Detached {
        return Ok(());
    }
    let status = wait_status(waiter).await;
    if status != 0 {
        return Err(StatusError::code(status).into());
    }
    Ok(())
}
