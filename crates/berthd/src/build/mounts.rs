//! `RUN --mount`: the runtime mounts a step gets. Cache directories live
//! under `<data-root>/build/mounts` by id and outlast builds (`shared`: as
//! is; `locked`: one step at a time; `private`: a step that finds it in
//! use gets a fresh one for itself); a writable
//! bind gets a throw-away overlay so the source is never changed; secrets
//! are copied with their mode and owner into the build's work directory.

use super::BuildManager;
use berth_build::{CacheSharing, RunMount};
use berth_runtime::{Mount, MountKind};
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The mounts of one step and what to undo after it.
pub struct PreparedMounts {
    pub mounts: Vec<Mount>,
    overlays: Vec<PathBuf>,
    scratch: Vec<PathBuf>,
    /// `sharing=locked` caches, held for the step.
    _locks: Vec<File>,
}

impl Drop for PreparedMounts {
    fn drop(&mut self) {
        use crate::container::rootfs::Mounter;
        for o in &self.overlays {
            let _ = crate::container::rootfs::SysMounter.unmount(o);
        }
        for s in &self.scratch {
            let _ = std::fs::remove_dir_all(s);
        }
    }
}

fn bind(source: PathBuf, target: &str, readonly: bool) -> Mount {
    Mount {
        destination: target.to_string(),
        readonly,
        kind: MountKind::Bind { source, propagation: String::new(), recursive: true },
    }
}

fn chown(p: &Path, uid: u32, gid: u32) -> Result<(), String> {
    std::os::unix::fs::chown(p, Some(uid), Some(gid)).map_err(|e| format!("chown {}: {e}", p.display()))
}

pub fn prepare(m: &BuildManager, work: &Path, wanted: &[RunMount]) -> Result<PreparedMounts, String> {
    let mut out = PreparedMounts { mounts: Vec::new(), overlays: Vec::new(), scratch: Vec::new(), _locks: Vec::new() };
    for w in wanted {
        match w {
            RunMount::Cache { id, target, read_only, sharing, mode, uid, gid } => {
                let dir = m.mounts_dir().join(berth_store::Digest::of_bytes(id.as_bytes()).hex());
                if !dir.exists() {
                    std::fs::create_dir_all(&dir).map_err(|e| format!("creating the cache mount {id}: {e}"))?;
                    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(*mode)).map_err(|e| e.to_string())?;
                    chown(&dir, *uid, *gid)?;
                }
                let dir = match sharing {
                    CacheSharing::Shared => dir,
                    CacheSharing::Locked => {
                        out._locks.push(lock(&dir, true)?.ok_or("locking the cache mount")?);
                        dir
                    }
                    // In use by another step: this one gets a fresh, throw-away directory, as BuildKit does.
                    CacheSharing::Private => match lock(&dir, false)? {
                        Some(l) => {
                            out._locks.push(l);
                            dir
                        }
                        None => {
                            let fresh = work.join(berth_store::unique_name("cache-private"));
                            std::fs::create_dir_all(&fresh).map_err(|e| e.to_string())?;
                            std::fs::set_permissions(&fresh, std::fs::Permissions::from_mode(*mode)).map_err(|e| e.to_string())?;
                            chown(&fresh, *uid, *gid)?;
                            out.scratch.push(fresh.clone());
                            fresh
                        }
                    },
                };
                out.mounts.push(bind(dir, target, *read_only));
            }
            RunMount::Bind { source, target, read_write } => {
                if !*read_write {
                    out.mounts.push(bind(source.clone(), target, true));
                    continue;
                }
                let scratch = work.join(berth_store::unique_name("rwbind"));
                std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
                out.scratch.push(scratch.clone());
                if source.is_dir() {
                    // Writes land in a throw-away upper directory.
                    let (upper, wd, merged) = (scratch.join("upper"), scratch.join("work"), scratch.join("merged"));
                    for d in [&upper, &wd, &merged] {
                        std::fs::create_dir_all(d).map_err(|e| e.to_string())?;
                    }
                    use crate::container::rootfs::Mounter;
                    crate::container::rootfs::SysMounter
                        .mount_overlay(std::slice::from_ref(source), &upper, &wd, &merged)
                        .map_err(|e| format!("mounting {}: {e}", source.display()))?;
                    out.overlays.push(merged.clone());
                    out.mounts.push(bind(merged, target, false));
                } else {
                    let copy = scratch.join("file");
                    std::fs::copy(source, &copy).map_err(|e| format!("copying {}: {e}", source.display()))?;
                    out.mounts.push(bind(copy, target, false));
                }
            }
            RunMount::Tmpfs { target, size } => {
                let mut options = vec!["nosuid".to_string(), "nodev".to_string()];
                if let Some(s) = size.filter(|s| *s > 0) {
                    options.push(format!("size={s}"));
                }
                out.mounts.push(Mount { destination: target.clone(), readonly: false, kind: MountKind::Tmpfs { options } });
            }
            RunMount::Secret { source, target, mode, uid, gid } => {
                let scratch = work.join(berth_store::unique_name("secret"));
                std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
                out.scratch.push(scratch.clone());
                let copy = scratch.join("secret");
                std::fs::copy(source, &copy).map_err(|e| format!("reading the secret: {e}"))?;
                std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(*mode)).map_err(|e| e.to_string())?;
                chown(&copy, *uid, *gid)?;
                out.mounts.push(bind(copy, target, true));
            }
        }
    }
    Ok(out)
}

/// An exclusive lock on a cache directory (flock on a file beside it);
/// without `wait`, `None` when another step holds it.
fn lock(dir: &Path, wait: bool) -> Result<Option<File>, String> {
    use std::os::fd::AsRawFd;
    let f = File::create(dir.with_extension("lock")).map_err(|e| e.to_string())?;
    let op = if wait { libc::LOCK_EX } else { libc::LOCK_EX | libc::LOCK_NB };
    // SAFETY: flock on a descriptor this function owns.
    let rc = unsafe { libc::flock(f.as_raw_fd(), op) };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        if !wait && e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Ok(None);
        }
        return Err(format!("locking the cache mount: {e}"));
    }
    Ok(Some(f))
}
