//! `/containers/{id}/archive`: the path stat Docker sends in the
//! `X-Docker-Container-Path-Stat` header (base64 of JSON), with Go's
//! `os.FileMode` bits for the mode.

use serde::{Deserialize, Serialize};

pub const STAT_HEADER: &str = "X-Docker-Container-Path-Stat";

/// Go's `os.FileMode` type bits.
pub mod mode {
    pub const DIR: u32 = 1 << 31;
    pub const SYMLINK: u32 = 1 << 27;
    pub const DEVICE: u32 = 1 << 26;
    pub const NAMED_PIPE: u32 = 1 << 25;
    pub const SOCKET: u32 = 1 << 24;
    pub const SETUID: u32 = 1 << 23;
    pub const SETGID: u32 = 1 << 22;
    pub const CHAR_DEVICE: u32 = 1 << 21;
    pub const STICKY: u32 = 1 << 20;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathStat {
    pub name: String,
    pub size: i64,
    pub mode: u32,
    /// RFC 3339 with nanoseconds.
    pub mtime: String,
    #[serde(rename = "linkTarget")]
    pub link_target: String,
}

/// Go's `os.FileMode` of a unix `st_mode`.
pub fn go_file_mode(st_mode: u32) -> u32 {
    let mut m = st_mode & 0o777;
    m |= match st_mode & 0o170000 {
        0o040000 => mode::DIR,
        0o120000 => mode::SYMLINK,
        0o010000 => mode::NAMED_PIPE,
        0o140000 => mode::SOCKET,
        0o020000 => mode::DEVICE | mode::CHAR_DEVICE,
        0o060000 => mode::DEVICE,
        _ => 0,
    };
    for (unix, go) in [(0o4000, mode::SETUID), (0o2000, mode::SETGID), (0o1000, mode::STICKY)] {
        if st_mode & unix != 0 {
            m |= go;
        }
    }
    m
}

impl PathStat {
    pub fn is_dir(&self) -> bool {
        self.mode & mode::DIR != 0
    }

    pub fn is_symlink(&self) -> bool {
        self.mode & mode::SYMLINK != 0
    }

    /// The header value: base64 (standard alphabet, padded) of the JSON.
    pub fn to_header(&self) -> String {
        base64_encode(&serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn from_header(v: &str) -> Option<PathStat> {
        serde_json::from_slice(&base64_decode(v)?).ok()
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.trim_end_matches('=').bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_docker_shape() {
        let s = PathStat { name: "etc".into(), size: 4096, mode: go_file_mode(0o40755), mtime: "2024-01-01T00:00:00Z".into(), link_target: String::new() };
        assert_eq!(s.mode, 0x800001ed, "Go's ModeDir|0755");
        let h = s.to_header();
        assert_eq!(PathStat::from_header(&h), Some(s));
        for data in [&b""[..], b"a", b"ab", b"abc", b"abcd"] {
            assert_eq!(base64_decode(&base64_encode(data)).as_deref(), Some(data));
        }
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert!(PathStat::from_header("!!").is_none());
        assert_eq!(go_file_mode(0o120777), (1 << 27) | 0o777);
        assert_eq!(go_file_mode(0o104755), (1 << 23) | 0o755);
    }
}
