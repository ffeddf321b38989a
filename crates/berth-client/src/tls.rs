//! TLS to a daemon's TCP listener, as the docker CLI does it: `--tlsverify`
//! checks the daemon's certificate against `--tlscacert`; `--tls` alone
//! encrypts without checking it. A client certificate is sent when one is
//! named (or found at the default path).

use crate::error::ClientError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Environment variables the docker CLI reads for TLS.
pub const TLS_VERIFY_ENV: &str = "DOCKER_TLS_VERIFY";
pub const TLS_ENV: &str = "DOCKER_TLS";
pub const CERT_PATH_ENV: &str = "DOCKER_CERT_PATH";

/// What the command line and environment asked for.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    pub tls: bool,
    pub verify: bool,
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

impl TlsOptions {
    /// Flags over the environment, as the docker CLI: `DOCKER_TLS_VERIFY`
    /// (any non-empty value) turns verification on, `DOCKER_CERT_PATH` (else
    /// ~/.docker) holds ca.pem, cert.pem and key.pem.
    pub fn from_flags_and_env(tls: bool, tlsverify: Option<bool>, ca: Option<PathBuf>, cert: Option<PathBuf>, key: Option<PathBuf>) -> TlsOptions {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let verify = tlsverify.unwrap_or_else(|| env(TLS_VERIFY_ENV).is_some());
        let dir = env(CERT_PATH_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| env("HOME").map(PathBuf::from).unwrap_or_default().join(".docker"));
        // A default certificate or key that is not there is not used; the CA
        // always is (the docker CLI's rules).
        let default = |name: &str| Some(dir.join(name)).filter(|p| p.exists());
        TlsOptions {
            tls: tls || verify || env(TLS_ENV).is_some(),
            verify,
            ca: ca.or_else(|| Some(dir.join("ca.pem"))),
            cert: cert.or_else(|| default("cert.pem")),
            key: key.or_else(|| default("key.pem")),
        }
    }

    /// The rustls configuration, or `None` for plain TCP.
    pub fn client_config(&self) -> Result<Option<Arc<ClientConfig>>, ClientError> {
        if !self.tls {
            return Ok(None);
        }
        let provider = provider();
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| ClientError::Tls(e.to_string()))?;
        let builder = if self.verify {
            let ca = self.ca.as_deref().ok_or_else(|| ClientError::Tls("--tlsverify needs a CA certificate (--tlscacert)".into()))?;
            let mut roots = RootCertStore::empty();
            for c in read_certs(ca)? {
                roots.add(c).map_err(|e| ClientError::Tls(format!("{}: {e}", ca.display())))?;
            }
            builder.with_root_certificates(roots)
        } else {
            // Read though not used, as the docker CLI does: a bad path is an error.
            if let Some(ca) = &self.ca {
                read_certs(ca)?;
            }
            builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyServer(provider)))
        };
        let cfg = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                let key = PrivateKeyDer::from_pem_file(key).map_err(|e| ClientError::Tls(format!("{}: {e}", key.display())))?;
                builder.with_client_auth_cert(read_certs(cert)?, key).map_err(|e| ClientError::Tls(e.to_string()))?
            }
            _ => builder.with_no_client_auth(),
        };
        Ok(Some(Arc::new(cfg)))
    }
}

/// ring builds in seconds (aws-lc needs cmake and minutes); rustls marks
/// it deprecated only for lacking post-quantum key exchange.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let bad = |e: rustls::pki_types::pem::Error| ClientError::Tls(format!("{}: {e}", path.display()));
    let certs = CertificateDer::pem_file_iter(path).map_err(bad)?.collect::<Result<Vec<_>, _>>().map_err(bad)?;
    if certs.is_empty() {
        return Err(ClientError::Tls(format!("no certificates found in {}", path.display())));
    }
    Ok(certs)
}

/// `--tls` without `--tlsverify`: any server certificate is accepted (the
/// docker CLI's InsecureSkipVerify); signatures are still checked.
#[derive(Debug)]
struct AnyServer(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
