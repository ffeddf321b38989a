//! `logs`: read the json-file log the shim writes, filter it, frame it;
//! with `follow`, wake on the container's output broadcast (the shim
//! writes the file before it sends the frame) instead of polling. All of
//! it runs on a blocking thread, reading the file a chunk at a time.

use super::manager::{Container, ContainerManager, Output};
use berth_api::stdcopy::{encode_frame, Stream};
use super::logdriver::{existing_rotated, FileKind, LogDriver};
use berth_api::{ApiError, ErrorKind};
use bytes::Bytes;
use serde::Deserialize;
use std::collections::VecDeque;
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

/// How much of a log file is read at a time: a big log streams out in
/// pieces instead of being held in memory whole.
const CHUNK: u64 = 256 * 1024;

impl ContainerManager {
    /// Streams the log to `tx` as frames (raw when the container has a TTY).
    /// Blocking (file reads, waits for output): run it on a blocking thread.
    pub fn logs(&self, c: Arc<Container>, opts: LogOptions, tx: mpsc::Sender<Bytes>) -> Result<(), ApiError> {
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
        let mut cur = Cursor::default();
        // The rotated files first, oldest first; then the current one.
        // With a tail only the last lines are kept while reading.
        let mut tail: VecDeque<String> = VecDeque::new();
        let mut emit = |lines: Vec<String>| -> bool {
            match opts.tail {
                Some(n) => {
                    tail.extend(lines);
                    while tail.len() > n {
                        tail.pop_front();
                    }
                    true
                }
                None => send_lines(&lines, &opts, tty, &tx),
            }
        };
        for old in driver.files(&path).iter().filter(|p| **p != path) {
            let mut old_cur = Cursor::default();
            while let Some(lines) = old_cur.read(old) {
                if !emit(lines) {
                    return Ok(());
                }
            }
        }
        while let Some(lines) = cur.read(&path) {
            if !emit(lines) {
                return Ok(());
            }
        }
        if opts.tail.is_some() && !send_lines(&Vec::from(tail), &opts, tty, &tx) {
            return Ok(());
        }
        if !following {
            return Ok(());
        }
        loop {
            let ended = match rx.blocking_recv() {
                Ok(Output::Data(..)) | Err(broadcast::error::RecvError::Lagged(_)) => false,
                Ok(Output::End) | Err(broadcast::error::RecvError::Closed) => true,
            };
            // Rotated since the last read: finish the old file, then start the new one.
            if std::fs::metadata(&path).map(|m| m.len() < cur.offset).unwrap_or(false) {
                // The old file is `.1`, or `.1.gz` once the shim compressed it.
                if let Some(old) = rotates.then(|| existing_rotated(&path, 1)).flatten() {
                    while let Some(lines) = cur.read(&old) {
                        if !send_lines(&lines, &opts, tty, &tx) {
                            return Ok(());
                        }
                    }
                }
                cur.offset = 0;
            }
            while let Some(lines) = cur.read(&path) {
                if !send_lines(&lines, &opts, tty, &tx) {
                    return Ok(());
                }
            }
            if ended || tx.is_closed() {
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

/// A read position in one log file (of the uncompressed text, for a
/// rotated `.gz` one) and the partial line after it.
#[derive(Default)]
struct Cursor {
    offset: u64,
    pending: String,
    /// The open decoder of a `.gz` file being read, which cannot seek.
    gz: Option<(std::path::PathBuf, flate2::read::GzDecoder<std::fs::File>)>,
}

impl Cursor {
    /// The complete lines in the next chunk of `path` after the offset;
    /// None at its end (or when it cannot be read).
    fn read(&mut self, path: &std::path::Path) -> Option<Vec<String>> {
        let mut buf = Vec::new();
        if path.extension().is_some_and(|e| e == "gz") {
            if self.gz.as_ref().is_none_or(|(p, _)| p != path) {
                let mut d = flate2::read::GzDecoder::new(std::fs::File::open(path).ok()?);
                // Skip what was read before the file was rotated and compressed.
                std::io::copy(&mut d.by_ref().take(self.offset), &mut std::io::sink()).ok()?;
                self.gz = Some((path.to_path_buf(), d));
            }
            let (_, d) = self.gz.as_mut()?;
            // A damaged archive yields what could be read.
            let _ = d.by_ref().take(CHUNK).read_to_end(&mut buf);
        } else {
            let mut f = std::fs::File::open(path).ok()?;
            f.seek(SeekFrom::Start(self.offset)).ok()?;
            f.take(CHUNK).read_to_end(&mut buf).ok()?;
        }
        if buf.is_empty() {
            self.gz = None;
            return None;
        }
        self.offset += buf.len() as u64;
        self.pending.push_str(&String::from_utf8_lossy(&buf));
        let mut lines: Vec<String> = self.pending.split('\n').map(str::to_string).collect();
        self.pending = lines.pop().unwrap_or_default();
        Some(lines)
    }
}

/// Frames `lines` and sends them (blocking); false once the client is gone.
fn send_lines(lines: &[String], opts: &LogOptions, tty: bool, tx: &mpsc::Sender<Bytes>) -> bool {
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
    out.is_empty() || tx.blocking_send(Bytes::from(out)).is_ok()
}
