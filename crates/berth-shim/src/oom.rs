//! Whether the kernel's OOM killer struck in the container's cgroup: the
//! `oom_kill` counter of cgroup v1 (`memory.oom_control`) or v2
//! (`memory.events`). Read before the runtime deletes the cgroup.

use std::path::Path;

/// `cgroup` is the container's cgroup path, e.g. `/berth/<id>`.
pub fn was_oom_killed(cgroup: &str) -> bool {
    let rel = cgroup.trim_start_matches('/');
    let candidates = [
        Path::new("/sys/fs/cgroup/memory").join(rel).join("memory.oom_control"),
        Path::new("/sys/fs/cgroup").join(rel).join("memory.events"),
        Path::new("/sys/fs/cgroup/unified").join(rel).join("memory.events"),
    ];
    candidates
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .any(|text| oom_kills(&text) > 0)
}

/// The `oom_kill N` line of either file format.
fn oom_kills(text: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_formats() {
        assert_eq!(oom_kills("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"), 2);
        assert_eq!(oom_kills("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n"), 1);
        assert_eq!(oom_kills("oom_kill_disable 0\n"), 0);
        assert!(!was_oom_killed("/berth-no-such-cgroup"));
    }
}
