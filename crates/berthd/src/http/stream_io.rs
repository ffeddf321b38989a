//! Bridges between hyper's async bodies and the synchronous `Read`/`Write`
//! code of the image store (which runs on blocking threads).

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::io::{self, Read, Write};
use tokio::sync::mpsc;

/// A `Read` over chunks sent from an async task.
pub struct ChannelReader {
    rx: mpsc::Receiver<Result<Bytes, String>>,
    cur: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(b)) => self.cur = b,
                Some(Err(e)) => return Err(io::Error::other(e)),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        self.cur = self.cur.slice(n..);
        Ok(n)
    }
}

/// A body frame as the reader's item: its data or the error; None for a
/// frame without data (trailers).
fn data_item(frame: Result<hyper::body::Frame<Bytes>, hyper::Error>) -> Option<Result<Bytes, String>> {
    match frame {
        Ok(f) => f.into_data().ok().map(Ok),
        Err(e) => Some(Err(e.to_string())),
    }
}

/// Feeds a request body into a `ChannelReader` from a spawned task.
pub fn body_reader(mut body: Incoming) -> ChannelReader {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        while let Some(frame) = body.frame().await {
            let Some(item) = data_item(frame) else { continue };
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    ChannelReader { rx, cur: Bytes::new() }
}

/// Like `body_reader`, but the task reads the body to its end even after the reader
/// is dropped (awaiting the handle does that): a client still sending a large body
/// then receives the error response instead of a broken pipe.
pub fn body_reader_draining(mut body: Incoming) -> (ChannelReader, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(16);
    let task = tokio::spawn(async move {
        let mut reader_gone = false;
        while let Some(frame) = body.frame().await {
            let Some(item) = data_item(frame) else { continue };
            let failed = item.is_err();
            if !reader_gone && tx.send(item).await.is_err() {
                reader_gone = true;
            }
            if failed {
                break;
            }
        }
    });
    (ChannelReader { rx, cur: Bytes::new() }, task)
}

/// A `Write` whose bytes become a streaming response body.
pub struct ChannelWriter {
    pub tx: mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    pub fn new(tx: mpsc::Sender<Bytes>) -> Self {
        ChannelWriter { tx, buf: Vec::with_capacity(64 * 1024) }
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "client went away"))
    }
}

impl Drop for ChannelWriter {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}
