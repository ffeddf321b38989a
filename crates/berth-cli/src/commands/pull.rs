//! `berth pull`: fetch an image from its registry through berthd.

use crate::jsonmessage;
use crate::reference::Reference;
use berth_client::{Client, Method, Query, RequestBody};
use std::io::IsTerminal;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Download all tagged images in the repository
    #[arg(short = 'a', long = "all-tags")]
    pub all_tags: bool,
    /// Suppress verbose output
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Set platform if server is multi-platform capable
    #[arg(long, env = "DOCKER_DEFAULT_PLATFORM")]
    pub platform: Option<String>,
    /// NAME[:TAG|@DIGEST]
    pub name: String,
}

/// `POST /images/create`, with the stored credentials for the registry (`X-Registry-Auth`).
pub async fn send(client: &Client, reference: &Reference, q: &Query) -> anyhow::Result<berth_client::ResponseStream> {
    let host = reference.name.split('/').next().unwrap_or("");
    let stream = match crate::credentials::registry_auth_header(host) {
        Some(h) => client.stream_with_header(Method::POST, "/images/create", q, ("X-Registry-Auth", &h), RequestBody::Empty).await?,
        None => client.stream(Method::POST, "/images/create", q, RequestBody::Empty).await?,
    };
    Ok(stream)
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let parsed = Reference::parse(&args.name).map_err(anyhow::Error::msg)?;
    if args.all_tags && (parsed.tag.is_some() || parsed.digest.is_some()) {
        anyhow::bail!("tag can't be used with --all-tags/-a");
    }
    // -a sends the bare name: berthd pulls every tag.
    let reference = if args.all_tags { parsed.clone() } else { parsed.clone().with_default_tag() };
    if parsed.tag.is_none() && parsed.digest.is_none() && !args.quiet && !args.all_tags {
        println!("Using default tag: latest");
    }
    let mut q = Query::new().add("fromImage", reference.name.clone());
    if let Some(d) = &reference.digest {
        q = q.add("tag", d.clone());
    } else if let Some(t) = &reference.tag {
        q = q.add("tag", t.clone());
    }
    if let Some(p) = args.platform.as_deref().filter(|p| !p.is_empty()) {
        q = q.add("platform", p.to_string());
    }
    let stream = send(client, &reference, &q).await?;
    if args.quiet {
        jsonmessage::display(stream, &mut std::io::sink()).await?;
    } else if std::io::stdout().is_terminal() {
        crate::pullbars::display(stream).await?;
    } else {
        jsonmessage::display(stream, &mut std::io::stdout()).await?;
    }
    println!("{}", reference.familiar_string());
    Ok(())
}
