//! `logs`: read the json-file log the shim writes, filter it, frame it;
//! with `follow`, wake on the container's output broadcast (the shim
//! writes the file before it sends the frame) instead of polling.

use super::manager::{Container, ContainerManager, Output};
use berth_api::stdcopy::{encode_frame, Stream};
use super::logdriver::{existing_rotated, FileKind, LogDriver};
use berth_api::{ApiError, ErrorKind};
use bytes::Bytes;
use serde::Deserialize;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};

pub struct LogOptions {
    pub stdout: bool,
    pub stderr: bool,
    pub follow: bool,
    pub timestamps: bool,
    /// Keep only the last N lines (None: all).
    pub tail: Option<usize>,
    pub since: Option<i128>,
    pub until: Option<i128>,
}

#[derive(Deserialize)]
struct Entry {
    log: String,
    stream: String,
    time: String,
}

impl ContainerManager {
    /// Streams the log to `tx` as frames (raw when the container has a TTY).
    pub async fn logs(&self, c: Arc<Container>, opts: LogOptions, tx: mpsc::Sender<Bytes>) -> Result<(), ApiError> {
        if !opts.stdout && !opts.stderr {
            return Err(ApiError::invalid("Bad parameters: you must choose at least one stream"));
        }
        let rec = c.snapshot();
        let tty = rec.config.tty;
        let driver = readable_driver(&rec.host_config.log_config)?;
        let Some(path) = driver.path(&self.cfg.container_dir(&c.id), &c.id) else { return Ok(()) };
        let rotates = matches!(driver, LogDriver::File { max_file, .. } if max_file > 1);
        // Subscribe before reading so nothing written meanwhile is missed.
        let mut rx = c.output.subscribe();
        let following = opts.follow && c.snapshot().state.status.is_running();
        let mut offset = 0u64;
        let mut pending = String::new();
        // The rotated files first, oldest first; then the current one.
        let mut lines = Vec::new();
        for old in driver.files(&path).iter().filter(|p| **p != path) {
            lines.extend(read_from(old, &mut 0, &mut String::new()));
        }
        lines.extend(read_from(&path, &mut offset, &mut pending));
        let start = match opts.tail {
            Some(n) => lines.len().saturating_sub(n),
            None => 0,
        };
        if !send_lines(&lines[start..], &opts, tty, &tx).await {
            return Ok(());
        }
        if !following {
            return Ok(());
        }
        loop {
            let ended = match rx.recv().await {
                Ok(Output::Data(..)) | Err(broadcast::error::RecvError::Lagged(_)) => false,
                Ok(Output::End) | Err(broadcast::error::RecvError::Closed) => true,
            };
            let mut lines = Vec::new();
            // Rotated since the last read: finish the old file, then start the new one.
            if std::fs::metadata(&path).map(|m| m.len() < offset).unwrap_or(false) {
                // The old file is `.1`, or `.1.gz` once the shim compressed it.
                if let Some(old) = rotates.then(|| existing_rotated(&path, 1)).flatten() {
                    lines.extend(read_from(&old, &mut offset, &mut pending));
                }
                offset = 0;
            }
            lines.extend(read_from(&path, &mut offset, &mut pending));
            if !send_lines(&lines, &opts, tty, &tx).await || ended {
                return Ok(());
            }
        }
    }
}

/// The container's log driver, if `logs` can read it (dockerd's 501 for `none`).
/// A record whose options no longer parse still has its json-file log.
pub fn readable_driver(lc: &berth_api::container::LogConfig) -> Result<LogDriver, ApiError> {
    let fallback = LogDriver::File { kind: FileKind::JsonFile, max_size: None, max_file: 1, compress: false };
    match LogDriver::parse(lc).unwrap_or(fallback) {
        LogDriver::None => Err(ApiError::new(ErrorKind::NotImplemented, "configured logging driver does not support reading")),
        d => Ok(d),
    }
}

/// Reads complete lines appended since `offset` (of the uncompressed
/// text, for a rotated `.gz` file).
fn read_from(path: &std::path::Path, offset: &mut u64, pending: &mut String) -> Vec<String> {
    let Ok(mut f) = std::fs::File::open(path) else { return vec![] };
    let mut buf = Vec::new();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut all = Vec::new();
        // A damaged archive yields what could be read.
        let _ = flate2::read::GzDecoder::new(f).read_to_end(&mut all);
        buf = all.split_off(usize::try_from(*offset).unwrap_or(usize::MAX).min(all.len()));
    } else if f.seek(SeekFrom::Start(*offset)).is_err() || f.read_to_end(&mut buf).is_err() {
        return vec![];
    }
    *offset += buf.len() as u64;
    pending.push_str(&String::from_utf8_lossy(&buf));
    let mut lines: Vec<String> = pending.split('\n').map(str::to_string).collect();
    *pending = lines.pop().unwrap_or_default();
    lines
}

async fn send_lines(lines: &[String], opts: &LogOptions, tty: bool, tx: &mpsc::Sender<Bytes>) -> bool {
    let mut out = Vec::new();
    for line in lines {
        let Ok(e) = serde_json::from_str::<Entry>(line) else { continue };
        let stream = if e.stream == "stderr" { Stream::Stderr } else { Stream::Stdout };
        if (stream == Stream::Stdout && !opts.stdout) || (stream == Stream::Stderr && !opts.stderr) {
            continue;
        }
        let t = berth_api::time::parse_rfc3339(&e.time).unwrap_or(0);
        if opts.since.is_some_and(|s| t < s) || opts.until.is_some_and(|u| t > u) {
            continue;
        }
        let mut payload = Vec::new();
        if opts.timestamps {
            payload.extend_from_slice(e.time.as_bytes());
            payload.push(b' ');
        }
        payload.extend_from_slice(e.log.as_bytes());
        if tty {
            out.extend_from_slice(&payload);
        } else {
            encode_frame(stream, &payload, &mut out);
        }
    }
    out.is_empty() || tx.send(Bytes::from(out)).await.is_ok()
}
