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
    ReaderBody { reader: r, done: false }.boxed_unsync()
}

/// Sends what the reader has as soon as it has it (a shell's echo).
struct ReaderBody {
    reader: Box<dyn AsyncRead + Send + Unpin>,
    done: bool,
}

impl Body for ReaderBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let mut buf = vec![0u8; 16 * 1024];
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
}
