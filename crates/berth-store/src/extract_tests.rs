//! Layer application tests, including hostile tars. These run as root (chown, mknod).

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use crate::{Digest, LayerStore, StoreError};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Builds tars byte by byte so that names the tar crate would refuse (`..`) can be written.
struct RawTar(tar::Builder<Vec<u8>>);

impl RawTar {
    fn new() -> Self {
        RawTar(tar::Builder::new(Vec::new()))
    }

    fn entry(
        &mut self,
        kind: tar::EntryType,
        name: &str,
        link: &str,
        data: &[u8],
        mode: u32,
    ) -> &mut Self {
        let mut h = tar::Header::new_gnu();
        if let Some(g) = h.as_gnu_mut() {
            g.name[..name.len()].copy_from_slice(name.as_bytes());
            g.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_uid(1000);
        h.set_gid(1001);
        h.set_mtime(1_600_000_000);
        h.set_cksum();
        let _ = self.0.append(&h, data);
        self
    }

    fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.entry(tar::EntryType::Regular, name, "", data, 0o644)
    }

    fn dir(&mut self, name: &str) -> &mut Self {
        self.entry(tar::EntryType::Directory, name, "", b"", 0o755)
    }

    fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.entry(tar::EntryType::Symlink, name, target, b"", 0o777)
    }

    fn hardlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.entry(tar::EntryType::Link, name, target, b"", 0o644)
    }

    fn bytes(&mut self) -> Vec<u8> {
        let b = std::mem::replace(&mut self.0, tar::Builder::new(Vec::new()));
        b.into_inner().unwrap_or_default()
    }
}

struct Env {
    top: tempfile::TempDir,
    outside: std::path::PathBuf,
    store: LayerStore,
}

fn env() -> Result<Env, Box<dyn std::error::Error>> {
    let top = tempfile::tempdir()?;
    let outside = top.path().join("outside");
    fs::create_dir(&outside)?;
    fs::write(outside.join("secret"), b"original")?;
    let store = LayerStore::open(&top.path().join("data"))?;
    Ok(Env {
        top,
        outside,
        store,
    })
}

impl Env {
    /// Nothing outside the data root changed and no layer or temp file was left behind.
    fn assert_clean(&self) -> TestResult {
        let mut names: Vec<_> = fs::read_dir(self.top.path())?
            .flatten()
            .map(|e| e.file_name())
            .collect();
        names.sort();
        assert_eq!(names, vec!["data", "outside"]);
        let mut out: Vec<_> = fs::read_dir(&self.outside)?
            .flatten()
            .map(|e| e.file_name())
            .collect();
        out.sort();
        assert_eq!(out, vec!["secret"]);
        assert_eq!(fs::read(self.outside.join("secret"))?, b"original");
        assert!(!Path::new("/berth-escape-test").exists());
        let data = self.top.path().join("data");
        assert_eq!(fs::read_dir(data.join("layers"))?.count(), 0, "layer left");
        assert_eq!(fs::read_dir(data.join("tmp"))?.count(), 0, "temp left");
        assert_eq!(
            fs::read_dir(data.join("blobs/sha256"))?.count(),
            0,
            "blob left"
        );
        Ok(())
    }

    fn expect_unsafe(&self, tar: Vec<u8>) -> TestResult {
        match self.store.apply(None, &tar[..]) {
            Err(StoreError::UnsafePath(_)) => {}
            other => panic!("expected UnsafePath, got {other:?}"),
        }
        self.assert_clean()
    }
}

#[test]
fn applies_a_layer_with_metadata() -> TestResult {
    let e = env()?;
    let tar = RawTar::new()
        .dir("bin/")
        .entry(tar::EntryType::Regular, "bin/su", "", b"#!su", 0o4755)
        .symlink("bin/sh", "/bin/busybox")
        .hardlink("bin/su2", "bin/su")
        .entry(tar::EntryType::Fifo, "pipe", "", b"", 0o640)
        .entry(tar::EntryType::Char, "dev-null", "", b"", 0o666)
        .file("/abs", b"neutralised")
        .file("./x/../y", b"cleaned")
        .bytes();
    let info = e.store.apply(None, &tar[..])?;
    assert_eq!(info.diff_id, Digest::of_bytes(&tar));
    assert_eq!(info.chain_id, info.diff_id);
    assert_eq!(info.size, 4 + 11 + 7);
    assert_eq!(e.store.blobs().read(&info.diff_id)?, tar);
    let d = e.store.diff_dir(&info.chain_id);
    let su = fs::metadata(d.join("bin/su"))?;
    assert_eq!(su.permissions().mode() & 0o7777, 0o4755);
    assert_eq!(
        (su.uid(), su.gid(), su.mtime()),
        (1000, 1001, 1_600_000_000)
    );
    assert_eq!(su.nlink(), 2);
    assert_eq!(fs::read_link(d.join("bin/sh"))?, Path::new("/bin/busybox"));
    assert_eq!(fs::metadata(d.join("bin"))?.mtime(), 1_600_000_000);
    assert!(fs::symlink_metadata(d.join("pipe"))?.file_type().is_fifo());
    assert!(
        !d.join("dev-null").exists(),
        "device nodes must not be created"
    );
    assert_eq!(fs::read(d.join("abs"))?, b"neutralised");
    assert_eq!(fs::read(d.join("y"))?, b"cleaned");
    assert_eq!(e.store.info(&info.chain_id)?, info);
    assert_eq!(e.store.list()?, vec![info.clone()]);

    // Same layer again is shared; a child gets the OCI chain id.
    assert_eq!(e.store.apply(None, &tar[..])?, info);
    let tar2 = RawTar::new()
        .file("etc/.wh.passwd", b"")
        .file("usr/.wh..wh..opq", b"")
        .bytes();
    let child = e.store.apply(Some(&info.chain_id), &tar2[..])?;
    let diff2 = Digest::of_bytes(&tar2);
    assert_eq!(
        child.chain_id,
        Digest::of_bytes(format!("{} {}", info.chain_id, diff2).as_bytes())
    );
    let d2 = e.store.diff_dir(&child.chain_id);
    let wh = fs::symlink_metadata(d2.join("etc/passwd"))?;
    assert!(wh.file_type().is_char_device() && wh.rdev() == 0);
    let mut val = [0u8; 4];
    let c_path = std::ffi::CString::new(d2.join("usr").into_os_string().into_encoded_bytes())?;
    // SAFETY: valid C strings and a live buffer of the given length.
    let n = unsafe {
        libc::getxattr(
            c_path.as_ptr(),
            c"trusted.overlay.opaque".as_ptr(),
            val.as_mut_ptr().cast(),
            4,
        )
    };
    assert_eq!(&val[..n.max(0) as usize], b"y");

    e.store.remove(&child.chain_id)?;
    assert!(!e.store.exists(&child.chain_id));
    assert_eq!(fs::read_dir(e.top.path().join("data/tmp"))?.count(), 0);
    Ok(())
}

#[test]
fn missing_parent_is_not_found() -> TestResult {
    let e = env()?;
    let tar = RawTar::new().file("a", b"").bytes();
    let r = e.store.apply(Some(&Digest::of_bytes(b"nope")), &tar[..]);
    assert!(matches!(r, Err(StoreError::NotFound(_))));
    Ok(())
}

#[test]
fn rejects_dotdot_escape() -> TestResult {
    let e = env()?;
    e.expect_unsafe(
        RawTar::new()
            .file("../../../../../../../../berth-escape-test", b"x")
            .bytes(),
    )?;
    e.expect_unsafe(
        RawTar::new()
            .file("a/../../outside/secret", b"pwned")
            .bytes(),
    )
}

#[test]
fn never_writes_through_a_symlinked_parent() -> TestResult {
    let e = env()?;
    let out = e.outside.to_string_lossy().into_owned();
    e.expect_unsafe(
        RawTar::new()
            .symlink("a", &out)
            .file("a/secret", b"pwned")
            .bytes(),
    )?;
    e.expect_unsafe(RawTar::new().symlink("a", &out).dir("a/sub/").bytes())?;
    e.expect_unsafe(
        RawTar::new()
            .symlink("a", "../../../../..")
            .file("a/berth-escape-test", b"x")
            .bytes(),
    )?;
    e.expect_unsafe(
        RawTar::new()
            .dir("d/")
            .symlink("d/l", &out)
            .file("d/l/new", b"x")
            .bytes(),
    )
}

#[test]
fn replaces_a_symlink_instead_of_following_it() -> TestResult {
    let e = env()?;
    let target = e.outside.join("secret").to_string_lossy().into_owned();
    let tar = RawTar::new()
        .symlink("f", &target)
        .file("f", b"inside")
        .bytes();
    let info = e.store.apply(None, &tar[..])?;
    assert_eq!(
        fs::read(e.store.diff_dir(&info.chain_id).join("f"))?,
        b"inside"
    );
    assert_eq!(fs::read(e.outside.join("secret"))?, b"original");
    Ok(())
}

#[test]
fn rejects_hardlinks_out_of_the_layer() -> TestResult {
    let e = env()?;
    let out = e.outside.to_string_lossy().into_owned();
    e.expect_unsafe(
        RawTar::new()
            .hardlink("h", "../../../../outside/secret")
            .bytes(),
    )?;
    e.expect_unsafe(
        RawTar::new()
            .symlink("l", &out)
            .hardlink("h", "l/secret")
            .bytes(),
    )?;
    // Absolute targets are taken inside the layer, where this one does not exist.
    let abs = format!("{out}/secret");
    assert!(e
        .store
        .apply(None, &RawTar::new().hardlink("h", &abs).bytes()[..])
        .is_err());
    e.assert_clean()
}

#[test]
fn rejects_bad_whiteouts_and_garbage() -> TestResult {
    let e = env()?;
    e.expect_unsafe(RawTar::new().file("a/.wh..", b"").bytes())?;
    let r = e.store.apply(
        None,
        &b"this is not a tar archive at all, just some bytes"[..],
    );
    assert!(r.is_err());
    e.assert_clean()
}
