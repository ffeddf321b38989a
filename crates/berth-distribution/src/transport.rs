//! One HTTP/1.1 connection per request, plain or TLS. Pulls are a handful
//! of long transfers, each on its own connection anyway, so pooling would
//! buy little.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper::{Request, Response, Uri};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time to the response head; bodies stream without a limit.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(120);

trait Conn: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Conn for T {}

/// Host and port of `uri`, with the scheme's default port.
pub(crate) fn authority(uri: &Uri) -> Result<(String, u16), String> {
    let host = uri.host().ok_or_else(|| format!("no host in {uri}"))?;
    let https = uri.scheme_str() == Some("https");
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    Ok((host.trim_start_matches('[').trim_end_matches(']').to_string(), port))
}

async fn connect(uri: &Uri, tls: Option<&Arc<ClientConfig>>) -> Result<Box<dyn Conn>, String> {
    let (host, port) = authority(uri)?;
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect((host.as_str(), port)))
        .await
        .map_err(|_| format!("dial tcp {host}:{port}: i/o timeout"))?
        .map_err(|e| format!("dial tcp {host}:{port}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    if uri.scheme_str() != Some("https") {
        return Ok(Box::new(tcp));
    }
    let cfg = tls.ok_or_else(|| format!("no TLS configuration for {host}"))?;
    let name = ServerName::try_from(host.clone()).map_err(|e| format!("invalid TLS server name {host:?}: {e}"))?;
    // Bounded: an insecure registry is tried with TLS first, and a plain
    // server that never answers the hello must not hold the pull.
    let t = tokio::time::timeout(CONNECT_TIMEOUT, tokio_rustls::TlsConnector::from(cfg.clone()).connect(name, tcp))
        .await
        .map_err(|_| "net/http: TLS handshake timeout".to_string())?
        .map_err(|e| tls_error(&e, &host))?;
    Ok(Box::new(t))
}

/// A failed handshake in Go's words (what dockerd prints), when it is a
/// certificate the client refused.
fn tls_error(e: &std::io::Error, host: &str) -> String {
    use rustls::CertificateError as C;
    let cert = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()).and_then(|r| match r {
        rustls::Error::InvalidCertificate(c) => Some(c),
        _ => None,
    });
    let why = match cert {
        Some(C::UnknownIssuer) | Some(C::BadSignature) => "certificate signed by unknown authority".to_string(),
        Some(C::NotValidForName) | Some(C::NotValidForNameContext { .. }) => format!("certificate is not valid for {host}"),
        Some(C::Expired) | Some(C::ExpiredContext { .. }) | Some(C::NotValidYet) | Some(C::NotValidYetContext { .. }) => {
            "certificate has expired or is not yet valid".to_string()
        }
        _ => return format!("tls: {e}"),
    };
    format!("tls: failed to verify certificate: x509: {why}")
}

/// A request body: bytes in memory, or a stream (an upload read from a file).
pub(crate) type ReqBody = BoxBody<Bytes, std::io::Error>;

pub(crate) fn full(data: Bytes) -> ReqBody {
    Full::new(data).map_err(|never| match never {}).boxed()
}

/// Send one request on a fresh connection; the body streams as it arrives.
pub(crate) async fn send(tls: Option<&Arc<ClientConfig>>, mut req: Request<ReqBody>) -> Result<Response<Incoming>, String> {
    let io = TokioIo::new(connect(req.uri(), tls).await?);
    // The request line carries the path only (origin-form), as Go's client
    // sends it; the Host header names the server.
    let origin: Uri = req.uri().path_and_query().map_or("/", |p| p.as_str()).parse().map_err(|e| format!("invalid URL: {e}"))?;
    *req.uri_mut() = origin;
    let (mut sender, conn) = http1::handshake(io).await.map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        // Errors surface through the response or its body.
        let _ = conn.await;
    });
    tokio::time::timeout(RESPONSE_TIMEOUT, sender.send_request(req))
        .await
        .map_err(|_| "timeout awaiting response headers".to_string())?
        .map_err(|e| e.to_string())
}
