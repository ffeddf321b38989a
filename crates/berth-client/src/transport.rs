//! One HTTP/1.1 connection per request over a unix socket or TCP. Docker's
//! API is request-scoped and often long-lived (logs -f, attach, wait), so
//! there is little to gain from pooling and a lot of simplicity in not.

use crate::body::BoxedBody;
use crate::error::ClientError;
use crate::host::Host;
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

/// A connected byte stream to the daemon.
pub(crate) trait Conn: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Conn for T {}

pub(crate) async fn connect(host: &Host) -> Result<Box<dyn Conn>, ClientError> {
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
            Box::new(s)
        }
    };
    Ok(conn)
}

/// Sends one request on a fresh connection and returns the response head
/// (the body streams as it arrives). The connection task allows upgrades
/// so the same path serves hijacked attach requests.
pub(crate) async fn send(host: &Host, req: Request<BoxedBody>) -> Result<Response<Incoming>, ClientError> {
    let io = TokioIo::new(connect(host).await?);
    let (mut sender, conn) = http1::handshake(io).await?;
    tokio::spawn(async move {
        // Errors here surface to the caller through the response or body.
        let _ = conn.with_upgrades().await;
    });
    Ok(sender.send_request(req).await?)
}
