//! `berth save`: stream images as a tar archive to a file or stdout.

use berth_client::{Client, Method, Query, RequestBody};
use std::io::IsTerminal;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    #[arg(required = true)]
    pub images: Vec<String>,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    if args.output.is_none() && std::io::stdout().is_terminal() {
        anyhow::bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    let mut q = Query::new();
    for i in &args.images {
        q = q.add("names", i.clone());
    }
    let stream = client.stream(Method::GET, "/images/get", &q, RequestBody::Empty).await?;
    super::archive_out::write(stream, args.output.as_deref(), "failed to save image").await
}
