//! `berth stop`: stop containers (SIGTERM, then SIGKILL after a timeout).

use crate::exit::{describe, joined};
use berth_client::{segment, Client, Query};

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

impl Args {
    /// `signal` and `t`, as stop and restart send them.
    pub fn query(&self) -> Query {
        let q = Query::new().non_empty("signal", self.signal.as_deref().unwrap_or(""));
        match self.time {
            Some(t) => q.add("t", t.to_string()),
            None => q,
        }
    }
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    each(client, &args.containers, "stop", &args.query()).await
}

/// POSTs `/containers/{name}/{action}` for each name, printing the name on
/// success; failures are reported together at the end (exit 1).
pub async fn each(client: &Client, names: &[String], action: &str, q: &Query) -> anyhow::Result<()> {
    let mut errors = Vec::new();
    for name in names {
        match client.post(&format!("/containers/{}/{action}", segment(name)), q).await {
            Ok(()) => println!("{name}"),
            Err(e) => errors.push(describe(&e)),
        }
    }
    joined(errors)
}
