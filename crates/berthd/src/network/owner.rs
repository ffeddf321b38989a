//! Which berthd owns a bridge name. The default bridge's name is also the
//! tag of a daemon's iptables chains, netns and veths; a second daemon
//! with the same `--bridge` would flush the first one's chains at start
//! and delete its bridge at stop. So each daemon holds an exclusive flock
//! on a host-wide file named after its bridge for its whole life (the
//! kernel drops it when the process dies, even by SIGKILL), with its pid
//! and data root in the file for the refusal message of the next one.
//! The owner removes the file when it lets go (still holding the lock), so
//! the directory does not fill with the names of daemons long gone; a
//! claimer that locked a file already unlinked tries again.

use berth_api::ApiError;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The held claim on a bridge name; released when dropped (or at exit).
#[derive(Debug)]
pub struct BridgeOwner {
    file: File,
    path: PathBuf,
}

/// The lock file of bridge `bridge` under `dir`.
pub fn lock_path(dir: &Path, bridge: &str) -> PathBuf {
    dir.join(format!("bridge-{bridge}.lock"))
}

impl BridgeOwner {
    /// Claims `bridge` for the daemon on `data_root`, or names the daemon
    /// that has it.
    pub fn claim(dir: &Path, bridge: &str, data_root: &Path) -> Result<BridgeOwner, ApiError> {
        std::fs::create_dir_all(dir).map_err(|e| ApiError::internal(format!("creating {}: {e}", dir.display())))?;
        let path = lock_path(dir, bridge);
        // A few tries: each lost race means the owner let go meanwhile.
        for _ in 0..8 {
            if let Some(owner) = Self::try_claim(&path, bridge, data_root)? {
                sweep_stale(dir, &path);
                return Ok(owner);
            }
        }
        Err(ApiError::internal(format!("claiming {}: it keeps being replaced", path.display())))
    }

    /// `None` when the locked file was unlinked by its previous owner
    /// between our open and our lock.
    fn try_claim(path: &Path, bridge: &str, data_root: &Path) -> Result<Option<BridgeOwner>, ApiError> {
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| ApiError::internal(format!("opening {}: {e}", path.display())))?;
        // SAFETY: flock on an fd we own; LOCK_NB never blocks.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(ApiError::internal(format!("locking {}: {err}", path.display())));
            }
            let mut held = String::new();
            let _ = f.read_to_string(&mut held);
            return Err(ApiError::conflict(format!(
                "bridge {bridge} is in use by another berthd ({}); give this daemon its own --bridge",
                describe(&held)
            )));
        }
        if !same_file(&f, path) {
            return Ok(None);
        }
        let me = format!("pid={}\ndata-root={}\n", std::process::id(), data_root.display());
        let written = f.set_len(0).and_then(|()| f.seek(SeekFrom::Start(0))).and_then(|_| f.write_all(me.as_bytes()));
        written.map_err(|e| ApiError::internal(format!("writing {}: {e}", path.display())))?;
        Ok(Some(BridgeOwner { file: f, path: path.to_path_buf() }))
    }
}

/// Removes the claim files of daemons that died without letting go
/// (SIGKILL): no one holds their lock. Each is unlinked while locked, as
/// an owner lets go, so a daemon claiming it meanwhile opens it afresh.
fn sweep_stale(dir: &Path, mine: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let path = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if path == mine || !name.starts_with("bridge-") || !name.ends_with(".lock") {
            continue;
        }
        let Ok(f) = OpenOptions::new().read(true).open(&path) else { continue };
        // SAFETY: flock on an fd we own; LOCK_NB never blocks.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 && same_file(&f, &path) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Whether `path` still names the open file `f`.
fn same_file(f: &File, path: &Path) -> bool {
    match (f.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

impl Drop for BridgeOwner {
    fn drop(&mut self) {
        // Unlinked while still locked: whoever opened it meanwhile sees the
        // inode change after locking and opens the path afresh.
        if same_file(&self.file, &self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// "pid 123, data root /var/lib/berth" from the owner's lock file.
fn describe(held: &str) -> String {
    let field = |k: &str| held.lines().find_map(|l| l.strip_prefix(k)).map(str::trim).filter(|v| !v.is_empty());
    match (field("pid="), field("data-root=")) {
        (Some(pid), Some(root)) => format!("pid {pid}, data root {root}"),
        (Some(pid), None) => format!("pid {pid}"),
        _ => "owner unknown".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_sweeps_the_files_of_dead_owners_and_keeps_live_ones() {
        let dir = std::env::temp_dir().join(format!("berth-owner-sweep-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let live = BridgeOwner::claim(&dir, "live0", Path::new("/data/live")).expect("live claim");
        std::fs::write(lock_path(&dir, "dead0"), "pid=1\ndata-root=/gone\n").expect("stale file");
        std::fs::write(dir.join("unrelated"), "x").expect("other file");
        let _me = BridgeOwner::claim(&dir, "me0", Path::new("/data/me")).expect("claim");
        assert!(!lock_path(&dir, "dead0").exists(), "a dead owner's file stays");
        assert!(lock_path(&dir, "live0").exists(), "a live owner's file went");
        assert!(dir.join("unrelated").exists());
        drop(live);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_second_claim_is_refused_naming_the_owner_until_the_first_is_dropped() {
        let dir = std::env::temp_dir().join(format!("berth-owner-test-{}", std::process::id()));
        let first = BridgeOwner::claim(&dir, "bx0", Path::new("/data/one")).expect("first claim");
        let e = BridgeOwner::claim(&dir, "bx0", Path::new("/data/two")).expect_err("second claim");
        assert!(e.message.contains("bridge bx0 is in use by another berthd"), "{}", e.message);
        assert!(e.message.contains(&format!("pid {}", std::process::id())), "{}", e.message);
        assert!(e.message.contains("data root /data/one"), "{}", e.message);
        // Another name is free.
        let other = BridgeOwner::claim(&dir, "bx1", Path::new("/data/two")).expect("other bridge");
        drop(first);
        assert!(!lock_path(&dir, "bx0").exists(), "the released claim's file is removed");
        let again = BridgeOwner::claim(&dir, "bx0", Path::new("/data/two")).expect("claim after release");
        let text = std::fs::read_to_string(lock_path(&dir, "bx0")).expect("lock file");
        assert!(text.contains("data-root=/data/two"), "{text}");
        drop((other, again));
        assert!(!lock_path(&dir, "bx1").exists() && !lock_path(&dir, "bx0").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn describe_copes_with_an_empty_or_partial_file() {
        assert_eq!(describe(""), "owner unknown");
        assert_eq!(describe("pid=7\n"), "pid 7");
        assert_eq!(describe("pid=7\ndata-root=/x\n"), "pid 7, data root /x");
    }
}
