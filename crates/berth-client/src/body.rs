//! Request bodies: nothing, a buffer, or a reader streamed in chunks (so an
//! image tarball is never held in memory).

use bytes::Bytes;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, Full};
use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

pub(crate) type BoxedBody = UnsyncBoxBody<Bytes, std::io::Error>;

const CHUNK: usize = 64 * 1024;

/// What a request carries.
pub enum RequestBody {
    Empty,
    Json(Vec<u8>),
    /// Streamed from a reader (file or stdin) with chunked encoding.
    Stream(Box<dyn AsyncRead + Send + Unpin>),
}

impl RequestBody {
    pub(crate) fn content_type(&self) -> Option<&'static str> {
        match self {
            RequestBody::Empty => None,
            RequestBody::Json(_) => Some("application/json"),
            RequestBody::Stream(_) => Some("application/x-tar"),
        }
    }

    pub(crate) fn boxed(self) -> BoxedBody {
        match self {
            RequestBody::Empty => Empty::<Bytes>::new().map_err(|never| match never {}).boxed_unsync(),
            RequestBody::Json(v) => Full::new(Bytes::from(v)).map_err(|never| match never {}).boxed_unsync(),
            RequestBody::Stream(r) => ReaderBody { reader: r, done: false }.boxed_unsync(),
        }
    }
}

/// Adapts an `AsyncRead` into an HTTP body of chunks.
struct ReaderBody {
    reader: Box<dyn AsyncRead + Send + Unpin>,
    done: bool,
}

impl Body for ReaderBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let mut buf = vec![0u8; CHUNK];
        let mut rb = ReadBuf::new(&mut buf);
        match Pin::new(&mut self.reader).poll_read(cx, &mut rb) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => {
                self.done = true;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(Ok(())) => {
                let n = rb.filled().len();
                if n == 0 {
                    self.done = true;
                    return Poll::Ready(None);
                }
                buf.truncate(n);
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(buf)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn streams_reader_in_chunks() {
        let data = vec![7u8; CHUNK + 10];
        let body = RequestBody::Stream(Box::new(std::io::Cursor::new(data.clone()))).boxed();
        let collected = body.collect().await.unwrap().to_bytes();
        assert_eq!(collected.as_ref(), data.as_slice());
    }
}
