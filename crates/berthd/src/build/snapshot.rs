//! A build step's working rootfs: an overlay of the parent image's layer
//! directories with a fresh upper directory, the same mount a container's
//! rootfs is. Dropping it unmounts and removes it; `commit` reads its
//! upper directory as the step's layer.

use crate::container::rootfs::Mounter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct OverlaySnapshot {
    dir: PathBuf,
    rootfs: PathBuf,
    mounter: Arc<dyn Mounter>,
    mounted: bool,
}

impl OverlaySnapshot {
    /// Mounts `lowers` (top-most first; empty for scratch) under a new
    /// directory in `work_root`.
    pub fn mount(work_root: &Path, lowers: &[PathBuf], mounter: Arc<dyn Mounter>) -> std::io::Result<OverlaySnapshot> {
        let dir = work_root.join(berth_store::unique_name("snap"));
        let (upper, work, rootfs) = (dir.join("upper"), dir.join("work"), dir.join("rootfs"));
        for d in [&upper, &work, &rootfs] {
            std::fs::create_dir_all(d)?;
        }
        let mut snap = OverlaySnapshot { dir, rootfs, mounter, mounted: false };
        let lowers = if lowers.is_empty() {
            // overlay needs a lower directory; scratch has none.
            let empty = snap.dir.join("empty");
            std::fs::create_dir_all(&empty)?;
            vec![empty]
        } else {
            lowers.to_vec()
        };
        snap.mounter.mount_overlay(&lowers, &upper, &work, &snap.rootfs)?;
        snap.mounted = true;
        Ok(snap)
    }

    /// Unmounts, so the upper directory is settled before it is read.
    pub fn unmount(&mut self) -> std::io::Result<()> {
        if self.mounted {
            self.mounter.unmount(&self.rootfs)?;
            self.mounted = false;
        }
        Ok(())
    }
}

impl berth_build::Snapshot for OverlaySnapshot {
    fn rootfs(&self) -> &Path {
        &self.rootfs
    }
}

impl Drop for OverlaySnapshot {
    fn drop(&mut self) {
        let _ = self.unmount();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Start-up repair: unmounts and removes what builds a crash interrupted
/// left (snapshots, contexts, mounts of RUN steps).
pub fn clear_work(root: &Path) {
    let Ok(rd) = std::fs::read_dir(root) else {
        let _ = std::fs::create_dir_all(root);
        return;
    };
    for e in rd.flatten() {
        unmount_below(&e.path());
        let _ = std::fs::remove_dir_all(e.path());
    }
}

/// Unmounts every mount at or below `dir` (deepest first).
pub fn unmount_below(dir: &Path) {
    let Ok(mounts) = std::fs::read_to_string("/proc/self/mountinfo") else { return };
    let mut targets: Vec<PathBuf> = mounts
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(p.replace("\\040", " ")))
        .filter(|p| p.starts_with(dir))
        .collect();
    targets.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    for t in targets {
        let _ = crate::container::rootfs::SysMounter.unmount(&t);
    }
}
