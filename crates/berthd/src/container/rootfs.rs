//! The container's root filesystem: an overlay of the image's layer
//! directories under the container's own upper directory. Mounting sits
//! behind `Mounter` so the manager's logic is testable without root.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The OS edge for filesystem mounts.
pub trait Mounter: Send + Sync {
    /// Mounts an overlay: `lower` top-most first.
    fn mount_overlay(&self, lower: &[PathBuf], upper: &Path, work: &Path, target: &Path) -> io::Result<()>;
    /// Unmounts `target`; not mounted is not an error.
    fn unmount(&self, target: &Path) -> io::Result<()>;
    /// Mounts a tmpfs of `size` bytes (a shareable container's /dev/shm).
    fn mount_tmpfs(&self, target: &Path, size: u64) -> io::Result<()>;
}

/// Real mounts through mount(2)/umount2(2).
pub struct SysMounter;

fn cstr(p: &[u8]) -> io::Result<CString> {
    CString::new(p).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))
}

impl Mounter for SysMounter {
    fn mount_overlay(&self, lower: &[PathBuf], upper: &Path, work: &Path, target: &Path) -> io::Result<()> {
        let lower: Vec<String> = lower.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        // index=off and xino=off avoid overlay's inode-index checks, which
        // refuse layer directories shared by many mounts.
        let opts = format!(
            "lowerdir={},upperdir={},workdir={},index=off",
            lower.join(":"),
            upper.display(),
            work.display()
        );
        let src = cstr(b"overlay")?;
        let fstype = cstr(b"overlay")?;
        let tgt = cstr(target.as_os_str().as_bytes())?;
        let data = cstr(opts.as_bytes())?;
        // SAFETY: all pointers are valid NUL-terminated strings that outlive the call.
        let rc = unsafe {
            libc::mount(src.as_ptr(), tgt.as_ptr(), fstype.as_ptr(), 0, data.as_ptr().cast())
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn mount_tmpfs(&self, target: &Path, size: u64) -> io::Result<()> {
        let src = cstr(b"shm")?;
        let fstype = cstr(b"tmpfs")?;
        let tgt = cstr(target.as_os_str().as_bytes())?;
        let data = cstr(format!("mode=1777,size={size}").as_bytes())?;
        let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        // SAFETY: all pointers are valid NUL-terminated strings that outlive the call.
        let rc = unsafe { libc::mount(src.as_ptr(), tgt.as_ptr(), fstype.as_ptr(), flags, data.as_ptr().cast()) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn unmount(&self, target: &Path) -> io::Result<()> {
        let tgt = cstr(target.as_os_str().as_bytes())?;
        // SAFETY: `tgt` is a valid NUL-terminated path.
        let rc = unsafe { libc::umount2(tgt.as_ptr(), libc::MNT_DETACH) };
        if rc != 0 {
            let e = io::Error::last_os_error();
            // EINVAL: not a mount point; ENOENT: gone already.
            if matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOENT)) {
                return Ok(());
            }
            return Err(e);
        }
        Ok(())
    }
}

/// Where a container's filesystem pieces live under its directory.
pub struct RootfsPaths {
    pub upper: PathBuf,
    pub work: PathBuf,
    pub rootfs: PathBuf,
    /// A shareable container's /dev/shm (`--ipc shareable`), mounted only while it runs.
    pub shm: PathBuf,
}

impl RootfsPaths {
    pub fn new(container_dir: &Path) -> Self {
        RootfsPaths {
            upper: container_dir.join("upper"),
            work: container_dir.join("work"),
            rootfs: container_dir.join("rootfs"),
            shm: container_dir.join("shm"),
        }
    }
}
