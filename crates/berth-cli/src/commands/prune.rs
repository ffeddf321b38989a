//! `container prune` and `image prune`, with docker's confirmation prompt.

use crate::format::size::human_size;
use berth_api::container::PruneResponse;
use berth_client::{Client, Filters, Query};
use serde_json::Value;
use std::io::{BufRead, Write};

#[derive(clap::Args, Debug)]
pub struct ContainerArgs {
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

#[derive(clap::Args, Debug)]
pub struct ImageArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// Asks on stdout, reads a line from stdin; only "y"/"Y" confirms.
pub fn confirm(warning: &str) -> bool {
    print!("{warning}\nAre you sure you want to continue? [y/N] ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    is_yes(&line)
}

fn is_yes(answer: &str) -> bool {
    matches!(answer.trim(), "y" | "Y")
}

fn filters(args: &[String]) -> anyhow::Result<Filters> {
    let mut f = Filters::new();
    for a in args {
        f.add_arg(a).map_err(anyhow::Error::msg)?;
    }
    Ok(f)
}

pub async fn run_containers(client: &Client, args: ContainerArgs) -> anyhow::Result<()> {
    let f = filters(&args.filter)?;
    if !args.force && !confirm("WARNING! This will remove all stopped containers.") {
        return Ok(());
    }
    let r: PruneResponse = client.post_json("/containers/prune", &Query::new().filters(&f), None::<&()>).await?;
    let deleted = r.containers_deleted.unwrap_or_default();
    let mut space = 0;
    if !deleted.is_empty() {
        println!("Deleted Containers:\n{}\n", deleted.iter().map(|d| format!("{d}\n")).collect::<String>().trim_end());
        space = r.space_reclaimed;
    }
    println!("Total reclaimed space: {}", human_size(space as f64));
    Ok(())
}

pub async fn run_images(client: &Client, args: ImageArgs) -> anyhow::Result<()> {
    let mut f = filters(&args.filter)?;
    let warning = if args.all {
        f.add("dangling", "false");
        "WARNING! This will remove all images without at least one container associated to them."
    } else {
        "WARNING! This will remove all dangling images."
    };
    if !args.force && !confirm(warning) {
        return Ok(());
    }
    let r: Value = client.post_json("/images/prune", &Query::new().filters(&f), None::<&()>).await?;
    let deleted = r.get("ImagesDeleted").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut space = 0;
    if !deleted.is_empty() {
        let mut out = String::from("Deleted Images:\n");
        for d in &deleted {
            match d.get("Untagged").and_then(Value::as_str).filter(|s| !s.is_empty()) {
                Some(u) => out.push_str(&format!("untagged: {u}\n")),
                None => out.push_str(&format!("deleted: {}\n", d.get("Deleted").and_then(Value::as_str).unwrap_or(""))),
            }
        }
        println!("{out}");
        space = r.get("SpaceReclaimed").and_then(Value::as_u64).unwrap_or(0);
    }
    println!("Total reclaimed space: {}", human_size(space as f64));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_y_confirms() {
        assert!(is_yes("y\n"));
        assert!(is_yes(" Y "));
        assert!(!is_yes("yes\n"));
        assert!(!is_yes(""));
        assert!(!is_yes("n"));
    }
}
