//! `berth wait`: block until containers stop, print their exit codes.

use crate::exit::{describe, joined};
use berth_client::Client;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let mut errors = Vec::new();
    for name in &args.containers {
        let result = match client.wait(name, "").await {
            Ok(w) => w.result().await,
            Err(e) => Err(e),
        };
        match result {
            Ok(r) => match r.error {
                Some(e) => errors.push(e.message),
                None => println!("{}", r.status_code),
            },
            Err(e) => errors.push(describe(&e)),
        }
    }
    joined(errors)
}
