//! `create`: sets the container up and leaves its init blocked until `start`.
//! The init inherits our stdin, stdout and stderr (runc's detached
//! pass-through), so whoever ran us owns the container's stdio.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use libcontainer::container::builder::ContainerBuilder;
use libcontainer::syscall::syscall::SyscallType;

use crate::cgroup;
use crate::cli::validate_id;
use crate::cwd;
use crate::error::{Error, Result};
use crate::executor::RuncExecutor;
use crate::quirks;
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
    // libcontainer reads `<bundle>/config.json` itself; a rewritten spec
    // (quirks.rs) goes into a bundle of our own for the length of the create.
    let spec = read_spec(&bundle);
    if let Some(spec) = &spec {
        make_cwd(&bundle, spec);
        if let Some(profile) = seccomp_cache::profile_of(spec) {
            seccomp_cache::prepare(root, &profile);
        }
    }
    let oom_off = spec.as_ref().and_then(cgroup::oom_killer_off);
    let patched = match spec {
        Some(spec) => patch_bundle(root, &bundle, id, spec)?,
        None => None,
    };
    let built = ContainerBuilder::new(id.to_string(), SyscallType::default())
        .with_executor(RuncExecutor)
        .with_root_path(root)
        .and_then(|b| b.with_pid_file(pid_file))
        .map_err(Error::container("create"))?
        .with_console_socket(console)
        .as_init(
            patched
                .as_ref()
                .map_or(bundle.as_path(), |p| p.dir.as_path()),
        )
        // Cgroups are written directly (cgroupfs), as runc does without --systemd-cgroup.
        .with_systemd(false)
        .with_detach(true)
        .build();
    drop(patched);
    match built {
        Ok(mut container) => {
            // `state` and hooks name the caller's bundle, as with runc.
            if container.state.bundle != bundle {
                container.state.bundle = bundle;
                container.save().map_err(Error::container("create"))?;
            }
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

/// A private bundle holding the rewritten config.json; removed on drop.
struct PatchedBundle {
    dir: PathBuf,
}

impl Drop for PatchedBundle {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The bundle's spec as JSON; None when it cannot be read or parsed
/// (libcontainer then reports that in its own words).
fn read_spec(bundle: &Path) -> Option<serde_json::Value> {
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

/// Rewrites the spec where libcontainer needs it (see quirks.rs); None when
/// the spec needs nothing.
fn patch_bundle(
    root: &Path,
    bundle: &Path,
    id: &str,
    mut spec: serde_json::Value,
) -> Result<Option<PatchedBundle>> {
    let hierarchies = quirks::v1_hierarchies_in(Path::new("/sys/fs/cgroup"));
    if !quirks::fix_spec(&mut spec, &hierarchies) {
        return Ok(None);
    }
    // The rootfs stays where the caller's bundle says.
    if let Some(path) = spec.pointer("/root/path").and_then(|p| p.as_str()) {
        let abs = bundle.join(path).to_string_lossy().into_owned();
        spec["root"]["path"] = serde_json::Value::String(abs);
    }
    // ':' cannot appear in an id, so this never meets a container's directory.
    let dir = root.join(format!(":bundle-{id}-{}", std::process::id()));
    let patched = PatchedBundle { dir };
    std::fs::create_dir(&patched.dir).map_err(Error::io("create", &patched.dir))?;
    let text = serde_json::to_vec(&spec).map_err(|e| Error::Usage(format!("encode spec: {e}")))?;
    let file = patched.dir.join("config.json");
    std::fs::write(&file, text).map_err(Error::io("write", &file))?;
    Ok(Some(patched))
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
        // Only the (empty) root is left: no private bundle either.
        assert_eq!(std::fs::read_dir(&root).map(|d| d.count()).unwrap_or(0), 0);
    }

    #[test]
    fn patched_bundle_points_at_the_callers_rootfs_and_goes_away() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec =
            serde_json::json!({"root": {"path": "rootfs"}, "process": {"noNewPrivileges": false}});
        let p = patch_bundle(dir.path(), dir.path(), "c3", spec)
            .expect("patch")
            .expect("needed");
        let text = std::fs::read_to_string(p.dir.join("config.json")).expect("read");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(
            v["root"]["path"],
            dir.path().join("rootfs").to_string_lossy().as_ref()
        );
        let d = p.dir.clone();
        drop(p);
        assert!(!d.exists());
        // A spec that needs nothing is used as it is.
        let plain = serde_json::json!({"root": {"path": "r"}});
        assert!(patch_bundle(dir.path(), dir.path(), "c4", plain)
            .expect("patch")
            .is_none());
    }
}
