//! The local driver's options (`-o type=tmpfs -o device=tmpfs -o o=size=1m`):
//! validated at create, mounted over the volume's `_data` while a
//! container uses it. Mounting sits behind `DriverMounter` so the
//! manager's logic is testable without root.

use berth_api::ApiError;
use std::collections::BTreeMap;
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The OS edge for driver mounts.
pub trait DriverMounter: Send + Sync {
    fn mount(&self, device: &str, fstype: &str, flags: u64, data: &str, target: &Path) -> io::Result<()>;
    /// Not mounted is not an error.
    fn unmount(&self, target: &Path) -> io::Result<()>;
}

pub struct SysDriverMounter;

fn cstr(b: &[u8]) -> io::Result<CString> {
    CString::new(b).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in mount argument"))
}

impl DriverMounter for SysDriverMounter {
    fn mount(&self, device: &str, fstype: &str, flags: u64, data: &str, target: &Path) -> io::Result<()> {
        let (src, fs, tgt, data) = (cstr(device.as_bytes())?, cstr(fstype.as_bytes())?, cstr(target.as_os_str().as_bytes())?, cstr(data.as_bytes())?);
        // SAFETY: all pointers are valid NUL-terminated strings that outlive the call.
        let rc = unsafe { libc::mount(src.as_ptr(), tgt.as_ptr(), fs.as_ptr(), flags as libc::c_ulong, data.as_ptr().cast()) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn unmount(&self, target: &Path) -> io::Result<()> {
        let tgt = cstr(target.as_os_str().as_bytes())?;
        // SAFETY: `tgt` is a valid NUL-terminated path.
        if unsafe { libc::umount2(tgt.as_ptr(), libc::MNT_DETACH) } != 0 {
            let e = io::Error::last_os_error();
            if matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOENT)) {
                return Ok(());
            }
            return Err(e);
        }
        Ok(())
    }
}

/// The local driver's accepted options.
pub fn validate_options(name: &str, opts: Option<&BTreeMap<String, String>>) -> Result<(), ApiError> {
    let Some(opts) = opts.filter(|o| !o.is_empty()) else { return Ok(()) };
    let err = |m: String| ApiError::invalid(format!("create {name}: {m}"));
    if let Some(k) = opts.keys().find(|k| !matches!(k.as_str(), "type" | "device" | "o")) {
        return Err(err(format!("invalid option: \"{k}\"")));
    }
    let has = |k: &str| opts.get(k).is_some_and(|v| !v.is_empty());
    if has("device") && !has("type") {
        return Err(err("missing required option: \"type\"".into()));
    }
    if has("type") && !has("device") {
        return Err(err("missing required option: \"device\"".into()));
    }
    Ok(())
}

/// Whether the options ask for a mount at all.
pub fn needs_mount(opts: Option<&BTreeMap<String, String>>) -> bool {
    opts.is_some_and(|o| o.get("type").is_some_and(|t| !t.is_empty()))
}

/// Splits `o=` into mount(2) flags and the data string, as moby's mount.ParseOptions.
pub fn parse_o(o: &str) -> (u64, String) {
    let mut flags: u64 = 0;
    let mut data = Vec::new();
    for opt in o.split(',').filter(|s| !s.is_empty()) {
        let (set, clear): (u64, u64) = match opt {
            "ro" => (libc::MS_RDONLY, 0),
            "rw" => (0, libc::MS_RDONLY),
            "nosuid" => (libc::MS_NOSUID, 0),
            "nodev" => (libc::MS_NODEV, 0),
            "noexec" => (libc::MS_NOEXEC, 0),
            "sync" => (libc::MS_SYNCHRONOUS, 0),
            "noatime" => (libc::MS_NOATIME, 0),
            "nodiratime" => (libc::MS_NODIRATIME, 0),
            "relatime" => (libc::MS_RELATIME, 0),
            "bind" => (libc::MS_BIND, 0),
            "rbind" => (libc::MS_BIND | libc::MS_REC, 0),
            "suid" => (0, libc::MS_NOSUID),
            "dev" => (0, libc::MS_NODEV),
            "exec" => (0, libc::MS_NOEXEC),
            "defaults" => (0, 0),
            other => {
                data.push(other);
                (0, 0)
            }
        };
        flags = (flags | set) & !clear;
    }
    (flags, data.join(","))
}

#[cfg(test)]
pub mod fake {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct RecordingDriverMounter {
        pub calls: Mutex<Vec<String>>,
    }

    impl DriverMounter for RecordingDriverMounter {
        fn mount(&self, device: &str, fstype: &str, _f: u64, data: &str, target: &Path) -> io::Result<()> {
            if let Ok(mut c) = self.calls.lock() {
                c.push(format!("mount {device} {fstype} {data} {}", target.display()));
            }
            Ok(())
        }
        fn unmount(&self, target: &Path) -> io::Result<()> {
            if let Ok(mut c) = self.calls.lock() {
                c.push(format!("unmount {}", target.display()));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn options() {
        assert!(validate_options("v", None).is_ok());
        assert!(validate_options("v", Some(&m(&[("type", "tmpfs"), ("device", "tmpfs"), ("o", "size=1m")]))).is_ok());
        assert_eq!(validate_options("v", Some(&m(&[("bogus", "1")]))).unwrap_err().message, "create v: invalid option: \"bogus\"");
        assert_eq!(validate_options("v", Some(&m(&[("type", "tmpfs")]))).unwrap_err().message, "create v: missing required option: \"device\"");
        assert_eq!(validate_options("v", Some(&m(&[("device", "x")]))).unwrap_err().message, "create v: missing required option: \"type\"");
        assert!(needs_mount(Some(&m(&[("type", "tmpfs")]))));
        assert!(!needs_mount(Some(&m(&[]))));
    }

    #[test]
    fn parses_o() {
        assert_eq!(parse_o("size=1m,uid=1000,ro,noexec"), (libc::MS_RDONLY | libc::MS_NOEXEC, "size=1m,uid=1000".to_string()));
        assert_eq!(parse_o("ro,rw"), (0, String::new()));
    }
}
