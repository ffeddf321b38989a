//! The container side of networking: what create records from the
//! request, and attaching/detaching at start and exit (the network
//! manager does the work; this resolves other containers for
//! `--network container:X` and `--link`).

use super::manager::ContainerManager;
use super::record::ContainerRecord;
use crate::network::AttachInput;
use crate::network::ports;
use crate::network::{Attached, ContainerNet, NetNs};
use berth_api::ApiError;
use serde_json::Value;

pub use super::netrequest::requested;

impl ContainerManager {
    /// Attaches `rec` to its networks before its shim starts.
    pub(super) fn attach_network(&self, rec: &ContainerRecord) -> Result<Attached, String> {
        let mode = rec.host_config.network_mode.as_str();
        if let Some(other) = mode.strip_prefix("container:") {
            let o = self.get(other).map_err(|e| e.message)?.snapshot();
            let ns = o.net.netns.clone().filter(|_| o.state.status.is_running());
            let ns = match (ns, o.host_config.network_mode.as_str()) {
                (_, "host") => NetNs::Host,
                (Some(ns), _) => NetNs::Path(berth_net::netns::path(&ns)),
                (None, _) => return Err(format!("cannot join network of a non running container: {}", o.id)),
            };
            let hosts = o.net.endpoints.values().find_map(|e| e.ip).map(|ip| vec![format!("{ip}\t{}", o.config.hostname)]).unwrap_or_default();
            return Ok(Attached { host_files: ns == NetNs::Host, ns, net: ContainerNet::default(), hosts, dns: false });
        }
        let hc = &rec.host_config.extra;
        let exposed: Vec<String> = rec.config.exposed_ports.as_ref().map(|m| m.keys().cloned().collect()).unwrap_or_default();
        let publish_all = hc.get("PublishAllPorts").and_then(Value::as_bool).unwrap_or(false);
        let reqs = ports::requests(hc.get("PortBindings"), publish_all, &exposed).map_err(|e| e.message)?;
        let mut links = vec![];
        for (target, alias) in link_specs(rec) {
            let o = self.get(target).map_err(|_| format!("could not get container for {target}"))?.snapshot();
            if !o.state.status.is_running() {
                return Err(format!("Cannot link to a non running container: /{} AS /{}/{alias}", o.name, rec.name));
            }
            // The default bridge's address, else one on a network both are
            // on (docker-compose links containers on its project network).
            let ip = self
                .networks
                .bridge_ip(&o.net)
                .or_else(|| shared_ip(rec, &o))
                .ok_or_else(|| format!("container {} is not on a network /{} is on, cannot link it as {alias}", o.name, rec.name))?;
            let short = &o.id[..12];
            let names = if alias == o.name { format!("{alias} {short}") } else { format!("{alias} {short} {}", o.name) };
            links.push((ip, names));
        }
        self.networks
            .attach(&AttachInput {
                id: &rec.id,
                name: &rec.name,
                hostname: &rec.config.hostname,
                mode,
                requested: &rec.net,
                ports: reqs,
                links,
                dns_upstreams: dns_upstreams(rec),
            })
            .map_err(|e| e.message)
    }

    /// The process environment: the legacy link variables of each linked
    /// container (`ALIAS_NAME`, `ALIAS_PORT_*`, `ALIAS_ENV_*`), which dockerd
    /// sets only when both are on the default bridge, then the
    /// container's own variables, which win.
    pub(super) fn env_with_links(&self, rec: &ContainerRecord, attached: &Attached) -> Vec<String> {
        let mut env = Vec::new();
        if self.networks.bridge_ip(&attached.net).is_some() {
            for (target, alias) in link_specs(rec) {
                let Ok(c) = self.get(target) else { continue };
                let o = c.snapshot();
                if let Some(ip) = self.networks.bridge_ip(&o.net).filter(|_| o.state.status.is_running()) {
                    env.extend(link_env(&format!("/{}/{alias}", rec.name), ip, &o));
                }
            }
        }
        for kv in &rec.config.env {
            let key = kv.split('=').next().unwrap_or(kv);
            env.retain(|e| e.split('=').next() != Some(key));
            env.push(kv.clone());
        }
        env
    }

    /// `DELETE /containers/{parent}/{alias}?link=true` (`rm --link`):
    /// removes the link from the parent's record; it takes effect at its
    /// next start, when /etc/hosts and the link variables are made.
    pub async fn remove_link(&self, name: &str) -> Result<(), ApiError> {
        let name = format!("/{}", name.trim_start_matches('/'));
        let (parent, alias) = name.rsplit_once('/').unwrap_or(("", &name));
        if parent.is_empty() {
            return Err(ApiError::conflict("Conflict, cannot remove the default link name of the container"));
        }
        let c = self
            .get(parent.trim_start_matches('/'))
            .map_err(|_| ApiError::not_found(format!("Cannot get parent {parent} for link name {name}")))?;
        let _op = c.op.lock().await;
        let rec = c.snapshot();
        let kept: Vec<String> = link_strings(&rec).filter(|l| parse_link(l).1 != alias).map(str::to_string).collect();
        if kept.len() == link_strings(&rec).count() {
            return Err(ApiError::not_found(format!("No such container: {name}")));
        }
        let rec = c.update(|r| {
            r.host_config.extra.insert("Links".into(), if kept.is_empty() { Value::Null } else { serde_json::json!(kept) });
        });
        self.persist(&rec)
    }

    /// Releases what a container held (idempotent; an exited one holds nothing).
    pub(super) fn detach_network(&self, rec: &ContainerRecord) {
        self.networks.detach(&rec.id, &rec.net);
    }
}

fn link_strings(rec: &ContainerRecord) -> impl Iterator<Item = &str> {
    rec.host_config.extra.get("Links").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
}

/// One `HostConfig.Links` entry: "/other:/me/alias" as the docker CLI and
/// docker-compose send it, or "other:alias", or "other" → (other, alias).
fn parse_link(l: &str) -> (&str, &str) {
    let (target, alias) = l.split_once(':').unwrap_or((l, l));
    (target.trim_start_matches('/'), alias.rsplit('/').next().unwrap_or(alias))
}

fn link_specs(rec: &ContainerRecord) -> Vec<(&str, &str)> {
    link_strings(rec).map(parse_link).collect()
}

/// The address of `other` on a network `rec` asks for.
fn shared_ip(rec: &ContainerRecord, other: &ContainerRecord) -> Option<std::net::Ipv4Addr> {
    other
        .net
        .endpoints
        .iter()
        .filter(|(name, _)| rec.net.endpoints.contains_key(*name) || rec.host_config.network_mode == **name)
        .find_map(|(_, e)| e.ip)
}

/// dockerd's link variables for `child` reached at `ip` under `name`
/// ("/parent/alias"): the alias upper-cased with `-` as `_`, its ports
/// (lowest first; the first is also `ALIAS_PORT`) and its environment
/// (but HOME and PATH).
fn link_env(name: &str, ip: std::net::Ipv4Addr, child: &ContainerRecord) -> Vec<String> {
    let alias = name.rsplit('/').next().unwrap_or(name).to_uppercase().replace('-', "_");
    let mut env = vec![format!("{alias}_NAME={name}")];
    let mut ports: Vec<(u16, String)> = child
        .config
        .exposed_ports
        .iter()
        .flat_map(|m| m.keys())
        .filter_map(|p| {
            let (port, proto) = p.split_once('/').unwrap_or((p, "tcp"));
            Some((port.parse().ok()?, proto.to_string()))
        })
        .collect();
    ports.sort();
    if let Some((port, proto)) = ports.first() {
        env.push(format!("{alias}_PORT={proto}://{ip}:{port}"));
    }
    for (port, proto) in &ports {
        let p = format!("{alias}_PORT_{port}_{}", proto.to_uppercase());
        env.push(format!("{p}={proto}://{ip}:{port}"));
        env.push(format!("{p}_ADDR={ip}"));
        env.push(format!("{p}_PORT={port}"));
        env.push(format!("{p}_PROTO={proto}"));
    }
    for kv in &child.config.env {
        let Some((k, v)) = kv.split_once('=') else { continue };
        if k != "HOME" && k != "PATH" {
            env.push(format!("{alias}_ENV_{k}={v}"));
        }
    }
    env
}

/// `--dns` servers, else the host's (the embedded DNS forwards from the
/// host's namespace, so its loopback resolvers are fine).
fn dns_upstreams(rec: &ContainerRecord) -> Vec<String> {
    let given: Vec<String> = rec.host_config.extra.get("Dns").and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default();
    if !given.is_empty() {
        return given;
    }
    crate::network::host_nameservers(&std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default())
}

/// What goes back into the record once the container runs: the leases,
/// with the requested settings kept.
pub fn running_net(requested: &ContainerNet, attached: &ContainerNet) -> ContainerNet {
    let mut net = attached.clone();
    for (k, ep) in &requested.endpoints {
        net.endpoints.entry(k.clone()).or_insert_with(|| ep.clone());
    }
    net
}

/// The requested settings alone (leases dropped) for a stopped container.
pub fn stopped_net(net: &ContainerNet) -> ContainerNet {
    let mut out = ContainerNet::default();
    for (k, ep) in &net.endpoints {
        out.endpoints.insert(
            k.clone(),
            ep.requested(),
        );
    }
    out
}

impl ContainerManager {
    /// Create-time checks of `NetworkMode` and `NetworkingConfig`, as Docker
    /// does them; returns the requested endpoints.
    pub(super) fn check_network_request(
        &self,
        hc: &mut berth_api::container::HostConfig,
        networking_config: Option<&Value>,
    ) -> Result<ContainerNet, ApiError> {
        let mut net = requested(networking_config)?;
        if hc.network_mode.is_empty() || hc.network_mode == "default" {
            hc.network_mode = "bridge".into();
        }
        if let Some(ep) = net.endpoints.remove("default") {
            net.endpoints.insert("bridge".into(), ep);
        }
        let mode = hc.network_mode.clone();
        if let Some(other) = mode.strip_prefix("container:") {
            self.get(other)?;
            return Ok(ContainerNet::default());
        }
        if mode == "host" || mode == "none" {
            if net.endpoints.keys().any(|k| k != &mode) {
                return Err(ApiError::invalid("conflicting options: host type networking can't be used with links. This would result in undefined behavior"));
            }
            return Ok(ContainerNet::default());
        }
        // As dockerd: a missing network fails the start, not the create
        // (a 404 here would send the docker CLI pulling the image).
        let n = match self.networks.find(&mode) {
            Err(e) if e.kind == berth_api::ErrorKind::NotFound => return Ok(net),
            other => other?,
        };
        // Endpoint settings are keyed by the network's name.
        if n.name != mode {
            if let Some(ep) = net.endpoints.remove(&mode) {
                net.endpoints.insert(n.name.clone(), ep);
            }
        }
        for k in net.endpoints.keys() {
            match self.networks.find(k) {
                Err(e) if e.kind != berth_api::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(net)
    }
}

impl ContainerManager {
    /// `NetworkSettings` for inspect.
    pub(super) fn network_settings(&self, r: &ContainerRecord) -> Value {
        let key = r.net.netns.as_deref().map(|n| berth_net::netns::path(n).display().to_string()).unwrap_or_default();
        self.networks.settings(&r.net, &r.host_config.network_mode, &key, &r.exposed_port_keys())
    }

    /// Running and stopped containers on a network: (id, name, net) of the
    /// running ones for inspect, and whether any container names it.
    pub fn network_users(&self, network_id: &str, network_name: &str) -> (Vec<(String, String, ContainerNet)>, bool) {
        let mut running = vec![];
        let mut any = false;
        for c in self.all() {
            let r = c.snapshot();
            let named = r.host_config.network_mode == network_name
                || r.host_config.network_mode == network_id
                || r.net.endpoints.contains_key(network_name);
            any |= named;
            if r.state.status.is_running() && r.net.endpoints.values().any(|e| e.network_id == network_id) {
                running.push((r.id.clone(), r.name.clone(), r.net.clone()));
            }
        }
        (running, any)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_forms() {
        assert_eq!(parse_link("/db:/web/alias"), ("db", "alias"));
        assert_eq!(parse_link("db:alias"), ("db", "alias"));
        assert_eq!(parse_link("db"), ("db", "db"));
    }

    #[test]
    fn link_variables_as_dockerd() {
        let child: ContainerRecord = serde_json::from_value(serde_json::json!({
            "id": "c", "name": "db", "created": 0, "path": "sleep", "args": [], "image_id": "",
            "config": {"Env": ["PATH=/bin", "HOME=/root", "A=b=c"], "ExposedPorts": {"80/tcp": {}, "53/udp": {}}},
            "host_config": {}, "state": {}
        }))
        .unwrap_or_else(|e| panic!("record: {e}"));
        let env = link_env("/web/my-db", "10.0.0.2".parse().expect("ip"), &child);
        assert_eq!(env[0], "MY_DB_NAME=/web/my-db");
        assert_eq!(env[1], "MY_DB_PORT=udp://10.0.0.2:53");
        assert!(env.contains(&"MY_DB_PORT_80_TCP_ADDR=10.0.0.2".to_string()));
        assert_eq!(env.last().map(String::as_str), Some("MY_DB_ENV_A=b=c"));
        assert!(!env.iter().any(|e| e.contains("_ENV_PATH") || e.contains("_ENV_HOME")));
    }
}
