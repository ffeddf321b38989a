//! `cp` extraction and archiving against hostile tars and trees. Run as root (chown).

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::Path;

use crate::{archive_entry, extract_into, ExtractOptions, StoreError};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A tar entry written byte by byte, so names the tar crate refuses (`..`, `/x`) fit.
fn raw(b: &mut tar::Builder<Vec<u8>>, kind: tar::EntryType, name: &str, link: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    if let Some(g) = h.as_gnu_mut() {
        g.name[..name.len()].copy_from_slice(name.as_bytes());
        g.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_uid(1000);
    h.set_gid(1001);
    h.set_cksum();
    let _ = b.append(&h, data);
}

fn tar_of(entries: &[(tar::EntryType, &str, &str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (k, n, l, d) in entries {
        raw(&mut b, *k, n, l, d);
    }
    b.into_inner().unwrap_or_default()
}

fn open_dir(p: &Path) -> fs::File {
    fs::File::open(p).expect("open dir")
}

/// The host directory the hostile entries aim at; it must stay untouched.
fn host_marker() -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    fs::write(t.path().join("keep"), b"host").expect("marker");
    t
}

fn host_unchanged(host: &Path) {
    let names: Vec<_> = fs::read_dir(host).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec!["keep"], "host dir changed");
    assert_eq!(fs::read(host.join("keep")).unwrap(), b"host");
}

#[test]
fn hostile_entries_never_leave_the_directory() -> TestResult {
    use tar::EntryType::*;
    let host = host_marker();
    let dest = tempfile::tempdir()?;
    let hostp = host.path().to_string_lossy().into_owned();
    // A symlink in the destination (planted by the container) pointing at the host.
    symlink(&hostp, dest.path().join("esc"))?;
    let cases: Vec<Vec<u8>> = vec![
        tar_of(&[(Regular, "../keep", "", b"x")]),
        tar_of(&[(Regular, "a/../../keep", "", b"x")]),
        tar_of(&[(Regular, "esc/keep", "", b"x")]),
        tar_of(&[(Regular, "esc/new", "", b"x")]),
        // The tar plants its own link, then writes through it.
        tar_of(&[(Symlink, "l", &hostp, b""), (Regular, "l/new", "", b"x")]),
        tar_of(&[(Symlink, "l2", "../../../../../..", b""), (Regular, &format!("l2{hostp}/new"), "", b"x")]),
        tar_of(&[(Link, "hl", "../keep", b"")]),
        tar_of(&[(Link, "hl", "esc/keep", b"")]),
        tar_of(&[(Directory, "esc/d", "", b"")]),
    ];
    for (i, t) in cases.iter().enumerate() {
        let r = extract_into(&open_dir(dest.path()), &t[..], ExtractOptions::default());
        assert!(r.is_err(), "case {i} succeeded");
        host_unchanged(host.path());
    }
    // Absolute names land inside the directory.
    extract_into(&open_dir(dest.path()), &tar_of(&[(Regular, &format!("{hostp}/abs"), "", b"in")])[..], ExtractOptions::default())?;
    assert_eq!(fs::read(dest.path().join(hostp.trim_start_matches('/')).join("abs"))?, b"in");
    host_unchanged(host.path());
    Ok(())
}

#[test]
fn replacing_a_symlink_replaces_the_link_not_its_target() -> TestResult {
    let host = host_marker();
    let dest = tempfile::tempdir()?;
    symlink(host.path().join("keep"), dest.path().join("f"))?;
    extract_into(&open_dir(dest.path()), &tar_of(&[(tar::EntryType::Regular, "f", "", b"new")])[..], ExtractOptions::default())?;
    assert_eq!(fs::read(dest.path().join("f"))?, b"new");
    assert!(!fs::symlink_metadata(dest.path().join("f"))?.file_type().is_symlink());
    host_unchanged(host.path());
    // A directory holding a symlink to the host is removed without following it.
    fs::create_dir(dest.path().join("d"))?;
    symlink(host.path(), dest.path().join("d/h"))?;
    extract_into(&open_dir(dest.path()), &tar_of(&[(tar::EntryType::Regular, "d", "", b"file")])[..], ExtractOptions::default())?;
    assert_eq!(fs::read(dest.path().join("d"))?, b"file");
    host_unchanged(host.path());
    Ok(())
}

#[test]
fn ownership_whiteouts_and_dir_swaps() -> TestResult {
    use tar::EntryType::*;
    let dest = tempfile::tempdir()?;
    let t = tar_of(&[(Directory, "d", "", b""), (Regular, "d/f", "", b"x"), (Regular, ".wh.gone", "", b"w")]);
    extract_into(&open_dir(dest.path()), &t[..], ExtractOptions::default())?;
    let m = fs::metadata(dest.path().join("d/f"))?;
    assert_eq!((m.uid(), m.gid()), (1000, 1001), "header ownership kept");
    assert!(fs::metadata(dest.path().join(".wh.gone"))?.is_file(), ".wh. is a plain file in cp");
    let chown = ExtractOptions { chown: Some((7, 8)), ..Default::default() };
    extract_into(&open_dir(dest.path()), &t[..], chown)?;
    let m = fs::metadata(dest.path().join("d/f"))?;
    assert_eq!((m.uid(), m.gid()), (7, 8));
    let strict = ExtractOptions { no_overwrite_dir_non_dir: true, chown: None };
    let e = extract_into(&open_dir(dest.path()), &tar_of(&[(Regular, "d", "", b"x")])[..], strict);
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    let e = extract_into(&open_dir(dest.path()), &tar_of(&[(Directory, ".wh.gone", "", b"")])[..], strict);
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    assert!(dest.path().join("d/f").is_file());
    Ok(())
}

fn entries(tar_bytes: &[u8]) -> Vec<(String, tar::EntryType, String, String)> {
    let mut ar = tar::Archive::new(tar_bytes);
    let mut out = Vec::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let link = e.link_name().unwrap().map(|l| l.to_string_lossy().into_owned()).unwrap_or_default();
        let mut data = String::new();
        std::io::Read::read_to_string(&mut e, &mut data).unwrap();
        out.push((name, e.header().entry_type(), link, data));
    }
    out
}

#[test]
fn archives_links_as_links_and_never_blocks() -> TestResult {
    use tar::EntryType::*;
    let src = tempfile::tempdir()?;
    let d = src.path().join("d");
    fs::create_dir(&d)?;
    fs::write(d.join("f"), b"data")?;
    fs::hard_link(d.join("f"), d.join("g"))?;
    symlink("/etc/shadow", d.join("shadow"))?;
    let fifo = std::ffi::CString::new(d.join("pipe").to_string_lossy().as_bytes())?;
    // SAFETY: NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    let mut out = Vec::new();
    archive_entry(&fs::File::open(&d)?, "d", &mut out)?;
    let got = entries(&out);
    let want = vec![
        ("d/".to_string(), Directory, String::new(), String::new()),
        ("d/f".into(), Regular, String::new(), "data".into()),
        ("d/g".into(), Link, "d/f".into(), String::new()),
        ("d/pipe".into(), Fifo, String::new(), String::new()),
        ("d/shadow".into(), Symlink, "/etc/shadow".into(), String::new()),
    ];
    assert_eq!(got, want);
    // A top-level symlink is archived as itself (the caller decides about following).
    let link = crate::dirfd::DirFd::open(&d)?;
    let c = std::ffi::CString::new("shadow")?;
    // SAFETY: valid dirfd and NUL-terminated name.
    let fd = unsafe { libc::openat(link.fd(), c.as_ptr(), libc::O_PATH | libc::O_NOFOLLOW) };
    assert!(fd >= 0);
    // SAFETY: fd was just opened and is owned by nobody else.
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let mut out = Vec::new();
    archive_entry(&fd, "sh", &mut out)?;
    assert_eq!(entries(&out), vec![("sh".to_string(), Symlink, "/etc/shadow".to_string(), String::new())]);
    Ok(())
}
