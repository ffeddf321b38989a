//! `<data-root>/pull-cache`: the verified layers of a pull that did not
//! finish, kept so that the next attempt does not download them again.
//! `image prune` (and so `system prune`) empties it, except for the layers
//! pulls in progress are using.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// Cache file names (`sha256-HEX`) in use, with how many pulls use each.
static IN_USE: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());

pub fn dir(data_root: &Path) -> PathBuf {
    data_root.join("pull-cache")
}

/// The cache file name of blob `digest`.
pub fn file_name(digest: &str) -> String {
    digest.replace(':', "-")
}

/// The file a download of `digest` grows in until it is verified and
/// renamed to `file_name`; kept when the download is interrupted, so the
/// next attempt resumes from it.
pub fn partial_name(digest: &str) -> String {
    format!("{}.partial", file_name(digest))
}

/// Marks a pull's layers as in use until dropped.
pub struct InUse {
    names: Vec<String>,
}

impl InUse {
    pub fn hold<'a>(digests: impl IntoIterator<Item = &'a str>) -> InUse {
        let names: Vec<String> = digests.into_iter().map(file_name).collect();
        let mut m = IN_USE.lock().unwrap_or_else(|e| e.into_inner());
        for n in &names {
            *m.entry(n.clone()).or_default() += 1;
        }
        InUse { names }
    }
}

impl Drop for InUse {
    fn drop(&mut self) {
        let mut m = IN_USE.lock().unwrap_or_else(|e| e.into_inner());
        for n in &self.names {
            if let Some(c) = m.get_mut(n) {
                *c -= 1;
                if *c == 0 {
                    m.remove(n);
                }
            }
        }
    }
}

/// Removes the cached layers no pull is using (modified before `until`, if
/// given); returns the bytes freed.
pub fn prune(data_root: &Path, until: Option<SystemTime>) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir(data_root)) else { return 0 };
    let mut freed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Ok(meta) = e.metadata() else { continue };
        if until.is_some_and(|u| meta.modified().is_ok_and(|m| m >= u)) {
            continue;
        }
        // Held across the removal, so a pull cannot start using it meanwhile.
        let m = IN_USE.lock().unwrap_or_else(|e| e.into_inner());
        if m.contains_key(name.strip_suffix(".partial").unwrap_or(&name)) {
            continue;
        }
        if std::fs::remove_file(e.path()).is_ok() {
            freed += meta.len();
        }
        drop(m);
    }
    freed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_spares_what_pulls_hold() {
        let root = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir(root.path())).expect("mkdir");
        for (d, n) in [("sha256:aa", 3), ("sha256:bb", 5)] {
            std::fs::write(dir(root.path()).join(file_name(d)), vec![0u8; n]).expect("write");
        }
        let held = InUse::hold(["sha256:aa"]);
        let twice = InUse::hold(["sha256:aa"]);
        assert_eq!(prune(root.path(), None), 5);
        drop(held);
        assert_eq!(prune(root.path(), None), 0, "still held by the second pull");
        // Older than `until` only: a cutoff in the past spares it.
        drop(twice);
        assert_eq!(prune(root.path(), Some(SystemTime::UNIX_EPOCH)), 0);
        assert_eq!(prune(root.path(), None), 3);
        assert!(std::fs::read_dir(dir(root.path())).expect("dir").next().is_none());
    }
}
