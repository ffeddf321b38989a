//! `berth push`: upload an image to its registry through berthd.

use crate::jsonmessage;
use crate::reference::Reference;
use berth_client::{Client, Method, Query, RequestBody};
use std::io::IsTerminal;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Push all tags of an image to the repository
    #[arg(short = 'a', long)]
    pub all_tags: bool,
    /// Suppress verbose output
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// NAME[:TAG]
    pub name: String,
}

/// `POST /images/NAME/push?tag=`, with the stored credentials for the registry.
pub async fn send(client: &Client, reference: &Reference, tag: &str) -> anyhow::Result<berth_client::ResponseStream> {
    let q = Query::new().add("tag", tag);
    let path = format!("/images/{}/push", reference.name);
    let host = reference.name.split('/').next().unwrap_or("");
    Ok(match crate::credentials::registry_auth_header(host) {
        Some(h) => client.stream_with_header(Method::POST, &path, &q, ("X-Registry-Auth", &h), RequestBody::Empty).await?,
        None => client.stream(Method::POST, &path, &q, RequestBody::Empty).await?,
    })
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let parsed = Reference::parse(&args.name).map_err(anyhow::Error::msg)?;
    if parsed.digest.is_some() {
        anyhow::bail!("cannot push a digest reference");
    }
    if args.all_tags && parsed.tag.is_some() {
        anyhow::bail!("tag can't be used with --all-tags/-a");
    }
    if parsed.tag.is_none() && !args.all_tags && !args.quiet {
        println!("Using default tag: latest");
    }
    // An empty tag asks berthd for every tag of the repository.
    let (reference, tag) = if args.all_tags {
        (parsed.clone(), String::new())
    } else {
        let r = parsed.with_default_tag();
        let t = r.tag.clone().unwrap_or_else(|| "latest".into());
        (r, t)
    };
    let stream = send(client, &reference, &tag).await?;
    if args.quiet {
        jsonmessage::display(stream, &mut std::io::sink()).await?;
        println!("{}", reference.familiar_string());
    } else if std::io::stdout().is_terminal() {
        crate::pullbars::display(stream).await?;
    } else {
        jsonmessage::display(stream, &mut std::io::stdout()).await?;
    }
    Ok(())
}
