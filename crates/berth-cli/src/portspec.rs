//! docker's `nat.ParsePortSpecs` and `--expose`: `-p` values to the create
//! body's `ExposedPorts` and `PortBindings`, with the same error texts.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// `ExposedPorts` keys ("80/tcp") and `PortBindings` ("80/tcp" → bindings).
#[derive(Debug, Default, PartialEq)]
pub struct PortSpecs {
    pub exposed: BTreeMap<String, Value>,
    pub bindings: BTreeMap<String, Vec<Value>>,
}

impl PortSpecs {
    pub fn bindings_json(&self) -> Value {
        Value::Object(self.bindings.iter().map(|(k, v)| (k.clone(), Value::Array(v.clone()))).collect::<Map<_, _>>())
    }
}

/// Go's `ParseUint(s, 10, 16)`.
fn port_num(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `nat.ParsePortRange`: "80" or "80-90".
pub fn port_range(s: &str) -> Option<(u16, u16)> {
    match s.split_once('-') {
        None => port_num(s).map(|p| (p, p)),
        Some((a, b)) => {
            let (a, b) = (port_num(a)?, port_num(b.split('-').next().unwrap_or(""))?);
            (b >= a).then_some((a, b))
        }
    }
}

/// "80/udp" → ("udp", "80"); no slash means tcp.
fn split_proto(s: &str) -> (String, &str) {
    match s.split_once('/') {
        Some((p, "")) => ("tcp".into(), p),
        Some((p, proto)) => (proto.to_lowercase(), p),
        None => ("tcp".into(), s),
    }
}

/// IP, host port, container port, as `splitParts` cuts them.
fn split_parts(raw: &str) -> (String, &str, &str) {
    let parts: Vec<&str> = raw.split(':').collect();
    let n = parts.len();
    match n {
        1 => (String::new(), "", parts[0]),
        2 => (String::new(), parts[0], parts[1]),
        3 => (parts[0].to_string(), parts[1], parts[2]),
        _ => (parts[..n - 2].join(":"), parts[n - 2], parts[n - 1]),
    }
}

/// The long syntax (`target=80,published=8080,protocol=udp`) in short form.
fn standard_notation(p: &str) -> Result<String, String> {
    if !p.contains('=') {
        return Ok(p.to_string());
    }
    let mut params: BTreeMap<&str, &str> = BTreeMap::from([("protocol", "tcp")]);
    for param in p.split(',') {
        match param.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                params.insert(k, v);
            }
            _ => return Err(format!("invalid publish opts format (should be name=value but got '{param}')")),
        }
    }
    let get = |k: &str| params.get(k).copied().unwrap_or("");
    Ok(format!("{}:{}/{}", get("published"), get("target"), get("protocol")))
}

fn add_one(specs: &mut PortSpecs, raw: &str) -> Result<(), String> {
    let (mut ip, host, container) = split_parts(raw);
    let (proto, container) = split_proto(container);
    if ip.starts_with('[') {
        ip = ip.strip_prefix('[').and_then(|s| s.strip_suffix(']')).map(String::from).ok_or_else(|| format!("invalid IP address {ip}: missing ']' in address"))?;
    }
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    if container.is_empty() {
        return Err(format!("no port specified: {raw}<empty>"));
    }
    let (start, end) = port_range(container).ok_or_else(|| format!("invalid containerPort: {container}"))?;
    let (hstart, hend) = if host.is_empty() { (0, 0) } else { port_range(host).ok_or_else(|| format!("invalid hostPort: {host}"))? };
    if !host.is_empty() && end - start != hend - hstart && end != start {
        return Err(format!("invalid ranges specified for container and host Ports: {container} and {host}"));
    }
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {proto}"));
    }
    for i in 0..=(end - start) {
        let mut host_port = if host.is_empty() { String::new() } else { (hstart + i).to_string() };
        if start == end && hstart != hend {
            host_port = format!("{host_port}-{hend}");
        }
        let key = format!("{}/{proto}", start + i);
        specs.exposed.insert(key.clone(), json!({}));
        specs.bindings.entry(key).or_default().push(json!({"HostIp": ip, "HostPort": host_port}));
    }
    Ok(())
}

/// `-p` values and `--expose` values, as the docker CLI turns them into
/// the create body.
pub fn parse(publish: &[String], expose: &[String]) -> Result<PortSpecs, String> {
    let mut specs = PortSpecs::default();
    for p in publish {
        add_one(&mut specs, &standard_notation(p)?)?;
    }
    for e in expose {
        let (proto, port) = split_proto(e);
        let (a, b) = port_range(port).ok_or_else(|| format!("invalid range format for --expose: {e}, error: invalid syntax"))?;
        for p in a..=b {
            specs.exposed.insert(format!("{p}/{proto}"), json!({}));
        }
    }
    Ok(specs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &PortSpecs) -> String {
        s.bindings_json().to_string()
    }

    #[test]
    fn short_forms() {
        let s = parse(&["8080:80".into(), "127.0.0.1:9090:90/udp".into(), "443".into(), "127.0.0.1::53".into()], &[]).unwrap();
        assert_eq!(
            b(&s),
            r#"{"443/tcp":[{"HostIp":"","HostPort":""}],"53/tcp":[{"HostIp":"127.0.0.1","HostPort":""}],"80/tcp":[{"HostIp":"","HostPort":"8080"}],"90/udp":[{"HostIp":"127.0.0.1","HostPort":"9090"}]}"#
        );
        assert_eq!(s.exposed.len(), 4);
    }

    #[test]
    fn ranges_ipv6_and_long_syntax() {
        let s = parse(&["8000-8001:80-81".into()], &[]).unwrap();
        assert_eq!(b(&s), r#"{"80/tcp":[{"HostIp":"","HostPort":"8000"}],"81/tcp":[{"HostIp":"","HostPort":"8001"}]}"#);
        let s = parse(&["8000-8010:80".into()], &[]).unwrap();
        assert_eq!(b(&s), r#"{"80/tcp":[{"HostIp":"","HostPort":"8000-8010"}]}"#);
        let s = parse(&["[::1]:80:80".into()], &[]).unwrap();
        assert_eq!(b(&s), r#"{"80/tcp":[{"HostIp":"::1","HostPort":"80"}]}"#);
        let s = parse(&["target=80,published=8080,protocol=udp".into()], &[]).unwrap();
        assert_eq!(b(&s), r#"{"80/udp":[{"HostIp":"","HostPort":"8080"}]}"#);
        let s = parse(&[], &["7000-7001/udp".into(), "80".into()]).unwrap();
        assert_eq!(s.exposed.keys().collect::<Vec<_>>(), ["7000/udp", "7001/udp", "80/tcp"]);
    }

    #[test]
    fn hostile_specs() {
        for (spec, err) in [
            ("x", "invalid containerPort: x"),
            ("70000", "invalid containerPort: 70000"),
            ("90-80", "invalid containerPort: 90-80"),
            ("a:80", "invalid hostPort: a"),
            ("1.2.3:80:80", "invalid IP address: 1.2.3"),
            ("80/icmp", "invalid proto: icmp"),
            ("8000-8002:80-81", "invalid ranges specified for container and host Ports: 80-81 and 8000-8002"),
            ("8080:", "no port specified: 8080:<empty>"),
            ("target=80,x", "invalid publish opts format (should be name=value but got 'x')"),
            ("[::1:80:80", "invalid IP address"),
        ] {
            let e = parse(&[spec.into()], &[]).err().unwrap_or_default();
            assert!(e.contains(err), "{spec}: {e}");
        }
        assert!(parse(&[], &["x".into()]).is_err());
    }
}
