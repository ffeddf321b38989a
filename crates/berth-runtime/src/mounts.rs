//! The filesystem a container sees: default mounts, masked paths, device rules.

use serde_json::{json, Value};
use std::path::Path;

/// Where `--init` binds the static init inside the container (Docker's path).
pub const INIT_PATH: &str = "/sbin/docker-init";

/// Paths hidden from non-privileged containers (Docker's list).
pub const MASKED_PATHS: [&str; 12] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths made read-only for non-privileged containers (Docker's list).
pub const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

fn mount(destination: &str, kind: &str, source: &str, options: &[&str]) -> Value {
    json!({"destination": destination, "type": kind, "source": source, "options": options})
}

/// What a container's /dev/shm is, decided by its IPC mode.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ShmMount {
    /// Its own tmpfs (`--ipc private`, the default).
    #[default]
    Tmpfs,
    /// A bind of a host directory: the host's /dev/shm (`--ipc host`) or a
    /// shareable container's tmpfs that berthd mounted on the host.
    Bind(std::path::PathBuf),
    /// No /dev/shm at all (`--ipc none`).
    None,
}

/// The mounts every container gets, in Docker's order.
///
/// A privileged container gets /sys and /sys/fs/cgroup writable, as in Docker.
pub fn default_mounts(shm_size: u64, privileged: bool, shm: &ShmMount) -> Vec<Value> {
    let sys_mode = if privileged { "rw" } else { "ro" };
    let shm_size = format!("size={shm_size}");
    let mut mounts = vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        ),
        mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", sys_mode],
        ),
        mount(
            "/sys/fs/cgroup",
            "cgroup",
            "cgroup",
            &["nosuid", "noexec", "nodev", sys_mode],
        ),
        mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        ),
    ];
    match shm {
        ShmMount::Tmpfs => mounts.push(mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", &shm_size],
        )),
        ShmMount::Bind(host) => mounts.push(mount("/dev/shm", "bind", &host.to_string_lossy(), &["rbind", "rprivate"])),
        ShmMount::None => {}
    }
    mounts
}

/// A read-write bind of a host file the daemon prepared (/etc/hostname, hosts, resolv.conf).
pub fn etc_file_mount(host: &Path, destination: &str) -> Value {
    json!({
        "destination": destination,
        "type": "bind",
        "source": host.to_string_lossy(),
        "options": ["rbind", "rprivate"],
    })
}

/// A mount the user asked for (volume, bind or tmpfs), its destination
/// already resolved inside the rootfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub destination: String,
    pub readonly: bool,
    pub kind: MountKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountKind {
    /// A bind of a host path; `propagation` is e.g. "rprivate" (the default when empty).
    Bind { source: std::path::PathBuf, propagation: String, recursive: bool },
    /// A tmpfs with options such as "size=1m", "mode=1777", "noexec".
    Tmpfs { options: Vec<String> },
}

/// The OCI mount entry for a user mount.
pub fn user_mount(m: &Mount) -> Value {
    let rw = if m.readonly { "ro" } else { "rw" };
    match &m.kind {
        MountKind::Bind { source, propagation, recursive } => {
            let prop = if propagation.is_empty() { "rprivate" } else { propagation.as_str() };
            let bind = if *recursive { "rbind" } else { "bind" };
            json!({
                "destination": m.destination,
                "type": "bind",
                "source": source.to_string_lossy(),
                "options": [bind, prop, rw],
            })
        }
        MountKind::Tmpfs { options } => {
            let mut opts: Vec<&str> = options.iter().map(String::as_str).collect();
            opts.push(rw);
            json!({"destination": m.destination, "type": "tmpfs", "source": "tmpfs", "options": opts})
        }
    }
}

/// The read-only bind of the static init used by `--init`.
pub fn init_mount(host: &Path) -> Value {
    json!({
        "destination": INIT_PATH,
        "type": "bind",
        "source": host.to_string_lossy(),
        "options": ["bind", "ro"],
    })
}

/// An allow rule for a char device; `minor: None` means any minor (the key is omitted).
fn char_device(major: i64, minor: Option<i64>, access: &str) -> Value {
    let mut rule = json!({"allow": true, "type": "c", "major": major, "access": access});
    if let Some(minor) = minor {
        rule["minor"] = json!(minor);
    }
    rule
}

/// The device cgroup rules: deny everything but the standard devices (Docker's default),
/// or allow everything for a privileged container.
pub fn device_rules(privileged: bool) -> Vec<Value> {
    if privileged {
        return vec![json!({"allow": true, "access": "rwm"})];
    }
    vec![
        json!({"allow": false, "access": "rwm"}),
        // mknod of any device node; opening it still needs an allow rule below.
        json!({"allow": true, "type": "c", "access": "m"}),
        json!({"allow": true, "type": "b", "access": "m"}),
        char_device(1, Some(3), "rwm"), // /dev/null
        char_device(1, Some(5), "rwm"), // /dev/zero
        char_device(1, Some(7), "rwm"), // /dev/full
        char_device(1, Some(8), "rwm"), // /dev/random
        char_device(1, Some(9), "rwm"), // /dev/urandom
        char_device(5, Some(0), "rwm"), // /dev/tty
        char_device(5, Some(1), "rwm"), // /dev/console
        char_device(5, Some(2), "rwm"), // /dev/ptmx
        char_device(136, None, "rwm"),  // /dev/pts/*
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shm_size_and_sys_mode() {
        let m = default_mounts(1 << 26, false, &ShmMount::Tmpfs);
        assert_eq!(m.len(), 7);
        assert_eq!(m[6]["destination"], "/dev/shm");
        assert!(m[6]["options"]
            .as_array()
            .is_some_and(|o| o.contains(&json!("size=67108864"))));
        assert!(m[3]["options"]
            .as_array()
            .is_some_and(|o| o.contains(&json!("ro"))));
        let p = default_mounts(1, true, &ShmMount::Tmpfs);
        assert!(p[3]["options"]
            .as_array()
            .is_some_and(|o| o.contains(&json!("rw"))));
    }

    #[test]
    fn user_mounts() {
        let b = user_mount(&Mount {
            destination: "/data".into(),
            readonly: true,
            kind: MountKind::Bind { source: "/v/_data".into(), propagation: String::new(), recursive: true },
        });
        assert_eq!(b["options"], json!(["rbind", "rprivate", "ro"]));
        assert_eq!(b["source"], "/v/_data");
        let t = user_mount(&Mount {
            destination: "/t".into(),
            readonly: false,
            kind: MountKind::Tmpfs { options: vec!["size=1m".into()] },
        });
        assert_eq!(t["options"], json!(["size=1m", "rw"]));
        assert_eq!(t["type"], "tmpfs");
    }

    #[test]
    fn devices_deny_first() {
        let d = device_rules(false);
        assert_eq!(d[0], json!({"allow": false, "access": "rwm"}));
        assert!(d.contains(&json!({"allow": true, "type": "c", "major": 136, "access": "rwm"})));
        assert_eq!(device_rules(true).len(), 1);
    }
}
