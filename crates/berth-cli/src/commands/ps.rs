//! `berth ps`: list containers as docker's container formatter does.

use crate::format::template::Format;
use crate::format::{duration, ellipsis, go_quote, ports, size, truncate_id};
use crate::reference::Reference;
use berth_api::container::ContainerSummary;
use berth_client::{Client, Filters, Query};
use serde_json::{json, Map, Value};

const DEFAULT_FORMAT: &str = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long = "all")]
    pub all: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter", value_name = "FILTER")]
    pub filter: Vec<String>,
    /// Format output using a custom template
    #[arg(long)]
    pub format: Option<String>,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long = "last", default_value_t = -1, allow_negative_numbers = true)]
    pub last: i64,
    /// Show the latest created container (includes all states)
    #[arg(short = 'l', long = "latest")]
    pub latest: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only display container IDs
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Display total file sizes
    #[arg(short = 's', long = "size")]
    pub size: bool,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let format_text = choose_format(&args);
    let format = Format::parse(&format_text)?;
    let mut filters = Filters::new();
    for f in &args.filter {
        filters.add_arg(f).map_err(anyhow::Error::msg)?;
    }
    let mut limit = args.last;
    if args.latest && limit == -1 {
        limit = 1;
    }
    let want_size = args.size || format_text.contains(".Size");
    let mut q = Query::new().flag("all", args.all).flag("size", want_size).filters(&filters);
    if limit > 0 {
        q = q.add("limit", limit.to_string());
    }
    let list: Vec<ContainerSummary> = client.get_json("/containers/json", &q).await?;
    let now = now_secs();
    let trunc = !args.no_trunc;
    let json_mode = format_text == "json";
    let rows: Vec<Value> = list
        .iter()
        .map(|c| {
            let mut r = row(c, trunc, now);
            if json_mode {
                if let Some(m) = r.as_object_mut() {
                    m.remove("Label");
                }
            }
            r
        })
        .collect();
    print!("{}", format.render(&header(), &rows)?);
    Ok(())
}

fn choose_format(args: &Args) -> String {
    match args.format.as_deref() {
        None | Some("") | Some("table") if args.quiet => "{{.ID}}".to_string(),
        None | Some("") | Some("table") => {
            if args.size {
                format!("{DEFAULT_FORMAT}\t{{{{.Size}}}}")
            } else {
                DEFAULT_FORMAT.to_string()
            }
        }
        Some(f) => f.to_string(),
    }
}

fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

pub fn header() -> Value {
    json!({
        "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
        "RunningFor": "CREATED", "Ports": "PORTS", "Status": "STATUS", "Size": "SIZE", "Names": "NAMES",
        "Labels": "LABELS", "Label": "LABEL", "State": "STATE", "Mounts": "MOUNTS", "Networks": "NETWORKS",
        "LocalVolumes": "LOCAL VOLUMES",
    })
}

/// The fields docker's `ContainerContext` exposes, as strings.
pub fn row(c: &ContainerSummary, trunc: bool, now: f64) -> Value {
    let mut m = Map::new();
    let s = |v: String| Value::String(v);
    m.insert("ID".into(), s(if trunc { truncate_id(&c.id) } else { c.id.clone() }));
    m.insert("Image".into(), s(image_name(c, trunc)));
    let command = if trunc { ellipsis(&c.command, 20) } else { c.command.clone() };
    m.insert("Command".into(), s(go_quote(&command)));
    m.insert("CreatedAt".into(), s(duration::go_time_string(c.created)));
    m.insert("RunningFor".into(), s(format!("{} ago", duration::human_duration(now - c.created as f64))));
    m.insert("Ports".into(), s(ports::displayable(&c.ports)));
    m.insert("Status".into(), s(c.status.clone()));
    m.insert("State".into(), s(c.state.clone()));
    let srw = size::image_size(c.size_rw.unwrap_or(0));
    let size_text = match c.size_root_fs {
        Some(v) if v > 0 => format!("{srw} (virtual {})", size::image_size(v)),
        _ => srw,
    };
    m.insert("Size".into(), s(size_text));
    m.insert("Names".into(), s(names(&c.names, trunc)));
    let mut labels: Vec<String> = c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    labels.sort();
    m.insert("Labels".into(), s(labels.join(",")));
    m.insert("Label".into(), serde_json::to_value(&c.labels).unwrap_or(Value::Null));
    m.insert("Mounts".into(), s(mounts(&c.mounts, trunc)));
    m.insert("LocalVolumes".into(), s(c.mounts.iter().filter(|v| v.driver == "local").count().to_string()));
    let mut nets: Vec<String> = c
        .network_settings
        .get("Networks")
        .and_then(Value::as_object)
        .map(|n| n.keys().cloned().collect())
        .unwrap_or_default();
    nets.sort();
    m.insert("Networks".into(), s(nets.join(",")));
    Value::Object(m)
}

fn names(names: &[String], trunc: bool) -> String {
    let stripped: Vec<&str> = names.iter().map(|n| n.strip_prefix('/').unwrap_or(n)).collect();
    if trunc {
        // Links show up as extra names with a '/' in them; keep the real one.
        if let Some(n) = stripped.iter().find(|n| !n.contains('/')) {
            return n.to_string();
        }
    }
    stripped.join(",")
}

fn image_name(c: &ContainerSummary, trunc: bool) -> String {
    if c.image.is_empty() {
        return "<no image>".to_string();
    }
    if trunc {
        if !c.image_id.is_empty() && truncate_id(&c.image_id) == truncate_id(&c.image) {
            return truncate_id(&c.image);
        }
        if let Ok(r) = Reference::parse(&c.image) {
            let mut out = r.familiar_name();
            if let Some(t) = &r.tag {
                out.push(':');
                out.push_str(t);
            }
            return out;
        }
    }
    c.image.clone()
}

fn mounts(mounts: &[berth_api::volume::MountPoint], trunc: bool) -> String {
    mounts
        .iter()
        .map(|m| {
            let name = if m.name.is_empty() { m.source.as_str() } else { m.name.as_str() };
            if trunc {
                ellipsis(name, 15)
            } else {
                name.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> ContainerSummary {
        ContainerSummary {
            id: "0123456789abcdef0123".into(),
            names: vec!["/web".into(), "/other/alias".into()],
            image: "docker.io/library/busybox:latest".into(),
            image_id: "sha256:ffff".into(),
            command: "sleep 1000000000000000000".into(),
            created: 1000,
            status: "Up 2 minutes".into(),
            state: "running".into(),
            ..Default::default()
        }
    }

    #[test]
    fn renders_docker_table() {
        let rows = vec![row(&summary(), true, 1005.0)];
        let out = Format::parse(DEFAULT_FORMAT).unwrap().render(&header(), &rows).unwrap();
        let want = "CONTAINER ID   IMAGE            COMMAND                  CREATED         STATUS         PORTS     NAMES\n\
                    0123456789ab   busybox:latest   \"sleep 1000000000000…\"   5 seconds ago   Up 2 minutes             web\n";
        assert_eq!(out, want);
    }

    #[test]
    fn empty_list_prints_header_only() {
        let out = Format::parse(DEFAULT_FORMAT).unwrap().render(&header(), &[]).unwrap();
        assert_eq!(out, "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n");
    }

    #[test]
    fn untruncated_and_custom_fields() {
        let r = row(&summary(), false, 1000.0 + 7200.0);
        assert_eq!(r["ID"], "0123456789abcdef0123");
        assert_eq!(r["Names"], "web,other/alias");
        assert_eq!(r["RunningFor"], "2 hours ago");
        assert_eq!(r["Size"], "0B");
        let f = Format::parse("{{.Names}}: {{.Status}}").unwrap();
        assert_eq!(f.render(&header(), &[r]).unwrap(), "web,other/alias: Up 2 minutes\n");
    }

    #[test]
    fn chooses_formats() {
        let a = Args { all: false, filter: vec![], format: None, last: -1, latest: false, no_trunc: false, quiet: true, size: false };
        assert_eq!(choose_format(&a), "{{.ID}}");
        let a = Args { quiet: false, size: true, ..a };
        assert!(choose_format(&a).ends_with("\t{{.Size}}"));
    }
}
