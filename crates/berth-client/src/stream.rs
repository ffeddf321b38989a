//! Streamed response bodies: raw chunks (logs, save), an `AsyncRead` view
//! of them, and a decoder for Docker's JSON message streams (load, import,
//! pull), which are concatenated JSON values, usually one per line.

use crate::error::ClientError;
use bytes::{Buf, Bytes};
use http_body_util::BodyExt;
use hyper::body::{Body, Incoming};
use serde::de::DeserializeOwned;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// A response body read as it arrives.
pub struct ResponseStream {
    body: Incoming,
}

impl ResponseStream {
    pub(crate) fn new(body: Incoming) -> Self {
        ResponseStream { body }
    }

    /// The next chunk of data, or `None` at the end of the body.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, ClientError> {
        loop {
            match self.body.frame().await {
                None => return Ok(None),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        if !data.is_empty() {
                            return Ok(Some(data));
                        }
                    }
                }
            }
        }
    }

    /// The body as an `AsyncRead`, e.g. to copy a tarball to a file.
    pub fn into_reader(self) -> BodyReader {
        BodyReader { body: self.body, pending: Bytes::new() }
    }

    /// The body decoded as a stream of JSON values.
    pub fn json<T: DeserializeOwned>(self) -> JsonStream<T> {
        JsonStream { stream: self, buf: Vec::new(), eof: false, _t: std::marker::PhantomData }
    }
}

/// `AsyncRead` over a response body.
pub struct BodyReader {
    body: Incoming,
    pending: Bytes,
}

impl AsyncRead for BodyReader {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        loop {
            if !self.pending.is_empty() {
                let n = self.pending.len().min(buf.remaining());
                buf.put_slice(&self.pending[..n]);
                self.pending.advance(n);
                return Poll::Ready(Ok(()));
            }
            match Pin::new(&mut self.body).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(std::io::Error::other(e))),
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.pending = data;
                    }
                }
            }
        }
    }
}

/// Decodes concatenated JSON values from a body as they complete.
pub struct JsonStream<T> {
    stream: ResponseStream,
    buf: Vec<u8>,
    eof: bool,
    _t: std::marker::PhantomData<T>,
}

impl<T: DeserializeOwned> JsonStream<T> {
    /// The next complete value, or `None` at the end of the stream.
    pub async fn next(&mut self) -> Result<Option<T>, ClientError> {
        loop {
            if let Some(v) = take_value(&mut self.buf, self.eof)? {
                return Ok(Some(v));
            }
            if self.eof {
                return Ok(None);
            }
            match self.stream.chunk().await? {
                Some(c) => self.buf.extend_from_slice(&c),
                None => self.eof = true,
            }
        }
    }
}

/// Takes one complete JSON value off the front of `buf`. An incomplete
/// value waits for more bytes unless the stream has ended.
fn take_value<T: DeserializeOwned>(buf: &mut Vec<u8>, eof: bool) -> Result<Option<T>, ClientError> {
    let start = buf.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(buf.len());
    if start == buf.len() {
        buf.clear();
        return Ok(None);
    }
    let mut it = serde_json::Deserializer::from_slice(&buf[start..]).into_iter::<T>();
    match it.next() {
        Some(Ok(v)) => {
            let used = start + it.byte_offset();
            buf.drain(..used);
            Ok(Some(v))
        }
        Some(Err(e)) if e.is_eof() && !eof => Ok(None),
        Some(Err(e)) => Err(e.into()),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn takes_values_across_splits() {
        let mut buf = b"{\"stream\":\"Loaded ".to_vec();
        assert!(take_value::<Value>(&mut buf, false).unwrap().is_none());
        buf.extend_from_slice(b"image: a\\n\"}\r\n{\"status\":\"x\"}{\"id\":1}\n");
        let v: Value = take_value(&mut buf, false).unwrap().unwrap();
        assert_eq!(v["stream"], "Loaded image: a\n");
        let v: Value = take_value(&mut buf, false).unwrap().unwrap();
        assert_eq!(v["status"], "x");
        let v: Value = take_value(&mut buf, false).unwrap().unwrap();
        assert_eq!(v["id"], 1);
        assert!(take_value::<Value>(&mut buf, true).unwrap().is_none());
    }

    #[test]
    fn truncated_or_garbage_streams_error() {
        let mut buf = b"{\"a\":".to_vec();
        assert!(take_value::<Value>(&mut buf, true).is_err());
        let mut buf = b"<html>".to_vec();
        assert!(take_value::<Value>(&mut buf, false).is_err());
    }
}
