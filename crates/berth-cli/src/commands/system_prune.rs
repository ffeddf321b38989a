//! `berth system prune`: containers, networks, (volumes), images and build
//! cache, pruned in docker's order with docker's prompt and report.

use super::prune::confirm;
use crate::format::size::human_size;
use berth_api::container::PruneResponse;
use berth_api::network::NetworkPruneResponse;
use berth_api::volume::VolumePruneResponse;
use berth_client::{Client, Filters, Query};
use serde_json::Value;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Remove all unused images, not just dangling ones
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Also remove anonymous volumes no container uses
    #[arg(long)]
    pub volumes: bool,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Only prune what matches (e.g. "label=<key>=<value>", "until=<time>")
    #[arg(long)]
    pub filter: Vec<String>,
}

/// The confirmation text: one line per kind of object, then the filters.
fn warning(a: &Args) -> String {
    let mut w = String::from("WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n");
    if a.volumes {
        w.push_str("  - all anonymous volumes not used by at least one container\n");
    }
    if a.all {
        w.push_str("  - all images without at least one container associated to them\n  - all build cache\n");
    } else {
        w.push_str("  - all dangling images\n  - unused build cache\n");
    }
    if !a.filter.is_empty() {
        let mut f = a.filter.clone();
        f.sort();
        w.push_str("\n  Items to be pruned will be filtered with:\n");
        for x in f {
            w.push_str(&format!("  - {x}\n"));
        }
    }
    w
}

/// A section of the report: a title and one line per deleted object.
fn section(title: &str, lines: &[String]) -> String {
    lines.iter().fold(format!("{title}:\n"), |acc, l| acc + l + "\n")
}

pub async fn run(client: &Client, a: Args) -> anyhow::Result<()> {
    let mut f = Filters::new();
    for x in &a.filter {
        f.add_arg(x).map_err(anyhow::Error::msg)?;
    }
    // Volumes carry no creation time to compare, so docker refuses this too.
    if a.volumes && !f.get("until").is_empty() {
        anyhow::bail!("ERROR: The \"until\" filter is not supported with \"--volumes\"");
    }
    // The warning ends in a newline; confirm's own adds docker's blank line.
    if !a.force && !confirm(&warning(&a)) {
        return Ok(());
    }
    let q = || Query::new().filters(&f);
    let mut space: u64 = 0;
    let mut out = Vec::new();

    let r: PruneResponse = client.post_json("/containers/prune", &q(), None::<&()>).await?;
    let deleted = r.containers_deleted.unwrap_or_default();
    if !deleted.is_empty() {
        out.push(section("Deleted Containers", &deleted));
        space += r.space_reclaimed;
    }
    let r: NetworkPruneResponse = client.post_json("/networks/prune", &q(), None::<&()>).await?;
    if !r.networks_deleted.is_empty() {
        out.push(section("Deleted Networks", &r.networks_deleted));
    }
    if a.volumes {
        let r: VolumePruneResponse = client.post_json("/volumes/prune", &q(), None::<&()>).await?;
        let deleted = r.volumes_deleted.unwrap_or_default();
        if !deleted.is_empty() {
            out.push(section("Deleted Volumes", &deleted));
            space += r.space_reclaimed;
        }
    }
    let mut images = f.clone();
    images.add("dangling", if a.all { "false" } else { "true" });
    let r: Value = client.post_json("/images/prune", &Query::new().filters(&images), None::<&()>).await?;
    let deleted: Vec<String> = r
        .get("ImagesDeleted")
        .and_then(Value::as_array)
        .map(|items| items.iter().map(image_line).collect())
        .unwrap_or_default();
    if !deleted.is_empty() {
        out.push(section("Deleted Images", &deleted));
        space += r.get("SpaceReclaimed").and_then(Value::as_u64).unwrap_or(0);
    }
    match client.post_json::<Value, ()>("/build/prune", &q().flag("all", a.all), None).await {
        Ok(r) => {
            let caches: Vec<String> = r
                .get("CachesDeleted")
                .and_then(Value::as_array)
                .map(|c| c.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            if !caches.is_empty() {
                out.push(section("Deleted build cache objects", &caches));
                space += r.get("SpaceReclaimed").and_then(Value::as_u64).unwrap_or(0);
            }
        }
        // An older berthd has no build endpoint, and so no cache to free.
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e.into()),
    }
    for s in out {
        println!("{s}");
    }
    println!("Total reclaimed space: {}", human_size(space as f64));
    Ok(())
}

fn image_line(d: &Value) -> String {
    match d.get("Untagged").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        Some(u) => format!("untagged: {u}"),
        None => format!("deleted: {}", d.get("Deleted").and_then(Value::as_str).unwrap_or("")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(all: bool, volumes: bool, filter: &[&str]) -> Args {
        Args { all, volumes, force: false, filter: filter.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn warning_lists_what_goes() {
        assert_eq!(
            warning(&args(false, false, &[])),
            "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all dangling images\n  - unused build cache\n"
        );
        let w = warning(&args(true, true, &["until=1h", "label=a=b"]));
        assert!(w.contains("anonymous volumes not used by at least one container\n  - all images without"), "{w}");
        assert!(w.ends_with("all build cache\n\n  Items to be pruned will be filtered with:\n  - label=a=b\n  - until=1h\n"), "{w}");
    }

    #[test]
    fn report_sections() {
        assert_eq!(section("Deleted Networks", &["a".into(), "b".into()]), "Deleted Networks:\na\nb\n");
        assert_eq!(image_line(&serde_json::json!({"Deleted": "sha256:x"})), "deleted: sha256:x");
        assert_eq!(image_line(&serde_json::json!({"Untagged": "foo:bar"})), "untagged: foo:bar");
    }
}
