//! `berth tag SOURCE TARGET`.

use crate::reference::Reference;
use berth_client::{segment, Client, Query};

#[derive(clap::Args, Debug)]
pub struct Args {
    pub source: String,
    pub target: String,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let target = Reference::parse(&args.target).map_err(|e| anyhow::anyhow!("Error parsing reference: {:?} is not a valid repository/tag: {e}", args.target))?;
    if target.digest.is_some() {
        anyhow::bail!("refusing to create a tag with a digest reference");
    }
    let target = target.with_default_tag();
    let q = Query::new().add("repo", target.name.clone()).non_empty("tag", target.tag.as_deref().unwrap_or(""));
    client.post(&format!("/images/{}/tag", segment(&args.source)), &q).await?;
    Ok(())
}
