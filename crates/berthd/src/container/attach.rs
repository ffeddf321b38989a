//! The hijacked attach stream: container output out (framed unless the
//! container has a TTY), client input in, until the container's output ends.

use super::manager::{Container, Output, StdinMsg};
use super::record::Status;
use berth_api::stdcopy::{encode_frame, Stream};
use berth_api::ApiError;
use bytes::Bytes;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::broadcast;

pub struct AttachOptions {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

/// Subscribes to the container's output before the 101 is sent, so that
/// nothing produced after `start` is missed.
pub fn subscribe(c: &Container) -> Result<broadcast::Receiver<Output>, ApiError> {
    // A stopped container may be attached: the session waits for its next
    // start (this is how `start -a` works). The CLI refuses `attach` to a
    // stopped container on its own side, as docker's does.
    match c.snapshot().state.status {
        Status::Removing | Status::Dead => Err(ApiError::conflict(format!(
            "cannot attach to container {}: it is being removed",
            c.id
        ))),
        _ => Ok(c.output.subscribe()),
    }
}

/// Runs one attach session over the upgraded connection.
pub async fn run<IO>(c: Arc<Container>, opts: AttachOptions, mut rx: broadcast::Receiver<Output>, io: IO)
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let tty = c.snapshot().config.tty;
    let stdin_once = c.snapshot().config.stdin_once;
    let (mut rd, mut wr) = tokio::io::split(io);
    let input = if opts.stdin && c.snapshot().config.open_stdin {
        let c = c.clone();
        Some(tokio::spawn(async move {
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                let n = match rd.read(&mut buf).await {
                    Ok(0) | Err(_) => 0,
                    Ok(n) => n,
                };
                let Some(tx) = stdin_sender(&c).await else { return };
                if n == 0 {
                    if stdin_once {
                        let _ = tx.send(StdinMsg::Close);
                    }
                    return;
                }
                if tx.send(StdinMsg::Data(Bytes::copy_from_slice(&buf[..n]))).is_err() {
                    return;
                }
            }
        }))
    } else {
        None
    };
    loop {
        let msg = match rx.recv().await {
            Ok(m) => m,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => break,
        };
        let (stream, data) = match msg {
            Output::End => break,
            Output::Data(s, d) => (s, d),
        };
        if (stream == Stream::Stdout && !opts.stdout) || (stream == Stream::Stderr && !opts.stderr) {
            continue;
        }
        let res = if tty {
            wr.write_all(&data).await
        } else {
            let mut out = Vec::with_capacity(data.len() + 8);
            encode_frame(stream, &data, &mut out);
            wr.write_all(&out).await
        };
        if res.is_err() {
            break;
        }
    }
    let _ = wr.shutdown().await;
    if let Some(h) = input {
        h.abort();
    }
}

/// The running container's stdin, waiting for `start` if it has not run yet.
async fn stdin_sender(c: &Container) -> Option<tokio::sync::mpsc::UnboundedSender<StdinMsg>> {
    let mut rx = c.lifecycle.subscribe();
    loop {
        if let Some(tx) = c.stdin_sender() {
            return Some(tx);
        }
        let starts = rx.borrow().starts;
        if rx.borrow().removed {
            return None;
        }
        if rx.wait_for(|l| l.starts > starts || l.removed).await.is_err() {
            return None;
        }
    }
}
