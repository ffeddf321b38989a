//! Command line of `berth-shim` (fixed by the contract with berthd).

use std::ffi::OsString;
use std::path::PathBuf;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub id: String,
    pub bundle: PathBuf,
    pub state_dir: PathBuf,
    pub runtime: PathBuf,
    pub runtime_root: PathBuf,
    pub log: PathBuf,
    /// `--log-max-size BYTES --log-max-file N [--log-compress]`: rotate the log (gzip the rotated files).
    pub log_rotation: Option<crate::logfile::Rotation>,
    pub stdin: bool,
    pub stdin_once: bool,
    /// The container's cgroup path (e.g. `/berth/<id>`), read for OOM kills.
    pub cgroup: Option<String>,
    /// The container has a terminal (the runtime's console socket is used).
    pub tty: bool,
}

impl Config {
    pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Config> {
        let mut id = None;
        let mut bundle = None;
        let mut state_dir = None;
        let mut runtime = None;
        let mut runtime_root = None;
        let mut log = None;
        let mut cgroup = None;
        let mut max_size = None;
        let mut max_file = None;
        let mut stdin = false;
        let mut stdin_once = false;
        let mut tty = false;
        let mut compress = false;
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            let slot = match arg.to_str() {
                Some("--stdin") => {
                    stdin = true;
                    continue;
                }
                Some("--tty") => {
                    tty = true;
                    continue;
                }
                Some("--stdin-once") => {
                    stdin_once = true;
                    continue;
                }
                Some("--log-compress") => {
                    compress = true;
                    continue;
                }
                Some("--id") => &mut id,
                Some("--bundle") => &mut bundle,
                Some("--state-dir") => &mut state_dir,
                Some("--runtime") => &mut runtime,
                Some("--runtime-root") => &mut runtime_root,
                Some("--log") => &mut log,
                Some("--cgroup") => &mut cgroup,
                Some("--log-max-size") => &mut max_size,
                Some("--log-max-file") => &mut max_file,
                _ => return Err(Error::Usage(format!("unexpected argument {arg:?}"))),
            };
            let value = it
                .next()
                .ok_or_else(|| Error::Usage(format!("{arg:?} needs a value")))?;
            *slot = Some(value);
        }
        let need = |v: Option<OsString>, name: &str| {
            v.filter(|v| !v.is_empty())
                .ok_or_else(|| Error::Usage(format!("--{name} is required")))
        };
        let id = need(id, "id")?
            .into_string()
            .map_err(|_| Error::Usage("--id must be UTF-8".into()))?;
        // The id becomes a runc argument and a path component; keep it tame.
        if id.starts_with('-')
            || id == "."
            || id == ".."
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        {
            return Err(Error::Usage(format!("invalid --id {id:?}")));
        }
        let number = |v: Option<OsString>, name: &str| -> Result<Option<u64>> {
            v.map(|v| v.to_str().and_then(|s| s.parse().ok()).ok_or_else(|| Error::Usage(format!("--{name} needs a number"))))
                .transpose()
        };
        let log_rotation = match (number(max_size, "log-max-size")?, number(max_file, "log-max-file")?) {
            // Size 0 (the local driver's max-size=0) rotates before every entry, as in dockerd.
            (Some(size), files) => Some(crate::logfile::Rotation {
                max_size: size,
                max_file: u32::try_from(files.unwrap_or(1)).unwrap_or(u32::MAX).max(1),
                compress,
            }),
            _ => None,
        };
        Ok(Config {
            id,
            log_rotation,
            bundle: need(bundle, "bundle")?.into(),
            state_dir: need(state_dir, "state-dir")?.into(),
            runtime: need(runtime, "runtime")?.into(),
            runtime_root: need(runtime_root, "runtime-root")?.into(),
            log: need(log, "log")?.into(),
            stdin,
            stdin_once,
            cgroup: cgroup.and_then(|c| c.into_string().ok()).filter(|c| c.starts_with('/') && !c.contains("..")),
            tty,
        })
    }

    pub fn state_file(&self, name: &str) -> PathBuf {
        self.state_dir.join(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&str]) -> Result<Config> {
        Config::parse(v.iter().map(OsString::from))
    }

    const FULL: &[&str] = &[
        "--id",
        "c1",
        "--bundle",
        "/b",
        "--state-dir",
        "/s",
        "--runtime",
        "/usr/sbin/runc",
        "--runtime-root",
        "/r",
        "--log",
        "/l.json",
    ];

    #[test]
    fn parses_full_command_line() {
        let mut v = FULL.to_vec();
        v.extend(["--stdin", "--stdin-once", "--tty"]);
        let c = parse(&v).expect("valid");
        assert!(c.tty);
        assert_eq!(c.id, "c1");
        assert_eq!(c.bundle, PathBuf::from("/b"));
        assert_eq!(c.state_file("shim.sock"), PathBuf::from("/s/shim.sock"));
        assert!(c.stdin && c.stdin_once);
        let c = parse(FULL).expect("valid");
        assert!(!c.stdin && !c.stdin_once && !c.tty);
        assert_eq!(c.log_rotation, None);
        let mut v = FULL.to_vec();
        v.extend(["--log-max-size", "1024", "--log-max-file", "3"]);
        let r = parse(&v).expect("valid").log_rotation;
        assert_eq!(r, Some(crate::logfile::Rotation { max_size: 1024, max_file: 3, compress: false }));
        v.push("--log-compress");
        let r = parse(&v).expect("valid").log_rotation;
        assert_eq!(r, Some(crate::logfile::Rotation { max_size: 1024, max_file: 3, compress: true }));
        let mut v = FULL.to_vec();
        v.extend(["--log-max-size", "big"]);
        assert!(parse(&v).is_err());
    }

    #[test]
    fn rejects_bad_command_lines() {
        assert!(parse(&[]).is_err());
        assert!(parse(&FULL[..FULL.len() - 1]).is_err(), "missing value");
        let mut v = FULL.to_vec();
        v.push("--bogus");
        assert!(parse(&v).is_err());
        for bad in ["", "-x", "a/b", "a b", "..", ".", "..\n"] {
            let mut v = FULL.to_vec();
            v[1] = bad;
            assert!(parse(&v).is_err(), "id {bad:?}");
        }
    }
}
