//! The container side of networking: what create records from the
//! request, and attaching/detaching at start and exit (the network
//! manager does the work; this resolves other containers for
//! `--network container:X` and `--link`).

use super::manager::ContainerManager;
use super::record::ContainerRecord;
use crate::network::AttachInput;
use crate::network::ports;
use crate::network::record::Endpoint;
use crate::network::{Attached, ContainerNet, NetNs};
use berth_api::ApiError;
use serde_json::Value;

/// The networks a create request asks for (`NetworkingConfig.EndpointsConfig`).
pub fn requested(networking_config: Option<&Value>) -> Result<ContainerNet, ApiError> {
    let mut net = ContainerNet::default();
    let Some(Value::Object(eps)) = networking_config.and_then(|v| v.get("EndpointsConfig")) else { return Ok(net) };
    for (name, cfg) in eps {
        let aliases = cfg
            .get("Aliases")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
            .unwrap_or_default();
        let ip = match cfg.get("IPAMConfig").and_then(|c| c.get("IPv4Address")).and_then(Value::as_str) {
            None | Some("") => None,
            Some(s) => Some(s.parse().map_err(|_| ApiError::invalid(format!("invalid IPv4 address: {s}")))?),
        };
        net.endpoints.insert(name.clone(), Endpoint { requested_ip: ip, aliases, ..Default::default() });
    }
    Ok(net)
}

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
        for l in hc.get("Links").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            // "/other:/me/alias" as the docker CLI sends it, or "other:alias".
            let (target, alias) = l.split_once(':').unwrap_or((l, l));
            let alias = alias.rsplit('/').next().unwrap_or(alias);
            let o = self.get(target.trim_start_matches('/')).map_err(|_| format!("could not get container for {target}"))?.snapshot();
            let ip = self
                .networks
                .bridge_ip(&o.net)
                .filter(|_| o.state.status.is_running())
                .ok_or_else(|| format!("Cannot link to a non running container: /{} AS /{}/{alias}", o.name, rec.name))?;
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

    /// Releases what a container held (idempotent; an exited one holds nothing).
    pub(super) fn detach_network(&self, rec: &ContainerRecord) {
        self.networks.detach(&rec.id, &rec.net);
    }
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
            Endpoint { requested_ip: ep.requested_ip, aliases: ep.aliases.clone(), ..Default::default() },
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
        self.networks.settings(&r.net, &r.host_config.network_mode, &key)
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
