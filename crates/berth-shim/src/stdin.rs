//! The shim's end of the container's stdin: a bounded buffer in front of a
//! non-blocking pipe, fed by `attach stdin` clients.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, RawFd};

/// Bytes buffered towards the container before clients are throttled.
pub const MAX_BUF: usize = 64 * 1024;

pub struct StdinPipe {
    file: File,
    buf: Vec<u8>,
    /// Close once the buffer is flushed (`--stdin-once` client hung up).
    closing: bool,
}

impl StdinPipe {
    pub fn new(file: File) -> StdinPipe {
        StdinPipe {
            file,
            buf: Vec::new(),
            closing: false,
        }
    }

    pub fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    pub fn wants_write(&self) -> bool {
        !self.buf.is_empty()
    }

    /// How much more input to accept now (0: stop reading clients).
    pub fn room(&self) -> usize {
        MAX_BUF.saturating_sub(self.buf.len())
    }

    /// Queues input; returns false once the pipe should be dropped (closed).
    pub fn feed(&mut self, data: &[u8]) -> bool {
        if !self.closing {
            self.buf.extend_from_slice(data);
        }
        self.flush()
    }

    /// No more input will come: close after what is buffered.
    pub fn close_after_flush(&mut self) -> bool {
        self.closing = true;
        self.flush()
    }

    /// Writes what the pipe takes; returns false once it should be dropped:
    /// closing and flushed, or the container closed its end.
    pub fn flush(&mut self) -> bool {
        while !self.buf.is_empty() {
            match self.file.write(&self.buf) {
                Ok(n) => {
                    self.buf.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(_) => return false,
            }
        }
        !self.closing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::{pipe, set_nonblocking};
    use std::io::Read;

    fn pair() -> (File, StdinPipe) {
        let (r, w) = pipe().expect("pipe");
        set_nonblocking(&w).expect("nonblocking");
        (File::from(r), StdinPipe::new(File::from(w)))
    }

    #[test]
    fn buffers_when_full_and_flushes_later() {
        let (mut r, mut s) = pair();
        let big = vec![7u8; 200 * 1024]; // more than a pipe holds
        assert!(s.feed(&big));
        assert!(s.wants_write());
        assert!(s.room() < MAX_BUF);
        let mut got = vec![0u8; big.len()];
        let mut n = 0;
        while n < big.len() {
            n += r.read(&mut got[n..]).expect("read");
            assert!(s.flush());
        }
        assert_eq!(got, big);
        assert!(!s.wants_write());
    }

    #[test]
    fn close_after_flush_and_ignore_later_input() {
        let (mut r, mut s) = pair();
        assert!(s.feed(b"abc"));
        assert!(!s.close_after_flush(), "flushed, so it can close");
        assert!(!s.feed(b"late"));
        drop(s);
        let mut out = Vec::new();
        r.read_to_end(&mut out).expect("read");
        assert_eq!(out, b"abc");
    }

    #[test]
    fn reader_gone_drops_pipe() {
        let (r, mut s) = pair();
        drop(r);
        assert!(!s.feed(b"x"));
    }
}
