//! Facts about the host that `/info` and `/version` report: read once at
//! start-up (they do not change while berthd runs), never hard-coded.

use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    /// `uname -m`: `x86_64`, `aarch64` (`/info`'s `Architecture`).
    pub machine: String,
    pub kernel_version: String,
    /// os-release's `PRETTY_NAME` and `VERSION_ID`.
    pub operating_system: String,
    pub os_version: String,
    /// CPUs berthd may run on (its affinity mask), as dockerd counts them.
    pub ncpu: i64,
    pub mem_total: i64,
    pub hostname: String,
    /// overlay2's `DriverStatus` rows for the data root.
    pub driver_status: Vec<[String; 2]>,
}

impl HostFacts {
    /// Reads the facts; blocking (files under /proc, a statfs and a probe
    /// file in `data_root`).
    pub fn probe(data_root: &Path) -> HostFacts {
        let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
        HostFacts {
            machine: uname_machine(),
            kernel_version: read_trimmed("/proc/sys/kernel/osrelease"),
            operating_system: os_release_field(&os_release, "PRETTY_NAME").unwrap_or_else(|| "Linux".into()),
            os_version: os_release_field(&os_release, "VERSION_ID").unwrap_or_default(),
            ncpu: cpu_count(),
            mem_total: mem_total(&std::fs::read_to_string("/proc/meminfo").unwrap_or_default()),
            hostname: read_trimmed("/proc/sys/kernel/hostname"),
            driver_status: overlay_status(data_root),
        }
    }
}

/// The architecture as Go names it (`/version`'s `Arch`, what image
/// platforms use), for the architecture berthd was built for.
pub fn go_arch() -> &'static str {
    go_arch_of(std::env::consts::ARCH)
}

fn go_arch_of(rust_arch: &'static str) -> &'static str {
    match rust_arch {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        "loongarch64" => "loong64",
        "mips64" => "mips64le",
        other => other,
    }
}

fn read_trimmed(p: &str) -> String {
    std::fs::read_to_string(p).map(|s| s.trim().to_string()).unwrap_or_default()
}

fn uname_machine() -> String {
    // SAFETY: uname fills the zeroed struct we own; its fields are
    // NUL-terminated C strings.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return std::env::consts::ARCH.to_string();
        }
        std::ffi::CStr::from_ptr(u.machine.as_ptr()).to_string_lossy().into_owned()
    }
}

fn cpu_count() -> i64 {
    // SAFETY: sched_getaffinity writes into the zeroed set we own.
    let n = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0 {
            libc::CPU_COUNT(&set) as i64
        } else {
            0
        }
    };
    if n > 0 {
        n
    } else {
        std::thread::available_parallelism().map(|n| n.get() as i64).unwrap_or(1)
    }
}

fn os_release_field(text: &str, key: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .map(|v| v.trim().trim_matches('"').to_string())
}

fn mem_total(meminfo: &str) -> i64 {
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// overlay2's rows as dockerd shows them.
fn overlay_status(data_root: &Path) -> Vec<[String; 2]> {
    let metacopy = read_trimmed("/sys/module/overlay/parameters/metacopy") == "Y";
    vec![
        ["Backing Filesystem".into(), backing_fs(data_root).into()],
        ["Supports d_type".into(), supports_d_type(data_root).to_string()],
        ["Using metacopy".into(), metacopy.to_string()],
        ["Native Overlay Diff".into(), (!metacopy).to_string()],
        ["userxattr".into(), "false".into()],
    ]
}

/// The filesystem under `p`, by dockerd's names for statfs magics.
fn backing_fs(p: &Path) -> &'static str {
    let Ok(c) = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()) else { return "<unknown>" };
    // SAFETY: statfs writes into the zeroed struct we own; `c` is a valid C string.
    let magic = unsafe {
        let mut s: libc::statfs = std::mem::zeroed();
        if libc::statfs(c.as_ptr(), &mut s) != 0 {
            return "<unknown>";
        }
        s.f_type as u32
    };
    fs_name(magic)
}

fn fs_name(magic: u32) -> &'static str {
    match magic {
        0xEF53 => "extfs",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x0102_1994 => "tmpfs",
        0x858_458F6 => "ramfs",
        0x794C_7630 => "overlayfs",
        0x2FC1_2FC1 => "zfs",
        0x6969 => "nfs",
        0xF2F5_2010 => "f2fs",
        0x7371_7368 => "squashfs",
        0x6175_6673 => "aufs",
        0xF15F => "ecryptfs",
        _ => "<unknown>",
    }
}

/// Whether readdir on the data root's filesystem reports file types
/// (overlay needs it): any entry, `.` included, with a known type.
fn supports_d_type(data_root: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(data_root.as_os_str().as_encoded_bytes()) else { return false };
    // SAFETY: a directory stream we open and close here; entries are read
    // only while the stream is open.
    unsafe {
        let d = libc::opendir(c.as_ptr());
        if d.is_null() {
            return false;
        }
        let mut known = false;
        loop {
            let e = libc::readdir(d);
            if e.is_null() {
                break;
            }
            if (*e).d_type != libc::DT_UNKNOWN {
                known = true;
                break;
            }
        }
        libc::closedir(d);
        known
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_arch_names() {
        assert_eq!(go_arch_of("x86_64"), "amd64");
        assert_eq!(go_arch_of("aarch64"), "arm64");
        assert_eq!(go_arch_of("s390x"), "s390x");
    }

    #[test]
    fn parses_os_release_and_meminfo() {
        let os = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\n";
        assert_eq!(os_release_field(os, "PRETTY_NAME").as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
        assert_eq!(os_release_field(os, "VERSION_ID").as_deref(), Some("12"));
        assert_eq!(os_release_field(os, "VERSION"), None);
        assert_eq!(mem_total("MemTotal:        4028264 kB\nMemFree: 1 kB\n"), 4028264 * 1024);
        assert_eq!(fs_name(0xEF53), "extfs");
        assert_eq!(fs_name(1), "<unknown>");
    }

    #[test]
    fn probes_this_host() {
        let t = tempfile::tempdir().expect("tmp");
        let h = HostFacts::probe(t.path());
        assert!(!h.machine.is_empty() && !h.kernel_version.is_empty());
        assert!(h.ncpu >= 1 && h.mem_total > 0);
        assert_eq!(h.driver_status[0][0], "Backing Filesystem");
        assert_ne!(h.driver_status[0][1], "<unknown>", "{:?}", h.driver_status);
        assert_eq!(h.driver_status[1], ["Supports d_type".to_string(), "true".to_string()]);
    }
}
