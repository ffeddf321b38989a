//! `--sysctl`: only kernel parameters that live in a namespace the
//! container owns may be set (what runc checks, checked at create).

use crate::namespaces::{Namespaces, NsMode};
use crate::RuntimeError;
use std::collections::BTreeMap;

/// IPC-namespaced parameters outside `fs.mqueue.`.
const IPC_SYSCTLS: [&str; 8] = [
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// Checks every sysctl against the container's namespaces; `own_network`
/// is false for `--network host` (and for joining another's namespace
/// is still true: that one is a container's, not the host's).
pub fn validate_sysctls(sysctls: &BTreeMap<String, String>, ns: &Namespaces, own_network: bool) -> Result<(), RuntimeError> {
    for key in sysctls.keys() {
        let private = |mode: &NsMode| *mode != NsMode::Host;
        let in_ns = if IPC_SYSCTLS.contains(&key.as_str()) || key.starts_with("fs.mqueue.") {
            Some(private(&ns.ipc))
        } else if key.starts_with("net.") {
            if !own_network {
                return Err(RuntimeError::Sysctl(format!("sysctl {key:?} not allowed in host network namespace")));
            }
            Some(true)
        } else if key == "kernel.domainname" || key == "kernel.hostname" {
            Some(private(&ns.uts))
        } else {
            None
        };
        if in_ns != Some(true) {
            return Err(RuntimeError::Sysctl(format!("sysctl {key:?} is not in a separate kernel namespace")));
        }
        if key.contains("..") || key.contains('/') {
            return Err(RuntimeError::Sysctl(format!("invalid sysctl name {key:?}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(key: &str, ns: &Namespaces, net: bool) -> Result<(), RuntimeError> {
        validate_sysctls(&[(key.to_string(), "1".to_string())].into(), ns, net)
    }

    #[test]
    fn namespaced_only() {
        let ns = Namespaces::default();
        assert!(check("net.ipv4.ip_forward", &ns, true).is_ok());
        assert!(check("kernel.shmmax", &ns, true).is_ok());
        assert!(check("fs.mqueue.msg_max", &ns, true).is_ok());
        assert_eq!(
            check("vm.swappiness", &ns, true).unwrap_err().to_string(),
            r#"sysctl "vm.swappiness" is not in a separate kernel namespace"#
        );
        assert_eq!(
            check("net.core.somaxconn", &ns, false).unwrap_err().to_string(),
            r#"sysctl "net.core.somaxconn" not allowed in host network namespace"#
        );
        let host_ipc = Namespaces { ipc: NsMode::Host, ..Namespaces::default() };
        assert!(check("kernel.msgmax", &host_ipc, true).is_err());
        assert!(check("net.ipv4.../../x", &ns, true).is_err());
    }
}
