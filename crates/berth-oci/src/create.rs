//! `create`: sets the container up and leaves its init blocked until `start`.
//! The init inherits our stdin, stdout and stderr (runc's detached
//! pass-through), so whoever ran us owns the container's stdio.

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use libcontainer::container::builder::ContainerBuilder;
use libcontainer::syscall::syscall::SyscallType;

use crate::cli::validate_id;
use crate::error::{Error, Result};
use crate::executor::RuncExecutor;

pub fn create(root: &Path, bundle: &Path, pid_file: Option<&Path>, id: &str) -> Result<()> {
    validate_id(id)?;
    ensure_root(root)?;
    let state_dir = root.join(id);
    let existed = state_dir.exists();
    let built = ContainerBuilder::new(id.to_string(), SyscallType::default())
        .with_executor(RuncExecutor)
        .with_root_path(root)
        .and_then(|b| b.with_pid_file(pid_file))
        .map_err(Error::container("create"))?
        .as_init(bundle)
        // Cgroups are written directly (cgroupfs), as runc does without --systemd-cgroup.
        .with_systemd(false)
        .with_detach(true)
        .build();
    match built {
        Ok(_) => Ok(()),
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
            let e = create(&root, dir.path(), None, id).expect_err(id);
            assert!(matches!(e, Error::InvalidId { .. }), "{id}: {e}");
        }
        assert!(!root.exists());
        assert!(!dir.path().join("escape").exists());
    }

    #[test]
    fn missing_bundle_fails_and_leaves_no_state() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        let e = create(&root, &dir.path().join("nobundle"), None, "c1").expect_err("no bundle");
        assert!(e.to_string().starts_with("create: "), "{e}");
        assert!(!root.join("c1").exists());
    }

    #[test]
    fn garbage_config_fails_cleanly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        std::fs::write(dir.path().join("config.json"), b"{not json").expect("write");
        assert!(create(&root, dir.path(), None, "c2").is_err());
        assert!(!root.join("c2").exists());
    }
}
