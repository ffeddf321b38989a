//! What berthd persists about networks, and about a container's place in them.

use berth_net::firewall::Proto;
use berth_net::{Subnet, Subnet6};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One network, as stored under `db/networks/<id>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetworkRecord {
    pub id: String,
    pub name: String,
    /// "bridge", "host" or "null".
    pub driver: String,
    pub created: i64,
    #[serde(default)]
    pub subnet: Option<Subnet>,
    #[serde(default)]
    pub gateway: Option<Ipv4Addr>,
    #[serde(default)]
    pub ip_range: Option<Subnet>,
    /// Linux bridge name.
    #[serde(default)]
    pub bridge: String,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// The subnet was chosen by us (shown without user IPAM config).
    #[serde(default)]
    pub default_bridge: bool,
    /// IPv4 subnets after the first (`--subnet` given more than once).
    #[serde(default)]
    pub more_subnets: Vec<Pool4>,
    /// The IPv6 subnet (`--ipv6`).
    #[serde(default)]
    pub ipv6: Option<Pool6>,
    /// `--aux-address`: subnet → (name → address), kept out of allocation.
    #[serde(default)]
    pub aux_addresses: BTreeMap<String, BTreeMap<String, IpAddr>>,
}

/// One more IPv4 subnet of a network.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Pool4 {
    pub subnet: Subnet,
    pub gateway: Ipv4Addr,
    #[serde(default)]
    pub ip_range: Option<Subnet>,
}

/// A network's IPv6 subnet.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Pool6 {
    pub subnet: Subnet6,
    pub gateway: Ipv6Addr,
    #[serde(default)]
    pub ip_range: Option<Subnet6>,
}

impl NetworkRecord {
    /// Every IPv4 subnet, the first one first.
    pub fn pools4(&self) -> Vec<Pool4> {
        let first = self.subnet.zip(self.gateway).map(|(subnet, gateway)| Pool4 { subnet, gateway, ip_range: self.ip_range });
        first.into_iter().chain(self.more_subnets.iter().cloned()).collect()
    }
}

/// A container's networking, kept in its record. Requested settings come
/// from create; the rest is filled in while it runs (its leases).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ContainerNet {
    /// Network name → endpoint.
    pub endpoints: BTreeMap<String, Endpoint>,
    /// Published ports while running.
    pub ports: Vec<PortMap>,
    /// The namespace name under /run/netns while running.
    pub netns: Option<String>,
    /// The network whose endpoint holds the default route and the
    /// published ports (the container's `NetworkMode`).
    pub primary: Option<String>,
    /// The container's names in the embedded DNS (name, short ID,
    /// hostname) and the servers it forwards to, kept for a restore.
    pub dns_names: Vec<String>,
    pub dns_upstreams: Vec<String>,
}

impl ContainerNet {
    /// The endpoint published ports point at.
    pub fn primary_endpoint(&self) -> Option<&Endpoint> {
        self.primary.as_ref().and_then(|p| self.endpoints.get(p)).or_else(|| self.endpoints.values().next())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Endpoint {
    pub network_id: String,
    pub endpoint_id: String,
    /// `--ip`.
    pub requested_ip: Option<Ipv4Addr>,
    pub aliases: Vec<String>,
    /// Lease while running.
    pub ip: Option<Ipv4Addr>,
    pub prefix: u8,
    pub gateway: Option<Ipv4Addr>,
    pub mac: String,
    pub ifname: String,
    pub host_if: String,
    /// `--ip6`, and the IPv6 lease while running.
    pub requested_ip6: Option<Ipv6Addr>,
    pub ip6: Option<Ipv6Addr>,
    pub prefix6: u8,
    pub gateway6: Option<Ipv6Addr>,
    /// `--mac-address` (else the MAC is derived from the IPv4 lease).
    pub requested_mac: Option<String>,
    /// `--link-local-ip`: more addresses on the interface.
    pub link_local_ips: Vec<IpAddr>,
    /// Links on a user network, "container:alias" (names only this
    /// container resolves through the embedded DNS).
    pub links: Vec<String>,
    /// Endpoint driver options, as given.
    pub driver_opts: BTreeMap<String, String>,
}

impl Endpoint {
    /// What the user asked for, without the leases of a run.
    pub fn requested(&self) -> Endpoint {
        Endpoint {
            requested_ip: self.requested_ip,
            requested_ip6: self.requested_ip6,
            aliases: self.aliases.clone(),
            requested_mac: self.requested_mac.clone(),
            link_local_ips: self.link_local_ips.clone(),
            links: self.links.clone(),
            driver_opts: self.driver_opts.clone(),
            ..Default::default()
        }
    }
}

/// One published port, as bound.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PortMap {
    pub container_port: u16,
    pub proto: Proto,
    /// "" = all addresses.
    pub host_ip: String,
    pub host_port: u16,
}
