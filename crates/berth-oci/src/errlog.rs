//! Errors reported the way runc reports them: a JSON line
//! `{"level":"error","msg":"...","time":"..."}` appended to `--log`, and the
//! message on stderr. The shim reads the last error line of the log.

use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Appends the error line to `log` (if given) and prints the message on stderr.
/// Failures to log are ignored: there is nowhere left to report them.
pub fn report(log: Option<&Path>, msg: &str) {
    if let Some(path) = log {
        let line = format!("{}\n", json_line("error", msg, &now_rfc3339()));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path);
        if let Ok(mut f) = file {
            // One write call, so concurrent writers do not interleave lines.
            let _ = f.write_all(line.as_bytes());
        }
    }
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// One log record, keys in runc's order.
pub fn json_line(level: &str, msg: &str, time: &str) -> String {
    let obj = serde_json::json!({ "level": level, "msg": msg, "time": time });
    // serde_json's map keeps keys sorted, which is runc's order (level, msg, time).
    obj.to_string()
}

/// The current UTC time as RFC 3339 (`2006-01-02T15:04:05Z`).
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

/// Formats seconds since the epoch as RFC 3339 UTC (berth-api's formatter;
/// whole seconds print without a fraction, as runc's log does).
pub fn rfc3339(secs: u64) -> String {
    berth_api::time::format_rfc3339_nanos(i128::from(secs) * 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn line_is_runc_shaped_and_escaped() {
        let l = json_line("error", "exec: \"x\": not found\nnext", "T");
        assert_eq!(
            l,
            r#"{"level":"error","msg":"exec: \"x\": not found\nnext","time":"T"}"#
        );
    }

    #[test]
    fn report_appends_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("log.json");
        report(Some(&log), "one");
        report(Some(&log), "two");
        let text = std::fs::read_to_string(&log).expect("read log");
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[1].contains(r#""msg":"two""#), "{text}");
    }

    #[test]
    fn unwritable_log_is_ignored() {
        report(Some(Path::new("/nonexistent-dir/x/log")), "lost");
    }
}
