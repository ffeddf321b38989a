//! What berthd persists about networks, and about a container's place in them.

use berth_net::firewall::Proto;
use berth_net::Subnet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

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
