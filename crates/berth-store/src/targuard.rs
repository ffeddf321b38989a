//! A bound on the tar metadata held in memory. The tar crate reads a GNU
//! long name or long link (`L`, `K`) and a PAX extended header (`x`) whole
//! into a buffer before the entry they describe, however large their
//! header says they are: a client streaming `load`, `import` or `cp` could
//! make berthd buffer gigabytes. `TarGuard` follows the stream's headers
//! as the tar crate walks them and fails the read at such a header over
//! 1 MiB, the limit Go's archive/tar (and so dockerd) applies.

use std::io::{self, Read};

/// Largest `L`, `K` or `x` entry accepted (Go's `maxSpecialFileSize`).
pub const MAX_SPECIAL: u64 = 1 << 20;
const BLOCK: u64 = 512;

enum State {
    /// Before the next header, at `next`.
    Skip,
    /// Collecting a 512-byte header.
    Header,
    /// Collecting a PAX header's records (bounded by `MAX_SPECIAL`).
    Pax { left: u64 },
    /// Collecting the extension blocks that follow a GNU sparse header.
    SparseExt,
    /// End of archive, or a header the tar crate will refuse: nothing more to watch.
    Done,
}

/// Wraps the reader a `tar::Archive` reads from (see the module comment).
pub struct TarGuard<R> {
    inner: R,
    pos: u64,
    next: u64,
    state: State,
    block: Vec<u8>,
    pax: Vec<u8>,
    pax_size: Option<Option<u64>>,
}

impl<R: Read> TarGuard<R> {
    pub fn new(inner: R) -> TarGuard<R> {
        TarGuard { inner, pos: 0, next: 0, state: State::Skip, block: Vec::with_capacity(BLOCK as usize), pax: Vec::new(), pax_size: None }
    }

    fn feed(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let take = |n: u64, data: &mut &[u8]| -> usize {
                let k = usize::try_from(n).unwrap_or(usize::MAX).min(data.len());
                *data = &data[k..];
                k
            };
            match self.state {
                State::Done => return Ok(()),
                State::Skip => {
                    if self.pos < self.next {
                        let k = take(self.next - self.pos, &mut data);
                        self.pos += k as u64;
                    } else {
                        self.block.clear();
                        self.state = State::Header;
                    }
                }
                State::Header | State::SparseExt => {
                    let before = data;
                    let k = take(BLOCK - self.block.len() as u64, &mut data);
                    self.block.extend_from_slice(&before[..k]);
                    self.pos += k as u64;
                    if self.block.len() as u64 == BLOCK {
                        if matches!(self.state, State::Header) {
                            self.on_header()?;
                        } else {
                            self.next += BLOCK;
                            // `isextended` of a GnuExtSparseHeader: more blocks follow.
                            self.state = if self.block[504] == 1 { State::SparseExt } else { State::Skip };
                            self.block.clear();
                        }
                    }
                }
                State::Pax { left } => {
                    let before = data;
                    let k = take(left, &mut data);
                    self.pax.extend_from_slice(&before[..k]);
                    self.pos += k as u64;
                    self.state = State::Pax { left: left - k as u64 };
                }
            }
            if let State::Pax { left: 0 } = self.state {
                self.pax_size = Some(pax_size(&self.pax));
                self.state = State::Skip;
            }
        }
        Ok(())
    }

    /// One whole header, read as the tar crate (0.4) reads it.
    fn on_header(&mut self) -> io::Result<()> {
        if self.block.iter().all(|b| *b == 0) {
            self.state = State::Done; // end of archive
            return Ok(());
        }
        let sum: u32 = self.block[..148].iter().chain(&self.block[156..]).map(|b| u32::from(*b)).sum::<u32>() + 8 * 32;
        let h = tar::Header::from_byte_slice(&self.block);
        if h.cksum().ok() != Some(sum) {
            self.state = State::Done;
            return Ok(());
        }
        let ty = h.entry_type();
        let recognized = h.as_gnu().is_some() || h.as_ustar().is_some();
        let special = recognized && (ty.is_gnu_longname() || ty.is_gnu_longlink() || ty.is_pax_local_extensions());
        let extension = ty.is_gnu_longname() || ty.is_gnu_longlink() || ty.is_pax_local_extensions() || ty.is_pax_global_extensions();
        let Ok(mut size) = h.entry_size() else {
            self.state = State::Done;
            return Ok(());
        };
        if !special {
            // The entry a pending PAX header describes: its `size` wins.
            if let Some(Some(s)) = self.pax_size.take().filter(|_| !extension) {
                size = s;
            }
        }
        if special && size > MAX_SPECIAL {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("tar extended header of {size} bytes (at most {MAX_SPECIAL} are accepted)"),
            ));
        }
        let Some(next) = size.checked_add(BLOCK - 1).map(|s| s & !(BLOCK - 1)).and_then(|s| self.pos.checked_add(s)) else {
            self.state = State::Done;
            return Ok(());
        };
        self.next = next;
        let sparse_ext = !special && ty.is_gnu_sparse() && h.as_gnu().is_some_and(|g| g.is_extended());
        self.block.clear();
        self.state = if special && ty.is_pax_local_extensions() {
            self.pax.clear();
            State::Pax { left: size }
        } else if sparse_ext {
            State::SparseExt
        } else {
            State::Skip
        };
        Ok(())
    }
}

/// The `size` record of PAX extensions, as the tar crate reads it.
fn pax_size(data: &[u8]) -> Option<u64> {
    for ext in tar::PaxExtensions::new(data) {
        let ext = ext.ok()?;
        if ext.key() == Ok("size") {
            return ext.value().ok()?.parse().ok();
        }
    }
    None
}

impl<R: Read> Read for TarGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.feed(&buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
#[path = "targuard_tests.rs"]
mod tests;
