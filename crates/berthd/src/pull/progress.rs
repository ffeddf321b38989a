//! Docker's JSON progress messages, as dockerd words and shapes them.

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// Sends messages down the response; a client that hung up is not an error
/// for the pull (dockerd finishes the pull too).
#[derive(Clone)]
pub struct Progress {
    tx: mpsc::Sender<Bytes>,
}

fn human(n: u64) -> String {
    // Docker's units.HumanSize: decimal, three significant digits.
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i < units.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    // Go's %.4g: four significant digits, trailing zeros dropped.
    let decimals = if v >= 100.0 { 1 } else if v >= 10.0 { 2 } else { 3 };
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { &s };
    format!("{s}{}", units[i])
}

/// The bar text dockerd puts in `progress`.
pub fn bar(current: u64, total: u64) -> String {
    let width = 50u64;
    let filled = (current.min(total) * width).checked_div(total).unwrap_or(0) as usize;
    let mut b = "=".repeat(filled);
    if filled < width as usize {
        if filled > 0 {
            b.pop();
        }
        b.push('>');
    }
    format!("[{b:<50}] {:>8}/{}", human(current), human(total))
}

impl Progress {
    pub fn new(tx: mpsc::Sender<Bytes>) -> Progress {
        Progress { tx }
    }

    async fn send(&self, v: Value) {
        let mut line = serde_json::to_vec(&v).unwrap_or_default();
        line.push(b'\n');
        let _ = self.tx.send(Bytes::from(line)).await;
    }

    pub async fn status(&self, status: &str) {
        self.send(json!({ "status": status })).await;
    }

    /// A status about `id` without progress (dockerd's "Pulling from").
    pub async fn status_for(&self, id: &str, status: &str) {
        self.send(json!({ "status": status, "id": id })).await;
    }

    pub async fn with_id(&self, id: &str, status: &str) {
        self.send(json!({ "status": status, "progressDetail": {}, "id": id })).await;
    }

    pub async fn bytes(&self, id: &str, status: &str, current: u64, total: u64) {
        self.send(json!({
            "status": status,
            "progressDetail": { "current": current, "total": total },
            "progress": bar(current, total),
            "id": id,
        }))
        .await;
    }

    /// Progress from a callback that cannot wait: dropped when the stream is
    /// backed up (the next one carries the newer count anyway).
    pub fn try_bytes(&self, id: &str, status: &str, current: u64, total: u64) {
        let v = json!({
            "status": status,
            "progressDetail": { "current": current, "total": total },
            "progress": bar(current, total),
            "id": id,
        });
        let mut line = serde_json::to_vec(&v).unwrap_or_default();
        line.push(b'\n');
        let _ = self.tx.try_send(Bytes::from(line));
    }

    pub async fn aux(&self, aux: Value) {
        self.send(json!({ "progressDetail": {}, "aux": aux })).await;
    }

    pub async fn error(&self, message: &str) {
        self.send(json!({ "errorDetail": { "message": message }, "error": message })).await;
    }
}

impl Progress {
    /// For the unpacking thread, which is not async.
    pub fn blocking_with_id(&self, id: &str, status: &str) {
        let v = json!({ "status": status, "progressDetail": {}, "id": id });
        let mut line = serde_json::to_vec(&v).unwrap_or_default();
        line.push(b'\n');
        let _ = self.tx.blocking_send(Bytes::from(line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_bars() {
        assert_eq!(human(0), "0B");
        assert_eq!(human(2_228_224), "2.228MB");
        assert_eq!(human(1000), "1kB");
        assert_eq!(human(123_456), "123.5kB");
        let b = bar(25, 100);
        assert!(b.starts_with("[===========>") && b.ends_with("25B/100B"), "{b}");
        assert!(bar(100, 100).starts_with(&format!("[{}]", "=".repeat(50))));
    }
}
