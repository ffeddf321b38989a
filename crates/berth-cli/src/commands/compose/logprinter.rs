//! The log multiplexer of `compose logs` and a foreground `compose up`:
//! every container's output as `NAME  | line`, the names padded to the
//! longest one (recomputed when a container joins later), each name in its
//! own color in Compose's order, stdout lines to stdout and stderr lines to
//! stderr. Lines are cut on `\n`; a line still open when its stream ends is
//! printed as it is.

use berth_api::stdcopy::{FrameDecoder, Stream};
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Compose's rainbow: the colors handed to containers in turn.
const RAINBOW: [&str; 10] = ["36", "33", "32", "35", "34", "36;1", "33;1", "32;1", "35;1", "34;1"];

/// How the lines are decorated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
    /// `NAME  | ` before each line (`--no-log-prefix` turns it off).
    pub prefix: bool,
}

#[derive(Default)]
struct Printer {
    style: Option<Style>,
    /// Name → color code, in registration order.
    colors: HashMap<String, &'static str>,
    next: usize,
    width: usize,
}

/// A printer shared by the tasks that stream each container.
#[derive(Clone)]
pub struct LogPrinter {
    inner: Arc<Mutex<Printer>>,
}

impl LogPrinter {
    pub fn new(style: Style) -> LogPrinter {
        LogPrinter { inner: Arc::new(Mutex::new(Printer { style: Some(style), ..Default::default() })) }
    }

    /// Makes `name` known (its color, and the padding of every prefix).
    pub fn register(&self, name: &str) {
        let mut p = self.lock();
        if !p.colors.contains_key(name) {
            let c = RAINBOW[p.next % RAINBOW.len()];
            p.next += 1;
            p.colors.insert(name.to_string(), c);
        }
        // Compose pads to the longest name plus one.
        p.width = p.colors.keys().map(|n| n.chars().count()).max().unwrap_or(0) + 1;
    }

    /// The text to print for one line of `name`'s output.
    pub fn format(&self, name: &str, line: &str) -> String {
        let p = self.lock();
        let style = p.style.unwrap_or(Style { color: false, prefix: true });
        if !style.prefix {
            return format!("{line}\n");
        }
        let prefix = format!("{name:<width$} | ", width = p.width);
        match (style.color, p.colors.get(name)) {
            (true, Some(c)) => format!("\x1b[{c}m{prefix}\x1b[0m{line}\n"),
            _ => format!("{prefix}{line}\n"),
        }
    }

    /// Prints one line; a closed pipe ends output quietly.
    pub fn line(&self, name: &str, stream: Stream, line: &str) {
        let text = self.format(name, line);
        let _ = match stream {
            Stream::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
            _ => std::io::stdout().lock().write_all(text.as_bytes()),
        };
    }

    /// A message of Compose's own between the lines (`NAME exited with code 0`).
    pub fn note(&self, text: &str) {
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Printer> {
        // A panicked writer leaves nothing half-done worth refusing.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Cuts one container's log stream (framed, or raw for a TTY) into lines.
pub struct LineSplitter {
    tty: bool,
    decoder: FrameDecoder,
    /// The unfinished line of stdout and of stderr.
    open: [Vec<u8>; 2],
}

impl LineSplitter {
    pub fn new(tty: bool) -> LineSplitter {
        LineSplitter { tty, decoder: FrameDecoder::default(), open: [Vec::new(), Vec::new()] }
    }

    /// Feeds bytes; returns the complete lines (without `\n` or `\r\n`).
    pub fn feed(&mut self, bytes: &[u8]) -> anyhow::Result<Vec<(Stream, String)>> {
        let mut out = Vec::new();
        if self.tty {
            self.take(Stream::Stdout, bytes, &mut out);
            return Ok(out);
        }
        self.decoder.push(bytes);
        while let Some((stream, payload)) =
            self.decoder.next_frame().map_err(|e| anyhow::anyhow!("error from daemon in log stream: {e}"))?
        {
            if stream != Stream::Stdin {
                self.take(stream, &payload, &mut out);
            }
        }
        Ok(out)
    }

    /// What is left when the stream ends.
    pub fn finish(&mut self) -> Vec<(Stream, String)> {
        let mut out = Vec::new();
        for (i, stream) in [Stream::Stdout, Stream::Stderr].into_iter().enumerate() {
            let rest = std::mem::take(&mut self.open[i]);
            if !rest.is_empty() {
                out.push((stream, text(&rest)));
            }
        }
        out
    }

    fn take(&mut self, stream: Stream, bytes: &[u8], out: &mut Vec<(Stream, String)>) {
        let i = usize::from(stream == Stream::Stderr);
        let buf = &mut self.open[i];
        buf.extend_from_slice(bytes);
        while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            out.push((stream, text(&line[..line.len() - 1])));
        }
    }
}

fn text(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    String::from_utf8_lossy(line).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::stdcopy::encode_frame;

    #[test]
    fn pads_to_longest_name_and_colors_in_order() {
        let p = LogPrinter::new(Style { color: true, prefix: true });
        p.register("web-1");
        p.register("redis-1");
        assert_eq!(p.format("web-1", "hi"), "\x1b[36mweb-1    | \x1b[0mhi\n");
        assert_eq!(p.format("redis-1", "x"), "\x1b[33mredis-1  | \x1b[0mx\n");
        let plain = LogPrinter::new(Style { color: false, prefix: true });
        plain.register("a-1");
        assert_eq!(plain.format("a-1", "l"), "a-1  | l\n");
        let bare = LogPrinter::new(Style { color: false, prefix: false });
        assert_eq!(bare.format("a-1", "l"), "l\n");
    }

    #[test]
    fn splits_framed_streams_per_stream() {
        let mut bytes = Vec::new();
        encode_frame(Stream::Stdout, b"one\ntw", &mut bytes);
        encode_frame(Stream::Stderr, b"err\n", &mut bytes);
        encode_frame(Stream::Stdout, b"o\r\nrest", &mut bytes);
        let mut s = LineSplitter::new(false);
        let mut lines = Vec::new();
        // Fed in awkward pieces, as the network delivers them.
        for piece in bytes.chunks(5) {
            lines.extend(s.feed(piece).unwrap());
        }
        lines.extend(s.finish());
        let want = vec![
            (Stream::Stdout, "one".to_string()),
            (Stream::Stderr, "err".to_string()),
            (Stream::Stdout, "two".to_string()),
            (Stream::Stdout, "rest".to_string()),
        ];
        assert_eq!(lines, want);
    }

    #[test]
    fn tty_streams_are_raw() {
        let mut s = LineSplitter::new(true);
        assert_eq!(s.feed(b"a\r\nb").unwrap(), vec![(Stream::Stdout, "a".to_string())]);
        assert_eq!(s.finish(), vec![(Stream::Stdout, "b".to_string())]);
    }
}
