//! The data root's scratch area, `<root>/tmp/`: unique names and start-up cleanup.
//!
//! Everything half-written lives here first and is renamed into place, so a crash leaves
//! only entries under `tmp/`, which `clean_tmp` removes at start-up.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{IoContext, Result};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name unique within this machine: pid + process-wide counter + clock.
pub fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{n}-{nanos:x}", std::process::id())
}

/// `<root>/tmp`, created if missing.
pub fn tmp_dir(root: &Path) -> Result<PathBuf> {
    let dir = root.join("tmp");
    fs::create_dir_all(&dir).at(&dir)?;
    Ok(dir)
}

/// Remove everything left in `<root>/tmp` by an earlier crash. Call only at start-up,
/// before anything else uses this data root.
pub fn clean_tmp(root: &Path) -> Result<()> {
    let dir = tmp_dir(root)?;
    for entry in fs::read_dir(&dir).at(&dir)? {
        let path = entry.at(&dir)?.path();
        let res = match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => fs::remove_dir_all(&path),
            Ok(_) => fs::remove_file(&path),
            Err(e) => Err(e),
        };
        res.at(&path)?;
    }
    Ok(())
}

/// A temporary directory removed on drop unless `keep` was called.
pub struct TempDir {
    path: Option<PathBuf>,
}

impl TempDir {
    pub fn new(root: &Path, prefix: &str) -> Result<TempDir> {
        let path = tmp_dir(root)?.join(unique_name(prefix));
        fs::create_dir(&path).at(&path)?;
        Ok(TempDir { path: Some(path) })
    }

    pub fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(""))
    }

    /// Stop owning the directory (it was renamed elsewhere).
    pub fn keep(mut self) -> PathBuf {
        self.path.take().unwrap_or_default()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = fs::remove_dir_all(p);
        }
    }
}
