//! The build context as uploaded: a tar (plain or gzip), unpacked with the
//! layer extractor's guarantees (no `..`, nothing written through a
//! symlink, no device nodes) into the build's work directory; then
//! `.dockerignore` (or `<Dockerfile>.dockerignore`) removes what it
//! excludes, as dockerd's classic builder does server-side.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// How a context upload starts.
#[derive(Debug, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Other(&'static str),
}

fn sniff(head: &[u8]) -> Compression {
    match head {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [b'B', b'Z', b'h', ..] => Compression::Other("bzip2"),
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Compression::Other("xz"),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Other("zstd"),
        _ => Compression::None,
    }
}

/// Unpacks the uploaded context into `dest` (an existing empty directory).
pub fn unpack(body: impl Read, dest: &Path) -> Result<(), String> {
    let mut r = BufReader::with_capacity(64 << 10, body);
    let head = r.fill_buf().map_err(|e| format!("reading the build context: {e}"))?.to_vec();
    let dir = std::fs::File::open(dest).map_err(|e| e.to_string())?;
    let opts = berth_store::ExtractOptions::default();
    let res = match sniff(&head) {
        Compression::None => berth_store::extract_into(&dir, r, opts),
        Compression::Gzip => berth_store::extract_into(&dir, flate2::read::GzDecoder::new(r), opts),
        Compression::Other(kind) => {
            return Err(format!("the build context is {kind}-compressed; berth accepts a plain or gzip-compressed tar"))
        }
    };
    res.map(|_| ()).map_err(|e| format!("invalid build context: {e}"))
}

/// A `remote=` download: a tar (plain or gzip) is the context; anything
/// else is taken as the Dockerfile of an empty context, as dockerd takes a
/// `text/plain` answer (told here by content, not by Content-Type).
pub fn from_download(file: &Path, dest: &Path, dockerfile: &str) -> Result<(), String> {
    let mut head = [0u8; 512];
    let n = std::fs::File::open(file).and_then(|mut f| f.read(&mut head)).map_err(|e| format!("reading the build context: {e}"))?;
    let is_tar = head.get(257..262) == Some(b"ustar".as_slice());
    if is_tar || !matches!(sniff(&head[..n]), Compression::None) {
        let f = std::fs::File::open(file).map_err(|e| format!("reading the build context: {e}"))?;
        return unpack(f, dest);
    }
    let name = if dockerfile.is_empty() || dockerfile.contains('/') || dockerfile.starts_with('.') { "Dockerfile" } else { dockerfile };
    std::fs::rename(file, dest.join(name)).map_err(|e| format!("placing the downloaded Dockerfile: {e}"))
}

/// Reads the Dockerfile at `rel` inside the context; the path (and any
/// symlink on it) must stay inside. dockerd's message when it is not there.
pub fn read_dockerfile(context: &Path, rel: &str) -> Result<(String, Vec<u8>), String> {
    let rel = rel.trim_start_matches("./");
    let not_found = || format!("Cannot locate specified Dockerfile: {rel}");
    let candidates: Vec<&str> = if rel.is_empty() || rel == "Dockerfile" { vec!["Dockerfile", "dockerfile"] } else { vec![rel] };
    let root = context.canonicalize().map_err(|e| e.to_string())?;
    for c in candidates {
        let Ok(p) = context.join(c.trim_start_matches('/')).canonicalize() else { continue };
        if !p.starts_with(&root) || !p.is_file() {
            continue;
        }
        let data = std::fs::read(&p).map_err(|e| format!("reading {c}: {e}"))?;
        return Ok((c.trim_start_matches('/').to_string(), data));
    }
    Err(not_found())
}

/// Applies the context's ignore file: `<dockerfile>.dockerignore` beside a
/// custom Dockerfile wins over `.dockerignore`, as in BuildKit and the
/// docker CLI. Both were read already; like dockerd, they go from the
/// context too when the patterns exclude them.
pub fn apply_ignore(context: &Path, dockerfile: &str) -> Result<(), String> {
    let specific = PathBuf::from(format!("{dockerfile}.dockerignore"));
    let file = [specific.as_path(), Path::new(".dockerignore")].into_iter().map(|p| context.join(p)).find(|p| p.is_file() && !is_symlink(p));
    let Some(file) = file else { return Ok(()) };
    let text = std::fs::read_to_string(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    let m = berth_build::ignore::Matcher::from_file_contents(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    prune(context, Path::new(""), &m);
    Ok(())
}

fn is_symlink(p: &Path) -> bool {
    p.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink())
}

/// Removes what the matcher excludes below `rel`; a directory excluded as
/// a whole goes unless an exception may re-include something inside it.
fn prune(root: &Path, rel: &Path, m: &berth_build::ignore::Matcher) {
    let Ok(rd) = std::fs::read_dir(root.join(rel)) else { return };
    for e in rd.flatten() {
        let child = rel.join(e.file_name());
        let name = child.to_string_lossy().into_owned();
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if m.excluded(&name) {
            if is_dir && m.has_exceptions() {
                prune(root, &child, m);
                continue;
            }
            let p = root.join(&child);
            let _ = if is_dir { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
            continue;
        }
        if is_dir {
            prune(root, &child, m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_is_told_by_magic() {
        assert_eq!(sniff(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(sniff(b"BZh91AY"), Compression::Other("bzip2"));
        assert_eq!(sniff(b"Dockerfile\0\0"), Compression::None);
    }

    #[test]
    fn dockerfile_must_stay_inside() -> Result<(), String> {
        let d = tempfile::tempdir().map_err(|e| e.to_string())?;
        std::os::unix::fs::symlink("/etc/passwd", d.path().join("Dockerfile")).map_err(|e| e.to_string())?;
        assert_eq!(read_dockerfile(d.path(), "Dockerfile").err().as_deref(), Some("Cannot locate specified Dockerfile: Dockerfile"));
        std::fs::write(d.path().join("real"), "FROM scratch\n").map_err(|e| e.to_string())?;
        std::os::unix::fs::symlink("real", d.path().join("link")).map_err(|e| e.to_string())?;
        assert_eq!(read_dockerfile(d.path(), "link")?.1, b"FROM scratch\n");
        assert!(read_dockerfile(d.path(), "../x").is_err());
        Ok(())
    }
}
