//! `berth system`: `df` (disk usage summary, as docker's disk-usage
//! formatter), and `info`/`events` under their `system` names.

use crate::format::size::human_size;
use crate::format::template::Format;
use berth_api::system::DiskUsage;
use berth_client::{Client, Query};
use serde_json::{json, Value};

#[derive(clap::Subcommand, Debug)]
pub enum SystemCommand {
    /// Disk space used by images, containers, volumes and build cache
    Df(DfArgs),
    /// Show what the daemon runs and how it is set up
    Info(super::info::Args),
    /// Stream the daemon's events as they happen
    Events(super::events::Args),
    /// Remove stopped containers, unused networks, dangling images (and more)
    Prune(super::system_prune::Args),
}

#[derive(clap::Args, Debug)]
pub struct DfArgs {
    /// Show every image, container and volume with its usage
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Go template for each row, or "table TEMPLATE"
    #[arg(long)]
    pub format: Option<String>,
}

const DEFAULT_FORMAT: &str = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";

pub async fn run(client: &Client, cmd: SystemCommand) -> anyhow::Result<()> {
    match cmd {
        SystemCommand::Df(a) => df(client, a).await,
        SystemCommand::Info(a) => super::info::run(client, a).await,
        SystemCommand::Events(a) => super::events::run(client, a).await,
        SystemCommand::Prune(a) => super::system_prune::run(client, a).await,
    }
}

async fn df(client: &Client, args: DfArgs) -> anyhow::Result<()> {
    let du: DiskUsage = client.get_json("/system/df", &Query::new()).await?;
    if args.verbose && matches!(args.format.as_deref(), None | Some("") | Some("table")) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        print!("{}", super::df_verbose::render(&du, now)?);
        return Ok(());
    }
    let format = Format::parse(match args.format.as_deref() {
        None | Some("") | Some("table") => DEFAULT_FORMAT,
        Some(f) => f,
    })?;
    let header = json!({"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE"});
    print!("{}", format.render(&header, &rows(&du))?);
    Ok(())
}

/// `reclaimable` with its share of `total`, as docker prints it.
fn reclaimable(reclaimable: i64, total: i64) -> String {
    let r = human_size(reclaimable as f64);
    if total > 0 {
        format!("{r} ({}%)", reclaimable * 100 / total)
    } else {
        r
    }
}

fn row(kind: &str, total: usize, active: usize, size: i64, reclaim: String) -> Value {
    json!({"Type": kind, "TotalCount": total.to_string(), "Active": active.to_string(), "Size": human_size(size as f64), "Reclaimable": reclaim})
}

/// The four summary rows: what each kind holds, how much of it is in use,
/// and what a prune could free.
fn rows(du: &DiskUsage) -> Vec<Value> {
    let images = du.images.as_deref().unwrap_or_default();
    let in_use: Vec<_> = images.iter().filter(|i| i.containers > 0).collect();
    let used: i64 = in_use.iter().filter(|i| i.size != -1 && i.shared_size != -1).map(|i| i.size - i.shared_size).sum();
    let containers = du.containers.as_deref().unwrap_or_default();
    let active = |state: &str| ["running", "paused", "restarting"].contains(&state);
    let c_total: i64 = containers.iter().filter_map(|c| c.size_rw).sum();
    let c_free: i64 = containers.iter().filter(|c| !active(&c.state)).filter_map(|c| c.size_rw).sum();
    let volumes = du.volumes.as_deref().unwrap_or_default();
    let usage = |v: &berth_api::volume::Volume| v.usage_data.clone().unwrap_or_default();
    let v_total: i64 = volumes.iter().map(|v| usage(v).size).filter(|s| *s != -1).sum();
    let v_free: i64 = volumes.iter().map(usage).filter(|u| u.ref_count == 0 && u.size != -1).map(|u| u.size).sum();
    let cache = du.build_cache.as_deref().unwrap_or_default();
    vec![
        row("Images", images.len(), in_use.len(), du.layers_size, reclaimable(du.layers_size - used, du.layers_size)),
        row("Containers", containers.len(), containers.iter().filter(|c| active(&c.state)).count(), c_total, reclaimable(c_free, c_total)),
        row("Local Volumes", volumes.len(), volumes.iter().filter(|v| usage(v).ref_count > 0).count(), v_total, reclaimable(v_free, v_total)),
        // berth has no builder, so the cache is always empty.
        row("Build Cache", cache.len(), 0, 0, reclaimable(0, 0)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_rows_like_docker() {
        let du: DiskUsage = serde_json::from_value(json!({
            "LayersSize": 4_000_000,
            "Images": [{"Id": "a", "Size": 4_000_000, "SharedSize": 0, "Containers": 1}],
            "Containers": [{"Id": "x", "State": "running", "SizeRw": 1000}, {"Id": "y", "State": "exited", "SizeRw": 3000}],
            "Volumes": [{"Name": "v", "UsageData": {"Size": 500, "RefCount": 0}}],
            "BuildCache": []
        }))
        .expect("valid");
        let r = rows(&du);
        assert_eq!(r[0], json!({"Type": "Images", "TotalCount": "1", "Active": "1", "Size": "4MB", "Reclaimable": "0B (0%)"}));
        assert_eq!(r[1]["Reclaimable"], "3kB (75%)");
        assert_eq!(r[1]["Active"], "1");
        assert_eq!(r[2]["Reclaimable"], "500B (100%)");
        assert_eq!(r[3], json!({"Type": "Build Cache", "TotalCount": "0", "Active": "0", "Size": "0B", "Reclaimable": "0B"}));
    }
}
