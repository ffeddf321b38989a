//! `berth network create|ls|inspect|rm|prune|connect|disconnect`, with
//! docker's output.

use super::prune::confirm;
use crate::envfile::labels_to_map;
use crate::exit::{describe, joined};
use crate::format::template::Format;
use crate::format::truncate_id;
use berth_api::network::{Ipam, IpamConfig, Network, NetworkCreateRequest, NetworkCreateResponse, NetworkPruneResponse};
use berth_client::{segment, Client, Filters, Method, Query, RequestBody};
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(clap::Subcommand, Debug)]
pub enum NetworkCommand {
    /// Connect a container to a network
    Connect(ConnectArgs),
    /// Create a network
    Create(CreateArgs),
    /// Disconnect a container from a network
    Disconnect(DisconnectArgs),
    /// Display detailed information on one or more networks
    Inspect(InspectArgs),
    /// List networks
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Remove all unused networks
    Prune(PruneArgs),
    /// Remove one or more networks
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
}

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// Driver to manage the Network
    #[arg(short = 'd', long, default_value = "bridge")]
    pub driver: String,
    /// Subnet in CIDR format that represents a network segment
    #[arg(long)]
    pub subnet: Vec<String>,
    /// IPv4 or IPv6 Gateway for the master subnet
    #[arg(long)]
    pub gateway: Vec<String>,
    /// Allocate container ip from a sub-range
    #[arg(long = "ip-range")]
    pub ip_range: Vec<String>,
    /// Restrict external access to the network
    #[arg(long)]
    pub internal: bool,
    /// Enable manual container attachment
    #[arg(long)]
    pub attachable: bool,
    /// Set metadata on a network
    #[arg(long)]
    pub label: Vec<String>,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt")]
    pub opt: Vec<String>,
    /// IP Address Management Driver
    #[arg(long = "ipam-driver", default_value = "default")]
    pub ipam_driver: String,
    /// Auxiliary IPv4 or IPv6 addresses used by Network driver (name=address)
    #[arg(long = "aux-address")]
    pub aux_address: Vec<String>,
    /// Enable or disable IPv6 networking
    #[arg(long)]
    pub ipv6: bool,
    pub name: String,
}

#[derive(clap::Args, Debug)]
pub struct LsArgs {
    /// Provide filter values (e.g. "driver=bridge")
    #[arg(short = 'f', long)]
    pub filter: Vec<String>,
    /// Format output using a custom template
    #[arg(long)]
    pub format: Option<String>,
    /// Do not truncate the output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only display network IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Verbose output for diagnostics
    #[arg(short = 'v', long)]
    pub verbose: bool,
    #[arg(required = true)]
    pub networks: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct RmArgs {
    /// Do not error if the network does not exist
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(required = true)]
    pub networks: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct PruneArgs {
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long)]
    pub filter: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

#[derive(clap::Args, Debug)]
pub struct ConnectArgs {
    /// Add network-scoped alias for the container
    #[arg(long)]
    pub alias: Vec<String>,
    /// IPv4 address (e.g., "172.30.100.104")
    #[arg(long)]
    pub ip: Option<String>,
    /// IPv6 address (e.g., "2001:db8::33")
    #[arg(long)]
    pub ip6: Option<String>,
    /// Add link to another container
    #[arg(long)]
    pub link: Vec<String>,
    /// Add a link-local address for the container
    #[arg(long = "link-local-ip")]
    pub link_local_ip: Vec<String>,
    /// driver options for the network
    #[arg(long = "driver-opt")]
    pub driver_opt: Vec<String>,
    pub network: String,
    pub container: String,
}

#[derive(clap::Args, Debug)]
pub struct DisconnectArgs {
    /// Force the container to disconnect from a network
    #[arg(short = 'f', long)]
    pub force: bool,
    pub network: String,
    pub container: String,
}

pub async fn run(client: &Client, cmd: NetworkCommand) -> anyhow::Result<()> {
    match cmd {
        NetworkCommand::Create(a) => create(client, a).await,
        NetworkCommand::Ls(a) => ls(client, a).await,
        NetworkCommand::Inspect(a) => inspect(client, a).await,
        NetworkCommand::Rm(a) => rm(client, a).await,
        NetworkCommand::Prune(a) => prune(client, a).await,
        NetworkCommand::Connect(a) => connect(client, a).await,
        NetworkCommand::Disconnect(a) => disconnect(client, a).await,
    }
}

/// An address as a 128-bit number and its width (32 or 128).
fn ip_bits(ip: &str) -> Option<(u128, u32)> {
    match ip.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(a) => Some((u128::from(u32::from(a)), 32)),
        std::net::IpAddr::V6(a) => Some((u128::from(a), 128)),
    }
}

fn parse_cidr(s: &str) -> Option<(u128, u32, u32)> {
    let (ip, len) = s.split_once('/')?;
    let (ip, width) = ip_bits(ip)?;
    let len: u32 = len.parse().ok().filter(|l| *l <= width)?;
    let mask = if len == 0 { 0 } else { (u128::MAX >> (128 - width)) & !((1u128 << (width - len)) - 1) };
    Some((ip & mask, len, width))
}

/// docker's `subnetMatches`: `inner` (an address or CIDR) lies in `subnet`
/// (either family; a different family never matches).
fn subnet_matches(subnet: &str, inner: &str) -> Result<bool, String> {
    let (net, len, width) = parse_cidr(subnet).ok_or_else(|| format!("invalid subnet: invalid CIDR address: {subnet}"))?;
    let ip = inner.split('/').next().unwrap_or("");
    let (ip, w) = ip_bits(ip).ok_or_else(|| format!("invalid CIDR address: {inner}"))?;
    if w != width {
        return Ok(false);
    }
    let mask = if len == 0 { 0 } else { (u128::MAX >> (128 - width)) & !((1u128 << (width - len)) - 1) };
    Ok(ip & mask == net)
}

/// docker's `createIPAMConfig` for one address family.
fn ipam_config(a: &CreateArgs) -> Result<Vec<IpamConfig>, String> {
    if a.subnet.len() < a.ip_range.len() || a.subnet.len() < a.gateway.len() {
        return Err("every ip-range or gateway must have a corresponding subnet".into());
    }
    let mut out: Vec<IpamConfig> = a.subnet.iter().map(|s| IpamConfig { subnet: s.clone(), ..Default::default() }).collect();
    for r in &a.ip_range {
        let mut matched = false;
        for c in out.iter_mut() {
            if !subnet_matches(&c.subnet, r)? {
                continue;
            }
            if let Some(old) = &c.ip_range {
                return Err(format!("cannot configure multiple ranges ({r}, {old}) on the same subnet ({})", c.subnet));
            }
            c.ip_range = Some(r.clone());
            matched = true;
        }
        if !matched {
            return Err(format!("no matching subnet for range {r}"));
        }
    }
    for g in &a.gateway {
        let mut matched = false;
        for c in out.iter_mut() {
            if !subnet_matches(&c.subnet, g)? {
                continue;
            }
            if !c.gateway.is_empty() {
                return Err(format!("cannot configure multiple gateways ({g}, {}) for the same subnet ({})", c.gateway, c.subnet));
            }
            c.gateway = g.clone();
            matched = true;
        }
        if !matched {
            return Err(format!("no matching subnet for gateway {g}"));
        }
    }
    for aux in &a.aux_address {
        let Some((name, ip)) = aux.split_once('=') else {
            return Err(format!("invalid aux-address {aux:?}: want name=address"));
        };
        let mut matched = false;
        for c in out.iter_mut() {
            if !subnet_matches(&c.subnet, ip)? {
                continue;
            }
            c.auxiliary_addresses.get_or_insert_with(BTreeMap::new).insert(name.to_string(), ip.to_string());
            matched = true;
        }
        if !matched {
            return Err(format!("no matching subnet for aux-address {ip}"));
        }
    }
    Ok(out)
}

fn key_values(list: &[String]) -> Option<BTreeMap<String, String>> {
    if list.is_empty() {
        return None;
    }
    Some(list.iter().map(|kv| kv.split_once('=').map_or((kv.clone(), String::new()), |(k, v)| (k.into(), v.into()))).collect())
}

async fn create(client: &Client, a: CreateArgs) -> anyhow::Result<()> {
    let config = ipam_config(&a).map_err(anyhow::Error::msg)?;
    let req = NetworkCreateRequest {
        name: a.name.clone(),
        driver: a.driver.clone(),
        internal: a.internal,
        ipam: Some(Ipam { driver: a.ipam_driver.clone(), options: None, config }),
        options: key_values(&a.opt),
        labels: Some(labels_to_map(&a.label)),
        enable_ipv6: a.ipv6.then_some(true),
        enable_ipv4: None,
    };
    let r: NetworkCreateResponse = client.post_json("/networks/create", &Query::new(), Some(&req)).await?;
    println!("{}", r.id);
    Ok(())
}

const LS_FORMAT: &str = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";

/// Go's `time.Time.String()` of an RFC 3339 timestamp, UTC.
fn created_at(rfc3339: &str) -> String {
    match rfc3339.get(..19) {
        Some(t) if rfc3339.len() >= 20 => {
            let frac = rfc3339[19..].trim_start_matches('.').trim_end_matches('Z');
            let frac = frac.trim_end_matches('0');
            let frac = if frac.is_empty() { String::new() } else { format!(".{frac}") };
            format!("{}{frac} +0000 UTC", t.replace('T', " "))
        }
        _ => rfc3339.to_string(),
    }
}

fn row(n: &Network, no_trunc: bool) -> Value {
    let labels: Vec<String> = n.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    json!({
        "ID": if no_trunc { n.id.clone() } else { truncate_id(&n.id) },
        "Name": n.name, "Driver": n.driver, "Scope": n.scope,
        "IPv4": n.enable_ipv4.to_string(), "IPv6": n.enable_ipv6.to_string(), "Internal": n.internal.to_string(),
        "Labels": labels.join(","), "CreatedAt": created_at(&n.created),
    })
}

/// Go's `sortorder.NaturalLess`: digit runs compare as numbers.
pub fn natural_less(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, _) => return std::cmp::Ordering::Less,
            (_, None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let nx = x.iter().take_while(|b| b.is_ascii_digit()).count();
                let ny = y.iter().take_while(|b| b.is_ascii_digit()).count();
                let (dx, dy) = (trim_zeros(&x[..nx]), trim_zeros(&y[..ny]));
                let ord = dx.len().cmp(&dy.len()).then(dx.cmp(dy)).then(nx.cmp(&ny));
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
                x = &x[nx..];
                y = &y[ny..];
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|b| **b == b'0').count();
    &d[n..]
}

async fn ls(client: &Client, a: LsArgs) -> anyhow::Result<()> {
    let mut f = Filters::new();
    for x in &a.filter {
        f.add_arg(x).map_err(anyhow::Error::msg)?;
    }
    let mut list: Vec<Network> = client.get_json("/networks", &Query::new().filters(&f)).await?;
    list.sort_by(|x, y| natural_less(&x.name, &y.name));
    let text = match a.format.as_deref() {
        None | Some("") | Some("table") if a.quiet => "{{.ID}}",
        None | Some("") | Some("table") => LS_FORMAT,
        Some(f) => f,
    };
    let format = Format::parse(text)?;
    let header = json!({"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE", "IPv4": "IPV4", "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED"});
    let rows: Vec<Value> = list.iter().map(|n| row(n, a.no_trunc)).collect();
    print!("{}", format.render(&header, &rows)?);
    Ok(())
}

async fn inspect(client: &Client, a: InspectArgs) -> anyhow::Result<()> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let q = Query::new().flag("verbose", a.verbose);
    for name in &a.networks {
        match client.bytes(Method::GET, &format!("/networks/{}", segment(name)), &q, RequestBody::Empty).await {
            Ok(b) => found.push(String::from_utf8_lossy(&b).into_owned()),
            Err(e) => errors.push(describe(&e)),
        }
    }
    print!("{}", super::inspect::render(&found, a.format.as_deref())?);
    joined(errors)
}

async fn rm(client: &Client, a: RmArgs) -> anyhow::Result<()> {
    let mut errors = Vec::new();
    for name in &a.networks {
        match client.delete(&format!("/networks/{}", segment(name)), &Query::new()).await {
            Ok(()) => println!("{name}"),
            Err(e) if a.force && e.is_not_found() => {}
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
    if !a.force && !confirm("WARNING! This will remove all custom networks not used by at least one container.") {
        return Ok(());
    }
    let r: NetworkPruneResponse = client.post_json("/networks/prune", &Query::new().filters(&f), None::<&()>).await?;
    if !r.networks_deleted.is_empty() {
        println!("Deleted Networks:\n{}\n", r.networks_deleted.join("\n"));
    }
    Ok(())
}

async fn connect(client: &Client, a: ConnectArgs) -> anyhow::Result<()> {
    let mut ep = serde_json::Map::new();
    let mut ipam = serde_json::Map::new();
    if let Some(ip) = &a.ip {
        ipam.insert("IPv4Address".into(), json!(ip));
    }
    if let Some(ip) = &a.ip6 {
        ipam.insert("IPv6Address".into(), json!(ip));
    }
    if !a.link_local_ip.is_empty() {
        ipam.insert("LinkLocalIPs".into(), json!(a.link_local_ip));
    }
    if !ipam.is_empty() {
        ep.insert("IPAMConfig".into(), serde_json::Value::Object(ipam));
    }
    if !a.link.is_empty() {
        ep.insert("Links".into(), json!(a.link));
    }
    if !a.alias.is_empty() {
        ep.insert("Aliases".into(), json!(a.alias));
    }
    if let Some(opts) = key_values(&a.driver_opt) {
        ep.insert("DriverOpts".into(), json!(opts));
    }
    let body = json!({"Container": a.container, "EndpointConfig": ep});
    let path = format!("/networks/{}/connect", segment(&a.network));
    client.bytes(Method::POST, &path, &Query::new(), RequestBody::Json(serde_json::to_vec(&body)?)).await?;
    Ok(())
}

async fn disconnect(client: &Client, a: DisconnectArgs) -> anyhow::Result<()> {
    let body = json!({"Container": a.container, "Force": a.force});
    let path = format!("/networks/{}/disconnect", segment(&a.network));
    client.bytes(Method::POST, &path, &Query::new(), RequestBody::Json(serde_json::to_vec(&body)?)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: CreateArgs,
    }

    fn cfg(args: &[&str]) -> Result<Vec<IpamConfig>, String> {
        let t = T::try_parse_from(std::iter::once("t").chain(args.iter().copied()).chain(["n"])).unwrap();
        ipam_config(&t.a)
    }

    #[test]
    fn ipam_from_flags() {
        let c = cfg(&["--subnet", "10.5.0.0/16", "--ip-range", "10.5.1.0/24", "--gateway", "10.5.0.254"]).unwrap();
        assert_eq!((c[0].subnet.as_str(), c[0].gateway.as_str(), c[0].ip_range.as_deref()), ("10.5.0.0/16", "10.5.0.254", Some("10.5.1.0/24")));
        assert!(cfg(&[]).unwrap().is_empty());
    }

    #[test]
    fn hostile_ipam_flags() {
        for (args, err) in [
            (&["--gateway", "10.0.0.1"][..], "every ip-range or gateway must have a corresponding subnet"),
            (&["--subnet", "10.5.0.0/16", "--gateway", "10.6.0.1"][..], "no matching subnet for gateway 10.6.0.1"),
            (&["--subnet", "10.5.0.0/16", "--ip-range", "10.6.0.0/24"][..], "no matching subnet for range 10.6.0.0/24"),
            (&["--subnet", "bogus", "--gateway", "10.6.0.1"][..], "invalid subnet"),
            (&["--subnet", "10.5.0.0/16", "--gateway", "x"][..], "invalid CIDR address: x"),
        ] {
            let e = cfg(args).err().unwrap_or_default();
            assert!(e.contains(err), "{args:?}: {e}");
        }
    }

    #[test]
    fn natural_order_and_times() {
        let mut v = vec!["n10", "n2", "bridge", "n1"];
        v.sort_by(|a, b| natural_less(a, b));
        assert_eq!(v, ["bridge", "n1", "n2", "n10"]);
        assert_eq!(created_at("2024-05-01T10:11:12.500000000Z"), "2024-05-01 10:11:12.5 +0000 UTC");
        assert_eq!(created_at("x"), "x");
    }
}
