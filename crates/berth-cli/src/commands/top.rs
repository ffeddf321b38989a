//! `berth top CONTAINER [ps OPTIONS]`: the container's processes.

use crate::format::table::tabwrite;
use berth_client::{segment, Client, Query};
use serde_json::Value;

#[derive(clap::Args, Debug)]
pub struct Args {
    pub container: String,
    /// Options passed to ps (default -ef)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let q = Query::new().non_empty("ps_args", &args.ps_args.join(" "));
    let v: Value = client.get_json(&format!("/containers/{}/top", segment(&args.container)), &q).await?;
    print!("{}", render(&v));
    Ok(())
}

/// Titles and rows, tab-aligned as docker prints them.
pub fn render(v: &Value) -> String {
    let row = |r: &Value| -> String {
        r.as_array().map(|c| c.iter().map(|x| x.as_str().unwrap_or("")).collect::<Vec<_>>().join("\t")).unwrap_or_default()
    };
    let mut text = row(&v["Titles"]) + "\n";
    for p in v["Processes"].as_array().into_iter().flatten() {
        text.push_str(&row(p));
        text.push('\n');
    }
    tabwrite(&text)
}
