//! `berth compose version`.

use berth_client::Client;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format the output. Values: [pretty | json]
    #[arg(short = 'f', long = "format")]
    pub format: Option<String>,
    /// Shows only Compose's version number
    #[arg(long)]
    pub short: bool,
}

impl Args {
    /// The version needs no daemon.
    pub fn offline(&self) -> bool {
        true
    }
}

pub fn run_offline(_args: Args) -> anyhow::Result<()> {
    Err(super::not_yet("version"))
}

pub async fn run(_client: &Client, args: Args) -> anyhow::Result<()> {
    run_offline(args)
}
