//! The networking flags of `run`/`create` (`--network`, `--network-alias`,
//! `--ip`, `--ip6`, `--mac-address`, `--link-local-ip`, `-p`, `-P`, `--expose`, `--link`, `--dns*`, `--add-host`) and
//! how the docker CLI puts them in the create body.

use berth_api::container::{ContainerConfig, HostConfig};
use serde_json::{json, Map, Value};
use std::net::IpAddr;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct NetworkOptions {
    /// Connect a container to a network
    #[arg(long = "network", alias = "net", value_name = "network")]
    pub network: Vec<String>,
    /// Add network-scoped alias for the container
    #[arg(long = "network-alias", alias = "net-alias", value_name = "list")]
    pub network_alias: Vec<String>,
    /// IPv4 address (e.g., 172.30.100.104)
    #[arg(long = "ip", value_name = "string")]
    pub ip: Option<String>,
    /// IPv6 address (e.g., 2001:db8::33)
    #[arg(long = "ip6", value_name = "string")]
    pub ip6: Option<String>,
    /// Container MAC address (e.g., 92:d0:c6:0a:29:33)
    #[arg(long = "mac-address", value_name = "string")]
    pub mac_address: Option<String>,
    /// Container IPv4/IPv6 link-local addresses
    #[arg(long = "link-local-ip", value_name = "list")]
    pub link_local_ip: Vec<String>,
    /// Publish a container's port(s) to the host
    #[arg(short = 'p', long = "publish", value_name = "list")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// Expose a port or a range of ports
    #[arg(long = "expose", value_name = "list")]
    pub expose: Vec<String>,
    /// Add link to another container
    #[arg(long = "link", value_name = "list")]
    pub link: Vec<String>,
    /// Set custom DNS servers
    #[arg(long = "dns", value_name = "list")]
    pub dns: Vec<String>,
    /// Set custom DNS search domains
    #[arg(long = "dns-search", value_name = "list")]
    pub dns_search: Vec<String>,
    /// Set DNS options
    #[arg(long = "dns-option", alias = "dns-opt", value_name = "list")]
    pub dns_option: Vec<String>,
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long = "add-host", value_name = "list")]
    pub add_host: Vec<String>,
}

/// One `--network` value: a name, or `name=..,alias=..,ip=..`.
#[derive(Debug, Default, Clone)]
struct Attachment {
    target: String,
    aliases: Vec<String>,
    ip: String,
    ip6: String,
    mac: String,
    link_local: Vec<String>,
    links: Vec<String>,
    driver_opts: Map<String, Value>,
}

fn flag_error(flag: &str, val: &str, msg: &str) -> String {
    format!("invalid argument \"{val}\" for \"{flag}\" flag: {msg}")
}

fn parse_attachment(v: &str) -> Result<Attachment, String> {
    if !v.contains('=') {
        return Ok(Attachment { target: v.to_string(), ..Default::default() });
    }
    let mut a = Attachment::default();
    for field in v.split(',') {
        let (k, val) = field.split_once('=').ok_or_else(|| flag_error("--network", v, &format!("invalid field '{field}' must be a key=value pair")))?;
        match k.to_lowercase().as_str() {
            "name" => a.target = val.to_string(),
            "alias" => a.aliases.push(val.to_string()),
            "ip" => a.ip = val.to_string(),
            "ip6" => a.ip6 = val.to_string(),
            "mac-address" => a.mac = val.to_string(),
            "link-local-ip" => a.link_local.push(val.to_string()),
            "link" => a.links.push(val.to_string()),
            "driver-opt" => {
                let (dk, dv) = val.split_once('=').ok_or_else(|| flag_error("--network", v, "invalid key value pair format in driver options"))?;
                a.driver_opts.insert(dk.to_string(), json!(dv));
            }
            _ => return Err(flag_error("--network", v, &format!("invalid field key {k}"))),
        }
    }
    if a.target.is_empty() {
        return Err(flag_error("--network", v, "network name not specified"));
    }
    Ok(a)
}

/// docker's `container.NetworkMode.IsUserDefined`.
pub fn is_user_defined(mode: &str) -> bool {
    !matches!(mode, "default" | "bridge" | "host" | "none") && !mode.starts_with("container:")
}

fn validate_ip(flag: &str, v: &str) -> Result<(), String> {
    v.trim().parse::<IpAddr>().map(|_| ()).map_err(|_| flag_error(flag, v, &format!("IP address is not correctly formatted: {v}")))
}

/// `ValidateExtraHost`: "name:ip" or "name=ip", as the API wants it.
pub fn extra_host(v: &str) -> Result<String, String> {
    let bad = || flag_error("--add-host", v, &format!("bad format for add-host: {:?}", v));
    let (k, ip) = v.split_once('=').or_else(|| v.split_once(':')).ok_or_else(bad)?;
    if k.is_empty() || k.contains(':') {
        return Err(bad());
    }
    let ip = ip.strip_prefix('[').and_then(|s| s.strip_suffix(']')).filter(|s| !s.is_empty()).unwrap_or(ip);
    if ip != "host-gateway" && ip.parse::<IpAddr>().is_err() {
        return Err(flag_error("--add-host", v, &format!("invalid IP address in add-host: {ip:?}")));
    }
    Ok(format!("{k}:{ip}"))
}

fn validate_link(v: &str) -> Result<(), String> {
    let (name, alias) = v.split_once(':').unwrap_or((v, v));
    if name.is_empty() || alias.is_empty() || v.matches(':').count() > 1 {
        return Err(flag_error("--link", v, &format!("invalid format: {v}")));
    }
    Ok(())
}

fn endpoint(a: &Attachment) -> Result<Value, String> {
    let mut ep = Map::new();
    if !a.aliases.is_empty() {
        ep.insert("Aliases".into(), json!(a.aliases));
    }
    if !a.links.is_empty() {
        ep.insert("Links".into(), json!(a.links));
    }
    if !a.driver_opts.is_empty() {
        ep.insert("DriverOpts".into(), Value::Object(a.driver_opts.clone()));
    }
    let mut ipam = Map::new();
    if !a.ip.is_empty() {
        if a.ip.parse::<std::net::Ipv4Addr>().is_err() {
            return Err(format!("invalid IPv4 address: {}", a.ip));
        }
        ipam.insert("IPv4Address".into(), json!(a.ip));
    }
    if !a.ip6.is_empty() {
        if a.ip6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("invalid IPv6 address: {}", a.ip6));
        }
        ipam.insert("IPv6Address".into(), json!(a.ip6));
    }
    if !a.link_local.is_empty() {
        for ip in &a.link_local {
            validate_ip("--link-local-ip", ip)?;
        }
        ipam.insert("LinkLocalIPs".into(), json!(a.link_local));
    }
    if !ipam.is_empty() {
        ep.insert("IPAMConfig".into(), Value::Object(ipam));
    }
    if !a.mac.is_empty() {
        let ok = a.mac.split(':').count() == 6 && a.mac.split(':').all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()));
        if !ok {
            return Err(flag_error("--mac-address", &a.mac, &format!("{} is not a valid mac address", a.mac)));
        }
        ep.insert("MacAddress".into(), json!(a.mac));
    }
    Ok(Value::Object(ep))
}

impl NetworkOptions {
    /// Fills in the networking parts of a create body; returns the
    /// `NetworkingConfig` (docker's `parseNetworkOpts`).
    pub fn apply(&self, config: &mut ContainerConfig, hc: &mut HostConfig) -> Result<Value, String> {
        for d in &self.dns {
            validate_ip("--dns", d)?;
        }
        for l in &self.link {
            validate_link(l)?;
        }
        let extra_hosts = self.add_host.iter().map(|h| extra_host(h)).collect::<Result<Vec<_>, _>>()?;
        let specs = crate::portspec::parse(&self.publish, &self.expose)?;
        let mut nets = self.network.iter().map(|n| parse_attachment(n)).collect::<Result<Vec<_>, _>>()?;
        let given = !nets.is_empty();
        if !given {
            nets.push(Attachment { target: "default".into(), ..Default::default() });
        }
        let (mut user, mut builtin) = (false, false);
        let mut endpoints = Map::new();
        let count = nets.len();
        for (i, mut n) in nets.into_iter().enumerate() {
            if is_user_defined(&n.target) {
                user = true;
            } else {
                builtin = true;
            }
            if i == 0 {
                if !n.aliases.is_empty() && !self.network_alias.is_empty() {
                    return Err("conflicting options: cannot specify both --network-alias and per-network alias".into());
                }
                if !n.ip.is_empty() && self.ip.is_some() {
                    return Err("conflicting options: cannot specify both --ip and per-network IPv4 address".into());
                }
                if !self.network_alias.is_empty() {
                    n.aliases = self.network_alias.clone();
                }
                if is_user_defined(&n.target) && !self.link.is_empty() {
                    n.links = self.link.clone();
                }
                if let Some(ip) = &self.ip {
                    n.ip = ip.clone();
                }
                if !n.ip6.is_empty() && self.ip6.is_some() {
                    return Err("conflicting options: cannot specify both --ip6 and per-network IPv6 address".into());
                }
                if let Some(ip) = &self.ip6 {
                    n.ip6 = ip.clone();
                }
                if !n.mac.is_empty() && self.mac_address.is_some() {
                    return Err("conflicting options: cannot specify both --mac-address and per-network MAC address".into());
                }
                if let Some(m) = &self.mac_address {
                    n.mac = m.clone();
                }
                if !n.link_local.is_empty() && !self.link_local_ip.is_empty() {
                    return Err("conflicting options: cannot specify both --link-local-ip and per-network link-local IP addresses".into());
                }
                if !self.link_local_ip.is_empty() {
                    n.link_local = self.link_local_ip.clone();
                }
            }
            let ep = endpoint(&n)?;
            if endpoints.contains_key(&n.target) {
                return Err(format!("network {:?} is specified multiple times", n.target));
            }
            // A lone network without options: the daemon makes the endpoint.
            if given && i == 0 && count == 1 && ep.as_object().is_some_and(Map::is_empty) {
                continue;
            }
            endpoints.insert(n.target.clone(), ep);
        }
        if user && builtin && given {
            return Err("conflicting options: cannot attach both user-defined and non-user-defined network-modes".into());
        }
        hc.network_mode = self.network.first().map(|n| parse_attachment(n).map(|a| a.target)).transpose()?.unwrap_or_else(|| "default".into());
        let list = |v: &[String]| (!v.is_empty()).then(|| json!(v));
        for (k, v) in [
            ("Dns", list(&self.dns)),
            ("DnsSearch", list(&self.dns_search)),
            ("DnsOptions", list(&self.dns_option)),
            ("ExtraHosts", list(&extra_hosts)),
            ("Links", list(&self.link)),
        ] {
            if let Some(v) = v {
                hc.extra.insert(k.into(), v);
            }
        }
        if !specs.bindings.is_empty() {
            hc.extra.insert("PortBindings".into(), specs.bindings_json());
        }
        if self.publish_all {
            hc.extra.insert("PublishAllPorts".into(), json!(true));
        }
        if !specs.exposed.is_empty() {
            config.exposed_ports = Some(specs.exposed);
        }
        Ok(json!({"EndpointsConfig": endpoints}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(o: NetworkOptions) -> Result<(ContainerConfig, HostConfig, Value), String> {
        let mut c = ContainerConfig::default();
        let mut h = HostConfig::default();
        let v = o.apply(&mut c, &mut h)?;
        Ok((c, h, v))
    }

    #[test]
    fn default_and_user_networks() {
        let (_, h, v) = apply(NetworkOptions::default()).unwrap();
        assert_eq!(h.network_mode, "default");
        assert_eq!(v, json!({"EndpointsConfig": {"default": {}}}));
        let o = NetworkOptions { network: vec!["n1".into()], network_alias: vec!["a".into()], ip: Some("10.1.0.5".into()), link: vec!["x:y".into()], ..Default::default() };
        let (_, h, v) = apply(o).unwrap();
        assert_eq!(h.network_mode, "n1");
        assert_eq!(v, json!({"EndpointsConfig": {"n1": {"Aliases": ["a"], "Links": ["x:y"], "IPAMConfig": {"IPv4Address": "10.1.0.5"}}}}));
        assert_eq!(h.extra["Links"], json!(["x:y"]));
        let (_, h, v) = apply(NetworkOptions { network: vec!["none".into()], ..Default::default() }).unwrap();
        assert_eq!((h.network_mode.as_str(), v), ("none", json!({"EndpointsConfig": {}})));
        let o = NetworkOptions { network: vec!["name=n1,alias=a1,ip=10.0.0.3".into(), "n2".into()], ..Default::default() };
        let (_, h, v) = apply(o).unwrap();
        assert_eq!(h.network_mode, "n1");
        assert_eq!(v, json!({"EndpointsConfig": {"n1": {"Aliases": ["a1"], "IPAMConfig": {"IPv4Address": "10.0.0.3"}}, "n2": {}}}));
        let o = NetworkOptions {
            network: vec!["n6".into()],
            ip6: Some("2001:db8:1::9".into()),
            mac_address: Some("02:42:0a:00:00:09".into()),
            link_local_ip: vec!["169.254.9.9".into()],
            ..Default::default()
        };
        let (_, _, v) = apply(o).unwrap();
        assert_eq!(
            v,
            json!({"EndpointsConfig": {"n6": {"MacAddress": "02:42:0a:00:00:09",
                "IPAMConfig": {"IPv6Address": "2001:db8:1::9", "LinkLocalIPs": ["169.254.9.9"]}}}})
        );
    }

    #[test]
    fn ports_dns_hosts() {
        let o = NetworkOptions {
            publish: vec!["8080:80".into()],
            publish_all: true,
            dns: vec!["10.0.0.1".into()],
            dns_search: vec!["example.com".into()],
            dns_option: vec!["ndots:2".into()],
            add_host: vec!["h1:10.0.0.9".into(), "h2=10.0.0.8".into(), "h3:host-gateway".into()],
            ..Default::default()
        };
        let (c, h, _) = apply(o).unwrap();
        assert_eq!(h.extra["PortBindings"], json!({"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}));
        assert_eq!(h.extra["PublishAllPorts"], json!(true));
        assert_eq!(h.extra["ExtraHosts"], json!(["h1:10.0.0.9", "h2:10.0.0.8", "h3:host-gateway"]));
        assert_eq!(h.extra["DnsOptions"], json!(["ndots:2"]));
        assert!(c.exposed_ports.unwrap().contains_key("80/tcp"));
    }

    #[test]
    fn hostile_flags() {
        let bad = [
            NetworkOptions { dns: vec!["1.2.3".into()], ..Default::default() },
            NetworkOptions { add_host: vec!["nohost".into()], ..Default::default() },
            NetworkOptions { add_host: vec!["h:notanip".into()], ..Default::default() },
            NetworkOptions { add_host: vec![":1.2.3.4".into()], ..Default::default() },
            NetworkOptions { link: vec!["a:b:c".into()], ..Default::default() },
            NetworkOptions { publish: vec!["x".into()], ..Default::default() },
            NetworkOptions { network: vec!["n1".into(), "host".into()], ..Default::default() },
            NetworkOptions { network: vec!["n1".into(), "n1".into()], ..Default::default() },
            NetworkOptions { network: vec!["alias=x".into()], ..Default::default() },
            NetworkOptions { network: vec!["name=n,bogus=1".into()], ..Default::default() },
            NetworkOptions { network: vec!["name=n,alias=a".into()], network_alias: vec!["b".into()], ..Default::default() },
            NetworkOptions { network: vec!["n".into()], ip: Some("300.1.1.1".into()), ..Default::default() },
            NetworkOptions { network: vec!["n".into()], ip6: Some("10.0.0.1".into()), ..Default::default() },
            NetworkOptions { mac_address: Some("02:42:zz:00:00:01".into()), ..Default::default() },
            NetworkOptions { link_local_ip: vec!["nope".into()], ..Default::default() },
        ];
        for o in bad {
            assert!(apply(o.clone()).is_err(), "{o:?}");
        }
        assert!(extra_host("h:[::1]").is_ok());
    }
}
