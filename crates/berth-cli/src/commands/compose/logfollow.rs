//! Following one container's output for a foreground `up`: the log stream
//! (`follow=1`), demultiplexed unless the container has a TTY, cut into
//! lines and printed with the service prefix.

use super::session::Session;
use berth_api::stdcopy::{FrameDecoder, Stream};
use berth_client::{segment, Method, Query, RequestBody};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

/// Compose's colors, handed to containers in turn.
const COLORS: [&str; 10] = ["36", "33", "32", "35", "34", "36;1", "33;1", "32;1", "35;1", "34;1"];

pub struct Printer {
    color: bool,
    prefix: bool,
    names: Mutex<BTreeMap<String, &'static str>>,
}

impl Printer {
    pub fn new(color: bool, prefix: bool) -> Printer {
        Printer { color, prefix, names: Mutex::new(BTreeMap::new()) }
    }

    pub fn register(&self, name: &str) {
        if let Ok(mut n) = self.names.lock() {
            let next = COLORS[n.len() % COLORS.len()];
            n.entry(name.to_string()).or_insert(next);
        }
    }

    fn width(&self) -> usize {
        self.names.lock().map(|n| n.keys().map(|k| k.chars().count()).max().unwrap_or(0)).unwrap_or(0)
    }

    pub fn format(&self, name: &str, line: &str) -> String {
        if !self.prefix {
            return format!("{line}\n");
        }
        let prefix = format!("{name:<w$} | ", w = self.width() + 1);
        let color = self.names.lock().ok().and_then(|n| n.get(name).copied());
        match color {
            Some(c) if self.color => format!("\x1b[{c}m{prefix}\x1b[0m{line}\n"),
            _ => format!("{prefix}{line}\n"),
        }
    }

    pub fn line(&self, name: &str, stream: Stream, line: &str) {
        let text = self.format(name, line);
        let _ = match stream {
            Stream::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
            _ => std::io::stdout().lock().write_all(text.as_bytes()),
        };
    }

    /// Compose's own messages between the lines (`web-1 exited with code 0`).
    pub fn note(&self, text: &str) {
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }
}

/// Prints `cid`'s output under `name` until its log stream ends.
pub async fn follow(s: &Session<'_>, cid: &str, name: &str, printer: &Printer, timestamps: bool) {
    let tty = s
        .client
        .get_json::<serde_json::Value>(&format!("/containers/{}/json", segment(cid)), &Query::new())
        .await
        .ok()
        .and_then(|v| v.pointer("/Config/Tty").and_then(|t| t.as_bool()))
        .unwrap_or(false);
    let q = Query::new().add("follow", "1").add("stdout", "1").add("stderr", "1").flag("timestamps", timestamps);
    let Ok(mut stream) = s.client.stream(Method::GET, &format!("/containers/{}/logs", segment(cid)), &q, RequestBody::Empty).await else {
        return;
    };
    let mut dec = FrameDecoder::default();
    let mut open: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let emit = |stream: Stream, bytes: &[u8], open: &mut [Vec<u8>; 2]| {
        let i = usize::from(stream == Stream::Stderr);
        open[i].extend_from_slice(bytes);
        while let Some(pos) = open[i].iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = open[i].drain(..=pos).collect();
            let text = String::from_utf8_lossy(&line[..line.len() - 1]);
            printer.line(name, stream, text.trim_end_matches('\r'));
        }
    };
    while let Ok(Some(chunk)) = stream.chunk().await {
        if tty {
            emit(Stream::Stdout, &chunk, &mut open);
            continue;
        }
        dec.push(&chunk);
        while let Ok(Some((st, payload))) = dec.next_frame() {
            emit(st, &payload, &mut open);
        }
    }
    for (i, rest) in open.iter().enumerate() {
        if !rest.is_empty() {
            let st = if i == 1 { Stream::Stderr } else { Stream::Stdout };
            printer.line(name, st, &String::from_utf8_lossy(rest));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_padded_to_the_longest_name() {
        let p = Printer::new(false, true);
        p.register("web-1");
        p.register("worker-1");
        assert_eq!(p.format("web-1", "hi"), "web-1     | hi\n");
        assert_eq!(Printer::new(false, false).format("web-1", "hi"), "hi\n");
    }
}
