//! `POST /auth`: check credentials against a registry, as `docker login` asks.

use berth_api::{ApiError, ErrorKind};
use berth_distribution::{Credentials, DistributionError, Registry};
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
    /// A refresh token an earlier login got (the docker CLI sends it back).
    #[serde(default)]
    identitytoken: String,
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
    let identity_token = Some(cfg.identitytoken).filter(|t| !t.is_empty());
    let creds = Credentials { username: cfg.username, password: cfg.password, registry_token: None, identity_token };
    let registry = Registry::new(d.cfg.registry());
    // Docker Hub's login checks a repository-less token; any repository name
    // gives the same answer for the credentials themselves.
    let repo = registry
        .repository(&host, "library/busybox", Some(creds))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    // A token server that grants offline access answers a refresh token:
    // the client keeps it (`identitytoken`) instead of the password, as dockerd's login.
    let identity = repo.check_login().await.map_err(login_error)?.unwrap_or_default();
    Ok(ok_json(&serde_json::json!({ "Status": "Login Succeeded", "IdentityToken": identity })))
}

/// Refused credentials are a 401, as dockerd answers; anything else (an
/// unreachable registry, a broken token server) stays a 500.
fn login_error(e: DistributionError) -> ApiError {
    let refused = match &e {
        DistributionError::Status { status, .. } | DistributionError::Registry { status, .. } => *status == 401,
        DistributionError::NoBasicCredentials { .. } => true,
        _ => false,
    };
    let kind = if refused { ErrorKind::Unauthorized } else { ErrorKind::Internal };
    ApiError::new(kind, e.to_string())
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

    #[test]
    fn refused_logins_are_401() {
        let refused = DistributionError::Status { method: "login attempt to".into(), url: "http://r/v2/".into(), status: 401, text: "failed with status: 401 Unauthorized".into() };
        assert_eq!(login_error(refused).status(), 401);
        let down = DistributionError::Transport { method: "GET".into(), url: "http://r/v2/".into(), message: "connection refused".into() };
        assert_eq!(login_error(down).status(), 500);
    }
}
