//! `berth volume create|ls|inspect|rm|prune`, with docker's output.

use super::prune::confirm;
use crate::envfile::labels_to_map;
use crate::exit::{describe, joined};
use crate::format::size::human_size;
use crate::format::template::Format;
use berth_api::volume::{Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneResponse};
use berth_client::{segment, Client, Filters, Method, Query, RequestBody};
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(clap::Subcommand, Debug)]
pub enum VolumeCommand {
    /// Create a volume
    Create(CreateArgs),
    /// List volumes
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more volumes
    Inspect(InspectArgs),
    /// Remove one or more volumes
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Remove unused local volumes
    Prune(PruneArgs),
}

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// Specify volume driver name
    #[arg(short = 'd', long, default_value = "local")]
    pub driver: String,
    /// Set metadata for a volume
    #[arg(long)]
    pub label: Vec<String>,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt")]
    pub opt: Vec<String>,
    /// Specify volume name
    #[arg(long, hide = true)]
    pub name: Option<String>,
    pub volume: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct LsArgs {
    /// Provide filter values (e.g. "dangling=true")
    #[arg(short = 'f', long)]
    pub filter: Vec<String>,
    /// Format output using a custom template
    #[arg(long)]
    pub format: Option<String>,
    /// Only display volume names
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub volumes: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct RmArgs {
    /// Force the removal of one or more volumes
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(required = true)]
    pub volumes: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused volumes, not just anonymous ones
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Provide filter values (e.g. "label=<label>")
    #[arg(long)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

pub async fn run(client: &Client, cmd: VolumeCommand) -> anyhow::Result<()> {
    match cmd {
        VolumeCommand::Create(a) => create(client, a).await,
        VolumeCommand::Ls(a) => ls(client, a).await,
        VolumeCommand::Inspect(a) => inspect(client, a).await,
        VolumeCommand::Rm(a) => rm(client, a).await,
        VolumeCommand::Prune(a) => prune(client, a).await,
    }
}

fn key_values(list: &[String]) -> Option<BTreeMap<String, String>> {
    if list.is_empty() {
        return None;
    }
    Some(list.iter().map(|kv| kv.split_once('=').map_or((kv.clone(), String::new()), |(k, v)| (k.into(), v.into()))).collect())
}

async fn create(client: &Client, a: CreateArgs) -> anyhow::Result<()> {
    let name = match (&a.name, &a.volume) {
        (Some(n), Some(v)) if n != v => {
            anyhow::bail!("conflicting options: cannot specify a volume-name through both --name and as a positional arg")
        }
        (Some(n), _) => n.clone(),
        (None, Some(v)) => v.clone(),
        (None, None) => String::new(),
    };
    let req = VolumeCreateRequest {
        name,
        driver: a.driver,
        driver_opts: key_values(&a.opt),
        labels: if a.label.is_empty() { None } else { Some(labels_to_map(&a.label)) },
    };
    let v: Volume = client.post_json("/volumes/create", &Query::new(), Some(&req)).await?;
    println!("{}", v.name);
    Ok(())
}

const LS_FORMAT: &str = "table {{.Driver}}\t{{.Name}}";

async fn ls(client: &Client, a: LsArgs) -> anyhow::Result<()> {
    let mut f = Filters::new();
    for x in &a.filter {
        f.add_arg(x).map_err(anyhow::Error::msg)?;
    }
    let mut list: VolumeListResponse = client.get_json("/volumes", &Query::new().filters(&f)).await?;
    list.volumes.sort_by(|x, y| x.name.cmp(&y.name));
    let text = match a.format.as_deref() {
        None | Some("") | Some("table") if a.quiet => "{{.Name}}",
        None | Some("") | Some("table") => LS_FORMAT,
        Some(f) => f,
    };
    let format = Format::parse(text)?;
    let header = json!({"Driver": "DRIVER", "Name": "VOLUME NAME", "Scope": "SCOPE", "Mountpoint": "MOUNTPOINT", "Labels": "LABELS", "Links": "LINKS", "Size": "SIZE", "CreatedAt": "CREATED"});
    let rows: Vec<Value> = list.volumes.iter().map(row).collect();
    print!("{}", format.render(&header, &rows)?);
    Ok(())
}

fn row(v: &Volume) -> Value {
    let labels: Vec<String> = v.labels.iter().flatten().map(|(k, val)| format!("{k}={val}")).collect();
    json!({
        "Driver": v.driver, "Name": v.name, "Scope": v.scope, "Mountpoint": v.mountpoint,
        "Labels": labels.join(","), "Links": "N/A", "Size": "N/A", "CreatedAt": v.created_at,
    })
}

async fn inspect(client: &Client, a: InspectArgs) -> anyhow::Result<()> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for name in &a.volumes {
        match client.bytes(Method::GET, &format!("/volumes/{}", segment(name)), &Query::new(), RequestBody::Empty).await {
            Ok(b) => found.push(String::from_utf8_lossy(&b).into_owned()),
            Err(e) => errors.push(describe(&e)),
        }
    }
    print!("{}", super::inspect::render(&found, a.format.as_deref())?);
    joined(errors)
}

async fn rm(client: &Client, a: RmArgs) -> anyhow::Result<()> {
    let q = Query::new().flag("force", a.force);
    let mut errors = Vec::new();
    for name in &a.volumes {
        match client.delete(&format!("/volumes/{}", segment(name)), &q).await {
            Ok(()) => println!("{name}"),
            Err(e) => errors.push(describe(&e)),
        }
    }
    joined(errors)
}

async fn prune(client: &Client, a: PruneArgs) -> anyhow::Result<()> {
    let mut f = Filters::new();
    for x in &a.filter {
        f.add_arg(x).map_err(anyhow::Error::msg)?;
    }
    if a.all {
        if !f.get("all").is_empty() {
            anyhow::bail!("conflicting options: cannot specify both --all and --filter all=1");
        }
        f.add("all", "true");
    }
    let warning = if a.all {
        "WARNING! This will remove all local volumes not used by at least one container."
    } else {
        "WARNING! This will remove anonymous local volumes not used by at least one container."
    };
    if !a.force && !confirm(warning) {
        return Ok(());
    }
    let r: VolumePruneResponse = client.post_json("/volumes/prune", &Query::new().filters(&f), None::<&()>).await?;
    let deleted = r.volumes_deleted.unwrap_or_default();
    let mut space = 0;
    if !deleted.is_empty() {
        println!("Deleted Volumes:\n{}\n", deleted.join("\n"));
        space = r.space_reclaimed;
    }
    println!("Total reclaimed space: {}", human_size(space as f64));
    Ok(())
}
