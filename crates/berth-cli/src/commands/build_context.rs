//! The build context as `berth build` sends it: the context directory as
//! a tar (owners 0:0, as the docker CLI sends them) without what
//! `.dockerignore` excludes; a tarball or a lone Dockerfile from stdin;
//! a Dockerfile outside the context added under a private name; secrets
//! under `.berth-secrets/<id>` for the daemon to take out before the build.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// What goes to the daemon.
pub struct Prepared {
    pub tar: Vec<u8>,
    /// The Dockerfile's name inside the context.
    pub dockerfile: String,
}

/// Where the Dockerfile comes from.
pub enum DockerfileSource {
    /// The default: `Dockerfile` in the context.
    Default,
    /// `-f PATH` (relative to the working directory, as docker's).
    Path(PathBuf),
    /// `-f -`
    Stdin,
    /// The text itself (compose's `dockerfile_inline`).
    Inline(Vec<u8>),
}

const STDIN_DOCKERFILE: &str = ".berth-dockerfile-stdin";

fn header(size: u64, mode: u32, mtime: u64, kind: tar::EntryType) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(mtime);
    h.set_uid(0);
    h.set_gid(0);
    h
}

fn append_bytes(b: &mut tar::Builder<&mut Vec<u8>>, name: &str, data: &[u8], mode: u32) -> anyhow::Result<()> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let mut h = header(data.len() as u64, mode, now, tar::EntryType::Regular);
    b.append_data(&mut h, name, data)?;
    Ok(())
}

/// Whether `data` is a tar (ustar magic) or a compressed stream the daemon unpacks.
fn is_archive(data: &[u8]) -> bool {
    let tar = data.len() > 262 && &data[257..262] == b"ustar";
    let compressed = data.starts_with(&[0x1f, 0x8b]) || data.starts_with(b"BZh") || data.starts_with(&[0xfd, b'7', b'z', b'X', b'Z']);
    tar || compressed
}

/// `berth build -`: stdin holds a context tarball or a Dockerfile.
pub fn from_stdin(data: Vec<u8>, dockerfile: &DockerfileSource) -> anyhow::Result<Prepared> {
    if is_archive(&data) {
        let name = match dockerfile {
            DockerfileSource::Path(p) => p.to_string_lossy().into_owned(),
            _ => "Dockerfile".into(),
        };
        return Ok(Prepared { tar: data, dockerfile: name });
    }
    let mut tar = Vec::new();
    {
        let mut b = tar::Builder::new(&mut tar);
        append_bytes(&mut b, "Dockerfile", &data, 0o644)?;
        b.finish()?;
    }
    Ok(Prepared { tar, dockerfile: "Dockerfile".into() })
}

/// A context directory, filtered by its ignore file.
pub fn from_dir(dir: &Path, dockerfile: &DockerfileSource, secrets: &[(String, PathBuf)]) -> anyhow::Result<Prepared> {
    let meta = std::fs::metadata(dir).with_context(|| format!("unable to prepare context: path {:?} not found", dir.display().to_string()))?;
    if !meta.is_dir() {
        bail!("unable to prepare context: context must be a directory: {}", dir.display());
    }
    let root = dir.canonicalize()?;
    // The Dockerfile: inside the context → its relative name; outside → added.
    let mut extra: Option<(String, Vec<u8>)> = None;
    let name = match dockerfile {
        DockerfileSource::Default => "Dockerfile".to_string(),
        DockerfileSource::Stdin => {
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut data)?;
            extra = Some((STDIN_DOCKERFILE.into(), data));
            STDIN_DOCKERFILE.into()
        }
        DockerfileSource::Inline(data) => {
            extra = Some((".berth-dockerfile-inline".into(), data.clone()));
            ".berth-dockerfile-inline".into()
        }
        DockerfileSource::Path(p) => {
            let abs = std::path::absolute(p)?;
            let abs = abs.canonicalize().with_context(|| format!("unable to prepare context: the Dockerfile ({}) cannot be read", p.display()))?;
            match abs.strip_prefix(&root) {
                Ok(rel) => rel.to_string_lossy().into_owned(),
                Err(_) => {
                    let data = std::fs::read(&abs)?;
                    extra = Some((".berth-dockerfile-outside".into(), data));
                    ".berth-dockerfile-outside".into()
                }
            }
        }
    };
    let matcher = ignore_file(&root, &name)?;
    let mut tar = Vec::new();
    {
        let mut b = tar::Builder::new(&mut tar);
        b.follow_symlinks(false);
        walk(&mut b, &root, Path::new(""), matcher.as_ref(), &name)?;
        if let Some((n, data)) = &extra {
            append_bytes(&mut b, n, data, 0o644)?;
        }
        for (id, src) in secrets {
            let data = std::fs::read(src).with_context(|| format!("reading secret {id} from {}", src.display()))?;
            append_bytes(&mut b, &format!(".berth-secrets/{id}"), &data, 0o600)?;
        }
        b.finish()?;
    }
    Ok(Prepared { tar, dockerfile: name })
}

/// The ignore patterns that apply: `<Dockerfile>.dockerignore`, else `.dockerignore`.
fn ignore_file(root: &Path, dockerfile: &str) -> anyhow::Result<Option<berth_build::ignore::Matcher>> {
    for p in [root.join(format!("{dockerfile}.dockerignore")), root.join(".dockerignore")] {
        if p.is_file() {
            let text = std::fs::read_to_string(&p)?;
            return Ok(Some(berth_build::ignore::Matcher::from_file_contents(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?));
        }
    }
    Ok(None)
}

fn walk(b: &mut tar::Builder<&mut Vec<u8>>, root: &Path, rel: &Path, m: Option<&berth_build::ignore::Matcher>, dockerfile: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mut entries: Vec<_> = std::fs::read_dir(root.join(rel))?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let child = rel.join(e.file_name());
        let name = child.to_string_lossy().into_owned();
        let md = e.path().symlink_metadata()?;
        // The Dockerfile and the ignore files always go: the daemon needs them.
        let always = name == dockerfile || name == ".dockerignore" || name == format!("{dockerfile}.dockerignore");
        let excluded = !always && m.is_some_and(|m| m.excluded(&name));
        if excluded && !(md.is_dir() && m.is_some_and(|m| m.has_exceptions())) {
            continue;
        }
        let mtime = md.mtime().max(0) as u64;
        let mode = md.mode() & 0o7777;
        if md.is_dir() {
            if !excluded {
                let mut h = header(0, mode, mtime, tar::EntryType::Directory);
                b.append_data(&mut h, format!("{name}/"), std::io::empty())?;
            }
            walk(b, root, &child, m, dockerfile)?;
        } else if md.file_type().is_symlink() {
            let target = std::fs::read_link(e.path())?;
            let mut h = header(0, mode, mtime, tar::EntryType::Symlink);
            b.append_link(&mut h, &name, &target)?;
        } else if md.is_file() {
            let mut h = header(md.len(), mode, mtime, tar::EntryType::Regular);
            let f = std::fs::File::open(e.path()).with_context(|| format!("reading {}", e.path().display()))?;
            b.append_data(&mut h, &name, f)?;
        }
        // Sockets, fifos and devices are not sent, as docker's CLI skips them.
    }
    Ok(())
}

/// `--secret id=X,src=F` (also `source=`, `type=file`).
pub fn parse_secret(s: &str) -> anyhow::Result<(String, PathBuf)> {
    let (mut id, mut src) = (None, None);
    for part in s.split(',') {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        match k {
            "id" => id = Some(v.to_string()),
            "src" | "source" => src = Some(PathBuf::from(v)),
            "type" if v == "file" => {}
            _ => bail!("invalid secret {s:?}: berth takes id=ID,src=FILE"),
        }
    }
    let id = id.filter(|i| !i.is_empty() && !i.contains('/')).ok_or_else(|| anyhow::anyhow!("invalid secret {s:?}: missing id"))?;
    let src = match src {
        Some(p) => p,
        None => PathBuf::from(&id),
    };
    Ok((id, src))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_dockerfile_becomes_a_context() {
        let p = from_stdin(b"FROM busybox\n".to_vec(), &DockerfileSource::Default).unwrap();
        let mut a = tar::Archive::new(&p.tar[..]);
        let names: Vec<String> = a.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, vec!["Dockerfile"]);
    }

    #[test]
    fn secrets_parse() {
        assert_eq!(parse_secret("id=tok,src=/tmp/x").unwrap(), ("tok".to_string(), PathBuf::from("/tmp/x")));
        assert!(parse_secret("id=a/b,src=x").is_err());
        assert!(parse_secret("env=X").is_err());
    }
}
