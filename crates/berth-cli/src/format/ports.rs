//! docker's `DisplayablePorts`: `0.0.0.0:8080->80/tcp, 443/tcp`, with
//! consecutive unpublished ports grouped into ranges.

use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Port {
    ip: String,
    private: u16,
    public: u16,
    kind: String,
}

fn parse(v: &Value) -> Port {
    let n = |k: &str| v.get(k).and_then(Value::as_u64).and_then(|x| u16::try_from(x).ok()).unwrap_or(0);
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    Port { ip: s("IP"), private: n("PrivatePort"), public: n("PublicPort"), kind: s("Type") }
}

pub fn displayable(ports: &[Value]) -> String {
    let mut ports: Vec<Port> = ports.iter().map(parse).collect();
    ports.sort_by(|a, b| {
        (a.private, &a.ip, a.public, &a.kind).cmp(&(b.private, &b.ip, b.public, &b.kind))
    });
    let mut groups: HashMap<String, (u16, u16)> = HashMap::new();
    let mut keys: Vec<String> = Vec::new();
    let mut result = Vec::new();
    let mut host_mappings = Vec::new();
    for p in &ports {
        let mut key = p.kind.clone();
        if !p.ip.is_empty() {
            if p.public != p.private {
                let host = if p.ip.contains(':') { format!("[{}]", p.ip) } else { p.ip.clone() };
                host_mappings.push(format!("{host}:{}->{}/{}", p.public, p.private, p.kind));
                continue;
            }
            key = format!("{}/{}", p.ip, p.kind);
        }
        match groups.get_mut(&key) {
            None => {
                groups.insert(key.clone(), (p.private, p.private));
                keys.push(key);
            }
            Some(g) if p.private == g.1.wrapping_add(1) => g.1 = p.private,
            Some(g) => {
                result.push(form_group(&key, g.0, g.1));
                *g = (p.private, p.private);
            }
        }
    }
    for k in &keys {
        if let Some(g) = groups.get(k) {
            result.push(form_group(k, g.0, g.1));
        }
    }
    result.extend(host_mappings);
    result.join(", ")
}

fn form_group(key: &str, first: u16, last: u16) -> String {
    let (ip, kind) = match key.rsplit_once('/') {
        Some((ip, kind)) => (ip, kind),
        None => ("", key),
    };
    let mut group = first.to_string();
    if first != last {
        group = format!("{group}-{last}");
    }
    if !ip.is_empty() {
        group = format!("{ip}:{group}->{group}");
    }
    format!("{group}/{kind}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn groups_and_maps() {
        let ports = vec![
            json!({"PrivatePort": 81, "Type": "tcp"}),
            json!({"PrivatePort": 80, "Type": "tcp"}),
            json!({"PrivatePort": 53, "Type": "udp"}),
            json!({"IP": "0.0.0.0", "PrivatePort": 443, "PublicPort": 8443, "Type": "tcp"}),
            json!({"IP": "::", "PrivatePort": 443, "PublicPort": 8443, "Type": "tcp"}),
        ];
        assert_eq!(
            displayable(&ports),
            "53/udp, 80-81/tcp, 0.0.0.0:8443->443/tcp, [::]:8443->443/tcp"
        );
        assert_eq!(displayable(&[]), "");
        assert_eq!(displayable(&[json!({"PrivatePort": "bad"})]), "0/");
    }
}
