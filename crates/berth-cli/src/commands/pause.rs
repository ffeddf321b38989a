//! `berth pause` / `berth unpause`: freeze and thaw containers.

use super::stop::each;
use berth_client::{Client, Query};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

pub async fn pause(client: &Client, args: Args) -> anyhow::Result<()> {
    each(client, &args.containers, "pause", &Query::new()).await
}

pub async fn unpause(client: &Client, args: Args) -> anyhow::Result<()> {
    each(client, &args.containers, "unpause", &Query::new()).await
}
