//! `berth compose ps`: the project's containers as Compose v2 lists them
//! (NAME IMAGE COMMAND SERVICE CREATED STATUS PORTS; `--format json` one
//! object a line), one-off containers included, sorted by name.

use super::session::{name_of, service_of, OneOff, Session};
use super::Global;
use crate::format::template::Format;
use crate::format::{duration, ellipsis, go_quote, ports};
use berth_api::container::ContainerSummary;
use berth_client::Client;
use berth_compose::plan::label;
use serde_json::{json, Value};

const DEFAULT_FORMAT: &str = "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}";
const STATES: [&str; 7] = ["paused", "restarting", "removing", "running", "dead", "created", "exited"];

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show all stopped containers (including those created by the run command)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Filter services by a property (supported filters: status)
    #[arg(long)]
    pub filter: Option<String>,
    /// Format output using a custom template: 'table' (default), 'json', or a Go template
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Include orphaned services (not declared by project)
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub orphans: bool,
    /// Only display IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Display services
    #[arg(long)]
    pub services: bool,
    /// Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]
    #[arg(long)]
    pub status: Vec<String>,
    #[arg(value_name = "SERVICE")]
    pub names: Vec<String>,
}

/// The states asked for by `--status` and `--filter status=`.
fn wanted_states(args: &Args) -> anyhow::Result<Vec<String>> {
    let mut states = args.status.clone();
    if let Some(f) = &args.filter {
        match f.split_once('=') {
            Some(("status", v)) => states.push(v.to_string()),
            _ => anyhow::bail!("unknown filter {}", f.split_once('=').map_or(f.as_str(), |(k, _)| k)),
        }
    }
    for s in &states {
        if !STATES.contains(&s.as_str()) {
            anyhow::bail!("invalid filter 'status={s}'");
        }
    }
    Ok(states)
}

pub fn header() -> Value {
    json!({
        "ID": "CONTAINER ID", "Name": "NAME", "Names": "NAMES", "Image": "IMAGE", "Command": "COMMAND",
        "Project": "PROJECT", "Service": "SERVICE", "CreatedAt": "CREATED AT", "RunningFor": "CREATED",
        "State": "STATE", "Status": "STATUS", "Health": "HEALTH", "ExitCode": "EXIT CODE", "Ports": "PORTS",
        "Labels": "LABELS", "Networks": "NETWORKS", "Mounts": "MOUNTS", "LocalVolumes": "LOCAL VOLUMES", "Size": "SIZE",
    })
}

/// `Exited (N) …` → N.
fn exit_code(status: &str) -> i64 {
    status
        .strip_prefix("Exited (")
        .and_then(|r| r.split(')').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn health(status: &str) -> &'static str {
    if status.contains("(healthy)") {
        "healthy"
    } else if status.contains("(unhealthy)") {
        "unhealthy"
    } else if status.contains("(health: starting)") {
        "starting"
    } else {
        ""
    }
}

/// The fields of Compose's container formatter, as strings (`ExitCode`
/// and `Publishers` as in its JSON).
pub fn row(c: &ContainerSummary, trunc: bool, now: f64) -> Value {
    let command = if trunc { ellipsis(&c.command, 20) } else { c.command.clone() };
    let mut labels: Vec<String> = c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    labels.sort();
    let mut nets: Vec<String> =
        c.network_settings.get("Networks").and_then(Value::as_object).map(|n| n.keys().cloned().collect()).unwrap_or_default();
    nets.sort();
    let publishers: Vec<Value> = c
        .ports
        .iter()
        .map(|p| {
            json!({
                "URL": p.get("IP").and_then(Value::as_str).unwrap_or(""),
                "TargetPort": p.get("PrivatePort").and_then(Value::as_u64).unwrap_or(0),
                "PublishedPort": p.get("PublicPort").and_then(Value::as_u64).unwrap_or(0),
                "Protocol": p.get("Type").and_then(Value::as_str).unwrap_or(""),
            })
        })
        .collect();
    let mounts: Vec<String> = c.mounts.iter().map(|m| if m.name.is_empty() { m.source.clone() } else { m.name.clone() }).collect();
    json!({
        "ID": if trunc { crate::format::truncate_id(&c.id) } else { c.id.clone() },
        "Name": name_of(c),
        "Names": name_of(c),
        "Image": c.image,
        "Command": go_quote(&command),
        "Project": c.labels.get(label::PROJECT).cloned().unwrap_or_default(),
        "Service": service_of(c).unwrap_or(""),
        "CreatedAt": duration::go_time_string(c.created),
        "RunningFor": format!("{} ago", duration::human_duration(now - c.created as f64)),
        "State": c.state,
        "Status": c.status,
        "Health": health(&c.status),
        "ExitCode": exit_code(&c.status),
        "Ports": ports::displayable(&c.ports),
        "Publishers": publishers,
        "Labels": labels.join(","),
        "Networks": nets.join(","),
        "Mounts": mounts.join(","),
        "LocalVolumes": c.mounts.iter().filter(|m| m.driver == "local").count().to_string(),
        "Size": crate::format::size::image_size(c.size_rw.unwrap_or(0)),
    })
}

pub async fn run(client: &Client, global: &Global, args: Args) -> anyhow::Result<()> {
    let states = wanted_states(&args)?;
    let s = Session::load(client, global, &args.names)?;
    s.check_services(&args.names)?;
    let all = args.all || !states.is_empty();
    let mut list = s.containers(all, OneOff::Include, &args.names).await?;
    if !states.is_empty() {
        list.retain(|c| states.contains(&c.state));
    }
    if !args.orphans {
        list.retain(|c| service_of(c).is_some_and(|svc| s.project.services.contains_key(svc)));
    }
    list.sort_by(|a, b| name_of(a).cmp(name_of(b)));
    if args.quiet {
        for c in &list {
            println!("{}", c.id);
        }
        return Ok(());
    }
    if args.services {
        let mut seen: Vec<&str> = Vec::new();
        for c in &list {
            if let Some(svc) = service_of(c).filter(|svc| !seen.contains(svc)) {
                seen.push(svc);
                println!("{svc}");
            }
        }
        return Ok(());
    }
    let format = match args.format.as_str() {
        "" | "table" => Format::parse(DEFAULT_FORMAT)?,
        f => Format::parse(f)?,
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    let rows: Vec<Value> = list.iter().map(|c| row(c, !args.no_trunc, now)).collect();
    print!("{}", format.render(&header(), &rows)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> ContainerSummary {
        let mut c = ContainerSummary {
            id: "0123456789abcdef0123".into(),
            names: vec!["/app-web-1".into()],
            image: "busybox".into(),
            command: "sleep 1000000000000000000".into(),
            created: 1000,
            status: "Exited (3) 2 seconds ago".into(),
            state: "exited".into(),
            ports: vec![json!({"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"})],
            ..Default::default()
        };
        c.labels.insert(label::PROJECT.into(), "app".into());
        c.labels.insert(label::SERVICE.into(), "web".into());
        c
    }

    #[test]
    fn renders_compose_table() {
        let out = Format::parse(DEFAULT_FORMAT).unwrap().render(&header(), &[row(&summary(), true, 1005.0)]).unwrap();
        let want = "NAME        IMAGE     COMMAND                  SERVICE   CREATED         STATUS                     PORTS\n\
                    app-web-1   busybox   \"sleep 1000000000000…\"   web       5 seconds ago   Exited (3) 2 seconds ago   0.0.0.0:8080->80/tcp\n";
        assert_eq!(out, want);
    }

    #[test]
    fn json_fields() {
        let r = row(&summary(), true, 1005.0);
        assert_eq!(r["ExitCode"], 3);
        assert_eq!(r["Project"], "app");
        assert_eq!(r["Publishers"][0]["PublishedPort"], 8080);
        assert_eq!(health("Up 3 seconds (healthy)"), "healthy");
    }

    #[test]
    fn status_filters() {
        let a = Args {
            all: false,
            filter: Some("status=running".into()),
            format: "table".into(),
            no_trunc: false,
            orphans: true,
            quiet: false,
            services: false,
            status: vec!["exited".into()],
            names: vec![],
        };
        assert_eq!(wanted_states(&a).unwrap(), ["exited", "running"]);
        let bad = Args { status: vec!["sleeping".into()], filter: None, ..a };
        assert_eq!(wanted_states(&bad).unwrap_err().to_string(), "invalid filter 'status=sleeping'");
    }
}
