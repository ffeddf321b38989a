//! `berth compose port SERVICE PRIVATE_PORT`: the public address a
//! replica's port is published on.

use super::session::{name_of, Session};
use super::Global;
use berth_api::container::ContainerSummary;
use berth_client::Client;
use serde_json::Value;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Index of the container if service has multiple replicas
    #[arg(long)]
    pub index: Option<u64>,
    /// tcp or udp
    #[arg(long, default_value = "tcp")]
    pub protocol: String,
    pub service: String,
    pub private_port: u16,
}

/// `IP:PORT` of the first binding of `port/protocol`, or Compose's error.
pub fn public_address(c: &ContainerSummary, port: u16, protocol: &str) -> anyhow::Result<String> {
    for p in &c.ports {
        let private = p.get("PrivatePort").and_then(Value::as_u64);
        let kind = p.get("Type").and_then(Value::as_str).unwrap_or("tcp");
        let public = p.get("PublicPort").and_then(Value::as_u64).unwrap_or(0);
        if private == Some(u64::from(port)) && kind == protocol && public != 0 {
            let ip = p.get("IP").and_then(Value::as_str).unwrap_or("");
            return Ok(format!("{ip}:{public}"));
        }
    }
    anyhow::bail!("no port {port}/{protocol} for container {}", name_of(c))
}

pub async fn run(client: &Client, global: &Global, args: Args) -> anyhow::Result<()> {
    let s = Session::load(client, global, std::slice::from_ref(&args.service))?;
    let c = super::target::pick(&s, &args.service, args.index, false).await?;
    println!("{}", public_address(&c, args.private_port, &args.protocol)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_binding() {
        let c = ContainerSummary {
            names: vec!["/p-web-1".into()],
            ports: vec![json!({"PrivatePort": 80, "Type": "tcp"}), json!({"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"})],
            ..Default::default()
        };
        assert_eq!(public_address(&c, 80, "tcp").unwrap(), "0.0.0.0:8080");
        assert_eq!(public_address(&c, 80, "udp").unwrap_err().to_string(), "no port 80/udp for container p-web-1");
    }
}
