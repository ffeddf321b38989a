//! Where libcontainer 0.7 reads a spec differently from runc, and the
//! rewrite that makes it run the spec the way runc would. Both were found
//! running Docker's default spec on a cgroup v1 (hybrid) host:
//!
//! 1. `"noNewPrivileges": false` is taken like `true` when ordering seccomp:
//!    the filter is loaded after the capabilities are dropped, and without
//!    CAP_SYS_ADMIN (and without no_new_privs) the load fails with EACCES.
//!    Absent means false to the spec and to libcontainer, so it is removed.
//! 2. The `cgroup` mount's `ro` is dropped on cgroup v1: every hierarchy is
//!    bind-mounted read-write, so root in the container could raise its own
//!    memory and pids limits. The mount point and each hierarchy under it
//!    are added to `readonlyPaths` (libcontainer's read-only remount is not
//!    recursive, hence one entry per hierarchy).

use serde_json::Value;

/// Applies the rewrites; `v1_hierarchies` are the names of the host's cgroup
/// v1 mounts under /sys/fs/cgroup ("cpu", "memory", "systemd"...). Returns
/// whether anything changed.
pub fn fix_spec(spec: &mut Value, v1_hierarchies: &[String]) -> bool {
    let mut changed = false;
    if let Some(process) = spec.get_mut("process").and_then(Value::as_object_mut) {
        if process.get("noNewPrivileges") == Some(&Value::Bool(false)) {
            process.remove("noNewPrivileges");
            changed = true;
        }
    }
    if v1_hierarchies.is_empty() {
        return changed;
    }
    let ro_cgroup_dests: Vec<String> = spec
        .get("mounts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|m| m.get("type").and_then(Value::as_str) == Some("cgroup"))
        .filter(|m| {
            m.get("options")
                .and_then(Value::as_array)
                .is_some_and(|o| o.iter().any(|o| o.as_str() == Some("ro")))
        })
        .filter_map(|m| m.get("destination").and_then(Value::as_str))
        .map(|d| d.trim_end_matches('/').to_string())
        .filter(|d| !d.is_empty())
        .collect();
    if ro_cgroup_dests.is_empty() {
        return changed;
    }
    let Some(linux) = spec.get_mut("linux").and_then(Value::as_object_mut) else {
        return changed;
    };
    let list = linux
        .entry("readonlyPaths")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Some(list) = list.as_array_mut() else {
        return changed;
    };
    for dest in &ro_cgroup_dests {
        let paths = std::iter::once(dest.clone())
            .chain(v1_hierarchies.iter().map(|h| format!("{dest}/{h}")));
        for p in paths {
            if !list.iter().any(|v| v.as_str() == Some(p.as_str())) {
                list.push(Value::String(p));
                changed = true;
            }
        }
    }
    changed
}

/// Names of the cgroup v1 hierarchies mounted under /sys/fs/cgroup, from
/// mountinfo text (what libcontainer bind-mounts into the container); the
/// reference `v1_hierarchies_in` is checked against.
#[cfg(test)]
pub fn v1_hierarchies(mountinfo: &str) -> Vec<String> {
    mountinfo
        .lines()
        .filter_map(|line| {
            // Fields: id parent maj:min root mountpoint opts [optional...] - fstype source superopts
            let (pre, post) = line.split_once(" - ")?;
            let fstype = post.split(' ').next()?;
            let mount_point = pre.split(' ').nth(4)?;
            let name = mount_point.strip_prefix("/sys/fs/cgroup/")?;
            (fstype == "cgroup" && !name.is_empty() && !name.contains('/'))
                .then(|| name.to_string())
        })
        .collect()
}

/// The cgroup v1 hierarchies mounted under `dir` (/sys/fs/cgroup), found
/// from its entries rather than from mountinfo: mountinfo grows by a mount
/// per running container, so reading it made every create slower as
/// containers were added. Symlinks ("cpu" -> "cpu,cpuacct") are skipped,
/// as mountinfo would not list them.
pub fn v1_hierarchies_in(dir: &std::path::Path) -> Vec<String> {
    const CGROUP_SUPER_MAGIC: libc::c_long = 0x27e0eb;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| fs_magic(&e.path()) == Some(CGROUP_SUPER_MAGIC))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// The filesystem type (statfs f_type) of `path`.
fn fs_magic(path: &std::path::Path) -> Option<libc::c_long> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: all-zero is a valid statfs; the kernel fills it in.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` a valid out-pointer,
    // both alive for the call.
    let rc = unsafe { libc::statfs(c.as_ptr(), &mut st) };
    (rc == 0).then_some(st.f_type as libc::c_long)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MOUNTINFO: &str = "\
25 30 0:23 / /sys rw,nosuid - sysfs sysfs rw
26 25 0:24 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755
27 26 0:25 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw
28 26 0:26 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,xattr,name=systemd
29 26 0:29 / /sys/fs/cgroup/cpu,cpuacct rw shared:12 - cgroup cgroup rw,cpu,cpuacct
30 26 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
31 26 0:31 / /mnt/other/cgroup rw - cgroup cgroup rw,pids
garbage line
";

    #[test]
    fn hierarchies_from_the_directory_match_mountinfo() {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut from_mountinfo = v1_hierarchies(&mountinfo);
        from_mountinfo.sort();
        assert_eq!(v1_hierarchies_in(std::path::Path::new("/sys/fs/cgroup")), from_mountinfo);
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(tmp.path().join("memory")).expect("mkdir");
        assert!(v1_hierarchies_in(tmp.path()).is_empty());
        assert!(v1_hierarchies_in(&tmp.path().join("missing")).is_empty());
    }

    #[test]
    fn finds_v1_hierarchies_only() {
        assert_eq!(
            v1_hierarchies(MOUNTINFO),
            ["systemd", "cpu,cpuacct", "memory"]
        );
        assert!(v1_hierarchies("").is_empty());
        assert!(v1_hierarchies("x - y\n - \n1 2 3 4 /sys/fs/cgroup/ r - cgroup").is_empty());
    }

    fn docker_like() -> Value {
        json!({
            "process": {"args": ["true"], "noNewPrivileges": false},
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                 "options": ["ro", "nosuid", "noexec", "nodev"]}
            ],
            "linux": {"readonlyPaths": ["/proc/sys"]}
        })
    }

    #[test]
    fn rewrites_docker_spec_on_v1() {
        let mut s = docker_like();
        let h = vec!["memory".to_string(), "pids".to_string()];
        assert!(fix_spec(&mut s, &h));
        assert!(s["process"].get("noNewPrivileges").is_none());
        assert_eq!(
            s["linux"]["readonlyPaths"],
            json!([
                "/proc/sys",
                "/sys/fs/cgroup",
                "/sys/fs/cgroup/memory",
                "/sys/fs/cgroup/pids"
            ])
        );
        // Idempotent.
        assert!(!fix_spec(&mut s, &h));
    }

    #[test]
    fn leaves_other_specs_alone() {
        // v2 host: libcontainer honours ro there.
        let mut s = docker_like();
        s["process"]["noNewPrivileges"] = json!(true);
        assert!(!fix_spec(&mut s, &[]));
        // rw cgroup mount (privileged): nothing to add.
        let mut s = docker_like();
        s["mounts"][1]["options"] = json!(["rw"]);
        s["process"]["noNewPrivileges"] = json!(true);
        assert!(!fix_spec(&mut s, &["memory".to_string()]));
        assert_eq!(s["linux"]["readonlyPaths"], json!(["/proc/sys"]));
    }

    #[test]
    fn hostile_shapes_do_not_panic() {
        let h = vec!["memory".to_string()];
        for mut s in [
            json!(null),
            json!([]),
            json!({"process": 5, "mounts": "x", "linux": []}),
            json!({"mounts": [{"type": "cgroup", "options": ["ro"], "destination": 7}]}),
            json!({"mounts": [{"type": "cgroup", "options": ["ro"], "destination": "/"}], "linux": {}}),
            json!({"mounts": [{"type": "cgroup", "options": ["ro"], "destination": "/c"}], "linux": {"readonlyPaths": 3}}),
        ] {
            fix_spec(&mut s, &h);
        }
        let mut s = json!({"mounts": [{"type": "cgroup", "options": ["ro"], "destination": "/c"}], "linux": {}});
        assert!(fix_spec(&mut s, &h));
        assert_eq!(s["linux"]["readonlyPaths"], json!(["/c", "/c/memory"]));
    }
}
