//! `berth restart`: stop then start containers.

use super::stop::each;
use berth_client::{Client, Query};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Signal to send to the container
    #[arg(short = 's', long)]
    pub signal: Option<String>,
    /// Seconds to wait before killing the container
    #[arg(short = 't', long = "time", visible_alias = "timeout", allow_negative_numbers = true)]
    pub time: Option<i64>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let mut q = Query::new().non_empty("signal", args.signal.as_deref().unwrap_or(""));
    if let Some(t) = args.time {
        q = q.add("t", t.to_string());
    }
    each(client, &args.containers, "restart", &q).await
}
