//! `cp`: `HEAD`/`GET`/`PUT /containers/{id}/archive`.
//!
//! The container's tree is hostile and may change while we work: paths are
//! resolved with `berth_runtime::InRoot` (openat2 RESOLVE_IN_ROOT, one
//! component at a time, symlinks resolved against our own fd stack), and
//! the tar is read or written with berth-store's fd-relative walkers, so no
//! step leaves the rootfs. Volumes and binds are laid over their
//! destinations (paths under them reach the host source, as inside the
//! container). A stopped container's rootfs is mounted for the operation,
//! under the container's op lock, and unmounted after.

use super::manager::{Container, ContainerManager};
use super::record::ContainerRecord;
use crate::volume::MountType;
use berth_api::archive::{go_file_mode, PathStat};
use berth_api::ApiError;
use berth_runtime::{InRoot, Resolved};
use bytes::Bytes;
use std::io::Read;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// `PUT` query options.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractRequest {
    pub no_overwrite_dir_non_dir: bool,
    pub copy_uid_gid: bool,
}

/// Docker's error for a path missing in the container.
fn not_found(path: &str, name: &str) -> ApiError {
    ApiError::not_found(format!("Could not find the file {path} in container {name}"))
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e.to_string())
}

/// Docker's `filepath.Base` of the absolute path, which keeps a trailing `/.` as `.`.
fn base_name(path: &str) -> String {
    if path.ends_with("/.") || path == "." {
        return ".".into();
    }
    match path.trim_end_matches('/').rsplit('/').next() {
        Some("") | None => "/".into(),
        Some(b) => b.to_string(),
    }
}

/// A trailing `/` or `/.` makes the final component a directory to enter (follow it).
fn follows_last(path: &str) -> bool {
    path.ends_with('/') || path.ends_with("/.") || path == "."
}

fn stat_of(path: &str, r: &Resolved, tree: &InRoot) -> Result<PathStat, ApiError> {
    let mode = go_file_mode(r.stat.st_mode);
    let link_target = if r.stat.st_mode & libc::S_IFMT == libc::S_IFLNK {
        match tree.resolve(path, true) {
            Ok(Some(t)) => t.path,
            // Dangling: the link's own text, taken from its directory.
            _ => {
                let text = berth_runtime::read_link_fd(&r.fd).map_err(internal)?;
                let text = String::from_utf8_lossy(&text).into_owned();
                if text.starts_with('/') {
                    text
                } else {
                    let dir = r.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
                    format!("{dir}/{text}")
                }
            }
        }
    } else {
        String::new()
    };
    Ok(PathStat {
        name: base_name(path),
        size: r.stat.st_size,
        mode,
        mtime: berth_api::time::format_rfc3339_nanos(i128::from(r.stat.st_mtime) * 1_000_000_000 + i128::from(r.stat.st_mtime_nsec)),
        link_target,
    })
}

/// The container's tree: its rootfs with its volume and bind mounts laid over.
fn tree_of(rec: &ContainerRecord, rootfs: &std::path::Path) -> Result<InRoot, ApiError> {
    let mut tree = InRoot::open(rootfs).map_err(internal)?;
    for m in &rec.mounts {
        if matches!(m.kind, MountType::Volume | MountType::Bind) && !m.source.is_empty() {
            tree = tree.with_mount(&m.destination, std::path::Path::new(&m.source));
        }
    }
    Ok(tree)
}

fn absolute(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

impl ContainerManager {
    /// Runs `f` on the container's tree (its rootfs plus mounts); see
    /// `with_rootfs` for the mounting of a stopped container.
    async fn with_tree<T: Send + 'static>(
        self: &Arc<Self>,
        c: &Arc<Container>,
        f: impl FnOnce(&ContainerRecord, &std::path::Path, &InRoot) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.with_rootfs(c, move |rec, root| tree_of(rec, root).and_then(|tree| f(rec, root, &tree))).await
    }

    /// `HEAD /containers/{id}/archive?path=`.
    pub async fn stat_path(self: &Arc<Self>, c: &Arc<Container>, name: &str, path: &str) -> Result<PathStat, ApiError> {
        let (path, name) = (absolute(path), name.to_string());
        self.with_tree(c, move |_, _, tree| {
            let r = tree.resolve(&path, follows_last(&path)).map_err(internal)?.ok_or_else(|| not_found(&path, &name))?;
            stat_of(&path, &r, tree)
        })
        .await
    }

    /// `GET /containers/{id}/archive?path=`: the stat goes to `stat_tx` before the
    /// tar streams into `tx`.
    pub async fn get_archive(
        self: &Arc<Self>,
        c: Arc<Container>,
        name: String,
        path: String,
        stat_tx: oneshot::Sender<Result<PathStat, ApiError>>,
        tx: mpsc::Sender<Bytes>,
    ) {
        let path = absolute(&path);
        // The body ends when the last sender goes: hold one until a stopped
        // container's rootfs is unmounted again, so a client that has read
        // the whole tar finds nothing left mounted (as after a PUT).
        let until_unmounted = tx.clone();
        let res = self
            .with_tree(&c, move |_, _, tree| {
                let found = tree
                    .resolve(&path, follows_last(&path))
                    .map_err(internal)
                    .and_then(|r| r.ok_or_else(|| not_found(&path, &name)))
                    .and_then(|r| Ok((stat_of(&path, &r, tree)?, r)));
                let (stat, r) = match found {
                    Ok(v) => v,
                    Err(e) => {
                        let _ = stat_tx.send(Err(e));
                        return Ok(());
                    }
                };
                let entry = if stat.name == "/" { ".".to_string() } else { stat.name.clone() };
                let _ = stat_tx.send(Ok(stat));
                berth_store::archive_entry(&r.fd, &entry, crate::http::stream_io::ChannelWriter::new(tx)).map_err(internal)
            })
            .await;
        drop(until_unmounted);
        match res {
            Ok(()) => self.emit(&c, "archive-path", &[]),
            Err(e) => crate::daemon::log(&format!("{}: archive: {}", c.id, e.message)),
        }
    }

    /// `PUT /containers/{id}/archive?path=`: extracts the tar into the directory `path`.
    pub async fn put_archive(
        self: &Arc<Self>,
        c: &Arc<Container>,
        name: &str,
        path: &str,
        req: ExtractRequest,
        body: impl Read + Send + 'static,
    ) -> Result<(), ApiError> {
        let (path, name) = (absolute(path), name.to_string());
        self.with_tree(c, move |rec, rootfs, tree| {
            let r = tree.resolve(&path, true).map_err(internal)?.ok_or_else(|| not_found(&path, &name))?;
            if r.stat.st_mode & libc::S_IFMT != libc::S_IFDIR {
                return Err(ApiError::invalid("extraction point is not a directory"));
            }
            let vol = r.mount.and_then(|i| rec.mounts.iter().filter(|m| matches!(m.kind, MountType::Volume | MountType::Bind) && !m.source.is_empty()).nth(i));
            match vol {
                Some(m) if !m.rw => return Err(ApiError::invalid("mounted volume is marked read-only")),
                None if rec.host_config.readonly_rootfs => return Err(ApiError::invalid("container rootfs is marked read-only")),
                _ => {}
            }
            let chown = if req.copy_uid_gid && !rec.config.user.is_empty() {
                let u = berth_runtime::resolve_user(rootfs, &rec.config.user).map_err(|e| ApiError::invalid(e.to_string()))?;
                Some((u.uid, u.gid))
            } else {
                None
            };
            let opts = berth_store::ExtractOptions { no_overwrite_dir_non_dir: req.no_overwrite_dir_non_dir, chown };
            berth_store::extract_into(&r.fd, body, opts).map(|_| ()).map_err(|e| match e {
                // What the client's tar holds or how it is damaged: its fault, a 400.
                berth_store::StoreError::Conflict(m) | berth_store::StoreError::UnsafePath(m) | berth_store::StoreError::Corrupt(m) => ApiError::invalid(m),
                e => internal(e),
            })
        })
        .await?;
        self.emit(c, "extract-to-dir", &[]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_base_names() {
        for (p, b, f) in [("/etc/passwd", "passwd", false), ("/etc/", "etc", true), ("/etc/.", ".", true), ("/", "/", true), ("/a//", "a", true)] {
            assert_eq!((base_name(p).as_str(), follows_last(p)), (b, f), "{p}");
        }
    }
}
