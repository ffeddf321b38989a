//! What clients see: network objects (`network ls/inspect`) and a
//! container's `NetworkSettings` and `Ports`.

use super::record::{ContainerNet, Endpoint, NetworkRecord};
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
        let aux = |subnet: &str| {
            n.aux_addresses.get(subnet).filter(|m| !m.is_empty()).map(|m| m.iter().map(|(k, v)| (k.clone(), v.to_string())).collect())
        };
        let mut config: Vec<IpamConfig> = n
            .pools4()
            .iter()
            .map(|p| IpamConfig {
                subnet: p.subnet.to_string(),
                gateway: p.gateway.to_string(),
                ip_range: p.ip_range.map(|r| r.to_string()),
                auxiliary_addresses: aux(&p.subnet.to_string()),
            })
            .collect();
        config.extend(n.ipv6.iter().map(|p| IpamConfig {
            subnet: p.subnet.to_string(),
            gateway: p.gateway.to_string(),
            ip_range: p.ip_range.map(|r| r.to_string()),
            auxiliary_addresses: aux(&p.subnet.to_string()),
        }));
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
                        ipv6_address: ep.ip6.map(|ip| format!("{ip}/{}", ep.prefix6)).unwrap_or_default(),
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
            enable_ipv6: n.ipv6.is_some(),
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

    /// `NetworkSettings` of a container (its leases while it runs);
    /// `exposed` are its `ExposedPorts` keys ("81/tcp").
    pub fn settings(&self, net: &ContainerNet, mode: &str, sandbox_key: &str, exposed: &[String]) -> Value {
        let st = self.lock();
        let mut networks = Map::new();
        const TOP: [&str; 8] = ["Gateway", "IPAddress", "IPPrefixLen", "MacAddress", "EndpointID", "GlobalIPv6Address", "GlobalIPv6PrefixLen", "IPv6Gateway"];
        let mut top = json!({"Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "MacAddress": "", "EndpointID": "",
            "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "IPv6Gateway": ""});
        if net.endpoints.is_empty() && !mode.starts_with("container:") {
            // Not running: Docker still lists the configured network.
            let name = if mode == "default" { "bridge" } else { mode };
            if let Some(n) = st.nets.values().find(|n| n.name == name || n.id == name) {
                networks.insert(n.name.clone(), endpoint_json(&n.id, None, None));
            }
        }
        for (name, ep) in &net.endpoints {
            let leased = ep.ip.is_some();
            let v = endpoint_json(&ep.network_id, leased.then_some(ep), Some(ep));
            if st.nets.get(&ep.network_id).is_some_and(|n| n.default_bridge) {
                for k in TOP {
                    top[k] = v[k].clone();
                }
            }
            networks.insert(name.clone(), v);
        }
        json!({
            "Bridge": "", "SandboxID": "", "SandboxKey": sandbox_key,
            "Ports": ports_json(net, exposed),
            "HairpinMode": false, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
            "SecondaryIPAddresses": null, "SecondaryIPv6Addresses": null,
            "EndpointID": top["EndpointID"], "Gateway": top["Gateway"],
            "GlobalIPv6Address": top["GlobalIPv6Address"], "GlobalIPv6PrefixLen": top["GlobalIPv6PrefixLen"],
            "IPAddress": top["IPAddress"], "IPPrefixLen": top["IPPrefixLen"], "IPv6Gateway": top["IPv6Gateway"],
            "MacAddress": top["MacAddress"],
            "Networks": networks,
        })
    }

    /// `ps`'s `Ports` list: the published ports, then the exposed ones
    /// without a binding (`{"PrivatePort": 81, "Type": "tcp"}`).
    pub fn summary_ports(&self, net: &ContainerNet, exposed: &[String]) -> Vec<Value> {
        let mut out: Vec<Value> = net
            .ports
            .iter()
            .map(|p| {
                json!({
                    "IP": if p.host_ip.is_empty() { "0.0.0.0" } else { p.host_ip.as_str() },
                    "PrivatePort": p.container_port, "PublicPort": p.host_port, "Type": p.proto.as_str()
                })
            })
            .collect();
        out.extend(unpublished(net, exposed).map(|(port, proto)| json!({"PrivatePort": port, "Type": proto})));
        out
    }
}

/// Exposed ports without a binding. dockerd lists them (in `ps` and, as
/// `"81/tcp": null`, in inspect) while the container has an endpoint on
/// a bridge network; not for `none`, `host` or a stopped container.
fn unpublished<'a>(net: &'a ContainerNet, exposed: &'a [String]) -> impl Iterator<Item = (u16, &'a str)> + 'a {
    let attached = net.endpoints.values().any(|e| e.ip.is_some());
    exposed
        .iter()
        .filter(move |_| attached)
        .filter_map(|k| {
            let (port, proto) = k.split_once('/').unwrap_or((k.as_str(), "tcp"));
            Some((port.parse::<u16>().ok()?, proto))
        })
        .filter(|(port, proto)| !net.ports.iter().any(|p| p.container_port == *port && p.proto.as_str() == *proto))
}

/// One entry of `NetworkSettings.Networks`: `ep` is the running endpoint
/// (leases), `req` what was asked for (shown also while stopped).
fn endpoint_json(network_id: &str, ep: Option<&Endpoint>, req: Option<&Endpoint>) -> Value {
    let s = |f: &dyn Fn(&Endpoint) -> String| ep.map(f).unwrap_or_default();
    let aliases = req.filter(|e| !e.aliases.is_empty()).map(|e| json!(e.aliases)).unwrap_or(Value::Null);
    let links = req.filter(|e| !e.links.is_empty()).map(|e| json!(e.links)).unwrap_or(Value::Null);
    let driver_opts = req.filter(|e| !e.driver_opts.is_empty()).map(|e| json!(e.driver_opts)).unwrap_or(Value::Null);
    let ipam = req.and_then(|e| {
        let mut m = Map::new();
        if let Some(ip) = e.requested_ip {
            m.insert("IPv4Address".into(), json!(ip.to_string()));
        }
        if let Some(ip) = e.requested_ip6 {
            m.insert("IPv6Address".into(), json!(ip.to_string()));
        }
        if !e.link_local_ips.is_empty() {
            m.insert("LinkLocalIPs".into(), json!(e.link_local_ips.iter().map(|ip| ip.to_string()).collect::<Vec<_>>()));
        }
        (!m.is_empty()).then_some(Value::Object(m))
    });
    // A stopped container shows the MAC it asked for (dockerd keeps it).
    let mac = ep.map(|e| e.mac.clone()).or_else(|| req.and_then(|e| e.requested_mac.clone())).unwrap_or_default();
    json!({
        "IPAMConfig": ipam.unwrap_or(Value::Null), "Links": links, "Aliases": aliases,
        "MacAddress": mac, "DriverOpts": driver_opts, "GwPriority": 0,
        "NetworkID": network_id, "EndpointID": s(&|e| e.endpoint_id.clone()),
        "Gateway": s(&|e| e.gateway.map(|g| g.to_string()).unwrap_or_default()),
        "IPAddress": s(&|e| e.ip.map(|g| g.to_string()).unwrap_or_default()),
        "IPPrefixLen": ep.map(|e| e.prefix).unwrap_or(0),
        "IPv6Gateway": s(&|e| e.gateway6.map(|g| g.to_string()).unwrap_or_default()),
        "GlobalIPv6Address": s(&|e| e.ip6.map(|g| g.to_string()).unwrap_or_default()),
        "GlobalIPv6PrefixLen": ep.map(|e| e.prefix6).unwrap_or(0),
        "DNSNames": null,
    })
}

fn ports_json(net: &ContainerNet, exposed: &[String]) -> Value {
    let mut m = Map::new();
    for (port, proto) in unpublished(net, exposed) {
        m.insert(format!("{port}/{proto}"), Value::Null);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::record::PortMap;
    use berth_net::firewall::Proto;

    #[test]
    fn exposed_ports_without_a_binding_are_shown_while_attached() {
        let exposed = vec!["80/tcp".to_string(), "81/tcp".to_string(), "82/udp".to_string()];
        let mut net = ContainerNet::default();
        // Stopped, or on `none`: no endpoint with an address, no ports.
        assert_eq!(ports_json(&net, &exposed), json!({}));
        net.endpoints.insert("app_default".into(), Endpoint { ip: Some("172.20.0.2".parse().expect("ip")), ..Default::default() });
        net.ports.push(PortMap { container_port: 80, proto: Proto::Tcp, host_ip: "127.0.0.1".into(), host_port: 32768 });
        assert_eq!(
            ports_json(&net, &exposed),
            json!({"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32768"}], "81/tcp": null, "82/udp": null})
        );
        let listed: Vec<(u16, &str)> = unpublished(&net, &exposed).collect();
        assert_eq!(listed, [(81, "tcp"), (82, "udp")]);
    }
}
