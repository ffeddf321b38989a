//! What a create (or `network connect`) asks of its network endpoints:
//! `NetworkingConfig.EndpointsConfig` read into endpoint requests, and the
//! deprecated container-wide `Config.MacAddress` moved to its endpoint as
//! dockerd does it for the client's API version.

use crate::network::record::Endpoint;
use crate::network::ContainerNet;
use berth_api::ApiError;
use serde_json::Value;

/// The networks a create request asks for (`NetworkingConfig.EndpointsConfig`).
pub fn requested(networking_config: Option<&Value>) -> Result<ContainerNet, ApiError> {
    let mut net = ContainerNet::default();
    let Some(Value::Object(eps)) = networking_config.and_then(|v| v.get("EndpointsConfig")) else { return Ok(net) };
    for (name, cfg) in eps {
        net.endpoints.insert(name.clone(), endpoint_request(cfg)?);
    }
    Ok(net)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect()).unwrap_or_default()
}

/// One `EndpointSettings` as asked for.
fn endpoint_request(cfg: &Value) -> Result<Endpoint, ApiError> {
    let ipam = cfg.get("IPAMConfig");
    let addr = |key: &str| ipam.and_then(|c| c.get(key)).and_then(Value::as_str).filter(|s| !s.is_empty());
    let ip = match addr("IPv4Address") {
        None => None,
        Some(s) => Some(s.parse().map_err(|_| ApiError::invalid(format!("invalid IPv4 address: {s}")))?),
    };
    let ip6 = match addr("IPv6Address") {
        None => None,
        Some(s) => Some(s.parse().map_err(|_| ApiError::invalid(format!("invalid IPv6 address: {s}")))?),
    };
    let mut link_local_ips = vec![];
    for s in strings(ipam.and_then(|c| c.get("LinkLocalIPs"))) {
        let a: std::net::IpAddr = s.parse().map_err(|_| ApiError::invalid(format!("invalid link-local IP address: {s}")))?;
        let link_local = match a {
            std::net::IpAddr::V4(v) => v.is_link_local(),
            std::net::IpAddr::V6(v) => v.segments()[0] & 0xffc0 == 0xfe80,
        };
        if !link_local {
            return Err(ApiError::invalid(format!("invalid link-local IP address: {s} is not in 169.254.0.0/16 or fe80::/10")));
        }
        link_local_ips.push(a);
    }
    let mac = match cfg.get("MacAddress").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        None => None,
        Some(m) => Some(parse_mac(m)?),
    };
    let links = strings(cfg.get("Links"));
    for l in &links {
        let (target, alias) = l.split_once(':').unwrap_or((l, l));
        if target.trim_start_matches('/').is_empty() || alias.is_empty() {
            return Err(ApiError::invalid(format!("invalid link {l:?}: want container:alias")));
        }
    }
    let driver_opts: std::collections::BTreeMap<String, String> = match cfg.get("DriverOpts") {
        None | Some(Value::Null) => Default::default(),
        Some(v) => serde_json::from_value(v.clone()).map_err(|_| ApiError::invalid("DriverOpts must be a map of strings"))?,
    };
    // The endpoint options dockerd's bridge driver acts on; berth does not.
    if let Some(k) = driver_opts.keys().find(|k| k.starts_with("com.docker.network.")) {
        return Err(ApiError::invalid(format!("berth does not support the endpoint driver option {k} yet")));
    }
    Ok(Endpoint {
        requested_ip: ip,
        requested_ip6: ip6,
        aliases: strings(cfg.get("Aliases")),
        requested_mac: mac,
        link_local_ips,
        links,
        driver_opts,
        ..Default::default()
    })
}

/// A MAC address as `ip link` takes it: six hex bytes, ':' or '-' between,
/// written back lower case with ':'.
pub fn parse_mac(m: &str) -> Result<String, ApiError> {
    let bad = || ApiError::invalid(format!("invalid MAC address: {m}"));
    let parts: Vec<&str> = m.split([':', '-']).collect();
    if parts.len() != 6 || !parts.iter().all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Err(bad());
    }
    let first = u8::from_str_radix(parts[0], 16).map_err(|_| bad())?;
    if first & 1 == 1 {
        return Err(ApiError::invalid(format!("invalid MAC address: {m} is a multicast address")));
    }
    Ok(parts.join(":").to_ascii_lowercase())
}

/// The container-wide `Config.MacAddress` (deprecated), moved to the
/// endpoint of the container's network as dockerd does it: before API
/// 1.44 it is the only MAC setting (endpoint ones are dropped, and it is
/// kept in `Config` for inspect); from 1.44 it must agree with the
/// endpoint's and leaves `Config`.
pub fn migrate_mac_address(body: &mut berth_api::container::CreateRequest, gates: berth_api::gates::VersionGates) -> Result<(), ApiError> {
    let mac = body.config.extra.get("MacAddress").and_then(Value::as_str).unwrap_or("").to_string();
    let mode = match body.host_config.network_mode.as_str() {
        "" | "default" => "bridge".to_string(),
        m => m.to_string(),
    };
    let own_network = !(mode == "host" || mode == "none" || mode.starts_with("container:"));
    let nc = body.networking_config.get_or_insert_with(|| serde_json::json!({}));
    if !nc.is_object() {
        return Err(ApiError::invalid("NetworkingConfig must be an object"));
    }
    let endpoints = nc.as_object_mut().map(|o| o.entry("EndpointsConfig").or_insert_with(|| serde_json::json!({})));
    let Some(Value::Object(endpoints)) = endpoints else { return Err(ApiError::invalid("EndpointsConfig must be an object")) };
    if gates.container_wide_mac_address() {
        if mac.is_empty() {
            // The old API had no endpoint MAC: one sent is ignored, as dockerd does.
            for ep in endpoints.values_mut() {
                if let Some(o) = ep.as_object_mut() {
                    o.remove("MacAddress");
                }
            }
            return Ok(());
        }
        if !own_network {
            return Err(ApiError::invalid("conflicting options: mac-address and the network mode"));
        }
        let ep = endpoints.entry(mode).or_insert_with(|| serde_json::json!({}));
        if let Some(o) = ep.as_object_mut() {
            o.insert("MacAddress".into(), Value::String(mac));
        }
        return Ok(());
    }
    if mac.is_empty() {
        return Ok(());
    }
    if own_network {
        let ep = endpoints.entry(mode).or_insert_with(|| serde_json::json!({}));
        let Some(o) = ep.as_object_mut() else { return Err(ApiError::invalid("EndpointsConfig entries must be objects")) };
        match o.get("MacAddress").and_then(Value::as_str).filter(|s| !s.is_empty()) {
            None => {
                o.insert("MacAddress".into(), Value::String(mac));
            }
            Some(m) if m.eq_ignore_ascii_case(&mac) => {}
            Some(_) => {
                return Err(ApiError::invalid(
                    "the container-wide MAC address must match the endpoint-specific MAC address for the main network, or be left empty",
                ))
            }
        }
    }
    body.config.extra.remove("MacAddress");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::container::CreateRequest;
    use berth_api::gates::VersionGates;
    use berth_api::version::ApiVersion;
    use serde_json::json;

    fn body(v: Value) -> CreateRequest {
        serde_json::from_value(v).unwrap()
    }

    fn at(minor: u32) -> VersionGates {
        VersionGates::new(ApiVersion { major: 1, minor })
    }

    #[test]
    fn endpoint_fields_are_read() {
        let net = requested(Some(&json!({"EndpointsConfig": {"n": {
            "IPAMConfig": {"IPv4Address": "10.0.0.5", "IPv6Address": "2001:db8::5", "LinkLocalIPs": ["169.254.1.1", "fe80::9"]},
            "MacAddress": "02:42:AC:11:00:0A", "Links": ["up:bar"], "DriverOpts": {"k": "v"}, "Aliases": ["a"]}}})))
        .unwrap();
        let ep = &net.endpoints["n"];
        assert_eq!(ep.requested_ip6, Some("2001:db8::5".parse().unwrap()));
        assert_eq!(ep.requested_mac.as_deref(), Some("02:42:ac:11:00:0a"));
        assert_eq!((ep.links.len(), ep.link_local_ips.len(), ep.driver_opts["k"].as_str()), (1, 2, "v"));
        for bad in [
            json!({"IPAMConfig": {"IPv6Address": "10.0.0.1"}}),
            json!({"MacAddress": "02:42:ac:11:00"}),
            json!({"MacAddress": "01:00:5e:00:00:01"}),
            json!({"Links": [":x"]}),
            json!({"DriverOpts": {"com.docker.network.endpoint.ifname": "x"}}),
            json!({"DriverOpts": ["x"]}),
        ] {
            assert!(requested(Some(&json!({"EndpointsConfig": {"n": bad.clone()}}))).is_err(), "{bad}");
        }
    }

    #[test]
    fn container_wide_mac_by_version() {
        let mut b = body(json!({"Image": "x", "MacAddress": "02:42:00:00:00:01"}));
        migrate_mac_address(&mut b, at(43)).unwrap();
        assert_eq!(b.networking_config.unwrap()["EndpointsConfig"]["bridge"]["MacAddress"], "02:42:00:00:00:01");
        assert!(b.config.extra.contains_key("MacAddress"), "kept for inspect before 1.44");
        // Before 1.44 an endpoint MAC alone is ignored, as dockerd does.
        let mut b = body(json!({"Image": "x", "NetworkingConfig": {"EndpointsConfig": {"bridge": {"MacAddress": "02:42:00:00:00:02"}}}}));
        migrate_mac_address(&mut b, at(41)).unwrap();
        assert!(b.networking_config.unwrap()["EndpointsConfig"]["bridge"].get("MacAddress").is_none());
        let mut b = body(json!({"Image": "x", "MacAddress": "02:42:00:00:00:01", "HostConfig": {"NetworkMode": "n1"}}));
        migrate_mac_address(&mut b, at(47)).unwrap();
        assert_eq!(b.networking_config.unwrap()["EndpointsConfig"]["n1"]["MacAddress"], "02:42:00:00:00:01");
        assert!(!b.config.extra.contains_key("MacAddress"));
        let mut b = body(json!({"Image": "x", "MacAddress": "02:42:00:00:00:01", "HostConfig": {"NetworkMode": "host"}}));
        assert!(migrate_mac_address(&mut b, at(43)).is_err());
    }
}
