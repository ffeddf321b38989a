//! What berthd remembers about the compressed forms of its layers (dockerd's
//! "v2 metadata"): for a diff ID, the compressed digests it was pulled or
//! pushed as and the repositories that hold them. A push of a layer with a
//! known digest costs a HEAD (or a cross-repository mount) instead of
//! compressing it again. Kept in `<data-root>/distribution/by-diff-id/HEX.json`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use berth_store::Digest;
use serde::{Deserialize, Serialize};

/// Entries kept per layer, newest first (dockerd keeps about as many).
const MAX_ENTRIES: usize = 50;

/// Serialises read-modify-write of the files (two pushes of one layer at once).
static WRITING: Mutex<()> = Mutex::new(());

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compressed {
    pub digest: String,
    pub size: u64,
    pub media_type: String,
    /// The repository that holds it: `host[:port]/path`.
    pub repository: String,
}

impl Compressed {
    /// The registry host and the repository path on it.
    pub fn split(&self) -> (&str, &str) {
        self.repository.split_once('/').unwrap_or(("", &self.repository))
    }

    /// gzip: the only compression berth pushes with (a zstd layer pulled from
    /// somewhere is not reused for a Docker schema 2 manifest).
    pub fn is_gzip(&self) -> bool {
        self.media_type.ends_with("tar.gzip") || self.media_type.ends_with("tar+gzip")
    }
}

#[derive(Clone)]
pub struct LayerMemo {
    dir: PathBuf,
}

impl LayerMemo {
    pub fn open(data_root: &Path) -> LayerMemo {
        LayerMemo { dir: data_root.join("distribution").join("by-diff-id") }
    }

    fn file(&self, diff_id: &Digest) -> PathBuf {
        self.dir.join(format!("{}.json", diff_id.hex()))
    }

    /// What is known about `diff_id`, newest first. A damaged file is as
    /// good as none: the layer is compressed again.
    pub fn get(&self, diff_id: &Digest) -> Vec<Compressed> {
        std::fs::read(self.file(diff_id)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    /// [`get`](Self::get) on a blocking thread (for the pull and push tasks).
    pub async fn get_async(&self, diff_id: &Digest) -> Vec<Compressed> {
        let (memo, d) = (self.clone(), diff_id.clone());
        tokio::task::spawn_blocking(move || memo.get(&d)).await.unwrap_or_default()
    }

    /// [`add`](Self::add) on a blocking thread: the file work and the
    /// writers' lock stay off the async workers.
    pub async fn add_async(&self, diff_id: &Digest, c: Compressed) -> std::io::Result<()> {
        let (memo, d) = (self.clone(), diff_id.clone());
        tokio::task::spawn_blocking(move || memo.add(&d, c)).await.map_err(std::io::Error::other)?
    }

    /// Remember that `diff_id` is `c` (in `c.repository`).
    pub fn add(&self, diff_id: &Digest, c: Compressed) -> std::io::Result<()> {
        let _held = WRITING.lock().unwrap_or_else(|e| e.into_inner());
        let mut list = self.get(diff_id);
        if list.first() == Some(&c) {
            // Known already, newest first: an up-to-date pull writes nothing.
            return Ok(());
        }
        list.retain(|e| !(e.digest == c.digest && e.repository == c.repository));
        list.insert(0, c);
        list.truncate(MAX_ENTRIES);
        std::fs::create_dir_all(&self.dir)?;
        let data = serde_json::to_vec(&list).map_err(std::io::Error::other)?;
        berth_store::write_atomic(&self.file(diff_id), &data).map_err(std::io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_newest_first_without_duplicates() {
        let root = tempfile::tempdir().expect("tempdir");
        let memo = LayerMemo::open(root.path());
        let id = Digest::of_bytes(b"layer");
        assert!(memo.get(&id).is_empty());
        let c = |d: &str, r: &str| Compressed { digest: d.into(), size: 3, media_type: "application/vnd.docker.image.rootfs.diff.tar.gzip".into(), repository: r.into() };
        memo.add(&id, c("sha256:a", "127.0.0.1:5000/one")).expect("add");
        memo.add(&id, c("sha256:a", "127.0.0.1:5000/two")).expect("add");
        memo.add(&id, c("sha256:a", "127.0.0.1:5000/one")).expect("add");
        let got = memo.get(&id);
        assert_eq!(got.iter().map(|e| e.split().1).collect::<Vec<_>>(), ["one", "two"]);
        assert_eq!(got[0].split().0, "127.0.0.1:5000");
        assert!(got[0].is_gzip());
        std::fs::write(memo.file(&id), b"{not json").expect("damage");
        assert!(memo.get(&id).is_empty());
        memo.add(&id, c("sha256:b", "h/x")).expect("add after damage");
        assert_eq!(memo.get(&id).len(), 1);
    }
}
