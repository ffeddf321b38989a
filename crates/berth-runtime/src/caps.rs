//! Linux capabilities: Docker's default set and the set a privileged container gets.

/// Every capability the kernel knows, indexed by its bit number.
pub const ALL_CAPABILITIES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Docker's default capability set, in Docker's order.
pub const DEFAULT_CAPABILITIES: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// The capabilities a privileged container gets: all that this process may pass on.
///
/// Docker asks for every capability; here we only ask for those in our own bounding
/// set, because runc cannot grant a capability it lacks (capset fails with EPERM,
/// e.g. CAP_SYS_RESOURCE in a VM that withholds it).
pub fn privileged_capabilities() -> Vec<String> {
    let bounding = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| bounding_mask(&status))
        .unwrap_or(u64::MAX);
    caps_in_mask(bounding)
}

/// The `CapBnd:` mask from the text of /proc/<pid>/status.
fn bounding_mask(status: &str) -> Option<u64> {
    let hex = status.lines().find_map(|l| l.strip_prefix("CapBnd:"))?;
    u64::from_str_radix(hex.trim(), 16).ok()
}

/// The names of the known capabilities whose bits are set in `mask`.
pub fn caps_in_mask(mask: u64) -> Vec<String> {
    ALL_CAPABILITIES
        .iter()
        .enumerate()
        .filter(|(bit, _)| mask & (1u64 << bit) != 0)
        .map(|(_, name)| (*name).to_string())
        .collect()
}

/// The bit mask of the named capabilities (unknown names are ignored, as runc does).
pub fn caps_mask<S: AsRef<str>>(names: &[S]) -> u64 {
    names
        .iter()
        .filter_map(|n| ALL_CAPABILITIES.iter().position(|c| *c == n.as_ref()))
        .fold(0, |mask, bit| mask | (1u64 << bit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_set_matches_dockers_capeff() {
        // What `grep CapEff /proc/self/status` prints in a default Docker container.
        assert_eq!(caps_mask(&DEFAULT_CAPABILITIES), 0x00000000a80425fb);
    }

    #[test]
    fn mask_round_trips() {
        let names = caps_in_mask(0xa80425fb);
        assert_eq!(names.len(), DEFAULT_CAPABILITIES.len());
        assert_eq!(caps_mask(&names), 0xa80425fb);
        assert_eq!(caps_in_mask(u64::MAX).len(), ALL_CAPABILITIES.len());
        assert_eq!(caps_mask(&["CAP_NOPE", "CAP_CHOWN"]), 1);
    }

    #[test]
    fn bounding_mask_from_status() {
        let status = "Name:\tx\nCapPrm:\t0000000000000001\nCapBnd:\t000001fffeffffff\n";
        let mask = bounding_mask(status);
        assert_eq!(mask, Some(0x1fffeffffff));
        let caps = caps_in_mask(0x1fffeffffff);
        assert!(!caps.iter().any(|c| c == "CAP_SYS_RESOURCE"));
        assert!(caps.iter().any(|c| c == "CAP_SYS_ADMIN"));
        assert_eq!(bounding_mask("CapBnd:\tzz\n"), None);
        assert_eq!(bounding_mask(""), None);
    }
}
