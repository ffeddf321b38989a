//! `--device` and `--device-cgroup-rule`: host device nodes created in the
//! container, and the device cgroup rules that let the container use them.

use crate::RuntimeError;
use serde_json::{json, Value};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// A device node the runtime creates in the container (OCI `linux.devices`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Path inside the container.
    pub path: String,
    /// 'c' or 'b'.
    pub kind: char,
    pub major: u64,
    pub minor: u64,
    pub file_mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Cgroup permissions: a combination of r, w, m.
    pub access: String,
}

impl Device {
    pub fn spec_entry(&self) -> Value {
        json!({
            "path": self.path, "type": self.kind.to_string(), "major": self.major, "minor": self.minor,
            "fileMode": self.file_mode, "uid": self.uid, "gid": self.gid,
        })
    }

    pub fn cgroup_rule(&self) -> DeviceRule {
        DeviceRule { kind: self.kind, major: Some(self.major), minor: Some(self.minor), access: self.access.clone() }
    }
}

/// One device cgroup allow rule; `None` major/minor is `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRule {
    /// 'a' (all), 'c' or 'b'.
    pub kind: char,
    pub major: Option<u64>,
    pub minor: Option<u64>,
    pub access: String,
}

impl DeviceRule {
    pub fn spec_entry(&self) -> Value {
        let mut v = json!({"allow": true, "access": self.access});
        if self.kind != 'a' {
            v["type"] = json!(self.kind.to_string());
        }
        if let Some(m) = self.major {
            v["major"] = json!(m);
        }
        if let Some(m) = self.minor {
            v["minor"] = json!(m);
        }
        v
    }
}

fn valid_access(s: &str) -> bool {
    !s.is_empty() && s.len() <= 3 && s.chars().all(|c| matches!(c, 'r' | 'w' | 'm'))
        && s.chars().enumerate().all(|(i, c)| !s[..i].contains(c))
}

/// Reads a `--device-cgroup-rule` such as `c 1:3 mr` or `a *:* rwm`.
pub fn parse_device_rule(rule: &str) -> Result<DeviceRule, RuntimeError> {
    let bad = || RuntimeError::DeviceRule(format!("invalid device cgroup rule format: '{rule}'"));
    let mut parts = rule.split(' ');
    let (Some(kind), Some(numbers), Some(access), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let kind = match kind {
        "a" => 'a',
        "b" => 'b',
        "c" => 'c',
        _ => return Err(bad()),
    };
    let (major, minor) = numbers.split_once(':').ok_or_else(bad)?;
    let number = |s: &str| -> Result<Option<u64>, RuntimeError> {
        if s == "*" {
            Ok(None)
        } else {
            s.parse().map(Some).map_err(|_| bad())
        }
    };
    if !valid_access(access) {
        return Err(bad());
    }
    Ok(DeviceRule { kind, major: number(major)?, minor: number(minor)?, access: access.to_string() })
}

/// Resolves a `--device HOST[:CONTAINER][:PERMS]` mapping into the device
/// nodes to create: the node itself, or every node below a directory.
pub fn resolve_device(host: &str, container: &str, permissions: &str) -> Result<Vec<Device>, RuntimeError> {
    let err = |reason: String| RuntimeError::Device { path: host.to_string(), reason };
    let access = if permissions.is_empty() { "rwm" } else { permissions };
    if !valid_access(access) {
        return Err(err(format!("invalid device mode: {permissions}")));
    }
    let container = if container.is_empty() { host } else { container };
    if !container.starts_with('/') {
        return Err(err(format!("{container} is not an absolute path")));
    }
    let meta = std::fs::metadata(host).map_err(|e| err(io_reason(&e)))?;
    if meta.is_dir() {
        let mut out = Vec::new();
        collect_dir(Path::new(host), container, access, &mut out, 0).map_err(|e| err(io_reason(&e)))?;
        return Ok(out);
    }
    node(&meta, container, access).ok_or_else(|| err("not a device node".into())).map(|d| vec![d])
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        _ => e.to_string(),
    }
}

fn node(meta: &std::fs::Metadata, path: &str, access: &str) -> Option<Device> {
    let ft = meta.file_type();
    let kind = if ft.is_char_device() {
        'c'
    } else if ft.is_block_device() {
        'b'
    } else {
        return None;
    };
    let rdev = meta.rdev();
    Some(Device {
        path: path.to_string(),
        kind,
        major: libc::major(rdev) as u64,
        minor: libc::minor(rdev) as u64,
        file_mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        access: access.to_string(),
    })
}

/// Walks a host directory of device nodes (not following links, bounded depth).
fn collect_dir(dir: &Path, container: &str, access: &str, out: &mut Vec<Device>, depth: u32) -> std::io::Result<()> {
    if depth > 8 {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = std::fs::symlink_metadata(entry.path())?;
        let name = entry.file_name();
        let target = format!("{}/{}", container.trim_end_matches('/'), name.to_string_lossy());
        if meta.is_dir() {
            collect_dir(&entry.path(), &target, access, out, depth + 1)?;
        } else if let Some(d) = node(&meta, &target, access) {
            out.push(d);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_rules() {
        let r = parse_device_rule("c 1:3 mr").unwrap();
        assert_eq!(r, DeviceRule { kind: 'c', major: Some(1), minor: Some(3), access: "mr".into() });
        assert_eq!(r.spec_entry(), json!({"allow": true, "type": "c", "major": 1, "minor": 3, "access": "mr"}));
        let all = parse_device_rule("a *:* rwm").unwrap();
        assert_eq!(all.spec_entry(), json!({"allow": true, "access": "rwm"}));
        for bad in ["", "c 1:3", "x 1:3 r", "c 1-3 r", "c 1:3 rx", "c a:3 r", "c 1:3 rr", "c 1:3 r extra"] {
            assert_eq!(
                parse_device_rule(bad).unwrap_err().to_string(),
                format!("invalid device cgroup rule format: '{bad}'")
            );
        }
    }

    #[test]
    fn host_devices() {
        let d = resolve_device("/dev/null", "/dev/mynull", "r").unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].kind, d[0].major, d[0].minor), ('c', 1, 3));
        assert_eq!(d[0].path, "/dev/mynull");
        assert_eq!(d[0].cgroup_rule().access, "r");
        assert_eq!(resolve_device("/dev/zero", "", "").unwrap()[0].path, "/dev/zero");
        assert_eq!(
            resolve_device("/dev/nope-berth", "", "").unwrap_err().to_string(),
            r#"error gathering device information while adding custom device "/dev/nope-berth": no such file or directory"#
        );
        assert!(resolve_device("/etc/hostname", "", "").is_err());
        assert!(resolve_device("/dev/null", "", "rwx").is_err());
        assert!(resolve_device("/dev/null", "rel", "").is_err());
    }
}
