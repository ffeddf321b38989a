//! Log drivers: `json-file` (the default), `local` and `none`. The shim
//! writes and rotates the file (gzip-compressing rotated files when asked);
//! `logs` reads them back. The driver and the option names are checked at
//! create, the values at start, each as dockerd does it and in its words;
//! any other driver or option is refused by name.

use berth_api::container::LogConfig;
use berth_api::ApiError;
use std::path::{Path, PathBuf};

/// Log drivers Docker has that berth does not (yet).
const OTHER_DRIVERS: [&str; 11] = [
    "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk", "etwlogs", "gcplogs", "logentries", "loki", "journal",
];

/// Options dockerd takes for every driver (its log buffering), which berth
/// does not have yet.
const GENERIC_OPTS: [&str; 2] = ["mode", "max-buffer-size"];

/// dockerd's `local` driver defaults: 20 MiB files, 5 in all, compressed.
const LOCAL_MAX_SIZE: u64 = 20 * 1024 * 1024;
const LOCAL_MAX_FILE: u32 = 5;

/// Which file-backed driver keeps the log (same on-disk format in berth).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    JsonFile,
    Local,
}

/// How a container's output is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogDriver {
    /// A log file, rotated at `max_size` bytes into `max_file` files in
    /// all, the rotated ones gzip-compressed when `compress`.
    File { kind: FileKind, max_size: Option<u64>, max_file: u32, compress: bool },
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
            // dockerd's validator takes any option for `none` (the docker
            // CLI refuses them itself); there is nothing for them to do.
            "none" => return Ok(()),
            "local" => {
                let known = ["max-size", "max-file", "compress", "mode", "max-buffer-size"];
                if let Some(k) = lc.config.keys().find(|k| GENERIC_OPTS.contains(&k.as_str())) {
                    return Err(ApiError::invalid(format!("berth does not support log option {k} yet")));
                }
                return match lc.config.keys().find(|k| !known.contains(&k.as_str())) {
                    Some(k) => Err(ApiError::invalid(format!("unknown log opt '{k}' for log driver local"))),
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
                "max-size" | "max-file" | "compress" => {}
                "labels" | "labels-regex" | "env" | "env-regex" | "tag" | "mode" | "max-buffer-size" => {
                    return Err(ApiError::invalid(format!("berth does not support log option {k} yet")))
                }
                _ => return Err(ApiError::invalid(format!("unknown log opt '{k}' for json-file log driver"))),
            }
        }
        Ok(())
    }

    /// Start's reading of a validated `LogConfig` (an empty type is
    /// json-file), with dockerd's logger's words for a bad value.
    pub fn parse(lc: &LogConfig) -> Result<LogDriver, String> {
        Self::validate(lc).map_err(|e| e.message)?;
        match lc.kind.as_str() {
            "none" => Ok(LogDriver::None),
            "local" => parse_local(lc),
            _ => parse_json_file(lc),
        }
    }

    /// The files holding a file log, oldest first: rotated ones (each as
    /// `<log>.N.gz` or `<log>.N`, whichever is there), then `log`.
    pub fn files(&self, log: &Path) -> Vec<PathBuf> {
        let LogDriver::File { max_file, .. } = self else { return vec![] };
        let mut out: Vec<PathBuf> = (1..*max_file).rev().filter_map(|n| existing_rotated(log, n)).collect();
        out.push(log.to_path_buf());
        out
    }

    /// Where this driver keeps a container's log, given its directory.
    pub fn path(&self, container_dir: &Path, id: &str) -> Option<PathBuf> {
        match self {
            LogDriver::File { kind: FileKind::JsonFile, .. } => Some(container_dir.join(format!("{id}-json.log"))),
            // dockerd's place for the local driver's file.
            LogDriver::File { kind: FileKind::Local, .. } => Some(container_dir.join("local-logs").join("container.log")),
            LogDriver::None => None,
        }
    }

    /// What the shim needs: rotate at this size, keep this many files, compress.
    pub fn rotation(&self) -> Option<(u64, u32, bool)> {
        match self {
            LogDriver::File { max_size: Some(s), max_file, compress, .. } => Some((*s, *max_file, *compress)),
            _ => None,
        }
    }
}

/// json-file's options as dockerd's json-file logger reads them.
fn parse_json_file(lc: &LogConfig) -> Result<LogDriver, String> {
    let max_size = match lc.config.get("max-size") {
        None => None,
        Some(v) => {
            let n = from_human_size(v)?;
            if n <= 0 {
                return Err("max-size must be a positive number".into());
            }
            Some(n as u64)
        }
    };
    let max_file = match lc.config.get("max-file") {
        None => 1,
        Some(v) => {
            let n = atoi(v)?;
            u32::try_from(n).ok().filter(|n| *n >= 1).ok_or("max-file cannot be less than 1")?
        }
    };
    let compress = match lc.config.get("compress") {
        None => false,
        Some(v) => parse_bool(v)?,
    };
    if compress && (max_file == 1 || max_size.is_none()) {
        return Err("compress cannot be true when max-file is less than 2 or max-size is not set".into());
    }
    Ok(LogDriver::File { kind: FileKind::JsonFile, max_size, max_file, compress })
}

/// The local driver's options as dockerd's local logger reads them, over its defaults.
fn parse_local(lc: &LogConfig) -> Result<LogDriver, String> {
    let max_size = match lc.config.get("max-size") {
        None => LOCAL_MAX_SIZE as i64,
        Some(v) => from_human_size(v).map_err(|e| format!("invalid value for max-size: {v}: {e}"))?,
    };
    let max_file = match lc.config.get("max-file") {
        None => i64::from(LOCAL_MAX_FILE),
        Some(v) => atoi(v).map_err(|e| format!("invalid value for max-file: {v}: {e}"))?,
    };
    let compress = match lc.config.get("compress") {
        None => true,
        Some(v) => parse_bool(v).map_err(|e| format!("error reading compress log option: {e}"))?,
    };
    if max_size < 0 {
        return Err("max size should be a positive number".into());
    }
    if max_file < 0 {
        return Err("max file count cannot be less than 0".into());
    }
    if compress && max_file <= 1 {
        return Err("compression cannot be enabled when max file count is 1".into());
    }
    // As in dockerd, 0 rotates before every entry (one entry per file).
    let max_size = Some(max_size as u64);
    let max_file = u32::try_from(max_file).unwrap_or(u32::MAX).max(1);
    Ok(LogDriver::File { kind: FileKind::Local, max_size, max_file, compress })
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

/// `<log>.<n>.gz`, the n-th newest log once the shim compressed it.
pub fn rotated_gz(log: &Path, n: u32) -> PathBuf {
    let mut s = rotated(log, n).into_os_string();
    s.push(".gz");
    PathBuf::from(s)
}

/// The n-th newest rotated file as it is on disk: plain while it is being
/// compressed (the shim removes it only once the `.gz` is complete), else
/// compressed.
pub fn existing_rotated(log: &Path, n: u32) -> Option<PathBuf> {
    [rotated(log, n), rotated_gz(log, n)].into_iter().find(|p| p.exists())
}

/// go-units' `FromHumanSize` (what dockerd's loggers parse sizes with): a
/// number, an optional space, and an optional suffix k/m/g/t/p in powers
/// of 1000 (with an optional `b` or `ib`, any case); negative is refused.
fn from_human_size(s: &str) -> Result<i64, String> {
    let Some(sep) = s.rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ') else {
        return Err(format!("invalid size: '{s}'"));
    };
    let (num, sfx) = if s.as_bytes()[sep] == b' ' { (&s[..sep], &s[sep + 1..]) } else { (&s[..=sep], &s[sep + 1..]) };
    let size: f64 = num.parse().map_err(|_| format!("strconv.ParseFloat: parsing {num:?}: invalid syntax"))?;
    if size < 0.0 {
        return Err(format!("invalid size: '{s}'"));
    }
    if sfx.is_empty() {
        return Ok(size as i64);
    }
    let bad = || format!("invalid suffix: '{sfx}'");
    let lower = sfx.to_ascii_lowercase();
    if lower.len() > 3 {
        return Err(bad());
    }
    let mult: f64 = match lower.as_bytes()[0] {
        b'b' if lower.len() == 1 => return Ok(size as i64),
        b'k' => 1e3,
        b'm' => 1e6,
        b'g' => 1e9,
        b't' => 1e12,
        b'p' => 1e15,
        _ => return Err(bad()),
    };
    match lower.len() {
        2 if &lower[1..] != "b" => Err(bad()),
        3 if &lower[1..] != "ib" => Err(bad()),
        // Go converts an out-of-range float to the extreme value; so do we.
        _ => Ok((size * mult) as i64),
    }
}

/// Go's `strconv.Atoi`, with its error text.
fn atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {s:?}: invalid syntax"));
    }
    s.trim_start_matches('+').parse().map_err(|_| format!("strconv.Atoi: parsing {s:?}: value out of range"))
}

/// Go's `strconv.ParseBool`, with its error text.
fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("strconv.ParseBool: parsing {s:?}: invalid syntax")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lc(kind: &str, opts: &[(&str, &str)]) -> LogConfig {
        LogConfig { kind: kind.into(), config: opts.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
    }

    fn json(max_size: Option<u64>, max_file: u32, compress: bool) -> LogDriver {
        LogDriver::File { kind: FileKind::JsonFile, max_size, max_file, compress }
    }

    #[test]
    fn drivers_and_options() {
        assert_eq!(LogDriver::parse(&lc("", &[])).unwrap(), json(None, 1, false));
        assert_eq!(
            LogDriver::parse(&lc("json-file", &[("max-size", "1k"), ("max-file", "3")])).unwrap(),
            json(Some(1000), 3, false)
        );
        assert_eq!(
            LogDriver::parse(&lc("json-file", &[("max-size", "1k"), ("max-file", "3"), ("compress", "true")])).unwrap(),
            json(Some(1000), 3, true)
        );
        assert_eq!(LogDriver::parse(&lc("none", &[])).unwrap(), LogDriver::None);
        let err = |c: LogConfig| LogDriver::validate(&c).unwrap_err().message;
        assert_eq!(err(lc("foo", &[])), "logger: no log driver named 'foo' is registered");
        assert_eq!(err(lc("syslog", &[])), "berth does not support the syslog log driver yet");
        assert_eq!(err(lc("json-file", &[("tag", "x")])), "berth does not support log option tag yet");
        assert_eq!(err(lc("json-file", &[("bogus", "1")])), "unknown log opt 'bogus' for json-file log driver");
        assert_eq!(err(lc("local", &[("tag", "x")])), "unknown log opt 'tag' for log driver local");
        assert_eq!(err(lc("local", &[("mode", "non-blocking")])), "berth does not support log option mode yet");
        assert_eq!(err(lc("", &[("max-buffer-size", "1m")])), "berth does not support log option max-buffer-size yet");
        // dockerd's validator takes anything for none.
        assert!(LogDriver::validate(&lc("none", &[("max-size", "1k")])).is_ok());
    }

    #[test]
    fn local_defaults_and_values() {
        let local = |max_size, max_file, compress| LogDriver::File { kind: FileKind::Local, max_size, max_file, compress };
        assert_eq!(LogDriver::parse(&lc("local", &[])).unwrap(), local(Some(20 << 20), 5, true));
        assert_eq!(
            LogDriver::parse(&lc("local", &[("max-size", "10k"), ("max-file", "2"), ("compress", "false")])).unwrap(),
            local(Some(10_000), 2, false)
        );
        assert_eq!(LogDriver::parse(&lc("local", &[("max-file", "1"), ("compress", "false")])).unwrap(), local(Some(20 << 20), 1, false));
        for (opts, says) in [
            (&[("max-size", "-1")][..], "invalid value for max-size: -1: invalid size: '-1'"),
            (&[("max-file", "x")][..], "invalid value for max-file: x: strconv.Atoi: parsing \"x\": invalid syntax"),
            (&[("max-file", "-1"), ("compress", "false")][..], "max file count cannot be less than 0"),
            (&[("max-file", "1")][..], "compression cannot be enabled when max file count is 1"),
            (&[("compress", "yes")][..], "error reading compress log option: strconv.ParseBool: parsing \"yes\": invalid syntax"),
        ] {
            assert_eq!(LogDriver::parse(&lc("local", opts)).unwrap_err(), says, "{opts:?}");
        }
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
        let mut c = lc("", &[]);
        apply_default(&mut c, &lc("local", &[]));
        assert_eq!(c, lc("local", &[]));
    }

    #[test]
    fn values_are_checked_at_start_only() {
        // dockerd's json-file logger takes max-file without max-size (nothing rotates).
        let c = lc("", &[("max-file", "100")]);
        assert!(LogDriver::validate(&c).is_ok());
        assert_eq!(LogDriver::parse(&c).unwrap(), json(None, 100, false));
        for (opts, says) in [
            (&[("max-file", "0"), ("max-size", "1m")][..], "max-file cannot be less than 1"),
            (&[("max-file", "x")][..], "strconv.Atoi: parsing \"x\": invalid syntax"),
            (&[("max-size", "lots")][..], "invalid size: 'lots'"),
            (&[("max-size", "-1")][..], "invalid size: '-1'"),
            (&[("max-size", "0")][..], "max-size must be a positive number"),
            (&[("max-size", "1x")][..], "invalid suffix: 'x'"),
            (&[("compress", "true"), ("max-size", "1k")][..], "compress cannot be true when max-file is less than 2 or max-size is not set"),
            (&[("compress", "true"), ("max-file", "3")][..], "compress cannot be true when max-file is less than 2 or max-size is not set"),
            (&[("compress", "maybe")][..], "strconv.ParseBool: parsing \"maybe\": invalid syntax"),
        ] {
            let c = lc("json-file", opts);
            assert!(LogDriver::validate(&c).is_ok(), "{opts:?}");
            assert_eq!(LogDriver::parse(&c).unwrap_err(), says);
        }
    }

    #[test]
    fn sizes_as_go_units() {
        assert_eq!(from_human_size("10"), Ok(10));
        assert_eq!(from_human_size("1k"), Ok(1000));
        assert_eq!(from_human_size("2MB"), Ok(2_000_000));
        assert_eq!(from_human_size("1.5g"), Ok(1_500_000_000));
        assert_eq!(from_human_size("3 KiB"), Ok(3000));
        assert_eq!(from_human_size("7b"), Ok(7));
        assert_eq!(from_human_size("-1"), Err("invalid size: '-1'".into()));
        assert_eq!(from_human_size("x"), Err("invalid size: 'x'".into()));
        assert_eq!(from_human_size("1kx"), Err("invalid suffix: 'kx'".into()));
        assert_eq!(from_human_size("1.2.3"), Err("strconv.ParseFloat: parsing \"1.2.3\": invalid syntax".into()));
        assert_eq!(atoi("+3"), Ok(3));
        assert_eq!(atoi("99999999999999999999"), Err("strconv.Atoi: parsing \"99999999999999999999\": value out of range".into()));
    }

    #[test]
    fn files_oldest_first_plain_or_compressed() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("c-json.log");
        for p in [rotated(&log, 1), rotated_gz(&log, 2), log.clone()] {
            std::fs::write(&p, "").unwrap();
        }
        let d = json(Some(10), 4, true);
        assert_eq!(d.files(&log), vec![rotated_gz(&log, 2), rotated(&log, 1), log.clone()]);
        assert!(LogDriver::None.files(&log).is_empty());
        let dir = Path::new("/c");
        assert_eq!(d.path(dir, "i"), Some(PathBuf::from("/c/i-json.log")));
        let local = LogDriver::parse(&lc("local", &[])).unwrap();
        assert_eq!(local.path(dir, "i"), Some(PathBuf::from("/c/local-logs/container.log")));
        assert_eq!(local.rotation(), Some((20 << 20, 5, true)));
    }
}
