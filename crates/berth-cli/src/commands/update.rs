//! `berth update`: change the limits (or restart policy) of containers.

use super::limits::LimitOptions;
use berth_api::container::UpdateRequest;
use berth_client::{Client, Query};

#[derive(clap::Args, Debug)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub limits: LimitOptions,
    /// Restart policy to apply when a container exits
    #[arg(long)]
    pub restart: Option<String>,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

pub async fn run(client: &Client, args: UpdateArgs) -> anyhow::Result<()> {
    let resources = args.limits.to_resources().map_err(anyhow::Error::msg)?;
    let restart_policy = match &args.restart {
        Some(r) => Some(super::create::parse_restart(r).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let body = UpdateRequest { resources, restart_policy };
    let mut failed = Vec::new();
    for c in &args.containers {
        let path = format!("/containers/{}/update", berth_client::segment(c));
        match client.post_json::<serde_json::Value, _>(&path, &Query::new(), Some(&body)).await {
            Ok(_) => println!("{c}"),
            Err(e) => failed.push(e.to_string()),
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(anyhow::anyhow!("{}", failed.join("\n")))
    }
}
