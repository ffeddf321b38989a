//! The persistent step cache: berth-build's cache key → the image the
//! step made. One small JSON file per key (written atomically), all read
//! at start-up into memory, so a lookup costs no I/O.

use berth_store::Digest;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheEntry {
    pub key: String,
    pub image: String,
    /// Unix nanoseconds.
    pub created: i64,
    #[serde(default)]
    pub last_used: i64,
    #[serde(default)]
    pub usage_count: i64,
}

fn write_renamed(dir: &Path, name: &str, data: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{}", berth_store::unique_name("tmp")));
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, dir.join(name)).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

pub struct CacheIndex {
    dir: PathBuf,
    entries: Mutex<HashMap<String, CacheEntry>>,
}

fn file_name(key: &str) -> String {
    format!("{}.json", Digest::of_bytes(key.as_bytes()).hex())
}

impl CacheIndex {
    pub fn open(dir: &Path) -> std::io::Result<CacheIndex> {
        std::fs::create_dir_all(dir)?;
        let mut entries = HashMap::new();
        for e in std::fs::read_dir(dir)?.flatten() {
            let p = e.path();
            if e.file_name().to_string_lossy().starts_with('.') {
                // A write a crash interrupted.
                let _ = std::fs::remove_file(&p);
                continue;
            }
            if p.extension().is_some_and(|x| x == "json") {
                // A damaged entry is only a cache miss.
                match std::fs::read(&p).ok().and_then(|b| serde_json::from_slice::<CacheEntry>(&b).ok()) {
                    Some(c) => {
                        entries.insert(c.key.clone(), c);
                    }
                    None => {
                        let _ = std::fs::remove_file(&p);
                    }
                }
            }
        }
        Ok(CacheIndex { dir: dir.to_path_buf(), entries: Mutex::new(entries) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CacheEntry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, key: &str) -> Option<String> {
        let mut g = self.lock();
        let e = g.get_mut(key)?;
        e.last_used = crate::container::now_nanos();
        e.usage_count += 1;
        Some(e.image.clone())
    }

    pub fn put(&self, key: &str, image: &str) {
        let now = crate::container::now_nanos();
        let entry = CacheEntry { key: key.to_string(), image: image.to_string(), created: now, last_used: now, usage_count: 0 };
        let Ok(bytes) = serde_json::to_vec(&entry) else { return };
        // Losing an entry (a full disk, a power cut before the page cache
        // was written) costs a rebuild of that step, nothing more: written
        // by rename for atomicity, without an fsync per step.
        if let Err(e) = write_renamed(&self.dir, &file_name(key), &bytes) {
            crate::daemon::log(&format!("build cache: {e}"));
            return;
        }
        self.lock().insert(key.to_string(), entry);
    }

    pub fn all(&self) -> Vec<CacheEntry> {
        self.lock().values().cloned().collect()
    }

    pub fn remove(&self, key: &str) {
        let _ = std::fs::remove_file(self.dir.join(file_name(key)));
        self.lock().remove(key);
    }
}
