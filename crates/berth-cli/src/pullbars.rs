//! `berth pull` and `berth push` on a terminal: one progress bar per layer,
//! drawn from Docker's JSON progress messages (the stream `docker pull` and
//! `docker push` read).

use crate::jsonmessage::StreamError;
use berth_client::ResponseStream;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;
use std::collections::HashMap;

fn style_bytes() -> ProgressStyle {
    ProgressStyle::with_template("{prefix}: {msg:<18} [{bar:40}] {bytes}/{total_bytes}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn style_text() -> ProgressStyle {
    ProgressStyle::with_template("{prefix}: {msg}").unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// Draws the stream; returns the first error message in it.
pub async fn display(stream: ResponseStream) -> anyhow::Result<()> {
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
    let mut bars: HashMap<String, ProgressBar> = HashMap::new();
    let mut messages = stream.json::<Value>();
    while let Some(m) = messages.next().await? {
        let s = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        if let Some(detail) = m.get("errorDetail").and_then(|d| d.get("message")).and_then(Value::as_str) {
            return Err(StreamError(detail.to_string()).into());
        }
        let (id, status) = (s("id"), s("status"));
        if id.is_empty() && status.is_empty() {
            // `aux` (push's tag, digest and size): data for programs, not a line.
            continue;
        }
        let is_layer = !id.is_empty() && m.get("progressDetail").is_some();
        if !is_layer {
            let line = if id.is_empty() { status } else { format!("{id}: {status}") };
            if bars.is_empty() {
                println!("{line}");
            } else {
                // The closing lines (Digest, Status) go below the finished bars.
                for b in bars.values().filter(|b| !b.is_finished()) {
                    b.finish();
                }
                println!("{line}");
            }
            continue;
        }
        let bar = bars.entry(id.clone()).or_insert_with(|| {
            let b = multi.add(ProgressBar::new(0));
            b.set_style(style_text());
            b.set_prefix(id.clone());
            b
        });
        let detail = m.get("progressDetail");
        let current = detail.and_then(|d| d.get("current")).and_then(Value::as_u64);
        let total = detail.and_then(|d| d.get("total")).and_then(Value::as_u64);
        match (current, total) {
            (Some(c), Some(t)) if t > 0 => {
                bar.set_style(style_bytes());
                bar.set_length(t);
                bar.set_position(c);
            }
            _ => bar.set_style(style_text()),
        }
        bar.set_message(status.clone());
        let done = ["Pull complete", "Already exists", "Pushed", "Layer already exists"];
        if done.contains(&status.as_str()) || status.starts_with("Mounted from ") {
            bar.finish();
        }
    }
    for b in bars.values() {
        if !b.is_finished() {
            b.finish();
        }
    }
    Ok(())
}
