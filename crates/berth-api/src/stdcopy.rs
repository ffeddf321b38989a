//! Docker's multiplexed stdio framing (used when a container has no TTY):
//! an 8-byte header `[stream, 0, 0, 0, len(u32 BE)]` followed by `len` bytes.

/// Which stream a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdin = 0,
    Stdout = 1,
    Stderr = 2,
}

impl Stream {
    pub fn from_byte(b: u8) -> Option<Stream> {
        match b {
            0 => Some(Stream::Stdin),
            1 => Some(Stream::Stdout),
            2 => Some(Stream::Stderr),
            _ => None,
        }
    }
}

pub const HEADER_LEN: usize = 8;

/// Appends one frame to `out`.
pub fn encode_frame(stream: Stream, payload: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.push(stream as u8);
    out.extend_from_slice(&[0, 0, 0]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&payload[..len as usize]);
}

/// Incremental decoder: feed bytes, take complete frames.
#[derive(Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
}

/// A decoding failure: the peer is not speaking the framing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid stream header byte {0}")]
pub struct BadFrame(pub u8);

impl FrameDecoder {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, if one has arrived.
    pub fn next_frame(&mut self) -> Result<Option<(Stream, Vec<u8>)>, BadFrame> {
        if self.buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let stream = Stream::from_byte(self.buf[0]).ok_or(BadFrame(self.buf[0]))?;
        let len = u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize;
        if self.buf.len() < HEADER_LEN + len {
            return Ok(None);
        }
        let payload = self.buf[HEADER_LEN..HEADER_LEN + len].to_vec();
        self.buf.drain(..HEADER_LEN + len);
        Ok(Some((stream, payload)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_split_frames() {
        let mut wire = Vec::new();
        encode_frame(Stream::Stdout, b"hello\n", &mut wire);
        encode_frame(Stream::Stderr, b"oops", &mut wire);
        let mut d = FrameDecoder::default();
        d.push(&wire[..5]);
        assert_eq!(d.next_frame().unwrap(), None);
        d.push(&wire[5..]);
        assert_eq!(d.next_frame().unwrap(), Some((Stream::Stdout, b"hello\n".to_vec())));
        assert_eq!(d.next_frame().unwrap(), Some((Stream::Stderr, b"oops".to_vec())));
        assert_eq!(d.next_frame().unwrap(), None);
    }

    #[test]
    fn rejects_garbage() {
        let mut d = FrameDecoder::default();
        d.push(b"HTTP/1.1 200 OK");
        assert_eq!(d.next_frame(), Err(BadFrame(b'H')));
    }
}
