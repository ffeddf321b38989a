//! One HTTP/1.1 connection per request over a unix socket or TCP (plain
//! or TLS). Docker's
//! API is request-scoped and often long-lived (logs -f, attach, wait), so
//! there is little to gain from pooling and a lot of simplicity in not.

use crate::body::BoxedBody;
use crate::error::ClientError;
use crate::host::Host;
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

/// A connected byte stream to the daemon.
pub(crate) trait Conn: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Conn for T {}

pub(crate) async fn connect(host: &Host, tls: Option<&Arc<ClientConfig>>) -> Result<Box<dyn Conn>, ClientError> {
    let conn: Box<dyn Conn> = match host {
        Host::Unix(path) => Box::new(
            tokio::net::UnixStream::connect(path)
                .await
                .map_err(|source| ClientError::Connect { host: host.clone(), source })?,
        ),
        Host::Tcp(addr) => {
            let s = tokio::net::TcpStream::connect(addr.as_str())
                .await
                .map_err(|source| ClientError::Connect { host: host.clone(), source })?;
            // Interactive streams (attach) want small writes sent at once.
            let _ = s.set_nodelay(true);
            match tls {
                None => Box::new(s),
                Some(cfg) => {
                    let name = server_name(addr)?;
                    let t = tokio_rustls::TlsConnector::from(cfg.clone())
                        .connect(name, s)
                        .await
                        .map_err(|e| ClientError::Tls(format!("error during connect: {host}: TLS handshake: {e}")))?;
                    Box::new(t)
                }
            }
        }
    };
    Ok(conn)
}

/// Sends one request on a fresh connection and returns the response head
/// (the body streams as it arrives). The connection task allows upgrades
/// so the same path serves hijacked attach requests.
pub(crate) async fn send(host: &Host, tls: Option<&Arc<ClientConfig>>, req: Request<BoxedBody>) -> Result<Response<Incoming>, ClientError> {
    let io = TokioIo::new(connect(host, tls).await?);
    let (mut sender, conn) = http1::handshake(io).await?;
    // Errors here surface to the caller through the response or body.
    let task = tokio::spawn(async move { conn.with_upgrades().await });
    match sender.send_request(req).await {
        Ok(r) => Ok(r),
        Err(e) => {
            // The request only says the connection went away; the
            // connection's own error says why (a TLS alert, say).
            if let Ok(Ok(Err(cause))) = tokio::time::timeout(std::time::Duration::from_millis(200), task).await {
                return Err(cause.into());
            }
            Err(e.into())
        }
    }
}

/// The name the daemon's certificate must carry: the host of `host:port`.
fn server_name(addr: &str) -> Result<ServerName<'static>, ClientError> {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_string()).map_err(|e| ClientError::Tls(format!("invalid TLS server name {host:?}: {e}")))
}
