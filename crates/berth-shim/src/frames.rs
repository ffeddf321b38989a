//! The two output streams and Docker's multiplexed attach framing:
//! 8-byte header `[stream, 0, 0, 0, len as u32 big-endian]`, then the payload.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    /// The stream byte in a frame header (0 would be stdin, which we never send).
    pub fn code(self) -> u8 {
        match self {
            Stream::Stdout => 1,
            Stream::Stderr => 2,
        }
    }

    /// The `stream` field of a json-file log entry.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

pub const HEADER_LEN: usize = 8;

/// Appends one frame per `u32::MAX` bytes of `payload` to `out`.
pub fn encode(stream: Stream, payload: &[u8], out: &mut Vec<u8>) {
    for piece in payload.chunks(u32::MAX as usize) {
        // chunks() bounds each piece by u32::MAX, so the cast cannot truncate.
        let len = piece.len() as u32;
        out.push(stream.code());
        out.extend_from_slice(&[0, 0, 0]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(piece);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_stdout_and_stderr_frames() {
        let mut out = Vec::new();
        encode(Stream::Stdout, b"hello\n", &mut out);
        encode(Stream::Stderr, b"e", &mut out);
        assert_eq!(
            out,
            [
                &[1u8, 0, 0, 0, 0, 0, 0, 6][..],
                b"hello\n",
                &[2, 0, 0, 0, 0, 0, 0, 1],
                b"e"
            ]
            .concat()
        );
    }

    #[test]
    fn empty_payload_gives_no_frame() {
        let mut out = Vec::new();
        encode(Stream::Stdout, b"", &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn length_is_big_endian() {
        let mut out = Vec::new();
        encode(Stream::Stderr, &[b'x'; 0x1_0203], &mut out);
        assert_eq!(&out[..HEADER_LEN], &[2, 0, 0, 0, 0x00, 0x01, 0x02, 0x03]);
        assert_eq!(out.len(), HEADER_LEN + 0x1_0203);
    }

    #[test]
    fn stream_names() {
        assert_eq!(Stream::Stdout.name(), "stdout");
        assert_eq!(Stream::Stderr.name(), "stderr");
    }
}
