//! `berth compose ls`: the projects that have containers.

use berth_client::Client;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show all stopped Compose projects
    #[arg(short = 'a', long = "all")]
    pub all: bool,
}

pub async fn run(_client: &Client, _args: Args) -> anyhow::Result<()> {
    Err(super::not_yet("ls"))
}
