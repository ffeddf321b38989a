//! The dashboard's response bodies: whole buffers, the daemon's streamed
//! answers passed through, and a reader (a hijacked exec) streamed out.

use bytes::Bytes;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, ReadBuf};

pub type Out = UnsyncBoxBody<Bytes, std::io::Error>;

pub fn full(b: impl Into<Bytes>) -> Out {
    Full::new(b.into()).map_err(|never| match never {}).boxed_unsync()
}

pub fn passthrough(b: Incoming) -> Out {
    b.map_err(std::io::Error::other).boxed_unsync()
}

/// A reader (a hijacked exec) streamed out, with a NUL byte (which
/// terminals ignore) after every `every` of silence: Firefox cuts
/// connections that receive nothing for 5 s after the host's network
/// changes, and an idle shell would die with its connection.
pub fn reader(r: Box<dyn AsyncRead + Send + Unpin>, every: Duration) -> Out {
    let keepalive = Keepalive { every, sleep: Box::pin(tokio::time::sleep(every)) };
    ReaderBody { reader: r, buf: vec![0u8; 16 * 1024], done: false, keepalive }.boxed_unsync()
}

struct Keepalive {
    every: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Keepalive {
    fn reset(&mut self) {
        let at = tokio::time::Instant::now() + self.every;
        self.sleep.as_mut().reset(at);
    }
}

/// Sends what the reader has as soon as it has it (a shell's echo).
struct ReaderBody {
    reader: Box<dyn AsyncRead + Send + Unpin>,
    /// Reused across reads: a shell mostly waits, and each wake-up would
    /// otherwise allocate.
    buf: Vec<u8>,
    done: bool,
    keepalive: Keepalive,
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
            Poll::Pending => {
                if this.keepalive.sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.keepalive.reset();
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"\0")))))
            }
            Poll::Ready(Err(e)) => {
                this.done = true;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(Ok(())) => {
                if rb.filled().is_empty() {
                    this.done = true;
                    return Poll::Ready(None);
                }
                this.keepalive.reset();
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
        let got = reader(Box::new(std::io::Cursor::new(data.clone())), Duration::from_secs(60)).collect().await.unwrap().to_bytes();
        assert_eq!(got.as_ref(), data.as_slice());
    }

    #[tokio::test]
    async fn silence_is_broken_by_nul_bytes_only() {
        // A reader that never yields: only keepalives come out.
        let (_keep_open, quiet) = tokio::io::duplex(64);
        let mut b = reader(Box::new(quiet), Duration::from_millis(30));
        for _ in 0..2 {
            let f = tokio::time::timeout(Duration::from_secs(5), b.frame()).await.expect("a keepalive in time");
            let data = f.expect("a frame").expect("no error").into_data().expect("data");
            assert_eq!(data.as_ref(), b"\0");
        }
        // Data passes through as it is.
        let (mut w, r) = tokio::io::duplex(64);
        let mut b = reader(Box::new(r), Duration::from_secs(60));
        tokio::io::AsyncWriteExt::write_all(&mut w, b"hi").await.expect("write");
        let data = b.frame().await.expect("a frame").expect("no error").into_data().expect("data");
        assert_eq!(data.as_ref(), b"hi");
    }
}
