//! Hijacked connections: after `101 Switching Protocols` the HTTP
//! connection becomes a raw duplex stream (container stdio for attach).

use crate::body::RequestBody;
use crate::client::{check, Client};
use crate::error::ClientError;
use crate::query::Query;
use crate::stream::ResponseStream;
use hyper::Method;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

/// The two halves of a hijacked stream. Shutting the writer down
/// half-closes the connection, which tells the daemon stdin ended.
pub struct Hijacked {
    pub reader: Box<dyn AsyncRead + Send + Unpin>,
    pub writer: Box<dyn AsyncWrite + Send + Unpin>,
}

pub(crate) async fn hijack(client: &Client, path: &str, query: &Query, body: RequestBody) -> Result<Hijacked, ClientError> {
    let resp = client
        .request_with_headers(Method::POST, path, query, &[("connection", "Upgrade"), ("upgrade", "tcp")], body)
        .await?;
    let resp = check(resp).await?;
    if resp.status() == hyper::StatusCode::SWITCHING_PROTOCOLS {
        let upgraded = hyper::upgrade::on(resp).await?;
        let (r, w) = tokio::io::split(TokioIo::new(upgraded));
        return Ok(Hijacked { reader: Box::new(r), writer: Box::new(w) });
    }
    // Old daemons answer 200 and stream the output as the body; there is
    // then no way to send stdin.
    let reader = ResponseStream::new(resp.into_body()).into_reader();
    Ok(Hijacked { reader: Box::new(reader), writer: Box::new(tokio::io::sink()) })
}
