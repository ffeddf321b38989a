//! Docker's json-file log format: one `{"log":..,"stream":..,"time":..}`
//! object per line, output split into lines (long lines cut at 16 KiB).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::frames::Stream;

/// Docker cuts a line that has no newline after this many bytes.
pub const MAX_LINE: usize = 16 * 1024;

/// When to rotate the log (`--log-opt max-size`/`max-file`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Rotate before a write would take the file past this many bytes.
    pub max_size: u64,
    /// Files kept in all, the current one included; 1 truncates in place.
    pub max_file: u32,
    /// gzip the rotated files (`<log>.N.gz`), as dockerd's `compress`.
    pub compress: bool,
}

/// Appends log entries to the container's json-file log.
pub struct JsonLog {
    file: File,
    path: PathBuf,
    rotation: Option<Rotation>,
    /// Bytes in the current file (known only when rotating).
    size: u64,
    stdout: LineSplitter,
    stderr: LineSplitter,
    scratch: Vec<u8>,
    /// The time of the last entry written (for the gzip header).
    last_time: String,
    /// The thread compressing the newest rotated file, off the output path.
    compressing: Option<std::thread::JoinHandle<()>>,
}

impl JsonLog {
    pub fn open(path: &Path, rotation: Option<Rotation>) -> Result<JsonLog> {
        let file = open_append(path)?;
        let size = if rotation.is_some() { file.metadata().map(|m| m.len()).unwrap_or(0) } else { 0 };
        Ok(JsonLog {
            file,
            path: path.to_path_buf(),
            rotation,
            size,
            stdout: LineSplitter::default(),
            stderr: LineSplitter::default(),
            scratch: Vec::new(),
            last_time: String::new(),
            compressing: None,
        })
    }

    /// Logs a chunk read from `stream`; complete lines are written now.
    pub fn write(&mut self, stream: Stream, chunk: &[u8]) {
        let time = now_rfc3339();
        let scratch = &mut self.scratch;
        let splitter = match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        splitter.push(chunk, |line| encode_entry(line, stream, &time, scratch));
        self.last_time = time;
        self.flush();
    }

    /// The stream hit EOF (or we gave up on it): log what is left of its last line.
    pub fn finish(&mut self, stream: Stream) {
        let time = now_rfc3339();
        let scratch = &mut self.scratch;
        let splitter = match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        splitter.finish(|line| encode_entry(line, stream, &time, scratch));
        self.last_time = time;
        self.flush();
    }

    fn flush(&mut self) {
        if let Some(r) = self.rotation {
            self.flush_rotating(r);
            return;
        }
        if !self.scratch.is_empty() {
            // A full disk must not stop the container's output from flowing to
            // attach clients; the entry is lost, as with Docker.
            let _ = self.file.write_all(&self.scratch);
            self.scratch.clear();
        }
    }
}

impl JsonLog {
    /// Writes the pending entries one at a time, rotating before an entry
    /// that would take the file past `max_size` (each entry is one line:
    /// JSON escapes every newline inside it).
    fn flush_rotating(&mut self, r: Rotation) {
        let scratch = std::mem::take(&mut self.scratch);
        let mut start = 0;
        while start < scratch.len() {
            let end = scratch[start..].iter().position(|b| *b == b'\n').map_or(scratch.len(), |i| start + i + 1);
            let entry = &scratch[start..end];
            if self.size > 0 && self.size + entry.len() as u64 > r.max_size {
                self.rotate(r);
            }
            if self.file.write_all(entry).is_ok() {
                self.size += entry.len() as u64;
            }
            start = end;
        }
        self.scratch = scratch;
        self.scratch.clear();
    }

    /// Moves `<log>.N-1` to `<log>.N` ... and `<log>` to `<log>.1`, then
    /// starts a new `<log>`, as Docker's json-file driver does; with one
    /// file the log is truncated in place. With `compress` the rotated
    /// files are `<log>.N.gz`, and `<log>.1` is compressed by a thread
    /// (removed once its `.gz` is whole, so readers always find one of
    /// them). A failure keeps writing to the file it has: output must keep
    /// flowing to attach clients.
    fn rotate(&mut self, r: Rotation) {
        if r.max_file <= 1 {
            if self.file.set_len(0).is_ok() {
                self.size = 0;
            }
            return;
        }
        let ext = if r.compress { ".gz" } else { "" };
        if r.compress {
            // The names shift only once the last compression is done (as
            // dockerd's rotation waits for it).
            if let Some(h) = self.compressing.take() {
                let _ = h.join();
            }
            // A `.1` left by a shim that died while compressing.
            let one = rotated(&self.path, 1, "");
            if one.exists() {
                let _ = compress_file(&one, "");
            }
        }
        for n in (1..r.max_file - 1).rev() {
            let _ = std::fs::rename(rotated(&self.path, n, ext), rotated(&self.path, n + 1, ext));
        }
        let one = rotated(&self.path, 1, "");
        if std::fs::rename(&self.path, &one).is_ok() {
            if let Ok(f) = open_append(&self.path) {
                self.file = f;
                self.size = 0;
            }
            if r.compress {
                let last = self.last_time.clone();
                self.compressing = std::thread::Builder::new()
                    .name("log-gzip".into())
                    .spawn(move || {
                        let _ = compress_file(&one, &last);
                    })
                    .ok();
            }
        }
    }
}

impl Drop for JsonLog {
    /// The shim's last act: a compression under way is finished, not cut.
    fn drop(&mut self) {
        if let Some(h) = self.compressing.take() {
            let _ = h.join();
        }
    }
}

/// `<file>` → `<file>.gz` (written beside it, then renamed into place),
/// then `<file>` is removed. The gzip header's extra field holds the last
/// entry's time as dockerd writes it (`{"lastTime":...}`).
fn compress_file(file: &Path, last_time: &str) -> std::io::Result<()> {
    use std::io::Read;
    let mut src = File::open(file)?;
    let mut gz_name = file.as_os_str().to_owned();
    gz_name.push(".gz");
    let gz = PathBuf::from(gz_name);
    let mut tmp_name = gz.clone().into_os_string();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let out = OpenOptions::new().write(true).create(true).truncate(true).mode(0o640).open(&tmp)?;
    let mut builder = flate2::GzBuilder::new();
    if !last_time.is_empty() {
        builder = builder.extra(format!("{{\"lastTime\":\"{last_time}\"}}").into_bytes());
    }
    let mut enc = builder.write(std::io::BufWriter::new(out), flate2::Compression::default());
    let mut buf = vec![0u8; 64 * 1024];
    let done = (|| -> std::io::Result<()> {
        loop {
            let n = src.read(&mut buf)?;
            if n == 0 {
                break;
            }
            enc.write_all(&buf[..n])?;
        }
        enc.finish()?.flush()?;
        std::fs::rename(&tmp, &gz)
    })();
    match done {
        Ok(()) => std::fs::remove_file(file),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn open_append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .open(path)
        .map_err(|e| Error::io(format!("open log {}", path.display()), e))
}

/// `<log>.<n><ext>`: berthd's `logs` reads the same names.
fn rotated(path: &Path, n: u32, ext: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}{ext}"));
    PathBuf::from(s)
}

/// Splits a byte stream into lines (each keeping its `\n`); a line longer
/// than `MAX_LINE` is emitted in `MAX_LINE` pieces.
#[derive(Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
}

impl LineSplitter {
    pub fn push(&mut self, mut data: &[u8], mut emit: impl FnMut(&[u8])) {
        while let Some(nl) = data.iter().position(|&b| b == b'\n') {
            let (line, rest) = data.split_at(nl + 1);
            if self.pending.is_empty() {
                emit(line);
            } else {
                self.pending.extend_from_slice(line);
                emit(&self.pending);
                self.pending.clear();
            }
            data = rest;
        }
        self.pending.extend_from_slice(data);
        if self.pending.len() >= MAX_LINE {
            let mut pieces = self.pending.chunks_exact(MAX_LINE);
            for piece in pieces.by_ref() {
                emit(piece);
            }
            let rest = pieces.remainder().len();
            let cut = self.pending.len() - rest;
            self.pending.drain(..cut);
        }
    }

    pub fn finish(&mut self, mut emit: impl FnMut(&[u8])) {
        if !self.pending.is_empty() {
            emit(&self.pending);
            self.pending.clear();
        }
    }
}

/// Appends one log entry (with its trailing newline) to `out`.
pub fn encode_entry(line: &[u8], stream: Stream, time: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"log\":\"");
    escape_json(line, out);
    out.extend_from_slice(b"\",\"stream\":\"");
    out.extend_from_slice(stream.name().as_bytes());
    out.extend_from_slice(b"\",\"time\":\"");
    out.extend_from_slice(time.as_bytes());
    out.extend_from_slice(b"\"}\n");
}

/// Escapes bytes as the inside of a JSON string the way Go's encoding/json
/// does (HTML-safe; every invalid UTF-8 byte becomes U+FFFD).
pub fn escape_json(mut bytes: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    loop {
        let (valid, invalid) = match std::str::from_utf8(bytes) {
            Ok(s) => (s, 0),
            Err(e) => {
                let (good, bad) = bytes.split_at(e.valid_up_to());
                // SAFETY: from_utf8 validated bytes[..valid_up_to].
                let s = unsafe { std::str::from_utf8_unchecked(good) };
                (s, e.error_len().unwrap_or(bad.len()))
            }
        };
        for c in valid.chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                '\u{0}'..='\u{1f}' | '<' | '>' | '&' => {
                    let b = c as u8;
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 0xf)]);
                }
                '\u{2028}' => out.extend_from_slice(b"\\u2028"),
                '\u{2029}' => out.extend_from_slice(b"\\u2029"),
                _ => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        if invalid == 0 {
            return;
        }
        for _ in 0..invalid {
            out.extend_from_slice(b"\\ufffd");
        }
        bytes = &bytes[valid.len() + invalid..];
    }
}

/// The current time as RFC 3339 with nanoseconds, UTC.
pub fn now_rfc3339() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format_rfc3339(d.as_secs(), d.subsec_nanos())
}

/// `secs` since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
pub fn format_rfc3339(secs: u64, nanos: u32) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        nanos.min(999_999_999)
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's algorithm, restricted to dates after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(b: &[u8]) -> String {
        let mut out = Vec::new();
        escape_json(b, &mut out);
        String::from_utf8(out).expect("escape output is UTF-8")
    }

    #[test]
    fn formats_times() {
        assert_eq!(format_rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            format_rfc3339(951_782_400, 5),
            "2000-02-29T00:00:00.000000005Z"
        );
        assert_eq!(
            format_rfc3339(1_795_456_510, 123_456_789),
            "2026-11-23T17:55:10.123456789Z"
        );
        assert_eq!(
            format_rfc3339(4_107_542_399, 999_999_999),
            "2100-02-28T23:59:59.999999999Z"
        );
        assert_eq!(
            format_rfc3339(4_107_542_400, 0),
            "2100-03-01T00:00:00.000000000Z"
        );
        assert_eq!(
            format_rfc3339(1_704_067_199, 0),
            "2023-12-31T23:59:59.000000000Z"
        );
        assert_eq!(now_rfc3339().len(), 30);
    }

    #[test]
    fn escapes_like_go() {
        assert_eq!(esc(b"plain text"), "plain text");
        assert_eq!(esc(b"a\"b\\c\n\r\t"), "a\\\"b\\\\c\\n\\r\\t");
        assert_eq!(esc(b"\x00\x01\x1b\x7f"), "\\u0000\\u0001\\u001b\x7f");
        assert_eq!(esc(b"<a&b>"), "\\u003ca\\u0026b\\u003e");
        assert_eq!(
            esc("h\u{e9}\u{2028}\u{1F600}".as_bytes()),
            "h\u{e9}\\u2028\u{1F600}"
        );
    }

    #[test]
    fn invalid_utf8_becomes_replacement_chars() {
        assert_eq!(esc(b"a\xffb"), "a\\ufffdb");
        assert_eq!(esc(b"\xff\xfe"), "\\ufffd\\ufffd");
        // Truncated multi-byte sequence at the end.
        assert_eq!(esc(b"x\xe2\x82"), "x\\ufffd\\ufffd");
        assert_eq!(esc(b"\xc0\x80ok"), "\\ufffd\\ufffdok");
    }

    #[test]
    fn encodes_entries() {
        let mut out = Vec::new();
        encode_entry(b"hi \"x\"\n", Stream::Stderr, "T", &mut out);
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "{\"log\":\"hi \\\"x\\\"\\n\",\"stream\":\"stderr\",\"time\":\"T\"}\n"
        );
    }

    fn split(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut s = LineSplitter::default();
        let mut lines = Vec::new();
        for c in chunks {
            s.push(c, |l| lines.push(l.to_vec()));
        }
        s.finish(|l| lines.push(l.to_vec()));
        lines
    }

    #[test]
    fn splits_lines_across_chunks() {
        let got = split(&[b"a\nb", b"c\n\nd"]);
        assert_eq!(
            got,
            vec![
                b"a\n".to_vec(),
                b"bc\n".to_vec(),
                b"\n".to_vec(),
                b"d".to_vec()
            ]
        );
        assert!(split(&[b""]).is_empty());
    }

    #[test]
    fn cuts_long_lines() {
        let big = vec![b'x'; MAX_LINE * 2 + 10];
        let got = split(&[&big, b"y\n"]);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].len(), MAX_LINE);
        assert_eq!(got[1].len(), MAX_LINE);
        assert_eq!(got[2], [&[b'x'; 10][..], b"y\n"].concat());
    }

    #[test]
    fn writes_log_file() {
        let dir = std::env::temp_dir().join(format!("berth-shim-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join("c.json");
        let mut log = JsonLog::open(&path, None).expect("open");
        log.write(Stream::Stdout, b"one\ntw");
        log.write(Stream::Stderr, b"err\n");
        log.write(Stream::Stdout, b"o");
        log.finish(Stream::Stdout);
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::remove_dir_all(&dir).expect("cleanup");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("{\"log\":\"one\\n\",\"stream\":\"stdout\",\"time\":\"20"));
        assert!(lines[1].starts_with("{\"log\":\"err\\n\",\"stream\":\"stderr\""));
        assert!(lines[2].starts_with("{\"log\":\"two\",\"stream\":\"stdout\""));
    }

    #[test]
    fn rotates_at_max_size() {
        let dir = std::env::temp_dir().join(format!("berth-shim-rotate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join("c.json");
        // Each entry is ~80 bytes: every file holds one line before the next rotation.
        let mut log = JsonLog::open(&path, Some(Rotation { max_size: 100, max_file: 3, compress: false })).expect("open");
        for line in ["a\n", "b\n", "c\n", "d\n"] {
            log.write(Stream::Stdout, line.as_bytes());
        }
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
        let (cur, one, two, three) = (read(path.clone()), read(rotated(&path, 1, "")), read(rotated(&path, 2, "")), read(rotated(&path, 3, "")));
        let mut one_file = JsonLog::open(&dir.join("t.json"), Some(Rotation { max_size: 100, max_file: 1, compress: false })).expect("open");
        one_file.write(Stream::Stdout, b"x\n");
        one_file.write(Stream::Stdout, b"y\n");
        let truncated = read(dir.join("t.json"));
        std::fs::remove_dir_all(&dir).expect("cleanup");
        assert!(cur.contains("\"d\\n\"") && one.contains("\"c\\n\"") && two.contains("\"b\\n\""), "{cur}|{one}|{two}");
        assert!(three.is_empty(), "only max-file files are kept");
        assert_eq!(truncated.lines().count(), 1);
        assert!(truncated.contains("\"y\\n\""));
    }

    #[test]
    fn compresses_rotated_files() {
        use std::io::Read;
        let dir = std::env::temp_dir().join(format!("berth-shim-gzip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join("c.json");
        let mut log = JsonLog::open(&path, Some(Rotation { max_size: 100, max_file: 3, compress: true })).expect("open");
        for line in ["a\n", "b\n", "c\n", "d\n"] {
            log.write(Stream::Stdout, line.as_bytes());
        }
        drop(log); // waits for the compression thread
        let gunzip = |p: PathBuf| {
            let mut d = flate2::read::GzDecoder::new(std::fs::File::open(&p).expect("gz file"));
            let mut s = String::new();
            d.read_to_string(&mut s).expect("gunzip");
            let extra = d.header().and_then(|h| h.extra()).map(|e| String::from_utf8_lossy(e).into_owned());
            (s, extra)
        };
        let (one, extra) = gunzip(rotated(&path, 1, ".gz"));
        let (two, _) = gunzip(rotated(&path, 2, ".gz"));
        let cur = std::fs::read_to_string(&path).expect("current");
        let leftovers: Vec<_> = [rotated(&path, 1, ""), rotated(&path, 2, ""), rotated(&path, 3, ".gz")].into_iter().filter(|p| p.exists()).collect();
        std::fs::remove_dir_all(&dir).expect("cleanup");
        assert!(cur.contains("\"d\\n\"") && one.contains("\"c\\n\"") && two.contains("\"b\\n\""), "{cur}|{one}|{two}");
        assert!(leftovers.is_empty(), "{leftovers:?}");
        let extra = extra.expect("gzip extra field");
        assert!(extra.starts_with("{\"lastTime\":\"20") && extra.ends_with("Z\"}"), "{extra}");
    }
}
