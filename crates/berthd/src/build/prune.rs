//! What `system df` calls build cache and `builder prune` frees: the step
//! cache's entries (with the intermediate images only they keep: untagged,
//! no child image, no container) and the `RUN --mount=type=cache`
//! directories.

use super::BuildManager;
use berth_api::ApiError;
use serde::Serialize;
use std::collections::HashSet;
use std::path::Path;

/// One `BuildCache` item of `GET /system/df`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BuildCacheEntry {
    #[serde(rename = "ID")]
    pub id: String,
    pub parents: Option<Vec<String>>,
    #[serde(rename = "Type")]
    pub kind: String,
    pub description: String,
    pub in_use: bool,
    pub shared: bool,
    pub size: i64,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub usage_count: i64,
}

#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PruneReport {
    pub caches_deleted: Vec<String>,
    pub space_reclaimed: u64,
}

fn time(nanos: i64) -> String {
    berth_api::time::format_rfc3339_nanos(nanos as i128)
}

fn dir_size(p: &Path) -> u64 {
    let Ok(m) = p.symlink_metadata() else { return 0 };
    if !m.is_dir() {
        return m.len();
    }
    std::fs::read_dir(p).map(|rd| rd.flatten().map(|e| dir_size(&e.path())).sum()).unwrap_or(0)
}

fn mtime_nanos(p: &Path) -> i64 {
    p.metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

impl BuildManager {
    /// Images that are some other image's parent.
    fn parents(&self) -> HashSet<String> {
        self.images.list().iter().filter_map(|i| self.images.parent_of(i)).map(|d| d.to_string()).collect()
    }

    /// Whether the cache alone keeps `id`: untagged, no child, no container.
    fn only_cached(&self, id: &str, parents: &HashSet<String>) -> Option<u64> {
        let img = self.images.resolve(id).ok()?;
        let free = img.tags.is_empty() && !parents.contains(id) && self.containers.image_users(id).is_empty();
        free.then_some(img.size)
    }

    pub fn disk_usage(&self) -> Vec<BuildCacheEntry> {
        let parents = self.parents();
        let mut out: Vec<BuildCacheEntry> = self
            .cache
            .all()
            .into_iter()
            .map(|e| {
                let alone = self.only_cached(&e.image, &parents);
                BuildCacheEntry {
                    id: berth_store::Digest::of_bytes(e.key.as_bytes()).hex()[..25].to_string(),
                    parents: None,
                    kind: "regular".into(),
                    description: format!("step cache: {}", &e.image),
                    in_use: false,
                    shared: alone.is_none(),
                    size: alone.unwrap_or(0) as i64,
                    created_at: time(e.created),
                    last_used_at: Some(time(e.last_used)),
                    usage_count: e.usage_count,
                }
            })
            .collect();
        for (name, dir) in self.cache_mounts() {
            out.push(BuildCacheEntry {
                id: name[..25.min(name.len())].to_string(),
                parents: None,
                kind: "exec.cachemount".into(),
                description: "cached mount (RUN --mount=type=cache)".into(),
                in_use: false,
                shared: false,
                size: dir_size(&dir) as i64,
                created_at: time(mtime_nanos(&dir)),
                last_used_at: None,
                usage_count: 0,
            });
        }
        out
    }

    fn cache_mounts(&self) -> Vec<(String, std::path::PathBuf)> {
        let Ok(rd) = std::fs::read_dir(self.mounts_dir()) else { return vec![] };
        rd.flatten().filter(|e| e.path().is_dir()).map(|e| (e.file_name().to_string_lossy().into_owned(), e.path())).collect()
    }

    /// `POST /build/prune`. Without `all`, entries whose image something
    /// else keeps (a tag, a child, a container) stay, as BuildKit keeps
    /// cache records in use; `until` keeps what is newer.
    pub fn prune(&self, all: bool, until: Option<i128>) -> Result<PruneReport, ApiError> {
        let mut report = PruneReport::default();
        let old_enough = |created: i64| until.is_none_or(|u| (created as i128) < u);
        let parents = self.parents();
        let mut orphans = Vec::new();
        for e in self.cache.all() {
            if !old_enough(e.created) {
                continue;
            }
            let alone = self.only_cached(&e.image, &parents);
            if alone.is_none() && !all {
                continue;
            }
            self.cache.remove(&e.key);
            report.caches_deleted.push(berth_store::Digest::of_bytes(e.key.as_bytes()).hex()[..25].to_string());
            orphans.push(e.image.clone());
        }
        report.space_reclaimed += self.remove_unkept(orphans);
        for (name, dir) in self.cache_mounts() {
            if !old_enough(mtime_nanos(&dir)) {
                continue;
            }
            report.space_reclaimed += dir_size(&dir);
            let _ = std::fs::remove_dir_all(&dir);
            let _ = std::fs::remove_file(dir.with_extension("lock"));
            report.caches_deleted.push(name[..25.min(name.len())].to_string());
        }
        Ok(report)
    }

    /// The unpacked size of every layer on disk.
    fn layer_bytes(&self) -> u64 {
        self.images.layer_store().list().map(|l| l.iter().map(|x| x.size).sum()).unwrap_or(0)
    }

    /// Removes those of `ids` nothing keeps, then their parents that are
    /// left untagged and childless, as dockerd removes a dangling chain.
    fn remove_unkept(&self, mut ids: Vec<String>) -> u64 {
        let mut freed = 0;
        while let Some(id) = ids.pop() {
            let parents = self.parents();
            let Some(size) = self.only_cached(&id, &parents) else { continue };
            let Ok(img) = self.images.resolve(&id) else { continue };
            let parent = self.images.parent_of(&img);
            let _ = size;
            let before = self.layer_bytes();
            if self.images.remove(&img.id).is_ok() {
                freed += before.saturating_sub(self.layer_bytes());
                if let Some(p) = parent {
                    ids.push(p.to_string());
                }
            }
        }
        freed
    }
}
