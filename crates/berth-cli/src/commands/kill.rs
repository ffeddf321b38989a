//! `berth kill`: send a signal (default SIGKILL) to containers.

use super::stop::each;
use berth_client::{Client, Query};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Signal to send to the container
    #[arg(short = 's', long)]
    pub signal: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let q = Query::new().non_empty("signal", args.signal.as_deref().unwrap_or(""));
    each(client, &args.containers, "kill", &q).await
}
