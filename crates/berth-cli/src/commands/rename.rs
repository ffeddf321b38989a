//! `berth rename`: rename a container.

use berth_client::{segment, Client, Query};

#[derive(clap::Args, Debug)]
pub struct Args {
    pub container: String,
    pub new_name: String,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let old = args.container.trim();
    let new = args.new_name.trim();
    if old.is_empty() || new.is_empty() {
        anyhow::bail!("Error: Neither old nor new names may be empty");
    }
    let q = Query::new().add("name", new);
    client
        .post(&format!("/containers/{}/rename", segment(old)), &q)
        .await
        .map_err(|e| anyhow::anyhow!("{}\nError: failed to rename container named {old}", crate::exit::describe(&e)))
}
