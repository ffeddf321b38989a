//! Which endpoint serves a registry host: `docker.io` is Docker Hub's API
//! host (after any mirrors); https with verification by default; for
//! insecure registries (configured, loopback and `localhost`) https without
//! verification, then plain http, as dockerd tries them.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::ClientConfig;

use crate::auth::Credentials;
use crate::client::Repository;
use crate::error::{DistributionError, Result};

pub const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";

#[derive(Debug, Clone, Default)]
pub struct RegistryConfig {
    /// `insecure-registries`: `host[:port]` or CIDR ranges.
    pub insecure: Vec<String>,
    /// `registry-mirrors` for docker.io: base URLs.
    pub mirrors: Vec<String>,
    /// `certs.d` directories, searched for `HOST/`.
    pub certs_dirs: Vec<PathBuf>,
    /// Where `docker.io` is served, when not Docker Hub's API host: the
    /// tests point it at a closed loopback port so that no test can reach
    /// the internet, and an air-gapped site can point it at its own copy.
    pub hub_host: Option<String>,
}

impl RegistryConfig {
    /// berth's own certs.d first, then Docker's.
    pub fn default_certs_dirs() -> Vec<PathBuf> {
        vec![PathBuf::from("/etc/berth/certs.d"), PathBuf::from("/etc/docker/certs.d")]
    }

    /// Plain http (and unverified https) allowed for `host` (`host[:port]`).
    pub fn is_insecure(&self, host: &str) -> bool {
        let bare = strip_port(host);
        if bare == "localhost" {
            return true;
        }
        let ip = bare.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok();
        if ip.is_some_and(|ip| ip.is_loopback()) {
            return true;
        }
        self.insecure.iter().any(|entry| {
            if entry == host || entry == bare {
                return true;
            }
            match (ip, entry.split_once('/')) {
                (Some(ip), Some((net, bits))) => in_cidr(ip, net, bits),
                _ => false,
            }
        })
    }

    /// Check the settings before the daemon starts with them.
    pub fn validate(&self) -> std::result::Result<(), String> {
        for entry in &self.insecure {
            if entry.contains("://") {
                return Err(format!("insecure registry {entry} should not contain '://'"));
            }
            if let Some((net, bits)) = entry.split_once('/') {
                let ok = net.parse::<IpAddr>().is_ok() && bits.parse::<u8>().is_ok_and(|b| b <= 128);
                if !ok {
                    return Err(format!("insecure registry {entry} is not a valid CIDR"));
                }
            }
        }
        for m in &self.mirrors {
            let rest = m.strip_prefix("https://").or_else(|| m.strip_prefix("http://"));
            if rest.is_none_or(|r| r.is_empty() || r.trim_end_matches('/').contains('/')) {
                return Err(format!("invalid mirror: \"{m}\" is not a valid URI (scheme and host only)"));
            }
        }
        Ok(())
    }
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !h.contains(':') => h,
        _ => host,
    }
}

fn in_cidr(ip: IpAddr, net: &str, bits: &str) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else { return false };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// One way to reach a registry: a base URL and the TLS settings for it.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub base: String,
    pub tls: Option<Arc<ClientConfig>>,
}

/// The registry client's settings, shared by every pull.
#[derive(Clone)]
pub struct Registry {
    config: Arc<RegistryConfig>,
}

impl Registry {
    pub fn new(config: RegistryConfig) -> Registry {
        Registry { config: Arc::new(config) }
    }

    pub fn config(&self) -> &RegistryConfig {
        &self.config
    }

    fn endpoints(&self, domain: &str) -> Result<Vec<Endpoint>> {
        let mut out = Vec::new();
        let mut hosts: Vec<(String, bool)> = Vec::new();
        if domain == "docker.io" || domain == "index.docker.io" {
            for m in &self.config.mirrors {
                let m = m.trim_end_matches('/');
                match m.strip_prefix("http://") {
                    Some(h) => out.push(Endpoint { base: format!("http://{h}"), tls: None }),
                    None => hosts.push((m.trim_start_matches("https://").to_string(), true)),
                }
            }
            hosts.push((self.config.hub_host.clone().unwrap_or_else(|| DOCKER_HUB_API_HOST.to_string()), false));
        } else {
            hosts.push((domain.to_string(), false));
        }
        for (host, _mirror) in hosts {
            if self.config.is_insecure(&host) {
                out.push(Endpoint { base: format!("https://{host}"), tls: Some(crate::tls::unverified()?) });
                out.push(Endpoint { base: format!("http://{host}"), tls: None });
            } else {
                let tls = crate::tls::verifying(&host, &self.config.certs_dirs)?;
                out.push(Endpoint { base: format!("https://{host}"), tls: Some(tls) });
            }
        }
        Ok(out)
    }

    /// Reach repository `name` on `domain`: the first endpoint that answers
    /// `GET /v2/` wins, and its challenge decides how to authenticate.
    pub async fn repository(&self, domain: &str, name: &str, creds: Option<Credentials>) -> Result<Repository> {
        self.connect(domain, name, creds, "pull").await
    }

    /// The same, with a token that may push (mirrors are for pulls only).
    pub async fn repository_for_push(&self, domain: &str, name: &str, creds: Option<Credentials>) -> Result<Repository> {
        self.connect(domain, name, creds, "pull,push").await
    }

    async fn connect(&self, domain: &str, name: &str, creds: Option<Credentials>, actions: &'static str) -> Result<Repository> {
        let mut last: Option<DistributionError> = None;
        let mut endpoints = self.endpoints(domain)?;
        if actions != "pull" && (domain == "docker.io" || domain == "index.docker.io") {
            endpoints.retain(|e| e.base.ends_with(DOCKER_HUB_API_HOST));
        }
        for ep in endpoints {
            match Repository::connect(ep, name, creds.clone(), self.config.certs_dirs.clone(), actions).await {
                Ok(r) => return Ok(r),
                Err(e @ DistributionError::Transport { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| DistributionError::InvalidReference(format!("no endpoint for {domain}"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_configured_hosts_are_insecure() {
        let c = RegistryConfig { insecure: vec!["reg.local:5000".into(), "10.0.0.0/8".into()], ..Default::default() };
        assert!(c.is_insecure("127.0.0.1:5000"));
        assert!(c.is_insecure("127.8.9.10"));
        assert!(c.is_insecure("localhost:5000"));
        assert!(c.is_insecure("[::1]:5000"));
        assert!(c.is_insecure("reg.local:5000"));
        assert!(c.is_insecure("10.1.2.3:443"));
        assert!(!c.is_insecure("reg.local:5001"));
        assert!(!c.is_insecure("registry-1.docker.io"));
        assert!(!c.is_insecure("11.1.2.3"));
    }

    #[test]
    fn validates_settings() {
        let bad = RegistryConfig { insecure: vec!["http://x".into()], ..Default::default() };
        assert!(bad.validate().is_err());
        let bad = RegistryConfig { mirrors: vec!["mirror.local".into()], ..Default::default() };
        assert!(bad.validate().is_err());
        let ok = RegistryConfig { insecure: vec!["10.0.0.0/8".into()], mirrors: vec!["https://m.local:5000/".into()], ..Default::default() };
        assert_eq!(ok.validate(), Ok(()));
    }
}
