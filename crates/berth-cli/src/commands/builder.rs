//! `berth builder prune`: free the build cache.

use crate::format::size::human_size;
use berth_client::{Client, Filters, Query};
use serde_json::Value;
use std::io::{BufRead, Write};

#[derive(clap::Subcommand, Debug)]
pub enum BuilderCommand {
    /// Remove build cache
    Prune(PruneArgs),
}

#[derive(clap::Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused build cache, not just dangling ones
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Provide filter values (e.g. "until=24h")
    #[arg(long)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

pub async fn run(client: &Client, cmd: BuilderCommand) -> anyhow::Result<()> {
    let BuilderCommand::Prune(args) = cmd;
    let mut f = Filters::new();
    for a in &args.filter {
        f.add_arg(a).map_err(anyhow::Error::msg)?;
    }
    let warning = if args.all {
        "WARNING! This will remove all build cache. Are you sure you want to continue?"
    } else {
        "WARNING! This will remove all dangling build cache. Are you sure you want to continue?"
    };
    if !args.force {
        print!("{warning} [y/N] ");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line).is_err() || !matches!(line.trim(), "y" | "Y") {
            return Ok(());
        }
    }
    let q = Query::new().flag("all", args.all).filters(&f);
    let r: Value = client.post_json("/build/prune", &q, None::<&()>).await?;
    let deleted: Vec<&str> = r.get("CachesDeleted").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    if !deleted.is_empty() {
        println!("Deleted build cache objects:");
        for d in &deleted {
            println!("{d}");
        }
        println!();
    }
    let space = r.get("SpaceReclaimed").and_then(Value::as_u64).unwrap_or(0);
    println!("Total reclaimed space: {}", human_size(space as f64));
    Ok(())
}
