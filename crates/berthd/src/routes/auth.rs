//! `POST /auth`: check credentials against a registry, as `docker login` asks.

use berth_api::ApiError;
use berth_distribution::{Credentials, Registry};
use hyper::body::Incoming;
use hyper::Request;
use serde::{Deserialize, Serialize};

use crate::daemon::Daemon;
use crate::http::response::{ok_json, Resp};

#[derive(Default, Serialize, Deserialize)]
struct AuthConfig {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    serveraddress: String,
}

/// The registry host of a login's server address (`https://index.docker.io/v1/` is Docker Hub).
fn registry_host(addr: &str) -> String {
    let a = addr.trim();
    let a = a.strip_prefix("https://").or_else(|| a.strip_prefix("http://")).unwrap_or(a);
    let host = a.split('/').next().unwrap_or("");
    match host {
        "" | "index.docker.io" | "registry-1.docker.io" | "docker.io" => "docker.io".to_string(),
        h => h.to_string(),
    }
}

pub async fn auth(d: &Daemon, req: &mut Request<Incoming>) -> Result<Resp, ApiError> {
    let cfg: AuthConfig = super::json_body(req, 64 << 10).await?;
    let host = registry_host(&cfg.serveraddress);
    let creds = Credentials { username: cfg.username, password: cfg.password, registry_token: None };
    let registry = Registry::new(d.cfg.registry());
    // Docker Hub's login checks a repository-less token; any repository name
    // gives the same answer for the credentials themselves.
    let repo = registry
        .repository(&host, "library/busybox", Some(creds))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    // berth-api has no 401 kind; the docker CLI prints the message either way.
    repo.check_login().await.map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(ok_json(&serde_json::json!({ "Status": "Login Succeeded", "IdentityToken": "" })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses() {
        assert_eq!(registry_host("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(registry_host("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(registry_host("http://reg.local:5000/v2/"), "reg.local:5000");
        assert_eq!(registry_host(""), "docker.io");
    }
}
