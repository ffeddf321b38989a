//! Response building and request-body handling shared by the handlers.

use crate::error::{ApiError, Code};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Frame, Incoming};
use hyper::{Response, StatusCode};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

pub type Body = BoxBody<Bytes, io::Error>;
pub type Resp = Response<Body>;

pub fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}

pub fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|never| match never {}).boxed()
}

/// A response with `status` and no body (Content-Length: 0).
pub fn status(status: StatusCode) -> hyper::http::response::Builder {
    Response::builder().status(status)
}

pub fn json(status: StatusCode, v: &serde_json::Value) -> Resp {
    let body = v.to_string();
    let mut r = Response::new(full(body));
    *r.status_mut() = status;
    r.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    r
}

pub fn error(e: &ApiError) -> Resp {
    let mut r = Response::new(full(e.body()));
    *r.status_mut() = e.code.status();
    r.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    r
}

/// Turns a builder error (a bad header value we made) into a 500.
pub fn finish(b: hyper::http::response::Builder, body: Body) -> Result<Resp, ApiError> {
    b.body(body).map_err(|e| ApiError::new(Code::Unknown, format!("building the response: {e}")))
}

/// Reads a whole body of at most `limit` bytes (manifests); more is 413.
pub async fn read_bounded(mut body: Incoming, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::new(Code::ManifestInvalid, format!("reading the body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(ApiError::new(Code::TooLarge, format!("manifest is larger than {limit} bytes")));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// Streams `len` bytes of a file as a response body.
pub struct FileBody {
    file: tokio::fs::File,
    remaining: u64,
    buf: Vec<u8>,
}

impl FileBody {
    pub fn boxed(file: tokio::fs::File, len: u64) -> Body {
        FileBody { file, remaining: len, buf: vec![0; 64 * 1024] }.boxed()
    }
}

impl hyper::body::Body for FileBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        let n = this.buf.len().min(usize::try_from(this.remaining).unwrap_or(usize::MAX));
        let mut rb = ReadBuf::new(&mut this.buf[..n]);
        match Pin::new(&mut this.file).poll_read(cx, &mut rb) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) if rb.filled().is_empty() => {
                Poll::Ready(Some(Err(io::Error::new(io::ErrorKind::UnexpectedEof, "blob shorter than its size"))))
            }
            Poll::Ready(Ok(())) => {
                let got = rb.filled();
                this.remaining -= got.len() as u64;
                Poll::Ready(Some(Ok(Frame::data(Bytes::copy_from_slice(got)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.remaining)
    }
}
