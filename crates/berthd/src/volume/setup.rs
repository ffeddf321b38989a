//! Start-time work for a container's mounts, in its mounted rootfs:
//! driver mounts, copy-up, bind sources, and targets resolved inside the
//! rootfs. The result goes into the OCI spec.

use super::copyup;
use super::manager::VolumeManager;
use super::spec::{tmpfs_flag_mounts, MountRecord, MountType};
use berth_runtime::{Mount, MountKind, TargetKind};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Prepares every mount; on failure, releases what it activated.
pub fn prepare(
    vm: &VolumeManager,
    container: &str,
    mounts: &[MountRecord],
    tmpfs: Option<&BTreeMap<String, String>>,
    rootfs: &Path,
) -> Result<Vec<Mount>, String> {
    let mut all: Vec<MountRecord> = mounts.to_vec();
    all.extend(tmpfs_flag_mounts(tmpfs));
    // Parents before children, so a nested mount lands inside its parent mount.
    all.sort_by_key(|m| m.destination.split('/').filter(|c| !c.is_empty()).count());
    let res: Result<Vec<Mount>, String> = all.iter().map(|m| prepare_one(vm, container, m, rootfs)).collect();
    if res.is_err() {
        vm.deactivate(container);
    }
    res
}

fn prepare_one(vm: &VolumeManager, container: &str, m: &MountRecord, rootfs: &Path) -> Result<Mount, String> {
    let target = |kind| berth_runtime::prepare_mount_target(rootfs, &m.destination, kind).map_err(|e| e.to_string());
    match m.kind {
        MountType::Volume => {
            let data = vm.activate(&m.name, container)?;
            if m.copy_data && copyup::is_empty_dir(&data) {
                let image_dir = berth_runtime::resolve_in_rootfs(rootfs, &m.destination).map_err(|e| e.to_string())?;
                if let Some(src) = image_dir {
                    copyup::copy_up(&src, &data).map_err(|e| format!("copying image content of {} into volume {}: {e}", m.destination, m.name))?;
                }
            }
            Ok(Mount {
                destination: target(TargetKind::Dir)?,
                readonly: !m.rw,
                kind: MountKind::Bind { source: data, propagation: m.propagation.clone(), recursive: true },
            })
        }
        MountType::Bind => {
            let source = PathBuf::from(&m.source);
            let meta = match std::fs::metadata(&source) {
                Ok(meta) => meta,
                Err(_) if m.create_source => {
                    std::fs::create_dir_all(&source).map_err(|e| format!("error while creating mount source path '{}': {e}", m.source))?;
                    std::fs::metadata(&source).map_err(|e| e.to_string())?
                }
                Err(_) => return Err(format!("invalid mount config for type \"bind\": bind source path does not exist: {}", m.source)),
            };
            let kind = if meta.is_dir() { TargetKind::Dir } else { TargetKind::File };
            Ok(Mount {
                destination: target(kind)?,
                readonly: !m.rw,
                kind: MountKind::Bind { source, propagation: m.propagation.clone(), recursive: true },
            })
        }
        MountType::Tmpfs => {
            let mut options: Vec<String> = ["noexec", "nosuid", "nodev"].iter().map(|s| s.to_string()).collect();
            options.extend(m.tmpfs_options.iter().cloned());
            // tmpfs's own default is 1777; a `mode=` option wins.
            let mode = options
                .iter()
                .rev()
                .find_map(|o| o.strip_prefix("mode=").and_then(|m| u32::from_str_radix(m, 8).ok()))
                .unwrap_or(0o1777);
            Ok(Mount { destination: target(TargetKind::DirWithMode(mode))?, readonly: !m.rw, kind: MountKind::Tmpfs { options } })
        }
    }
}
