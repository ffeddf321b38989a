//! Mount targets inside a hostile rootfs.
//!
//! An image may ship `/data -> /etc` or `/data -> ../../../etc`. A mount
//! target is therefore resolved with openat2(RESOLVE_IN_ROOT), so every
//! symlink resolves inside the rootfs, and missing components are created
//! one at a time relative to an already-resolved parent directory fd.
//! runc is then handed the resolved path, which has no symlinks left.

use crate::RuntimeError;
use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// What the mount needs at its target: a directory, or a file (a bind of a host file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Dir,
    File,
    /// A directory which, if it has to be created, gets this mode: runc
    /// gives a tmpfs the mode of an existing target directory.
    DirWithMode(u32),
}

/// Symlinks followed while creating one target, as the kernel's MAXSYMLINKS.
const MAX_LINKS: usize = 40;

/// The kernel's `struct open_how`.
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// Resolves the absolute in-container path `target` inside `rootfs`,
/// creating what is missing (directories 0755, a final file 0644 for
/// `TargetKind::File`), and returns the resolved in-container path.
pub fn prepare_mount_target(rootfs: &Path, target: &str, kind: TargetKind) -> Result<String, RuntimeError> {
    let err = |reason: String| RuntimeError::MountTarget { target: target.to_string(), reason };
    let root = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(rootfs)
        .map_err(|e| err(format!("opening rootfs: {e}")))?;
    let root_real = fd_path(&root).map_err(|e| err(e.to_string()))?;
    let mut pending: Vec<String> = components(target);
    let mut done: Vec<String> = Vec::new();
    let mut links = 0;
    while !pending.is_empty() {
        let name = pending.remove(0);
        let mut probe = done.clone();
        probe.push(name.clone());
        if open_in_root(&root, &probe.join("/"), libc::O_PATH).map_err(|e| err(e.to_string()))?.is_some() {
            done = probe;
            continue;
        }
        // Missing (or a dangling symlink): work in the resolved parent.
        let parent = open_in_root(&root, &done.join("/"), libc::O_PATH | libc::O_DIRECTORY)
            .map_err(|e| err(e.to_string()))?
            .ok_or_else(|| err("parent directory vanished".into()))?;
        let last = pending.is_empty();
        if let Some(link) = read_link_at(&parent, &name) {
            links += 1;
            if links > MAX_LINKS {
                return Err(err("too many levels of symbolic links".into()));
            }
            // Continue with the link's text: absolute links restart at the rootfs.
            let base = if link.starts_with('/') { Vec::new() } else { resolved_rel(&parent, &root_real).map_err(err)? };
            let mut rest = components(&link);
            rest.append(&mut pending);
            pending = rest;
            done = base;
            continue;
        }
        match kind {
            TargetKind::File if last => create_file_at(&parent, &name),
            TargetKind::DirWithMode(mode) if last => mkdir_at(&parent, &name).and_then(|()| chmod_at(&parent, &name, mode)),
            _ => mkdir_at(&parent, &name),
        }
        .map_err(|e| err(format!("creating {name}: {e}")))?;
        done = probe;
    }
    let fd = open_in_root(&root, &done.join("/"), libc::O_PATH)
        .map_err(|e| err(e.to_string()))?
        .ok_or_else(|| err("vanished while being created".into()))?;
    let meta = File::from(fd.try_clone().map_err(|e| err(e.to_string()))?).metadata().map_err(|e| err(e.to_string()))?;
    match kind {
        TargetKind::Dir | TargetKind::DirWithMode(_) if !meta.is_dir() => return Err(err("not a directory".into())),
        TargetKind::File if meta.is_dir() => return Err(err("is a directory".into())),
        _ => {}
    }
    let rel = resolved_rel(&fd, &root_real).map_err(err)?;
    if rel.is_empty() {
        return Err(RuntimeError::MountTarget { target: target.to_string(), reason: "resolves to the container's root".into() });
    }
    Ok(format!("/{}", rel.join("/")))
}

/// The host path of an existing in-container path, resolved inside
/// `rootfs`; `None` if it does not exist. Used to read image content for
/// copy-up without following a symlink out of the rootfs.
pub fn resolve_in_rootfs(rootfs: &Path, path: &str) -> Result<Option<PathBuf>, RuntimeError> {
    let err = |reason: String| RuntimeError::MountTarget { target: path.to_string(), reason };
    let root = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(rootfs)
        .map_err(|e| err(format!("opening rootfs: {e}")))?;
    match open_in_root(&root, &components(path).join("/"), libc::O_PATH).map_err(|e| err(e.to_string()))? {
        None => Ok(None),
        Some(fd) => fd_path(&fd).map(Some).map_err(|e| err(e.to_string())),
    }
}

fn components(p: &str) -> Vec<String> {
    p.split('/').filter(|c| !c.is_empty() && *c != ".").map(str::to_string).collect()
}

/// The path of `fd` relative to the rootfs, as components.
fn resolved_rel<F: AsRawFd>(fd: &F, root_real: &Path) -> Result<Vec<String>, String> {
    let p = fd_path(fd).map_err(|e| e.to_string())?;
    let rel = p.strip_prefix(root_real).map_err(|_| format!("resolved outside the rootfs: {}", p.display()))?;
    Ok(rel.iter().map(|c| c.to_string_lossy().into_owned()).collect())
}

fn fd_path<F: AsRawFd>(fd: &F) -> std::io::Result<PathBuf> {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

fn cstr(s: &str) -> std::io::Result<CString> {
    CString::new(s).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))
}

/// openat2(root, rel, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS); `None` if absent.
pub(crate) fn open_in_root<F: AsRawFd>(root: &F, rel: &str, flags: i32) -> std::io::Result<Option<OwnedFd>> {
    let rel = if rel.is_empty() { "." } else { rel };
    let c_rel = cstr(rel)?;
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS,
    };
    for _ in 0..16 {
        // SAFETY: `root` is an open directory fd for the whole call, `c_rel` is a
        // NUL-terminated string that outlives it, and `how` is a valid open_how whose
        // size we pass; the syscall only reads these and returns a new fd or -1.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                root.as_raw_fd(),
                c_rel.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if ret >= 0 {
            let fd = i32::try_from(ret).map_err(|_| std::io::Error::from_raw_os_error(libc::EBADF))?;
            // SAFETY: openat2 succeeded, so `fd` is a new descriptor that nothing else owns.
            return Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }));
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EAGAIN) | Some(libc::EINTR) => continue,
            Some(libc::ENOENT) => return Ok(None),
            _ => return Err(e),
        }
    }
    Err(std::io::Error::from_raw_os_error(libc::EAGAIN))
}

/// The text of the symlink `name` in `dir`, if it is one.
fn read_link_at(dir: &OwnedFd, name: &str) -> Option<String> {
    let c = cstr(name).ok()?;
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: valid dirfd, NUL-terminated name, and a buffer of the length we pass.
    let n = unsafe { libc::readlinkat(dir.as_raw_fd(), c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n <= 0 {
        return None;
    }
    buf.truncate(n as usize);
    Some(String::from_utf8_lossy(&buf).into_owned())
}

fn mkdir_at(dir: &OwnedFd, name: &str) -> std::io::Result<()> {
    if name == ".." {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    }
    let c = cstr(name)?;
    // SAFETY: valid dirfd and NUL-terminated name; mkdirat never follows a final symlink.
    if unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), 0o755) } != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EEXIST) {
            return Err(e);
        }
    }
    Ok(())
}

/// Sets the mode of a directory we just created (mkdirat's mode is masked by the umask).
fn chmod_at(dir: &OwnedFd, name: &str, mode: u32) -> std::io::Result<()> {
    let c = cstr(name)?;
    // SAFETY: valid dirfd and NUL-terminated name; the entry is the directory created
    // just before, in a rootfs no container runs in yet.
    if unsafe { libc::fchmodat(dir.as_raw_fd(), c.as_ptr(), mode as libc::mode_t, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn create_file_at(dir: &OwnedFd, name: &str) -> std::io::Result<()> {
    let c = cstr(name)?;
    // SAFETY: valid dirfd and NUL-terminated name; O_NOFOLLOW|O_EXCL never follow a link.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c.as_ptr(),
            libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            0o644 as libc::c_uint,
        )
    };
    if fd < 0 {
        let e = std::io::Error::last_os_error();
        return if e.raw_os_error() == Some(libc::EEXIST) { Ok(()) } else { Err(e) };
    }
    // SAFETY: `fd` was just returned by openat and is owned by nobody else.
    drop(unsafe { OwnedFd::from_raw_fd(fd) });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn rootfs() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("etc")).unwrap();
        t
    }

    #[test]
    fn creates_missing_dirs() {
        let t = rootfs();
        assert_eq!(prepare_mount_target(t.path(), "/a/b/c", TargetKind::Dir).unwrap(), "/a/b/c");
        assert!(t.path().join("a/b/c").is_dir());
        assert_eq!(prepare_mount_target(t.path(), "//a/./b/", TargetKind::Dir).unwrap(), "/a/b");
        assert_eq!(prepare_mount_target(t.path(), "/f/file", TargetKind::File).unwrap(), "/f/file");
        assert!(t.path().join("f/file").is_file());
        use std::os::unix::fs::PermissionsExt;
        prepare_mount_target(t.path(), "/tm", TargetKind::DirWithMode(0o1777)).unwrap();
        assert_eq!(std::fs::metadata(t.path().join("tm")).unwrap().permissions().mode() & 0o7777, 0o1777);
        // An existing directory keeps its mode.
        prepare_mount_target(t.path(), "/etc", TargetKind::DirWithMode(0o700)).unwrap();
        assert_ne!(std::fs::metadata(t.path().join("etc")).unwrap().permissions().mode() & 0o7777, 0o700);
    }

    #[test]
    fn absolute_symlink_stays_inside() {
        let t = rootfs();
        let marker = format!("berth-target-test-{}", std::process::id());
        symlink("/etc", t.path().join("data")).unwrap();
        let got = prepare_mount_target(t.path(), &format!("/data/{marker}"), TargetKind::Dir).unwrap();
        assert_eq!(got, format!("/etc/{marker}"));
        assert!(t.path().join("etc").join(&marker).is_dir());
        assert!(!Path::new("/etc").join(&marker).exists());
    }

    #[test]
    fn relative_escape_and_dotdot_stay_inside() {
        let t = rootfs();
        let marker = format!("berth-target-test2-{}", std::process::id());
        symlink("../../../../../../etc", t.path().join("up")).unwrap();
        let got = prepare_mount_target(t.path(), &format!("/up/{marker}"), TargetKind::Dir).unwrap();
        assert_eq!(got, format!("/etc/{marker}"));
        assert!(!Path::new("/etc").join(&marker).exists());
        let got = prepare_mount_target(t.path(), &format!("/../../{marker}"), TargetKind::Dir).unwrap();
        assert_eq!(got, format!("/{marker}"));
        assert!(!Path::new("/").join(&marker).exists());
    }

    #[test]
    fn dangling_symlink_created_inside() {
        let t = rootfs();
        let marker = format!("berth-target-test3-{}", std::process::id());
        symlink(format!("/tmp/{marker}/x"), t.path().join("dangle")).unwrap();
        let got = prepare_mount_target(t.path(), "/dangle", TargetKind::Dir).unwrap();
        assert_eq!(got, format!("/tmp/{marker}/x"));
        assert!(t.path().join("tmp").join(&marker).join("x").is_dir());
        assert!(!Path::new("/tmp").join(&marker).exists());
    }

    #[test]
    fn loops_and_root_and_kind_mismatch_fail() {
        let t = rootfs();
        symlink("/loop2", t.path().join("loop1")).unwrap();
        symlink("/loop1", t.path().join("loop2")).unwrap();
        assert!(prepare_mount_target(t.path(), "/loop1/x", TargetKind::Dir).is_err());
        symlink("/", t.path().join("toroot")).unwrap();
        assert!(prepare_mount_target(t.path(), "/toroot", TargetKind::Dir).is_err());
        std::fs::write(t.path().join("etc/file"), b"x").unwrap();
        assert!(prepare_mount_target(t.path(), "/etc/file", TargetKind::Dir).is_err());
        assert!(prepare_mount_target(t.path(), "/etc", TargetKind::File).is_err());
        assert!(prepare_mount_target(t.path(), "/etc/file/sub", TargetKind::Dir).is_err());
    }

    #[test]
    fn resolves_existing_paths_inside() {
        let t = rootfs();
        symlink("/etc", t.path().join("data")).unwrap();
        let real = std::fs::canonicalize(t.path()).unwrap();
        assert_eq!(resolve_in_rootfs(t.path(), "/data").unwrap(), Some(real.join("etc")));
        assert_eq!(resolve_in_rootfs(t.path(), "/nope").unwrap(), None);
    }
}
