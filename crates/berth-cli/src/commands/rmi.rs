//! `berth rmi`: remove images, printing what was untagged and deleted.

use crate::exit::{describe, joined};
use berth_api::image::DeleteItem;
use berth_client::{segment, Client, Query};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Force removal of the image
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Do not delete untagged parents
    #[arg(long = "no-prune")]
    pub no_prune: bool,
    #[arg(required = true)]
    pub images: Vec<String>,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let q = Query::new().flag("force", args.force).flag("noprune", args.no_prune);
    let mut errors = Vec::new();
    for image in &args.images {
        match client.delete_json::<Vec<DeleteItem>>(&format!("/images/{}", segment(image)), &q).await {
            Ok(items) => {
                for item in items {
                    if let Some(u) = item.untagged {
                        println!("Untagged: {u}");
                    } else if let Some(d) = item.deleted {
                        println!("Deleted: {d}");
                    }
                }
            }
            Err(e) => errors.push(describe(&e)),
        }
    }
    joined(errors)
}
