//! Log drivers: `json-file` (the default; `max-size`/`max-file` rotation
//! is done by the shim) and `none`. Checked at create with dockerd's
//! messages; any other driver or option is refused by name.

use berth_api::container::LogConfig;
use berth_api::ApiError;
use std::path::{Path, PathBuf};

/// Log drivers Docker has that berth does not (yet).
const OTHER_DRIVERS: [&str; 12] = [
    "local", "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk", "etwlogs", "gcplogs", "logentries",
    "loki", "journal",
];

/// How a container's output is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogDriver {
    /// Docker's json-file log; rotated at `max_size` bytes into `max_file` files in all.
    JsonFile { max_size: Option<u64>, max_file: u32 },
    /// Nothing is kept; `logs` is refused.
    None,
}

impl LogDriver {
    /// Reads a create request's `LogConfig` (an empty type is json-file).
    pub fn parse(lc: &LogConfig) -> Result<LogDriver, ApiError> {
        match lc.kind.as_str() {
            "" | "json-file" => {}
            "none" => {
                return match lc.config.keys().next() {
                    Some(k) => Err(ApiError::invalid(format!("unknown log opt '{k}' for log driver none"))),
                    None => Ok(LogDriver::None),
                }
            }
            d if OTHER_DRIVERS.contains(&d) => {
                return Err(ApiError::invalid(format!("berth does not support the {d} log driver yet")))
            }
            d => return Err(ApiError::invalid(format!("logger: no log driver named '{d}' is registered"))),
        }
        let mut max_size = None;
        let mut max_file = 1;
        for (k, v) in &lc.config {
            match k.as_str() {
                "max-size" => {
                    let n = parse_size(v).ok_or_else(|| ApiError::invalid(format!("invalid value for max-size: {v}")))?;
                    // -1 (dockerd's "unlimited") and 0 mean no rotation.
                    max_size = (n > 0).then_some(n as u64);
                }
                "max-file" => {
                    max_file = v
                        .parse::<u32>()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| ApiError::invalid("max-file cannot be less than 1"))?;
                }
                "compress" | "labels" | "labels-regex" | "env" | "env-regex" | "tag" => {
                    return Err(ApiError::invalid(format!("berth does not support log option {k} yet")))
                }
                _ => return Err(ApiError::invalid(format!("unknown log opt '{k}' for json-file log driver"))),
            }
        }
        if max_file > 1 && max_size.is_none() {
            return Err(ApiError::invalid("max-file cannot be set when max-size is not set"));
        }
        Ok(LogDriver::JsonFile { max_size, max_file })
    }

    /// The files holding a json-file log, oldest first (rotated ones, then `log`).
    pub fn files(&self, log: &Path) -> Vec<PathBuf> {
        let LogDriver::JsonFile { max_file, .. } = self else { return vec![] };
        let mut out: Vec<PathBuf> = (1..*max_file).rev().map(|n| rotated(log, n)).filter(|p| p.exists()).collect();
        out.push(log.to_path_buf());
        out
    }
}

/// The daemon's `log-driver`/`log-opts` filled into a create request's
/// `LogConfig`, as dockerd merges them: no type takes the daemon's; the
/// daemon's driver takes the daemon's options for those not given.
pub fn apply_default(lc: &mut LogConfig, daemon: &LogConfig) {
    if lc.kind.is_empty() {
        lc.kind = daemon.kind.clone();
    }
    if lc.kind == daemon.kind {
        for (k, v) in &daemon.config {
            lc.config.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
}

/// `<log>.<n>`, where the shim moves the n-th newest full log.
pub fn rotated(log: &Path, n: u32) -> PathBuf {
    let mut s = log.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

/// Docker's size strings for log options: a number with an optional
/// k/m/g (powers of 1024, any case, optional trailing b); -1 is unlimited.
fn parse_size(s: &str) -> Option<i64> {
    let lower = s.trim().to_ascii_lowercase();
    if lower == "-1" {
        return Some(-1);
    }
    let digits = lower.trim_end_matches('b');
    let (num, mult) = match digits.chars().last()? {
        'k' => (&digits[..digits.len() - 1], 1i64 << 10),
        'm' => (&digits[..digits.len() - 1], 1 << 20),
        'g' => (&digits[..digits.len() - 1], 1 << 30),
        _ => (digits, 1),
    };
    let n: f64 = num.parse().ok()?;
    if !(0.0..=(i64::MAX as f64 / mult as f64)).contains(&n) {
        return None;
    }
    Some((n * mult as f64) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lc(kind: &str, opts: &[(&str, &str)]) -> LogConfig {
        LogConfig { kind: kind.into(), config: opts.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
    }

    #[test]
    fn drivers_and_options() {
        assert_eq!(LogDriver::parse(&lc("", &[])).unwrap(), LogDriver::JsonFile { max_size: None, max_file: 1 });
        assert_eq!(
            LogDriver::parse(&lc("json-file", &[("max-size", "1k"), ("max-file", "3")])).unwrap(),
            LogDriver::JsonFile { max_size: Some(1024), max_file: 3 }
        );
        assert_eq!(LogDriver::parse(&lc("none", &[])).unwrap(), LogDriver::None);
        let err = |c: LogConfig| LogDriver::parse(&c).unwrap_err().message;
        assert_eq!(err(lc("foo", &[])), "logger: no log driver named 'foo' is registered");
        assert_eq!(err(lc("syslog", &[])), "berth does not support the syslog log driver yet");
        assert_eq!(err(lc("json-file", &[("max-file", "2")])), "max-file cannot be set when max-size is not set");
        assert_eq!(err(lc("json-file", &[("max-file", "0"), ("max-size", "1m")])), "max-file cannot be less than 1");
        assert_eq!(err(lc("json-file", &[("compress", "true")])), "berth does not support log option compress yet");
        assert_eq!(err(lc("json-file", &[("bogus", "1")])), "unknown log opt 'bogus' for json-file log driver");
        assert_eq!(err(lc("json-file", &[("max-size", "lots")])), "invalid value for max-size: lots");
        assert_eq!(err(lc("none", &[("max-size", "1k")])), "unknown log opt 'max-size' for log driver none");
    }

    #[test]
    fn daemon_defaults_fill_in() {
        let daemon = lc("json-file", &[("max-size", "1k"), ("max-file", "2")]);
        let mut c = lc("", &[]);
        apply_default(&mut c, &daemon);
        assert_eq!(c, daemon);
        let mut c = lc("json-file", &[("max-size", "5k")]);
        apply_default(&mut c, &daemon);
        assert_eq!(c, lc("json-file", &[("max-size", "5k"), ("max-file", "2")]));
        let mut c = lc("none", &[]);
        apply_default(&mut c, &daemon);
        assert_eq!(c, lc("none", &[]));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10"), Some(10));
        assert_eq!(parse_size("1k"), Some(1024));
        assert_eq!(parse_size("2MB"), Some(2 << 20));
        assert_eq!(parse_size("1.5g"), Some(3 << 29));
        assert_eq!(parse_size("-1"), Some(-1));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size("99999999999999999999g"), None);
    }

    #[test]
    fn files_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("c-json.log");
        for p in [rotated(&log, 1), rotated(&log, 2), log.clone()] {
            std::fs::write(&p, "").unwrap();
        }
        let d = LogDriver::JsonFile { max_size: Some(10), max_file: 3 };
        assert_eq!(d.files(&log), vec![rotated(&log, 2), rotated(&log, 1), log.clone()]);
        assert!(LogDriver::None.files(&log).is_empty());
    }
}
