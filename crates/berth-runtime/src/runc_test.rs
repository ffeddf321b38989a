//! Root-only: run a busybox container under the real runc with our spec.

use super::*;
use std::os::unix::fs::symlink;
use std::process::Command;

const RUNC: &str = "/usr/sbin/runc";
const BUSYBOX: &str = "/bin/busybox";

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Cgroup directories named `name` under any v1 controller or the v2 mount.
fn leftover_cgroups(name: &str) -> Vec<PathBuf> {
    let Ok(controllers) = std::fs::read_dir("/sys/fs/cgroup") else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = controllers
        .filter_map(Result::ok)
        .map(|c| c.path().join(name))
        .collect();
    dirs.push(PathBuf::from("/sys/fs/cgroup").join(name));
    dirs.into_iter().filter(|d| d.is_dir()).collect()
}

fn make_rootfs(root: &Path) {
    for d in ["bin", "etc", "proc", "sys", "dev", "tmp"] {
        std::fs::create_dir_all(root.join(d)).expect("mkdir rootfs dir");
    }
    std::fs::copy(BUSYBOX, root.join("bin/busybox")).expect("copy busybox");
    for applet in ["sh", "cat", "grep", "id"] {
        symlink("busybox", root.join("bin").join(applet)).expect("symlink applet");
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").expect("passwd");
    std::fs::write(root.join("etc/group"), "root:x:0:\nwheel:x:10:root\n").expect("group");
    for f in ["hostname", "hosts", "resolv.conf"] {
        std::fs::write(root.join("etc").join(f), "").expect("etc file");
    }
}

#[test]
fn busybox_runs_under_runc_with_dockers_caps() {
    // CI runs as root with scripts/install-deps.sh done: a missing piece is a failure, not a skip.
    if !is_root() || !Path::new(RUNC).exists() || !Path::new(BUSYBOX).exists() {
        panic!("this test needs root, {RUNC} and {BUSYBOX} (run scripts/install-deps.sh as root)");
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundle = tmp.path().join("bundle");
    let rootfs = bundle.join("rootfs");
    make_rootfs(&rootfs);
    let host_etc = tmp.path().join("etc");
    std::fs::create_dir_all(&host_etc).expect("mkdir host etc");
    std::fs::write(host_etc.join("hostname"), "berthtest\n").expect("hostname");
    std::fs::write(host_etc.join("hosts"), "127.0.0.1 localhost\n").expect("hosts");
    std::fs::write(host_etc.join("resolv.conf"), "nameserver 127.0.0.1\n").expect("resolv");

    let id = format!("berth-rt-test-{}", std::process::id());
    let cgroup_name = format!("{id}-cg");
    let user = crate::resolve_user(&rootfs, "").expect("resolve root");
    let input = SpecInput {
        args: vec![
            "sh".into(),
            "-c".into(),
            "cat /proc/self/status | grep -e CapEff -e 'Seccomp:'; id; cat /etc/hostname".into(),
        ],
        env: vec!["PATH=/bin".into()],
        user,
        hostname: "berthtest".into(),
        rootfs: rootfs.clone(),
        cgroups_path: format!("/{cgroup_name}"),
        etc_files: ["hostname", "hosts", "resolv.conf"]
            .iter()
            .map(|f| (host_etc.join(f), format!("/etc/{f}")))
            .collect(),
        ..SpecInput::default()
    };
    write_bundle(&bundle, &build_spec(&input)).expect("write bundle");
    let state = tmp.path().join("state");

    let out = Command::new(RUNC)
        .arg("--root")
        .arg(&state)
        .args(["run", "--bundle"])
        .arg(&bundle)
        .arg(&id)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("spawn runc");
    // Clean up before asserting so a failure leaves nothing behind.
    let _ = Command::new(RUNC)
        .arg("--root")
        .arg(&state)
        .args(["delete", "--force", &id])
        .output();
    for dir in leftover_cgroups(&cgroup_name) {
        let _ = std::fs::remove_dir(&dir);
    }

    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "runc failed: {:?}\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    assert!(
        stdout.contains("CapEff:\t00000000a80425fb"),
        "stdout: {stdout}"
    );
    assert!(
        stdout.contains("Seccomp:\t2"),
        "seccomp filter not applied: {stdout}"
    );
    assert!(
        stdout.contains("uid=0(root) gid=0(root) groups=0(root),10(wheel)"),
        "stdout: {stdout}"
    );
    assert!(stdout.contains("berthtest"), "stdout: {stdout}");
    let left = std::fs::read_dir(&state).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "runc state left behind in {}", state.display());
    assert!(
        leftover_cgroups(&cgroup_name).is_empty(),
        "cgroup left behind"
    );
}
