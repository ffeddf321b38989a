//! Unpacking one layer tar into a directory. The tar is hostile input: paths are cleaned
//! lexically and may not climb out, every parent is opened with O_NOFOLLOW relative to its
//! own parent, hardlinks must point inside the layer, and device nodes are never created
//! except the overlay whiteouts this code makes itself.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

use tar::EntryType;

use crate::dirfd::{set_fd_meta, set_fd_times, set_fd_xattr, DirFd};
use crate::error::{Result, StoreError};

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

/// Clean `path` into components below the layer root; `..` may not climb above it.
/// Leading `/` is dropped (absolute entries are taken relative to the root, as Docker does).
pub(crate) fn clean_path(path: &Path) -> Result<Vec<OsString>> {
    let mut out: Vec<OsString> = Vec::new();
    for c in path.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Prefix(_) => return Err(unsafe_path(path)),
            Component::ParentDir => {
                if out.pop().is_none() {
                    return Err(unsafe_path(path));
                }
            }
            Component::Normal(s) => out.push(s.to_os_string()),
        }
    }
    Ok(out)
}

fn unsafe_path(p: &Path) -> StoreError {
    StoreError::UnsafePath(p.display().to_string())
}

/// Open the parent directory of `comps`, creating missing directories if `create`.
/// Any symlink or non-directory on the way is an error: nothing is ever written through one.
fn open_parent(root: &DirFd, comps: &[OsString], shown: &Path, create: bool) -> Result<DirFd> {
    let mut dir = root
        .child(OsStr::new("."), false)
        .map_err(|e| StoreError::io(shown, e))?;
    for c in &comps[..comps.len().saturating_sub(1)] {
        dir = dir.child(c, create).map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) | Some(libc::ENOTDIR) => unsafe_path(shown),
            _ => StoreError::io(shown, e),
        })?;
    }
    Ok(dir)
}

struct Meta {
    uid: u32,
    gid: u32,
    mode: u32,
    mtime: i64,
}

fn meta_of(h: &tar::Header, shown: &Path) -> Result<Meta> {
    let bad =
        |what: &str| StoreError::Corrupt(format!("{}: bad {what} in tar header", shown.display()));
    // Empty numeric fields mean 0, as Go's archive/tar (and so Docker) reads them.
    let uid = h.uid().unwrap_or(0);
    let gid = h.gid().unwrap_or(0);
    let default_mode = if h.entry_type().is_dir() {
        0o755
    } else {
        0o644
    };
    Ok(Meta {
        uid: u32::try_from(uid).map_err(|_| bad("uid"))?,
        gid: u32::try_from(gid).map_err(|_| bad("gid"))?,
        mode: h.mode().unwrap_or(default_mode),
        mtime: h
            .mtime()
            .ok()
            .and_then(|m| i64::try_from(m).ok())
            .unwrap_or(0),
    })
}

/// Remove whatever is at `name` unless it is a directory and `keep_dir`.
/// With `no_dir_swap`, replacing a directory by a non-directory (or the reverse) is an error.
fn clear(dir: &DirFd, name: &OsStr, keep_dir: bool, no_dir_swap: bool, shown: &Path) -> Result<bool> {
    let Some(st) = dir.lstat(name).map_err(|e| StoreError::io(shown, e))? else {
        return Ok(false);
    };
    let is_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
    if no_dir_swap && is_dir != keep_dir {
        let (old, new) = if is_dir { ("directory", "non-directory") } else { ("non-directory", "directory") };
        return Err(StoreError::Conflict(format!("cannot overwrite {old} {:?} with {new}", shown.display().to_string())));
    }
    if is_dir && keep_dir {
        return Ok(true);
    }
    if is_dir {
        dir.remove_tree(name).map_err(|e| StoreError::io(shown, e))?;
    } else {
        dir.unlink(name, false).map_err(|e| StoreError::io(shown, e))?;
    }
    Ok(false)
}

/// Extended attributes from PAX headers that are safe to restore (never `trusted.*`,
/// which would let a layer forge overlay metadata).
fn xattrs(entry: &mut tar::Entry<impl Read>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(Some(exts)) = entry.pax_extensions() {
        for ext in exts.flatten() {
            if let Some(name) = ext.key_bytes().strip_prefix(b"SCHILY.xattr.") {
                if name.starts_with(b"user.") || name.starts_with(b"security.") {
                    out.push((name.to_vec(), ext.value_bytes().to_vec()));
                }
            }
        }
    }
    out
}

/// How `extract_into` treats a plain (non-layer) tar, as Docker's `PUT .../archive`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ExtractOptions {
    /// Fail rather than replace a directory by a non-directory or the reverse.
    pub no_overwrite_dir_non_dir: bool,
    /// Own every entry by this uid/gid instead of the header's.
    pub chown: Option<(u32, u32)>,
}

/// Unpack the layer tar `reader` into the existing directory `dest` (whiteouts become
/// overlay whiteouts). Returns the total size of regular file content written.
pub(crate) fn extract(dest: &Path, reader: impl Read) -> Result<u64> {
    let root = DirFd::open(dest).map_err(|e| StoreError::io(dest, e))?;
    unpack(&root, reader, true, ExtractOptions::default())
}

/// Unpack a plain tar into the directory `dir` (an fd, O_PATH is enough), for `cp`.
/// Every entry is created relative to `dir` with the layer extractor's guarantees:
/// nothing is ever written through a symlink or outside `dir`, whatever the tar holds
/// or the tree does meanwhile. `.wh.` names are ordinary files here.
pub fn extract_into(dir: &impl std::os::fd::AsFd, reader: impl Read, opts: ExtractOptions) -> Result<u64> {
    let fd = dir.as_fd().try_clone_to_owned().map_err(|e| StoreError::io("<extraction dir>", e))?;
    unpack(&DirFd::from_fd(fd), reader, false, opts)
}

fn unpack(root: &DirFd, reader: impl Read, layer: bool, opts: ExtractOptions) -> Result<u64> {
    let dest = Path::new("");
    let no_swap = opts.no_overwrite_dir_non_dir;
    let mut archive = tar::Archive::new(crate::TarGuard::new(reader));
    let mut size = 0u64;
    let mut dir_times: Vec<(Vec<OsString>, i64)> = Vec::new();
    let entries = archive.entries().map_err(|e| StoreError::io(dest, e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| StoreError::Corrupt(format!("layer tar: {e}")))?;
        let raw = entry
            .path()
            .map_err(|e| StoreError::Corrupt(format!("layer tar path: {e}")))?
            .into_owned();
        let comps = clean_path(&raw)?;
        let Some(name) = comps.last().cloned() else {
            continue;
        }; // the root itself
        let kind = entry.header().entry_type();
        let mut meta = meta_of(entry.header(), &raw)?;
        if let Some((uid, gid)) = opts.chown {
            (meta.uid, meta.gid) = (uid, gid);
        }
        let parent = open_parent(root, &comps, &raw, true)?;
        let io_err = |e: io::Error| StoreError::io(&raw, e);

        let name_bytes = name.as_bytes();
        if layer && name_bytes == OPAQUE.as_bytes() {
            set_fd_xattr(parent.fd(), b"trusted.overlay.opaque", b"y").map_err(io_err)?;
            continue;
        }
        if let Some(hidden) = name_bytes.strip_prefix(WHITEOUT_PREFIX.as_bytes()).filter(|_| layer) {
            if hidden.starts_with(WHITEOUT_PREFIX.as_bytes()) {
                continue; // other aufs metadata (.wh..wh.plnk etc.)
            }
            if hidden.is_empty() || hidden == b"." || hidden == b".." {
                return Err(unsafe_path(&raw));
            }
            let hidden = OsStr::from_bytes(hidden);
            clear(&parent, hidden, false, false, &raw)?;
            parent.mknod(hidden, libc::S_IFCHR, 0).map_err(io_err)?;
            parent
                .set_owner_times(hidden, meta.uid, meta.gid, meta.mtime)
                .map_err(io_err)?;
            continue;
        }

        match kind {
            EntryType::Directory => {
                if !clear(&parent, &name, true, no_swap, &raw)? {
                    parent.mkdir(&name, 0o700).map_err(io_err)?;
                }
                let d = parent.child(&name, false).map_err(io_err)?;
                set_fd_meta(d.fd(), meta.uid, meta.gid, meta.mode, None).map_err(io_err)?;
                for (k, v) in xattrs(&mut entry) {
                    let _ = set_fd_xattr(d.fd(), &k, &v);
                }
                dir_times.push((comps, meta.mtime));
            }
            EntryType::Regular | EntryType::Continuous => {
                clear(&parent, &name, false, no_swap, &raw)?;
                let xa = xattrs(&mut entry);
                let mut f = parent.create_file(&name).map_err(io_err)?;
                size += io::copy(&mut entry, &mut f).map_err(io_err)?;
                use std::os::fd::AsRawFd;
                set_fd_meta(
                    f.as_raw_fd(),
                    meta.uid,
                    meta.gid,
                    meta.mode,
                    Some(meta.mtime),
                )
                .map_err(io_err)?;
                for (k, v) in xa {
                    let _ = set_fd_xattr(f.as_raw_fd(), &k, &v);
                }
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("{}: symlink without target", raw.display()))
                    })?
                    .into_owned();
                clear(&parent, &name, false, no_swap, &raw)?;
                // The target is stored verbatim: it is only data here, never followed.
                parent.symlink(&target, &name).map_err(io_err)?;
                parent
                    .set_owner_times(&name, meta.uid, meta.gid, meta.mtime)
                    .map_err(io_err)?;
            }
            EntryType::Link => {
                let target = entry
                    .link_name()
                    .map_err(|e| StoreError::Corrupt(format!("{}: {e}", raw.display())))?
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("{}: hardlink without target", raw.display()))
                    })?
                    .into_owned();
                let tcomps = clean_path(&target)?;
                let Some(tname) = tcomps.last() else {
                    return Err(unsafe_path(&target));
                };
                if tcomps == comps {
                    continue;
                }
                let tparent = open_parent(root, &tcomps, &target, false)?;
                clear(&parent, &name, false, no_swap, &raw)?;
                parent.link_from(&tparent, tname, &name).map_err(io_err)?;
            }
            EntryType::Fifo => {
                clear(&parent, &name, false, no_swap, &raw)?;
                parent
                    .mknod(&name, libc::S_IFIFO | 0o600, 0)
                    .map_err(io_err)?;
                parent
                    .set_owner_times(&name, meta.uid, meta.gid, meta.mtime)
                    .map_err(io_err)?;
                parent.chmod(&name, meta.mode & 0o7777).map_err(io_err)?;
            }
            // Devices from a layer are refused (a container must not get host devices
            // this way); PAX/GNU metadata entries are consumed by the tar crate.
            _ => {}
        }
    }
    // Directory times last: creating children changed them.
    for (comps, mtime) in dir_times.iter().rev() {
        let shown = comps.iter().collect::<std::path::PathBuf>();
        let parent = open_parent(root, comps, &shown, false)?;
        if let Some(name) = comps.last() {
            if let Ok(d) = parent.child(name, false) {
                set_fd_times(d.fd(), *mtime).map_err(|e| StoreError::io(&shown, e))?;
            }
        }
    }
    Ok(size)
}
