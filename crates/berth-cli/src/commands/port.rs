//! `berth port CONTAINER [PRIVATE_PORT[/PROTO]]`: the published ports from
//! inspect's `NetworkSettings.Ports`, naturally sorted as docker prints them.

use berth_client::{segment, Client, Query};
use serde_json::Value;

#[derive(clap::Args, Debug)]
pub struct Args {
    pub container: String,
    /// PRIVATE_PORT[/PROTO]
    pub port: Option<String>,
}

/// Go's `net.JoinHostPort`.
fn join_host_port(ip: &str, port: &str) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

fn frontends(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let s = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            join_host_port(&s("HostIp"), &s("HostPort"))
        })
        .collect()
}

/// The lines `docker port` prints, or its error.
pub fn lines(ports: &Value, container: &str, port: Option<&str>) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    match port {
        Some(p) => {
            let (num, proto) = p.split_once('/').unwrap_or((p, ""));
            let proto = if proto.is_empty() { "tcp" } else { proto };
            if num.parse::<u16>().is_err() {
                return Err(format!("Error: invalid port ({num}): strconv.ParseUint: parsing {num:?}: invalid syntax"));
            }
            out = ports.get(format!("{num}/{proto}")).map(frontends).unwrap_or_default();
            if out.is_empty() {
                return Err(format!("Error: No public port '{p}' published for {container}"));
            }
        }
        None => {
            for (from, list) in ports.as_object().into_iter().flatten() {
                out.extend(frontends(list).into_iter().map(|f| format!("{from} -> {f}")));
            }
        }
    }
    out.sort_by(|a, b| super::network::natural_less(a, b));
    Ok(out)
}

pub async fn run(client: &Client, a: Args) -> anyhow::Result<()> {
    let c: Value = client.get_json(&format!("/containers/{}/json", segment(&a.container)), &Query::new()).await?;
    let ports = c.get("NetworkSettings").and_then(|n| n.get("Ports")).cloned().unwrap_or(Value::Null);
    let out = lines(&ports, &a.container, a.port.as_deref()).map_err(anyhow::Error::msg)?;
    if !out.is_empty() {
        println!("{}", out.join("\n"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_and_picks() {
        let p = json!({"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "32768"}, {"HostIp": "::", "HostPort": "32768"}], "9/udp": [{"HostIp": "127.0.0.1", "HostPort": "900"}], "443/tcp": null});
        assert_eq!(lines(&p, "c", None).unwrap(), ["9/udp -> 127.0.0.1:900", "80/tcp -> 0.0.0.0:32768", "80/tcp -> [::]:32768"]);
        assert_eq!(lines(&p, "c", Some("9/udp")).unwrap(), ["127.0.0.1:900"]);
        assert_eq!(lines(&p, "c", Some("443")).unwrap_err(), "Error: No public port '443' published for c");
        assert!(lines(&p, "c", Some("x")).unwrap_err().starts_with("Error: invalid port (x)"));
        assert!(lines(&Value::Null, "c", None).unwrap().is_empty());
    }
}
