//! The "top of a directory hierarchy" hint (`chattr +T`, `FS_TOPDIR_FL`)
//! on the directories layers are unpacked and kept in.
//!
//! ext4 places a new directory's inode near its parent's block group, and a
//! file's inode in its directory's group. On a file system without a
//! journal, allocating an inode in a group scans past every inode of that
//! group deleted in the last minute (ext4's `recently_deleted`) — one
//! buffer-cache lookup each, for every new file. A pull right after an `rmi`
//! (or a build after a prune) therefore lands its thousands of files exactly
//! where thousands were just freed, and creating them became quadratic:
//! a 120 MB pull took 4 s, 3 s of it in that scan. With the flag on the
//! parent, ext4's Orlov allocator treats each child directory as an
//! unrelated tree and spreads it to a group with room, as intended for
//! independent trees such as layers (0.8 s; bench/results). Only a hint:
//! other file systems refuse or ignore it, which changes nothing else.

use std::os::fd::AsRawFd;
use std::path::Path;

/// `FS_TOPDIR_FL` from linux/fs.h.
const FS_TOPDIR_FL: libc::c_int = 0x0002_0000;

/// Set the hint on directory `dir`; whether it took is returned for tests
/// and otherwise ignored (see the module comment).
pub fn mark_top_dir(dir: &Path) -> bool {
    let Ok(f) = std::fs::File::open(dir) else { return false };
    let mut flags: libc::c_int = 0;
    // SAFETY: a valid open fd; FS_IOC_GETFLAGS writes one int to `flags`.
    if unsafe { libc::ioctl(f.as_raw_fd(), libc::FS_IOC_GETFLAGS, &mut flags) } != 0 {
        return false;
    }
    if flags & FS_TOPDIR_FL != 0 {
        return true;
    }
    flags |= FS_TOPDIR_FL;
    // SAFETY: as above; FS_IOC_SETFLAGS reads one int from `flags`.
    unsafe { libc::ioctl(f.as_raw_fd(), libc::FS_IOC_SETFLAGS, &flags) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_a_directory_where_the_file_system_supports_it() {
        let Ok(t) = tempfile::tempdir() else { return };
        let took = mark_top_dir(t.path());
        // Set twice is fine; where supported, lsattr would show `T` now.
        assert_eq!(mark_top_dir(t.path()), took);
        assert!(!mark_top_dir(&t.path().join("missing")));
    }
}
