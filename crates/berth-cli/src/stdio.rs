//! Container stdio on the terminal: demultiplexing Docker's framed stream
//! (or passing a TTY stream through) to stdout/stderr, and pumping stdin
//! into a hijacked attach connection.

use anyhow::Context;
use berth_api::detachkeys::{Scan, Scanner};
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

/// How an attach session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The output ended (the container or exec is done, or the daemon closed it).
    Output,
    /// The user typed the detach keys.
    Detached,
}

/// Streams an attach connection: output to the terminal until the
/// container closes it; with `stdin`, our stdin to the container,
/// half-closing the connection at EOF so the container sees EOF too.
/// With a TTY, the detach keys are watched for here too (as the docker CLI
/// does): typing them ends the session at once.
pub async fn stream_attach(h: Hijacked, stdin: bool, tty: bool, detach_keys: Vec<u8>) -> anyhow::Result<Ended> {
    let Hijacked { reader, mut writer } = h;
    let (detach_tx, detached) = tokio::sync::oneshot::channel::<()>();
    let keys = if tty { detach_keys } else { Vec::new() };
    let input = if stdin {
        tokio::spawn(async move {
            let mut input = tokio::io::stdin();
            let mut scanner = Scanner::new(keys);
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                let n = input.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                let (data, stop) = match scanner.feed(&buf[..n]) {
                    Scan::Data(d) => (d, false),
                    Scan::Detach(d) => (d, true),
                };
                if writer.write_all(&data).await.is_err() {
                    break;
                }
                if stop {
                    let _ = detach_tx.send(());
                    return;
                }
            }
            let _ = writer.shutdown().await;
            // Keep the detach sender (and so the session) alive.
            std::future::pending::<()>().await;
            drop(detach_tx);
        })
    } else {
        // Keep the write half open: closing it would end the attach.
        tokio::spawn(async move {
            std::future::pending::<()>().await;
            drop(writer);
            drop(detach_tx);
        })
    };
    let result = tokio::select! {
        r = copy_output(reader, tty) => r.map(|()| Ended::Output),
        Ok(()) = detached => Ok(Ended::Detached),
    };
    input.abort();
    result
}

/// The detach keys for a session: `--detach-keys`, or Docker's default
/// (an invalid value falls back to the default, with a warning, as in docker).
pub fn detach_keys(flag: Option<&str>) -> Vec<u8> {
    match flag.filter(|k| !k.is_empty()) {
        None => berth_api::detachkeys::DEFAULT.to_vec(),
        Some(k) => berth_api::detachkeys::parse(k).unwrap_or_else(|e| {
            eprintln!("Warning: {e}, using the default ctrl-p,ctrl-q");
            berth_api::detachkeys::DEFAULT.to_vec()
        }),
    }
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
