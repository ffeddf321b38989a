//! Disk usage: the size of a directory tree, and the report of
//! `GET /system/df` (image layers, the containers' upper directories, the
//! volumes' data). The walks block, so callers run them on blocking
//! threads; `report` does so itself.

use crate::container::ListOptions;
use crate::daemon::Daemon;
use berth_api::system::DiskUsage;
use berth_api::volume::VolumeUsageData;
use berth_api::ApiError;
use std::collections::HashMap;
use std::path::Path;

/// Bytes in the files under `p` (symlinks not followed); 0 if it is
/// missing. Blocking.
pub fn dir_size(p: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(rd) = std::fs::read_dir(p) else { return 0 };
    rd.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.size(),
            Err(_) => 0,
        })
        .sum()
}

/// The parts of the report a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    pub images: bool,
    pub containers: bool,
    pub volumes: bool,
    pub build_cache: bool,
}

impl Parts {
    pub const ALL: Parts = Parts { images: true, containers: true, volumes: true, build_cache: true };

    /// From the `type=` values of the request; none means every part.
    pub fn from_types(types: &[&str]) -> Result<Parts, ApiError> {
        if types.is_empty() {
            return Ok(Parts::ALL);
        }
        let mut p = Parts { images: false, containers: false, volumes: false, build_cache: false };
        for t in types {
            match *t {
                "container" => p.containers = true,
                "image" => p.images = true,
                "volume" => p.volumes = true,
                "build-cache" => p.build_cache = true,
                other => return Err(ApiError::invalid(format!("unknown object type: {other}"))),
            }
        }
        Ok(p)
    }
}

/// `GET /system/df`: what is known in memory is read here, sizes are
/// walked on a blocking thread.
pub async fn report(d: &Daemon, parts: Parts) -> Result<DiskUsage, ApiError> {
    let images = d.images.list();
    let mut users: HashMap<String, i64> = HashMap::new();
    for c in d.containers.all() {
        *users.entry(c.snapshot().image_id).or_default() += 1;
    }
    let containers = if parts.containers {
        let all = ListOptions { all: true, limit: None, size: false, filters: Default::default() };
        Some(d.containers.list(&all)?)
    } else {
        None
    };
    let volumes = parts.volumes.then(|| d.volumes.usage());
    let store = d.images.clone();
    let cfg = d.cfg.clone();
    let builds = d.builds.clone();
    tokio::task::spawn_blocking(move || {
        // How many images hold each layer, and its size: a layer held by
        // more than one image is shared.
        let mut layers: HashMap<String, (u64, i64)> = HashMap::new();
        for img in &images {
            for chain in &img.layers {
                let e = layers.entry(chain.to_string()).or_insert_with(|| {
                    (store.layer_store().info(chain).map(|i| i.size).unwrap_or(0), 0)
                });
                e.1 += 1;
            }
        }
        let layers_size: u64 = layers.values().map(|(size, _)| size).sum();
        let image_rows = parts.images.then(|| {
            images
                .iter()
                .map(|img| {
                    let shared: u64 = img
                        .layers
                        .iter()
                        .filter_map(|l| layers.get(&l.to_string()))
                        .filter(|(_, holders)| *holders > 1)
                        .map(|(size, _)| size)
                        .sum();
                    let n = users.get(&img.id.to_string()).copied().unwrap_or(0);
                    crate::image::summary(img, img.tags.clone(), n, shared as i64)
                })
                .collect()
        });
        let image_sizes: HashMap<String, u64> = images.iter().map(|i| (i.id.to_string(), i.size)).collect();
        let containers = containers.map(|rows| {
            rows.into_iter()
                .map(|mut c| {
                    let rw = dir_size(&cfg.container_dir(&c.id).join("upper"));
                    c.size_rw = Some(rw as i64);
                    c.size_root_fs = Some((rw + image_sizes.get(&c.image_id).copied().unwrap_or(0)) as i64);
                    c
                })
                .collect()
        });
        let volumes = volumes.map(|vols| {
            vols.into_iter()
                .map(|(mut v, refs)| {
                    let size = dir_size(Path::new(&v.mountpoint)) as i64;
                    v.usage_data = Some(VolumeUsageData { size, ref_count: refs });
                    v
                })
                .collect()
        });
        DiskUsage {
            layers_size: layers_size as i64,
            images: image_rows,
            containers,
            volumes,
            build_cache: parts
                .build_cache
                .then(|| builds.disk_usage().iter().filter_map(|e| serde_json::to_value(e).ok()).collect()),
        }
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_from_types() {
        assert_eq!(Parts::from_types(&[]).expect("none"), Parts::ALL);
        let p = Parts::from_types(&["image", "volume"]).expect("valid");
        assert!(p.images && p.volumes && !p.containers && !p.build_cache);
        let e = Parts::from_types(&["image", "disk"]).expect_err("unknown");
        assert_eq!(e.to_string(), "unknown object type: disk");
    }

    #[test]
    fn dir_size_counts_files_and_ignores_a_missing_dir() {
        let t = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(t.path().join("a/b")).expect("mkdir");
        std::fs::write(t.path().join("a/b/f"), [0u8; 100]).expect("write");
        std::fs::write(t.path().join("g"), [0u8; 10]).expect("write");
        std::os::unix::fs::symlink("/usr", t.path().join("link")).expect("symlink");
        assert_eq!(dir_size(t.path()), 110 + "/usr".len() as u64);
        assert_eq!(dir_size(&t.path().join("missing")), 0);
    }
}
