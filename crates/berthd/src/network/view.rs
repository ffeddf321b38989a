//! What clients see: network objects (`network ls/inspect`) and a
//! container's `NetworkSettings` and `Ports`.

use super::record::{ContainerNet, NetworkRecord};
use super::NetworkManager;
use berth_api::network::{IpamConfig, Network, NetworkContainer, Ipam};
use berth_api::time::format_rfc3339_nanos;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

impl NetworkManager {
    /// One network as Docker prints it; `containers` are (id, name, net)
    /// of running containers for inspect's `Containers` map.
    pub fn to_api(&self, n: &NetworkRecord, containers: &[(String, String, ContainerNet)]) -> Network {
        let mut options = n.options.clone();
        if n.default_bridge {
            for (k, v) in [
                ("com.docker.network.bridge.default_bridge", "true"),
                ("com.docker.network.bridge.enable_icc", "true"),
                ("com.docker.network.bridge.enable_ip_masquerade", "true"),
                ("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0"),
                ("com.docker.network.bridge.name", n.bridge.as_str()),
                ("com.docker.network.driver.mtu", "1500"),
            ] {
                options.insert(k.into(), v.into());
            }
        }
        let config = match n.subnet {
            Some(s) => vec![IpamConfig {
                subnet: s.to_string(),
                gateway: n.gateway.map(|g| g.to_string()).unwrap_or_default(),
                ip_range: n.ip_range.map(|r| r.to_string()),
            }],
            None => vec![],
        };
        let mut map = BTreeMap::new();
        for (id, name, net) in containers {
            if let Some(ep) = net.endpoints.values().find(|e| e.network_id == n.id) {
                map.insert(
                    id.clone(),
                    NetworkContainer {
                        name: name.clone(),
                        endpoint_id: ep.endpoint_id.clone(),
                        mac_address: ep.mac.clone(),
                        ipv4_address: ep.ip.map(|ip| format!("{ip}/{}", ep.prefix)).unwrap_or_default(),
                        ipv6_address: String::new(),
                    },
                );
            }
        }
        Network {
            name: n.name.clone(),
            id: n.id.clone(),
            created: format_rfc3339_nanos(n.created.into()),
            scope: "local".into(),
            driver: n.driver.clone(),
            enable_ipv4: true,
            enable_ipv6: false,
            ipam: Ipam { driver: "default".into(), options: None, config },
            internal: n.internal,
            attachable: false,
            ingress: false,
            config_from: json!({"Network": ""}),
            config_only: false,
            containers: map,
            options,
            labels: n.labels.clone(),
        }
    }

    /// `NetworkSettings` of a container (its leases while it runs).
    pub fn settings(&self, net: &ContainerNet, mode: &str, sandbox_key: &str) -> Value {
        let st = self.lock();
        let mut networks = Map::new();
        let mut top = json!({"Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "MacAddress": "", "EndpointID": ""});
        if net.endpoints.is_empty() && !mode.starts_with("container:") {
            // Not running: Docker still lists the configured network.
            let name = if mode == "default" { "bridge" } else { mode };
            if let Some(n) = st.nets.values().find(|n| n.name == name || n.id == name) {
                networks.insert(n.name.clone(), endpoint_json(&n.id, None));
            }
        }
        for (name, ep) in &net.endpoints {
            let v = endpoint_json(&ep.network_id, Some(ep));
            if st.nets.get(&ep.network_id).is_some_and(|n| n.default_bridge) {
                for k in ["Gateway", "IPAddress", "IPPrefixLen", "MacAddress", "EndpointID"] {
                    top[k] = v[k].clone();
                }
            }
            networks.insert(name.clone(), v);
        }
        json!({
            "Bridge": "", "SandboxID": "", "SandboxKey": sandbox_key,
            "Ports": ports_json(net),
            "HairpinMode": false, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
            "SecondaryIPAddresses": null, "SecondaryIPv6Addresses": null,
            "EndpointID": top["EndpointID"], "Gateway": top["Gateway"],
            "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
            "IPAddress": top["IPAddress"], "IPPrefixLen": top["IPPrefixLen"], "IPv6Gateway": "",
            "MacAddress": top["MacAddress"],
            "Networks": networks,
        })
    }

    /// `ps`'s `Ports` list.
    pub fn summary_ports(&self, net: &ContainerNet) -> Vec<Value> {
        net.ports
            .iter()
            .map(|p| {
                json!({
                    "IP": if p.host_ip.is_empty() { "0.0.0.0" } else { p.host_ip.as_str() },
                    "PrivatePort": p.container_port, "PublicPort": p.host_port, "Type": p.proto.as_str()
                })
            })
            .collect()
    }
}

fn endpoint_json(network_id: &str, ep: Option<&super::record::Endpoint>) -> Value {
    let s = |f: &dyn Fn(&super::record::Endpoint) -> String| ep.map(f).unwrap_or_default();
    let aliases = ep.filter(|e| !e.aliases.is_empty()).map(|e| json!(e.aliases)).unwrap_or(Value::Null);
    let ipam = ep.and_then(|e| e.requested_ip).map(|ip| json!({"IPv4Address": ip.to_string()})).unwrap_or(Value::Null);
    json!({
        "IPAMConfig": ipam, "Links": null, "Aliases": aliases,
        "MacAddress": s(&|e| e.mac.clone()), "DriverOpts": null, "GwPriority": 0,
        "NetworkID": network_id, "EndpointID": s(&|e| e.endpoint_id.clone()),
        "Gateway": s(&|e| e.gateway.map(|g| g.to_string()).unwrap_or_default()),
        "IPAddress": s(&|e| e.ip.map(|g| g.to_string()).unwrap_or_default()),
        "IPPrefixLen": ep.map(|e| e.prefix).unwrap_or(0),
        "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": null,
    })
}

fn ports_json(net: &ContainerNet) -> Value {
    let mut m = Map::new();
    for p in &net.ports {
        let key = format!("{}/{}", p.container_port, p.proto.as_str());
        let list = m.entry(key).or_insert_with(|| json!([]));
        if let Value::Array(a) = list {
            let ip = if p.host_ip.is_empty() { "0.0.0.0" } else { p.host_ip.as_str() };
            a.push(json!({"HostIp": ip, "HostPort": p.host_port.to_string()}));
        }
    }
    Value::Object(m)
}
