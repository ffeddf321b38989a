//! `ports:` entries, short syntax (`[HOST_IP:][HOST[-HOST]:]CONTAINER[-CONTAINER][/PROTO]`)
//! and long syntax, to the long form Compose prints: `mode`, `host_ip`,
//! `target`, `published`, `protocol`. A container range expands to one
//! entry per port, as in Compose.

use serde_json::{json, Map, Value};

/// One `ports:` item to its long form(s).
pub fn normalize(item: Value) -> Result<Vec<Value>, String> {
    match item {
        Value::Number(n) => {
            let t = n
                .as_u64()
                .filter(|p| (1..=65535).contains(p))
                .ok_or_else(|| format!("invalid port {n}"))?;
            Ok(vec![long(None, t, None, "tcp")])
        }
        Value::String(s) => short(&s),
        Value::Object(mut m) => {
            m.retain(|k, _| !k.starts_with("x-"));
            let target = match m.get("target") {
                Some(Value::Number(n)) => n.as_u64(),
                Some(Value::String(s)) => s.parse().ok(),
                _ => None,
            }
            .filter(|p| (1..=65535).contains(p))
            .ok_or("long syntax port needs a target port between 1 and 65535")?;
            m.insert("target".into(), json!(target));
            if let Some(Value::Number(n)) = m.get("published") {
                let p = n.to_string();
                m.insert("published".into(), Value::String(p));
            }
            m.entry("mode").or_insert(json!("ingress"));
            m.entry("protocol").or_insert(json!("tcp"));
            Ok(vec![Value::Object(m)])
        }
        other => Err(format!("invalid port {other}")),
    }
}

fn long(host_ip: Option<&str>, target: u64, published: Option<String>, proto: &str) -> Value {
    let mut m = Map::new();
    m.insert("mode".into(), json!("ingress"));
    if let Some(ip) = host_ip {
        m.insert("host_ip".into(), json!(ip));
    }
    m.insert("target".into(), json!(target));
    if let Some(p) = published {
        m.insert("published".into(), json!(p));
    }
    m.insert("protocol".into(), json!(proto));
    Value::Object(m)
}

fn range(s: &str) -> Result<(u64, u64), String> {
    let parse = |p: &str| {
        p.parse::<u64>()
            .ok()
            .filter(|n| (1..=65535).contains(n))
            .ok_or_else(|| format!("invalid port {p:?}"))
    };
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (parse(a)?, parse(b)?);
            if b < a {
                return Err(format!("invalid port range {s:?}"));
            }
            Ok((a, b))
        }
        None => {
            let p = parse(s)?;
            Ok((p, p))
        }
    }
}

fn short(s: &str) -> Result<Vec<Value>, String> {
    let (spec, proto) = match s.rsplit_once('/') {
        Some((a, p)) if matches!(p, "tcp" | "udp" | "sctp") => (a, p),
        Some(_) => return Err(format!("invalid proto in {s:?}")),
        None => (s, "tcp"),
    };
    // Host IP: bracketed IPv6, or the first of three colon-separated parts.
    let (ip, rest) = if let Some(r) = spec.strip_prefix('[') {
        let (ip, after) = r
            .split_once("]:")
            .ok_or_else(|| format!("invalid IPv6 host in {s:?}"))?;
        (Some(ip), after)
    } else if spec.matches(':').count() == 2 {
        let (ip, after) = spec.split_once(':').ok_or("unreachable")?;
        (Some(ip), after)
    } else if spec.matches(':').count() > 2 {
        return Err(format!(
            "invalid port {s:?}: put an IPv6 host address in brackets"
        ));
    } else {
        (None, spec)
    };
    let ip = ip.filter(|i| !i.is_empty());
    let (host, container) = match rest.rsplit_once(':') {
        Some((h, c)) => (Some(h).filter(|h| !h.is_empty()), c),
        None => (None, rest),
    };
    let (c0, c1) = range(container)?;
    let count = c1 - c0 + 1;
    let Some(host) = host else {
        return Ok((c0..=c1).map(|t| long(ip, t, None, proto)).collect());
    };
    let (h0, h1) = range(host)?;
    if count == 1 {
        return Ok(vec![long(ip, c0, Some(host.to_string()), proto)]);
    }
    if h1 - h0 + 1 != count {
        return Err(format!(
            "invalid port {s:?}: host and container port ranges differ in size"
        ));
    }
    Ok((0..count)
        .map(|i| long(ip, c0 + i, Some((h0 + i).to_string()), proto))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(v: Value) -> Value {
        let mut r = normalize(v).unwrap();
        assert_eq!(r.len(), 1);
        r.remove(0)
    }

    #[test]
    fn short_syntax() {
        assert_eq!(
            one(json!(80)),
            json!({"mode":"ingress","target":80,"protocol":"tcp"})
        );
        assert_eq!(
            one(json!("8080:80")),
            json!({"mode":"ingress","target":80,"published":"8080","protocol":"tcp"})
        );
        assert_eq!(
            one(json!("127.0.0.1:8080:80/udp")),
            json!({"mode":"ingress","host_ip":"127.0.0.1","target":80,"published":"8080","protocol":"udp"})
        );
        assert_eq!(one(json!("127.0.0.1::80"))["host_ip"], json!("127.0.0.1"));
        assert!(one(json!("127.0.0.1::80")).get("published").is_none());
        assert_eq!(one(json!("[::1]:53:53"))["host_ip"], json!("::1"));
        assert_eq!(one(json!("9000-9010:80"))["published"], json!("9000-9010"));
    }

    #[test]
    fn ranges_expand() {
        let r = normalize(json!("9090-9091:8080-8081")).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1]["target"], json!(8081));
        assert_eq!(r[1]["published"], json!("9091"));
        assert_eq!(normalize(json!("3000-3002")).unwrap().len(), 3);
    }

    #[test]
    fn long_syntax() {
        assert_eq!(
            one(json!({"target": "80", "published": 8080})),
            json!({"mode":"ingress","target":80,"published":"8080","protocol":"tcp"})
        );
    }

    #[test]
    fn bad_ports() {
        for bad in ["x", "0", "70000", "80/xtp", "1-3:1-2", "5-1", "::1:80:80"] {
            assert!(normalize(json!(bad)).is_err(), "{bad}");
        }
        assert!(normalize(json!({"published": 1})).is_err());
        assert!(normalize(json!(true)).is_err());
    }
}
