//! Detach keys (`ctrl-p,ctrl-q` by default): parsing Docker's notation and
//! spotting the sequence in an input stream, as Docker's escape proxy does.
//! Bytes that could start the sequence are held back until it is clear they
//! do not; the sequence itself is never passed on.

/// Docker's default: ctrl-p, ctrl-q.
pub const DEFAULT: &[u8] = &[0x10, 0x11];

/// An unparsable `--detach-keys` / `detachKeys` value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("Invalid detach keys ({0}) provided")]
pub struct InvalidDetachKeys(pub String);

/// Parses `ctrl-p,ctrl-q`, `a`, `ctrl-@` ... (Docker's `term.ToBytes`).
pub fn parse(keys: &str) -> Result<Vec<u8>, InvalidDetachKeys> {
    let bad = || InvalidDetachKeys(keys.to_string());
    let mut out = Vec::new();
    for key in keys.split(',') {
        let k = key.trim_matches(' ');
        if k.len() > 1 {
            let rest = k.strip_prefix("ctrl-").ok_or_else(bad)?;
            let b = match rest.as_bytes() {
                [c @ b'a'..=b'z'] => c - b'a' + 1,
                [b'@'] => 0,
                [b'['] => 27,
                [b'\\'] => 28,
                [b']'] => 29,
                [b'^'] => 30,
                [b'_'] => 31,
                _ => return Err(bad()),
            };
            out.push(b);
        } else if let [c] = k.as_bytes() {
            out.push(*c);
        } else {
            return Err(bad());
        }
    }
    Ok(out)
}

/// What [`Scanner::feed`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Scan {
    /// Pass these bytes on (may be empty while a prefix is held back).
    Data(Vec<u8>),
    /// The sequence was typed: pass on the bytes before it, then detach.
    Detach(Vec<u8>),
}

/// Finds the detach sequence in a stream fed in arbitrary pieces.
#[derive(Debug, Clone)]
pub struct Scanner {
    keys: Vec<u8>,
    matched: usize,
}

impl Scanner {
    /// An empty `keys` never detaches.
    pub fn new(keys: Vec<u8>) -> Scanner {
        Scanner { keys, matched: 0 }
    }

    pub fn feed(&mut self, input: &[u8]) -> Scan {
        if self.keys.is_empty() {
            return Scan::Data(input.to_vec());
        }
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    self.matched = 0;
                    return Scan::Detach(out);
                }
                continue;
            }
            // Mismatch: the held prefix was ordinary input after all. The
            // byte may itself start a new match.
            out.extend_from_slice(&self.keys[..self.matched]);
            self.matched = 0;
            if b == self.keys[0] {
                self.matched = 1;
                if self.keys.len() == 1 {
                    self.matched = 0;
                    return Scan::Detach(out);
                }
            } else {
                out.push(b);
            }
        }
        Scan::Data(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_notation() {
        assert_eq!(parse("ctrl-p,ctrl-q").expect("valid"), DEFAULT);
        assert_eq!(parse("ctrl-a").expect("valid"), [1]);
        assert_eq!(parse("ctrl-@,a,ctrl-_").expect("valid"), [0, b'a', 31]);
        assert_eq!(parse("ctrl-[,ctrl-\\,ctrl-],ctrl-^").expect("valid"), [27, 28, 29, 30]);
        for bad in ["", "ctrl-", "ctrl-A", "ctrl-1", "ab", "ctrl-p,", "alt-x", "ctrl-pp", "é"] {
            assert_eq!(parse(bad), Err(InvalidDetachKeys(bad.into())), "{bad:?}");
        }
    }

    #[test]
    fn detaches_on_the_sequence_and_passes_the_rest() {
        let mut s = Scanner::new(DEFAULT.to_vec());
        assert_eq!(s.feed(b"ls\r"), Scan::Data(b"ls\r".to_vec()));
        assert_eq!(s.feed(b"ab\x10"), Scan::Data(b"ab".to_vec()));
        assert_eq!(s.feed(b"\x11zz"), Scan::Detach(vec![]));
    }

    #[test]
    fn held_prefix_is_released_on_mismatch() {
        let mut s = Scanner::new(DEFAULT.to_vec());
        assert_eq!(s.feed(b"\x10"), Scan::Data(vec![]));
        assert_eq!(s.feed(b"x"), Scan::Data(b"\x10x".to_vec()));
        // ctrl-p ctrl-p ctrl-q: the first ctrl-p is data, the rest detaches.
        assert_eq!(s.feed(b"\x10\x10\x11"), Scan::Detach(b"\x10".to_vec()));
    }

    #[test]
    fn single_key_and_no_keys() {
        let mut s = Scanner::new(vec![b'q']);
        assert_eq!(s.feed(b"abq"), Scan::Detach(b"ab".to_vec()));
        let mut s = Scanner::new(vec![]);
        assert_eq!(s.feed(b"\x10\x11"), Scan::Data(b"\x10\x11".to_vec()));
    }
}
