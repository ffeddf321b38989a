//! `berth rm`: remove containers.

use crate::exit::{describe, joined};
use berth_client::{segment, Client, Query};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Remove the specified link
    #[arg(short = 'l', long)]
    pub link: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short = 'v', long)]
    pub volumes: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let q = Query::new().flag("v", args.volumes).flag("link", args.link).flag("force", args.force);
    let mut errors = Vec::new();
    for name in &args.containers {
        let name_trimmed = name.trim_matches('/');
        if name_trimmed.is_empty() {
            errors.push("Container name cannot be empty".to_string());
            continue;
        }
        // A link is named by its path (`/parent/alias`), sent as path segments.
        let path = if args.link {
            name_trimmed.split('/').map(segment).collect::<Vec<_>>().join("/")
        } else {
            segment(name_trimmed)
        };
        match client.delete(&format!("/containers/{path}"), &q).await {
            Ok(()) => println!("{name}"),
            // `rm -f` of something already gone is not an error.
            Err(e) if args.force && e.is_not_found() => {}
            Err(e) => errors.push(describe(&e)),
        }
    }
    joined(errors)
}
