//! `berth registry image`: a docker-archive (`docker save` format) of a
//! one-layer image holding the running `berth` binary, so the course's
//! `run -d -p 5000:5000 registry` works with no registry to pull from.
//!
//! A static binary goes in alone. A dynamically linked one brings what it
//! runs with: the shared libraries mapped into this very process (read from
//! /proc/self/maps, so nothing is guessed) at their paths, and the ELF
//! interpreter at the path the binary names (PT_INTERP).

use crate::error::RegistryError;
use sha2::{Digest as _, Sha256};
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Where the image keeps its data (distribution's image uses the same).
pub const DATA_DIR: &str = "/var/lib/registry";
/// Fixed timestamps keep the image reproducible for one binary.
const MTIME: u64 = 1_704_067_200;
const CREATED: &str = "2024-01-01T00:00:00Z";

/// What went into the image, for the command's report.
#[derive(Debug)]
pub struct Built {
    pub id: String,
    pub files: Vec<PathBuf>,
}

/// Writes the archive of image `tag` (e.g. `registry:latest`) to `out`.
pub fn write(out: &mut dyn Write, tag: &str) -> Result<Built, RegistryError> {
    let err = |what: &str, e: io::Error| RegistryError::Image(format!("{what}: {e}"));
    let exe = std::fs::read_link("/proc/self/exe").map_err(|e| err("/proc/self/exe", e))?;
    let mut files: Vec<(PathBuf, PathBuf)> = vec![(PathBuf::from("/berth"), exe.clone())];
    let maps = std::fs::read_to_string("/proc/self/maps").map_err(|e| err("/proc/self/maps", e))?;
    let libs = mapped_libraries(&maps, &exe);
    // Where the loader looks (it has no ld.so.cache in the image).
    let lib_dirs: BTreeSet<String> = libs.iter().filter_map(|l| l.parent().map(|p| p.display().to_string())).collect();
    for lib in libs {
        files.push((lib.clone(), lib));
    }
    if let Some(interp) = interpreter(&exe).map_err(|e| err(&exe.display().to_string(), e))? {
        let real = std::fs::canonicalize(&interp).map_err(|e| err(&interp.display().to_string(), e))?;
        if !files.iter().any(|(dest, _)| dest == &interp) {
            files.push((interp, real));
        }
    }

    let mut layer = tempfile::tempfile().map_err(|e| err("temporary file", e))?;
    write_layer(&mut layer, &files).map_err(|e| err("writing the layer", e))?;
    let layer_len = layer.seek(SeekFrom::End(0)).map_err(|e| err("layer", e))?;
    layer.seek(SeekFrom::Start(0)).map_err(|e| err("layer", e))?;
    let mut h = Sha256::new();
    io::copy(&mut layer, &mut h).map_err(|e| err("hashing the layer", e))?;
    let diff_id = hex::encode(h.finalize());
    layer.seek(SeekFrom::Start(0)).map_err(|e| err("layer", e))?;

    let mut env = vec!["PATH=/".to_string()];
    if !lib_dirs.is_empty() {
        env.push(format!("LD_LIBRARY_PATH={}", lib_dirs.into_iter().collect::<Vec<_>>().join(":")));
    }
    let config = serde_json::json!({
        "architecture": arch(), "os": "linux", "created": CREATED,
        "config": {
            "Entrypoint": ["/berth", "registry", "serve", "--addr", "0.0.0.0:5000", "--data-root", DATA_DIR],
            "ExposedPorts": {"5000/tcp": {}},
            "Env": env,
        },
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{diff_id}")]},
        "history": [{"created": CREATED, "created_by": "berth registry image"}],
    })
    .to_string();
    let config_id = hex::encode(Sha256::digest(config.as_bytes()));
    let (repo, t) = split_tag(tag);
    let manifest = serde_json::json!([{
        "Config": format!("{config_id}.json"),
        "RepoTags": [format!("{repo}:{t}")],
        "Layers": [format!("{diff_id}/layer.tar")],
    }])
    .to_string();
    let repositories = serde_json::json!({ repo: { t: diff_id } }).to_string();

    let mut tar = tar::Builder::new(out);
    let add = |tar: &mut tar::Builder<&mut dyn Write>, path: &str, len: u64, data: &mut dyn Read| {
        let mut hd = header(tar::EntryType::Regular, 0o644, len);
        tar.append_data(&mut hd, path, data)
    };
    (|| -> io::Result<()> {
        add(&mut tar, &format!("{config_id}.json"), config.len() as u64, &mut config.as_bytes())?;
        let mut hd = header(tar::EntryType::Directory, 0o755, 0);
        tar.append_data(&mut hd, format!("{diff_id}/"), io::empty())?;
        add(&mut tar, &format!("{diff_id}/layer.tar"), layer_len, &mut layer)?;
        add(&mut tar, "manifest.json", manifest.len() as u64, &mut manifest.as_bytes())?;
        add(&mut tar, "repositories", repositories.len() as u64, &mut repositories.as_bytes())?;
        tar.finish()
    })()
    .map_err(|e| err("writing the archive", e))?;
    Ok(Built { id: format!("sha256:{config_id}"), files: files.into_iter().map(|(d, _)| d).collect() })
}

fn header(kind: tar::EntryType, mode: u32, len: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(len);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(MTIME);
    h
}

/// The root filesystem: the files at their destinations, their parent
/// directories, /tmp and the data directory.
fn write_layer(out: &mut File, files: &[(PathBuf, PathBuf)]) -> io::Result<()> {
    let mut dirs = BTreeSet::new();
    for (dest, _) in files {
        let mut p = dest.parent();
        while let Some(d) = p.filter(|d| *d != Path::new("/")) {
            dirs.insert(d.to_path_buf());
            p = d.parent();
        }
    }
    for d in ["/tmp", "/var", "/var/lib", DATA_DIR] {
        dirs.insert(PathBuf::from(d));
    }
    let mut tar = tar::Builder::new(out);
    for d in &dirs {
        let mode = if d == Path::new("/tmp") { 0o1777 } else { 0o755 };
        let mut h = header(tar::EntryType::Directory, mode, 0);
        tar.append_data(&mut h, rel(d), io::empty())?;
    }
    for (dest, src) in files {
        let mut f = File::open(src)?;
        let len = f.metadata()?.len();
        let mut h = header(tar::EntryType::Regular, 0o755, len);
        tar.append_data(&mut h, rel(dest), &mut f)?;
    }
    tar.finish()
}

fn rel(p: &Path) -> PathBuf {
    p.strip_prefix("/").unwrap_or(p).to_path_buf()
}

/// Shared objects in a /proc/PID/maps text, other than the executable.
fn mapped_libraries(maps: &str, exe: &Path) -> Vec<PathBuf> {
    let mut out = BTreeSet::new();
    for line in maps.lines() {
        // address perms offset dev inode path
        let Some(path) = line.split_whitespace().nth(5) else { continue };
        let p = Path::new(path);
        let is_so = p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.contains(".so"));
        if path.starts_with('/') && is_so && p != exe && !line.ends_with("(deleted)") {
            out.insert(p.to_path_buf());
        }
    }
    out.into_iter().collect()
}

/// The ELF interpreter (PT_INTERP) a 64-bit little-endian binary names.
fn interpreter(exe: &Path) -> io::Result<Option<PathBuf>> {
    let mut f = File::open(exe)?;
    let mut eh = [0u8; 64];
    f.read_exact(&mut eh)?;
    if &eh[..4] != b"\x7fELF" || eh[4] != 2 || eh[5] != 1 {
        return Ok(None);
    }
    let u16_at = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u64_at = |b: &[u8], o: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[o..o + 8]);
        u64::from_le_bytes(a)
    };
    let (phoff, phentsize, phnum) = (u64_at(&eh, 0x20), u16_at(&eh, 0x36) as usize, u16_at(&eh, 0x38));
    if phentsize < 56 {
        return Ok(None);
    }
    let mut ph = vec![0u8; phentsize];
    for i in 0..u64::from(phnum) {
        f.seek(SeekFrom::Start(phoff + i * phentsize as u64))?;
        f.read_exact(&mut ph)?;
        if u32::from_le_bytes([ph[0], ph[1], ph[2], ph[3]]) == 3 {
            let (off, len) = (u64_at(&ph, 8), u64_at(&ph, 32));
            if len > 4096 {
                return Ok(None);
            }
            let mut s = vec![0u8; len as usize];
            f.seek(SeekFrom::Start(off))?;
            f.read_exact(&mut s)?;
            let s = String::from_utf8_lossy(&s).trim_end_matches('\0').to_string();
            return Ok(Some(PathBuf::from(s)));
        }
    }
    Ok(None)
}

fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// `name[:tag]` with `latest` as the default tag (a port is not a tag).
fn split_tag(s: &str) -> (String, String) {
    match s.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r.to_string(), t.to_string()),
        _ => (s.to_string(), "latest".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libraries_from_maps() {
        let maps = "\
55d0-55d1 r--p 00000000 08:01 1 /usr/bin/berth
7f00-7f01 r-xp 00000000 08:01 2 /usr/lib/x86_64-linux-gnu/libc.so.6
7f01-7f02 r--p 00000000 08:01 2 /usr/lib/x86_64-linux-gnu/libc.so.6
7f02-7f03 r--p 00000000 08:01 3 /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f03-7f04 rw-p 00000000 00:00 0
7f04-7f05 r--p 00000000 08:01 4 /usr/lib/locale/C.utf8/LC_CTYPE
7ffd-7ffe rw-p 00000000 00:00 0 [stack]";
        let libs = mapped_libraries(maps, Path::new("/usr/bin/berth"));
        assert_eq!(
            libs,
            vec![PathBuf::from("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"), PathBuf::from("/usr/lib/x86_64-linux-gnu/libc.so.6")]
        );
    }

    #[test]
    fn tags() {
        assert_eq!(split_tag("registry"), ("registry".into(), "latest".into()));
        assert_eq!(split_tag("registry:2"), ("registry".into(), "2".into()));
        assert_eq!(split_tag("localhost:5000/r"), ("localhost:5000/r".into(), "latest".into()));
    }

    #[test]
    fn this_test_binary_is_elf_with_an_answer() {
        let exe = std::env::current_exe().unwrap();
        // Dynamic test binaries name an interpreter; static ones none.
        let i = interpreter(&exe).unwrap();
        assert!(i.is_none_or(|p| p.is_absolute()));
    }
}
