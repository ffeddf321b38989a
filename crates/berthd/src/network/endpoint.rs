//! A container's side: at start, a namespace with one veth per network,
//! leases and published ports; at exit, all of it released; after a
//! daemon restart, the leases and ports of running containers taken back.

use super::ports::{self, PortRequest};
use super::record::{ContainerNet, Endpoint, NetworkRecord, PortMap};
use super::teardown::Deferred;
use super::{find_in, net_error, NetworkManager, State};
use crate::container::naming::new_id;
use berth_api::ApiError;
use berth_net::firewall::{port_rules, PortFw, Proto};
use berth_net::link::{mac_for, VethPlan};
use berth_net::netns;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;

/// Which network namespace the container runs in.
#[derive(Debug, Clone, PartialEq)]
pub enum NetNs {
    /// The host's (`--network host`).
    Host,
    /// A namespace pinned at this path.
    Path(PathBuf),
}

/// The result of attaching a container at start.
#[derive(Debug, Clone)]
pub struct Attached {
    pub ns: NetNs,
    pub net: ContainerNet,
    /// Lines for /etc/hosts after the localhost block ("IP\tnames").
    pub hosts: Vec<String>,
    /// Whether /etc/hosts and resolv.conf are the host's own.
    pub host_files: bool,
    /// The embedded DNS answers at 127.0.0.11 (user networks).
    pub dns: bool,
}

/// What attach needs to know of the container.
pub struct AttachInput<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub hostname: &'a str,
    pub mode: &'a str,
    pub requested: &'a ContainerNet,
    pub ports: Vec<PortRequest>,
    /// `--link` entries resolved by the caller: (ip, names).
    pub links: Vec<(Ipv4Addr, String)>,
    /// Where the embedded DNS forwards (`--dns`, else the host's servers).
    pub dns_upstreams: Vec<String>,
}

impl NetworkManager {
    /// Attaches a container about to start. On error nothing is left.
    pub fn attach(&self, inp: &AttachInput) -> Result<Attached, ApiError> {
        match inp.mode {
            "host" => {
                return Ok(Attached { ns: NetNs::Host, net: ContainerNet::default(), hosts: vec![], host_files: true, dns: false });
            }
            "none" => {
                let name = self.netns_name(inp.id);
                let _ = netns::remove(&name);
                netns::create(&name).map_err(net_error)?;
                let net = ContainerNet { netns: Some(name.clone()), ..Default::default() };
                return Ok(Attached { ns: NetNs::Path(netns::path(&name)), net, hosts: vec![], host_files: false, dns: false });
            }
            _ => {}
        }
        // A restart reuses the namespace's name; a fixed address may still
        // be held by a stopped container's veth (any container's).
        let fixed_ip = inp.requested.endpoints.values().any(|e| e.requested_ip.is_some());
        self.pending.wait(if fixed_ip { None } else { Some(inp.id) });
        let wanted = self.wanted(inp)?;
        let ns_name = self.netns_name(inp.id);
        let _ = netns::remove(&ns_name);
        netns::create(&ns_name).map_err(net_error)?;
        let mut net = ContainerNet { netns: Some(ns_name.clone()), primary: Some(wanted[0].0.name.clone()), ..Default::default() };
        net.dns_names = vec![inp.name.to_string(), inp.id[..inp.id.len().min(12)].to_string(), inp.hostname.to_string()];
        net.dns_upstreams = inp.dns_upstreams.clone();
        let nets: BTreeMap<String, NetworkRecord> = wanted.iter().map(|(n, _)| (n.id.clone(), n.clone())).collect();
        let res = self.attach_all(inp, &ns_name, wanted, &mut net).and_then(|_| self.serve_dns(&nets, inp.id, &net));
        let dns = match res {
            Ok(on) => on,
            Err(e) => {
                let deferred = self.release(inp.id, &net);
                self.finish(deferred);
                return Err(e);
            }
        };
        let mut hosts = vec![];
        if let Some(ip) = net.endpoints.values().find_map(|e| e.ip) {
            hosts.push(format!("{ip}\t{}", inp.hostname));
        }
        // On an IPv6 network dockerd lists the v6 address too.
        if let Some(ip) = net.endpoints.values().find_map(|e| e.ip6) {
            hosts.push(format!("{ip}\t{}", inp.hostname));
        }
        for (ip, names) in &inp.links {
            hosts.push(format!("{ip}\t{names}"));
        }
        Ok(Attached { ns: NetNs::Path(netns::path(&ns_name)), net, hosts, host_files: false, dns })
    }

    /// The networks to plug into, primary first, with the endpoint asked of each.
    fn wanted(&self, inp: &AttachInput) -> Result<Vec<(NetworkRecord, Endpoint)>, ApiError> {
        let st = self.lock();
        let primary = find_in(&st.nets, if inp.mode == "default" { "bridge" } else { inp.mode })?;
        if primary.driver != "bridge" {
            return Err(ApiError::invalid(format!("container cannot be connected to network {}", primary.name)));
        }
        let mut wanted: Vec<(NetworkRecord, Endpoint)> = vec![];
        let first = inp.requested.endpoints.get(&primary.name).cloned().unwrap_or_default();
        wanted.push((primary.clone(), first));
        for (k, ep) in &inp.requested.endpoints {
            if k == &primary.name {
                continue;
            }
            let n = find_in(&st.nets, k)?;
            if n.driver == "bridge" && n.id != primary.id {
                wanted.push((n, ep.clone()));
            }
        }
        Ok(wanted)
    }

    /// Leases and host ports are reserved under the state lock (and
    /// recorded in `net` as they are, for the caller's clean-up); veths and
    /// port rules are made after it is dropped.
    fn attach_all(&self, inp: &AttachInput, ns_name: &str, wanted: Vec<(NetworkRecord, Endpoint)>, net: &mut ContainerNet) -> Result<(), ApiError> {
        let mut plans = vec![];
        let mut rules = vec![];
        {
            let mut st = self.lock();
            let mut routed = false;
            for (i, (n, req)) in wanted.iter().enumerate() {
                let (ep, plan) = self.plug(&mut st, inp.id, ns_name, n, req, i, !routed && !n.internal)?;
                routed |= !n.internal;
                net.endpoints.insert(n.name.clone(), ep);
                plans.push(plan);
            }
            let primary = net.primary_endpoint().cloned();
            if let Some((primary, cip)) = primary.and_then(|p| Some((p.clone(), p.ip?))) {
                let bridge = wanted[0].0.bridge.clone();
                for r in &inp.ports {
                    let taken = |proto: Proto, port: u16| st.ports.keys().any(|(p, _, hp)| *p == proto && *hp == port);
                    let res = ports::reserve(r, cip, &taken).map_err(|msg| {
                        ApiError::internal(format!(
                            "driver failed programming external connectivity on endpoint {} ({}): {msg}",
                            inp.name, primary.endpoint_id
                        ))
                    })?;
                    let map = res.map.clone();
                    let key = (map.proto, map.host_ip.clone(), map.host_port);
                    st.ports.insert(key, (inp.id.to_string(), res));
                    rules.push(port_rules(&self.chains, &port_fw(&bridge, cip, &map)));
                    net.ports.push(map);
                }
            }
        }
        for plan in &plans {
            self.links.add_veth(plan).map_err(net_error)?;
        }
        for r in &rules {
            self.fw.add(r).map_err(net_error)?;
        }
        Ok(())
    }

    /// Reserves one endpoint on one network (an address, a veth's name);
    /// the veth itself is the caller's to make, after the lock is dropped.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn plug(&self, st: &mut State, id: &str, ns_name: &str, n: &NetworkRecord, req: &Endpoint, idx: usize, route: bool) -> Result<(Endpoint, VethPlan), ApiError> {
        // Removed since it was looked up (no lock is held in between).
        if !st.nets.contains_key(&n.id) {
            return Err(ApiError::not_found(format!("network {} not found", n.name)));
        }
        let pools = st.alloc.get_mut(&n.id).ok_or_else(|| ApiError::internal(format!("network {} has no address pool", n.name)))?;
        if n.default_bridge && (req.requested_ip.is_some() || req.requested_ip6.is_some()) {
            return Err(ApiError::invalid("user specified IP address is supported on user defined networks only"));
        }
        let lease = match req.requested_ip {
            Some(ip) => pools.claim4(ip),
            None => pools.allocate4(),
        }
        .map_err(net_error)?;
        let lease6 = match req.requested_ip6 {
            Some(ip) => pools.claim6(ip).map(Some),
            None => pools.allocate6(),
        };
        let lease6 = match lease6 {
            Ok(l) => l,
            Err(e) => {
                pools.release4(lease.ip);
                return Err(net_error(e));
            }
        };
        let endpoint_id = new_id();
        let mut ep = req.requested();
        ep.network_id = n.id.clone();
        ep.endpoint_id = endpoint_id.clone();
        ep.ip = Some(lease.ip);
        ep.prefix = lease.prefix;
        ep.gateway = Some(lease.gateway);
        ep.ip6 = lease6.map(|l| l.ip);
        ep.prefix6 = lease6.map(|l| l.prefix).unwrap_or(0);
        ep.gateway6 = lease6.map(|l| l.gateway);
        ep.mac = req.requested_mac.clone().unwrap_or_else(|| mac_for(lease.ip));
        ep.ifname = format!("eth{idx}");
        ep.host_if = format!("vb{}", &endpoint_id[..12]);
        let plan = VethPlan {
            netns: ns_name.to_string(),
            host_if: ep.host_if.clone(),
            container_if: ep.ifname.clone(),
            bridge: n.bridge.clone(),
            ip: lease.ip,
            prefix: ep.prefix,
            mac: ep.mac.clone(),
            default_route: if route { ep.gateway } else { None },
            ip6: lease6.map(|l| (l.ip, l.prefix)),
            default_route6: if route { ep.gateway6 } else { None },
            extra_addrs: ep.link_local_ips.clone(),
        };
        // A user from now on: `network rm` refuses while the veth is made.
        st.users.entry(n.id.clone()).or_default().push(id.to_string());
        Ok((ep, plan))
    }

    /// Releases everything a container held (idempotent); its veths are
    /// deleted in the background (teardown.rs).
    pub fn detach(self: &Arc<Self>, id: &str, net: &ContainerNet) {
        let deferred = self.release(id, net);
        self.finish_later(id, deferred);
    }

    /// Releases the bookkeeping (under the lock), then unpins the namespace
    /// and deletes the port rules (after it); returns the veths and leases
    /// still to release.
    pub(super) fn release(&self, id: &str, net: &ContainerNet) -> Deferred {
        self.dns.stop(id);
        let mut deferred = Deferred::default();
        {
            let mut st = self.lock();
            self.release_ports(&mut st, id, net, &mut deferred);
            for ep in net.endpoints.values() {
                self.release_endpoint(&mut st, id, ep, &mut deferred);
            }
        }
        if let Some(ns) = &net.netns {
            let _ = netns::remove(ns);
        }
        self.drop_ports(id, &mut deferred);
        deferred
    }

    /// Which published ports' rules go (into `deferred`); their held
    /// sockets stay until the rules are gone (`drop_ports`).
    pub(super) fn release_ports(&self, st: &mut State, id: &str, net: &ContainerNet, deferred: &mut Deferred) {
        let primary = net.primary_endpoint();
        if let Some((bridge, cip)) = primary.and_then(|e| Some((st.nets.get(&e.network_id)?.bridge.clone(), e.ip?))) {
            for m in &net.ports {
                deferred.rules.push(port_rules(&self.chains, &port_fw(&bridge, cip, m)));
            }
        }
        deferred.ports.extend(st.ports.iter().filter(|(_, (owner, _))| owner == id).map(|(k, _)| k.clone()));
    }

    /// Deletes the rules `release_ports` listed (no lock held), then lets
    /// their host ports go.
    pub(super) fn drop_ports(&self, id: &str, deferred: &mut Deferred) {
        for r in deferred.rules.drain(..) {
            let _ = self.fw.delete(&r);
        }
        if deferred.ports.is_empty() {
            return;
        }
        let mut st = self.lock();
        for k in deferred.ports.drain(..) {
            if st.ports.get(&k).is_some_and(|(owner, _)| owner == id) {
                st.ports.remove(&k);
            }
        }
    }

    /// One endpoint's DNS names and network membership; its veth and lease
    /// go into `deferred` (deleted, then given back: teardown.rs).
    pub(super) fn release_endpoint(&self, st: &mut State, id: &str, ep: &Endpoint, deferred: &mut Deferred) {
        self.dns.remove(id, Some(&ep.network_id));
        if let Some(u) = st.users.get_mut(&ep.network_id) {
            u.retain(|c| c != id);
        }
        if !ep.host_if.is_empty() {
            deferred.links.push(ep.host_if.clone());
        }
        if let Some(ip) = ep.ip {
            deferred.leases.push((ep.network_id.clone(), ip.into()));
        }
        if let Some(ip) = ep.ip6 {
            deferred.leases.push((ep.network_id.clone(), ip.into()));
        }
    }

    /// After a daemon restart: a running container's leases, ports and rules.
    pub fn restore_container(&self, id: &str, net: &ContainerNet) {
        let mut rules = vec![];
        let nets = {
            let mut st = self.lock();
            for ep in net.endpoints.values() {
                if let Some(a) = st.alloc.get_mut(&ep.network_id) {
                    let claims = [ep.ip.map(|ip| (ip.to_string(), a.claim4(ip).map(|_| ()))), ep.ip6.map(|ip| (ip.to_string(), a.claim6(ip).map(|_| ())))];
                    for (ip, res) in claims.into_iter().flatten() {
                        if let Err(e) = res {
                            crate::daemon::log(&format!("{id}: lease {ip}: {e}"));
                        }
                    }
                }
                st.users.entry(ep.network_id.clone()).or_default().push(id.to_string());
            }
            let primary = net.primary_endpoint();
            if let Some((bridge, cip)) = primary.and_then(|e| Some((st.nets.get(&e.network_id)?.bridge.clone(), e.ip?))) {
                for m in &net.ports {
                    let req = PortRequest {
                        container_port: m.container_port,
                        proto: m.proto,
                        host_ip: m.host_ip.parse().ok(),
                        host_ports: (m.host_port, m.host_port),
                    };
                    match ports::reserve(&req, cip, &|_, _| false) {
                        Ok(r) => {
                            st.ports.insert((m.proto, m.host_ip.clone(), m.host_port), (id.to_string(), r));
                        }
                        Err(e) => crate::daemon::log(&format!("{id}: port {}: {e}", m.host_port)),
                    }
                    rules.push(port_rules(&self.chains, &port_fw(&bridge, cip, m)));
                }
            }
            st.nets.clone()
        };
        if let Err(e) = self.serve_dns(&nets, id, net) {
            crate::daemon::log(&format!("{id}: {e}"));
        }
        for r in &rules {
            let _ = self.fw.add(r);
        }
    }

    /// The address of a running container on the default bridge (for `--link`).
    pub fn bridge_ip(&self, net: &ContainerNet) -> Option<Ipv4Addr> {
        let st = self.lock();
        net.endpoints.values().find(|e| st.nets.get(&e.network_id).is_some_and(|n| n.default_bridge)).and_then(|e| e.ip)
    }
}

fn port_fw(bridge: &str, cip: Ipv4Addr, m: &PortMap) -> PortFw {
    PortFw {
        bridge: bridge.to_string(),
        container_ip: cip,
        container_port: m.container_port,
        proto: m.proto,
        host_ip: m.host_ip.parse().ok(),
        host_port: m.host_port,
    }
}

impl NetworkManager {
    /// The default bridge's gateway (`host-gateway` in `--add-host`).
    pub fn default_gateway(&self) -> Option<Ipv4Addr> {
        self.lock().nets.values().find(|n| n.default_bridge).and_then(|n| n.gateway)
    }
}

impl NetworkManager {
    /// Whether any endpoint is on a user network (those have the embedded DNS).
    fn wants_dns(&self, nets: &BTreeMap<String, NetworkRecord>, net: &ContainerNet) -> bool {
        net.endpoints.values().any(|e| nets.get(&e.network_id).is_some_and(|n| !n.default_bridge) && e.ip.is_some())
    }

    /// Registers the container's names on its user networks and serves its
    /// namespace; `Ok(false)` when it is on none.
    /// `nets`: the networks' records by id (a copy: no lock is held).
    fn serve_dns(&self, nets: &BTreeMap<String, NetworkRecord>, id: &str, net: &ContainerNet) -> Result<bool, ApiError> {
        if !self.wants_dns(nets, net) {
            return Ok(false);
        }
        let Some(ns) = &net.netns else { return Ok(false) };
        let mut forward = false;
        for ep in net.endpoints.values() {
            let (Some(n), Some(_)) = (nets.get(&ep.network_id), ep.ip) else { continue };
            if n.default_bridge {
                continue;
            }
            forward |= !n.internal;
            self.register_dns(id, net, &n.id, &n.name, ep);
        }
        let servers = net.dns_upstreams.iter().filter_map(|s| super::dns::upstream_addr(s)).collect();
        self.dns.start(id, ns, super::dns::Upstream { servers, forward }).map_err(ApiError::internal)?;
        Ok(true)
    }

    /// Names of a container connected to one more network while it runs.
    pub(super) fn register_dns(&self, id: &str, net: &ContainerNet, network_id: &str, network_name: &str, ep: &Endpoint) {
        if let Some(ip) = ep.ip {
            let mut names = net.dns_names.clone();
            names.extend(ep.aliases.iter().cloned());
            self.dns.add(id, network_id, network_name, &names, ip, ep.ip6);
            let links: Vec<(String, String)> = ep
                .links
                .iter()
                .map(|l| match l.split_once(':') {
                    Some((target, alias)) => (alias.to_string(), target.to_string()),
                    None => (l.clone(), l.clone()),
                })
                .collect();
            self.dns.set_links(id, network_id, &links);
        }
    }
}
