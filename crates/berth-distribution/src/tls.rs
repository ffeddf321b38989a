//! TLS settings per registry host: the system's roots plus
//! `certs.d/HOST/*.crt`, client pairs `*.cert`/`*.key`, as dockerd reads
//! them; or no verification at all for a registry marked insecure.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::{DistributionError, Result};

/// Where Debian and friends keep the system's CA bundle.
const SYSTEM_BUNDLES: &[&str] = &["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"];

// ring is what the rest of berth builds with; the newer provider is not needed here.
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn files_with(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    out.sort();
    out
}

fn tls_err(path: &Path, e: impl std::fmt::Display) -> DistributionError {
    DistributionError::Tls(format!("could not read {}: {e}", path.display()))
}

/// A verifying client config for `host` (`host` or `host:port`).
pub(crate) fn verifying(host: &str, certs_dirs: &[PathBuf]) -> Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    for bundle in SYSTEM_BUNDLES.iter().map(Path::new).filter(|p| p.exists()) {
        for cert in CertificateDer::pem_file_iter(bundle).map_err(|e| tls_err(bundle, e))?.flatten() {
            let _ = roots.add(cert);
        }
    }
    let mut client_pair = None;
    for dir in certs_dirs.iter().map(|d| d.join(host)) {
        for ca in files_with(&dir, "crt") {
            let mut found = 0;
            for cert in CertificateDer::pem_file_iter(&ca).map_err(|e| tls_err(&ca, e))? {
                roots.add(cert.map_err(|e| tls_err(&ca, e))?).map_err(|e| tls_err(&ca, e))?;
                found += 1;
            }
            // A CA file that trusts nothing is a mistake to point out, not to skip.
            if found == 0 {
                return Err(tls_err(&ca, "no PEM certificate in it"));
            }
        }
        for cert in files_with(&dir, "cert") {
            let key = cert.with_extension("key");
            if !key.exists() {
                return Err(DistributionError::Tls(format!(
                    "missing key {} for client certificate {}",
                    key.display(),
                    cert.display()
                )));
            }
            if client_pair.is_none() {
                let chain = CertificateDer::pem_file_iter(&cert)
                    .map_err(|e| tls_err(&cert, e))?
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| tls_err(&cert, e))?;
                let k = PrivateKeyDer::from_pem_file(&key).map_err(|e| tls_err(&key, e))?;
                client_pair = Some((chain, k));
            }
        }
    }
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| DistributionError::Tls(e.to_string()))?
        .with_root_certificates(roots);
    let cfg = match client_pair {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| DistributionError::Tls(format!("client certificate for {host}: {e}")))?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(cfg))
}

/// For registries marked insecure: TLS if the server speaks it, any certificate accepted.
pub(crate) fn unverified() -> Result<Arc<ClientConfig>> {
    let cfg = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| DistributionError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(provider())))
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A verifying client config with the system's roots only, for https
/// downloads that are not registry traffic (the builder's `ADD <url>`).
pub fn system_roots() -> Result<Arc<ClientConfig>> {
    verifying("", &[])
}
