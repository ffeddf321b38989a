//! The dashboard's response bodies: whole buffers, the daemon's streamed
//! answers passed through, and a reader (a hijacked exec) streamed out.

use bytes::Bytes;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

pub type Out = UnsyncBoxBody<Bytes, std::io::Error>;

pub fn full(b: impl Into<Bytes>) -> Out {
    Full::new(b.into()).map_err(|never| match never {}).boxed_unsync()
}

pub fn passthrough(b: Incoming) -> Out {
    b.map_err(std::io::Error::other).boxed_unsync()
}

pub fn reader(r: Box<dyn AsyncRead + Send + Unpin>) -> Out {
    ReaderBody { reader: r, buf: vec![0u8; 16 * 1024], done: false }.boxed_unsync()
}

/// Sends what the reader has as soon as it has it (a shell's echo).
struct ReaderBody {
    reader: Box<dyn AsyncRead + Send + Unpin>,
    /// Reused across reads: a shell mostly waits, and each wake-up would
    /// otherwise allocate.
    buf: Vec<u8>,
    done: bool,
}

impl Body for ReaderBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        let mut rb = ReadBuf::new(&mut this.buf);
        match Pin::new(&mut this.reader).poll_read(cx, &mut rb) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => {
                this.done = true;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(Ok(())) => {
                if rb.filled().is_empty() {
                    this.done = true;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Ok(Frame::data(Bytes::copy_from_slice(rb.filled())))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reader_body_streams_everything() {
        let data: Vec<u8> = (0..40_000u32).map(|i| i as u8).collect();
        let got = reader(Box::new(std::io::Cursor::new(data.clone()))).collect().await.unwrap().to_bytes();
        assert_eq!(got.as_ref(), data.as_slice());
    }
}
