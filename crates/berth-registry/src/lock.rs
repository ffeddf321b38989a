//! The storage root's lock: each server holds it shared, gc exclusive, so
//! gc never sweeps while a server could be halfway through a push (blobs
//! uploaded, manifest not yet PUT) and a server never starts mid-sweep.

use crate::error::RegistryError;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

/// Held for as long as the value lives (the kernel drops it with the fd).
#[derive(Debug)]
pub struct RootLock {
    _file: File,
}

impl RootLock {
    pub fn shared(root: &Path) -> Result<RootLock, RegistryError> {
        Self::take(root, false)
    }

    pub fn exclusive(root: &Path) -> Result<RootLock, RegistryError> {
        Self::take(root, true)
    }

    fn take(root: &Path, exclusive: bool) -> Result<RootLock, RegistryError> {
        let path = root.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| RegistryError::io(&path, e))?;
        let r = if exclusive { file.try_lock() } else { file.try_lock_shared() };
        match r {
            Ok(()) => Ok(RootLock { _file: file }),
            Err(TryLockError::WouldBlock) if exclusive => Err(RegistryError::Locked(format!(
                "{} is in use by a running `berth registry serve`: stop it before gc",
                root.display()
            ))),
            Err(TryLockError::WouldBlock) => {
                Err(RegistryError::Locked(format!("{} is being garbage-collected: try again when gc is done", root.display())))
            }
            Err(TryLockError::Error(e)) => Err(RegistryError::io(&path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gc_excludes_servers() {
        let dir = tempfile::tempdir().unwrap();
        let a = RootLock::shared(dir.path()).unwrap();
        let _b = RootLock::shared(dir.path()).unwrap();
        assert!(RootLock::exclusive(dir.path()).unwrap_err().to_string().contains("stop it"));
        drop(a);
        drop(_b);
        let g = RootLock::exclusive(dir.path()).unwrap();
        assert!(RootLock::shared(dir.path()).unwrap_err().to_string().contains("garbage-collected"));
        drop(g);
    }
}
