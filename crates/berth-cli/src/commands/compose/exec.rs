//! `berth compose exec`.

use super::Global;
use berth_client::Client;

#[derive(clap::Args, Debug)]
pub struct Args {
    pub services: Vec<String>,
}

pub async fn run(_client: &Client, _global: &Global, _args: Args) -> anyhow::Result<()> {
    Err(super::not_yet("exec"))
}
