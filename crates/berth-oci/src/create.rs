//! `create`: sets the container up and leaves its init blocked until `start`.
//! The init inherits our stdin, stdout and stderr (runc's detached
//! pass-through), so whoever ran us owns the container's stdio.

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use libcontainer::container::builder::ContainerBuilder;
use libcontainer::syscall::syscall::SyscallType;

use crate::cgroup;
use crate::cli::validate_id;
use crate::cwd;
use crate::error::{Error, Result};
use crate::executor::RuncExecutor;
use crate::seccomp_cache;

/// `console`: the socket that receives the pty master (runc's
/// `--console-socket`) for a spec with `process.terminal`.
pub fn create(
    root: &Path,
    bundle: &Path,
    console: Option<&Path>,
    pid_file: Option<&Path>,
    id: &str,
) -> Result<()> {
    validate_id(id)?;
    ensure_root(root)?;
    let bundle = std::fs::canonicalize(bundle).map_err(Error::io("bundle", bundle))?;
    let state_dir = root.join(id);
    let existed = state_dir.exists();
    // libcontainer reads `<bundle>/config.json` itself; this read is for
    // the cwd and the seccomp cache.
    let spec = read_spec(&bundle);
    if let Some(spec) = &spec {
        make_cwd(&bundle, spec);
        if let Some(profile) = seccomp_cache::profile_of(spec) {
            seccomp_cache::prepare(root, &profile);
        }
    }
    let oom_off = spec.as_ref().and_then(cgroup::oom_killer_off);
    let built = ContainerBuilder::new(id.to_string(), SyscallType::default())
        .with_executor(RuncExecutor)
        .with_root_path(root)
        .and_then(|b| b.with_pid_file(pid_file))
        .map_err(Error::container("create"))?
        .with_console_socket(console)
        .as_init(&bundle)
        // Cgroups are written directly (cgroupfs), as runc does without --systemd-cgroup.
        .with_systemd(false)
        .with_detach(true)
        .build();
    match built {
        Ok(mut container) => {
            if let Some(memory) = oom_off {
                if let Err(e) = cgroup::disable_oom_killer(&container, memory) {
                    let _ = container.delete(true);
                    return Err(e);
                }
            }
            Ok(())
        }
        Err(e) => {
            // libcontainer cleans up failures past the state directory's
            // creation, but not the directory itself when spec checks fail
            // after it; a retry under the same id must not find it.
            if !existed {
                let _ = std::fs::remove_dir_all(&state_dir);
            }
            Err(Error::container("create")(e))
        }
    }
}

/// The bundle's spec as JSON; None when it cannot be read or parsed
/// (libcontainer then reports that in its own words).
pub(crate) fn read_spec(bundle: &Path) -> Option<serde_json::Value> {
    let bytes = std::fs::read(bundle.join("config.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// runc creates a missing cwd; see cwd.rs. A failure here is not reported:
/// libcontainer's chdir then says what is wrong.
fn make_cwd(bundle: &Path, spec: &serde_json::Value) {
    let cwd = spec.pointer("/process/cwd").and_then(|c| c.as_str());
    let rootfs = spec.pointer("/root/path").and_then(|p| p.as_str());
    if let (Some(cwd), Some(rootfs)) = (cwd, rootfs) {
        let _ = cwd::ensure_cwd(&bundle.join(rootfs), cwd);
    }
}

/// The state root, created 0700 as runc does.
fn ensure_root(root: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(root)
        .map_err(Error::io("create state root", root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_ids_are_refused_before_touching_the_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        for id in ["../escape", "a/b", "..", ""] {
            let e = create(&root, dir.path(), None, None, id).expect_err(id);
            assert!(matches!(e, Error::InvalidId { .. }), "{id}: {e}");
        }
        assert!(!root.exists());
        assert!(!dir.path().join("escape").exists());
    }

    #[test]
    fn missing_bundle_fails_and_leaves_no_state() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        let e = create(&root, &dir.path().join("nobundle"), None, None, "c1").expect_err("no bundle");
        assert!(e.to_string().starts_with("bundle "), "{e}");
        assert!(!root.join("c1").exists());
    }

    #[test]
    fn garbage_config_fails_cleanly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        std::fs::write(dir.path().join("config.json"), b"{not json").expect("write");
        assert!(create(&root, dir.path(), None, None, "c2").is_err());
        assert!(!root.join("c2").exists());
        // Only the (empty) root is left.
        assert_eq!(std::fs::read_dir(&root).map(|d| d.count()).unwrap_or(0), 0);
    }
}
