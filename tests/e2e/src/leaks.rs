//! What a test may leave behind, and the last-resort clean-up after a
//! failed one.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// `/sys/fs/cgroup/*/berth/<id>` directories that still exist.
pub fn leaked_cgroups(ids: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(rd) = std::fs::read_dir("/sys/fs/cgroup") else { return found };
    let roots: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    for id in ids {
        for r in roots.iter().chain(std::iter::once(&PathBuf::from("/sys/fs/cgroup"))) {
            let p = r.join("berth").join(id);
            if p.exists() {
                found.push(p.display().to_string());
            }
        }
    }
    found
}

/// Last-resort clean-up after a failed test: thaws each container's freezer
/// cgroup, SIGKILLs its processes (its shim then exits) and removes its
/// cgroup directories.
pub fn kill_containers(ids: &[String]) {
    for id in ids {
        let _ = std::fs::write(format!("/sys/fs/cgroup/freezer/berth/{id}/freezer.state"), "THAWED");
        let procs = std::fs::read_to_string(format!("/sys/fs/cgroup/pids/berth/{id}/cgroup.procs")).unwrap_or_default();
        for pid in procs.split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
            // SAFETY: kill(2) of a pid read from this test's own container cgroup.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
    if ids.is_empty() {
        return;
    }
    std::thread::sleep(Duration::from_millis(300));
    for c in leaked_cgroups(ids) {
        let _ = std::fs::remove_dir(c);
    }
}

/// Bridge names in `<data_root>/db/networks/*.json` (user networks; the
/// default bridge is the daemon's tag).
pub(crate) fn user_bridges_in(data_root: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(data_root.join("db/networks")) else { return vec![] };
    rd.flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter_map(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .filter(|v| v.get("default_bridge").and_then(serde_json::Value::as_bool) != Some(true))
        .filter_map(|v| v.get("bridge").and_then(serde_json::Value::as_str).map(String::from))
        .filter(|b| !b.is_empty() && !b.contains('/'))
        .collect()
}

/// Best effort after a failed test (berthd was SIGKILLed): this daemon's
/// netns files, iptables and ip6tables jumps and chains, and default bridge.
pub fn cleanup_network(tag: &str) {
    let prefix = format!("berth-{tag}-");
    if let Ok(rd) = std::fs::read_dir("/run/netns") {
        for e in rd.flatten().filter(|e| e.file_name().to_string_lossy().starts_with(&prefix)) {
            if let Ok(c) = std::ffi::CString::new(e.path().as_os_str().as_encoded_bytes()) {
                // SAFETY: umount2 with a valid NUL-terminated path.
                unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
            }
            let _ = std::fs::remove_file(e.path());
        }
    }
    for (cmd, table) in [("iptables", "nat"), ("iptables", "filter"), ("ip6tables", "nat"), ("ip6tables", "filter")] {
        let Ok(o) = Command::new(cmd).args(["-w", "-t", table, "-S"]).output() else { continue };
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        for l in text.lines().filter(|l| l.starts_with("-A ") && mentions_chain_of(l, tag)) {
            let parts: Vec<&str> = l[3..].split(' ').collect();
            if parts.first().is_some_and(|c| !c.starts_with("BERTH-")) {
                let _ = Command::new(cmd).args(["-w", "-t", table, "-D"]).args(&parts).output();
            }
        }
        for l in text.lines().filter(|l| l.starts_with("-N ") && mentions_chain_of(l, tag)) {
            let _ = Command::new(cmd).args(["-w", "-t", table, "-F", &l[3..]]).output();
        }
        for l in text.lines().filter(|l| l.starts_with("-N ") && mentions_chain_of(l, tag)) {
            let _ = Command::new(cmd).args(["-w", "-t", table, "-X", &l[3..]]).output();
        }
    }
    let _ = Command::new("ip").args(["link", "del", tag]).output();
}

/// Whether an iptables line names a chain of the daemon tagged `tag`
/// (`BERTH-TAG` or `BERTH-TAG-…`): not one of a daemon whose tag only
/// starts with it (`bt1x1` against `bt1x10`).
pub fn mentions_chain_of(line: &str, tag: &str) -> bool {
    let chain = format!("BERTH-{tag}");
    line.match_indices(&chain).any(|(i, _)| !line[i + chain.len()..].starts_with(|c: char| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::mentions_chain_of;

    #[test]
    fn a_chain_is_matched_by_its_whole_tag() {
        assert!(mentions_chain_of(":BERTH-bt1x1 - [0:0]", "bt1x1"));
        assert!(mentions_chain_of("-A FORWARD -j BERTH-bt1x1-FWD", "bt1x1"));
        assert!(mentions_chain_of("-A BERTH-bt1x1", "bt1x1"));
        assert!(!mentions_chain_of("-A FORWARD -j BERTH-bt1x10-FWD", "bt1x1"));
        assert!(!mentions_chain_of(":BERTH-bt1x10 - [0:0]", "bt1x1"));
    }
}
