//! `berth load`: upload an image archive (file or stdin, streamed).

use crate::jsonmessage;
use anyhow::Context;
use berth_client::{Client, Method, Query, RequestBody};
use std::io::IsTerminal;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Read from tar archive file, instead of STDIN
    #[arg(short = 'i', long)]
    pub input: Option<String>,
    /// Suppress the load output
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let body: Box<dyn tokio::io::AsyncRead + Send + Unpin> = match &args.input {
        Some(path) => Box::new(tokio::fs::File::open(path).await.with_context(|| format!("open {path}"))?),
        None => {
            if std::io::stdin().is_terminal() {
                anyhow::bail!("requested load from stdin, but stdin is empty");
            }
            Box::new(tokio::io::stdin())
        }
    };
    // Progress bars need a terminal; elsewhere ask the daemon to be brief.
    let quiet = args.quiet || !std::io::stdout().is_terminal();
    let q = Query::new().add("quiet", if quiet { "1" } else { "0" });
    let stream = client.stream(Method::POST, "/images/load", &q, RequestBody::Stream(body)).await?;
    jsonmessage::display(stream, &mut std::io::stdout()).await
}
