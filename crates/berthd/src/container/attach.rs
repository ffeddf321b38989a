//! The hijacked attach stream: container output out (framed unless the
//! container has a TTY), client input in, until the container's output ends.

use super::manager::{Container, Output, StdinMsg};
use super::record::Status;
use berth_api::detachkeys::{Scan, Scanner};
use berth_api::stdcopy::{encode_frame, Stream};
use berth_api::ApiError;
use bytes::Bytes;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::broadcast;

/// How long a log replay waits after the 101 (see `run`).
const REPLAY_DELAY: std::time::Duration = std::time::Duration::from_millis(50);

pub struct AttachOptions {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// The detach sequence, watched for in the input of a TTY container.
    pub detach_keys: Vec<u8>,
    /// `logs=1`: the container's log is replayed first.
    pub logs: bool,
    /// `stream=1`: live output follows; without it the session ends after
    /// the replay (dockerd's `stream=0`).
    pub stream: bool,
}

/// The `detachKeys` parameter: Docker's default when empty, a 400 when invalid.
pub fn parse_detach_keys(keys: Option<&str>) -> Result<Vec<u8>, ApiError> {
    match keys.filter(|k| !k.is_empty()) {
        None => Ok(berth_api::detachkeys::DEFAULT.to_vec()),
        Some(k) => berth_api::detachkeys::parse(k).map_err(|e| ApiError::invalid(e.to_string())),
    }
}

impl super::manager::ContainerManager {
    /// Sets the window size of a running container's terminal (a no-op
    /// without one, as in Docker; 0x0 is what a CLI without a size sends).
    pub async fn resize(&self, c: &Container, rows: u16, cols: u16) -> Result<(), ApiError> {
        if !c.snapshot().state.status.is_running() {
            return Err(ApiError::conflict(format!("container {} is not running", c.id)));
        }
        if rows == 0 || cols == 0 {
            return Ok(());
        }
        let dir = self.cfg.shim_dir(&c.id);
        let reply = super::shim_client::request(&dir, &format!("resize {rows} {cols}"))
            .await
            .map_err(|e| ApiError::internal(format!("resizing: {e}")))?;
        super::shim_client::reply_result(&reply).map_err(|m| ApiError::internal(format!("resizing: {m}")))
    }
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

/// Runs one attach session over the upgraded connection: the replayed
/// log (already framed, from `logs`) when asked for, then the live streams.
pub async fn run<IO>(
    c: Arc<Container>,
    opts: AttachOptions,
    mut rx: broadcast::Receiver<Output>,
    replay: Option<tokio::sync::mpsc::Receiver<Bytes>>,
    io: IO,
) where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let tty = c.snapshot().config.tty;
    let stdin_once = c.snapshot().config.stdin_once;
    let (mut rd, mut wr) = tokio::io::split(io);
    if let Some(mut replay) = replay {
        // docker-py reads the attach stream from the socket beneath its
        // buffered HTTP reader: bytes that reach it with the 101's head are
        // lost. dockerd's replay starts later (its log reader starts
        // first); leave the client the same moment to read the head.
        tokio::time::sleep(REPLAY_DELAY).await;
        while let Some(chunk) = replay.recv().await {
            if wr.write_all(&chunk).await.is_err() {
                return;
            }
        }
    }
    if !opts.stream {
        let _ = wr.shutdown().await;
        return;
    }
    // Fires when the client typed the detach keys (or, with a TTY, ended
    // its input): the session ends, the container goes on.
    let (detach_tx, mut detached) = tokio::sync::oneshot::channel::<()>();
    let input = if opts.stdin && c.snapshot().config.open_stdin {
        let c = c.clone();
        let mut scanner = Scanner::new(if tty { opts.detach_keys } else { Vec::new() });
        Some(tokio::spawn(async move {
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                let n = match rd.read(&mut buf).await {
                    Ok(0) | Err(_) => 0,
                    Ok(n) => n,
                };
                let Some(tx) = stdin_sender(&c).await else { return };
                if n == 0 {
                    // Docker closes a TTY's input never, a pipe's with StdinOnce.
                    if tty {
                        let _ = detach_tx.send(());
                    } else if stdin_once {
                        let _ = tx.send(StdinMsg::Close);
                    }
                    return;
                }
                let (data, detach) = match scanner.feed(&buf[..n]) {
                    Scan::Data(d) => (d, false),
                    Scan::Detach(d) => (d, true),
                };
                if !data.is_empty() && tx.send(StdinMsg::Data(Bytes::from(data))).is_err() {
                    return;
                }
                if detach {
                    let _ = detach_tx.send(());
                    return;
                }
            }
        }))
    } else {
        drop(detach_tx);
        None
    };
    let mut watching = input.is_some();
    loop {
        let next = tokio::select! {
            m = rx.recv() => Some(m),
            r = &mut detached, if watching => {
                watching = false;
                if r.is_ok() { None } else { continue }
            }
        };
        let Some(next) = next else { break };
        let msg = match next {
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
