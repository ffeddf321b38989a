//! Log drivers: `json-file` (the default; `max-size`/`max-file` rotation
//! is done by the shim) and `none`. The driver and the option names are
//! checked at create, the values at start, each as dockerd does it and in
//! its words; any other driver or option is refused by name.

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
    /// Create's check, as dockerd's option validators do it: the driver
    /// exists and every option is one it knows. Values are read at start
    /// ([`LogDriver::parse`]), as dockerd's logger reads them, so a create
    /// with a bad value succeeds and its start fails.
    pub fn validate(lc: &LogConfig) -> Result<(), ApiError> {
        match lc.kind.as_str() {
            "" | "json-file" => {}
            "none" => {
                return match lc.config.keys().next() {
                    Some(k) => Err(ApiError::invalid(format!("unknown log opt '{k}' for log driver none"))),
                    None => Ok(()),
                }
            }
            d if OTHER_DRIVERS.contains(&d) => {
                return Err(ApiError::invalid(format!("berth does not support the {d} log driver yet")))
            }
            d => return Err(ApiError::invalid(format!("logger: no log driver named '{d}' is registered"))),
        }
        for k in lc.config.keys() {
            match k.as_str() {
                "max-size" | "max-file" => {}
                "compress" | "labels" | "labels-regex" | "env" | "env-regex" | "tag" => {
                    return Err(ApiError::invalid(format!("berth does not support log option {k} yet")))
                }
                _ => return Err(ApiError::invalid(format!("unknown log opt '{k}' for json-file log driver"))),
            }
        }
        Ok(())
    }

    /// Start's reading of a validated `LogConfig` (an empty type is
    /// json-file), with dockerd's logger's words for a bad value.
    /// `max-file` without `max-size` is allowed and rotates nothing, as in
    /// dockerd.
    pub fn parse(lc: &LogConfig) -> Result<LogDriver, String> {
        Self::validate(lc).map_err(|e| e.message)?;
        if lc.kind == "none" {
            return Ok(LogDriver::None);
        }
        let max_size = match lc.config.get("max-size") {
            None => None,
            Some(v) => {
                let n = parse_size(v).ok_or_else(|| format!("invalid size: '{v}'"))?;
                // -1 (dockerd's "unlimited") and 0 mean no rotation.
                (n > 0).then_some(n as u64)
            }
        };
        let max_file = match lc.config.get("max-file") {
            None => 1,
            Some(v) => {
                let n: i64 = v.parse().map_err(|_| format!("strconv.Atoi: parsing {v:?}: invalid syntax"))?;
                u32::try_from(n).ok().filter(|n| *n >= 1).ok_or("max-file cannot be less than 1")?
            }
        };
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
        let err = |c: LogConfig| LogDriver::validate(&c).unwrap_err().message;
        assert_eq!(err(lc("foo", &[])), "logger: no log driver named 'foo' is registered");
        assert_eq!(err(lc("syslog", &[])), "berth does not support the syslog log driver yet");
        assert_eq!(err(lc("json-file", &[("compress", "true")])), "berth does not support log option compress yet");
        assert_eq!(err(lc("json-file", &[("bogus", "1")])), "unknown log opt 'bogus' for json-file log driver");
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
    fn values_are_checked_at_start_only() {
        // dockerd's json-file logger takes max-file without max-size (nothing rotates).
        let c = lc("", &[("max-file", "100")]);
        assert!(LogDriver::validate(&c).is_ok());
        assert_eq!(LogDriver::parse(&c).unwrap(), LogDriver::JsonFile { max_size: None, max_file: 100 });
        for (opts, says) in [
            (&[("max-file", "0"), ("max-size", "1m")][..], "max-file cannot be less than 1"),
            (&[("max-file", "x")][..], "strconv.Atoi: parsing \"x\": invalid syntax"),
            (&[("max-size", "lots")][..], "invalid size: 'lots'"),
        ] {
            let c = lc("json-file", opts);
            assert!(LogDriver::validate(&c).is_ok(), "{opts:?}");
            assert_eq!(LogDriver::parse(&c).unwrap_err(), says);
        }
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
