//! `berth compose top`: each running container's processes, under its
//! name, as Compose prints them.

use super::session::{name_of, OneOff, Session};
use super::Global;
use berth_client::{segment, Client, Query};
use serde_json::Value;

#[derive(clap::Args, Debug)]
pub struct Args {
    pub services: Vec<String>,
}

pub async fn run(client: &Client, global: &Global, args: Args) -> anyhow::Result<()> {
    let s = Session::load(client, global, &args.services)?;
    s.check_services(&args.services)?;
    let mut list = s.containers(false, OneOff::Exclude, &args.services).await?;
    list.sort_by(|a, b| name_of(a).cmp(name_of(b)));
    for c in &list {
        let v: Value = client.get_json(&format!("/containers/{}/top", segment(&c.id)), &Query::new()).await?;
        println!("{}", name_of(c));
        print!("{}", crate::commands::top::render(&v));
        println!();
    }
    Ok(())
}
