//! Container stdio on the terminal: demultiplexing Docker's framed stream
//! (or passing a TTY stream through) to stdout/stderr, and pumping stdin
//! into a hijacked attach connection.

use anyhow::Context;
use berth_api::stdcopy::{FrameDecoder, Stream};
use berth_client::Hijacked;
use std::io::Write;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// Writes container output to our stdout/stderr as it arrives.
pub struct Demux {
    tty: bool,
    decoder: FrameDecoder,
}

impl Demux {
    /// `tty`: the stream is raw (container has a TTY), not framed.
    pub fn new(tty: bool) -> Demux {
        Demux { tty, decoder: FrameDecoder::default() }
    }

    pub fn feed(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        if self.tty {
            return write_all(&mut std::io::stdout(), bytes);
        }
        self.decoder.push(bytes);
        while let Some((stream, payload)) = self.decoder.next_frame().context("error from daemon in stream")? {
            match stream {
                Stream::Stdout => write_all(&mut std::io::stdout(), &payload)?,
                Stream::Stderr => write_all(&mut std::io::stderr(), &payload)?,
                Stream::Stdin => {}
            }
        }
        Ok(())
    }
}

fn write_all(w: &mut dyn Write, bytes: &[u8]) -> anyhow::Result<()> {
    match w.write_all(bytes).and_then(|_| w.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`berth logs x | head`) ends output quietly.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Copies all of `reader` through a [`Demux`].
pub async fn copy_output(mut reader: impl AsyncRead + Unpin, tty: bool) -> anyhow::Result<()> {
    let mut demux = Demux::new(tty);
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = reader.read(&mut buf).await.context("error reading container output")?;
        if n == 0 {
            return Ok(());
        }
        demux.feed(&buf[..n])?;
    }
}

/// Streams an attach connection: output to the terminal until the
/// container closes it; with `stdin`, our stdin to the container,
/// half-closing the connection at EOF so the container sees EOF too.
pub async fn stream_attach(h: Hijacked, stdin: bool, tty: bool) -> anyhow::Result<()> {
    let Hijacked { reader, mut writer } = h;
    let input = if stdin {
        tokio::spawn(async move {
            let mut input = tokio::io::stdin();
            let _ = tokio::io::copy(&mut input, &mut writer).await;
            let _ = writer.shutdown().await;
        })
    } else {
        // Keep the write half open: closing it would end the attach.
        tokio::spawn(async move {
            std::future::pending::<()>().await;
            drop(writer);
        })
    };
    let result = copy_output(reader, tty).await;
    input.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unframed_garbage() {
        let mut d = Demux::new(false);
        assert!(d.feed(b"\x07\0\0\0\0\0\0\x01x").is_err());
    }
}
