//! Docker's JSON message streams (pull, load, import): print `stream` text
//! and `status` lines as the docker CLI does without a terminal, and turn
//! an `error` message into an error.

use berth_client::ResponseStream;
use serde_json::Value;
use std::io::Write;

/// An error reported inside the stream (not as an HTTP status).
#[derive(Debug)]
pub struct StreamError(pub String);

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StreamError {}

/// Prints every message to `out`; returns the first error message.
pub async fn display(stream: ResponseStream, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut messages = stream.json::<Value>();
    while let Some(m) = messages.next().await? {
        if let Some(line) = render(&m)? {
            out.write_all(line.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(())
}

/// One message as text (`None` for messages a non-terminal skips).
fn render(m: &Value) -> Result<Option<String>, StreamError> {
    let s = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("");
    if let Some(detail) = m.get("errorDetail").and_then(|d| d.get("message")).and_then(Value::as_str) {
        return Err(StreamError(detail.to_string()));
    }
    if !s("error").is_empty() {
        return Err(StreamError(s("error").to_string()));
    }
    if m.get("aux").is_some() {
        return Ok(None);
    }
    // Progress bars are drawn only on a terminal; their lines are noise here.
    if m.get("progressDetail").and_then(Value::as_object).is_some_and(|d| !d.is_empty()) {
        return Ok(None);
    }
    let mut out = String::new();
    if !s("id").is_empty() {
        out.push_str(&format!("{}: ", s("id")));
    }
    if !s("stream").is_empty() {
        out.push_str(s("stream"));
    } else if !s("progress").is_empty() {
        out.push_str(&format!("{} {}\n", s("status"), s("progress")));
    } else {
        out.push_str(s("status"));
        out.push('\n');
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_messages() {
        assert_eq!(render(&json!({"stream": "Loaded image: a:b\n"})).unwrap().unwrap(), "Loaded image: a:b\n");
        assert_eq!(render(&json!({"status": "sha256:abc"})).unwrap().unwrap(), "sha256:abc\n");
        assert_eq!(render(&json!({"status": "Pulling fs layer", "id": "x"})).unwrap().unwrap(), "x: Pulling fs layer\n");
        assert!(render(&json!({"aux": {"ID": "x"}})).unwrap().is_none());
        assert!(render(&json!({"status": "Downloading", "progressDetail": {"current": 1}})).unwrap().is_none());
        assert_eq!(render(&json!({"error": "boom", "errorDetail": {"message": "boom!"}})).unwrap_err().0, "boom!");
        assert_eq!(render(&json!({"error": "boom"})).unwrap_err().0, "boom");
    }
}
