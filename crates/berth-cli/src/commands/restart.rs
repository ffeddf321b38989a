//! `berth restart`: stop then start containers (the same flags as `stop`).

use super::stop::{each, Args};
use berth_client::Client;

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    each(client, &args.containers, "restart", &args.query()).await
}
