//! dockerd's classic build messages, one JSON object a line:
//! `{"stream":"Step 1/3 : FROM busybox\n"}`, `{"stream":" ---> Using cache\n"}`,
//! `{"aux":{"ID":"sha256:…"}}`, and at the end either the success lines
//! or `{"errorDetail":{…},"error":"…"}`. With `q` the progress is held
//! back and only the image ID is sent (or, on failure, what was held and
//! the error), as dockerd does.

use berth_api::ApiError;
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use tokio::sync::mpsc;

/// What the build task sends to the route.
pub enum Item {
    Data(Bytes),
    /// An error before anything was sent becomes the HTTP status; after,
    /// an `errorDetail` message.
    Fail { error: ApiError, code: Option<i64>, at: Option<At> },
}

/// Where in the Dockerfile a build failed: its line, and the instruction as
/// written when known. Sent as `errorDetail.line` / `.instruction`, fields
/// dockerd's classic builder does not have (clients ignore them); `berth
/// build` prints them as `Dockerfile:N`.
#[derive(Debug, Clone)]
pub struct At {
    pub line: usize,
    pub instruction: Option<String>,
}

pub struct BuildStream {
    tx: mpsc::Sender<Item>,
    quiet: bool,
    held: Mutex<Vec<u8>>,
    gone: AtomicBool,
    at: Mutex<Option<At>>,
}

fn line(v: &Value) -> Bytes {
    let mut b = serde_json::to_vec(v).unwrap_or_default();
    b.push(b'\n');
    Bytes::from(b)
}

fn short(id: &str) -> &str {
    let hex = id.trim_start_matches("sha256:");
    &hex[..hex.len().min(12)]
}

impl BuildStream {
    pub fn new(tx: mpsc::Sender<Item>, quiet: bool) -> BuildStream {
        BuildStream { tx, quiet, held: Mutex::new(Vec::new()), gone: AtomicBool::new(false), at: Mutex::new(None) }
    }

    /// Whether the client went away (the build stops at the next step).
    pub fn cancelled(&self) -> bool {
        self.gone.load(Ordering::Relaxed) || self.tx.is_closed()
    }

    /// A handle whose `closed()` resolves when the client went away.
    pub fn sender(&self) -> mpsc::Sender<Item> {
        self.tx.clone()
    }

    fn hold(&self, b: &[u8]) {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(b);
    }

    /// From a blocking thread (the builder's).
    pub fn send(&self, v: Value) {
        self.send_bytes(line(&v));
    }

    pub fn send_bytes(&self, b: Bytes) {
        if self.quiet {
            return self.hold(&b);
        }
        if self.tx.blocking_send(Item::Data(b)).is_err() {
            self.gone.store(true, Ordering::Relaxed);
        }
    }

    /// From async code (pull progress during FROM).
    pub async fn send_bytes_async(&self, b: Bytes) {
        if self.quiet {
            return self.hold(&b);
        }
        if self.tx.send(Item::Data(b)).await.is_err() {
            self.gone.store(true, Ordering::Relaxed);
        }
    }

    pub fn stream(&self, text: &str) {
        self.send(json!({ "stream": text }));
    }

    pub fn aux_id(&self, id: &str) {
        self.send(json!({ "aux": { "ID": id } }));
    }

    /// The end of a successful build: dockerd's last lines (or, with `q`, the ID alone).
    pub fn success(&self, id: &str, tags: &[String]) {
        if self.quiet {
            if self.tx.blocking_send(Item::Data(line(&json!({ "stream": format!("{id}\n") })))).is_err() {
                self.gone.store(true, Ordering::Relaxed);
            }
            return;
        }
        self.stream(&format!("Successfully built {}\n", short(id)));
        for t in tags {
            self.stream(&format!("Successfully tagged {t}\n"));
        }
    }

    /// A failed build: what `q` held back, then the error.
    pub fn fail(&self, error: ApiError, code: Option<i64>) {
        let held = std::mem::take(&mut *self.held.lock().unwrap_or_else(|e| e.into_inner()));
        if !held.is_empty() {
            let _ = self.tx.blocking_send(Item::Data(Bytes::from(held)));
        }
        let at = self.at.lock().unwrap_or_else(|e| e.into_inner()).take();
        let _ = self.tx.blocking_send(Item::Fail { error, code, at });
    }

    /// Records where the build failed, for the failure message that follows.
    pub fn failed_at(&self, at: At) {
        *self.at.lock().unwrap_or_else(|e| e.into_inner()) = Some(at);
    }

    /// ` ---> Running in <id>` / ` ---> Removed intermediate container <id>`.
    pub fn container(&self, id: &str, running: bool) {
        if running {
            self.stream(&format!(" ---> Running in {}\n", short(id)));
        } else {
            self.stream(&format!(" ---> Removed intermediate container {}\n", short(id)));
        }
    }
}

/// The `errorDetail` line of a failure after the stream started.
pub fn error_line(message: &str, code: Option<i64>, at: Option<&At>) -> Bytes {
    let mut detail = json!({ "message": message });
    if let Some(c) = code {
        detail["code"] = json!(c);
    }
    if let Some(a) = at {
        detail["line"] = json!(a.line);
        if let Some(i) = &a.instruction {
            detail["instruction"] = json!(i);
        }
    }
    line(&json!({ "errorDetail": detail, "error": message }))
}

impl berth_build::BuildEvents for BuildStream {
    fn step(&self, n: usize, total: usize, text: &str) {
        self.stream(&format!("Step {n}/{total} : {text}\n"));
    }

    fn cached(&self) {
        self.stream(" ---> Using cache\n");
    }

    fn output(&self, bytes: &[u8]) {
        self.stream(&String::from_utf8_lossy(bytes));
    }

    fn step_done(&self, image_id: &str) {
        self.stream(&format!(" ---> {}\n", short(image_id)));
    }

    fn warning(&self, text: &str) {
        let nl = if text.ends_with('\n') { "" } else { "\n" };
        self.stream(&format!("{text}{nl}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_carry_the_exit_code() {
        let b = error_line("The command '/bin/sh -c false' returned a non-zero code: 1", Some(1), None);
        let v: Value = serde_json::from_slice(&b).unwrap_or_default();
        assert_eq!(v["errorDetail"]["code"], 1);
        assert_eq!(v["error"], "The command '/bin/sh -c false' returned a non-zero code: 1");
        assert!(b.ends_with(b"\n"));
    }

    #[test]
    fn quiet_holds_progress_back() {
        let (tx, mut rx) = mpsc::channel(8);
        let s = BuildStream::new(tx, true);
        s.stream("Step 1/1 : FROM busybox\n");
        assert!(rx.try_recv().is_err());
        s.success("sha256:0123456789abcdef", &[]);
        match rx.try_recv() {
            Ok(Item::Data(b)) => assert_eq!(&b[..], b"{\"stream\":\"sha256:0123456789abcdef\\n\"}\n"),
            _ => panic!("expected the ID"),
        }
    }
}
