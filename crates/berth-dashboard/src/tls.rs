//! HTTPS for a dashboard reachable from other machines: a rustls server
//! configuration from PEM files (no client certificates: the login token
//! and session cookie authenticate).

use crate::error::DashboardError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Reads both files now, so a bad one stops `berth dashboard` at start.
pub fn server_config(f: &TlsFiles) -> Result<Arc<ServerConfig>, DashboardError> {
    let bad = |what: &str, path: &PathBuf, e: &dyn std::fmt::Display| DashboardError::Tls(format!("cannot read TLS {what} {}: {e}", path.display()));
    let certs = CertificateDer::pem_file_iter(&f.cert)
        .map_err(|e| bad("certificate", &f.cert, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("certificate", &f.cert, &e))?;
    if certs.is_empty() {
        return Err(bad("certificate", &f.cert, &"no certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(&f.key).map_err(|e| bad("key", &f.key, &e))?;
    // ring, as berthd and berth-client use (quick to build).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| DashboardError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| DashboardError::Tls(format!("invalid TLS certificate or key: {e}")))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}
