//! The namespaces a container gets besides its mount and network ones:
//! `--pid`, `--ipc`, `--uts` and `--cgroupns` modes.

use serde_json::{json, Value};
use std::path::PathBuf;

/// Whether a namespace is the container's own, the host's, or another container's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NsMode {
    /// A new namespace for this container.
    #[default]
    Private,
    /// The host's namespace (no entry in the spec).
    Host,
    /// Join the namespace at this path (`/proc/<pid>/ns/<kind>` of another container).
    Join(PathBuf),
}

/// The non-network namespace modes of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespaces {
    pub pid: NsMode,
    pub ipc: NsMode,
    pub uts: NsMode,
    /// Cgroup namespace: private or host only (Docker has no container:X mode for it).
    pub cgroup: NsMode,
}

impl Default for Namespaces {
    /// Docker's defaults on a cgroup v1 or hybrid host: pid, ipc and uts
    /// private, the host's cgroup namespace.
    fn default() -> Self {
        Namespaces { pid: NsMode::Private, ipc: NsMode::Private, uts: NsMode::Private, cgroup: NsMode::Host }
    }
}

impl Namespaces {
    /// The OCI `linux.namespaces` entries for these modes, after `mount` and
    /// the network entry (if any), in runc's order.
    pub fn spec_entries(&self, network: Option<Value>) -> Vec<Value> {
        let mut out = vec![json!({"type": "mount"})];
        out.extend(network);
        for (kind, mode) in [("uts", &self.uts), ("pid", &self.pid), ("ipc", &self.ipc), ("cgroup", &self.cgroup)] {
            match mode {
                NsMode::Private => out.push(json!({"type": kind})),
                NsMode::Host => {}
                NsMode::Join(path) => out.push(json!({"type": kind, "path": path.to_string_lossy()})),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_follow_modes() {
        let types = |ns: &Namespaces| -> Vec<String> {
            ns.spec_entries(Some(json!({"type": "network"})))
                .iter()
                .map(|e| match e.get("path") {
                    Some(p) => format!("{}={}", e["type"].as_str().unwrap(), p.as_str().unwrap()),
                    None => e["type"].as_str().unwrap().to_string(),
                })
                .collect()
        };
        assert_eq!(types(&Namespaces::default()), ["mount", "network", "uts", "pid", "ipc"]);
        let ns = Namespaces {
            pid: NsMode::Host,
            ipc: NsMode::Join("/proc/7/ns/ipc".into()),
            uts: NsMode::Host,
            cgroup: NsMode::Private,
        };
        assert_eq!(types(&ns), ["mount", "network", "ipc=/proc/7/ns/ipc", "cgroup"]);
    }
}
