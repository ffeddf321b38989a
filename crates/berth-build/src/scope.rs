//! Paths resolved inside a root directory (a context or a rootfs), the way
//! `FollowSymlinkInScope` does: every symlink on the way is followed, but an absolute
//! target restarts at the root and `..` never climbs above it, so the result is always
//! under the root whatever links the tree holds.

use std::io;
use std::path::{Component, Path, PathBuf};

/// Follows at most this many links, as Linux does for one lookup.
const MAX_LINKS: usize = 40;

/// Resolves `path` (absolute or relative, interpreted from the root) under `root`,
/// following every symlink inside the root's scope. Missing components are kept as
/// written (the result may not exist).
pub fn resolve(root: &Path, path: &str) -> io::Result<PathBuf> {
    resolve_inner(root, path, true)
}

/// Like [`resolve`] but leaves the last component unresolved (for writing a file over
/// whatever is there, never through it).
pub fn resolve_parent(root: &Path, path: &str) -> io::Result<PathBuf> {
    resolve_inner(root, path, false)
}

fn resolve_inner(root: &Path, path: &str, follow_last: bool) -> io::Result<PathBuf> {
    // The components still to walk, front first.
    let mut todo: Vec<String> = split(path);
    todo.reverse();
    let mut cur: Vec<String> = Vec::new();
    let mut links = 0;
    while let Some(comp) = todo.pop() {
        match comp.as_str() {
            "." | "" => continue,
            ".." => {
                cur.pop();
                continue;
            }
            _ => {}
        }
        let is_last = todo.is_empty();
        let mut candidate = root.to_path_buf();
        candidate.extend(cur.iter());
        candidate.push(&comp);
        if is_last && !follow_last {
            cur.push(comp);
            break;
        }
        match std::fs::symlink_metadata(&candidate) {
            Ok(md) if md.file_type().is_symlink() => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(io::Error::other(format!(
                        "too many links resolving {path}"
                    )));
                }
                let target = std::fs::read_link(&candidate)?;
                let target = target.to_string_lossy().into_owned();
                if target.starts_with('/') {
                    cur.clear();
                }
                let mut more = split(&target);
                more.reverse();
                todo.extend(more);
            }
            _ => cur.push(comp),
        }
    }
    let mut out = root.to_path_buf();
    out.extend(cur.iter());
    Ok(out)
}

fn split(p: &str) -> Vec<String> {
    Path::new(p)
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

/// Go's `path.Clean` on a slash path.
pub fn clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_stay_in_scope() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        let r = t.path();
        std::fs::create_dir_all(r.join("real/sub"))?;
        symlink("/etc", r.join("abs"))?;
        symlink("../../../..", r.join("real/up"))?;
        symlink("real", r.join("rel"))?;
        symlink("loop", r.join("loop"))?;
        assert_eq!(resolve(r, "/abs/passwd")?, r.join("etc/passwd"));
        assert_eq!(resolve(r, "real/up/x")?, r.join("x"));
        assert_eq!(resolve(r, "rel/sub")?, r.join("real/sub"));
        assert_eq!(resolve(r, "../../x")?, r.join("x"));
        assert_eq!(resolve_parent(r, "/abs")?, r.join("abs"));
        assert!(resolve(r, "loop/x").is_err());
        Ok(())
    }

    #[test]
    fn cleans() {
        assert_eq!(clean("/a/../../b/./c/"), "/b/c");
        assert_eq!(clean("./x"), "x");
        assert_eq!(clean(""), ".");
    }
}
