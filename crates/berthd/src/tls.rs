//! The API's TLS: a rustls server configuration from PEM files, with or
//! without client-certificate verification (dockerd's `--tlsverify`).

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("could not read {what} {path}: {msg}")]
    Read { what: &'static str, path: PathBuf, msg: String },
    #[error("no certificates found in {0}")]
    NoCertificates(PathBuf),
    #[error("invalid TLS configuration: {0}")]
    Config(String),
}

/// The files and the mode of the server's TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Clients must present a certificate signed by `ca`.
    pub verify: bool,
}

/// Builds the server configuration; every file is read now, so a bad one
/// stops the daemon at start rather than at the first connection.
pub fn server_config(f: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = provider();
    let certs = read_certs("certificate", &f.cert)?;
    let key = PrivateKeyDer::from_pem_file(&f.key).map_err(|e| read_err("key", &f.key, e))?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = if f.verify {
        let mut roots = RootCertStore::empty();
        for c in read_certs("CA certificate", &f.ca)? {
            roots.add(c).map_err(|e| TlsError::Config(format!("{}: {e}", f.ca.display())))?;
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| TlsError::Config(e.to_string()))?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut cfg = builder.with_single_cert(certs, key).map_err(|e| TlsError::Config(e.to_string()))?;
    // hyper serves HTTP/1.1 only here.
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// ring builds in seconds here (aws-lc needs cmake and minutes); rustls
/// marks it deprecated only because it lacks post-quantum key exchange.
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_certs(what: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| read_err(what, path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| read_err(what, path, e))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificates(path.to_path_buf()));
    }
    Ok(certs)
}

fn read_err(what: &'static str, path: &Path, e: rustls::pki_types::pem::Error) -> TlsError {
    TlsError::Read { what, path: path.to_path_buf(), msg: e.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let f = TlsFiles { ca: empty.clone(), cert: dir.path().join("nope.pem"), key: empty.clone(), verify: true };
        let e = server_config(&f).unwrap_err().to_string();
        assert!(e.starts_with("could not read certificate ") && e.contains("nope.pem"), "{e}");
        let f = TlsFiles { cert: empty.clone(), ..f };
        assert_eq!(server_config(&f).unwrap_err().to_string(), format!("no certificates found in {}", empty.display()));
    }
}
