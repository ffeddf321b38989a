//! `berth start`: start containers, or start one attached (`-a`/`-i`).

use crate::exit::{describe, StatusError};
use crate::{stdio, terminal};
use berth_api::container::ContainerInspect;
use berth_client::{segment, Client, Query};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short = 'a', long)]
    pub attach: bool,
    /// Attach container's STDIN
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    if args.attach || args.interactive {
        return start_attached(client, &args).await;
    }
    let mut failed = Vec::new();
    for name in &args.containers {
        match client.post(&format!("/containers/{}/start", segment(name)), &Query::new()).await {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("{}", describe(&e));
                failed.push(name.clone());
            }
        }
    }
    if !failed.is_empty() {
        return Err(StatusError::with_message(1, format!("Error: failed to start containers: {}", failed.join(", "))).into());
    }
    Ok(())
}

async fn start_attached(client: &Client, args: &Args) -> anyhow::Result<()> {
    if args.containers.len() > 1 {
        anyhow::bail!("you cannot start and attach multiple containers at once");
    }
    let name = &args.containers[0];
    let info: ContainerInspect = client.get_json(&format!("/containers/{}/json", segment(name)), &Query::new()).await?;
    let path = segment(&info.id);
    let stdin = args.interactive && info.config.open_stdin;
    let q = Query::new()
        .flag("stream", true)
        .flag("stdin", stdin)
        .flag("stdout", true)
        .flag("stderr", true)
        .non_empty("detachKeys", args.detach_keys.as_deref().unwrap_or(""));
    let tty = info.config.tty;
    terminal::check_tty(stdin, tty)?;
    let hijacked = client.hijack(&format!("/containers/{path}/attach"), &q).await?;
    let keys = stdio::detach_keys(args.detach_keys.as_deref());
    let streams = tokio::spawn(stdio::stream_attach(hijacked, stdin, tty, keys));
    let _raw = (tty && stdin).then(terminal::RawMode::enable).flatten();
    let condition = if info.host_config.auto_remove { "removed" } else { "next-exit" };
    let waiter = client.wait(&info.id, condition).await;
    if let Err(e) = client.post(&format!("/containers/{path}/start"), &Query::new()).await {
        streams.abort();
        if info.host_config.auto_remove {
            if let Ok(w) = waiter {
                let _ = w.result().await;
            }
        }
        return Err(e.into());
    }
    super::attach::follow_to_exit(client, &path, tty, streams, waiter).await
}
