//! COPY and ADD: selecting sources inside a root (the context or a stage/image rootfs),
//! hashing them for the cache (paths, types, modes, contents, link targets — never
//! mtimes), and copying them into a rootfs with Docker's directory semantics.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};


use crate::archive;
use crate::fsx::{self, Owner};
use crate::ignore;
use crate::scope;
use crate::srchash;
use crate::xattr;

/// One resolved source.
#[derive(Debug, Clone)]
pub struct Item {
    /// The name a file gets inside a directory destination (the source's base name as
    /// written, so a symlink keeps its own name).
    pub name: String,
    pub kind: ItemKind,
}

#[derive(Debug, Clone)]
pub enum ItemKind {
    /// A file or directory on disk: its root, its path under the root as written, and
    /// where that resolves.
    Path { root: PathBuf, rel: String, abs: PathBuf, may_unpack: bool },
    /// An inline file (heredoc) or a downloaded one read into memory.
    Bytes { content: Vec<u8>, mode: u32, mtime: Option<std::time::SystemTime> },
}

/// A source that does not exist; the executor words the message.
#[derive(Debug)]
pub enum SourceError {
    NotFound(String),
    Other(String),
}

pub fn has_wildcards(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Resolves one source path under `root`: leading `/` and `./` dropped, symlinks
/// followed inside the root's scope, wildcards matched per path segment.
pub fn select(root: &Path, src: &str, may_unpack: bool) -> Result<Vec<Item>, SourceError> {
    let cleaned = scope::clean(&format!("/{src}"));
    let rel = cleaned.trim_start_matches('/').to_string();
    if has_wildcards(&rel) {
        let matcher = ignore::Matcher::new(std::slice::from_ref(&rel))
            .map_err(SourceError::Other)?;
        let all = ignore::included_paths(root, &ignore::Matcher::default())
            .map_err(|e| SourceError::Other(e.to_string()))?;
        let mut out = Vec::new();
        for p in all {
            if matcher.matches_exactly(&p) {
                out.extend(select(root, &p, may_unpack)?);
            }
        }
        return Ok(out);
    }
    let abs = scope::resolve(root, &rel).map_err(|e| SourceError::Other(e.to_string()))?;
    if fs::symlink_metadata(&abs).is_err() {
        return Err(SourceError::NotFound(if rel.is_empty() { ".".into() } else { rel }));
    }
    let name = rel.rsplit('/').next().unwrap_or_default().to_string();
    let rel = if rel.is_empty() { ".".to_string() } else { rel };
    Ok(vec![Item {
        name,
        kind: ItemKind::Path { root: root.to_path_buf(), rel, abs, may_unpack },
    }])
}

/// `file:<hex>` or `dir:<hex>`, exactly as the classic builder labels sources in history
/// (see `srchash`); content, modes, owners and link targets count, mtimes do not.
pub fn hash_item(item: &Item, exclude: Option<&ignore::Matcher>) -> io::Result<String> {
    match &item.kind {
        ItemKind::Bytes { content, mode, .. } => Ok(format!("file:{}", srchash::bytes(&item.name, *mode, content))),
        ItemKind::Path { root, rel, abs, .. } => {
            if fs::metadata(abs)?.is_dir() {
                srchash::dir(root, rel, exclude)
            } else {
                Ok(format!("file:{}", srchash::entry(root, rel)?))
            }
        }
    }
}

/// How to write what a COPY/ADD selected.
#[derive(Debug, Clone, Copy)]
pub struct CopyOpts<'a> {
    pub owner: Owner,
    pub chmod: Option<u32>,
    /// ADD: unpack local tar archives.
    pub unpack: bool,
    /// `--exclude` patterns, matched against paths under a copied directory.
    pub exclude: Option<&'a ignore::Matcher>,
}

/// Copies `item` to `dest` (an absolute slash path in `rootfs`; a trailing `/` means a
/// directory), with Docker's rules: a directory's contents go into `dest`; a file goes
/// to `dest/<name>` when `dest` ends in `/` or is an existing directory, else to `dest`.
pub fn copy_item(item: &Item, rootfs: &Path, dest: &str, o: CopyOpts<'_>) -> Result<(), String> {
    let dest_is_dir_syntax = dest.ends_with('/');
    let io_err = |e: io::Error| e.to_string();
    match &item.kind {
        ItemKind::Path { abs, may_unpack, .. } => {
            let md = fs::metadata(abs).map_err(io_err)?;
            if md.is_dir() {
                // As dockerd: parents are created root-owned; the destination itself
                // gets the owner only when this copy creates it.
                let existed = scope::resolve(rootfs, dest).map(|p| p.is_dir()).unwrap_or(false);
                let d = fsx::mkdir_all(rootfs, dest, Owner::Set(0, 0)).map_err(io_err)?;
                if let (false, Owner::Set(u, g)) = (existed, o.owner) {
                    fsx::lchown(&d, u, g).map_err(io_err)?;
                }
                return copy_tree(abs, abs, &d, o, &mut HashMap::new()).map_err(io_err);
            }
            if !md.is_file() {
                // Never open a FIFO (it would block the build) or a device.
                use std::os::unix::fs::FileTypeExt;
                let ft = md.file_type();
                if ft.is_fifo() {
                    let target = file_target(rootfs, dest, dest_is_dir_syntax, &item.name, o.owner)?;
                    let (uid, gid) = owner_of(o.owner, &md);
                    return fsx::write_fifo(&target, o.chmod.unwrap_or(md.mode()), uid, gid).map_err(io_err);
                }
                return Err(format!("{}: only regular files, directories, links and FIFOs can be copied", item.name));
            }
            if o.unpack && *may_unpack {
                if let archive::Kind::Tar = archive::detect(abs)? {
                    return archive::extract(abs, rootfs, dest);
                }
            }
            let target = file_target(rootfs, dest, dest_is_dir_syntax, &item.name, o.owner)?;
            let (uid, gid) = owner_of(o.owner, &md);
            let mode = o.chmod.unwrap_or(md.mode());
            let mut f = fs::File::open(abs).map_err(io_err)?;
            fsx::write_file(&target, &mut f, mode, uid, gid, md.modified().ok()).map_err(io_err)?;
            copy_caps(abs, &target).map_err(io_err)
        }
        ItemKind::Bytes { content, mode, mtime } => {
            let target = file_target(rootfs, dest, dest_is_dir_syntax, &item.name, o.owner)?;
            let (uid, gid) = match o.owner {
                Owner::Set(u, g) => (u, g),
                Owner::Preserve => (0, 0),
            };
            fsx::write_file(&target, &mut content.as_slice(), o.chmod.unwrap_or(*mode), uid, gid, *mtime)
                .map_err(io_err)
        }
    }
}

fn owner_of(owner: Owner, md: &fs::Metadata) -> (u32, u32) {
    match owner {
        Owner::Set(u, g) => (u, g),
        Owner::Preserve => (md.uid(), md.gid()),
    }
}

/// Where a single file lands; parents are created (0755, `owner`).
fn file_target(rootfs: &Path, dest: &str, dir_syntax: bool, name: &str, owner: Owner) -> Result<PathBuf, String> {
    let resolved = scope::resolve(rootfs, dest).map_err(|e| e.to_string())?;
    let into_dir = dir_syntax || fs::metadata(&resolved).map(|m| m.is_dir()).unwrap_or(false);
    if into_dir {
        if name.is_empty() {
            return Err("cannot determine filename for source".into());
        }
        let d = fsx::mkdir_all(rootfs, dest, owner).map_err(|e| e.to_string())?;
        return Ok(d.join(name));
    }
    // Like Docker, a destination that is a link is followed (inside the rootfs).
    let rel = resolved
        .strip_prefix(rootfs)
        .map_err(|e| e.to_string())?
        .to_string_lossy()
        .into_owned();
    let (parent, base) = rel.rsplit_once('/').unwrap_or(("", rel.as_str()));
    if base.is_empty() {
        return Err("cannot copy a file onto the root directory".into());
    }
    let d = fsx::mkdir_all(rootfs, &format!("/{parent}"), owner).map_err(|e| e.to_string())?;
    Ok(d.join(base))
}

/// File capabilities travel with the file (set last: chown clears them).
fn copy_caps(from: &Path, to: &Path) -> io::Result<()> {
    match xattr::get_caps(from)? {
        Some(c) => xattr::set_caps(to, &xattr::normalize(c)),
        None => Ok(()),
    }
}

/// Copies a directory's contents (not following links) into the real directory `dst`.
/// Files hard-linked together in the source stay linked (as in dockerd's tar copy).
fn copy_tree(
    base: &Path,
    src: &Path,
    dst: &Path,
    o: CopyOpts<'_>,
    seen: &mut HashMap<(u64, u64), PathBuf>,
) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(src)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let from = e.path();
        if let Some(m) = o.exclude {
            if m.excluded(&from.strip_prefix(base).map_err(io::Error::other)?.to_string_lossy()) {
                continue;
            }
        }
        let to = dst.join(e.file_name());
        let md = fs::symlink_metadata(&from)?;
        let (uid, gid) = owner_of(o.owner, &md);
        let ft = md.file_type();
        let mode = o.chmod.unwrap_or(md.mode());
        if ft.is_symlink() {
            fsx::write_symlink(&to, &fs::read_link(&from)?, uid, gid)?;
        } else if ft.is_dir() {
            fsx::write_dir(&to, mode, uid, gid)?;
            copy_tree(base, &from, &to, o, seen)?;
            // After its children: writing them moved the mtime.
            if let Ok(t) = md.modified() {
                fs::File::open(&to)?.set_modified(t)?;
            }
        } else if ft.is_file() {
            if md.nlink() > 1 {
                if let Some(first) = seen.get(&(md.dev(), md.ino())) {
                    fsx::clear(&to, false)?;
                    fs::hard_link(first, &to)?;
                    continue;
                }
                seen.insert((md.dev(), md.ino()), to.clone());
            }
            let mut f = fs::File::open(&from)?;
            fsx::write_file(&to, &mut f, mode, uid, gid, md.modified().ok())?;
            copy_caps(&from, &to)?;
        } else {
            use std::os::unix::fs::FileTypeExt;
            if ft.is_fifo() {
                fsx::write_fifo(&to, mode, uid, gid)?;
            } else if ft.is_socket() {
                // Docker's context tar leaves sockets out too.
            } else {
                return Err(io::Error::other(format!(
                    "{}: device files cannot be copied",
                    e.file_name().to_string_lossy()
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    struct Fx {
        _t: tempfile::TempDir,
        ctx: PathBuf,
        root: PathBuf,
        outside: PathBuf,
    }

    fn fx() -> io::Result<Fx> {
        let t = tempfile::tempdir()?;
        let ctx = t.path().join("ctx");
        let root = t.path().join("rootfs");
        let outside = t.path().join("outside");
        for d in [&ctx, &root, &outside] {
            fs::create_dir(d)?;
        }
        fs::write(outside.join("secret"), "s3cret")?;
        fs::create_dir_all(ctx.join("dir/sub"))?;
        fs::write(ctx.join("a.txt"), "A")?;
        fs::set_permissions(ctx.join("a.txt"), fs::Permissions::from_mode(0o751))?;
        fs::write(ctx.join("dir/sub/b.txt"), "B")?;
        symlink("sub/b.txt", ctx.join("dir/link"))?;
        fs::hard_link(ctx.join("dir/sub/b.txt"), ctx.join("dir/hard"))?;
        Ok(Fx { _t: t, ctx, root, outside })
    }

    const ROOT: CopyOpts<'static> = CopyOpts { owner: Owner::Set(0, 0), chmod: None, unpack: false, exclude: None };

    fn one(root: &Path, src: &str) -> Item {
        match select(root, src, false) {
            Ok(mut v) if v.len() == 1 => v.remove(0),
            other => panic!("select {src}: {other:?}"),
        }
    }

    #[test]
    fn file_and_directory_semantics() -> Result<(), String> {
        let f = fx().map_err(|e| e.to_string())?;
        copy_item(&one(&f.ctx, "a.txt"), &f.root, "/x/y", ROOT)?;
        copy_item(&one(&f.ctx, "a.txt"), &f.root, "/d/", ROOT)?;
        copy_item(&one(&f.ctx, "./dir"), &f.root, "/app", ROOT)?;
        assert_eq!(fs::read_to_string(f.root.join("x/y")).ok().as_deref(), Some("A"));
        assert_eq!(fs::read_to_string(f.root.join("d/a.txt")).ok().as_deref(), Some("A"));
        // A directory's contents, not the directory itself.
        assert_eq!(fs::read_to_string(f.root.join("app/sub/b.txt")).ok().as_deref(), Some("B"));
        assert_eq!(fs::read_link(f.root.join("app/link")).ok(), Some(PathBuf::from("sub/b.txt")));
        let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
        let ino = |p: &Path| fs::metadata(p).map(|m| m.ino()).ok();
        assert_eq!(ino(&f.root.join("app/hard")), ino(&f.root.join("app/sub/b.txt")), "hard links stay linked");
        assert_eq!(mtime(&f.root.join("app/sub")), mtime(&f.ctx.join("dir/sub")), "directory mtimes are kept");
        let md = fs::metadata(f.root.join("x/y")).map_err(|e| e.to_string())?;
        assert_eq!(md.mode() & 0o7777, 0o751);
        let md = fs::metadata(f.root.join("x")).map_err(|e| e.to_string())?;
        assert_eq!(md.mode() & 0o7777, 0o755);
        // Existing directory without a trailing slash: the file goes inside.
        copy_item(&one(&f.ctx, "a.txt"), &f.root, "/app", ROOT)?;
        assert!(f.root.join("app/a.txt").is_file());
        Ok(())
    }

    #[test]
    fn wildcards_and_missing() {
        let f = fx().unwrap_or_else(|e| panic!("{e}"));
        let v = select(&f.ctx, "*.txt", false).unwrap_or_default();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].name, "a.txt");
        assert_eq!(select(&f.ctx, "d?r/sub/*", false).map(|v| v.len()).unwrap_or(0), 1);
        assert!(matches!(select(&f.ctx, "nope", false), Err(SourceError::NotFound(p)) if p == "nope"));
        assert!(select(&f.ctx, "*.none", false).map(|v| v.is_empty()).unwrap_or(false));
    }

    #[test]
    fn sources_never_leave_the_context() -> io::Result<()> {
        let f = fx()?;
        symlink(f.outside.join("secret"), f.ctx.join("abs-link"))?;
        symlink("../outside/secret", f.ctx.join("rel-link"))?;
        // Links out of the context resolve inside it: nothing there → not found.
        assert!(matches!(select(&f.ctx, "abs-link", false), Err(SourceError::NotFound(_))));
        assert!(matches!(select(&f.ctx, "rel-link", false), Err(SourceError::NotFound(_))));
        assert!(matches!(select(&f.ctx, "../outside/secret", false), Err(SourceError::NotFound(_))));
        // A link to a file inside the context copies the file, under the link's name.
        symlink("a.txt", f.ctx.join("alias"))?;
        copy_item(&one(&f.ctx, "alias"), &f.root, "/o/", ROOT).map_err(io::Error::other)?;
        assert_eq!(fs::read_to_string(f.root.join("o/alias"))?, "A");
        Ok(())
    }

    #[test]
    fn writes_never_leave_the_rootfs() -> io::Result<()> {
        let f = fx()?;
        // The base image holds links pointing out of the rootfs.
        symlink(&f.outside, f.root.join("evil-dir"))?;
        symlink(f.outside.join("secret"), f.root.join("evil-file"))?;
        symlink("../../../../../..", f.root.join("up"))?;
        copy_item(&one(&f.ctx, "a.txt"), &f.root, "/evil-dir/", ROOT).map_err(io::Error::other)?;
        copy_item(&one(&f.ctx, "a.txt"), &f.root, "/evil-file", ROOT).map_err(io::Error::other)?;
        copy_item(&one(&f.ctx, "dir"), &f.root, "/up/tmp/x", ROOT).map_err(io::Error::other)?;
        assert_eq!(fs::read_to_string(f.outside.join("secret"))?, "s3cret");
        assert_eq!(fs::read_dir(&f.outside)?.count(), 1);
        let inside = f.root.join(f.outside.strip_prefix("/").map_err(io::Error::other)?);
        assert_eq!(fs::read_to_string(inside.join("secret"))?, "A");
        assert!(f.root.join("evil-dir").is_symlink());
        assert!(f.root.join("tmp/x/sub/b.txt").is_file());
        Ok(())
    }

    #[test]
    fn fifos_are_recreated_not_read() -> io::Result<()> {
        let f = fx()?;
        fsx::write_fifo(&f.ctx.join("pipe"), 0o644, 0, 0)?;
        let it = one(&f.ctx, "pipe");
        hash_item(&it, None)?;
        copy_item(&it, &f.root, "/p", CopyOpts { unpack: true, ..ROOT }).map_err(io::Error::other)?;
        use std::os::unix::fs::FileTypeExt;
        assert!(fs::symlink_metadata(f.root.join("p"))?.file_type().is_fifo());
        Ok(())
    }

    #[test]
    fn owners_and_chmod() -> io::Result<()> {
        let f = fx()?;
        let o = CopyOpts { owner: Owner::Set(7, 8), chmod: Some(0o600), unpack: false, exclude: None };
        copy_item(&one(&f.ctx, "dir"), &f.root, "/new/place", o).map_err(io::Error::other)?;
        let md = fs::symlink_metadata(f.root.join("new/place/sub/b.txt"))?;
        assert_eq!((md.uid(), md.gid(), md.mode() & 0o7777), (7, 8, 0o600));
        let md = fs::symlink_metadata(f.root.join("new/place"))?;
        assert_eq!((md.uid(), md.gid(), md.mode() & 0o7777), (7, 8, 0o755));
        let md = fs::symlink_metadata(f.root.join("new"))?;
        assert_eq!((md.uid(), md.gid()), (0, 0), "parents of a directory copy stay root's");
        // A file copy creates its new parents with the owner (MkdirAllAndChown).
        copy_item(&one(&f.ctx, "a.txt"), &f.root, "/fresh/dir/a", o).map_err(io::Error::other)?;
        let md = fs::symlink_metadata(f.root.join("fresh"))?;
        assert_eq!((md.uid(), md.gid()), (7, 8));
        Ok(())
    }

    #[test]
    fn file_capabilities_are_copied_and_hashed() -> io::Result<()> {
        let f = fx()?;
        let before = hash_item(&one(&f.ctx, "a.txt"), None)?;
        // cap_net_raw, revision 2 (as setcap writes it for a root-owned file).
        let caps: Vec<u8> = vec![0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        // Needs CAP_SETFCAP (root, as CI runs) and a filesystem with xattrs (tmpfs has them).
        xattr::set_caps(&f.ctx.join("a.txt"), &caps)
            .map_err(|e| io::Error::other(format!("setting file capabilities (run as root): {e}")))?;
        assert_ne!(hash_item(&one(&f.ctx, "a.txt"), None)?, before);
        copy_item(&one(&f.ctx, "a.txt"), &f.root, "/bin/ping", ROOT).map_err(io::Error::other)?;
        assert_eq!(xattr::get_caps(&f.root.join("bin/ping"))?, Some(caps));
        Ok(())
    }

    #[test]
    fn hashes_ignore_mtime_but_see_content_and_mode() -> io::Result<()> {
        let f = fx()?;
        let h1 = hash_item(&one(&f.ctx, "dir"), None)?;
        let t = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(5);
        fs::File::options().write(true).open(f.ctx.join("dir/sub/b.txt"))?.set_modified(t)?;
        assert_eq!(hash_item(&one(&f.ctx, "dir"), None)?, h1);
        fs::set_permissions(f.ctx.join("dir/sub/b.txt"), fs::Permissions::from_mode(0o600))?;
        let h2 = hash_item(&one(&f.ctx, "dir"), None)?;
        assert_ne!(h2, h1);
        fs::write(f.ctx.join("dir/sub/b.txt"), "C")?;
        assert_ne!(hash_item(&one(&f.ctx, "dir"), None)?, h2);
        assert!(h1.starts_with("dir:"));
        assert!(hash_item(&one(&f.ctx, "a.txt"), None)?.starts_with("file:"));
        Ok(())
    }
}
