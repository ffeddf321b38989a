//! Linux capabilities: Docker's default set and the set a privileged container gets.

use crate::RuntimeError;

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
    // Read once: a process's bounding set only ever shrinks, and this runs
    // on every start and exec.
    static BOUNDING: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let bounding = *BOUNDING.get_or_init(|| {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| bounding_mask(&status))
            .unwrap_or(u64::MAX)
    });
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

/// A capability name as Docker reads it: any case, `CAP_` optional; "ALL" stays "ALL".
pub fn normalize_capability(name: &str) -> Result<String, RuntimeError> {
    let upper = name.trim().to_ascii_uppercase();
    if upper == "ALL" {
        return Ok(upper);
    }
    let full = if upper.starts_with("CAP_") { upper } else { format!("CAP_{upper}") };
    if ALL_CAPABILITIES.contains(&full.as_str()) {
        Ok(full)
    } else {
        Err(RuntimeError::UnknownCapability(full))
    }
}

/// The capability set of a container, as Docker computes it from the
/// default set, `--cap-add`, `--cap-drop` and `--privileged`: `ALL` in
/// `cap-add` grants everything but the drops; `ALL` in `cap-drop` keeps
/// only the adds; otherwise the defaults minus the drops plus the adds.
/// Capabilities this process does not hold itself are left out (runc
/// cannot grant them; see [`privileged_capabilities`]).
pub fn container_capabilities(privileged: bool, add: &[String], drop: &[String]) -> Result<Vec<String>, RuntimeError> {
    let held = privileged_capabilities();
    if privileged {
        return Ok(held);
    }
    let add = add.iter().map(|c| normalize_capability(c)).collect::<Result<Vec<_>, _>>()?;
    let drop = drop.iter().map(|c| normalize_capability(c)).collect::<Result<Vec<_>, _>>()?;
    let has = |list: &[String], c: &str| list.iter().any(|x| x == c);
    let mut caps: Vec<String> = if has(&add, "ALL") {
        held.iter().filter(|c| !has(&drop, c)).cloned().collect()
    } else if has(&drop, "ALL") {
        add.clone()
    } else {
        let mut caps: Vec<String> =
            DEFAULT_CAPABILITIES.iter().filter(|c| !has(&drop, c)).map(|c| c.to_string()).collect();
        caps.extend(add.iter().cloned());
        caps
    };
    caps.retain(|c| c != "ALL" && has(&held, c));
    let mut seen = Vec::with_capacity(caps.len());
    caps.retain(|c| if seen.contains(c) { false } else { seen.push(c.clone()); true });
    Ok(caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_are_normalized() {
        assert_eq!(normalize_capability("net_admin").unwrap(), "CAP_NET_ADMIN");
        assert_eq!(normalize_capability("CAP_CHOWN").unwrap(), "CAP_CHOWN");
        assert_eq!(normalize_capability("all").unwrap(), "ALL");
        assert!(matches!(normalize_capability("CAP_NOPE"), Err(RuntimeError::UnknownCapability(c)) if c == "CAP_NOPE"));
    }

    #[test]
    fn add_and_drop_follow_docker() {
        let caps = container_capabilities(false, &strings(&["net_admin"]), &strings(&["CAP_CHOWN", "kill"])).unwrap();
        assert!(caps.contains(&"CAP_NET_ADMIN".to_string()));
        assert!(!caps.contains(&"CAP_CHOWN".to_string()));
        assert!(!caps.contains(&"CAP_KILL".to_string()));
        assert_eq!(caps.len(), DEFAULT_CAPABILITIES.len() - 1);
        let none = container_capabilities(false, &[], &strings(&["ALL"])).unwrap();
        assert!(none.is_empty());
        let one = container_capabilities(false, &strings(&["CHOWN"]), &strings(&["all"])).unwrap();
        assert_eq!(one, vec!["CAP_CHOWN"]);
        let all = container_capabilities(false, &strings(&["ALL"]), &strings(&["CAP_SYS_ADMIN"])).unwrap();
        assert!(!all.contains(&"CAP_SYS_ADMIN".to_string()));
        assert!(all.len() > DEFAULT_CAPABILITIES.len());
        assert!(container_capabilities(false, &strings(&["CAP_BOGUS"]), &[]).is_err());
        // Adding a default capability twice lists it once.
        let dup = container_capabilities(false, &strings(&["CAP_CHOWN"]), &[]).unwrap();
        assert_eq!(dup.len(), DEFAULT_CAPABILITIES.len());
    }

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
