//! `berth import`: create an image from a filesystem tarball.

use crate::jsonmessage;
use crate::reference::Reference;
use anyhow::Context;
use berth_client::{Client, Method, Query, RequestBody};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Apply Dockerfile instruction to the created image
    #[arg(short = 'c', long = "change")]
    pub change: Vec<String>,
    /// Set commit message for imported image
    #[arg(short = 'm', long)]
    pub message: Option<String>,
    /// Set platform if server is multi-platform capable
    #[arg(long)]
    pub platform: Option<String>,
    /// A tar file, a URL, or `-` for STDIN
    pub source: String,
    /// Repository (and optional tag) for the new image
    pub reference: Option<String>,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let repo = args.reference.clone().unwrap_or_default();
    if !repo.is_empty() {
        Reference::parse(&repo).map_err(anyhow::Error::msg)?;
    }
    let (from_src, body): (String, RequestBody) = if args.source == "-" {
        ("-".into(), RequestBody::Stream(Box::new(tokio::io::stdin())))
    } else if args.source.starts_with("http://") || args.source.starts_with("https://") {
        (args.source.clone(), RequestBody::Empty)
    } else {
        let f = tokio::fs::File::open(&args.source).await.with_context(|| format!("open {}", args.source))?;
        ("-".into(), RequestBody::Stream(Box::new(f)))
    };
    let mut q = Query::new()
        .add("fromSrc", from_src)
        .add("repo", repo)
        .add("tag", "")
        .add("message", args.message.clone().unwrap_or_default())
        .non_empty("platform", args.platform.as_deref().unwrap_or(""));
    for c in &args.change {
        q = q.add("changes", c.clone());
    }
    let stream = client.stream(Method::POST, "/images/create", &q, body).await?;
    jsonmessage::display(stream, &mut std::io::stdout()).await
}
